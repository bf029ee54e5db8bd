"""The linear skip path: a fixed ridge model on the flattened window plus the LSTM's head."""

import os
import signal

import numpy as np
import optuna
import pytest
from conftest import FAST
from sklearn.base import clone
from sklearn.linear_model import Ridge

from tsforecast import LSTMRegressor, load_model, save_model
from tsforecast.model_selection import OptunaSearchCV


@pytest.fixture
def linear_data(rng):
    """Windows (300, 6, 2) and two targets: linear in the window plus noise."""
    X = rng.normal(size=(300, 6, 2)).astype(np.float32)
    flat = X.reshape(len(X), -1)
    y = np.column_stack([flat @ rng.normal(size=12), flat[:, -1] - flat[:, 0]])
    return X, y + 0.3 * rng.normal(size=y.shape)


def _flat(X):
    return X.reshape(len(X), -1).astype(np.float64)


def test_the_skip_path_is_sklearn_ridge(linear_data):
    X, y = linear_data
    model = LSTMRegressor(
        units=8, max_epochs=1, validation_fraction=0.0, linear_skip=True, random_state=0
    ).fit(X, y)
    ridge = Ridge(alpha=model.linear_skip_alpha_).fit(_flat(X), y)
    scale, mean = model.target_scale_[:, None], model.target_mean_
    # float32 buffers on the standardized targets: sklearn's float64 solution to 1e-6
    np.testing.assert_allclose(
        model.module_.skip_weight.numpy() * scale, ridge.coef_, rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        model.module_.skip_bias.numpy() * scale[:, 0] + mean, ridge.intercept_, atol=1e-5
    )


def test_the_skip_penalty_is_chosen_on_the_validation_windows(linear_data, rng):
    X, y = linear_data
    y = y + 3 * rng.normal(size=y.shape)  # few noisy training windows: shrinkage pays
    model = LSTMRegressor(
        units=8, max_epochs=1, validation_fraction=0.9, linear_skip=True, random_state=0
    ).fit(X, y)
    train, val = np.arange(30), np.arange(30, 300)

    def validation_error(alpha):
        ridge = Ridge(alpha=alpha).fit(_flat(X[train]), y[train])
        return np.sum((ridge.predict(_flat(X[val])) - y[val]) ** 2)

    chosen = model.linear_skip_alpha_
    # The grid's neighbours (a factor of sqrt(10) apart) and no shrinkage do worse on the
    # validation windows.
    for other in (chosen / 10**0.5, chosen * 10**0.5, 1e-9 * chosen):
        assert validation_error(chosen) < validation_error(other)


@pytest.mark.parametrize("validation_fraction", [0.0, 0.2])
def test_regressor_before_training_predicts_as_ridge(linear_data, validation_fraction):
    X, y = linear_data
    # A learning rate of 1e-12 leaves the starting weights unchanged to float precision.
    model = LSTMRegressor(
        units=8,
        max_epochs=1,
        learning_rate=1e-12,
        validation_fraction=validation_fraction,
        linear_skip=True,
        random_state=0,
    ).fit(X, y)
    assert model.n_timesteps_in_ == 6
    # Separate (not overlapping) windows: the validation tail is simply the last 20%.
    n_train = round(300 * (1 - validation_fraction))
    ridge = Ridge(alpha=model.linear_skip_alpha_).fit(_flat(X[:n_train]), y[:n_train])
    np.testing.assert_allclose(model.predict(X), ridge.predict(_flat(X)), rtol=1e-4, atol=1e-4)


def test_training_keeps_the_skip_and_the_head_learns_what_ridge_misses(rng):
    X = rng.normal(size=(400, 5, 1)).astype(np.float32)
    y = X[:, -1, 0] + np.abs(X[:, -2, 0])  # |x| is what no linear model can fit
    model = LSTMRegressor(
        units=16, max_epochs=40, learning_rate=0.01, batch_size=32, linear_skip=True, random_state=0
    ).fit(X[:300], y[:300])
    ridge = Ridge(alpha=model.linear_skip_alpha_).fit(_flat(X[:300]), y[:300])
    scale = model.target_scale_[0]
    # the skip path is a fixed buffer: still the ridge solution on the standardized target
    np.testing.assert_allclose(
        model.module_.skip_weight.numpy()[0] * scale, ridge.coef_, rtol=1e-5, atol=1e-6
    )
    assert [name for name, _ in model.module_.named_parameters() if "skip" in name] == []
    lstm_error = np.mean((model.predict(X[300:]) - y[300:]) ** 2)
    ridge_error = np.mean((ridge.predict(_flat(X[300:])) - y[300:]) ** 2)
    assert lstm_error < 0.5 * ridge_error


