"""LSTMEnsembleRegressor: k members trained together equal k separate fits; combination,
round trips (pickle, model files, ONNX), the fit transaction."""

import os
import pickle
import signal

import lightning.pytorch as pl
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from tsforecast import (
    LSTMClassifier,
    LSTMEnsembleRegressor,
    LSTMRegressor,
    SlidingWindowTransformer,
    load_model,
    save_model,
)
from tsforecast.export import to_onnx

SMALL = {"units": 4, "max_epochs": 3, "batch_size": 32}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(160, 6, 2)).astype("float32")
    y = X[:, -1, 0] + 0.5 * X[:, -2, 1]
    return X, y


def _separate(ensemble, X, y):
    template = ensemble.estimator
    return [clone(template).set_params(random_state=int(s)).fit(X, y) for s in ensemble.seeds_]


@pytest.mark.parametrize(
    ("group_members", "params"),
    [
        (True, {}),
        (False, {}),
        (True, {"num_layers": 2, "dropout": 0.2}),
        (True, {"n_outputs": None, "loss": "mae", "validation_fraction": 0.2, "patience": 1}),
    ],
    ids=["grouped", "one-by-one", "grouped-stacked-dropout", "grouped-multi-output-stopping"],
)
def test_members_equal_separately_trained_networks(data, group_members, params):
    X, y = data
    multi = "n_outputs" in params
    params = {k: v for k, v in params.items() if k != "n_outputs"}
    target = np.column_stack([y, -y]) if multi else y
    ensemble = LSTMEnsembleRegressor(
        LSTMRegressor(**SMALL, **params), n_members=3, group_members=group_members, random_state=0
    ).fit(X, target)
    separate = _separate(ensemble, X, target)
    # Dropout masks are drawn per group, so members trained together differ from separate fits
    # by more than rounding there; without dropout they agree to float rounding.
    tol = 0 if not group_members else (None if "dropout" in params else 1e-5)
    for member, alone in zip(ensemble.estimators_, separate, strict=True):
        assert member.n_iter_ == alone.n_iter_
        if tol is not None:
            np.testing.assert_allclose(member.predict(X), alone.predict(X), rtol=0, atol=tol)
    forecasts = np.stack([m.predict(X) for m in ensemble.estimators_])
    np.testing.assert_array_equal(ensemble.predict(X), np.median(forecasts, axis=0))
    assert ensemble.predict(X).shape == target.shape


def test_members_have_distinct_reproducible_seeds(data):
    X, y = data
    a, b = (
        LSTMEnsembleRegressor(LSTMRegressor(**SMALL), n_members=4, random_state=7).fit(X, y)
        for _ in range(2)
    )
    assert len(set(a.seeds_.tolist())) == 4
    np.testing.assert_array_equal(a.seeds_, b.seeds_)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    forecasts = np.stack([m.predict(X) for m in a.estimators_])
    assert np.ptp(forecasts, axis=0).max() > 1e-4  # the members differ
    # The template is left untouched: its random_state is not the members'.
    assert a.estimator.random_state is None


def test_mean_combination_and_quantiles(data):
    X, y = data
    ensemble = LSTMEnsembleRegressor(
        LSTMRegressor(**SMALL, loss="quantile", quantiles=(0.1, 0.5, 0.9)),
        n_members=3,
        combine="mean",
        random_state=0,
    ).fit(X, y)
    members = ensemble.estimators_
    np.testing.assert_allclose(
        ensemble.predict(X), np.mean([m.predict(X) for m in members], axis=0), rtol=1e-12
    )
    quantiles = ensemble.predict_quantiles(X)
    np.testing.assert_allclose(
        quantiles, np.mean([m.predict_quantiles(X) for m in members], axis=0), rtol=1e-12
    )
    assert quantiles.shape == (len(X), 3)
    assert (np.diff(quantiles, axis=1) >= 0).all()


