"""Fold models trained together (one block-diagonal network) equal separate fits."""

import signal
from typing import ClassVar

import lightning.pytorch as pl
import numpy as np
import optuna
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import TimeSeriesSplit
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import LSTMClassifier, LSTMRegressor, SlidingWindowTransformer, make_supervised
from tsforecast._engine.training import train
from tsforecast._nn.grouped import GroupedNetwork
from tsforecast._nn.network import StackedRNN
from tsforecast.estimators._fit import seeded
from tsforecast.estimators._together import fit_together, grouping_blocker_of, start_runs
from tsforecast.model_selection import OptunaSearchCV, WalkForwardSplit, backtest


@pytest.fixture
def windows(rng):
    series = np.cumsum(rng.normal(size=700)).astype(np.float32)
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], 8)[:, :, None]
    return X, series[8:]


# Expanding folds of different lengths: different numbers of minibatches per epoch and
# different last-minibatch sizes.
SIZES = (230, 350, 470, 690)

CONFIGS = {
    "lstm": {"units": 8},
    "gru, two bidirectional layers, validation and early stopping": {
        "units": (6, 4),
        "num_layers": 2,
        "cell": "gru",
        "bidirectional": True,
        "validation_fraction": 0.25,
        "patience": 1,
        "max_epochs": 6,
    },
    "stacked lstm, linear skip, clipping, adamw": {
        "units": 5,
        "num_layers": 2,
        "linear_skip": True,
        "gradient_clip_val": 0.1,
        "optimizer": "adamw",
        "optimizer_kwargs": {"weight_decay": 0.1},
    },
    "inputs standardized in the network": {"units": 4, "standardize_inputs": True},
    "linear skip, validation: the ridge start competes for the best epoch": {
        "units": 4,
        "linear_skip": True,
        "validation_fraction": 0.2,
        "learning_rate": 0.3,
    },
    "quantiles, sampled windows per epoch": {
        "units": 4,
        "loss": "quantile",
        "quantiles": (0.1, 0.5, 0.9),
        "windows_per_epoch": 100,
    },
}


def _separate_and_together(make, Xs, ys):
    separate = [make().fit(X, y) for X, y in zip(Xs, ys, strict=True)]
    together = fit_together([make() for _ in Xs], Xs, ys)
    return separate, together


