"""The LSTM as the regressor of skforecast, sktime and darts reads time in the right order.

One-step forecasts over the last N_TEST steps, the model fitted once on the first N_TRAIN: each
client's must beat the zero and naive forecasts and be within 5% of the same LSTM used
natively on the same windows.
"""

import numpy as np
import pandas as pd
import pytest
from conftest import N_LAGS, N_TRAIN, check_forecast, make_lstm, mse
from sklearn.pipeline import make_pipeline

from tsforecast.preprocessing import LagSequenceTransformer

# sktime 1.2 announces a default change when a forecaster is built, before set_config.
SKTIME_DEFAULT_CHANGE = pytest.mark.filterwarnings("ignore:The default of config:FutureWarning")


def test_skforecast_recursive(ar2_exog, native_mse_current_exog, baselines):
    from skforecast.recursive import ForecasterRecursive

    y, x = ar2_exog
    # skforecast's exog is the value at the forecast time: the driver's previous value.
    exog = x.shift(1).bfill().to_frame("x_prev")
    lags = LagSequenceTransformer(N_LAGS, order="newest_first", exog_layout="current")
    forecaster = ForecasterRecursive(make_pipeline(lags, make_lstm()), lags=N_LAGS)
    forecaster.fit(y=y[:N_TRAIN], exog=exog[:N_TRAIN])
    forecasts = [
        forecaster.predict(steps=1, last_window=y[:t], exog=exog[t : t + 1]).iloc[0]
        for t in range(N_TRAIN, len(y))
    ]
    check_forecast(mse(forecasts, y[N_TRAIN:]), native_mse_current_exog, baselines)


@SKTIME_DEFAULT_CHANGE
def test_sktime_make_reduction(ar2_exog, native_mse, baselines):
    from sktime.forecasting.compose import make_reduction

    y, x = ar2_exog
    X = x.to_frame()
    lags = LagSequenceTransformer(N_LAGS, order="oldest_first", exog_layout="by_variable")
    forecaster = make_reduction(
        make_pipeline(lags, make_lstm()), window_length=N_LAGS, strategy="recursive"
    )
    forecaster.fit(y[:N_TRAIN], X=X[:N_TRAIN], fh=[1])
    forecasts = []
    for t in range(N_TRAIN, len(y)):
        forecasts.append(forecaster.predict(fh=[1], X=X[t : t + 1]).iloc[0])
        forecaster.update(y[t : t + 1], X=X[t : t + 1], update_params=False)
    check_forecast(mse(forecasts, y[N_TRAIN:]), native_mse, baselines)


def test_darts_sklearn_model(ar2_exog, native_mse, baselines):
    from darts import TimeSeries
    from darts.models import SKLearnModel

    y, x = ar2_exog
    series, covariates = TimeSeries.from_series(y), TimeSeries.from_series(x)
    lags = LagSequenceTransformer(N_LAGS, order="oldest_first", exog_layout="by_lag")
    model = SKLearnModel(
        lags=N_LAGS, lags_past_covariates=N_LAGS, model=make_pipeline(lags, make_lstm())
    )
    model.fit(series[:N_TRAIN], past_covariates=covariates)
    forecasts = model.historical_forecasts(
        series, past_covariates=covariates, start=N_TRAIN, forecast_horizon=1, retrain=False
    )
    check_forecast(mse(forecasts.values().ravel(), y[N_TRAIN:]), native_mse, baselines)


def test_reading_skforecast_rows_oldest_first_is_what_matters(ar2_exog, baselines):
    """The defect: the same pipeline told the wrong order forecasts worse than its own fix."""
    from skforecast.recursive import ForecasterRecursive

    y = ar2_exog[0]
    errors = {}
    for order in ("newest_first", "oldest_first"):
        lags = LagSequenceTransformer(N_LAGS, order=order)
        forecaster = ForecasterRecursive(make_pipeline(lags, make_lstm()), lags=N_LAGS)
        forecaster.fit(y=y[:N_TRAIN])
        forecasts = [
            forecaster.predict(steps=1, last_window=y[:t]).iloc[0] for t in range(N_TRAIN, len(y))
        ]
        errors[order] = mse(forecasts, y[N_TRAIN:])
    assert errors["newest_first"] < errors["oldest_first"], errors
    assert isinstance(y.index, pd.DatetimeIndex) and np.isfinite(list(errors.values())).all()


@SKTIME_DEFAULT_CHANGE
def test_shipped_prices_are_accepted_as_loaded():
    """Before: sktime's predict failed (no freq), skforecast refused the series, darts needed
    fill_missing_dates=True, freq="B" (which invents holiday prices)."""
    from darts import TimeSeries
    from darts.models import SKLearnModel
    from skforecast.recursive import ForecasterRecursive
    from sklearn.linear_model import Ridge
    from sktime.forecasting.compose import make_reduction

    from tsforecast.datasets import load_eurusd, load_sp500

    for series in (np.log(load_sp500()["Close"]).iloc[-200:], load_eurusd()["USD"].iloc[-200:]):
        nxt = series.index[-1] + series.index.freq
        sktime = make_reduction(Ridge(), window_length=5).fit(series, fh=[1]).predict()
        skforecast = ForecasterRecursive(Ridge(), lags=5)
        skforecast.fit(y=series)
        darts = SKLearnModel(lags=5, model=Ridge()).fit(TimeSeries.from_series(series))
        assert sktime.index[0] == skforecast.predict(steps=1).index[0] == nxt
        assert darts.predict(1).time_index[0] == nxt


def test_interop_example_runs(monkeypatch, capsys):
    import runpy
    import sys
    from pathlib import Path

    script = Path(__file__).parents[2] / "examples" / "interop.py"
    monkeypatch.syspath_prepend(str(script.parent))  # its shared _settings module
    monkeypatch.setattr(sys, "argv", [str(script), "--max-epochs", "1"])
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    for row in ("naive (last value)", "LSTM, sktime make_reduction", "LSTM, darts SKLearnModel"):
        assert row in out


def test_darts_safe_loading_accepts_tsforecast_models_once_allow_listed(ar2_exog, tmp_path):
    """The estimators pickle their weights as NumPy arrays, so darts' restricted unpickler
    needs only tsforecast's own classes allow-listed (no torch object, no code)."""
    from darts import TimeSeries
    from darts.models import SKLearnModel
    from darts.utils.serialization import safe_globals

    import tsforecast

    series = TimeSeries.from_series(ar2_exog[0][:120])
    lstm = tsforecast.LSTMRegressor(units=4, max_epochs=2, random_state=0)
    model = SKLearnModel(lags=N_LAGS, model=make_pipeline(LagSequenceTransformer(N_LAGS), lstm))
    model.fit(series).save(tmp_path / "model.pkl")
    with pytest.raises(Exception, match="not allow-listed"):  # refused until registered
        SKLearnModel.load(tmp_path / "model.pkl")
    with safe_globals([LagSequenceTransformer, tsforecast.LSTMRegressor]):
        loaded = SKLearnModel.load(tmp_path / "model.pkl")
    np.testing.assert_array_equal(loaded.predict(3).values(), model.predict(3).values())


def test_the_guides_darts_block_runs_as_written(tmp_path, monkeypatch):
    """The user guide's darts block (the last on its page) runs here, where darts is."""
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "guide" / "ecosystem.md"
    code = page.read_text(encoding="utf-8").rsplit("```python\n", 1)[1].split("```", 1)[0]
    assert "SKLearnModel.load" in code
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(page), "exec"), {"__name__": "docs_page"})
