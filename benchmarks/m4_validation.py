"""Choose tsforecast's M4 recipe on the validation split: the ablation of notes/i21b.md.

M4's validation rule: hold out the last ``horizon`` training values of each series, fit on
the rest, score the held-out values. The test file is never read here.

    python -m benchmarks.m4_validation --data ../shared/data/m4 [--series 100] [--set name=value]

Prints sMAPE, MASE and OWA (relative to Naive2 on the same split) of seasonal naive, Naive2
and the recipe with the given overrides.
"""

from __future__ import annotations

import argparse
import ast
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .m4_contender import tsforecast_contender


def read_m4(path: Path) -> list[np.ndarray]:
    """Each row of an M4 file as its values without the NaN padding."""
    frame = pd.read_csv(path, index_col=0)
    return [row[~np.isnan(row)] for row in frame.to_numpy(np.float64)]


def _seasonal(x: np.ndarray, m: int) -> bool:
    """M4's 90% autocorrelation test for seasonality at lag ``m``."""
    d = x - x.mean()
    acf = np.array([(d[k:] * d[: len(d) - k]).sum() for k in range(m + 1)]) / (d * d).sum()
    limit = 1.645 * np.sqrt((1 + 2 * (acf[1:m] ** 2).sum()) / len(x))
    return abs(acf[m]) > limit


def naive2(x: np.ndarray, h: int, m: int) -> np.ndarray:
    """M4's Naive2: naive on the classically (multiplicatively) deseasonalised series."""
    if len(x) < 3 * m or not _seasonal(x, m):
        return np.full(h, x[-1])
    kernel = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    trend = np.convolve(x, kernel, mode="valid")
    offset = (len(x) - len(trend)) // 2
    ratio = x[offset : offset + len(trend)] / trend
    phase = (np.arange(len(trend)) + offset) % m
    index = np.array([ratio[phase == p].mean() for p in range(m)])
    index = index / index.mean()
    last = x[-1] / index[(len(x) - 1) % m]
    return last * index[np.arange(len(x), len(x) + h) % m]


def scores(train: list[np.ndarray], actual: list[np.ndarray], forecast: np.ndarray, m: int):
    """sMAPE (percent) and MASE over all series and steps, as M4."""
    smape, mase = [], []
    for x, y, f in zip(train, actual, forecast, strict=True):
        smape.append(np.mean(200 * np.abs(y - f) / (np.abs(y) + np.abs(f))))
        mase.append(np.mean(np.abs(y - f)) / np.mean(np.abs(x[m:] - x[:-m])))
    return float(np.mean(smape)), float(np.mean(mase))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--series", type=int, default=None, help="every k-th series only")
    parser.add_argument("--horizon", type=int, default=48)
    parser.add_argument("--season", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], help="recipe override k=v")
    args = parser.parse_args()
    torch.set_num_threads(1)
    series = read_m4(args.data / "Hourly-train.csv.gz")
    if args.series:
        series = series[:: max(1, len(series) // args.series)]
    h, m = args.horizon, args.season
    fit = [s[:-h] for s in series]
    held_out = [s[-h:] for s in series]
    n2 = scores(fit, held_out, np.stack([naive2(x, h, m) for x in fit]), m)
    snaive = np.stack([np.resize(x[-m:], h) for x in fit])
    overrides = {k: ast.literal_eval(v) for k, v in (s.split("=", 1) for s in args.set)}
    start, cpu = time.perf_counter(), time.process_time()
    forecast = tsforecast_contender(fit, h, m, random_state=args.seed, **overrides)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    rows = {"naive2": n2, "seasonal naive": scores(fit, held_out, snaive, m)}
    rows["tsforecast " + json.dumps(overrides)] = scores(fit, held_out, forecast, m)
    for name, (smape, mase) in rows.items():
        owa = (smape / n2[0] + mase / n2[1]) / 2
        print(f"{name:60s} sMAPE {smape:7.3f} MASE {mase:6.3f} OWA {owa:6.3f}")
    print(f"fit + forecast: {seconds:.0f} s ({cpu:.0f} s of CPU) on {len(series)} series")


if __name__ == "__main__":
    main()
