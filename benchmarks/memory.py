"""Peak memory of fit on a long multivariate series, each contender in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys

from ._memory_worker import BATCH, LAYERS, N_FEATURES, STEPS, UNITS, WINDOW

CONTENDERS = (
    "lazy bare loop",
    "tsforecast (3-D windows)",
    "tsforecast (Pipeline)",
    "tsforecast (Pipeline, inputs standardized in the network)",
    "materialised windows",
)


def _measure(name: str, n_steps: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks._memory_worker", name, str(n_steps)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(sizes: list[int]) -> dict:
    results = []
    for n_steps in sizes:
        for name in CONTENDERS:
            if name == "materialised windows" and n_steps > 1_000_000:
                continue  # 16 GB at 2M steps: the point is made at 1M
            results.append(_measure(name, n_steps))
    return {
        "setup": (
            f"{N_FEATURES} float32 features, window {WINDOW}, {LAYERS} x {UNITS} units, "
            f"batch {BATCH}, {STEPS} optimizer steps"
        ),
        "measurements": results,
    }
