"""
The LSTM inside skforecast, sktime and darts
============================================

The LSTM as the regressor of skforecast, sktime and darts, reading time in the right order.

Each library hands its regressor one flat row of lags per forecast: skforecast newest lag first
with the exogenous value at the forecast time, sktime oldest first with one block of lags per
exogenous variable, darts oldest first with one block per lag. ``LagSequenceTransformer``, told
the layout, turns each row into a sequence ``(n_lags, 1 + n_exog)``, oldest step first.

Data: a synthetic AR(2) series driven by the previous value of an exogenous series, 500 days;
the model is fitted once on the first 400 and makes one-step forecasts of the last 100 (a
chronological hold-out). The LSTM's settings are fixed beforehand, never chosen on the
hold-out. Needs skforecast, sktime and darts (the clients' environment), so the documentation
build shows it without running it. One torch thread, seeded (``examples/_settings.py``).

Run in the clients' environment (``make test-clients`` creates ``.venv-clients``):

    .venv-clients/bin/python examples/interop.py [--max-epochs N] [--save-results]
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from _settings import arguments, save, setup
from darts import TimeSeries
from darts.models import SKLearnModel
from skforecast.recursive import ForecasterRecursive
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sktime.forecasting.compose import make_reduction

from tsforecast import LSTMRegressor
from tsforecast.preprocessing import LagSequenceTransformer

N_LAGS, N_TRAIN, N_TEST = 3, 400, 100


def make_series() -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(0)
    n = N_TRAIN + N_TEST
    x = rng.normal(size=n)
    y = np.zeros(n)
    for t in range(2, n):
        y[t] = 0.6 * y[t - 1] - 0.3 * y[t - 2] + 0.8 * x[t - 1] + 0.5 * rng.normal()
    index = pd.date_range("2020-01-01", periods=n, freq="D")
    return pd.Series(y, index=index, name="y"), pd.Series(x, index=index, name="x")


def skforecast_lstm(lstm: LSTMRegressor, order: str = "newest_first"):
    """skforecast's rows: lag_1 (the newest) first, then the exog value at the forecast time."""
    return make_pipeline(LagSequenceTransformer(N_LAGS, order=order, exog_layout="current"), lstm)


def with_skforecast(regressor, y: pd.Series, x: pd.Series | None) -> np.ndarray:
    # skforecast's exog is the value at the forecast time: here the driver's previous value.
    exog = None if x is None else x.shift(1).bfill().to_frame("x_prev")
    forecaster = ForecasterRecursive(regressor, lags=N_LAGS)
    forecaster.fit(y=y[:N_TRAIN], exog=None if exog is None else exog[:N_TRAIN])
    return np.array(
        [
            forecaster.predict(
                steps=1, last_window=y[:t], exog=None if exog is None else exog[t : t + 1]
            ).iloc[0]
            for t in range(N_TRAIN, len(y))
        ]
    )


def with_sktime(regressor, y: pd.Series, x: pd.Series) -> np.ndarray:
    lags = LagSequenceTransformer(N_LAGS, order="oldest_first", exog_layout="by_variable")
    X = x.to_frame()
    forecasts = []
    with warnings.catch_warnings():  # sktime 1.2 announces remember_data's default of 1.3
        warnings.filterwarnings("ignore", "The default of config", FutureWarning)
        forecaster = make_reduction(make_pipeline(lags, regressor), window_length=N_LAGS)
        forecaster.fit(y[:N_TRAIN], X=X[:N_TRAIN], fh=[1])
        for t in range(N_TRAIN, len(y)):
            forecasts.append(forecaster.predict(fh=[1], X=X[t : t + 1]).iloc[0])
            forecaster.update(y[t : t + 1], X=X[t : t + 1], update_params=False)
    return np.array(forecasts)


def with_darts(regressor, y: pd.Series, x: pd.Series) -> np.ndarray:
    lags = LagSequenceTransformer(N_LAGS, order="oldest_first", exog_layout="by_lag")
    model = SKLearnModel(
        lags=N_LAGS, lags_past_covariates=N_LAGS, model=make_pipeline(lags, regressor)
    )
    series, covariates = TimeSeries.from_series(y), TimeSeries.from_series(x)
    model.fit(series[:N_TRAIN], past_covariates=covariates)
    forecasts = model.historical_forecasts(
        series, past_covariates=covariates, start=N_TRAIN, forecast_horizon=1, retrain=False
    )
    return forecasts.values().ravel()


def main() -> None:
    setup()
    parser = arguments(__doc__, max_epochs=40, saves=True)
    args = parser.parse_args()

    def lstm() -> LSTMRegressor:
        return LSTMRegressor(
            units=8, max_epochs=args.max_epochs, learning_rate=0.02, patience=None, random_state=0
        )

    y, x = make_series()
    actual = y.to_numpy()[N_TRAIN:]
    rows = {
        "zero": np.zeros(N_TEST),
        "naive (last value)": y.to_numpy()[N_TRAIN - 1 : -1],
        "linear, skforecast lags + exog": with_skforecast(LinearRegression(), y, x),
        "LSTM, skforecast lags + exog": with_skforecast(skforecast_lstm(lstm()), y, x),
        "LSTM, skforecast, y lags only": with_skforecast(skforecast_lstm(lstm()), y, None),
        "LSTM, skforecast, y lags read backwards": with_skforecast(
            skforecast_lstm(lstm(), "oldest_first"), y, None
        ),
        "LSTM, sktime make_reduction": with_sktime(lstm(), y, x),
        "LSTM, darts SKLearnModel": with_darts(lstm(), y, x),
    }
    mse = {name: float(np.mean((forecast - actual) ** 2)) for name, forecast in rows.items()}
    print(f"One-step forecasts of the last {N_TEST} of {len(y)} days (MSE, lower is better):")
    for name, score in mse.items():
        print(f"  {name:<40} {score:.3f}")
    if args.save_results:
        save("interop", {"train_days": N_TRAIN, "test_days": N_TEST, "mse": mse})


# %%
# Run it: fit, score and print.
if __name__ == "__main__":
    main()