def test_predict_quantiles_needs_a_quantile_model(data):
    X, y = data
    ensemble = LSTMEnsembleRegressor(LSTMRegressor(**SMALL), n_members=2).fit(X, y)
    with pytest.raises(ValueError, match="loss='quantile'"):
        ensemble.predict_quantiles(X)


def test_window_scaled_members_train_one_by_one_and_equal_separate_fits():
    rng = np.random.default_rng(1)
    levels = np.exp(rng.normal(size=(200, 1, 1)) * 3)
    X = (levels * (1 + 0.1 * rng.normal(size=(200, 12, 1)))).astype("float32")
    y = X[:, -1, 0] * 1.01
    template = LSTMRegressor(**SMALL, window_scaling="robust", target_feature=0)
    ensemble = LSTMEnsembleRegressor(template, n_members=2, random_state=0).fit(X, y)
    for member, alone in zip(ensemble.estimators_, _separate(ensemble, X, y), strict=True):
        np.testing.assert_array_equal(member.predict(X), alone.predict(X))


def test_in_a_pipeline_pickle_and_model_file_round_trips(tmp_path):
    series = np.sin(np.arange(300) / 5) + np.arange(300) / 100
    pipeline = make_pipeline(
        SlidingWindowTransformer(window=8),
        LSTMEnsembleRegressor(LSTMRegressor(**SMALL), n_members=3, random_state=0),
    )
    X, y = series[:-1].reshape(-1, 1), series[1:]
    pipeline.fit(X, y)
    expected = pipeline.predict(X)
    assert np.isfinite(expected[7:]).all()
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(pipeline)).predict(X), expected)
    save_model(pipeline, tmp_path / "ensemble.pt")
    loaded = load_model(tmp_path / "ensemble.pt")
    assert isinstance(loaded[-1], LSTMEnsembleRegressor)
    np.testing.assert_array_equal(loaded.predict(X), expected)
    np.testing.assert_array_equal(loaded[-1].seeds_, pipeline[-1].seeds_)


@pytest.mark.parametrize(("combine", "n_members"), [("median", 4), ("median", 3), ("mean", 2)])
def test_onnx_graph_predicts_like_the_ensemble(data, tmp_path, combine, n_members):
    onnxruntime = pytest.importorskip("onnxruntime")
    X, y = data
    ensemble = LSTMEnsembleRegressor(
        LSTMRegressor(**SMALL), n_members=n_members, combine=combine, random_state=0
    ).fit(X, y)
    to_onnx(ensemble, tmp_path / "ensemble.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "ensemble.onnx"))
    served = session.run(None, {"X": X[:50]})[0]
    np.testing.assert_allclose(served, ensemble.predict(X[:50]), rtol=1e-5, atol=1e-6)


def test_linear_skip_members_over_several_features_equal_separate_fits():
    # The grouped skip path reads each member's features of every time step; a layout error
    # shows only with more than one feature. The target is not linear in the window: where the
    # ridge start fits it exactly, the gradients are rounding noise that Adam's normalised
    # step magnifies to the learning rate, for separate and grouped fits alike.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(160, 6, 3)).astype("float32")
    y = X[:, -1, 0] + 0.5 * X[:, -2, 2] + np.sin(3 * X[:, -3, 1]) + 0.1 * rng.normal(size=160)
    template = LSTMRegressor(**SMALL, linear_skip=True)
    ensemble = LSTMEnsembleRegressor(template, n_members=2, group_members=True, random_state=0)
    ensemble.fit(X, y)
    for member, alone in zip(ensemble.estimators_, _separate(ensemble, X, y), strict=True):
        np.testing.assert_allclose(member.predict(X), alone.predict(X), rtol=0, atol=1e-5)


def test_a_bool_member_count_counts_as_an_int_as_in_every_integer_parameter(data):
    # scikit-learn's Integral constraint takes True as 1 (as LSTMRegressor(num_layers=True)
    # does); numpy's randint used to fail on it without naming n_members.
    X, y = data
    ensemble = LSTMEnsembleRegressor(LSTMRegressor(**SMALL), n_members=True, random_state=0)
    assert len(ensemble.fit(X, y).estimators_) == 1


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"estimator": LSTMClassifier()}, "'estimator' parameter"),
        ({"estimator": make_pipeline(LSTMRegressor())}, "'estimator' parameter"),
        ({"n_members": 0}, "'n_members' parameter"),
        ({"combine": "max"}, "'combine' parameter"),
        ({"group_members": "yes"}, "'group_members' parameter"),
    ],
)
def test_bad_parameters_are_refused_by_name(data, params, match):
    X, y = data
    with pytest.raises(InvalidParameterError, match=match):
        LSTMEnsembleRegressor(**params).fit(X, y)


