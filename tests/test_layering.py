"""The layering contracts of pyproject.toml hold, and a violation breaks them (issue 20)."""

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
LINT = Path(sys.executable).parent / "lint-imports"
pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed")


def _lint(root):
    return subprocess.run(
        [str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )


def test_the_package_keeps_its_contracts():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("_nn/network.py", "import lightning", "Lightning is imported by the training engine"),
        ("_nn/network.py", "import numpy", "The network package imports torch only"),
        ("estimators/_base.py", "from ..model_selection import backtest", "never import model"),
        ("_data/windows.py", "from ..estimators import LSTMRegressor", "Layers"),
        ("model_selection/_split.py", "from . import _backtest", "No import cycles"),
        ("estimators/_base.py", "import optuna", "Optuna is imported by model selection only"),
    ],
)
def test_a_violation_breaks_its_contract(tmp_path, module, line, broken):
    shutil.copytree(ROOT / "tsforecast", tmp_path / "tsforecast")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    path = tmp_path / "tsforecast" / module
    path.write_text(path.read_text() + f"\n{line}\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert broken in result.stdout


# ------------------------------------------------------------------ tests use the public API

# The only private modules (or private names, ``module._name``) a test file may reach: unit
# tests of a private layer's own contract, each with the reason no public path shows it.
# Every other test goes through the public API; test_tests_import_only_public_modules fails
# on any private import (or import path in a string, such as a monkeypatch target) not here,
# and on an entry here that its file no longer uses.
_NN_UNIT = "unit test of the torch-only network package"
_DATA_UNIT = "unit test of the data layer's windows"
PRIVATE_IMPORTS_ALLOWED: dict[str, dict[str, str]] = {
    "test_cells.py": {
        "tsforecast._nn.network": f"{_NN_UNIT}: StackedRNN with the peephole cell",
        "tsforecast._nn.peephole": f"{_NN_UNIT}: the peephole cell's equations and reversal",
    },
    "test_network.py": {"tsforecast._nn.network": f"{_NN_UNIT}: layer groups, shapes, skip"},
    "test_quantiles.py": {"tsforecast._nn.losses": f"{_NN_UNIT}: the pinball loss's values"},
    "test_data.py": {"tsforecast._data.windows": f"{_DATA_UNIT}: layouts, split_tail, Batches"},
    "test_lazy_windows.py": {
        "tsforecast._data.lazy": f"{_DATA_UNIT}: WindowArray, panel windows, sample_epoch",
        "tsforecast._data.windows": f"{_DATA_UNIT}: Windows of lazy arrays, Batches' sampling",
    },
    "test_input_scaling.py": {
        "tsforecast._data.lazy": f"{_DATA_UNIT}: WindowArray's lead rows and its checks",
        "tsforecast._data.windows": f"{_DATA_UNIT}: lazy and dense Windows and split_tail "
        "agree; input_moments reads a chunk at a time",
    },
    "test_reliability.py": {
        "tsforecast._engine.processes": "the warning that cuDNN's dropout between stacked "
        "layers is not deterministic needs a GPU: on the CPU only the engine's check shows it",
        "tsforecast._nn.network": "the networks that check is given",
    },
    "test_engine_rules.py": {
        "tsforecast.estimators._together": "fit_together commits its folds all or none: "
        "backtest and OptunaSearchCV return no fold model after a failure, so nothing public "
        "shows it",
    },
    "test_together.py": {
        "tsforecast.estimators._together": "unit test of fit_together and its grouping rules, "
        "the estimator layer's capability that backtest, OptunaSearchCV and ensembles share",
        "tsforecast._nn.grouped": f"{_NN_UNIT}: GroupedNetwork against per-fold networks",
        "tsforecast._nn.network": f"{_NN_UNIT}: the per-fold networks GroupedNetwork joins",
        "tsforecast._engine.training": "a fold starting from NaN weights must not reach the "
        "others' blocks: NaN start weights can only be handed to the engine's train",
        "tsforecast.estimators._fit": "seeded, for the NaN-start test",
    },
    "test_tuning.py": {
        "tsforecast.model_selection._parallel": "the one-GPU warning (no GPU on a CPU test "
        "machine; a space sampling 'cuda' cannot run there) and Optuna's heartbeat grace "
        "period (180 s) have no public setting",
    },
}

_TSFORECAST_PATH = re.compile(r"\btsforecast(?:\.\w+)+")


def _private_prefix(path: str) -> str | None:
    """``path`` up to its first private component (``_x``, not a dunder), or ``None``."""
    parts = path.split(".")
    for k, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[: k + 1])
    return None


