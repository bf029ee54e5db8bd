"""Forecast evaluation: metrics, baselines, walk-forward splits, backtests, relative targets."""

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from conftest import FAST
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from tsforecast import LSTMRegressor, SlidingWindowTransformer, make_supervised
from tsforecast.baselines import (
    DriftForecaster,
    NaiveForecaster,
    SeasonalNaiveForecaster,
    ZeroReturnForecaster,
)
from tsforecast.compose import RelativeTargetRegressor
from tsforecast.datasets import load_sp500
from tsforecast.metrics import (
    directional_accuracy,
    directional_accuracy_scorer,
    mase_scorer,
    mean_absolute_scaled_error,
    smape_scorer,
    symmetric_mean_absolute_percentage_error,
)
from tsforecast.model_selection import OptunaSearchCV, WalkForwardSplit, backtest
from tsforecast.preprocessing import (
    HistoryPaddingWarning,
    ReturnsTransformer,
    history_length,
    predict_with_history,
)

# ---------------------------------------------------------------- metrics


def test_mase_against_a_hand_computation():
    y_train = np.array([1.0, 3.0, 2.0, 6.0])  # naive errors 2, 1, 4: mean 7/3
    assert mean_absolute_scaled_error([5.0, 7.0], [6.0, 5.0], y_train=y_train) == pytest.approx(
        1.5 / (7 / 3)
    )
    # Season 2: errors |2-1|, |6-3|: mean 2.
    assert mean_absolute_scaled_error(
        [5.0], [6.0], y_train=y_train, seasonality=2
    ) == pytest.approx(0.5)
    # Multi-output: mean of the per-output ratios.
    two = mean_absolute_scaled_error(
        [[5.0, 5.0]], [[6.0, 7.0]], y_train=np.c_[y_train, 2 * y_train]
    )
    assert two == pytest.approx((1 / (7 / 3) + 2 / (14 / 3)) / 2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y_train": [1.0, 1.0, 1.0]}, "constant"),
        ({"y_train": [1.0, 2.0], "seasonality": 2}, "needs more"),
        ({"y_train": [1.0, np.nan, 2.0]}, "NaN"),
    ],
)
def test_mase_refuses_undefined_cases(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mean_absolute_scaled_error([1.0], [1.0], **kwargs)


def test_smape_against_a_hand_computation():
    # 2|e| / (|y| + |f|): 2 * 10 / 210, 0, 2 * 1 / 1 (sign change: |y| + |f| = 1), 0 (0 and 0).
    smape = symmetric_mean_absolute_percentage_error([100.0, 5.0, 0.0, 0.0], [110.0, 5.0, 1.0, 0.0])
    assert smape == pytest.approx((20 / 210 + 0 + 2 + 0) / 4)
    # Symmetric in the two arguments; over- and under-forecasting by the same amount differ.
    assert symmetric_mean_absolute_percentage_error([110.0], [100.0]) == pytest.approx(20 / 210)
    assert symmetric_mean_absolute_percentage_error([-3.0], [3.0]) == 2.0  # the upper bound
    # Multi-output: the mean over all values.
    two = symmetric_mean_absolute_percentage_error([[1.0, 2.0]], [[3.0, 2.0]])
    assert two == pytest.approx((4 / 4 + 0) / 2)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "match"),
    [
        ([1.0, np.nan], [1.0, 1.0], "y_true contains NaN"),
        ([1.0, 2.0], [1.0], "inconsistent numbers of samples"),
        ([[1.0, 2.0]], [[1.0]], "different numbers of outputs: 2 and 1"),
    ],
)
def test_smape_refuses_bad_input(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        symmetric_mean_absolute_percentage_error(y_true, y_pred)


def test_directional_accuracy_counts_moves_only():
    assert directional_accuracy([1.0, -1.0, 0.0, 2.0], [0.5, 0.5, 9.0, -1.0]) == 0.25 / 0.75
    levels = directional_accuracy([11.0, 9.0, 12.0], [10.5, 9.5, 9.9], reference=[10, 10, 10])
    assert levels == pytest.approx(2 / 3)
    assert np.isnan(directional_accuracy([0.0], [1.0]))


def test_scorers_compute_the_metrics_and_work_in_a_grid_search(rng):
    returns = rng.normal(0, 0.01, 300)
    X, y = returns[:-1].reshape(-1, 1), returns[1:]
    model = Ridge().fit(X, y)
    assert mase_scorer(model, X, y) == pytest.approx(
        -mean_absolute_scaled_error(y, model.predict(X), y_train=y)
    )
    assert directional_accuracy_scorer(model, X, y) == directional_accuracy(y, model.predict(X))
    assert smape_scorer(model, X, y) == pytest.approx(
        -symmetric_mean_absolute_percentage_error(y, model.predict(X))
    )
    search = GridSearchCV(
        Ridge(), {"alpha": [0.1, 10.0]}, cv=WalkForwardSplit(3), scoring=mase_scorer
    ).fit(X, y)
    assert search.best_score_ == max(search.cv_results_["mean_test_score"]) < 0


# ---------------------------------------------------------------- baselines


def test_baselines_on_known_windows():
    X = np.array([[1.0, 2.0, 4.0, 7.0], [2.0, 4.0, 7.0, 11.0]])
    y = np.array([[11.0, 16.0], [16.0, 22.0]])  # horizons 1 and 2
    np.testing.assert_array_equal(NaiveForecaster().fit(X, y).predict(X), [[7, 7], [11, 11]])
    drift = DriftForecaster().fit(X, y)
    np.testing.assert_allclose(drift.drift_, [4.5, 10.0])
    np.testing.assert_allclose(drift.predict(X), [[11.5, 17.0], [15.5, 21.0]])
    seasonal = SeasonalNaiveForecaster(seasonality=3).fit(X, y)
    np.testing.assert_array_equal(seasonal.predict(X), [[2, 4], [4, 7]])
    np.testing.assert_array_equal(ZeroReturnForecaster().fit(X, y).predict(X), np.zeros((2, 2)))


def test_baselines_read_the_chosen_feature_of_3d_windows():
    X = np.stack([np.full((3, 4), 1.0), np.full((3, 4), 5.0)], axis=2)  # (3, 4, 2)
    assert NaiveForecaster(feature=1).fit(X, np.zeros(3)).predict(X).tolist() == [5.0] * 3
    with pytest.raises(ValueError, match="feature=2, but X has 2 features"):
        NaiveForecaster(feature=2).fit(X, np.zeros(3))
    with pytest.raises(ValueError, match="seasonality=5"):
        SeasonalNaiveForecaster(seasonality=5).fit(X, np.zeros(3))
    with pytest.raises(ValueError, match="windows of 2 steps"):
        NaiveForecaster().fit(X, np.zeros(3)).predict(X[:, :2])


# ---------------------------------------------------------------- splits


@pytest.mark.parametrize(("horizon", "gap"), [(1, 0), (3, 0), (2, 4)])
def test_walk_forward_split_embargo(horizon, gap):
    splits = list(WalkForwardSplit(4, horizon=horizon, gap=gap, test_size=5).split(np.zeros(60)))
    assert len(splits) == 4
    for train, test in splits:
        assert test[0] - train[-1] - 1 == horizon - 1 + gap
        assert train[0] == 0
    rolling = WalkForwardSplit(3, test_size=5, max_train_size=10).split(np.zeros(40))
    assert all(len(train) == 10 for train, _ in rolling)
    assert "horizon=3" in repr(WalkForwardSplit(horizon=3))


def test_walk_forward_split_as_cv_in_both_searches(rng):
    X = rng.normal(size=(120, 5, 1)).astype(np.float32)
    y = X[:, -1, 0]
    cv = WalkForwardSplit(2, horizon=2)
    grid = GridSearchCV(LSTMRegressor(**FAST), {"units": [4, 8]}, cv=cv).fit(X, y)
    assert set(grid.cv_results_["param_units"]) == {4, 8}
    assert "split1_test_score" in grid.cv_results_
    assert "split2_test_score" not in grid.cv_results_
    optuna = OptunaSearchCV(
        LSTMRegressor(**FAST), n_trials=2, cv=cv, random_state=0, param_distributions=None
    ).fit(X, y)
    assert len(optuna.study_.trials) == 2


# ---------------------------------------------------------------- backtests


def _lag_ridge(window=5):
    """A deterministic forecaster on windows: Ridge on the flattened window."""
    return make_pipeline(
        StandardScaler(),
        SlidingWindowTransformer(window=window),
        FunctionTransformer(lambda w: w.reshape(len(w), -1)),
        Ridge(alpha=1.0),
    )


@pytest.fixture
def series_xy(series_frame):
    return make_supervised(series_frame, target="price", horizon=1)


def test_backtest_aligns_predictions_and_metrics(series_xy):
    X, y = series_xy
    result = backtest(_lag_ridge(), X, y, cv=WalkForwardSplit(4, test_size=20))
    preds = result.predictions
    assert preds.index.equals(y.index[-80:])
    np.testing.assert_array_equal(preds["y_true"], y.iloc[-80:])
    assert preds["fold"].tolist() == sorted(preds["fold"].tolist())
    fold2 = preds[preds["fold"] == 2]
    rmse = np.sqrt(np.mean((fold2["y_true"] - fold2["y_pred"]) ** 2))
    assert result.metrics.loc[2, "rmse"] == pytest.approx(rmse)
    assert result.metrics["test_start"].tolist() == y.index[-80::20].tolist()
    assert result.metrics["refit"].all()
    # Each fold's scaler saw that fold's training rows only.
    for (train, _), model in zip(
        WalkForwardSplit(4, test_size=20).split(X), result.estimators, strict=True
    ):
        np.testing.assert_allclose(model[0].mean_, X.iloc[train].mean().to_numpy())


class CountingNaive(NaiveForecaster):
    """Counts fits and predicts (class attributes: clones share them)."""

    calls: ClassVar[list[str]] = []

    def fit(self, X, y):
        CountingNaive.calls.append("fit")
        return super().fit(X, y)

    def predict(self, X):
        CountingNaive.calls.append(f"predict {len(X)}")
        return super().predict(X)


@pytest.mark.parametrize(
    ("refit", "expected"),
    [
        (
            True,
            ["fit", "predict 30", "fit", "predict 40", "fit", "predict 50", "fit", "predict 60"],
        ),
        (False, ["fit", "predict 60"]),
        (2, ["fit", "predict 40", "fit", "predict 60"]),
    ],
)
def test_backtest_refit_schedule_and_one_batched_predict(refit, expected):
    CountingNaive.calls = []
    X, y = np.arange(60.0).reshape(-1, 1), np.arange(1.0, 61.0)
    result = backtest(CountingNaive(), X, y, cv=WalkForwardSplit(4, test_size=10), refit=refit)
    assert CountingNaive.calls == expected
    # The naive forecast is exact up to one step whichever model made it.
    np.testing.assert_allclose(result.predictions["y_pred"], np.arange(20.0, 60.0))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)  # series_frame is only read
