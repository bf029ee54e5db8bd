"""Issue 12: fits that fail change nothing; resume, divergence and signals give the right result.

Each test reproduces a case that gave a silently wrong result before the training core was
rebuilt as a transaction around one training seam.
"""

import copy
import os
import signal
import subprocess
import sys
import textwrap

import lightning.pytorch as pl
import numpy as np
import optuna
import pytest
import torch
from conftest import FAST, assert_same_state

from tsforecast import LSTMClassifier, LSTMRegressor
from tsforecast.model_selection import OptunaSearchCV


def _fitted_state(model):
    return copy.deepcopy(
        {
            "weights": model.module_.state_dict(),
            "optimizer": model._optimizer_state,
            "fitted": {k: v for k, v in vars(model).items() if k.endswith("_") and k != "module_"},
        }
    )


def _assert_unchanged(model, before):
    assert_same_state(_fitted_state(model), before)


def test_a_failed_refit_leaves_the_fitted_regressor_as_it_was(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**FAST, random_state=0).fit(X, y * 100)
    before, predictions = _fitted_state(model), model.predict(X)
    with pytest.raises(ValueError, match="validation_fraction"):
        model.set_params(validation_fraction=0.1).fit(X[:1], [1e6])
    _assert_unchanged(model, before)  # target_mean_ used to become 1e6 over the old network
    np.testing.assert_array_equal(model.predict(X), predictions)


def test_a_failed_refit_leaves_the_classes_as_they_were(windows_data):
    X, y = windows_data
    model = LSTMClassifier(**FAST, random_state=0).fit(X, np.where(y > 0, "up", "down"))
    rows = np.arange(14.0).reshape(7, 2)
    two_windows = np.lib.stride_tricks.sliding_window_view(rows, 6, axis=0).transpose(0, 2, 1)
    with pytest.raises(ValueError, match="overlap-free"):  # raised after the labels were read
        model.set_params(validation_fraction=0.5).fit(two_windows, ["buy", "sell"])
    assert model.classes_.tolist() == ["down", "up"]


def test_a_diverged_partial_fit_does_not_poison_later_training(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**FAST, random_state=0).fit(X, y)
    before = _fitted_state(model)
    with pytest.raises(ValueError, match="far outside the fitted range"):
        model.partial_fit(X, np.full(len(X), 1e30))
    _assert_unchanged(model, before)
    assert all(np.isfinite(r["train_loss"]) for r in model.history_)
    model.partial_fit(X, y)  # a good partial_fit still trains
    assert model.n_iter_ == before["fitted"]["n_iter_"] + 1
    changed = model.module_.state_dict()
    assert any(not torch.equal(changed[k], v) for k, v in before["weights"].items())


class _SetLearningRate(pl.Callback):
    def __init__(self, epoch, lr):
        self.epoch, self.lr = epoch, lr

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.epoch:
            for group in trainer.optimizers[0].param_groups:
                group["lr"] = self.lr


def test_a_finite_loss_explosion_is_divergence_too(windows_data):
    X, y = windows_data
    callbacks = {"callbacks": [_SetLearningRate(3, 1e12)]}
    params = {**FAST, "max_epochs": 6, "learning_rate": 0.01, "random_state": 0}
    model = LSTMRegressor(**params, trainer_kwargs=callbacks)
    with pytest.warns(RuntimeWarning, match=r"exploded in epoch 3; restored .* epoch \(2\)"):
        model.fit(X, y)
    assert model.best_epoch_ == 2
    # The weights kept are epoch 2's (the last weights gave R^2 of about -1e21).
    three_epochs = LSTMRegressor(**{**params, "max_epochs": 3}).fit(X, y)
    np.testing.assert_array_equal(model.predict(X), three_epochs.predict(X))


