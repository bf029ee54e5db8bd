import copy
import os
import pickle
import subprocess
import sys
import tracemalloc
import warnings

import joblib
import lightning.pytorch as pl
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import FAST
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import r2_score

from tsforecast import LSTMClassifier, LSTMRegressor, SlidingWindowTransformer

# ----------------------------------------------------------------------------- learning


def test_regressor_learns_a_function_of_the_window(windows_data):
    X, y = windows_data
    model = LSTMRegressor(units=16, max_epochs=60, learning_rate=0.01, random_state=0)
    model.fit(X[:120], y[:120])
    assert model.score(X[120:], y[120:]) > 0.8
    # standardization is inverted: predictions live on y's scale
    scaled = LSTMRegressor(**{**FAST, "max_epochs": 60, "learning_rate": 0.01}, random_state=0)
    scaled.fit(X[:120], 1000 + 50 * y[:120])
    pred = scaled.predict(X[120:])
    assert np.corrcoef(pred, 1000 + 50 * y[120:])[0, 1] > 0.8
    assert abs(pred.mean() - 1000) < 30


def test_regressor_multi_output(windows_data):
    X, y = windows_data
    params = {**FAST, "max_epochs": 60, "learning_rate": 0.01, "random_state": 0}
    model = LSTMRegressor(**params).fit(X[:120], np.column_stack([y, 1000 + 50 * y])[:120])
    assert model.n_outputs_ == 2
    pred = model.predict(X)
    np.testing.assert_allclose(model.predict(X[:1]), pred[:1], rtol=1e-6, atol=1e-6)
    # Standardized, the second target is the first: trained on [y, y] the network is the
    # same, and each column is mapped back to its own target's scale.
    same = LSTMRegressor(**params).fit(X[:120], np.column_stack([y, y])[:120]).predict(X)
    np.testing.assert_allclose(pred[:, 0], same[:, 0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(pred[:, 1], 1000 + 50 * same[:, 1], rtol=1e-4, atol=1e-5)
    # Both outputs learn their targets on the unseen windows.
    assert r2_score(y[120:], pred[120:, 0]) > 0.8
    assert r2_score(1000 + 50 * y[120:], pred[120:, 1]) > 0.8


def test_regressor_on_2d_univariate_sequences(rng):
    X = rng.normal(size=(100, 8))
    y = X[:, -1]
    model = LSTMRegressor(**FAST, random_state=0).fit(pd.DataFrame(X).add_prefix("lag"), y)
    assert model.n_features_in_ == 8
    assert model.feature_names_in_.tolist()[:2] == ["lag0", "lag1"]
    assert model.module_.groups[0].input_size == 1


def test_classifier_with_string_labels(rng):
    X = rng.normal(size=(240, 6, 1)).astype(np.float32)
    y = np.where(X[:, -3:, 0].sum(axis=1) > 0, "up", "down")
    clf = LSTMClassifier(units=16, max_epochs=40, learning_rate=0.01, random_state=0)
    clf.fit(X[:180], y[:180])
    assert clf.classes_.tolist() == ["down", "up"]
    proba = clf.predict_proba(X[180:])
    assert proba.shape == (60, 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X[180:]), clf.classes_[proba.argmax(axis=1)])
    assert clf.score(X[180:], y[180:]) > 0.85


def test_classifier_multiclass_int_labels(rng):
    X = rng.normal(size=(150, 4, 2))
    y = np.digitize(X[:, -1, 0], [-0.5, 0.5]) * 10  # labels 0, 10, 20
    clf = LSTMClassifier(**FAST, random_state=0).fit(X, y)
    assert clf.classes_.tolist() == [0, 10, 20]
    assert set(clf.predict(X)) <= {0, 10, 20}
    assert clf.predict_proba(X).shape == (150, 3)


# ----------------------------------------------------------------------------- training loop


def test_history_and_early_stopping_restore_the_best_epoch(windows_data):
    X, y = windows_data
    model = LSTMRegressor(
        units=8,
        max_epochs=200,
        patience=2,
        validation_fraction=0.25,
        learning_rate=0.05,
        random_state=0,
    ).fit(X, y)
    history = pd.DataFrame(model.history_)
    assert history.columns.tolist() == ["epoch", "train_loss", "val_loss"]
    assert model.n_iter_ == len(history) < 200  # stopped early
    best = history["val_loss"].idxmin()
    assert len(history) - 1 - best == 2  # exactly `patience` epochs past the best
    # the restored weights are the best epoch's: recompute the validation loss
    n_val = int(np.ceil(0.25 * len(X)))
    pred = model.predict(X[-n_val:])
    val_mse = np.mean(((pred - y[-n_val:]) / model.target_scale_) ** 2)
    assert val_mse == pytest.approx(history["val_loss"][best], rel=1e-4)


def _unseen(model, X, y, rows):
    """Whether ``model.fit(X, y)`` neither trains nor validates on the samples ``rows``:
    changing their targets then changes nothing, weights and history alike."""
    fitted = clone(model).fit(X, y)
    changed = y.copy()
    changed[rows] += 100.0
    other = clone(model).fit(X, changed)
    if other.history_ != fitted.history_:
        return False
    weights = other.module_.state_dict()
    return all(torch.equal(v, weights[k]) for k, v in fitted.module_.state_dict().items())


_EMBARGO_PARAMS = {
    **FAST,
    "validation_fraction": 0.1,
    "max_epochs": 1,
    "standardize_target": False,  # the targets' moments would read every sample
    "random_state": 0,
}


def test_validation_tail_drops_overlapping_training_windows():
    base = np.arange(130.0)[:, None]
    X = sliding_window_view(base, 11, axis=0).transpose(0, 2, 1)  # 120 windows sharing rows
    y = base[10:, 0].copy()
    model = LSTMRegressor(**_EMBARGO_PARAMS)
    # Validation: the 12 most recent windows; the 10 before them share their rows: embargoed.
    assert _unseen(model, X, y, slice(98, 108))
    assert not _unseen(model, X, y, [97])  # trained on
    assert not _unseen(model, X, y, [108])  # validated on


def test_the_embargo_does_not_depend_on_memory_layout():
    # Issue 12: a contiguous copy of the very same windows used to get no embargo at all, so
    # windows overlapping the validation tail leaked into early stopping.
    base = np.arange(130.0)[:, None]
    view = sliding_window_view(base, 11, axis=0).transpose(0, 2, 1)
    y = base[10:, 0].copy()
    model = LSTMRegressor(**_EMBARGO_PARAMS)
    copied = np.ascontiguousarray(view)
    assert _unseen(model, copied, y, slice(98, 108))
    assert not _unseen(model, copied, y, [97])
    first = clone(model).fit(view, y)
    second = clone(model).fit(copied, y)
    assert first.history_ == second.history_
    np.testing.assert_array_equal(first.predict(view), second.predict(copied))
    # Independent sequences (no window continues another) keep every training sample.
    independent = np.random.default_rng(0).normal(size=(120, 11, 1))
    assert not _unseen(model, independent, y, [98])
    assert not _unseen(model, independent, y, [107])


def test_a_contiguous_copy_of_sliding_windows_is_stored_as_its_rows():
    """Recognised from content: fit keeps one float32 copy of the rows, not of the windows."""
    base = np.random.default_rng(0).normal(size=(20_000, 4))
    X = np.ascontiguousarray(sliding_window_view(base, 64, axis=0).transpose(0, 2, 1))
    model = LSTMRegressor(
        units=2, max_epochs=1, windows_per_epoch=64, validation_fraction=0.0, random_state=0
    )
    tracemalloc.start()
    try:
        model.fit(X, base[63:, 0])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * base.nbytes  # float32 windows would take 32 x base.nbytes


@pytest.mark.parametrize("missing", [[150], [3, 4], [100, 101, 102, 103, 104, 105, 106]])
def test_the_embargo_holds_when_windows_are_missing(missing):
    """Issue 22: one window deleted from a contiguous window array made every window its own
    sequence, so 19 training windows overlapping the validation windows were kept."""
    rng = np.random.default_rng(0)
    series = np.cumsum(rng.normal(size=(200, 2)), axis=0)
    keep = np.delete(np.arange(200), missing)
    lazy = SlidingWindowTransformer(20, lazy=True).fit_transform(series)[keep]  # by rows
    dense = np.asarray(lazy)  # the same windows, each holding its own copy of its rows
    y = series[keep, 0]
    params = {**FAST, "validation_fraction": 0.2, "max_epochs": 2, "random_state": 0}
    by_rows = LSTMRegressor(**params).fit(lazy, y)
    by_content = LSTMRegressor(**params).fit(dense, y)
    assert by_content.history_ == by_rows.history_
    np.testing.assert_array_equal(by_content.predict(dense), by_rows.predict(lazy))


def test_partial_fit_continues_training(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**FAST, random_state=0)
    model.partial_fit(X, y)
    assert model.n_iter_ == 1
    weights = copy.deepcopy(model.module_.state_dict())
    module = model.module_
    model.partial_fit(X, y, epochs=3)
    assert model.n_iter_ == 4 and len(model.history_) == 4
    assert model.module_ is not module  # trained on a copy, committed on success
    assert [r["epoch"] for r in model.history_] == [0, 1, 2, 3]
    assert any(not torch.equal(weights[k], v) for k, v in model.module_.state_dict().items())
    assert model.history_[-1]["train_loss"] < model.history_[0]["train_loss"]


def test_partial_fit_classes_and_unseen_labels(rng):
    X = rng.normal(size=(40, 5))
    clf = LSTMClassifier(**FAST, random_state=0)
    clf.partial_fit(X, np.repeat(["a", "b"], 20), classes=["a", "b", "c"])
    assert clf.classes_.tolist() == ["a", "b", "c"]
    clf.partial_fit(X, np.repeat(["c", "a"], 20))
    with pytest.raises(ValueError, match=r"labels not seen.*\['z'\]"):
        clf.partial_fit(X, np.repeat(["a", "z"], 20))


def test_warm_start_keeps_the_network(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**FAST, warm_start=True, random_state=0).fit(X, y)
    model.fit(X, y)
    assert model.n_iter_ == 6
    assert [r["epoch"] for r in model.history_] == list(range(6))
    # The second fit went on from the first one's weights, not from a new network.
    assert model.history_[3]["train_loss"] < model.history_[0]["train_loss"]
    cold = LSTMRegressor(**FAST, random_state=0).fit(X, y)
    module = cold.module_
    assert cold.fit(X, y).module_ is not module and cold.n_iter_ == 3


def test_units_per_layer(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**{**FAST, "units": (12, 6)}, num_layers=2).fit(X, y)
    assert [g.hidden_size for g in model.module_.groups] == [12, 6]
    with pytest.raises(ValueError, match="one positive int per layer"):
        LSTMRegressor(units=(12, 6), num_layers=3).fit(X, y)


def test_divergence_in_the_first_epoch_raises_and_keeps_the_old_weights(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**FAST, warm_start=True, random_state=0).fit(X, y)
    before = model.predict(X)
    model.set_params(optimizer="sgd", learning_rate=1e30)
    with pytest.raises(ValueError, match=r"diverged.*lower learning_rate"):
        model.fit(X, y)
    np.testing.assert_array_equal(model.predict(X), before)


class _PoisonWeights(pl.Callback):
    """Turn the weights to NaN at the start of one epoch, as a numerical blow-up would."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.epoch:
            with torch.no_grad():
                pl_module.network.head.weight.fill_(np.nan)


def test_divergence_after_good_epochs_restores_the_best_weights(windows_data):
    X, y = windows_data
    model = LSTMRegressor(
        **{**FAST, "max_epochs": 6, "validation_fraction": 0.2},
        random_state=0,
        trainer_kwargs={"callbacks": [_PoisonWeights(epoch=3)]},
    )
    with pytest.warns(RuntimeWarning, match="NaN, infinite or exploded in epoch 3.*best epoch"):
        model.fit(X, y)
    assert model.n_iter_ == 4
    assert np.isfinite(model.predict(X)).all()


def test_gradient_clipping_bounds_each_step(windows_data):
    X, y = windows_data
    start = LSTMRegressor(**{**FAST, "max_epochs": 1}, optimizer="sgd", random_state=0)
    start.partial_fit(X[:8], y[:8])
    clipped = copy.deepcopy(start).set_params(learning_rate=1.0, gradient_clip_val=1e-3)
    clipped.partial_fit(X[:8], y[:8])  # one SGD step of norm <= lr * clip
    before = torch.cat([p.detach().flatten() for p in start.module_.parameters()])
    after = torch.cat([p.detach().flatten() for p in clipped.module_.parameters()])
    assert 0 < float((after - before).norm()) <= 1e-3 * 1.0001


def test_bf16_mixed_precision_on_cpu(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**FAST, precision="bf16-mixed", accelerator="cpu", random_state=0)
    pred = model.fit(X, y).predict(X)
    assert np.isfinite(pred).all()
    assert next(model.module_.parameters()).dtype == torch.float32


# ----------------------------------------------------------------------------- sklearn contract


def test_reproducible_with_random_state_and_global_rng_untouched(windows_data):
    X, y = windows_data
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = LSTMRegressor(**FAST, dropout=0.2, random_state=7).fit(X, y).predict(X)
    assert torch.equal(torch.get_rng_state(), before)
    LSTMClassifier(**FAST, random_state=1).fit(X, y > 0)  # another model in between
    second = LSTMRegressor(**FAST, dropout=0.2, random_state=7).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, second)
    other = LSTMRegressor(**FAST, dropout=0.2, random_state=8).fit(X, y).predict(X)
    assert not np.array_equal(first, other)


def test_clone_pickle_joblib_deepcopy_round_trips(windows_data, tmp_path):
    X, y = windows_data
    model = LSTMRegressor(**FAST, random_state=0).fit(X, y)
    expected = model.predict(X)
    assert not hasattr(clone(model), "module_")
    assert clone(model).get_params() == model.get_params()
    restored = [
        pickle.loads(pickle.dumps(model)),
        copy.deepcopy(model),
    ]
    joblib.dump(model, tmp_path / "model.joblib")
    restored.append(joblib.load(tmp_path / "model.joblib"))
    for other in restored:
        np.testing.assert_array_equal(other.predict(X), expected)
        assert other.history_ == model.history_
    # a restored model can keep training
    restored[0].partial_fit(X, y)
    assert restored[0].n_iter_ == model.n_iter_ + 1


@pytest.mark.parametrize("estimator", [LSTMClassifier, LSTMRegressor])
def test_no_fitted_attributes_before_fit(estimator):
    model = estimator()
    assert not [name for name in vars(model) if name.endswith("_")]
    with pytest.raises(NotFittedError):
        model.predict(np.zeros((2, 3)))


def test_quiet_by_default_prints_and_writes_nothing(windows_data, tmp_path, capfd):
    X, y = windows_data
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        LSTMRegressor(**{**FAST, "validation_fraction": 0.2}, random_state=0).fit(X, y)
    finally:
        os.chdir(cwd)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert list(tmp_path.iterdir()) == []


def test_the_cpu_asked_for_on_a_gpu_machine_gives_no_lightning_warning(windows_data, monkeypatch):
    """Old code: Lightning's PossibleUserWarning "GPU available but not used" on every fit
    with accelerator="cpu" on a GPU machine (an error under the suite's warning filter)."""
    from lightning.pytorch.accelerators import CUDAAccelerator

    monkeypatch.setattr(CUDAAccelerator, "is_available", staticmethod(lambda: True))
    X, y = windows_data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LSTMRegressor(**FAST, accelerator="cpu", random_state=0).fit(X, y)


def test_verbose_shows_lightning_output(windows_data, tmp_path, capfd):
    X, y = windows_data
    LSTMRegressor(
        **FAST, verbose=1, random_state=0, trainer_kwargs={"default_root_dir": str(tmp_path)}
    ).fit(X, y)
    out, err = capfd.readouterr()
    assert "Epoch" in out + err


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        (np.full((10, 4, 1), np.nan), np.zeros(10), "NaN"),
        (np.ones((10, 4, 1)), np.r_[np.zeros(9), np.inf], "infinity"),
        (np.ones((10, 4)), np.zeros(9), "inconsistent numbers of samples"),
        (np.ones(10), np.zeros(10), "Reshape your data"),
        (np.ones((10, 4, 1, 1)), np.zeros(10), "2-D .* or 3-D"),
        (np.ones((10, 0, 1)), np.zeros(10), "at least one time step"),
        (np.ones((10, 4)), None, "requires y to be passed"),
        (np.array([["a", "b"]] * 10), np.zeros(10), "could not convert|numeric"),
    ],
)
def test_clear_errors_in_fit(X, y, match):
    with pytest.raises(ValueError, match=match):
        LSTMRegressor(**FAST).fit(X, y)