@given(fold=st.integers(0, 3), shift=st.floats(-5, 5).filter(lambda v: abs(v) > 1e-3))
def test_property_backtest_never_looks_ahead(series_frame, fold, shift):
    """Changing anything after a fold's test period leaves that fold's forecasts unchanged."""
    X, y = make_supervised(series_frame, target="price", horizon=1)
    cv = WalkForwardSplit(4, test_size=20)
    before = backtest(_lag_ridge(), X, y, cv=cv).predictions
    end = before.index[before["fold"] == fold][-1]
    later = X.index > end
    X_changed, y_changed = X.copy(), y.copy()
    X_changed.loc[later] += shift
    y_changed.loc[X.index >= end] += shift  # the last test target too: it is never an input
    after = backtest(_lag_ridge(), X_changed, y_changed, cv=cv).predictions
    kept = before["fold"] <= fold
    np.testing.assert_allclose(after.loc[kept, "y_pred"], before.loc[kept, "y_pred"])


def test_backtest_with_an_lstm_pipeline_and_multi_horizon(series_frame):
    X, y = make_supervised(series_frame, target="price", horizon=[1, 2])
    model = make_pipeline(
        StandardScaler(), SlidingWindowTransformer(window=10), LSTMRegressor(**FAST, random_state=0)
    )
    result = backtest(model, X, y, cv=WalkForwardSplit(2, horizon=2, test_size=30))
    assert result.predictions.columns.tolist() == [
        "fold",
        "y_true[price(t+1)]",
        "y_true[price(t+2)]",
        "y_pred[price(t+1)]",
        "y_pred[price(t+2)]",
    ]
    assert len(result.predictions) == 60
    assert np.isfinite(result.metrics[["mae", "rmse"]].to_numpy()).all()


