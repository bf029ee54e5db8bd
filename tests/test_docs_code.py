"""Every Python code block of the README and of the user guide runs as written.

The blocks of one page run in order in one namespace, as a reader would paste them, in a
temporary directory (files they write stay there). A block that needs a client library
installed only in ``.venv-clients`` (darts, sktime, skforecast) ends its page's run with a
skip; pages put such blocks last.
"""

import re
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs" / "guide").glob("*.md"))]
CLIENTS = {"darts", "sktime", "skforecast"}
FENCE = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """The page's ```python blocks with the line each starts on."""
    text = path.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, match.start(1)) + 1, match.group(1)) for match in FENCE.finditer(text)
    ]


def test_the_pages_hold_code():
    assert {path.name for path in PAGES} >= {"README.md", "getting-started.md", "prices.md"}
    assert all(python_blocks(path) for path in PAGES if path.name != "performance.md")


@pytest.mark.slow
# MLflow's SQLite tracking store (the ecosystem page) uses a loader SQLAlchemy deprecates.
@pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")
@pytest.mark.parametrize("path", PAGES, ids=[path.name for path in PAGES])
def test_every_python_block_runs_as_written(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "docs_page"}
    try:
        for line, code in python_blocks(path):
            # Blank lines in front keep the page's line numbers in a traceback.
            compiled = compile("\n" * (line - 1) + code, str(path), "exec")
            try:
                exec(compiled, namespace)
            except ModuleNotFoundError as error:
                if error.name not in CLIENTS:
                    raise
                pytest.skip(f"{path.name}, line {line}: {error.name} is in .venv-clients only")
    finally:
        plt.close("all")
