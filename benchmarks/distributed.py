"""Throughput of devices=2 (Lightning DDP, two spawned CPU processes) next to one process."""

from __future__ import annotations

import time

from ._workloads import WORKLOADS, sp500_windows, tsforecast_regressor


def _fit_seconds(X, y, devices: int, epochs: int) -> float:
    model = tsforecast_regressor(WORKLOADS["a"], max_epochs=epochs, devices=devices)
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