# ---------------------------------------------------------------- relative targets


def test_returns_transformer_kinds_and_carry_over():
    prices = pd.DataFrame(
        {"p": [100.0, 110.0, 99.0, 99.0]}, index=pd.bdate_range("2024-01-01", periods=4)
    )
    log = ReturnsTransformer().fit(prices.iloc[:2])
    np.testing.assert_allclose(log.transform(prices.iloc[:2]).ravel(), [0.0, np.log(1.1)])
    # Rows that continue the fitted ones use the last fitted row as their previous row.
    np.testing.assert_allclose(log.transform(prices.iloc[2:]).ravel(), [np.log(0.9), 0.0])
    # NumPy input has no index: the first change is 0.
    np.testing.assert_allclose(
        ReturnsTransformer(kind="difference").fit_transform(prices.to_numpy()).ravel(),
        [0.0, 10.0, -11.0, 0.0],
    )
    with pytest.raises(ValueError, match="positive prices"):
        ReturnsTransformer().fit(np.array([[1.0], [0.0]]))


def test_relative_target_regressor_inverts_exactly():
    X = pd.DataFrame({"close": [100.0, 110.0, 121.0], "other": [1.0, 2.0, 3.0]})
    y = pd.DataFrame({"h1": [110.0, 121.0, 133.1], "h2": [121.0, 133.1, 146.41]})
    model = RelativeTargetRegressor(ZeroReturnForecaster(), reference="close").fit(X, y)
    np.testing.assert_allclose(model.predict(X), np.c_[X["close"], X["close"]])
    on_arrays = RelativeTargetRegressor(Ridge(alpha=0.0), reference=0, kind="simple")
    np.testing.assert_allclose(on_arrays.fit(X.to_numpy(), y["h1"]).predict(X.to_numpy()), y["h1"])
    with pytest.raises(ValueError, match="'price' is not a column"):
        RelativeTargetRegressor(Ridge(), reference="price").fit(X, y)
    with pytest.raises(ValueError, match="position below 2"):
        RelativeTargetRegressor(Ridge(), reference=5).fit(X.to_numpy(), y)


