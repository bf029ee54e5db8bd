"""Backtests in O(test): lookback inference, forecasts equal to the full-history algorithm,
predict calls sized by the test period, fits fanned out through joblib (Dask)."""

from typing import ClassVar

import joblib
import numpy as np
import pytest
from conftest import FAST
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from tsforecast import LSTMRegressor, SlidingWindowTransformer, make_supervised
from tsforecast.baselines import DriftForecaster, NaiveForecaster
from tsforecast.compose import RelativeTargetRegressor
from tsforecast.metrics import diebold_mariano
from tsforecast.model_selection import WalkForwardSplit, backtest, infer_lookback
from tsforecast.preprocessing import PanelWindowTransformer, ReturnsTransformer


def _full_history_forecasts(estimator, X, y, cv, refit):
    """The algorithm before the O(test) rewrite: predict from the training start each time."""
    every = 1 if refit is True else refit or cv.get_n_splits()
    out, model, first = [], None, 0
    for k, (train, test) in enumerate(cv.split(X)):
        if k % every == 0:
            first, end = train[0], train[-1] + 1
            model = clone(estimator).fit(X.iloc[first:end], y.iloc[first:end])
        pred = np.asarray(model.predict(X.iloc[first : test[-1] + 1]))
        out.append(pred[test - first].reshape(len(test), -1))
    return np.concatenate(out)


def _lstm_pipeline():
    return make_pipeline(
        ReturnsTransformer(kind="difference"),
        StandardScaler(),
        SlidingWindowTransformer(window=7),
        LSTMRegressor(**FAST, random_state=0),
    )


@pytest.mark.parametrize(
    ("make_model", "horizon", "cv", "refit"),
    [
        (_lstm_pipeline, [1, 2], WalkForwardSplit(3, horizon=2, gap=1, test_size=25), True),
        (_lstm_pipeline, 1, WalkForwardSplit(4, test_size=20, max_train_size=120), False),
        (
            lambda: make_pipeline(SlidingWindowTransformer(window=12), DriftForecaster()),
            3,
            WalkForwardSplit(5, horizon=3, test_size=15),
            2,
        ),
    ],
)
def test_backtest_forecasts_unchanged_by_the_o_test_rewrite(
    series_frame, make_model, horizon, cv, refit
):
    X, y = make_supervised(series_frame, target="price", horizon=horizon)
    expected = _full_history_forecasts(make_model(), X, y, cv, refit)
    result = backtest(make_model(), X, y, cv=cv, refit=refit)
    columns = [c for c in result.predictions.columns if c.startswith("y_pred")]
    np.testing.assert_allclose(
        result.predictions[columns].to_numpy(), expected, rtol=1e-5, atol=1e-7
    )
    # And the same forecasts through the explicit full-history path.
    full = backtest(make_model(), X, y, cv=cv, refit=refit, lookback=None)
    np.testing.assert_allclose(full.predictions[columns].to_numpy(), expected, rtol=1e-5)


class CountingNaive(NaiveForecaster):
    """Counts fits and predicted rows (class attributes: clones share them)."""

    calls: ClassVar[list[str]] = []

    def fit(self, X, y):
        CountingNaive.calls.append("fit")
        return super().fit(X, y)

    def predict(self, X):
        CountingNaive.calls.append(f"predict {len(X)}")
        return super().predict(X)


@pytest.mark.parametrize(
    ("refit", "lookback", "expected"),
    [
        (True, 0, ["fit", "predict 10"] * 4),
        (True, 3, ["fit", "predict 13"] * 4),
        (False, 3, ["fit", "predict 43"]),  # one pass over the test rows
        (2, 0, ["fit", "predict 20", "fit", "predict 20"]),
        # Unknown memory (a class from outside tsforecast): predict from the training start.
        (
            True,
            "auto",
            ["fit", "predict 30", "fit", "predict 40", "fit", "predict 50", "fit", "predict 60"],
        ),
    ],
)
def test_backtest_predicts_the_test_rows_and_their_lookback_only(refit, lookback, expected):
    CountingNaive.calls = []
    X, y = np.arange(60.0).reshape(-1, 1), np.arange(1.0, 61.0)
    cv = WalkForwardSplit(4, test_size=10)
    result = backtest(CountingNaive(), X, y, cv=cv, refit=refit, lookback=lookback)
    assert CountingNaive.calls == expected
    np.testing.assert_allclose(result.predictions["y_pred"], np.arange(20.0, 60.0))


def test_backtest_cost_does_not_grow_with_the_history():
    """Predicted rows are the same for a 100-row and a 10,000-row history."""
    for n in (100, 10_000):
        CountingNaive.calls = []
        X, y = np.arange(float(n)).reshape(-1, 1), np.arange(1.0, n + 1.0)
        backtest(CountingNaive(), X, y, cv=WalkForwardSplit(3, test_size=5), lookback=4)
        assert CountingNaive.calls == ["fit", "predict 9"] * 3


def test_infer_lookback_of_known_and_unknown_steps():
    window = SlidingWindowTransformer(window=30)
    assert infer_lookback(make_pipeline(ReturnsTransformer(), StandardScaler(), window)) == 30
    assert infer_lookback(make_pipeline(StandardScaler(), "passthrough", Ridge())) == 0
    relative = RelativeTargetRegressor(make_pipeline(window, LSTMRegressor()), reference=0)
    assert infer_lookback(relative) == 29
    assert infer_lookback(TransformedTargetRegressor(make_pipeline(window, Ridge()))) == 29
    assert infer_lookback(TransformedTargetRegressor()) == 0
    # A function may read any rows; panel rows interleave series; a search may change window.
    assert infer_lookback(make_pipeline(FunctionTransformer(np.cumsum), Ridge())) is None
    assert infer_lookback(PanelWindowTransformer(group="id", window=3)) is None
    search = GridSearchCV(make_pipeline(window, Ridge()), {"slidingwindowtransformer__window": [5]})
    assert infer_lookback(search) is None
    assert infer_lookback(CountingNaive()) is None


