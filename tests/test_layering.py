"""The layering contracts of pyproject.toml hold, and a violation breaks them (issue 20)."""

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