def _module_of(path: str) -> str:
    """The longest importable prefix of a dotted ``path`` (a monkeypatch target names an
    attribute after its module)."""
    parts = path.split(".")
    while len(parts) > 1:
        try:
            if importlib.util.find_spec(".".join(parts)) is not None:
                break
        except ImportError:
            pass
        parts.pop()
    return ".".join(parts)


def _private_imports(path: Path) -> set[str]:
    """The private tsforecast modules (or ``module._name``) that the file at ``path``
    imports, names in a string (a monkeypatch target, a script run in a subprocess) or
    reaches through an attribute of ``tsforecast``."""
    found = set()
    tree = ast.parse(path.read_text(), filename=str(path))
    inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    for node in ast.walk(tree):
        paths = []
        if isinstance(node, ast.Import):
            paths = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            paths = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Attribute) and id(node) not in inner:
            chain = [node.attr]
            value = node.value
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id == "tsforecast":
                paths = [".".join(["tsforecast", *reversed(chain)])]
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and path.name != Path(__file__).name  # this file names them in its allowlist
        ):
            paths = [m.group(0) for m in _TSFORECAST_PATH.finditer(node.value)]
        for dotted in paths:
            if dotted.split(".")[0] != "tsforecast":
                continue
            prefix = _private_prefix(dotted)
            if prefix is not None:
                module = _module_of(dotted)
                found.add(module if len(module) >= len(prefix) else prefix)
    return found


def test_tests_import_only_public_modules():
    tests = Path(__file__).parent
    used = {path.name: _private_imports(path) for path in sorted(tests.glob("*.py"))}
    unlisted = {
        name: sorted(modules - set(PRIVATE_IMPORTS_ALLOWED.get(name, {})))
        for name, modules in used.items()
        if modules - set(PRIVATE_IMPORTS_ALLOWED.get(name, {}))
    }
    assert not unlisted, f"tests reach private modules; use the public API instead: {unlisted}"
    stale = {
        name: sorted(set(allowed) - used.get(name, set()))
        for name, allowed in PRIVATE_IMPORTS_ALLOWED.items()
        if set(allowed) - used.get(name, set())
    }
    assert not stale, f"allowed private imports that the tests no longer use: {stale}"
    reasons = [
        reason for allowed in PRIVATE_IMPORTS_ALLOWED.values() for reason in allowed.values()
    ]
    assert all(reason.strip() for reason in reasons)


def test_a_private_import_in_a_test_is_found(tmp_path):
    test = tmp_path / "test_x.py"
    test.write_text(
        "import tsforecast.model_selection\n"
        "from tsforecast import LSTMRegressor, __version__\n"
        "from tsforecast._nn.network import StackedRNN\n"
        "from tsforecast.persistence import _encode_tree\n"
        "def test(monkeypatch):\n"
        "    monkeypatch.setattr('tsforecast.model_selection._parallel.gpu_count', len)\n"
        "    tsforecast._engine.training.train\n"
    )
    assert _private_imports(test) == {
        "tsforecast._nn.network",
        "tsforecast.persistence._encode_tree",
        "tsforecast.model_selection._parallel",
        "tsforecast._engine.training",
    }