def test_clear_errors_in_predict(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**FAST, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but LSTMRegressor is expecting 2"):
        model.predict(np.ones((2, 6, 3)))
    with pytest.raises(ValueError, match="fitted on 3-D input"):
        model.predict(np.ones((2, 6)))
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.full((2, 6, 2), np.nan))


def test_classifier_needs_two_classes():
    with pytest.raises(ValueError, match="only one class"):
        LSTMClassifier(**FAST).fit(np.ones((10, 3)), ["a"] * 10)
    with pytest.raises(ValueError, match="Unknown label type"):
        LSTMClassifier(**FAST).fit(np.ones((10, 3)), np.linspace(0, 1, 10))


def test_parameter_errors_use_sklearn_wording(windows_data):
    X, y = windows_data
    with pytest.raises(ValueError, match="'optimizer' parameter of LSTMRegressor must be"):
        LSTMRegressor(optimizer="adagrad").fit(X, y)
    with pytest.raises(ValueError, match="'validation_fraction' parameter"):
        LSTMRegressor(validation_fraction=1.0).fit(X, y)
    with pytest.raises(ValueError, match=r"validation_fraction=0\.5 of 1 sample"):
        LSTMRegressor(validation_fraction=0.5).fit(X[:1], y[:1])


# ----------------------------------------------------------------------------- GPU


