"""Hourly weather 24 hours ahead: the LSTM against seasonal naive, last value and ridge regression.

The shipped Greensboro typical year (``load_hourly_weather``): at each hour ``t`` forecast the
next 24 hours of temperature, and of global horizontal irradiance (GHI), directly (one output per
horizon), from a 48-hour window of the target and the hour of day. Chronological split: the
first 80% of the hours train, the rest test; training targets never reach into the test period.
Scores are RMSE averaged over the 24 horizons.

Baselines on the same rows: last value, seasonal naive (the same hour yesterday) and ``RidgeCV``
on the same flattened window. Three choices are made on an inner split of the training period
(its last 20%), never on the test period: ``linear_skip``, the learning rate (1e-3 or 1e-2),
and whether to add solar inputs,
the clear-sky irradiance (``clear_sky_irradiance``: known from the clock alone) now and 24 hours
ahead, so that the window's last 24 steps hold the sun's shape over the hours to forecast.
When they are chosen, ``RidgeCV`` on the same inputs is printed too, as a reference.
Goals (multiples of the best baseline's RMSE): temperature at most 1.0 (stretch 0.95), GHI at
most 0.80 (stretch 0.75). Irradiance forecasts are clipped at zero (it is never negative).

Run:  python examples/hourly_weather.py [--max-epochs N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.metrics import root_mean_squared_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from tsforecast import LSTMRegressor, SlidingWindowTransformer, make_supervised
from tsforecast.datasets import load_hourly_weather
from tsforecast.preprocessing import calendar_features, clear_sky_irradiance

WINDOW, HORIZON = 48, 24
LEARNING_RATES = (1e-3, 1e-2)
# Greensboro, NC; the shipped index is local standard time (UTC-5).
LATITUDE, LONGITUDE, UTC_OFFSET = 36.1, -79.95, -5
# target: (goal, stretch) as multiples of the best baseline's RMSE
GOALS = {"temperature": (1.0, 0.95), "ghi": (0.80, 0.75)}


def flatten(windows: np.ndarray) -> np.ndarray:
    return windows.reshape(len(windows), -1)


def lstm(linear_skip: bool, learning_rate: float, max_epochs: int) -> object:
    return make_pipeline(
        StandardScaler(),
        SlidingWindowTransformer(window=WINDOW),
        LSTMRegressor(
            units=64,
            max_epochs=max_epochs,
            patience=5,
            learning_rate=learning_rate,
            linear_skip=linear_skip,
            random_state=0,
        ),
    )


def ridge() -> object:
    return make_pipeline(
        StandardScaler(),
        SlidingWindowTransformer(window=WINDOW),
        FunctionTransformer(flatten),
        RidgeCV(alphas=np.logspace(-3, 3, 13)),
    )


def rmse(truth: np.ndarray, pred: np.ndarray) -> float:
    """RMSE of each horizon, averaged over the horizons."""
    return float(np.mean(root_mean_squared_error(truth, pred, multioutput="raw_values")))


def fit_score(model: object, X: pd.DataFrame, y: pd.DataFrame, train: int, test: slice) -> float:
    """Fit on rows ``< train`` and score on rows ``test``, windows reading the real history."""
    pred = model.fit(X.iloc[:train], y.iloc[:train]).predict(X)[test]
    if y.columns[0].startswith("ghi"):
        pred = np.maximum(pred, 0.0)
    return rmse(y.to_numpy()[test], pred)


def solar_inputs(index: pd.DatetimeIndex) -> pd.DataFrame:
    """Clear-sky irradiance at each hour and 24 hours later: known in advance."""
    ahead = index + pd.Timedelta(hours=HORIZON)
    return pd.DataFrame(
        {
            "clear_sky": clear_sky_irradiance(index, LATITUDE, LONGITUDE, utc_offset=UTC_OFFSET),
            "clear_sky_in_24h": clear_sky_irradiance(
                ahead, LATITUDE, LONGITUDE, utc_offset=UTC_OFFSET
            ).to_numpy(),
        },
        index=index,
    )


def evaluate(target: str, max_epochs: int) -> None:
    weather = load_hourly_weather()
    base = weather[[target]].join(calendar_features(weather.index, ("hour",)))
    supervised = {
        solar: make_supervised(
            base.join(solar_inputs(weather.index)) if solar else base,
            target,
            horizon=range(1, HORIZON + 1),
        )
        for solar in (False, True)
    }
    X, y = supervised[False]
    split = int(0.8 * len(X))
    inner = int(0.8 * split)
    # Training rows end HORIZON hours before each period they are scored on.
    train, test = split - HORIZON, slice(split, None)
    inner_train, inner_val = inner - HORIZON, slice(inner, train)

    start = time.perf_counter()
    inner_scores = {
        (solar, skip, rate): fit_score(
            lstm(skip, rate, max_epochs), *supervised[solar], inner_train, inner_val
        )
        for solar in (False, True)
        for skip in (False, True)
        for rate in LEARNING_RATES
    }
    solar, chosen, rate = min(inner_scores, key=inner_scores.get)
    last = X[target].to_numpy()
    rows = np.arange(len(X))[test]
    truth = y.to_numpy()[test]
    scores = {
        "last value": rmse(truth, np.repeat(last[rows, None], HORIZON, axis=1)),
        "seasonal naive (24 h)": rmse(
            truth, last[rows[:, None] - HORIZON + np.arange(1, HORIZON + 1)]
        ),
        "RidgeCV, same window": fit_score(ridge(), X, y, train, test),
    }
    best_name = min(scores, key=scores.get)
    best = scores[best_name]
    if solar:
        scores["RidgeCV, same inputs as the LSTM"] = fit_score(
            ridge(), *supervised[True], train, test
        )
    label = f"LSTM, skip={chosen}, lr={rate:g}" + (", solar" if solar else "")
    scores[label] = fit_score(lstm(chosen, rate, max_epochs), *supervised[solar], train, test)

    print(
        f"\n{target}: train {X.index[0]:%Y-%m-%d} .. {X.index[train - 1]:%Y-%m-%d}, test "
        f"{X.index[split]:%Y-%m-%d} .. {X.index[-1]:%Y-%m-%d} ({len(rows)} forecasts)"
    )
    print(
        "  inner split RMSE: "
        + ", ".join(
            f"{'solar, ' if s else ''}skip={skip}, lr={r:g}: {score:.4g}"
            for (s, skip, r), score in inner_scores.items()
        )
        + f" (LSTM fits took {time.perf_counter() - start:.0f} s)"
    )
    print(f"  {'forecast':<38}{'RMSE':>10}{'vs best baseline':>18}")
    for name, score in scores.items():
        print(f"  {name:<38}{score:>10.4g}{score / best:>18.3f}")
    goal, stretch = GOALS[target]
    ratio = scores[label] / best
    verdict = "met" if ratio <= goal else "MISSED"
    print(
        f"  goal <= {goal} x {best_name}: {verdict} ({ratio:.3f}); "
        f"stretch {stretch}: {'met' if ratio <= stretch else 'missed'}"
    )
    if solar:
        reference = scores["RidgeCV, same inputs as the LSTM"]
        print(f"  LSTM / RidgeCV on the same inputs: {scores[label] / reference:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-epochs", type=int, default=30)
    args = parser.parse_args()
    for target in GOALS:
        evaluate(target, args.max_epochs)


if __name__ == "__main__":
    main()
