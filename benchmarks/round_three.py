"""The history figures of round three (issue 22), measured on this tree.

Each case of the reliability guide's "History and whole-model files" table that has a figure
(``docs/guide/reliability.md``): how far a forecast from padded windows is from the one that
reads the real rows before it, whether a ``HistoryPaddingWarning`` says so, and what the
wrappers report as their history. Small LSTMs (4 units, 1 epoch, one torch thread, seeded) on
the last 140 ECB days and on a synthetic business-day series. Only the tree it runs on is
measured: the "before" figures of that table were measured on commit 679c36a
(``notes/i22a.md``) and are quoted from there.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import LSTMRegressor, SlidingWindowTransformer, make_supervised, save_model
from tsforecast.compose import AdaptiveConformalRegressor
from tsforecast.datasets import load_fx
from tsforecast.preprocessing import (
    HistoryPaddingWarning,
    ReturnsTransformer,
    history_length,
    predict_with_history,
)

LSTM = {"units": 4, "max_epochs": 1, "batch_size": 32, "random_state": 0}


def _windows(window: int = 5) -> Pipeline:
    return make_pipeline(
        StandardScaler(), SlidingWindowTransformer(window=window), LSTMRegressor(**LSTM)
    )


def _watched(measure: Callable[[], Any]) -> dict[str, Any]:
    """``measure()``'s value and the number of ``HistoryPaddingWarning`` it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = measure()
    padding = [w for w in caught if issubclass(w.category, HistoryPaddingWarning)]
    return {"value": value, "padding_warnings": len(padding)}


def _ecb() -> dict[str, Any]:
    rates = np.log(load_fx()[["USD", "CAD"]].iloc[-140:])
    X, y = make_supervised(rates, "USD")
    train = X.iloc[:100]
    pipe = _windows(8).set_output(transform="pandas").fit(train, y.iloc[:100])
    whole = pipe.predict(train)
    continuing = pipe.predict(X.iloc[100:])
    return {
        "last fitted row alone vs in the whole": _watched(
            lambda: float(abs(pipe.predict(train.iloc[[-1]])[0] - whole[-1]))
        ),
        "rows after a 12-row gap, padded vs real": _watched(
            lambda: float(np.abs(pipe.predict(X.iloc[112:])[:7] - continuing[12:19]).max())
        ),
    }


def _synthetic() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    index = pd.bdate_range("2022-01-03", periods=80)
    data = pd.DataFrame(
        {"x": rng.normal(size=80).cumsum() + 50, "z": np.exp(np.sin(np.arange(80)))},
        index=index,
    )
    return data, data["x"].shift(-1).ffill().to_numpy()


def _history(data: pd.DataFrame, target: np.ndarray) -> dict[str, Any]:
    plain = _windows().fit(data.iloc[:60], target[:60])
    indexed = _windows().set_output(transform="pandas").fit(data.iloc[:60], target[:60])
    real = indexed.predict(data)[60:]
    periods = data.set_axis(pd.period_range("2001-01", periods=80, freq="M"))
    labels = data.set_axis([f"d{i:02d}" for i in range(80)])

    def continues(frame: pd.DataFrame) -> bool:
        later = SlidingWindowTransformer(window=4).fit(frame.iloc[:25]).transform(frame.iloc[25:])
        return bool(
            np.array_equal(later, SlidingWindowTransformer(window=4).fit_transform(frame)[25:])
        )

    return {
        "quick start without set_output, first 4 test rows, padded vs real": _watched(
            lambda: float(np.abs(plain.predict(data.iloc[60:])[:4] - real[:4]).max())
        ),
        "PeriodIndex: windows continue the fitted rows": _watched(lambda: continues(periods)),
        "PeriodIndex: first return of the rows after the fit": _watched(
            lambda: float(
                ReturnsTransformer().fit(periods.iloc[:25]).transform(periods.iloc[25:])[0, 0]
            )
        ),
        "string index: windows continue the fitted rows": _watched(lambda: continues(labels)),
    }


def _conformal(data: pd.DataFrame, target: np.ndarray) -> dict[str, Any]:
    """Max error of the conformal wrapper's forecasts right after ``fit`` and of its
    calibration scores, against forecasts that read the real rows before them."""
    results = {}
    for horizon in (1, 3):
        model = AdaptiveConformalRegressor(
            _windows().set_output(transform="pandas"), horizon=horizon, calibration_fraction=0.25
        ).fit(data.iloc[:60], target[:60])
        after = model.predict(data.iloc[60:])
        real = predict_with_history(model.estimator_, data.iloc[:60], data.iloc[60:])
        n = len(model.calibration_scores_)
        calibration = predict_with_history(
            model.estimator_, data.iloc[: 60 - n], data.iloc[60 - n : 60]
        )
        truth = np.abs(calibration - target[60 - n : 60])
        results[f"horizon={horizon}"] = {
            "after fit": float(np.abs(after - real).max()),
            "calibration scores": float(np.abs(model.calibration_scores_ - truth).max()),
        }
    return results


def _wrappers(data: pd.DataFrame, target: np.ndarray) -> dict[str, Any]:
    search = GridSearchCV(
        _windows(6).set_output(transform="pandas"),
        {"lstmregressor__units": [4]},
        cv=TimeSeriesSplit(2),
    ).fit(data.iloc[:60], target[:60])
    conformal = AdaptiveConformalRegressor(_windows(6)).fit(data.iloc[:60], target[:60])
    quantiles = make_pipeline(
        SlidingWindowTransformer(window=5), LSTMRegressor(**LSTM, loss="quantile")
    ).fit(data.iloc[:60], target[:60])
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "pipeline.pt")
        pipe = _windows().set_output(transform="pandas").fit(data.iloc[:60], target[:60])
        save_model(pipe, path)
        saved = os.path.getsize(path) > 0
    shape = predict_with_history(
        quantiles, data.iloc[55:60], data.iloc[60:], method="predict_quantiles"
    ).shape
    return {
        "history_length, window 6": {
            "GridSearchCV": history_length(search),
            "AdaptiveConformalRegressor": history_length(conformal),
        },
        "predict_with_history(method='predict_quantiles') shape": list(shape),
        "save_model(pipeline) wrote a file": saved,
    }


def run(_rounds: object = None) -> dict[str, Any]:
    """Every figure, measured with one torch thread (restored after)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        data, target = _synthetic()
        return {
            "ECB rates (last 140 days, window 8)": _ecb(),
            "history (synthetic business days, window 5)": _history(data, target),
            "conformal over a window pipeline": _conformal(data, target),
            "wrappers": _wrappers(data, target),
        }
    finally:
        torch.set_num_threads(threads)