def test_quantiles_start_at_the_ridge_mean(linear_data):
    X, y = linear_data
    model = LSTMRegressor(
        units=4,
        max_epochs=1,
        learning_rate=1e-12,
        validation_fraction=0.0,
        loss="quantile",
        linear_skip=True,
    ).fit(X, y)
    quantiles = model.predict_quantiles(X[:5])
    assert quantiles.shape == (5, 2, 3)
    ridge = Ridge(alpha=model.linear_skip_alpha_).fit(_flat(X), y)
    for q in range(3):
        np.testing.assert_allclose(quantiles[:, :, q], ridge.predict(_flat(X[:5])), atol=1e-4)


def test_other_window_lengths_are_refused_and_state_survives(linear_data, tmp_path):
    X, y = linear_data
    model = LSTMRegressor(**FAST, linear_skip=True, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="linear skip path reads windows of 12 values"):
        model.predict(X[:, 1:])
    path = tmp_path / "model.pt"
    save_model(model, path)
    loaded = load_model(path)
    assert loaded.linear_skip_alpha_ == model.linear_skip_alpha_
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    # a refit without the skip forgets it
    model.set_params(linear_skip=False).fit(X, y)
    assert model.module_.skip_weight is None
    assert not hasattr(model, "linear_skip_alpha_") and not hasattr(model, "n_timesteps_in_")
    model.predict(X[:, 1:])  # any window length again


def test_token_input_ignores_the_skip(rng):
    tokens = rng.integers(1, 20, size=(60, 8))
    y = (tokens == 3).sum(axis=1).astype(float)
    model = LSTMRegressor(**FAST, embedding_dim=4, linear_skip=True, random_state=0)
    model.fit(tokens, y)
    assert model.module_.skip_weight is None and not hasattr(model, "linear_skip_alpha_")


def test_qlike_refuses_the_skip_and_leaves_the_model_as_it_was(linear_data):
    X, y = linear_data
    model = LSTMRegressor(**FAST, random_state=0).fit(X, y[:, 0])
    before = model.predict(X)
    model.set_params(loss="qlike", linear_skip=True)
    with pytest.raises(ValueError, match="linear_skip=True cannot be combined with loss='qlike'"):
        model.fit(X, y[:, 0] ** 2)
    np.testing.assert_array_equal(model.predict(X), before)
    assert model.loss_ == "mse" and not hasattr(model, "linear_skip_alpha_")


