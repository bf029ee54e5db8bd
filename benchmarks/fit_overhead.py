"""Fit time of LSTMRegressor against a bare PyTorch loop and plain Lightning, interleaved."""

from __future__ import annotations

import logging
import warnings

from ._harness import interleaved, summarize
from ._workloads import WORKLOADS, bare_fit, lightning_fit, sp500_windows, tsforecast_regressor


def run(rounds: dict[str, int]) -> dict:
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="lightning")
    results = {}
    for key, w in WORKLOADS.items():
        X, y = sp500_windows(w.window)
        times = interleaved(
            {
                "bare PyTorch": lambda X=X, y=y, w=w: bare_fit(X, y, w),
                "tsforecast": lambda X=X, y=y, w=w: tsforecast_regressor(w).fit(X, y),
                "plain Lightning": lambda X=X, y=y, w=w: lightning_fit(X, y, w),
            },
            rounds=rounds[key],
            warmup=0,
        )
        results[key] = {
            "workload": w.name,
            "n_samples": len(X),
            "epochs": w.epochs,
            "contenders": summarize(times, "bare PyTorch"),
        }
    return results
