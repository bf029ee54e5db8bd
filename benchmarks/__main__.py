"""Run the benchmark suite: ``python -m benchmarks [--quick] [--only NAME ...]``.

Each suite writes ``benchmarks/results/<suite>.json``; ``benchmarks/results/README.md`` is
rebuilt from all JSON files present, and the project README quotes it. The suites on outside
data run only when given it: ``python -m benchmarks --only m4 --data DIR`` (M4's files, see
``benchmarks/m4.py``) writes ``benchmarks/results/m4_<frequency>.json`` (``--split
validation``: ``m4_<frequency>_validation.json``).
"""

from __future__ import annotations

import argparse
import time

import torch

from . import (
    backtest_scaling,
    cells,
    distributed,
    engine_choice,
    fit_overhead,
    folds_together,
    gpu,
    import_time,
    m4,
    memory,
    optuna_vs_grid,
    panel_memory,
    peers,
    predict_latency,
    round_three,
    scaling,
    tuning_memory,
)
from ._harness import RESULTS_DIR, THREADS, write
from .report import render

SUITES = {
    "fit_overhead": (fit_overhead.run, {"a": 5, "b": 9}, {"a": 1, "b": 2}),
    "folds_together": (folds_together.run, 9, 1),
    "engine_choice": (
        engine_choice.run,
        {"a": 5, "b": 11, "together": 9},
        {"a": 1, "b": 1, "together": 1},
    ),
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
    "round_three": (round_three.run, None, None),
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


# Suites on data the repository does not hold: they run when --data is given.
DATA_SUITES = {"m4"}


def _run_m4(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    print(f"[m4] running {args.frequency} from {args.data} ...", flush=True)
    name = f"m4_{args.frequency.lower()}" + ("_validation" if args.split == "validation" else "")
    command = f"python -m benchmarks --only m4 --data DIR --frequency {args.frequency}"
    if args.split == "validation":
        command += " --split validation"
    result = m4.run(
        args.data,
        args.frequency,
        args.split,
        contenders=args.contenders,
        peers_python=args.peers_python,
        threads=THREADS,
        on_result=lambda partial: write(
            name, {"suite": "m4", "command": command, "results": partial}
        ),
    )
    path = write(name, {"suite": "m4", "command": command, "results": result})
    print(f"[m4] {time.perf_counter() - start:.0f} s -> {path}\n\n{m4.table(result)}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke test")
    parser.add_argument(
        "--only", nargs="+", choices=sorted([*SUITES, *DATA_SUITES]), default=sorted(SUITES)
    )
    parser.add_argument("--data", help="folder of M4's <Frequency>-train/test.csv.gz files")
    parser.add_argument("--frequency", default="Hourly", choices=sorted(m4.FREQUENCIES))
    parser.add_argument(
        "--split",
        default="test",
        choices=["test", "validation"],
        help="M4: score the test (once) or the last horizon training values (to choose)",
    )
    parser.add_argument(
        "--contenders",
        nargs="+",
        choices=sorted(m4.CONTENDERS),
        help=f"M4 contenders (default: all but {set(m4.CONTENDERS) - set(m4.DEFAULT_CONTENDERS)})",
    )
    parser.add_argument(
        "--peers-python", help=f"the peers' interpreter (default {m4.PEERS_PYTHON})"
    )
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    if "m4" in args.only:
        if not args.data:
            parser.error("--only m4 needs --data DIR, the folder of M4's files.")
        _run_m4(args)
    for name in [name for name in args.only if name in SUITES]:
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
