"""How fit time grows with the series length and with the window (one epoch each)."""

from __future__ import annotations

import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tsforecast import LSTMRegressor


def _epoch_seconds(n_steps: int, window: int, units: int) -> float:
    series = np.random.default_rng(0).normal(size=n_steps).astype(np.float32)
    X = sliding_window_view(series[:-1], window)[:, :, np.newaxis]
    y = series[window:]
    model = LSTMRegressor(
        units=units,
        batch_size=256,
        max_epochs=1,
        validation_fraction=0.0,
        accelerator="cpu",
        random_state=0,
    )
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def run(config: dict) -> dict:
    lengths = [{"n_steps": n, "seconds": _epoch_seconds(n, 30, 16)} for n in config["lengths"]]
    windows = [
        {"window": w, "seconds": _epoch_seconds(config["window_steps"], w, 16)}
        for w in config["windows"]
    ]
    for rows, key in ((lengths, "n_steps"), (windows, "window")):
        first = rows[0]
        for row in rows:
            row["per_unit_vs_first"] = (row["seconds"] / row[key]) / (first["seconds"] / first[key])
    return {
        "setup": "1 x 16 units, batch 256, one epoch; series lengths at window 30, windows at "
        f"{config['window_steps']:,} steps",
        "lengths": lengths,
        "windows": windows,
    }
