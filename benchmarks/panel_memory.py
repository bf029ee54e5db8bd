"""Peak memory of fitting on panel windows: materialised, lazy, lazy with sampled windows.

Each contender runs in a fresh process (``_panel_memory_worker``): 32 optimizer steps of a
1 x 16-unit LSTM, batch 256. Goals (issue 15): the lazy panel within 1.2x of the
single-series lazy path on the same rows; the M5-shaped panel adding at most 1.0x the input
DataFrame's memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CONTENDERS = {
    "same rows as one series": [
        "single series, lazy (3-D view)",
        "panel, lazy",
        "panel, lazy, windows sampled per epoch",
    ],
    "materialised vs lazy": ["panel, materialised (PanelWindowTransformer)", "panel, lazy"],
    "M5-shaped": ["panel, lazy", "panel, lazy, windows sampled per epoch"],
}


def _measure(contender: str, shape: list[int]) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks._panel_memory_worker", contender, *map(str, shape)],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(shapes: dict[str, list[int]]) -> dict:
    """``shapes``: per case, ``[n_series, n_steps, window, n_covariates]``."""
    cases = []
    for case, shape in shapes.items():
        rows = [_measure(contender, shape) for contender in CONTENDERS[case]]
        first = rows[0]["process_peak_mb"]
        for row in rows:
            row["peak_vs_first"] = row["process_peak_mb"] / first
        cases.append({"case": case, "shape": shape, "measurements": rows})
    return {
        "setup": "32 optimizer steps of a 1 x 16-unit LSTM, batch 256, float32 input; "
        "peak resident memory of a fresh process, reset after the input is loaded",
        "cases": cases,
    }
