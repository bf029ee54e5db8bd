"""Training faults, interruption, checkpoints and reproducibility (files: test_persistence.py)."""

import os
import pickle
import signal
import subprocess
import sys
import warnings
from types import SimpleNamespace

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from conftest import FAST

from tsforecast import LSTMRegressor
from tsforecast._engine.processes import warn_if_nondeterministic
from tsforecast._nn.network import StackedRNN


class _RaiseAt(pl.Callback):
    """Raise ``error`` (or send SIGINT, as Ctrl+C would) at the start of one epoch."""

    def __init__(self, epoch, error=None):
        self.epoch, self.error = epoch, error

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.epoch:
            if self.error is None:
                os.kill(os.getpid(), signal.SIGINT)
            else:
                raise self.error


def _callbacks(*callbacks):
    return {"trainer_kwargs": {"callbacks": list(callbacks)}}


# ----------------------------------------------------------------------------- interruption


def test_ctrl_c_keeps_the_best_whole_epoch_and_stops_the_caller(windows_data):
    X, y = windows_data
    handler = signal.getsignal(signal.SIGINT)
    model = LSTMRegressor(
        **{**FAST, "max_epochs": 20, "validation_fraction": 0.2},
        random_state=0,
        **_callbacks(_RaiseAt(epoch=3)),
    )
    with (
        pytest.raises(KeyboardInterrupt),
        pytest.warns(UserWarning, match=r"interrupted \(Ctrl\+C\).*3 whole epoch"),
    ):
        model.fit(X, y)
    assert model.n_iter_ == 3  # the cut epoch is neither recorded nor kept
    assert model.best_epoch_ == int(np.argmin([r["val_loss"] for r in model.history_]))
    assert np.isfinite(model.predict(X)).all()
    assert signal.getsignal(signal.SIGINT) is handler  # Ctrl+C works again after fit


def test_ctrl_c_in_the_first_epoch_leaves_the_estimator_as_it_was(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**FAST, random_state=0, **_callbacks(_RaiseAt(epoch=0)))
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert not hasattr(model, "module_")


def test_an_error_during_fit_leaves_the_estimator_unfitted(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**FAST, **_callbacks(_RaiseAt(1, RuntimeError("out of memory"))))
    with pytest.raises(RuntimeError, match="out of memory"):
        model.fit(X, y)
    assert not hasattr(model, "module_") and not hasattr(model, "n_features_in_")


def test_an_error_during_partial_fit_keeps_the_previous_weights(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**FAST, random_state=0).fit(X, y)
    before = model.predict(X)
    model.set_params(**_callbacks(_RaiseAt(0, RuntimeError("boom"))))
    with pytest.raises(RuntimeError, match="boom"):
        model.partial_fit(X, y, epochs=2)
    np.testing.assert_array_equal(model.predict(X), before)
    assert model.n_iter_ == 3


# ----------------------------------------------------------------------------- checkpoints


def test_resumed_fit_ends_where_an_uninterrupted_one_would(windows_data, tmp_path):
    X, y = windows_data
    params = {**FAST, "max_epochs": 8, "validation_fraction": 0.2, "dropout": 0.3}
    reference = LSTMRegressor(**params, random_state=0).fit(X, y)
    path = tmp_path / "run.ckpt"
    interrupted = LSTMRegressor(
        **params, random_state=0, checkpoint_path=path, **_callbacks(_RaiseAt(epoch=4))
    )
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="resumes from"):
        interrupted.fit(X, y)
    assert path.exists()
    resumed = LSTMRegressor(**params, random_state=0, checkpoint_path=path).fit(X, y)
    assert not path.exists()  # deleted once the fit completed
    np.testing.assert_array_equal(resumed.predict(X), reference.predict(X))
    assert resumed.history_ == reference.history_


