"""Fit time of LSTMRegressor against a bare PyTorch loop and plain Lightning, interleaved."""

from __future__ import annotations

import logging
import warnings

from tsforecast import LSTMRegressor

from ._harness import interleaved, summarize
from ._workloads import WORKLOADS, bare_fit, lightning_fit, sp500_windows


def _tsforecast_fit(X, y, w):
    return LSTMRegressor(
        units=w.units,
        num_layers=w.num_layers,
        batch_size=w.batch_size,
        max_epochs=w.epochs,
        learning_rate=w.learning_rate,
        validation_fraction=0.0,
        standardize_target=False,
        accelerator="cpu",
        random_state=0,
    ).fit(X, y)


def run(rounds: dict[str, int]) -> dict:
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="lightning")
    results = {}
    for key, w in WORKLOADS.items():
        X, y = sp500_windows(w.window)
        times = interleaved(
            {
                "bare PyTorch": lambda X=X, y=y, w=w: bare_fit(X, y, w),
                "tsforecast": lambda X=X, y=y, w=w: _tsforecast_fit(X, y, w),
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