def test_recommended_pipeline_follows_prices_beyond_the_training_range():
    """S&P 500 1999-2014 -> 2015-2018: levels above anything in training. Standardized levels
    saturate; returns with a relative target tie the naive forecast and track the series."""
    prices = load_sp500()[["Close", "Volume"]]
    X, y = make_supervised(prices, target="Close")
    split = int(len(X) * 0.8)
    lstm = {"units": 16, "max_epochs": 5, "patience": 2, "random_state": 0}
    robust = RelativeTargetRegressor(
        make_pipeline(
            ReturnsTransformer(),
            StandardScaler(),
            SlidingWindowTransformer(window=20),
            LSTMRegressor(**lstm),
        ),
        reference="Close",
    ).fit(X.iloc[:split], y.iloc[:split])
    naive_pipe = make_pipeline(
        StandardScaler(), SlidingWindowTransformer(window=20), LSTMRegressor(**lstm)
    ).fit(X.iloc[:split], y.iloc[:split])
    truth, last = y.to_numpy()[split:], X["Close"].to_numpy()[split:]

    def rmse(pred):
        return np.sqrt(np.mean((pred - truth) ** 2))

    assert truth.min() > y.iloc[:split].max() * 0.8  # the test period is out of range
    robust_rmse = rmse(robust.predict(X)[split:])
    assert robust_rmse <= 1.02 * rmse(last)
    assert np.corrcoef(robust.predict(X)[split:], truth)[0, 1] > 0.99
    assert rmse(naive_pipe.predict(X)[split:]) > 3 * rmse(last)