@pytest.mark.gpu
def test_fit_on_cuda_predicts_on_cpu(windows_data):
    X, y = windows_data
    model = LSTMRegressor(**FAST, accelerator="cuda", random_state=0).fit(X, y)
    assert next(model.module_.parameters()).device.type == "cpu"
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(restored.predict(X), model.predict(X))
    mixed = LSTMRegressor(**FAST, accelerator="cuda", precision="bf16-mixed", random_state=0)
    assert np.isfinite(mixed.fit(X, y).predict(X)).all()


_TWO_PROCESS_FIT = """
import numpy as np
from tsforecast import LSTMRegressor
rng = np.random.default_rng(0)
X = rng.normal(size=(160, 6, 2)).astype(np.float32)
y = X[:, -1, 0] - 0.5 * X[:, -2, 1]
model = LSTMRegressor(
    units=8, max_epochs=3, batch_size=32, validation_fraction=0.2,
    accelerator="cpu", devices=2, random_state=0,
).fit(X, y)
assert model.n_iter_ == 3 and "val_loss" in model.history_[-1]
assert next(model.module_.parameters()).device.type == "cpu"
pred = model.predict(X)
assert pred.shape == (len(X),) and np.isfinite(pred).all()
# the optimizer state came back from the workers, so training can continue here
assert model._optimizer_state["adam"]["state"]
model.set_params(devices=1).partial_fit(X, y)
assert model.n_iter_ == 4
print("ok")
"""