def _assert_same_fit(a, b, X):
    assert [r["epoch"] for r in a.history_] == [r["epoch"] for r in b.history_]
    for ra, rb in zip(a.history_, b.history_, strict=True):
        assert ra.keys() == rb.keys()
        for key in ra:
            assert ra[key] == pytest.approx(rb[key], rel=1e-4, abs=1e-7)
    assert a.best_epoch_ == b.best_epoch_
    for name, value in a.module_.state_dict().items():
        torch.testing.assert_close(b.module_.state_dict()[name], value, rtol=1e-4, atol=1e-5)
    state_a = a._optimizer_state[a.optimizer]["state"]
    state_b = b._optimizer_state[b.optimizer]["state"]
    assert state_a.keys() == state_b.keys()
    for i in state_a:
        for key, value in state_a[i].items():
            torch.testing.assert_close(state_b[i][key], value, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(b.predict(X), a.predict(X), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("params", CONFIGS.values(), ids=CONFIGS.keys())
def test_folds_trained_together_equal_separate_fits(windows, params):
    X, y = windows
    settings = {"max_epochs": 3, "batch_size": 32, "validation_fraction": 0.0, "random_state": 0}

    def make():
        return LSTMRegressor(**{**settings, **params})

    Xs, ys = [X[:n] for n in SIZES], [y[:n] for n in SIZES]
    assert grouping_blocker_of([make(), make()]) is None
    separate, together = _separate_and_together(make, Xs, ys)
    for a, b in zip(separate, together, strict=True):
        _assert_same_fit(a, b, X[-40:])


def test_early_stopping_is_per_fold(windows):
    """Folds stopping at different epochs each train exactly as they would alone."""
    X, y = windows

    def make():
        return LSTMRegressor(
            units=4,
            max_epochs=10,
            patience=1,
            learning_rate=0.05,
            validation_fraction=0.3,
            random_state=3,
        )

    Xs, ys = [X[:n] for n in SIZES], [y[:n] for n in SIZES]
    separate, together = _separate_and_together(make, Xs, ys)
    assert len({m.n_iter_ for m in separate}) > 1  # the folds stop at different epochs
    for a, b in zip(separate, together, strict=True):
        _assert_same_fit(a, b, X[-40:])


def test_classifier_folds_and_pipelines_train_together(windows):
    X, y = windows
    labels = (np.diff(y, prepend=y[0]) > 0).astype(int)

    def make():
        return LSTMClassifier(units=6, max_epochs=3, validation_fraction=0.0, random_state=1)

    Xs, ys = [X[:n] for n in SIZES], [labels[:n] for n in SIZES]
    separate, together = _separate_and_together(make, Xs, ys)
    for a, b in zip(separate, together, strict=True):
        np.testing.assert_allclose(b.predict_proba(X), a.predict_proba(X), rtol=1e-4, atol=1e-6)

    def pipeline():
        return make_pipeline(StandardScaler(), LSTMRegressor(units=4, max_epochs=2, random_state=0))

    flat = X[:, :, 0]
    separate, together = _separate_and_together(
        pipeline, [flat[:n] for n in SIZES], [y[:n] for n in SIZES]
    )
    for a, b in zip(separate, together, strict=True):
        np.testing.assert_allclose(b[0].mean_, a[0].mean_)
        np.testing.assert_allclose(b.predict(flat), a.predict(flat), rtol=1e-4, atol=1e-5)


def test_the_grouped_network_keeps_folds_apart():
    """Block-diagonal: fold j's loss moves only fold j's parameters, and the grouped
    output of fold j is its own network's output."""
    torch.manual_seed(0)
    nets = [
        StackedRNN(
            3,
            [5, 4],
            2,
            bidirectional=True,
            skip_timesteps=6,
            input_scaling=(np.random.default_rng(j).normal(size=3), np.full(3, 0.5 + j)),
        )
        for j in range(3)
    ]
    for net in nets:
        net.start_linear(torch.randn(2, 18), torch.randn(2))
    grouped = GroupedNetwork(nets)
    xs = [torch.randn(7, 6, 3) for _ in nets]
    out = grouped(torch.cat(xs, dim=2))
    for j, (net, x) in enumerate(zip(nets, xs, strict=True)):
        torch.testing.assert_close(grouped.fold_outputs(out, j), net(x), rtol=1e-5, atol=1e-6)
    grouped.fold_outputs(out, 1).sum().backward()
    assert grouped.leaves[0].grad.abs().sum() == 0
    assert grouped.leaves[2].grad.abs().sum() == 0
    assert grouped.leaves[1].grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"cell": "peephole"}, "peephole"),
        ({"devices": 2, "accelerator": "cpu"}, "devices"),
    ],
)
def test_configurations_that_cannot_train_together_are_fitted_one_by_one(windows, params, reason):
    X, y = windows

    def make():
        return LSTMRegressor(units=3, max_epochs=1, random_state=0, **params)

    Xs, ys = [X[:n] for n in SIZES[:2]], [y[:n] for n in SIZES[:2]]
    assert reason in grouping_blocker_of([make(), make()])
    if "devices" in params:
        return  # spawns processes: fitted one by one as any such fit (test_estimators)
    separate, together = _separate_and_together(make, Xs, ys)
    for a, b in zip(separate, together, strict=True):
        np.testing.assert_allclose(b.predict(X), a.predict(X), rtol=1e-5, atol=1e-6)


def test_16_bit_mixed_precision_is_not_grouped():
    """Its gradient scaler would skip every fold's step when one fold overflows."""
    make = lambda: LSTMRegressor(precision="16-mixed")  # noqa: E731
    assert "precision" in grouping_blocker_of([make(), make()])


def test_trainer_options_and_progress_output_train_together(windows):
    """One engine: folds with trainer_kwargs (old code: fitted one by one, "a group runs no
    Lightning Trainer") train as one group and equal separate fits."""
    X, y = windows

    def make():
        return LSTMRegressor(
            units=3,
            max_epochs=2,
            random_state=0,
            trainer_kwargs={"limit_train_batches": 3, "enable_model_summary": False},
        )

    Xs, ys = [X[:n] for n in SIZES[:2]], [y[:n] for n in SIZES[:2]]
    assert grouping_blocker_of([make(), make()]) is None
    separate, together = _separate_and_together(make, Xs, ys)
    for a, b in zip(separate, together, strict=True):
        assert [r["epoch"] for r in a.history_] == [r["epoch"] for r in b.history_]
        np.testing.assert_allclose(b.predict(X), a.predict(X), rtol=1e-5, atol=1e-6)


