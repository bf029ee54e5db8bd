"""The engine's closed doors: the Trainer options it honours, one divergence rule, nothing
raised after a commit, folds committed all or none (issues 20 and 22)."""

import warnings
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from conftest import FAST
from sklearn.base import clone
from test_fit_transaction import _InterruptAtStep

from tsforecast import LSTMClassifier, LSTMRegressor
from tsforecast._engine.config import REFUSED_TRAINER_OPTIONS, TRAINER_OPTIONS
from tsforecast.estimators._together import fit_together, grouping_blocker_of


def _state(model):
    return {k: v.clone() for k, v in model.module_.state_dict().items()}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("accumulate_grad_batches", 2),
        ("barebones", True),
        ("check_val_every_n_epoch", 2),
        ("val_check_interval", 3),
        ("limit_val_batches", 1),
        ("max_time", "00:00:00:01"),
        ("max_steps", 5),
        ("fast_dev_run", True),
        ("min_epochs", 5),
        ("no_such_option", 1),
    ],
)
def test_trainer_options_the_engine_does_not_honour_are_refused_by_name(windows_data, key, value):
    """Old code: accumulate_grad_batches and barebones failed inside Lightning with messages
    about manual optimization and log_every_n_steps; check_val_every_n_epoch=2 recorded the
    previous epoch's val_loss for unvalidated epochs, val_check_interval the loss of mid-epoch
    weights, max_time/max_steps/fast_dev_run a cut epoch as whole."""
    X, y = windows_data
    model = LSTMRegressor(**FAST, random_state=0).fit(X, y)
    before = _state(model)
    model.set_params(trainer_kwargs={key: value}, warm_start=True)
    with pytest.raises(ValueError, match=rf"trainer_kwargs\['{key}'\]"):
        model.fit(X, y)
    assert model.n_iter_ == FAST["max_epochs"]
    for name, tensor in _state(model).items():
        torch.testing.assert_close(tensor, before[name], rtol=0, atol=0)


def test_every_trainer_option_is_documented_as_honoured_or_refused():
    assert not set(TRAINER_OPTIONS) & set(REFUSED_TRAINER_OPTIONS)
    docs = Path(__file__).parent.parent / "docs" / "guide"
    text = "".join(page.read_text() for page in docs.glob("*.md"))
    for key in [*TRAINER_OPTIONS, *REFUSED_TRAINER_OPTIONS]:
        assert f"`{key}`" in text, key


class _CountSteps(pl.Callback):
    def __init__(self):
        self.steps = 0

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        self.steps += 1


def test_limit_train_batches_counts_optimizer_steps_of_whole_epochs(windows_data):
    X, y = windows_data
    counter = _CountSteps()
    model = LSTMRegressor(
        **{**FAST, "batch_size": 8},
        random_state=0,
        trainer_kwargs={"limit_train_batches": 3, "callbacks": [counter]},
    ).fit(X, y)
    assert counter.steps == 3 * FAST["max_epochs"]
    assert [r["epoch"] for r in model.history_] == list(range(FAST["max_epochs"]))


def test_a_checkpoint_resumes_only_under_the_same_computing_trainer_options(windows_data, tmp_path):
    """Old code: the fingerprint left trainer_kwargs out, so a run interrupted under
    limit_train_batches=2 resumed under other settings and matched neither clean run."""
    X, y = windows_data
    params = {**FAST, "max_epochs": 4, "batch_size": 8, "random_state": 0}
    path = tmp_path / "run.ckpt"
    stop = [_InterruptAtStep(epoch=2, batch=0)]
    interrupted = {"limit_train_batches": 2, "callbacks": stop}
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="resumes"):
        LSTMRegressor(**params, checkpoint_path=path, trainer_kwargs=interrupted).fit(X, y)
    with pytest.raises(ValueError, match="other parameters or other data"):
        LSTMRegressor(**params, checkpoint_path=path).fit(X, y)
    same = {"limit_train_batches": 2}
    resumed = LSTMRegressor(**params, checkpoint_path=path, trainer_kwargs=same).fit(X, y)
    clean = LSTMRegressor(**params, trainer_kwargs=same).fit(X, y)
    np.testing.assert_array_equal(resumed.predict(X), clean.predict(X))


class _ShiftHead(pl.Callback):
    """At the start of one epoch, add ``shift`` to the head's bias: the loss jumps."""

    def __init__(self, epoch, shift):
        self.epoch, self.shift = epoch, shift

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.epoch:
            with torch.no_grad():
                pl_module.network.head.bias += self.shift


def test_an_explosion_after_the_loss_fell_is_divergence(windows_data):
    """Old code measured against the first loss: a loss going from its lowest (about 0.1)
    to about 400 (4e3 x the lowest, less than 1e4 x the first, about 1) passed, and the last
    weights were kept."""
    X, y = windows_data
    params = {**FAST, "max_epochs": 8, "learning_rate": 0.02, "random_state": 0}
    model = LSTMRegressor(**params, trainer_kwargs={"callbacks": [_ShiftHead(7, 20.0)]})
    with pytest.warns(RuntimeWarning, match=r"exploded in epoch 7; restored .* epoch \(6\)"):
        model.fit(X, y)
    assert model.history_[6]["train_loss"] < 0.5
    assert model.history_[7]["train_loss"] > 100
    assert model.best_epoch_ == 6
    assert model.score(X, y) > 0.5


