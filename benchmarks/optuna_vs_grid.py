"""Pruned Optuna search against exhaustive GridSearchCV on the same space and data.

EUR/USD next-day log returns (last 3,000 business days, first 80% for the search),
StandardScaler -> SlidingWindowTransformer -> LSTMRegressor, TimeSeriesSplit(3), scored by
negative RMSE. The grid has 16 points; Optuna samples the same values (categorical) with TPE
and the median pruner.
"""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import numpy as np
from optuna.distributions import CategoricalDistribution
from optuna.pruners import MedianPruner
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import LSTMRegressor, SlidingWindowTransformer, make_supervised
from tsforecast.datasets import load_eurusd
from tsforecast.model_selection import OptunaSearchCV

GRID: dict[str, list[Any]] = {
    "lstmregressor__num_layers": [1, 2],
    "lstmregressor__units": [16, 48],
    "lstmregressor__learning_rate": [1e-3, 1e-2],
    "slidingwindowtransformer__window": [10, 30],
}


def run(n_trials: int) -> dict:
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    returns = np.log(load_eurusd().iloc[-3000:]).diff().dropna()
    X, y = make_supervised(returns, target="USD")
    X, y = X.iloc[: int(len(X) * 0.8)], y.iloc[: int(len(X) * 0.8)]
    pipe = make_pipeline(
        StandardScaler(),
        SlidingWindowTransformer(window=20),
        LSTMRegressor(max_epochs=10, patience=3, random_state=0),
    )
    common = {"cv": TimeSeriesSplit(3), "scoring": "neg_root_mean_squared_error"}
    start = time.perf_counter()
    grid = GridSearchCV(pipe, GRID, refit=False, **common).fit(X, y)
    grid_seconds = time.perf_counter() - start
    start = time.perf_counter()
    search = OptunaSearchCV(
        pipe,
        {name: CategoricalDistribution(values) for name, values in GRID.items()},
        n_trials=n_trials,
        refit=False,
        pruner=MedianPruner(n_startup_trials=2),
        random_state=0,
        **common,
    ).fit(X, y)
    optuna_seconds = time.perf_counter() - start
    states = search.study_.trials_dataframe()["state"].value_counts().to_dict()
    grid_best, optuna_best = float(grid.best_score_), float(search.best_score_)
    return {
        "grid": {"points": 16, "seconds": grid_seconds, "best_score": grid_best},
        "optuna": {
            "trials": n_trials,
            "states": states,
            "seconds": optuna_seconds,
            "best_score": optuna_best,
        },
        "time_ratio": optuna_seconds / grid_seconds,
        # Scores are negative RMSEs: the relative gap of the RMSEs.
        "score_gap": (grid_best - optuna_best) / abs(grid_best),
    }
