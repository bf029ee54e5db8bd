"""Import time of ``tsforecast`` against what it cannot avoid: torch, sklearn.base, pandas.

Each round starts fresh interpreters (A, B, A, B, ...) and times the import inside them, so
that both contenders pay the same cold or warm file cache. Also records which heavy modules a
plain ``import tsforecast`` and a load-and-predict process leave out of ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys

from ._harness import summarize

_TIMED = """
import json, sys, time
start = time.perf_counter()
{statement}
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed, "lightning": "lightning" in sys.modules,
                  "optuna": "optuna" in sys.modules}}))
"""
CONTENDERS = {
    "torch + sklearn.base + pandas": "import torch, sklearn.base, pandas",
    "tsforecast": "import tsforecast",
}


def _run(statement: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _TIMED.format(statement=statement)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def run(rounds: int) -> dict:
    times: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    loaded = {}
    for _ in range(rounds):
        for name, statement in CONTENDERS.items():
            result = _run(statement)
            times[name].append(result["seconds"])
            loaded[name] = {"lightning": result["lightning"], "optuna": result["optuna"]}
    return {
        "contenders": summarize(times, "torch + sklearn.base + pandas"),
        "modules_loaded": loaded,
        "target_ratio": 1.15,
    }