def test_a_linear_skip_on_an_almost_linear_target_is_no_divergence():
    """Old code: the ridge start's loss (about 0) made any later loss an explosion:
    "training diverged (epoch 0)". pytest turns any warning into an error here."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 12, 3)).astype(np.float32)
    y = X[:, -1, 0] + 0.5 * X[:, -3, 1] + 1e-4 * rng.normal(size=400)
    model = LSTMRegressor(units=16, max_epochs=3, linear_skip=True, random_state=0).fit(X, y)
    assert model.n_iter_ == 3
    assert model.score(X, y) > 0.99


def test_a_warning_turned_error_leaves_the_estimator_unchanged(windows_data):
    """Old code warned after the commit: under warnings-as-errors ``fit`` raised with the new
    weights and n_iter_ already committed (2 -> 4 epochs)."""
    X, y = windows_data
    model = LSTMRegressor(**{**FAST, "max_epochs": 2}, random_state=0).fit(X, y)
    before = _state(model)
    model.set_params(
        warm_start=True, trainer_kwargs={"callbacks": [_ShiftHead(1, 1e6)]}, max_epochs=2
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="exploded"):
            model.fit(X, y)
    assert model.n_iter_ == 2
    for name, tensor in _state(model).items():
        torch.testing.assert_close(tensor, before[name], rtol=0, atol=0)


def test_folds_trained_together_are_committed_all_or_none(windows_data):
    """Old code committed fold by fold: a fold diverging in its first epoch left the folds
    before it fitted."""
    X, y = windows_data
    bad = y.copy()
    bad[150] = 1e19  # its squared error overflows float32: a non-finite loss
    model = LSTMRegressor(**FAST, standardize_target=False, random_state=0)
    models = [clone(model), clone(model)]
    with pytest.raises(ValueError, match="diverged"):
        fit_together(models, [X[:120], X], [y[:120], bad])
    assert not any(hasattr(m, "module_") for m in models)


def test_folds_that_cannot_group_keep_their_seeds():
    """A class missing from one fold makes the networks differ in shape: the folds are then
    trained one by one. Old code refitted them, drawing new seeds from a RandomState, so
    group_folds=True differed from False by up to 0.1 in probability."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 5, 2)).astype(np.float32)
    labels = np.where(X[:, -1, 0] > 0.5, 2, (X[:, -1, 0] > -0.3).astype(int))
    first = labels[:100] != 2  # the first fold has no class 2
    Xs, ys = [X[:100][first], X], [labels[:100][first], labels]

    def make():
        return LSTMClassifier(units=4, max_epochs=2, random_state=np.random.RandomState(3))

    together = fit_together([make(), make()], Xs, ys)
    separate = [make().fit(X_j, y_j) for X_j, y_j in zip(Xs, ys, strict=True)]
    for a, b in zip(together, separate, strict=True):
        np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ the hostile try's findings


def test_a_fractional_limit_train_batches_is_not_grouped():
    """A fraction of a group's lockstep epoch is not a fraction of each fold's own steps: old
    grouped backtests gave the smallest fold other forecasts (off by up to 1.0)."""
    make = lambda: LSTMRegressor(trainer_kwargs={"limit_train_batches": 0.5})  # noqa: E731
    assert "limit_train_batches" in grouping_blocker_of([make(), make()])
    whole = lambda: LSTMRegressor(trainer_kwargs={"limit_train_batches": 2})  # noqa: E731
    assert grouping_blocker_of([whole(), whole()]) is None


def test_callbacks_and_loggers_watch_one_fit_so_they_are_not_grouped():
    """A group would show them one fold's copy, per-fold metric names and the group's steps
    (EarlyStopping(monitor="train_loss") failed in a default backtest)."""
    for options in ({"callbacks": [pl.Callback()]}, {"logger": False}):
        models = [LSTMRegressor(trainer_kwargs=options) for _ in range(2)]
        assert "watch one fit" in grouping_blocker_of(models)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("logger", "csv"),
        ("limit_train_batches", -1),
        ("limit_train_batches", 2.5),
        ("limit_train_batches", "all"),
        ("num_nodes", 0),
        ("strategy", 3),
    ],
)
def test_bad_values_of_honoured_trainer_options_are_refused_by_name(windows_data, key, value):
    """Old code: Lightning's AttributeError/MisconfigurationException/TypeError, some after
    training had started."""
    X, y = windows_data
    with pytest.raises(ValueError, match=f"{key}"):
        LSTMRegressor(**FAST, trainer_kwargs={key: value}).fit(X, y)


class _RaiseInterrupt(pl.Callback):
    def on_train_epoch_end(self, trainer, pl_module):
        if trainer.current_epoch == 1:
            raise KeyboardInterrupt


def test_a_keyboard_interrupt_from_a_callback_stays_an_interrupt(windows_data):
    """Lightning answers it with sys.exit(1) (old code: SystemExit, ending a session)."""
    X, y = windows_data
    model = LSTMRegressor(**FAST, random_state=0).fit(X, y)
    before = _state(model)
    model.set_params(trainer_kwargs={"callbacks": [_RaiseInterrupt()]})
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    for name, tensor in _state(model).items():
        torch.testing.assert_close(tensor, before[name], rtol=0, atol=0)