def test_backtest_with_and_without_grouped_folds_agree(series_frame):
    X, y = make_supervised(series_frame, target="price", horizon=1)
    model = make_pipeline(
        StandardScaler(),
        SlidingWindowTransformer(window=6),
        LSTMRegressor(units=6, max_epochs=2, batch_size=16, random_state=0),
    )
    cv = WalkForwardSplit(3, test_size=30)
    grouped = backtest(model, X, y, cv=cv)
    separate = backtest(model, X, y, cv=cv, group_folds=False)
    np.testing.assert_allclose(
        grouped.predictions["y_pred"], separate.predictions["y_pred"], rtol=1e-4, atol=1e-6
    )
    assert len({id(m) for m in grouped.estimators}) == 3


def test_search_scores_equal_with_and_without_grouped_folds(windows):
    X, y = windows
    X, y = X[:300], y[:300]

    def search(group_folds):
        return OptunaSearchCV(
            LSTMRegressor(max_epochs=2, validation_fraction=0.2, random_state=0),
            {"units": optuna.distributions.IntDistribution(2, 6)},
            n_trials=2,
            cv=TimeSeriesSplit(3),
            pruner=optuna.pruners.NopPruner(),
            random_state=0,
            refit=False,
            group_folds=group_folds,
        ).fit(X, y)

    grouped, separate = search(True), search(False)
    for a, b in zip(grouped.study_.trials, separate.study_.trials, strict=True):
        assert a.params == b.params
        assert a.value == pytest.approx(b.value, rel=1e-4)
        # The pruner sees the same values at the same steps (fold * max_epochs + epoch),
        # so one study can mix trials trained together and one by one.
        assert a.intermediate_values.keys() == b.intermediate_values.keys() == set(range(6))
        for step, value in a.intermediate_values.items():
            assert value == pytest.approx(b.intermediate_values[step], rel=1e-4)


class _Rows(np.ndarray):
    """Windows that record each time rows are taken from them (a fold's training rows)."""

    events: ClassVar[list[str]] = []

    def __getitem__(self, key):
        if isinstance(key, np.ndarray) or (
            isinstance(key, tuple) and isinstance(key[0], np.ndarray)
        ):
            self.events.append("rows")
        return super().__getitem__(key)


class _SeeFit(pl.Callback):
    def on_fit_start(self, trainer, pl_module):
        _Rows.events.append("fit")


def test_a_search_fitting_folds_one_by_one_takes_one_folds_rows_at_a_time(windows):
    """Without grouping, a fold's training rows (a copy of 3-D windows) are taken when that
    fold is fitted, not all folds' at once."""
    X, y = windows
    _Rows.events.clear()
    OptunaSearchCV(
        LSTMRegressor(
            units=2, max_epochs=1, random_state=0, trainer_kwargs={"callbacks": [_SeeFit()]}
        ),
        {"units": optuna.distributions.IntDistribution(2, 3)},
        n_trials=1,
        cv=TimeSeriesSplit(3),
        refit=False,
        group_folds=False,
    ).fit(X[:120].view(_Rows), y[:120])
    assert _Rows.events[:6] == ["rows", "fit"] * 3


def test_ctrl_c_keeps_every_folds_whole_epochs_and_stops(windows):
    X, y = windows
    Xs, ys = [X[:n] for n in SIZES], [y[:n] for n in SIZES]
    models = [LSTMRegressor(units=3, max_epochs=5, random_state=0) for _ in SIZES]

    pressed = []

    def press_ctrl_c(records):  # once (a second press would stop at once)
        if records[0]["epoch"] == 1 and not pressed:
            pressed.append(True)
            signal.raise_signal(signal.SIGINT)

    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="interrupted"):
        fit_together(models, Xs, ys, lockstep_hooks=[press_ctrl_c])
    # The SIGINT came during epoch 1's hooks: epochs 0 and 1 are whole, for every fold.
    assert [m.n_iter_ for m in models] == [2] * len(SIZES)


