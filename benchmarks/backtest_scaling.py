"""Backtest time against the history length at a fixed test size: O(test), not O(history).

Four folds of 250 test steps after an expanding history of 10^4 .. 10^6 steps; each fit takes
a fixed number of optimizer steps (one Lightning batch of 16 minibatches of 32), so what grows with
the history is only the data the fit validates and the rows ``predict`` reads. The
full-history algorithm (``lookback=None``, what ``backtest`` did before) runs next to it where
it finishes in reasonable time (``refit=False``: one fit, then the forecasts). A rolling
training window of fixed size takes the fits' own growth out: what is left is the forecasts.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import LSTMRegressor, SlidingWindowTransformer
from tsforecast.model_selection import WalkForwardSplit, backtest

WINDOW, TEST_SIZE, N_SPLITS, ROLLING = 16, 250, 4, 2_000


def _model() -> Any:
    return make_pipeline(
        StandardScaler(),
        SlidingWindowTransformer(window=WINDOW),
        LSTMRegressor(
            units=8,
            batch_size=32,
            max_epochs=1,
            validation_fraction=0.0,
            accelerator="cpu",
            random_state=0,
            trainer_kwargs={"limit_train_batches": 1},
        ),
    )


def _seconds(
    X: np.ndarray, y: np.ndarray, refit: bool, lookback: Any, rolling: int | None
) -> tuple[float, float]:
    """Wall and CPU seconds of one backtest (CPU time is steadier on a shared machine)."""
    cv = WalkForwardSplit(N_SPLITS, test_size=TEST_SIZE, max_train_size=rolling)
    wall, cpu = time.perf_counter(), time.process_time()
    backtest(_model(), X, y, cv=cv, refit=refit, lookback=lookback)
    return time.perf_counter() - wall, time.process_time() - cpu


def run(config: dict) -> dict:
    # One thread: on a shared machine, spinning intra-op threads inflate CPU time at random.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(config)
    finally:
        torch.set_num_threads(threads)


def _run(config: dict) -> dict:
    rng = np.random.default_rng(0)
    longest = max(config["lengths"])
    series = np.cumsum(rng.normal(size=longest + 1)).astype(np.float32)
    data = {
        n: (series[longest - n : longest, np.newaxis], series[longest - n + 1 :])
        for n in config["lengths"]
    }
    # (history, refit, lookback, rolling training window or None for expanding)
    contenders = [(n, refit, "auto", None) for n in config["lengths"] for refit in (True, False)]
    contenders += [(n, True, "auto", ROLLING) for n in config["lengths"]]
    contenders += [(n, False, None, None) for n in config["full_history_lengths"]]
    _seconds(*data[min(data)], True, "auto", None)  # warm-up: imports, first Trainer
    times: dict[tuple, list[tuple[float, float]]] = {c: [] for c in contenders}
    for _ in range(config["rounds"]):  # interleaved: every contender once per round
        for n, refit, lookback, rolling in contenders:
            times[n, refit, lookback, rolling].append(_seconds(*data[n], refit, lookback, rolling))
    rows = []
    for (n, refit, lookback, rolling), values in times.items():
        rows.append(
            {
                "n_steps": n,
                "refit": refit,
                "training": "expanding" if rolling is None else f"rolling {rolling:,}",
                "algorithm": "O(test)" if lookback == "auto" else "full history",
                "median_s": float(np.median([wall for wall, _ in values])),
                "median_cpu_s": float(np.median([cpu for _, cpu in values])),
                "min_cpu_s": min(cpu for _, cpu in values),
                "rounds": len(values),
            }
        )
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["refit"], r["training"], r["algorithm"]), []).append(r)
    for group in groups.values():
        smallest = min(group, key=lambda r: r["n_steps"])
        for r in group:
            r["vs_shortest_history"] = r["median_s"] / smallest["median_s"]
            r["cpu_vs_shortest_history"] = r["median_cpu_s"] / smallest["median_cpu_s"]
            r["min_cpu_vs_shortest_history"] = r["min_cpu_s"] / smallest["min_cpu_s"]
    return {
        "setup": f"StandardScaler -> SlidingWindowTransformer({WINDOW}) -> LSTMRegressor(8 "
        f"units, 16 minibatches of 32 per fit), {N_SPLITS} folds x {TEST_SIZE} test steps, "
        f"expanding or rolling ({ROLLING:,} steps) training window, 1 torch thread",
        "rows": rows,
    }
