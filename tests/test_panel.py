"""Panels in long format, recursive forecasts, calendar covariates, plots."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from conftest import FAST
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline

from tsforecast import LSTMRegressor, SlidingWindowTransformer, make_supervised
from tsforecast.baselines import NaiveForecaster
from tsforecast.forecast import recursive_forecast
from tsforecast.model_selection import WalkForwardSplit, backtest
from tsforecast.plotting import plot_backtest, plot_forecast, plot_history
from tsforecast.preprocessing import (
    HistoryPaddingWarning,
    PanelWindowTransformer,
    calendar_features,
    predict_with_history,
)

matplotlib.use("Agg")


def long_panel(lengths, start="2024-01-01"):
    """Series "s0", "s1", ... of the given lengths, interleaved by date; value = 100*k + t."""
    frames = [
        pd.DataFrame(
            {"id": f"s{k}", "x": 100.0 * k + np.arange(n)},
            index=pd.bdate_range(start, periods=n, name="Date"),
        )
        for k, n in enumerate(lengths)
    ]
    return pd.concat(frames).sort_index(kind="stable")


def test_make_supervised_shifts_within_each_series():
    panel = long_panel([5, 3])
    X, y = make_supervised(panel, target="x", group="id", horizon=[1, 2])
    assert len(X) == (5 - 2) + (3 - 2)
    np.testing.assert_array_equal(y["x(t+1)"], X["x"] + 1)  # never the other series' value
    np.testing.assert_array_equal(y["x(t+2)"], X["x"] + 2)
    with pytest.raises(ValueError, match="series 's1' has 3 rows"):
        make_supervised(panel, target="x", group="id", horizon=3)
    with pytest.raises(ValueError, match="group 'x' must be a column"):
        make_supervised(panel, target="x", group="x")


@settings(max_examples=30, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 12), min_size=1, max_size=4),
    window=st.integers(1, 6),
)
def test_property_panel_windows_never_cross_series(lengths, window):
    panel = long_panel(lengths)
    windows = PanelWindowTransformer(group="id", window=window).fit_transform(panel)
    assert windows.shape == (len(panel), window, 1)
    series = (panel["x"] // 100).to_numpy()
    # Every value in a row's window belongs to that row's series and is not later than it.
    assert ((windows[:, :, 0] // 100) == series[:, None]).all()
    assert (windows[:, :, 0] <= panel["x"].to_numpy()[:, None]).all()
    # The window ends at the row itself.
    np.testing.assert_array_equal(windows[:, -1, 0], panel["x"])


def test_panel_windows_carry_history_per_series():
    panel = long_panel([12, 12])
    train, test = panel.iloc[:16], panel.iloc[16:]  # dates interleaved: 8 business days each
    transformer = PanelWindowTransformer(group="id", window=3).fit(train)
    windows = transformer.transform(test)
    # The first test window of each series reads that series' last fitted days.
    np.testing.assert_array_equal(windows[0, :, 0], [6.0, 7.0, 8.0])
    np.testing.assert_array_equal(windows[1, :, 0], [106.0, 107.0, 108.0])
    # Rows that do not continue the fit (a gap) are padded instead, with a warning.
    with pytest.warns(HistoryPaddingWarning, match="after a gap"):
        gap = transformer.transform(test.iloc[4:])
    np.testing.assert_array_equal(gap[0, :, 0], [10.0] * 3)
    with pytest.raises(TypeError, match="needs a DataFrame"):
        transformer.transform(test.to_numpy())
    with pytest.raises(ValueError, match="group 'id' is not a column"):
        transformer.transform(test.drop(columns="id"))


def test_global_lstm_on_a_panel_predicts_each_series(series_frame):
    panel = pd.concat(
        [series_frame[["price"]].assign(id="a"), (2 * series_frame[["price"]]).assign(id="b")]
    ).sort_index(kind="stable")
    X, y = make_supervised(panel, target="price", group="id")
    model = make_pipeline(
        PanelWindowTransformer(group="id", window=10), LSTMRegressor(**FAST, random_state=0)
    )
    result = backtest(model, X, y, cv=WalkForwardSplit(2, test_size=60))
    np.testing.assert_array_equal(result.predictions["y_true"], y.iloc[-120:])
    # Row-wise forecasts: a series' forecasts are the same with or without the other series.
    fitted, only_a = result.estimators[-1], (X["id"] == "a").to_numpy()
    np.testing.assert_allclose(fitted.predict(X[only_a]), fitted.predict(X)[only_a], rtol=1e-6)


def test_recursive_forecast_iterates_a_one_step_model():
    series = pd.Series(0.9 ** np.arange(40), name="x")
    model = LinearRegression(fit_intercept=False).fit(series.to_frame()[:-1], series[1:])
    forecast = recursive_forecast(model, series[:10], steps=5)
    np.testing.assert_allclose(forecast, 0.9 ** np.arange(10, 15))
    with pytest.raises(ValueError, match="single series"):
        recursive_forecast(model, np.ones((5, 2)), steps=2)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        recursive_forecast(model, series, steps=0)


def test_recursive_forecast_with_an_lstm_pipeline_and_window(series_frame):
    X, y = make_supervised(series_frame[["price"]], target="price")
    model = make_pipeline(
        SlidingWindowTransformer(window=10), LSTMRegressor(**FAST, random_state=0)
    ).fit(X, y)
    full = recursive_forecast(model, X["price"], steps=4)
    short = recursive_forecast(model, X["price"], steps=4, window=10)
    assert full.shape == (4,)
    np.testing.assert_allclose(short, full, rtol=1e-5)
    # The first recursive step is the model's own one-step forecast.
    assert full[0] == pytest.approx(model.predict(X)[-1])


def test_calendar_features_are_cyclical():
    index = pd.date_range("2024-01-01", periods=400, freq="D")
    features = calendar_features(index, ("day_of_week", "month"))
    assert features.columns.tolist() == [
        "day_of_week_sin",
        "day_of_week_cos",
        "month_sin",
        "month_cos",
    ]
    week = ["day_of_week_sin", "day_of_week_cos"]
    np.testing.assert_allclose(features[week].iloc[0], features[week].iloc[7])
    assert not np.allclose(features[week].iloc[0], features[week].iloc[3])
    radius = features["month_sin"] ** 2 + features["month_cos"] ** 2
    np.testing.assert_allclose(radius, 1.0)
    with pytest.raises(ValueError, match="Unknown calendar features"):
        calendar_features(index, ("hour_of_week",))


def test_plots_draw_what_they_say(series_frame):
    X, y = make_supervised(series_frame[["price"]], target="price")
    model = make_pipeline(SlidingWindowTransformer(window=5), LSTMRegressor(**FAST)).fit(X, y)
    pred = model.predict(X)
    ax = plot_forecast(y, pred, interval=(pred - 0.1, pred + 0.1), baseline=X["price"])
    assert [line.get_label() for line in ax.get_lines()] == ["actual", "forecast", "baseline"]
    ax = plot_history(model)
    assert len(ax.get_lines()) == 1  # train loss only: no validation
    result = backtest(model, X, y, cv=WalkForwardSplit(3, test_size=30))
    ax = plot_backtest(result, baseline=result)
    assert len(ax.get_lines()) == 2 + 2  # two curves, two refit markers


def test_panel_rejects_unseen_and_missing_group_keys():
    panel = long_panel([6, 6])
    transformer = PanelWindowTransformer(group="id", window=3).fit(panel)
    unseen = panel.assign(id=panel["id"].replace({"s1": "s9"}))
    with pytest.raises(ValueError, match=r"series \['s9'\] of the group column 'id' not seen"):
        transformer.transform(unseen)
    holed = panel.assign(id=panel["id"].where(panel["x"] != 102.0))
    for call in (transformer.transform, PanelWindowTransformer(group="id", window=3).fit):
        with pytest.raises(ValueError, match="group column 'id' has missing keys"):
            call(holed)
    # A failed transform leaves the fitted history as it was.
    np.testing.assert_array_equal(
        transformer.transform(panel), PanelWindowTransformer("id", window=3).fit_transform(panel)
    )


def test_panel_warns_when_rows_lose_their_index():
    panel = long_panel([12, 12])
    train, test = panel.iloc[:16], panel.iloc[16:]  # 8 business days each, then 4
    transformer = PanelWindowTransformer(group="id", window=3).fit(train)
    with pytest.warns(HistoryPaddingWarning, match="PanelWindowTransformer"):
        lost = transformer.transform(test.reset_index(drop=True))
    np.testing.assert_array_equal(lost[0, :, 0], [test["x"].iloc[0]] * 3)
    explicit = predict_with_history(transformer, train, test, method="transform")
    np.testing.assert_array_equal(explicit, transformer.transform(test))


def test_recursive_forecast_window_must_cover_the_model(series_frame):
    X, y = make_supervised(series_frame[["price"]], target="price")
    model = make_pipeline(SlidingWindowTransformer(window=10), NaiveForecaster()).fit(X, y)
    np.testing.assert_array_equal(
        recursive_forecast(model, X["price"], steps=2, window=10), [X["price"].iloc[-1]] * 2
    )
    with pytest.raises(ValueError, match="window=9 rows are too few"):
        recursive_forecast(model, X["price"], steps=2, window=9)


def test_calendar_features_hour_and_minute_on_an_hourly_index():
    index = pd.date_range("2024-03-01 00:00", periods=72, freq="h")
    features = calendar_features(index, ("hour", "day_of_week"))
    assert features.columns.tolist() == [
        "hour_sin",
        "hour_cos",
        "day_of_week_sin",
        "day_of_week_cos",
    ]
    hour = features[["hour_sin", "hour_cos"]].to_numpy()
    np.testing.assert_allclose(hour[:24], hour[24:48])  # daily cycle
    np.testing.assert_allclose(hour[6], [1.0, 0.0], atol=1e-12)  # 06:00 a quarter turn
    np.testing.assert_allclose(hour[12], [0.0, -1.0], atol=1e-12)
    # 23:00 sits next to 00:00, as far from it as 01:00.
    np.testing.assert_allclose(
        np.linalg.norm(hour[23] - hour[0]), np.linalg.norm(hour[1] - hour[0])
    )
    quarter_hours = pd.date_range("2024-03-01 10:00", periods=5, freq="15min")
    minute = calendar_features(quarter_hours, ("minute",)).to_numpy()
    np.testing.assert_allclose(minute[:, 0], [0.0, 1.0, 0.0, -1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(minute[4], minute[0])