def test_two_cpu_processes_train_one_usable_model():
    """devices=2: Lightning DDP in spawned processes, each training on half the samples.

    Run in a fresh interpreter, as a user script would. Known issue: on a loaded 2-core
    machine a gloo worker occasionally aborts at exit ("terminate called without an active
    exception"), which fails that fit; the test allows that one failure mode a retry and
    fails on anything else.
    """
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", _TWO_PROCESS_FIT], capture_output=True, text=True, timeout=300
        )
        if out.returncode == 0 or "terminate called without an active exception" not in out.stderr:
            break
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok")


class _CountBackward(pl.Callback):
    """Observes every backward pass: forces the Lightning-hooked step path."""

    def __init__(self):
        self.calls = 0

    def on_after_backward(self, trainer, pl_module):
        self.calls += 1


def test_direct_and_lightning_step_paths_train_identically(windows_data):
    X, y = windows_data
    params = {**FAST, "gradient_clip_val": 0.5, "random_state": 0}
    direct = LSTMRegressor(**params).fit(X, y)
    counter = _CountBackward()
    hooked = LSTMRegressor(**params, trainer_kwargs={"callbacks": [counter]}).fit(X, y)
    assert counter.calls == 3 * int(np.ceil(len(X) / 32))  # the hooks saw every step
    np.testing.assert_array_equal(direct.predict(X), hooked.predict(X))