def test_onnx_export_reads_the_fitted_window_length(linear_data, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")  # the "onnx" extra, installed by make venv
    from tsforecast.export import to_onnx

    X, y = linear_data
    model = LSTMRegressor(**FAST, linear_skip=True, random_state=0).fit(X, y)
    path = tmp_path / "model.onnx"
    to_onnx(model, path)
    session = onnxruntime.InferenceSession(str(path))
    (out,) = session.run(None, {"X": X[:20]})
    np.testing.assert_allclose(out, model.predict(X[:20]), rtol=1e-4, atol=1e-5)


def _skip_model(**params):
    """A small validated skip model: the ridge start competes for the best epoch."""
    defaults = {"units": 8, "validation_fraction": 0.2, "linear_skip": True, "random_state": 0}
    return LSTMRegressor(**{**defaults, **params})


def _standardized_mse(model, X, y):
    """The training loss's metric: MSE of the standardized targets, averaged over them."""
    return float(np.mean(((model.predict(X) - y) / model.target_scale_) ** 2))


def test_the_ridge_start_is_kept_when_no_epoch_beats_it_on_validation(linear_data):
    """A linear target: ridge is the best model, and training at a reckless learning rate
    only moves away from it. Old code returned the best trained epoch, worse than ridge on
    the validation windows; now the start competes and is kept (``best_epoch_ == -1``)."""
    X, y = linear_data
    model = _skip_model(max_epochs=3, learning_rate=0.5).fit(X, y)
    ridge = Ridge(alpha=model.linear_skip_alpha_).fit(_flat(X[:240]), y[:240])
    assert model.best_epoch_ == -1
    assert all(r["val_loss"] > model.best_loss_ for r in model.history_)
    np.testing.assert_allclose(model.predict(X), ridge.predict(_flat(X)), rtol=1e-4, atol=1e-4)
    # patience counts from the start: two epochs that do not beat it stop the fit
    stopped = _skip_model(max_epochs=3, patience=2, learning_rate=0.5).fit(X, y)
    assert stopped.best_epoch_ == -1 and stopped.n_iter_ == 2


@pytest.mark.parametrize("learning_rate", [1e-3, 1e-2, 0.1, 0.5])
def test_a_skip_model_never_ends_worse_than_ridge_on_its_validation_windows(
    linear_data, learning_rate
):
    X, y = linear_data
    model = _skip_model(max_epochs=4, learning_rate=learning_rate).fit(X, y)
    ridge = Ridge(alpha=model.linear_skip_alpha_).fit(_flat(X[:240]), y[:240])
    ridge_loss = float(
        np.mean(((ridge.predict(_flat(X[240:])) - y[240:]) / model.target_scale_) ** 2)
    )
    assert _standardized_mse(model, X[240:], y[240:]) <= ridge_loss * (1 + 1e-4)
    assert model.best_loss_ <= ridge_loss * (1 + 1e-4)


def test_a_warm_started_skip_model_keeps_what_it_had_unless_an_epoch_beats_it(linear_data):
    """The warm fit starts from the weights the first fit kept, and ``best_epoch_`` names
    the epoch they came from (old code: the first fit's last epoch, whose weights the model
    did not hold when the first fit had kept an earlier one or the ridge start)."""
    X, y = linear_data
    model = _skip_model(max_epochs=2, learning_rate=0.5).fit(X, y)
    before, kept = model.predict(X), model.best_epoch_
    assert kept == -1  # the first fit kept its ridge start, not its last epoch (1)
    model.set_params(warm_start=True, learning_rate=0.5).fit(X, y)
    assert model.n_iter_ == 4
    assert model.best_epoch_ == kept  # epochs 2 and 3 did not beat the model they started from
    np.testing.assert_array_equal(model.predict(X), before)


@pytest.mark.parametrize("group_folds", [False, True])
def test_pruning_judges_the_weights_a_skip_fit_would_keep(linear_data, group_folds):
    """Old code reported each epoch's own validation loss, up to 6.6x worse than the ridge
    start the fit returns: a pruner could stop the trial that would deliver ridge."""
    X, y = linear_data
    model = _skip_model(max_epochs=4, learning_rate=0.5)
    search = OptunaSearchCV(
        model,
        {"units": optuna.distributions.CategoricalDistribution([8])},
        n_trials=1,
        cv=2,
        pruner=optuna.pruners.NopPruner(),
        group_folds=group_folds,
    ).fit(X, y)
    reported = search.study_.trials[0].intermediate_values
    assert sorted(reported) == list(range(8))  # step: fold * max_epochs + epoch
    for fold, n_train in enumerate([100, 200]):  # TimeSeriesSplit(2) of 300 samples
        alone = clone(model).fit(X[:n_train], y[:n_train])
        assert alone.best_epoch_ == -1  # every fold keeps its ridge start
        values = [reported[fold * 4 + epoch] for epoch in range(4)]
        np.testing.assert_allclose(values, -alone.best_loss_, rtol=1e-4 if group_folds else 1e-6)


def test_interrupted_before_a_whole_epoch_a_skip_model_stays_unfitted(linear_data):
    import lightning.pytorch as pl

    class _InterruptAtStart(pl.Callback):  # Ctrl+C in the first epoch
        def on_train_epoch_start(self, trainer, pl_module):
            os.kill(os.getpid(), signal.SIGINT)

    X, y = linear_data
    model = _skip_model(trainer_kwargs={"callbacks": [_InterruptAtStart()]})
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert not hasattr(model, "module_") and not hasattr(model, "best_epoch_")


def test_a_skip_fit_diverging_in_its_first_epoch_keeps_the_ridge_start(linear_data):
    X, y = linear_data
    with pytest.warns(RuntimeWarning, match="the network this fit started from"):
        model = _skip_model(max_epochs=3, learning_rate=1e6).fit(X, y)
    ridge = Ridge(alpha=model.linear_skip_alpha_).fit(_flat(X[:240]), y[:240])
    assert model.best_epoch_ == -1
    np.testing.assert_allclose(model.predict(X), ridge.predict(_flat(X)), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed"])
def test_the_start_is_scored_as_the_epochs_are(linear_data, precision):
    """Unchanged weights (a learning rate of 1e-30) score the same before and after an
    epoch: the start is scored in the trainer's precision (old code: in float32 outside
    it, 0.08% apart under bf16, enough to decide a close race)."""
    X, y = linear_data
    model = _skip_model(max_epochs=1, learning_rate=1e-30, precision=precision).fit(X, y)
    assert model.best_loss_ == model.history_[0]["val_loss"]
    assert model.best_epoch_ == -1  # a tie does not replace the start