def test_divergence_after_a_warm_start_names_global_epochs(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**{**FAST, "max_epochs": 5}, random_state=0).fit(X, y)
    model.set_params(warm_start=True, trainer_kwargs={"callbacks": [_SetLearningRate(2, 1e12)]})
    with pytest.warns(
        RuntimeWarning, match=r"epoch 7; restored the weights of the best epoch \(6\)"
    ):
        model.fit(X, y)
    assert [r["epoch"] for r in model.history_] == list(range(8))


def test_targets_beyond_float32_are_refused(windows_data):
    X, _ = windows_data
    with pytest.raises(ValueError, match="beyond what float32"):
        LSTMRegressor(**FAST).fit(X, np.full(len(X), 1e300))


def test_predict_depends_on_the_fitted_state_only(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**FAST, loss="quantile", random_state=0).fit(X, y)
    expected = model.predict(X[:2])
    model.set_params(loss="mse")
    np.testing.assert_array_equal(model.predict(X[:2]), expected)  # was shape (6,)
    assert model.predict_quantiles(X[:2]).shape == (2, 3)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"precision": "64-true"}, "'precision' parameter"),
        ({"precision": "bf16-true"}, "'precision' parameter"),
        ({"accelerator": "tpu"}, "'accelerator' parameter"),
        ({"checkpoint_path": ""}, "'checkpoint_path' parameter .* must name a file"),
        ({"trainer_kwargs": {"callbacks": "x"}}, "must be a list of lightning"),
        ({"loss": "quantile", "quantiles": (0.1, 0.9)}, "include 0.5"),
    ],
)
def test_unclear_errors_now_name_the_problem(windows_data, params, message):
    X, y = windows_data
    with pytest.raises((ValueError, TypeError), match=message):
        LSTMRegressor(**{**FAST, **params}).fit(X, y)


@pytest.mark.parametrize("bad", [None, float("nan"), "pd.NA"])
def test_missing_labels_are_named(windows_data, bad):
    import pandas as pd

    X, _ = windows_data
    labels = np.array(["a", "b"] * 80, dtype=object)
    labels[5] = pd.NA if bad == "pd.NA" else bad
    with pytest.raises(ValueError, match="missing labels"):
        LSTMClassifier(**FAST).fit(X, labels)


# ----------------------------------------------------------------------------- checkpoints


class _InterruptAtStep(pl.Callback):
    """Send SIGINT (as Ctrl+C would) in the middle of one epoch."""

    def __init__(self, epoch, batch):
        self.epoch, self.batch = epoch, batch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            os.kill(os.getpid(), signal.SIGINT)


def test_a_leftover_checkpoint_of_other_data_with_the_same_shape_is_refused(windows_data, tmp_path):
    X, y = windows_data
    path = tmp_path / "run.ckpt"
    stop = {"callbacks": [_InterruptAtStep(epoch=1, batch=0)]}
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="resumes"):
        LSTMRegressor(**FAST, checkpoint_path=path, trainer_kwargs=stop).fit(X, y)
    assert path.exists()
    with pytest.raises(ValueError, match="other parameters or other data"):
        LSTMRegressor(**FAST, checkpoint_path=path).fit(X + 1.0, y)  # same shapes


def test_ctrl_c_mid_epoch_then_resume_is_exact(windows_data, tmp_path):
    X, y = windows_data
    params = {**FAST, "max_epochs": 5, "batch_size": 8, "dropout": 0.2, "random_state": 0}
    reference = LSTMRegressor(**params).fit(X, y)
    path = tmp_path / "run.ckpt"
    stop = {"callbacks": [_InterruptAtStep(epoch=2, batch=7)]}
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="resumes"):
        LSTMRegressor(**params, checkpoint_path=path, trainer_kwargs=stop).fit(X, y)
    resumed = LSTMRegressor(**params, checkpoint_path=path).fit(X, y)
    np.testing.assert_array_equal(resumed.predict(X), reference.predict(X))
    assert resumed.history_ == reference.history_


class _KilledAtTheEnd(pl.Callback):
    """The process dies after training's last checkpoint, before the fit removes it."""

    def on_train_end(self, trainer, pl_module):
        raise SystemExit(137)


