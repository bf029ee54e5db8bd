"""Panel forecasts in one call (forecast_panel) and the M4 protocol's backtest_panel."""

import numpy as np
import pandas as pd
import pytest
from conftest import FAST
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from tsforecast import (
    LSTMEnsembleRegressor,
    LSTMRegressor,
    SlidingWindowTransformer,
    make_supervised,
)
from tsforecast.datasets import load_eurusd, load_fx
from tsforecast.forecast import forecast_panel
from tsforecast.model_selection import backtest_panel
from tsforecast.preprocessing import PanelWindowTransformer

WINDOW, H = 6, 3


def global_model(**params):
    return make_pipeline(
        PanelWindowTransformer(group="id", window=WINDOW),
        LSTMRegressor(**{**FAST, **params}, random_state=0),
    )


@pytest.fixture
def panel(rng):
    """Three series of different lengths and levels, each on its own integer index."""
    parts = []
    for key, n, level in (("a", 40, 1.0), ("b", 50, 100.0), ("c", 45, 10.0)):
        t = np.arange(n)
        y = level * (1 + 0.3 * np.sin(2 * np.pi * t / 7)) + 0.05 * level * rng.normal(size=n)
        parts.append(pd.DataFrame({"id": key, "y": y}, index=pd.Index(t, name="t")))
    return pd.concat(parts)


@pytest.fixture
def fitted(panel):
    X, y = make_supervised(panel, "y", group="id", horizon=range(1, H + 1))
    return global_model().fit(X, y)


def test_each_series_forecast_equals_its_own_last_window_forecast(panel, fitted):
    table = forecast_panel(fitted, panel, group="id")
    assert table.columns.tolist() == ["id", "step", "t", "forecast"]
    assert table["id"].tolist() == ["a"] * H + ["b"] * H + ["c"] * H
    assert table["step"].tolist() == [1, 2, 3] * 3
    for key, rows in panel.groupby("id"):
        own = fitted.predict(rows.iloc[-WINDOW:])[-1]  # the series alone, its last window
        mine = table[table["id"] == key]
        np.testing.assert_allclose(mine["forecast"], own, rtol=1e-6)
        np.testing.assert_array_equal(mine["t"], rows.index[-1] + np.arange(1, H + 1))
    # A shorter horizon: the first steps of the same forecasts.
    first = forecast_panel(fitted, panel, group="id", horizon=2)
    np.testing.assert_array_equal(first["forecast"], table[table["step"] <= 2]["forecast"])


def test_the_model_is_not_refitted(panel, fitted):
    before = fitted.predict(panel)

    def refuse(*args, **kwargs):
        raise AssertionError("forecast_panel refitted the model")

    for estimator in (fitted, *fitted):
        estimator.fit = refuse
    forecast_panel(fitted, panel, group="id")
    np.testing.assert_array_equal(fitted.predict(panel), before)


def test_eurusd_next_five_business_days_in_one_call():
    rates = load_eurusd().iloc[-300:]
    X, y = make_supervised(rates, "USD", horizon=range(1, 6))
    model = make_pipeline(SlidingWindowTransformer(window=10), LSTMRegressor(**FAST)).fit(X, y)
    table = forecast_panel(model, rates)
    assert table.columns.tolist() == ["step", "Date", "forecast"]
    # The ECB's calendar after Friday 2026-10-30: the next Monday to Friday.
    assert table["Date"].dt.strftime("%a %Y-%m-%d").tolist() == [
        "Mon 2026-11-02",
        "Tue 2026-11-03",
        "Wed 2026-11-04",
        "Thu 2026-11-05",
        "Fri 2026-11-06",
    ]
    np.testing.assert_allclose(table["forecast"], model.predict(rates)[-1], rtol=1e-6)


def test_a_long_frame_of_dates_with_holidays_needs_freq():
    rates = load_fx()[["USD", "SEK"]].iloc[-250:]  # Christmas and Easter are gaps
    long = rates.reset_index().melt(id_vars="Date", var_name="id", value_name="y")
    long = long.set_index("Date")
    X, y = make_supervised(long, "y", group="id", horizon=range(1, H + 1))
    model = global_model().fit(X, y)
    with pytest.raises(ValueError, match=r"series 'USD' have no regular frequency.*freq='B'"):
        forecast_panel(model, long, group="id")
    table = forecast_panel(model, long, group="id", freq="B")
    expected = pd.bdate_range(rates.index[-1], periods=H + 1)[1:]
    assert table["Date"].tolist() == [*expected, *expected]
    # Regular dates need no freq: pandas infers it per series.
    regular = long.copy()
    days = pd.date_range("2020-01-01", periods=len(rates), freq="D", name="Date")
    regular.index = days.append(days)
    table = forecast_panel(model, regular, group="id")
    assert table["Date"].iloc[0] == pd.Timestamp("2020-01-01") + pd.Timedelta(days=len(rates))


