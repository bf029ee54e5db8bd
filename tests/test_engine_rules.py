"""The engine's closed doors: the Trainer options it honours, one divergence rule, nothing
raised after a commit, folds committed all or none (issues 20 and 22)."""

import inspect
import re
import warnings
from pathlib import Path
from typing import ClassVar

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from conftest import FAST
from sklearn.base import clone
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from test_fit_transaction import _InterruptAtStep

from tsforecast import LSTMClassifier, LSTMRegressor, SlidingWindowTransformer
from tsforecast.estimators._together import fit_together
from tsforecast.model_selection import WalkForwardSplit, backtest


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


def _documented_trainer_options():
    """The table of docs/guide/how-it-works.md: ``trainer_kwargs`` key -> what it says."""
    page = Path(__file__).parent.parent / "docs" / "guide" / "how-it-works.md"
    section = page.read_text().split("## Trainer options")[1].split("\n## ")[0]
    rows = re.findall(r"^\| `(\w+)` \| (.+) \|$", section, flags=re.MULTILINE)
    assert len(rows) > 30 and len({key for key, _ in rows}) == len(rows)
    return dict(rows)


def test_every_trainer_option_does_what_the_documentation_says(windows_data):
    """Each of Lightning's Trainer arguments: honoured as documented, or refused by name
    before training, with the documented reason or the estimator parameter to use."""
    X, y = windows_data
    documented = _documented_trainer_options()
    with pytest.raises(ValueError, match="not a Trainer option the estimators support") as error:
        LSTMRegressor(**FAST, trainer_kwargs={"no_such_option": 1}).fit(X, y)
    supported = set(
        re.search(r"they support (\[.*\])", str(error.value)).group(1)[2:-2].split("', '")
    )
    honoured = {key for key, says in documented.items() if says.startswith("honoured")}
    assert supported == honoured
    arguments = inspect.signature(pl.Trainer).parameters
    assert set(documented) <= set(arguments)
    for key in arguments:
        model = LSTMRegressor(**FAST, trainer_kwargs={key: object()})
        says = documented.get(key, "")
        if key in honoured:
            continue  # what each does: the tests of this file and test_fit_transaction.py
        if says.startswith("refused before training"):
            reason = says.split("): ", 1)[1]
            match = rf"trainer_kwargs\['{key}'\] is not supported: {re.escape(reason)}\."
        elif says.startswith("refused: set the estimator's"):
            parameter = re.search(r"`(\w+)` parameter", says).group(1)
            match = rf"trainer_kwargs sets \['{key}'\].* use {parameter}="
        else:  # undocumented: "any other key"
            match = rf"trainer_kwargs\['{key}'\] is not a Trainer option the estimators support"
        with pytest.raises(ValueError, match=match):
            model.fit(X, y)
        assert not hasattr(model, "module_")


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
    X[:100, -1, 0] = np.minimum(X[:100, -1, 0], 0.4)  # the first fold has no class 2
    labels = np.where(X[:, -1, 0] > 0.5, 2, (X[:, -1, 0] > -0.3).astype(int))
    model = LSTMClassifier(units=4, max_epochs=2, random_state=np.random.RandomState(3))
    cv = WalkForwardSplit(2, test_size=70)  # trained on rows 0-99, then on rows 0-169
    results = [
        backtest(model, X, labels, cv=cv, metrics={"accuracy": accuracy_score}, group_folds=g)
        for g in (True, False)
    ]
    for a, b in zip(*(result.estimators for result in results), strict=True):
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert results[0].estimators[0].classes_.tolist() == [0, 1]


# ------------------------------------------------------------------ the hostile try's findings


class _SeeFits(pl.Callback):
    """Records each fit it watches, across the copies that clones of an estimator hold."""

    fits: ClassVar[list[int]] = []

    def on_fit_start(self, trainer, pl_module):
        self.fits.append(trainer.max_epochs)


def _backtests(model, series_frame, monkeypatch):
    """The forecasts of backtest(model) with and without group_folds=True, and how many
    Lightning fits each ran."""
    X, y = series_frame[["price"]].to_numpy()[:-1], series_frame["price"].to_numpy()[1:]
    pipeline = make_pipeline(SlidingWindowTransformer(window=5), model)
    fits = []
    fit = pl.Trainer.fit
    monkeypatch.setattr(pl.Trainer, "fit", lambda *a, **k: fits.append(1) or fit(*a, **k))
    forecasts, counts = [], []
    for group_folds in (True, False):
        fits.clear()
        cv = WalkForwardSplit(2, test_size=30)
        result = backtest(pipeline, X, y, cv=cv, lookback=4, group_folds=group_folds)
        forecasts.append(result.predictions["y_pred"].to_numpy())
        counts.append(len(fits))
    return forecasts, counts


def test_a_fractional_limit_train_batches_is_not_grouped(series_frame, monkeypatch):
    """A fraction of a group's lockstep epoch is not a fraction of each fold's own steps: old
    grouped backtests gave the smallest fold other forecasts (off by up to 1.0)."""
    params = {**FAST, "batch_size": 8, "random_state": 0}
    fraction = LSTMRegressor(**params, trainer_kwargs={"limit_train_batches": 0.5})
    (grouped, separate), counts = _backtests(fraction, series_frame, monkeypatch)
    assert counts == [2, 2]
    np.testing.assert_array_equal(grouped, separate)
    whole = LSTMRegressor(**params, trainer_kwargs={"limit_train_batches": 2})
    (grouped, separate), counts = _backtests(whole, series_frame, monkeypatch)
    assert counts == [1, 2]  # the two folds trained as one group
    np.testing.assert_allclose(grouped, separate, rtol=1e-4, atol=1e-6)


def test_callbacks_and_loggers_watch_one_fit_so_they_are_not_grouped(series_frame, monkeypatch):
    """A group would show them one fold's copy, per-fold metric names and the group's steps
    (EarlyStopping(monitor="train_loss") failed in a default backtest)."""
    for options in ({"callbacks": [_SeeFits()]}, {"logger": False}):
        _SeeFits.fits.clear()
        model = LSTMRegressor(**FAST, random_state=0, trainer_kwargs=options)
        (grouped, separate), counts = _backtests(model, series_frame, monkeypatch)
        assert counts == [2, 2]
        np.testing.assert_array_equal(grouped, separate)
        if "callbacks" in options:  # every fold's own fit, in both backtests
            assert _SeeFits.fits == [FAST["max_epochs"]] * 4


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
