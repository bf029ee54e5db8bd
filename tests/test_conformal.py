"""Adaptive conformal intervals: coverage under a volatility break, no look-ahead."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression

from tsforecast.compose import AdaptiveConformalRegressor
from tsforecast.model_selection import WalkForwardSplit, backtest


def break_data(n=3000, seed=0):
    """y = 2x + noise whose scale triples at n // 2."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 1))
    scale = np.where(np.arange(n) < n // 2, 1.0, 3.0)
    return X, 2 * X[:, 0] + scale * rng.normal(size=n)


def covered(intervals, y):
    return (intervals[:, 0] <= y) & (y <= intervals[:, 1])


class RecordingBand(RegressorMixin, BaseEstimator):
    """Forecasts 2x with a band of ±width; records how many rows it was fitted on."""

    def __init__(self, width=1.0):
        self.width = width

    def fit(self, X, y):
        self.n_fit_ = len(y)
        return self

    def predict(self, X):
        return 2 * np.asarray(X)[:, 0]

    def predict_quantiles(self, X):
        center = self.predict(X)
        return np.column_stack([center - self.width, center, center + self.width])


def test_coverage_holds_through_a_volatility_break():
    X, y = break_data()
    model = AdaptiveConformalRegressor(LinearRegression()).fit(X[:1000], y[:1000])
    tracked = covered(model.predict_interval(X[1000:], y[1000:]), y[1000:])
    static = covered(model.predict_interval(X[1000:]), y[1000:])
    # Before the break (rows 1000-1499) both are near 80%; after it, split conformal's
    # intervals are a third as wide as they need to be, the tracked ones recover.
    assert 0.75 <= tracked[:500].mean() <= 0.85
    assert 0.75 <= static[:500].mean() <= 0.85
    assert 0.77 <= tracked[700:].mean() <= 0.83
    assert static[500:].mean() < 0.45
    assert 0.78 <= tracked.mean() <= 0.82


def test_quantile_score_widens_or_narrows_the_band():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 1))
    y = 2 * X[:, 0] + rng.uniform(-1, 1, size=2000)  # a ±0.8 band covers 80%
    for width, sign in ((0.2, 1), (3.0, -1)):
        model = AdaptiveConformalRegressor(RecordingBand(width), conformity="quantile")
        model.fit(X[:1000], y[:1000])
        assert np.sign(model.threshold_) == sign
        assert model.threshold_ + width == pytest.approx(0.8, abs=0.08)
        intervals = model.predict_interval(X[1000:], y[1000:])
        assert covered(intervals, y[1000:]).mean() == pytest.approx(0.8, abs=0.03)
        assert (intervals[:, 1] >= intervals[:, 0]).all()


@pytest.mark.parametrize("horizon", [1, 3])
def test_fit_holds_out_calibration_with_an_embargo(horizon):
    X, y = break_data(100)
    model = AdaptiveConformalRegressor(
        RecordingBand(), horizon=horizon, calibration_fraction=0.25
    ).fit(X, y)
    assert model.estimator_.n_fit_ == 75 - (horizon - 1)
    np.testing.assert_allclose(model.calibration_scores_, np.abs(y[75:] - 2 * X[75:, 0]))


_X, _Y = break_data(300)
_MODEL = AdaptiveConformalRegressor(LinearRegression(), learning_rate=0.2).fit(_X[:100], _Y[:100])


@settings(max_examples=40, deadline=None)
@given(
    horizon=st.integers(1, 4),
    t=st.integers(0, 199),
    shift=st.floats(-50, 50, allow_nan=False).filter(lambda v: abs(v) > 1e-3),
)
def test_property_changing_targets_after_t_changes_no_interval_before_t_plus_h(horizon, t, shift):
    model = _MODEL.set_params(horizon=horizon)
    X, y = _X[100:], _Y[100:].copy()
    before = model.predict_interval(X, y)
    y[t:] += shift
    after = model.predict_interval(X, y)
    np.testing.assert_array_equal(after[: t + horizon], before[: t + horizon])
    # Unknown targets (NaN) are the same as any value until they are due.
    y[t:] = np.nan
    np.testing.assert_array_equal(
        model.predict_interval(X, y)[: t + horizon], before[: t + horizon]
    )


def test_a_miss_moves_the_next_interval_out():
    X, y = break_data(300)
    model = AdaptiveConformalRegressor(LinearRegression(), horizon=2).fit(X[:100], y[:100])
    truth = y[100:].copy()
    base = model.predict_interval(X[100:], truth)
    truth[10] += 100  # a miss at row 10, observed at row 12
    moved = model.predict_interval(X[100:], truth)
    np.testing.assert_array_equal(moved[:12], base[:12])
    assert (moved[12, 1] - moved[12, 0]) > (base[12, 1] - base[12, 0])


@pytest.mark.parametrize(
    ("model", "y", "error", "match"),
    [
        (
            AdaptiveConformalRegressor(LinearRegression(), conformity="quantile"),
            None,
            TypeError,
            "predict_quantiles",
        ),
        (AdaptiveConformalRegressor(LinearRegression()), "2d", ValueError, r"shape \(n_samples,\)"),
        (AdaptiveConformalRegressor(LinearRegression(), horizon=9), "short", ValueError, "too few"),
        (AdaptiveConformalRegressor(LinearRegression(), alpha=1.5), None, ValueError, "'alpha'"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(model, y, error, match):
    X, target = break_data(40)
    if y == "2d":
        target = np.column_stack([target, target])
    elif y == "short":
        X, target = X[:10], target[:10]
    with pytest.raises(error, match=match):
        model.fit(X, target)


def test_usable_in_a_backtest():
    X, y = break_data(400)
    model = AdaptiveConformalRegressor(LinearRegression())
    result = backtest(model, X, y, cv=WalkForwardSplit(n_splits=3, test_size=50))
    fold = result.estimators[-1]
    np.testing.assert_allclose(
        result.predictions["y_pred"].to_numpy()[-50:], fold.estimator_.predict(X[-50:])
    )


@pytest.mark.parametrize("scale_window", [1, 3])
def test_threshold_steps_scale_with_the_last_scale_window_scores(scale_window):
    X, y = break_data(400)
    model = AdaptiveConformalRegressor(
        LinearRegression(), learning_rate=0.1, scale_window=scale_window
    ).fit(X[:200], y[:200])
    forecast = model.predict(X[200:])
    scores = np.abs(y[200:] - forecast)
    recent = list(np.abs(model.calibration_scores_[-scale_window:]))
    threshold, expected = model.threshold_, []
    for t in range(len(scores)):
        if t >= 1:  # the score of row t - 1 is observed at row t (horizon=1)
            recent = [*recent, scores[t - 1]][-scale_window:]
            threshold += 0.1 * max(recent) * ((scores[t - 1] > expected[t - 1]) - 0.2)
        expected.append(threshold)
    bands = model.predict_interval(X[200:], y[200:])
    np.testing.assert_allclose(bands[:, 1] - forecast, expected, rtol=1e-12)
    np.testing.assert_allclose(forecast - bands[:, 0], expected, rtol=1e-12)