def test_quantile_columns(panel):
    X, y = make_supervised(panel, "y", group="id", horizon=range(1, H + 1))
    model = global_model(loss="quantile", quantiles=[0.1, 0.5, 0.9]).fit(X, y)
    table = forecast_panel(model, panel, group="id", quantiles=True)
    assert table.columns.tolist() == ["id", "step", "t", "forecast", "q0.1", "q0.5", "q0.9"]
    np.testing.assert_array_equal(table["q0.5"], table["forecast"])
    assert (table["q0.1"] <= table["q0.5"]).all() and (table["q0.5"] <= table["q0.9"]).all()


def test_quantile_columns_of_an_ensemble(panel):
    X, y = make_supervised(panel, "y", group="id", horizon=range(1, H + 1))
    member = LSTMRegressor(**FAST, loss="quantile", quantiles=[0.1, 0.5, 0.9])
    model = make_pipeline(
        PanelWindowTransformer(group="id", window=WINDOW),
        LSTMEnsembleRegressor(member, n_members=2, random_state=0),
    ).fit(X, y)
    table = forecast_panel(model, panel, group="id", quantiles=True)
    assert table.columns.tolist() == ["id", "step", "t", "forecast", "q0.1", "q0.5", "q0.9"]
    last = panel.groupby("id").tail(WINDOW)
    levels = model[-1].predict_quantiles(model[:-1].transform(last))
    ends = np.flatnonzero(np.r_[last["id"].to_numpy()[1:] != last["id"].to_numpy()[:-1], True])
    np.testing.assert_allclose(table["q0.9"], levels[ends, :, 2].ravel(), rtol=1e-6)


def test_a_panel_on_periods_gets_the_next_periods(panel):
    periods = panel.copy()
    periods.index = pd.Period("2020-01", freq="M") + panel.index.to_numpy()
    X, y = make_supervised(periods, "y", group="id", horizon=range(1, H + 1))
    table = forecast_panel(global_model().fit(X, y), periods, group="id")
    for key, rows in periods.groupby("id"):
        expected = pd.period_range(rows.index[-1] + 1, periods=H)
        assert table.loc[table["id"] == key, "time"].tolist() == expected.tolist()


@pytest.mark.parametrize(
    ("index", "freq", "match"),
    [
        ("integer", "D", "cannot step the integer index"),
        ("dates", 1, "is not a frequency for the dates"),
        ("periods", "M", "cannot be used with the PeriodIndex"),
    ],
)
def test_a_freq_that_does_not_fit_the_index_is_refused_by_name(panel, fitted, index, freq, match):
    data = panel.copy()
    if index == "dates":
        data.index = pd.Timestamp("2020-01-01") + pd.to_timedelta(panel.index, unit="D")
    elif index == "periods":
        data.index = pd.Period("2020-01", freq="M") + panel.index.to_numpy()
    with pytest.raises(ValueError, match=match):
        forecast_panel(fitted, data, group="id", freq=freq)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m, d: forecast_panel(m, d.to_numpy(), group="id"), TypeError, "DataFrame"),
        (lambda m, d: forecast_panel(m, d, group="name"), ValueError, "group 'name' is not"),
        (
            lambda m, d: forecast_panel(m, d, group="id", horizon=4),
            ValueError,
            r"horizon=4 exceeds the model's 3 output\(s\)",
        ),
        (lambda m, d: forecast_panel(m, d, group="id", horizon=0), ValueError, "positive int"),
        (
            lambda m, d: forecast_panel(m, d.groupby("id").tail(4), group="id"),
            ValueError,
            r"series 'a' has 4 row\(s\); the model reads 6 rows",
        ),
        (
            lambda m, d: forecast_panel(m, d, group="id", quantiles=True),
            ValueError,
            "predict_quantiles needs a model fitted with loss='quantile'",
        ),
        (
            lambda m, d: forecast_panel(m, d.set_axis(d.index**2), group="id"),
            ValueError,
            "not evenly spaced",
        ),
    ],
)
def test_bad_input_is_refused_clearly(panel, fitted, call, error, match):
    with pytest.raises(error, match=match):
        call(fitted, panel)


def test_an_unfitted_model_is_refused(panel):
    with pytest.raises(NotFittedError):
        forecast_panel(global_model(), panel, group="id")


def test_backtest_panel_holds_out_the_last_values_of_each_series(panel):
    estimator = global_model()
    table = backtest_panel(estimator, panel, "y", horizon=H, group="id")
    assert not hasattr(estimator[-1], "n_outputs_")  # the estimator itself stays unfitted
    assert table.columns.tolist() == ["id", "step", "t", "forecast", "actual"]
    train = panel.groupby("id").head(-H)
    X, y = make_supervised(train, "y", group="id", horizon=range(1, H + 1))
    by_hand = forecast_panel(global_model().fit(X, y), train, group="id")
    np.testing.assert_allclose(table["forecast"], by_hand["forecast"], rtol=1e-6)
    for key, rows in panel.groupby("id"):
        mine = table[table["id"] == key]
        np.testing.assert_array_equal(mine["actual"], rows["y"].iloc[-H:])
        np.testing.assert_array_equal(mine["t"], rows.index[-H:])
    with pytest.raises(ValueError, match="horizon must be a positive int"):
        backtest_panel(estimator, panel, "y", horizon=0, group="id")
    with pytest.raises(ValueError, match="target 'z' is not a column"):
        backtest_panel(estimator, panel, "z", horizon=H, group="id")