def test_a_kill_after_the_last_checkpoint_keeps_the_early_stopping_decision(windows_data, tmp_path):
    X, y = windows_data
    params = {
        **FAST,
        "max_epochs": 40,
        "patience": 1,
        "validation_fraction": 0.3,
        "learning_rate": 0.05,
        "random_state": 0,
    }
    reference = LSTMRegressor(**params).fit(X, y)
    assert reference.n_iter_ < 40  # early stopping happened
    path = tmp_path / "run.ckpt"
    killed = LSTMRegressor(
        **params, checkpoint_path=path, trainer_kwargs={"callbacks": [_KilledAtTheEnd()]}
    )
    with pytest.raises(SystemExit):
        killed.fit(X, y)
    assert path.exists() and not hasattr(killed, "module_")
    resumed = LSTMRegressor(**params, checkpoint_path=path).fit(X, y)
    assert resumed.n_iter_ == reference.n_iter_  # used to train 8 more epochs
    assert resumed.history_ == reference.history_
    np.testing.assert_array_equal(resumed.predict(X), reference.predict(X))


# ----------------------------------------------------------------------------- processes

_SIGTERM_SCRIPT = textwrap.dedent(
    """
    import os, signal
    import lightning.pytorch as pl
    import numpy as np
    from tsforecast import LSTMRegressor

    class Terminate(pl.Callback):
        def on_train_epoch_start(self, trainer, pl_module):
            if trainer.current_epoch == 1:
                os.kill(os.getpid(), signal.SIGTERM)

    X = np.random.default_rng(0).normal(size=(64, 5, 1)).astype("float32")
    LSTMRegressor(units=4, max_epochs=5, trainer_kwargs={"callbacks": [Terminate()]}).fit(
        X, X[:, -1, 0]
    )
    print("deployed")
    """
)


