"""Per-window scaling, the seasonal-naive residual and the M4-shaped losses of LSTMRegressor.

A window's statistics scale that window only (no look-ahead), the scaling is part of the
saved, pickled and exported model, and a series multiplied by ``c`` trains the same network and
gets its forecasts multiplied by ``c``.
"""

import os
import pickle

import numpy as np
import onnxruntime
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tsforecast import LSTMRegressor, SlidingWindowTransformer, load_model, save_model
from tsforecast.export import to_onnx
from tsforecast.model_selection import WalkForwardSplit, backtest

KINDS = ["mean", "standard", "robust", "last"]
_FAST = {"units": 6, "max_epochs": 2, "batch_size": 32, "random_state": 0, "accelerator": "cpu"}
WINDOW, HORIZON, SEASON = 12, 3, 4


def _supervised(series, window=WINDOW, horizon=HORIZON):
    """Windows of ``window`` values and the next ``horizon`` values of one series."""
    n = len(series) - window - horizon + 1
    X = np.stack([series[i : i + window] for i in range(n)])[..., None].astype(np.float32)
    y = np.stack([series[i + window : i + window + horizon] for i in range(n)])
    return X, y


@pytest.fixture(scope="module")
def series():
    """A positive seasonal series (season 4) with noise."""
    rng = np.random.default_rng(0)
    t = np.arange(240)
    return 50 + 10 * np.sin(2 * np.pi * t / SEASON) + 0.05 * t + rng.normal(size=len(t))


@pytest.fixture(scope="module", params=KINDS)
def fitted(request, series):
    X, y = _supervised(series)
    params = {"window_scaling": request.param, "season": SEASON, "seasonal_residual": True}
    return LSTMRegressor(**_FAST, linear_skip=True, **params).fit(X, y)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_windows_forecast_does_not_change_when_later_rows_change(fitted, series, data):
    rows = series[:60].astype(np.float32).reshape(-1, 1)
    windows = SlidingWindowTransformer(WINDOW).fit_transform(rows)
    row = data.draw(st.integers(WINDOW - 1, len(rows) - 2), label="row")
    later = data.draw(
        st.lists(
            st.floats(-1e4, 1e4, width=32),
            min_size=len(rows) - row - 1,
            max_size=len(rows) - row - 1,
        ),
        label="later rows",
    )
    changed = rows.copy()
    changed[row + 1 :, 0] = later
    changed_windows = SlidingWindowTransformer(WINDOW).fit_transform(changed)
    np.testing.assert_array_equal(
        fitted.predict(changed_windows[: row + 1]), fitted.predict(windows[: row + 1])
    )


def test_a_series_times_1000_gets_its_forecast_times_1000(fitted, series):
    X, _ = _supervised(series)
    np.testing.assert_allclose(fitted.predict(X * 1000), 1000 * fitted.predict(X), rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("loss", ["mse", "mae", "mase", "smape"])
def test_a_scaled_series_trains_the_same_network(series, kind, loss):
    """The losses read the window-scaled errors: a series times 1024 (exact in floating
    point) trains the very same network, whose forecasts are 1024 times as large."""
    X, y = _supervised(series)
    params = {**_FAST, "window_scaling": kind, "season": SEASON, "loss": loss}
    small = LSTMRegressor(**params).fit(X, y)
    large = LSTMRegressor(**params).fit(X * 1024, y * 1024)
    losses = [[r["train_loss"] for r in m.history_] for m in (small, large)]
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-6)
    np.testing.assert_allclose(large.predict(X * 1024), 1024 * small.predict(X), rtol=1e-6)


def test_the_round_trips_predict_the_same(fitted, series, tmp_path):
    X, _ = _supervised(series)
    expected = fitted.predict(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict(X), expected)
    save_model(fitted, tmp_path / "model.pt")
    np.testing.assert_array_equal(load_model(tmp_path / "model.pt").predict(X), expected)
    to_onnx(fitted, tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(os.fspath(tmp_path / "model.onnx"))
    np.testing.assert_allclose(session.run(None, {"X": X})[0], expected, rtol=1e-5)


def test_the_scale_is_the_windows_own(series):
    """Two series whose levels differ by 1e6 are forecast by one network as one series."""
    X, y = _supervised(series)
    model = LSTMRegressor(**_FAST, window_scaling="mean").fit(
        np.concatenate([X, X * 1e6]), np.concatenate([y, y * 1e6])
    )
    np.testing.assert_allclose(model.predict(X * 1e6), 1e6 * model.predict(X), rtol=1e-5)
    assert model.target_mean_.tolist() == [0.0] * HORIZON  # no standardization of the target
    assert model.target_scale_.tolist() == [1.0] * HORIZON


@pytest.mark.parametrize("kind", KINDS)
def test_a_periodic_series_starts_and_stays_at_the_seasonal_naive_forecast(kind):
    """Ridge has nothing to add to a seasonal-naive forecast that is exact: the start (the
    skip path, the head at zero) is kept, and each of 10 steps ahead repeats the last season."""
    pattern = np.array([3.0, 7.0, 5.0, 1.0])
    periodic = np.tile(pattern, 40) * 100
    X, y = _supervised(periodic, window=9, horizon=10)
    model = LSTMRegressor(
        **_FAST,
        window_scaling=kind,
        season=SEASON,
        seasonal_residual=True,
        linear_skip=True,
        validation_fraction=0.2,
    ).fit(X, y)
    last_season = X[:, -SEASON:, 0]
    expected = last_season[:, np.arange(10) % SEASON]
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-5)
    assert model.best_epoch_ == -1