def test_an_already_fitted_pipeline_is_refitted_from_scratch(windows):
    X, y = windows
    flat = X[:, :, 0]
    model = make_pipeline(StandardScaler(), LSTMRegressor(units=3, max_epochs=1, random_state=0))
    Xs, ys = [flat[:200], flat[:300]], [y[:200], y[:300]]
    fitted = fit_together([clone(model), clone(model)], Xs, ys)
    again = fit_together([clone(model).fit(flat, y), clone(model)], Xs, ys)
    for a, b in zip(fitted, again, strict=True):
        np.testing.assert_array_equal(a.predict(flat), b.predict(flat))


@pytest.mark.parametrize(("units", "grouped"), [(16, True), (64, False)])
def test_auto_groups_small_networks_on_the_cpu_only(series_frame, monkeypatch, units, grouped):
    """4 folds x 16 units train together; 4 x 64 (measured slower on the CPU) one by one,
    unless group_folds=True forces it."""
    calls = []
    fit = pl.Trainer.fit
    monkeypatch.setattr(pl.Trainer, "fit", lambda *a, **k: calls.append(1) or fit(*a, **k))
    X, y = make_supervised(series_frame, target="price", horizon=1)
    model = make_pipeline(
        SlidingWindowTransformer(window=4),
        LSTMRegressor(
            units=units,
            max_epochs=1,
            accelerator="cpu",
            random_state=0,
        ),
    )
    cv = WalkForwardSplit(4, test_size=20)
    backtest(model, X, y, cv=cv)
    assert len(calls) == (1 if grouped else 4)  # one Trainer.fit for a group
    calls.clear()
    backtest(model, X, y, cv=cv, group_folds=True)
    assert len(calls) == 1
    reason = grouping_blocker_of([clone(model) for _ in range(4)], "auto")
    assert (reason is None) is grouped


def test_bad_group_folds_values_are_refused(series_frame):
    X, y = make_supervised(series_frame, target="price", horizon=1)
    with pytest.raises(ValueError, match="group_folds must be"):
        backtest(LSTMRegressor(), X, y, group_folds="yes")
    search = OptunaSearchCV(LSTMRegressor(), n_trials=1, group_folds="yes")
    with pytest.raises(ValueError, match="group_folds"):
        search.fit(X.to_numpy(), y.to_numpy())


def test_numpy_false_and_zero_do_not_group_folds(series_frame):
    """np.False_ (which sklearn's "boolean" accepts) means False; 0 and 1 are no bools."""
    X, y = make_supervised(series_frame, target="price", horizon=1)
    model = LSTMRegressor(units=4, max_epochs=1, accelerator="cpu", random_state=0)
    models = [clone(model) for _ in range(3)]
    assert grouping_blocker_of(models, np.False_) == "group_folds=False"
    assert grouping_blocker_of(models, np.True_) is None
    for value in (0, 1):
        with pytest.raises(ValueError, match="group_folds must be"):
            backtest(model, X, y, group_folds=value)


@pytest.mark.gpu
@pytest.mark.parametrize("loss", ["mse", "quantile"])
def test_folds_trained_together_on_cuda_equal_separate_fits(windows, loss):
    """The quantile loss holds its levels in a buffer, which must follow the folds to the GPU
    (old code: "Expected all tensors to be on the same device")."""
    X, y = windows

    def make():
        return LSTMRegressor(units=64, max_epochs=2, loss=loss, accelerator="cuda", random_state=0)

    Xs, ys = [X[:n] for n in SIZES], [y[:n] for n in SIZES]
    assert grouping_blocker_of([make(), make()], "auto") is None  # any width on a GPU
    separate, together = _separate_and_together(make, Xs, ys)
    for a, b in zip(separate, together, strict=True):
        np.testing.assert_allclose(b.predict(X), a.predict(X), rtol=1e-3, atol=1e-4)


def _grouped_run(estimators, Xs, ys, poison=None):
    """The engine's ``train`` as ``fit_together`` calls it; fold ``poison`` starts with NaN weights
    (as after an infinite gradient)."""
    pendings, runs = start_runs(estimators, Xs, ys)
    if poison is not None:
        with torch.no_grad():
            runs[poison].network.head.weight.fill_(float("nan"))
    with seeded(pendings[0].seed, cuda=False):
        return train(runs)