def test_checkpoint_of_another_fit_is_refused(windows_data, tmp_path):
    X, y = windows_data
    path = tmp_path / "run.ckpt"
    interrupted = LSTMRegressor(**FAST, checkpoint_path=path, **_callbacks(_RaiseAt(epoch=1)))
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning):
        interrupted.fit(X, y)
    with pytest.raises(ValueError, match="other parameters or other data"):
        LSTMRegressor(**{**FAST, "units": 9}, checkpoint_path=path).fit(X, y)
    with pytest.raises(ValueError, match="other parameters or other data"):
        LSTMRegressor(**FAST, checkpoint_path=path).fit(X[:50], y[:50])


# ----------------------------------------------------------------------------- reproducibility

_FIT_IN_A_FRESH_PROCESS = """
import numpy as np, sys, torch
from tsforecast import LSTMRegressor
# As tests/conftest.py sets for the test process on a GPU machine (cuDNN without TF32).
torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
rng = np.random.default_rng(0)
X = rng.normal(size=(160, 6, 2)).astype(np.float32)
y = X[:, -1, 0] - 0.5 * X[:, -2, 1]
model = LSTMRegressor(
    units=8, max_epochs=3, batch_size=32, validation_fraction=0.0, dropout=0.2, random_state=7
)
sys.stdout.write(model.fit(X, y).predict(X).tobytes().hex())
"""


def test_identical_predictions_across_processes(windows_data):
    X, y = windows_data
    here = LSTMRegressor(**FAST, dropout=0.2, random_state=7).fit(X, y).predict(X)
    out = subprocess.run(
        [sys.executable, "-c", _FIT_IN_A_FRESH_PROCESS],
        capture_output=True,
        text=True,
        check=True,
    )
    np.testing.assert_array_equal(np.frombuffer(bytes.fromhex(out.stdout)), here)


def test_warns_when_determinism_is_impossible_on_gpu():
    stacked = StackedRNN(1, [8, 8], 1, dropout=0.2)
    on_cuda = SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device("cuda")))
    on_cpu = SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device("cpu")))

    def config(**trainer_kwargs):
        return SimpleNamespace(trainer_kwargs=trainer_kwargs)

    with pytest.warns(UserWarning, match="not deterministic on a GPU"):
        warn_if_nondeterministic(on_cuda, stacked, config(deterministic=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_nondeterministic(on_cpu, stacked, config(deterministic=True))
        warn_if_nondeterministic(on_cuda, stacked, config())
        warn_if_nondeterministic(on_cuda, StackedRNN(1, [8, 4], 1, 0.2), config(deterministic=True))


@pytest.mark.gpu
def test_a_resumed_gpu_fit_with_dropout_ends_where_an_uninterrupted_one_would(
    windows_data, tmp_path
):
    """Dropout on a GPU draws from the GPU's generator: the checkpoint saves and restores it
    (old code: only the CPU's, so the resumed epochs drew other dropout masks)."""
    X, y = windows_data
    params = {**FAST, "max_epochs": 6, "dropout": 0.3, "accelerator": "cuda", "random_state": 0}
    reference = LSTMRegressor(**params).fit(X, y)
    path = tmp_path / "run.ckpt"
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="resumes from"):
        LSTMRegressor(**params, checkpoint_path=path, **_callbacks(_RaiseAt(epoch=3))).fit(X, y)
    resumed = LSTMRegressor(**params, checkpoint_path=path).fit(X, y)
    assert resumed.history_ == reference.history_
    np.testing.assert_array_equal(resumed.predict(X), reference.predict(X))


@pytest.mark.gpu
def test_gpu_trained_model_pickles_to_cpu(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**FAST, accelerator="cuda", random_state=0).fit(X, y)
    model.module_.cuda()
    restored = pickle.loads(pickle.dumps(model))
    assert next(restored.module_.parameters()).device.type == "cpu"
    for name, value in model.module_.state_dict().items():
        torch.testing.assert_close(restored.module_.state_dict()[name], value.cpu(), rtol=0, atol=0)
    # Same weights; the GPU and the CPU sum in different orders.
    np.testing.assert_allclose(restored.predict(X), model.predict(X), rtol=1e-5, atol=1e-5)