def test_sigterm_mid_fit_ends_the_process_with_status_143():
    out = subprocess.run(
        [sys.executable, "-c", _SIGTERM_SCRIPT], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 143, out.stderr[-2000:]  # was 0: `&& deploy` deployed it
    assert "deployed" not in out.stdout


_NO_GUARD_SCRIPT = textwrap.dedent(
    """
    import numpy as np
    from tsforecast import LSTMRegressor
    X = np.zeros((8, 3, 1), dtype="float32")
    LSTMRegressor(units=2, max_epochs=1, accelerator="cpu", devices=2).fit(X, X[:, -1, 0])
    """
)


def test_several_devices_without_a_main_guard_are_refused_before_spawning(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(_NO_GUARD_SCRIPT)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert out.returncode != 0
    assert "__main__" in out.stderr and "guard" in out.stderr
    assert "ProcessExitedException" not in out.stderr


_IMPORTS_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import tsforecast
    from tsforecast import load_model
    assert "lightning" not in sys.modules, "import tsforecast loaded lightning"
    model = load_model(sys.argv[1])
    model.predict(np.zeros((3, 6, 2), dtype="float32"))
    assert "lightning" not in sys.modules, "predict loaded lightning"
    print("ok")
    """
)


def test_import_load_and_predict_never_load_lightning(windows_data, tmp_path):
    from tsforecast import save_model

    X, y = windows_data
    path = tmp_path / "model.pt"
    save_model(LSTMRegressor(**FAST, random_state=0).fit(X, y), path)
    out = subprocess.run(
        [sys.executable, "-c", _IMPORTS_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def test_a_logger_is_used_as_given_and_counts_optimizer_steps(windows_data, tmp_path):
    import pandas as pd
    from lightning.pytorch.loggers import CSVLogger

    X, y = windows_data
    logger = CSVLogger(str(tmp_path))
    LSTMRegressor(**FAST, random_state=0, trainer_kwargs={"logger": logger}).fit(X, y)
    metrics = pd.read_csv(os.path.join(logger.log_dir, "metrics.csv"))  # was another version
    steps_per_epoch = int(np.ceil(len(X) / FAST["batch_size"]))
    epoch_end = metrics.dropna(subset=["train_loss"])
    assert np.diff(epoch_end["step"]).tolist() == [steps_per_epoch] * (FAST["max_epochs"] - 1)


# ----------------------------------------------------------------------------- review cases


def test_an_explosion_that_starts_in_a_later_partial_fit_is_divergence(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**FAST, random_state=0)
    for _ in range(3):
        model.partial_fit(X, y)
    before = _fitted_state(model)
    model.set_params(learning_rate=1e12)
    with pytest.raises(ValueError, match="diverged"):
        model.partial_fit(X, y)  # used to train on to a loss of 1e24, R^2 of -1e24
    _assert_unchanged(model, before)
    with pytest.raises(ValueError, match="far outside the fitted range"):
        model.set_params(learning_rate=1e-3).partial_fit(X, np.full(len(X), 1e18))
    _assert_unchanged(model, before)


def test_a_checkpoint_of_another_seed_or_starting_point_is_refused(windows_data, tmp_path):
    X, y = windows_data
    path = tmp_path / "run.ckpt"
    stop = {"callbacks": [_InterruptAtStep(epoch=1, batch=0)]}
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="resumes"):
        LSTMRegressor(**FAST, random_state=0, checkpoint_path=path, trainer_kwargs=stop).fit(X, y)
    with pytest.raises(ValueError, match="other parameters or other data"):
        LSTMRegressor(**FAST, random_state=1, checkpoint_path=path).fit(X, y)
    warm = LSTMRegressor(**FAST, random_state=0, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="other parameters or other data"):
        warm.set_params(checkpoint_path=path).fit(X, y)  # another starting point


def test_warm_start_with_a_checkpoint_resumes_with_one_epoch_numbering(windows_data, tmp_path):
    X, y = windows_data
    params = {**FAST, "batch_size": 8, "random_state": 0, "warm_start": True}
    reference = LSTMRegressor(**params).fit(X, y).fit(X, y)
    model = LSTMRegressor(**params).fit(X, y)
    model.set_params(
        checkpoint_path=tmp_path / "run.ckpt",
        trainer_kwargs={"callbacks": [_InterruptAtStep(epoch=2, batch=3)]},
    )
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="unchanged"):
        model.fit(X, y)
    assert model.n_iter_ == 3  # the estimator is as it was; the checkpoint holds the rest
    model.set_params(trainer_kwargs=None).fit(X, y)
    assert [r["epoch"] for r in model.history_] == list(range(6))
    np.testing.assert_array_equal(model.predict(X), reference.predict(X))


def test_optimizer_keywords_removed_by_the_user_are_gone(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**FAST, warm_start=True, optimizer_kwargs={"weight_decay": 0.5})
    model.fit(X, y).set_params(optimizer_kwargs=None)
    seen = {}

    class Spy(pl.Callback):
        def on_train_start(self, trainer, pl_module):
            seen["weight_decay"] = trainer.optimizers[0].param_groups[0]["weight_decay"]

    model.set_params(trainer_kwargs={"callbacks": [Spy()]}).fit(X, y)
    assert seen["weight_decay"] == 0


@pytest.mark.parametrize(
    "change", [{"units": 6}, {"cell": "gru"}, {"num_layers": 2}, {"loss": "mae"}]
)
def test_warm_start_refuses_a_network_of_another_shape(windows_data, change):
    X, y = windows_data
    model = LSTMRegressor(**FAST, random_state=0, warm_start=True).fit(X, y)
    before = _fitted_state(model)
    with pytest.raises(ValueError, match="warm_start and partial_fit continue the fitted"):
        model.set_params(**change).fit(X, y)
    _assert_unchanged(model, before)
    model.set_params(warm_start=False).fit(X, y)  # a new network of the new shape


@pytest.mark.parametrize("key", ["precision", "accelerator", "max_epochs", "devices"])
def test_trainer_kwargs_cannot_bypass_the_estimator_parameters(windows_data, key):
    X, y = windows_data
    value = {"precision": "64-true", "accelerator": "tpu", "max_epochs": 3, "devices": 2}[key]
    with pytest.raises(ValueError, match=f"trainer_kwargs sets \\['{key}'\\]"):
        LSTMRegressor(**FAST, trainer_kwargs={key: value}).fit(X, y)


def test_pruning_refuses_a_fit_over_several_devices(windows_data):
    """A search's trials report every epoch to the pruner: one process must see them all."""
    X, y = windows_data
    search = OptunaSearchCV(
        LSTMRegressor(**FAST, accelerator="cpu", devices=2),
        {"units": optuna.distributions.CategoricalDistribution([8])},
        n_trials=1,
        cv=2,
        group_folds=False,
    )
    with pytest.raises(ValueError, match="devices=1"):
        search.fit(X, y)


def test_partial_fit_refuses_other_classes(windows_data):
    X, y = windows_data
    labels = np.where(y > 0, "up", "down")
    model = LSTMClassifier(**FAST).partial_fit(X, labels, classes=["down", "up"])
    with pytest.raises(ValueError, match="not the same as on the first call"):
        model.partial_fit(X, labels, classes=["down", "flat", "up"])


class _PressCtrlCTwice(pl.Callback):
    def __init__(self):
        self.pressed = 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.current_epoch == 1 and batch_idx == 0:
            os.kill(os.getpid(), signal.SIGINT)
            self.pressed = 1  # the first asks the fit to stop after the epoch: it goes on
            os.kill(os.getpid(), signal.SIGINT)
            self.pressed = 2  # never reached: the second raises at once


def test_a_second_ctrl_c_stops_at_once(windows_data):
    X, y = windows_data
    presses = _PressCtrlCTwice()
    model = LSTMRegressor(**FAST, trainer_kwargs={"callbacks": [presses]})
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert presses.pressed == 1


def test_one_row_of_a_dataframe_predicts(rng):
    import pandas as pd

    frame = pd.DataFrame(rng.normal(size=(50, 3)), columns=list("abc"))
    model = LSTMRegressor(**FAST, random_state=0).fit(frame, frame["a"])
    one = model.predict(frame.iloc[:1])  # a one-sample strided view: ZeroDivisionError before
    np.testing.assert_allclose(one, model.predict(frame)[:1], rtol=1e-6)


def test_fits_in_threads_equal_serial_fits_and_leave_global_state(windows_data):
    import logging
    from concurrent.futures import ThreadPoolExecutor

    X, y = windows_data
    params = {**FAST, "dropout": 0.3, "random_state": 3}
    serial = LSTMRegressor(**params).fit(X, y).predict(X)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    level = logging.getLogger("lightning.pytorch").level
    with ThreadPoolExecutor(2) as pool:
        fits = list(pool.map(lambda _: LSTMRegressor(**params).fit(X, y).predict(X), range(2)))
    for predictions in fits:
        np.testing.assert_array_equal(predictions, serial)  # differed by up to 0.19 before
    assert torch.equal(torch.get_rng_state(), state)
    assert logging.getLogger("lightning.pytorch").level == level


def test_the_progress_bar_counts_optimizer_steps(windows_data, tmp_path, capfd):
    X, y = windows_data
    LSTMRegressor(
        **FAST, verbose=1, random_state=0, trainer_kwargs={"default_root_dir": str(tmp_path)}
    ).fit(X, y)
    out, err = capfd.readouterr()
    steps = int(np.ceil(len(X) / FAST["batch_size"]))
    assert f"{steps}/{steps}" in out + err  # was 1/1: one Lightning batch per 16 steps


def test_a_fit_that_lightning_never_trains_says_so(windows_data):
    """Old code: "training diverged ... in epoch None"."""
    X, y = windows_data
    model = LSTMRegressor(**FAST, trainer_kwargs={"limit_train_batches": 0})
    with pytest.raises(ValueError, match="no epoch was trained"):
        model.fit(X, y)
    assert not hasattr(model, "module_")