def test_a_diverging_fold_does_not_poison_the_others(windows):
    """NaN weights in one fold's block would reach every fold through the zeros around it
    (0 * NaN = NaN): the other folds must train exactly as without it."""
    X, y = windows
    Xs, ys = [X[:230], X[:350], X[:470]], [y[:230], y[:350], y[:470]]

    def make():
        return LSTMRegressor(units=4, max_epochs=3, validation_fraction=0.2, random_state=0)

    clean = _grouped_run([make() for _ in Xs], Xs, ys)
    poisoned = _grouped_run([make() for _ in Xs], Xs, ys, poison=1)
    assert poisoned[1].diverged_at == 0 and poisoned[1].state is None
    for j in (0, 2):
        assert poisoned[j].diverged_at is None
        assert [r["val_loss"] for r in poisoned[j].history] == pytest.approx(
            [r["val_loss"] for r in clean[j].history], rel=1e-5
        )
        for name, value in clean[j].state.items():
            torch.testing.assert_close(poisoned[j].state[name], value)


def test_a_diverged_trial_fails_as_with_separate_fits(windows):
    """The folds' mean reported for pruning leaves out a diverged epoch, which a separate
    fit never reports: a NaN there made the pruner fail the trial with numpy's All-NaN
    warning (or prune it) instead of the divergence error."""
    X, y = windows
    reasons = []
    for group_folds in (False, True):
        storage = optuna.storages.InMemoryStorage()
        study = optuna.create_study(storage=storage, study_name="s", direction="maximize")
        study.enqueue_trial({"learning_rate": 1e-3})
        study.enqueue_trial({"learning_rate": 1e30})
        search = OptunaSearchCV(
            LSTMRegressor(units=4, max_epochs=2, random_state=0),
            {"learning_rate": optuna.distributions.CategoricalDistribution([1e-3, 1e30])},
            n_trials=2,
            cv=TimeSeriesSplit(2),
            group_folds=group_folds,
            storage=storage,
            study_name="s",
            pruner=optuna.pruners.MedianPruner(n_startup_trials=0, n_warmup_steps=0),
            refit=False,
        ).fit(X[:300], y[:300])
        states = [t.state for t in search.study_.trials]
        assert states == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL]
        reasons.append(search.study_.trials[1].user_attrs["fail_reason"])
    assert "training diverged" in reasons[0]
    assert reasons[1] == reasons[0]


def test_a_caching_pipeline_keeps_its_fitted_transformers(series_frame, tmp_path):
    """A Pipeline with ``memory`` fits clones of its transformers: they must end up in the
    pipeline, as after its own ``fit`` (the grouped backtest raised NotFittedError)."""
    X, y = make_supervised(series_frame, target="price", horizon=1)
    model = Pipeline(
        [
            ("scale", StandardScaler()),
            ("windows", SlidingWindowTransformer(window=6)),
            ("lstm", LSTMRegressor(units=4, max_epochs=2, random_state=0)),
        ],
        memory=str(tmp_path),
    )
    cv = WalkForwardSplit(2, test_size=30)
    grouped = backtest(model, X, y, cv=cv, group_folds=True)
    separate = backtest(model, X, y, cv=cv, group_folds=False)
    np.testing.assert_allclose(
        grouped.predictions["y_pred"], separate.predictions["y_pred"], rtol=1e-4, atol=1e-6
    )
    for fitted in grouped.estimators:
        assert fitted.named_steps["scale"].n_samples_seen_ > 0


def test_a_search_trial_pinned_to_one_gpu_can_train_together(monkeypatch):
    """OptunaSearchCV gives each trial devices=[i] on a machine with several GPUs: the group
    trains on GPU i, as Lightning would place a single fit."""
    pinned = [LSTMRegressor(devices=[1]) for _ in range(2)]
    assert grouping_blocker_of(pinned) is None  # Lightning places the group on GPU 1
    assert "devices" in grouping_blocker_of([LSTMRegressor(devices=[0, 1]) for _ in range(2)])


def test_a_subclass_with_its_own_fit_is_fitted_one_by_one(windows):
    """Training together goes through the fit transaction, not ``fit``: a subclass that
    overrides ``fit`` must have it called."""
    X, y = windows
    calls = []

    class Logged(LSTMRegressor):
        def fit(self, X, y):
            calls.append(len(X))
            return super().fit(X, y)

    models = [Logged(units=3, max_epochs=1, random_state=0) for _ in range(2)]
    assert "own fit" in grouping_blocker_of(models)
    fit_together(models, [X[:200], X[:300]], [y[:200], y[:300]])
    assert calls == [200, 300]
    pipes = [make_pipeline(StandardScaler(), model) for model in models]
    assert "own fit" in grouping_blocker_of(pipes)