@pytest.mark.parametrize("lookback", [-1, 1.5, "all", True])
def test_backtest_rejects_a_bad_lookback(lookback):
    X, y = np.arange(30.0).reshape(-1, 1), np.arange(30.0)
    with pytest.raises(ValueError, match="lookback must be"):
        backtest(NaiveForecaster(), X, y, cv=WalkForwardSplit(2, test_size=5), lookback=lookback)


def _lag_ridge(window):
    return make_pipeline(
        StandardScaler(),
        SlidingWindowTransformer(window=window),
        FunctionTransformer(lambda w: w.reshape(len(w), -1)),
        Ridge(alpha=1.0),
    )


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)  # series_frame is only read
@given(
    fold=st.integers(0, 3),
    shift=st.floats(-5, 5).filter(lambda v: abs(v) > 1e-3),
    refit=st.sampled_from([True, False, 2]),
)
def test_property_o_test_backtest_never_looks_ahead(series_frame, fold, shift, refit):
    """Changing anything after a fold's test period leaves that fold's forecasts unchanged,
    and the forecasts equal the full-history ones."""
    X, y = make_supervised(series_frame, target="price", horizon=1)
    cv = WalkForwardSplit(4, test_size=20)
    before = backtest(_lag_ridge(5), X, y, cv=cv, refit=refit, lookback=4).predictions
    full = backtest(_lag_ridge(5), X, y, cv=cv, refit=refit, lookback=None).predictions
    np.testing.assert_allclose(before["y_pred"], full["y_pred"], rtol=1e-10)
    end = before.index[before["fold"] == fold][-1]
    X_changed, y_changed = X.copy(), y.copy()
    X_changed.loc[X.index > end] += shift
    y_changed.loc[X.index >= end] += shift
    after = backtest(_lag_ridge(5), X_changed, y_changed, cv=cv, refit=refit, lookback=4)
    kept = before["fold"] <= fold
    np.testing.assert_allclose(after.predictions.loc[kept, "y_pred"], before.loc[kept, "y_pred"])


def test_backtest_fits_on_a_dask_cluster_equal_serial(series_frame):
    import distributed  # extra "dask", installed by `make venv`

    X, y = make_supervised(series_frame, target="price", horizon=1)
    cv = WalkForwardSplit(4, test_size=20)
    model = make_pipeline(StandardScaler(), SlidingWindowTransformer(window=12), DriftForecaster())
    serial = backtest(model, X, y, cv=cv)
    # Threads keep the test cheap; LSTM fits need worker processes (see the README).
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
        distributed.get_task_stream(client) as stream,
        joblib.parallel_config(backend="dask"),
    ):
        on_dask = backtest(model, X, y, cv=cv)
    assert len(stream.data) >= 1  # the fits ran as Dask tasks
    np.testing.assert_array_equal(on_dask.predictions.to_numpy(), serial.predictions.to_numpy())
    for fitted, reference in zip(on_dask.estimators, serial.estimators, strict=True):
        np.testing.assert_array_equal(fitted[-1].drift_, reference[-1].drift_)


def test_backtest_n_jobs_equals_serial(series_frame):
    X, y = make_supervised(series_frame, target="price", horizon=1)
    cv = WalkForwardSplit(3, test_size=20)
    model = make_pipeline(SlidingWindowTransformer(window=12), DriftForecaster())
    serial = backtest(model, X, y, cv=cv)
    with joblib.parallel_config(backend="threading"):
        parallel = backtest(model, X, y, cv=cv, n_jobs=2)
    np.testing.assert_array_equal(parallel.predictions.to_numpy(), serial.predictions.to_numpy())


def test_backtest_reports_a_baseline_on_the_same_folds(series_frame):
    X, y = make_supervised(series_frame, target="price", horizon=1)
    cv = WalkForwardSplit(3, test_size=20)
    naive = make_pipeline(SlidingWindowTransformer(window=3), NaiveForecaster())
    result = backtest(_lstm_pipeline(), X, y, cv=cv, refit=False, baseline=naive)
    preds = result.predictions
    assert preds.columns.tolist() == ["fold", "y_true", "y_pred", "y_baseline"]
    np.testing.assert_allclose(preds["y_baseline"], X.loc[preds.index, "price"])
    for k, fold in preds.groupby("fold"):
        errors = fold["y_true"] - fold["y_baseline"]
        assert result.metrics.loc[k, "baseline_mae"] == pytest.approx(errors.abs().mean())
        assert result.metrics.loc[k, "mae"] == pytest.approx(
            (fold["y_true"] - fold["y_pred"]).abs().mean()
        )
    # Diebold-Mariano of all test rows against the baseline, with the splitter's horizon.
    expected = diebold_mariano(
        preds["y_true"] - preds["y_pred"], preds["y_true"] - preds["y_baseline"], horizon=1
    )
    assert result.diebold_mariano == pytest.approx(tuple(expected))
    # The model's own forecasts do not depend on the baseline.
    alone = backtest(_lstm_pipeline(), X, y, cv=cv, refit=False)
    np.testing.assert_allclose(preds["y_pred"], alone.predictions["y_pred"])
    assert alone.diebold_mariano is None


def test_backtest_refuses_folds_that_test_the_past():
    from sklearn.model_selection import KFold

    X, y = np.arange(30.0).reshape(-1, 1), np.arange(30.0)
    with pytest.raises(ValueError, match="fold 0 tests from row 0 but trains up to row 29"):
        backtest(NaiveForecaster(), X, y, cv=KFold(3))
