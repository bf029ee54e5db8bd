"""The figures the documentation quotes agree with the saved results they come from.

The docs' tables are generated from ``benchmarks/results/*.json`` when the site is built
(``docs/_gallery.py`` with ``benchmarks/report.py``), so they cannot drift. What can drift is a
figure copied into the text: the README or a guide page. Here every measured-looking number in
them, a decimal with at least three digits after the point outside code, must be a figure of a
saved result at the precision quoted (the result files hold full precision; the renderers'
derived figures, such as ratios, count too).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchmarks.report import _RENDERERS, provenance, rst

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DOCS = ROOT / "docs"
# Generated or built: their figures come from the results by construction.
BUILT = ("_build", "_generated", "auto_examples", "api/generated", "sg_execution_times")
# Figures quoted from reports, not measured by any command whose result is saved here: the
# "before" state of fixed defects, which only the code before the fix shows. The page labels
# each as the report's. Named per page and report so that the list stays visible and short; a
# listed figure the page no longer quotes fails the test, so the list cannot outlive the text.
QUOTED_FROM_REPORTS = {
    "docs/guide/reliability.md": {
        # Issue 22's hostile report: val_check_interval=3's recorded and kept losses, and the
        # negative Garman-Klass variance of a bar with Close > High.
        "issue 22 (the hostile report)": ["1.192", "1.151", "0.0035"],
        # notes/i22a.md: the conformal errors measured on commit 679c36a, before the fix
        # (benchmarks/round_three.py measures the fixed tree).
        "notes/i22a.md (commit 679c36a)": ["0.0246", "0.0232", "0.185"],
    },
}
EXAMPLES_QUOTED = (
    "stock_forecast",
    "volatility",
    "intervals",
    "tune_fx",
    "hourly_weather",
    "digits_classification",
    "text_classification",
    "text_generation",
    "interop",
)

FIGURE = re.compile(r"(?<![\w.])\d+\.\d{3,}(?![\d.])")
FENCE = re.compile(r"```.*?```", re.DOTALL)
INLINE_CODE = re.compile(r"``.*?``|`[^`\n]*`")


def _payloads() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in sorted(RESULTS.glob("*.json"))}


def _numbers(value) -> list[float]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [n for item in value.values() for n in _numbers(item)]
    if isinstance(value, list | tuple):
        return [n for item in value for n in _numbers(item)]
    if isinstance(value, str):
        return [float(text) for text in re.findall(r"\d+\.\d+", value)]
    return []


def _source_figures() -> tuple[list[float], set[str]]:
    """Every number of every result file, and every figure its rendered table shows."""
    numbers, shown = [], set()
    for payload in _payloads().values():
        numbers += _numbers(payload["results"])
        renderer = _RENDERERS.get(payload["suite"])
        if renderer is not None:
            shown |= set(FIGURE.findall("\n".join(renderer(payload["results"]))))
    return numbers, shown


def _prose(text: str) -> str:
    """``text`` without code: fenced and indented literal blocks, inline literals."""
    text = FENCE.sub("", text)
    kept, literal_indent = [], None
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if not line.strip() or indent > literal_indent:
                continue
            literal_indent = None
        stripped = line.strip()
        if stripped.startswith(("..", ">>>")) or stripped.endswith("::"):
            literal_indent = indent  # a directive, doctest or literal block: skip its body
            kept.append(stripped if stripped.endswith("::") else "")
            continue
        kept.append(line)
    return INLINE_CODE.sub("", "\n".join(kept))


def unsourced(text: str, numbers: list[float], shown: set[str]) -> list[str]:
    """The figures quoted in ``text`` that no saved result holds at the quoted precision."""
    missing = []
    for figure in FIGURE.findall(_prose(text)):
        decimals = len(figure.partition(".")[2])
        if figure in shown:
            continue
        if any(f"{abs(n):.{decimals}f}" == figure for n in numbers):
            continue
        missing.append(figure)
    return missing


def _documents() -> list[Path]:
    pages = [
        path
        for path in sorted([*DOCS.rglob("*.rst"), *DOCS.rglob("*.md")])
        if not any(part in path.relative_to(DOCS).as_posix() for part in BUILT)
    ]
    return [ROOT / "README.md", *pages]


@pytest.mark.parametrize(
    "document", _documents(), ids=lambda path: path.relative_to(ROOT).as_posix()
)
def test_quoted_figures_agree_with_their_sources(document):
    numbers, shown = _source_figures()
    missing = unsourced(document.read_text(), numbers, shown)
    quoted = QUOTED_FROM_REPORTS.get(document.relative_to(ROOT).as_posix(), {})
    listed = {figure for figures in quoted.values() for figure in figures}
    assert listed <= set(missing), (
        f"QUOTED_FROM_REPORTS lists figures {sorted(listed - set(missing))} that "
        f"{document.relative_to(ROOT)} no longer quotes without a source: remove them."
    )
    missing = [figure for figure in missing if figure not in listed]
    assert missing == [], (
        f"{document.relative_to(ROOT)} quotes {missing}, which no saved result in "
        "benchmarks/results/ holds: re-measure with the command that saves it, include the "
        "generated table (docs/_generated/<suite>.rst), or quote the figure it holds."
    )


def test_a_stale_figure_is_caught_and_code_is_not_a_figure():
    numbers, shown = [1.66674, 0.95093], {"1.6667"}
    text = (
        "The LSTM scores 1.6777 (0.951x GARCH), see 1.6667.\n"
        "Run ``LSTMRegressor(learning_rate=0.0025)``.\n\n"
        ".. code-block:: python\n\n    model.fit(X, y, tol=0.12345)\n\n"
        "```python\nscore = 0.98765\n```\n"
    )
    assert unsourced(text, numbers, shown) == ["1.6777"]


@pytest.mark.parametrize("name", EXAMPLES_QUOTED)
def test_quoted_examples_saved_full_runs_with_their_environment(name):
    """The examples the docs quote saved a full run (never the docs build's short one), with
    the command, threads, library versions and date it ran with."""
    payload = _payloads()[f"example_{name}.json"]
    assert payload["quick"] is False
    assert payload["command"].startswith(f"python examples/{name}.py")
    assert "--save-results" in payload["command"]
    environment = payload["environment"]
    assert environment["torch_threads"] == 1
    assert environment["versions"]["torch"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", environment["date"])
    assert "cuda" in environment


def test_every_result_renders_with_where_it_comes_from():
    for file, payload in _payloads().items():
        if payload["suite"] not in _RENDERERS:
            continue
        text = rst(RESULTS / file)
        assert provenance(payload, f"benchmarks/results/{file}").split(" Source:")[0].replace(
            "`", ""
        ) in text.replace("`", "")
        assert f"benchmarks/results/{file}" in text


@pytest.mark.parametrize("path", sorted(RESULTS.glob("*.json")), ids=lambda path: path.name)
def test_every_rendered_table_becomes_a_table_in_the_docs(path):
    # A Markdown table left in the reStructuredText shows on the page as lines of pipes.
    text = rst(path)
    if text is not None:
        assert "| ---" not in text and "---: |" not in text
