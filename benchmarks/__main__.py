"""Run the benchmark suite: ``python -m benchmarks [--quick] [--only NAME ...]``.

Each suite writes ``benchmarks/results/<suite>.json``; ``benchmarks/results/README.md`` is
rebuilt from all JSON files present, and the project README quotes it.
"""

from __future__ import annotations

import argparse
import time

import torch

from . import (
    backtest_scaling,
    cells,
    distributed,
    fit_overhead,
    folds_together,
    gpu,
    import_time,
    memory,
    optuna_vs_grid,
    panel_memory,
    peers,
    predict_latency,
    scaling,
    tuning_memory,
)
from ._harness import RESULTS_DIR, THREADS, write
from .report import render

SUITES = {
    "fit_overhead": (fit_overhead.run, {"a": 5, "b": 9}, {"a": 1, "b": 2}),
    "folds_together": (folds_together.run, 9, 1),
    "predict_latency": (
        predict_latency.run,
        {"single": 3000, "whole": 60},
        {"single": 100, "whole": 5},
    ),
    "memory": (memory.run, [1_000_000, 2_000_000], [100_000]),
    "peers": (peers.run, 3, 1),
    "scaling": (
        scaling.run,
        {
            "lengths": [10_000, 100_000, 1_000_000],
            "windows": [10, 32, 64, 128, 256],
            "window_steps": 20_000,
        },
        {"lengths": [10_000, 30_000], "windows": [10, 64], "window_steps": 5_000},
    ),
    "distributed": (distributed.run, 5, 1),
    "gpu": (gpu.run, 3, 1),
    "optuna_vs_grid": (optuna_vs_grid.run, 5, 2),
    "tuning_memory": (tuning_memory.run, 100, 12),
    "cells": (cells.run, 5, 1),
    "import_time": (import_time.run, 15, 3),
    "backtest_scaling": (
        backtest_scaling.run,
        {
            "lengths": [10_000, 100_000, 1_000_000],
            "full_history_lengths": [10_000, 100_000, 1_000_000],
            "rounds": 5,
        },
        {"lengths": [10_000, 100_000], "full_history_lengths": [10_000], "rounds": 1},
    ),
    "panel_memory": (
        panel_memory.run,
        {
            "same rows as one series": [5_000, 1_000, 128, 0],
            "materialised vs lazy": [2_000, 1_000, 64, 0],
            "M5-shaped": [30_490, 1_941, 28, 2],
        },
        {
            "same rows as one series": [500, 1_000, 128, 0],
            "materialised vs lazy": [200, 1_000, 64, 0],
            "M5-shaped": [3_049, 194, 28, 2],
        },
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke test")
    parser.add_argument("--only", nargs="+", choices=sorted(SUITES), default=sorted(SUITES))
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    for name in args.only:
        run, rounds, quick_rounds = SUITES[name]
        start = time.perf_counter()
        print(f"[{name}] running ...", flush=True)
        result = run(quick_rounds if args.quick else rounds)
        path = write(name, {"suite": name, "quick": args.quick, "results": result})
        print(f"[{name}] {time.perf_counter() - start:.0f} s -> {path}", flush=True)
    report = render(RESULTS_DIR)
    (RESULTS_DIR / "README.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