def test_quantile_forecasts_keep_the_horizons_shape(series):
    X, y = _supervised(series)
    model = LSTMRegressor(
        **_FAST,
        loss="quantile",
        window_scaling="robust",
        season=SEASON,
        seasonal_residual=True,
        linear_skip=True,
    ).fit(X, y)
    quantiles = model.predict_quantiles(X[:5])
    assert quantiles.shape == (5, HORIZON, 3)
    assert (np.diff(quantiles, axis=2) >= 0).all()
    np.testing.assert_array_equal(model.predict(X[:5]), quantiles[:, :, 1])


def test_mase_and_smape_train_on_a_single_target(series):
    X, y = _supervised(series, horizon=1)
    for loss in ("mase", "smape"):
        model = LSTMRegressor(**{**_FAST, "max_epochs": 3}, loss=loss, season=SEASON).fit(
            X, y[:, 0]
        )
        assert model.predict(X).shape == (len(X),)
        assert model.history_[-1]["train_loss"] < model.history_[0]["train_loss"]


def test_target_feature_picks_the_history_the_forecast_is_scaled_by(series):
    X, y = _supervised(series)
    noise = np.random.default_rng(1).normal(size=X.shape).astype(np.float32)
    X2 = np.concatenate([noise, X], axis=2)  # the target's history is feature 1
    model = LSTMRegressor(**_FAST, window_scaling="mean", target_feature=1).fit(X2, y)
    scaled = X2 * np.array([1.0, 1000.0], dtype=np.float32)
    np.testing.assert_allclose(model.predict(scaled), 1000 * model.predict(X2), rtol=1e-4)


@pytest.mark.parametrize(("scaling", "loss"), [("mean", "mae"), ("mean", "mase"), (None, "mase")])
def test_grouped_folds_forecast_as_separate_fits(series, scaling, loss):
    """Window-scaled networks train one by one (a grouped network cannot scale each fold's
    target feature yet); loss="mase" reads each fold's own windows in a grouped network."""
    X, y = _supervised(series)
    model = LSTMRegressor(**_FAST, window_scaling=scaling, loss=loss, season=SEASON)
    cv = WalkForwardSplit(2, test_size=30)
    grouped = backtest(model, X, y, cv=cv, group_folds=True)
    separate = backtest(model, X, y, cv=cv, group_folds=False)
    np.testing.assert_allclose(
        grouped.predictions.select_dtypes("number").to_numpy(),
        separate.predictions.select_dtypes("number").to_numpy(),
        rtol=1e-4,
        atol=1e-6,
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"window_scaling": "mean", "standardize_inputs": True}, "standardize_inputs=True"),
        ({"window_scaling": "mean", "loss": "qlike"}, "loss='qlike'"),
        ({"seasonal_residual": True, "season": 4}, "seasonal_residual=True needs"),
        ({"window_scaling": "mean", "seasonal_residual": True}, "seasonal_residual=True needs"),
        ({"window_scaling": "mean", "target_feature": 1}, "target_feature=1 is not a feature"),
        ({"loss": "mase"}, "loss='mase' needs season"),
        ({"loss": "mase", "season": 12}, "season=12 needs windows longer"),
        (
            {"window_scaling": "last", "season": 13, "seasonal_residual": True},
            "season=13 needs windows longer",
        ),
    ],
)
def test_impossible_combinations_are_refused_and_change_nothing(series, params, message):
    X, y = _supervised(series)
    model = LSTMRegressor(**_FAST).fit(X, y)
    before = model.predict(X)
    model.set_params(**params)
    with pytest.raises(ValueError, match=message):
        model.fit(X, np.abs(y))
    np.testing.assert_array_equal(model.predict(X), before)


def test_a_model_pickled_before_window_scaling_existed_unpickles_without_it(series):
    X, y = _supervised(series)
    model = LSTMRegressor(**_FAST).fit(X, y)
    state = model.__getstate__()
    new_entries = ("window_scaling", "target_feature", "season", "seasonal_residual")
    for name in new_entries:
        del state[name]
        del state["_architecture"][name]
    old = LSTMRegressor.__new__(LSTMRegressor)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.predict(X), model.predict(X))
    assert [old.get_params()[name] for name in new_entries] == [None, 0, None, False]
