"""k fold models of one configuration: trained together (one grouped network) vs one by one.

Workload (b) of ``fit_overhead`` (the small, overhead-bound network) on 4 folds of the S&P 500
windows: expanding folds (``TimeSeriesSplit(4)``, 1,004 to 4,016 windows) and rolling folds
of 2,000 windows each; plus a whole ``backtest(refit=True)`` of a 2 x 64-unit network
(workload (a)). Interleaved rounds; the largest forecast difference between the two ways
is recorded next to the times. On the CPU; the GPU suite (``gpu.py``) runs the same cases
on CUDA.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import TimeSeriesSplit

from tsforecast.estimators._together import fit_together
from tsforecast.model_selection import WalkForwardSplit, backtest

from ._harness import interleaved, summarize
from ._workloads import WORKLOADS, sp500_windows, tsforecast_regressor

_K = 4


def _folds(n: int) -> dict[str, list[np.ndarray]]:
    return {
        "expanding": [train for train, _ in TimeSeriesSplit(_K).split(np.zeros(n))],
        "rolling 2,000": [
            train for train, _ in TimeSeriesSplit(_K, max_train_size=2000).split(np.zeros(n))
        ],
    }


def fit_cases(rounds: int, accelerator: str = "cpu") -> dict:
    """Workload (b) on expanding and rolling folds: one by one vs together."""
    w = WORKLOADS["b"]
    X, y = sp500_windows(w.window)
    estimator = tsforecast_regressor(w, accelerator=accelerator)
    out = {}
    for name, folds in _folds(len(X)).items():
        Xs, ys = [X[f] for f in folds], [y[f] for f in folds]

        def one_by_one(Xs=Xs, ys=ys):
            return [clone(estimator).fit(X_k, y_k) for X_k, y_k in zip(Xs, ys, strict=True)]

        def together(Xs=Xs, ys=ys):
            return fit_together([clone(estimator) for _ in Xs], Xs, ys)

        times = interleaved(
            {"one by one": one_by_one, "together": together}, rounds=rounds, warmup=1
        )
        probe = X[-500:]
        gap = max(
            float(np.abs(a.predict(probe) - b.predict(probe)).max())
            for a, b in zip(one_by_one(), together(), strict=True)
        )
        out[name] = {
            "workload": w.name,
            "fold_sizes": [len(f) for f in folds],
            "epochs": w.epochs,
            "max_forecast_difference": gap,
            "contenders": summarize(times, "one by one"),
        }
    return out


def backtest_case(rounds: int, accelerator: str = "cpu") -> dict:
    """A backtest of workload (a), folds forced together vs one by one."""
    w = WORKLOADS["a"]
    X, y = sp500_windows(w.window)
    estimator = tsforecast_regressor(w, max_epochs=3, accelerator=accelerator)
    cv = WalkForwardSplit(_K, test_size=250)
    results = {}

    def run(group_folds: bool) -> None:
        results[group_folds] = backtest(estimator, X, y, cv=cv, group_folds=group_folds)

    times = interleaved(
        {"one by one": lambda: run(False), "together": lambda: run(True)}, rounds=rounds, warmup=0
    )
    gap = np.abs(
        results[True].predictions["y_pred"].to_numpy()
        - results[False].predictions["y_pred"].to_numpy()
    ).max()
    return {
        "workload": f"{w.name}, 3 epochs, backtest of 4 folds x 250 test windows",
        "fold_sizes": [len(train) for train, _ in cv.split(X)],
        "epochs": 3,
        "max_forecast_difference": float(gap),
        "contenders": summarize(times, "one by one"),
    }


def run(rounds: int) -> dict:
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="lightning")
    return {**fit_cases(rounds), "backtest, workload a": backtest_case(max(1, rounds // 2))}
