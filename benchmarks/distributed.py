"""Throughput of devices=2 (Lightning DDP, two spawned CPU processes) next to one process."""

from __future__ import annotations

import time

from tsforecast import LSTMRegressor

from ._workloads import WORKLOADS, sp500_windows


def _fit_seconds(X, y, devices: int, epochs: int) -> float:
    w = WORKLOADS["a"]
    model = LSTMRegressor(
        units=w.units,
        num_layers=w.num_layers,
        batch_size=w.batch_size,
        max_epochs=epochs,
        validation_fraction=0.0,
        accelerator="cpu",
        devices=devices,
        random_state=0,
    )
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def run(epochs: int) -> dict:
    X, y = sp500_windows(WORKLOADS["a"].window)
    rows = []
    for devices in (1, 2):
        seconds = _fit_seconds(X, y, devices, epochs)
        rows.append(
            {
                "devices": devices,
                "seconds": seconds,
                "samples_per_second": len(X) * epochs / seconds,
            }
        )
    return {"workload": WORKLOADS["a"].name, "epochs": epochs, "runs": rows}
