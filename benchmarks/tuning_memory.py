"""Resident memory over a long Optuna study: is anything kept from trial to trial?"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import optuna
from optuna.distributions import FloatDistribution, IntDistribution
from sklearn.model_selection import TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import LSTMRegressor, SlidingWindowTransformer
from tsforecast.model_selection import OptunaSearchCV

from ._memory_worker import _status


def run(n_trials: int) -> dict:
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    rng = np.random.default_rng(0)
    series = np.cumsum(rng.normal(size=600))
    X, y = series[:-1, None], np.diff(series)
    pipe = make_pipeline(
        StandardScaler(),
        SlidingWindowTransformer(window=8),
        LSTMRegressor(max_epochs=2, validation_fraction=0.2, random_state=0),
    )
    rss: list[float] = []

    class RecordMemory(optuna.study.MaxTrialsCallback):
        def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            rss.append(_status("VmRSS"))

    space = {
        "lstmregressor__units": IntDistribution(4, 32),
        "lstmregressor__learning_rate": FloatDistribution(1e-3, 1e-2, log=True),
    }
    search = OptunaSearchCV(
        pipe, space, n_trials=n_trials, cv=TimeSeriesSplit(2), refit=False, random_state=0
    )
    original = optuna.study.Study.optimize

    def optimize(study, *args, **kwargs):
        kwargs["callbacks"] = [*kwargs.get("callbacks", []), RecordMemory(n_trials)]
        return original(study, *args, **kwargs)

    optuna.study.Study.optimize = optimize
    try:
        search.fit(X, y)
    finally:
        optuna.study.Study.optimize = original
    marks = sorted({min(10, n_trials), n_trials // 2, n_trials})
    return {
        "trials": n_trials,
        "rss_mb_after_trial": {str(k): rss[k - 1] for k in marks},
        "growth_mb_after_first_10": rss[-1] - rss[min(10, n_trials) - 1],
    }
