"""The pictures name what they draw (axis labels, the model's and the baseline's names) and
plot_forecast draws forecasts of dates not yet observed, with or without history."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from tsforecast import LSTMRegressor, SlidingWindowTransformer, make_supervised
from tsforecast.model_selection import WalkForwardSplit, backtest
from tsforecast.plotting import plot_backtest, plot_forecast, plot_history

matplotlib.use("Agg")

import matplotlib.pyplot as plt

HISTORY = pd.Series(
    [1.0, 2.0, 3.0, 4.0], index=pd.date_range("2024-01-01", periods=4, freq="B"), name="close"
)
FUTURE = pd.bdate_range(HISTORY.index[-1], periods=4)[1:]


def test_a_forecast_of_the_future_is_drawn_without_actual_values():
    forecast = pd.Series([4.5, 5.0, 5.5], index=FUTURE)
    ax = plot_forecast(None, forecast, interval=(forecast - 1, forecast + 1))
    (line,) = ax.get_lines()
    assert line.get_label() == "forecast"
    np.testing.assert_array_equal(pd.DatetimeIndex(line.get_xdata()), FUTURE)
    np.testing.assert_array_equal(line.get_ydata(), [4.5, 5.0, 5.5])
    (band,) = ax.collections
    assert band.get_label() == "prediction interval"
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [
        "forecast",
        "prediction interval",
    ]


def test_history_and_a_future_forecast_each_keep_their_own_dates():
    forecast = pd.Series([4.5, 5.0, 5.5], index=FUTURE)
    ax = plot_forecast(HISTORY, forecast, baseline=[4.0, 4.0, 4.0], baseline_label="naive")
    actual, drawn, naive = ax.get_lines()
    assert [line.get_label() for line in (actual, drawn, naive)] == ["actual", "forecast", "naive"]
    np.testing.assert_array_equal(pd.DatetimeIndex(actual.get_xdata()), HISTORY.index)
    np.testing.assert_array_equal(pd.DatetimeIndex(drawn.get_xdata()), FUTURE)
    np.testing.assert_array_equal(pd.DatetimeIndex(naive.get_xdata()), FUTURE)


def test_an_array_forecast_is_aligned_with_the_actual_values():
    ax = plot_forecast(HISTORY, np.array([1.5, 2.5, 3.5, 4.5]))
    actual, forecast = ax.get_lines()
    np.testing.assert_array_equal(
        pd.DatetimeIndex(forecast.get_xdata()), pd.DatetimeIndex(actual.get_xdata())
    )


def test_a_forecast_without_dates_or_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="needs the forecast's time axis: pass y_pred as a pandas"):
        plot_forecast(None, [1.0, 2.0])
    with pytest.raises(ValueError, match="got y_pred of 3 values for a time axis of 4"):
        plot_forecast(HISTORY, [1.0, 2.0, 3.0])
    forecast = pd.Series([4.5, 5.0, 5.5], index=FUTURE)
    with pytest.raises(ValueError, match="got baseline of 2 values for a time axis of 3"):
        plot_forecast(None, forecast, baseline=[1.0, 2.0])
    with pytest.raises(ValueError, match="interval's upper bound of 4 values for a time axis of 3"):
        plot_forecast(None, forecast, interval=(forecast, HISTORY))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _legend(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_plot_forecast_labels_its_axes_and_names_the_baseline():
    index = pd.bdate_range("2024-01-01", periods=5, name="Date")
    actual = pd.Series(np.arange(5.0), index=index, name="Close(t+1)")
    ax = plot_forecast(
        actual,
        actual + 0.5,
        baseline=actual - 0.5,
        baseline_label="naive (last value)",
        label="LSTM",
        interval=(actual, actual + 1.0),
    )
    assert ax.get_xlabel() == "Date"
    assert ax.get_ylabel() == "Close(t+1)"
    assert _legend(ax) == ["actual", "LSTM", "naive (last value)", "prediction interval"]


def test_plot_forecast_defaults_name_an_unnamed_time_axis():
    actual = pd.Series([1.0, 2.0, 3.0])
    ax = plot_forecast(actual, [1.0, 2.0, 3.0], baseline=[0.0, 1.0, 2.0])
    assert ax.get_xlabel() == "time"
    assert ax.get_ylabel() == ""
    assert _legend(ax) == ["actual", "forecast", "baseline"]


def test_plot_history_and_backtest_label_their_axes(series_frame):
    X, y = make_supervised(series_frame[["price"]], target="price")
    model = make_pipeline(
        SlidingWindowTransformer(window=5),
        LSTMRegressor(units=4, max_epochs=2, batch_size=32, validation_fraction=0.0),
    )
    result = backtest(model, X, y, cv=WalkForwardSplit(2, test_size=30))
    ax = plot_backtest(result, baseline=result, label="LSTM", baseline_label="naive (last value)")
    assert ax.get_xlabel() == "Date"
    assert ax.get_ylabel() == "absolute error"
    assert _legend(ax) == ["LSTM", "naive (last value)"]
    ax = plot_history(result.estimators[0])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("epoch", "loss")