def test_returns_transformer_log1p_and_per_column_kinds():
    frame = pd.DataFrame(
        {"close": [100.0, 110.0, 99.0], "volume": [0.0, 9.0, 0.0]},
        index=pd.bdate_range("2024-01-01", periods=3),
    )
    changes = ReturnsTransformer(kind={"volume": "log1p"}).fit_transform(frame)
    np.testing.assert_allclose(changes[:, 0], [0.0, np.log(1.1), np.log(0.9)])
    np.testing.assert_allclose(changes[:, 1], [0.0, np.log(10.0), -np.log(10.0)])
    on_arrays = ReturnsTransformer(kind="log1p").fit(frame.to_numpy())
    np.testing.assert_array_equal(on_arrays.kinds_, ["log1p", "log1p"])
    for kind, error in [
        ({"price": "log1p"}, "column 'price', which is not a column"),
        ({"volume": "sqrt"}, r"kind\['volume'\] must be one of"),
        ("log", "values <= 0: log returns need positive prices; use kind='log1p'"),
    ]:
        with pytest.raises(ValueError, match=error):
            ReturnsTransformer(kind=kind).fit(frame)
    with pytest.raises(ValueError, match="values < 0: log1p changes need non-negative"):
        ReturnsTransformer(kind="log1p").fit(-frame)


@pytest.fixture(scope="module")
def sp500_supervised():
    X, y = make_supervised(load_sp500()[["Close", "Volume"]], target="Close")
    return X, y, int(len(X) * 0.8)


def _recommended(kind="log"):
    return RelativeTargetRegressor(
        make_pipeline(
            ReturnsTransformer(kind=kind),
            StandardScaler(),
            SlidingWindowTransformer(window=30),
            LSTMRegressor(units=4, max_epochs=1, validation_fraction=0.0, random_state=0),
        ),
        reference="Close",
    )


def test_recommended_pipeline_forecasts_the_test_period_alone_as_within_the_whole(
    sp500_supervised,
):
    """No set_output from the user: the test period alone reads its real history."""
    X, y, split = sp500_supervised
    model = _recommended().fit(X.iloc[:split], y.iloc[:split])
    test = model.predict(X.iloc[split:])
    np.testing.assert_allclose(test, model.predict(X)[split:])
    # A served request without the DatetimeIndex: explicit history gives the same forecasts.
    assert history_length(model) == 30
    past, request = X.iloc[split - 30 : split], X.iloc[split:].reset_index(drop=True)
    np.testing.assert_allclose(predict_with_history(model, past, request), test)
    with pytest.warns(HistoryPaddingWarning):
        assert not np.allclose(model.predict(request)[:30], test[:30])
    # The user's own regressor is left as given.
    assert model.regressor[0].get_params() == ReturnsTransformer().get_params()


def test_recommended_pipeline_with_zero_volumes_in_the_test_period(sp500_supervised):
    X, y, split = sp500_supervised
    zeroed = X.copy()
    zeroed.iloc[split + 40, zeroed.columns.get_loc("Volume")] = 0.0
    with pytest.raises(ValueError, match="use kind='log1p' for counts"):
        _recommended().fit(X.iloc[:split], y.iloc[:split]).predict(zeroed.iloc[split:])
    model = _recommended({"Volume": "log1p"}).fit(X.iloc[:split], y.iloc[:split])
    as_is, with_zero = model.predict(X.iloc[split:]), model.predict(zeroed.iloc[split:])
    assert np.isfinite(with_zero).all()
    # The zero changes the forecasts from its own day on, never before (no look-ahead).
    np.testing.assert_array_equal(with_zero[:40], as_is[:40])
    assert with_zero[40] != as_is[40]