def test_a_checkpoint_path_shared_by_the_members_is_refused(data, tmp_path):
    X, y = data
    template = LSTMRegressor(**SMALL, checkpoint_path=str(tmp_path / "run.ckpt"))
    ensemble = LSTMEnsembleRegressor(template, n_members=2)
    with pytest.raises(ValueError, match="share one checkpoint file"):
        ensemble.fit(X, y)
    assert not hasattr(ensemble, "estimators_")
    assert list(tmp_path.iterdir()) == []


def _state(ensemble):
    return {
        "members": list(ensemble.estimators_),
        "seeds": ensemble.seeds_.copy(),
        "forecast": ensemble.predict(np.zeros((3, 6, 2), dtype="float32")),
    }


def test_a_failed_refit_leaves_the_ensemble_as_it_was(data):
    X, y = data
    ensemble = LSTMEnsembleRegressor(LSTMRegressor(**SMALL), n_members=2, random_state=0)
    before = _state(ensemble.fit(X, y))
    bad = X.copy()
    bad[3, 2, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ensemble.set_params(random_state=1).fit(bad, y)
    after = _state(ensemble)
    assert after["members"] == before["members"]  # the same fitted objects
    np.testing.assert_array_equal(after["seeds"], before["seeds"])
    np.testing.assert_array_equal(after["forecast"], before["forecast"])


class _InterruptAt(pl.Callback):
    """Send SIGINT (as Ctrl+C would) at the start of one epoch of one member's fit."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.current_epoch == self.epoch and batch_idx == 0:
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_before_every_member_has_an_epoch_leaves_the_ensemble_unchanged(data):
    X, y = data
    ensemble = LSTMEnsembleRegressor(LSTMRegressor(**SMALL), n_members=2, random_state=0)
    before = _state(ensemble.fit(X, y))
    interrupted = LSTMRegressor(**SMALL, trainer_kwargs={"callbacks": [_InterruptAt(0)]})
    with pytest.raises(KeyboardInterrupt):
        ensemble.set_params(estimator=interrupted, random_state=1).fit(X, y)
    after = _state(ensemble)
    assert after["members"] == before["members"]
    np.testing.assert_array_equal(after["forecast"], before["forecast"])


def test_ctrl_c_while_members_train_one_by_one_leaves_a_new_ensemble_unfitted(data):
    X, y = data
    # Callbacks keep the members from training together: the first member is interrupted in
    # its epoch 1 (it keeps epoch 0, as a single fit does), the second never trains, so the
    # ensemble (which needs every member) stays unfitted.
    interrupted = LSTMRegressor(**SMALL, trainer_kwargs={"callbacks": [_InterruptAt(1)]})
    ensemble = LSTMEnsembleRegressor(interrupted, n_members=2, random_state=0)
    with (
        pytest.raises(KeyboardInterrupt),
        pytest.warns(UserWarning, match="keeps the weights of epoch 0"),
    ):
        ensemble.fit(X, y)
    assert not hasattr(ensemble, "estimators_")
