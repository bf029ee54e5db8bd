"""History before the first row: one mechanism that every wrapper reports through, and a
HistoryPaddingWarning whenever history is replaced by padding (issue 22, items 2, 3, 17)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import LSTMRegressor, SlidingWindowTransformer, make_supervised
from tsforecast.compose import AdaptiveConformalRegressor, RelativeTargetRegressor
from tsforecast.datasets import load_fx
from tsforecast.model_selection import OptunaSearchCV
from tsforecast.preprocessing import (
    HistoryPaddingWarning,
    ReturnsTransformer,
    history_length,
    predict_with_history,
)

_LSTM = {"units": 4, "max_epochs": 1, "batch_size": 32, "random_state": 0}


def _close(actual, desired):
    """Equal up to the float32 rounding of batches of other sizes (1e-9 relative seen)."""
    np.testing.assert_allclose(actual, desired, rtol=1e-7, atol=0)


def _frame(index):
    x = np.random.default_rng(0).normal(size=len(index)).cumsum() + 50
    return pd.DataFrame({"x": x, "z": np.exp(np.sin(np.arange(len(index))))}, index=index)


def _windows(window=5, **lstm):
    return make_pipeline(
        StandardScaler(), SlidingWindowTransformer(window=window), LSTMRegressor(**_LSTM, **lstm)
    )


@pytest.fixture(scope="module")
def daily():
    X = _frame(pd.bdate_range("2022-01-03", periods=80, name="Date"))
    return X, X["x"].shift(-1).ffill().to_numpy()


def test_the_quick_start_pipeline_warns_when_it_pads_the_test_rows(daily):
    """Old code: the scaler strips the index, and predict(X.iloc[split:]) padded silently."""
    X, y = daily
    split = 60
    quick_start = _windows().fit(X.iloc[:split], y[:split])
    with pytest.warns(HistoryPaddingWarning, match="arrive without an index"):
        padded = quick_start.predict(X.iloc[split:])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        in_sample = quick_start.predict(X.iloc[:split])  # the fitted rows: no history to lose
        kept = _windows().set_output(transform="pandas").fit(X.iloc[:split], y[:split])
        continued = kept.predict(X.iloc[split:])
    np.testing.assert_array_equal(in_sample, kept.predict(X.iloc[:split]))
    _close(continued, kept.predict(X)[split:])
    assert not np.allclose(padded[:4], continued[:4])
    _close(padded[4:], continued[4:])


@pytest.mark.parametrize(
    "index",
    [
        pd.period_range("2001-01", periods=40, freq="M"),
        pd.timedelta_range("0s", periods=40, freq="90s"),
        pd.Index(np.arange(40) * 2.5),
        pd.date_range("2024-03-30", periods=40, freq="h", tz="Europe/Paris"),  # over DST
    ],
    ids=["period", "timedelta", "float", "aware"],
)
def test_every_ordered_index_continues_the_fitted_rows(index):
    """Old code: a PeriodIndex never continued (silent padding); ReturnsTransformer gave 0."""
    X = _frame(index)
    for transformer in (SlidingWindowTransformer(window=4), ReturnsTransformer()):
        whole = transformer.fit_transform(X)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            continued = transformer.fit(X.iloc[:25]).transform(X.iloc[25:])
        np.testing.assert_array_equal(continued, whole[25:])
    assert ReturnsTransformer().fit(X.iloc[:25]).transform(X.iloc[25:])[0, 0] != 0


def test_an_index_of_labels_warns_instead_of_padding_silently():
    """Old code: a string index never continued and never warned."""
    X = _frame(pd.Index([f"day {i:02d}" for i in range(40)]))
    for transformer in (SlidingWindowTransformer(window=4), ReturnsTransformer()):
        transformer.fit(X.iloc[:25])
        with pytest.warns(HistoryPaddingWarning, match="Index of labels of dtype .* cannot tell"):
            transformer.transform(X.iloc[25:])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            transformer.transform(X.iloc[:25])  # the fitted rows themselves


@pytest.fixture(scope="module")
def ecb():
    fx = np.log(load_fx()[["USD", "CAD"]].iloc[-140:])
    X, y = make_supervised(fx, "USD")
    pipe = _windows(window=8).set_output(transform="pandas").fit(X.iloc[:100], y.iloc[:100])
    return X, pipe


def test_a_row_of_the_fitted_ecb_rates_reads_its_real_history(ecb):
    """Old code: predict(X.iloc[[-1]]) of the fitted rows padded silently (7e-5 off)."""
    X, pipe = ecb
    train = X.iloc[:100]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(93, 100):  # rows starting among the last window fitted rows
            _close(pipe.predict(train.iloc[k:]), pipe.predict(train)[k:])
    with pytest.warns(HistoryPaddingWarning, match="begin inside the fitted rows"):
        pipe.predict(train.iloc[50:])


def test_ecb_rows_after_a_gap_warn_and_explicit_history_gives_the_right_forecast(ecb):
    """Old code: rows after a gap (12 business days) padded silently."""
    X, pipe = ecb
    later = X.iloc[112:]
    with pytest.warns(HistoryPaddingWarning, match="begin after a gap larger than any step"):
        padded = pipe.predict(later)
    whole = pipe.predict(X.iloc[100:])
    _close(predict_with_history(pipe, X.iloc[105:112], later), whole[12:])
    assert not np.allclose(padded[:7], whole[12:19])


def test_history_length_reports_through_every_wrapper(daily):
    """Old code: 0 for AdaptiveConformalRegressor, GridSearchCV and OptunaSearchCV."""
    X, y = daily
    pipe = _windows(window=6).set_output(transform="pandas")
    wrappers = [
        pipe,
        RelativeTargetRegressor(_windows(window=6), reference="x"),
        AdaptiveConformalRegressor(pipe),
        GridSearchCV(pipe, {"lstmregressor__units": [4]}, cv=TimeSeriesSplit(2)),
        OptunaSearchCV(
            pipe,
            {"lstmregressor__units": CategoricalDistribution([4])},
            n_trials=1,
            cv=TimeSeriesSplit(2),
            random_state=0,
        ),
    ]
    for wrapper in wrappers:
        wrapper.fit(X.iloc[:60], y[:60])
        assert history_length(wrapper) == 5, type(wrapper).__name__
        # Explicit history gives every wrapper the forecasts of the continued rows.
        expected = wrapper.predict(X.iloc[60:])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            explicit = predict_with_history(wrapper, X.iloc[55:60], X.iloc[60:])
        _close(explicit, expected)


@pytest.mark.parametrize("horizon", [1, 3])
def test_conformal_over_windows_reads_real_history_in_calibration_and_after_fit(daily, horizon):
    """Old code: the calibration rows (horizon > 1) and the rows right after fit were
    forecast from padded windows."""
    X, y = daily
    model = AdaptiveConformalRegressor(
        _windows().set_output(transform="pandas"), horizon=horizon, calibration_fraction=0.25
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(X.iloc[:60], y[:60])
        n_calibration = len(model.calibration_scores_)
        calibration = X.iloc[60 - n_calibration : 60]
        real = predict_with_history(model.estimator_, X.iloc[: 60 - n_calibration], calibration)
        _close(model.calibration_scores_, np.abs(real - y[60 - n_calibration : 60]))
        after = model.predict(X.iloc[60:])  # continues X: no warning
        bands = model.predict_interval(X.iloc[60:])
    _close(after, predict_with_history(model, X.iloc[:60], X.iloc[60:]))
    np.testing.assert_array_equal(bands.mean(axis=1), after)


def test_predict_with_history_calls_a_method_of_the_final_step_or_names_it(daily):
    """Old code: AttributeError: 'Pipeline' object has no attribute 'predict_quantiles'."""
    X, y = daily
    pipe = _windows(loss="quantile").fit(X.iloc[:60], y[:60])
    quantiles = predict_with_history(pipe, X.iloc[55:60], X.iloc[60:], method="predict_quantiles")
    whole = pipe[-1].predict_quantiles(pipe[:-1].transform(X.iloc[:80]))
    _close(quantiles, whole[60:])
    with pytest.raises(ValueError, match="'predict_proba' is not a method of Pipeline nor of"):
        predict_with_history(pipe, X.iloc[55:60], X.iloc[60:], method="predict_proba")
