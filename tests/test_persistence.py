"""save_model / load_model: exact round trips, refusal of damaged or altered files, files that
never choose where a later fit writes; pickling; hand-altered checkpoint files."""

import contextlib
import copy
import os
import pickle
import random
import warnings
import zipfile

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import FAST

from tsforecast import LSTMClassifier, LSTMRegressor, load_model, save_model


@pytest.fixture
def fitted_pair(rng):
    X = pd.DataFrame(rng.normal(size=(120, 6)), columns=[f"lag{i}" for i in range(6)])
    labels = np.where(X["lag5"] > 0, "up", "down")
    regressor = LSTMRegressor(**FAST, random_state=0).fit(X, X["lag5"] * 10)
    classifier = LSTMClassifier(**FAST, random_state=0).fit(X, labels)
    return X, regressor, classifier


def test_save_load_round_trip_is_exact(fitted_pair, tmp_path):
    X, regressor, classifier = fitted_pair
    for model in (regressor, classifier):
        path = tmp_path / f"{type(model).__name__}.pt"
        save_model(model, path)
        loaded = load_model(path)
        assert type(loaded) is type(model)
        assert loaded.get_params() == model.get_params()
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
        assert loaded.history_ == model.history_
        assert loaded.feature_names_in_.tolist() == model.feature_names_in_.tolist()
    np.testing.assert_array_equal(
        load_model(tmp_path / "LSTMClassifier.pt").classes_, ["down", "up"]
    )
    # a loaded model keeps training from the saved optimizer state
    loaded = load_model(tmp_path / "LSTMRegressor.pt")
    loaded.partial_fit(X, X["lag5"] * 10)
    assert loaded.n_iter_ == regressor.n_iter_ + 1


def test_load_refuses_corrupted_foreign_and_newer_files(fitted_pair, tmp_path):
    _, regressor, _ = fitted_pair
    good = tmp_path / "model.pt"
    save_model(regressor, good)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:500])
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x80\x02" + random.Random(0).randbytes(2000))  # looks like a pickle
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    for path, match in [
        (truncated, "not a readable tsforecast model file"),
        (garbage, "not a readable tsforecast model file"),
        (foreign, "not a tsforecast model file"),
    ]:
        with pytest.raises(ValueError, match=match):
            load_model(path)
    payload = torch.load(good, weights_only=True)
    payload["format_version"] = 99
    newer = tmp_path / "newer.pt"
    torch.save(payload, newer)
    with pytest.raises(ValueError, match="format version 99"):
        load_model(newer)


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


@pytest.mark.parametrize("seed", range(20))
def test_any_damaged_file_gives_a_value_error(fitted_pair, tmp_path, seed):
    _, regressor, _ = fitted_pair
    path = tmp_path / "model.pt"
    save_model(regressor, path)
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    for _ in range(20):  # flip bytes anywhere: headers, pickle stream, tensor data
        data[rng.randrange(len(data))] ^= 0xFF
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(bytes(data[: rng.randrange(len(data) // 2, len(data) + 1)]))
    # Only the documented ValueError may escape (a flip inside tensor data alone may load).
    with contextlib.suppress(ValueError):
        load_model(damaged)


def test_load_never_executes_code_from_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    malicious = tmp_path / "malicious.pt"
    torch.save({"format": "tsforecast-model", "payload": _Exploit()}, malicious)
    with pytest.raises(ValueError, match="not a readable tsforecast model file"):
        load_model(malicious)
    assert not (tmp_path / "pwned").exists()


def test_a_file_saved_on_a_gpu_loads_on_the_cpu(fitted_pair, tmp_path, monkeypatch):
    """Simulate a CUDA-saved file: every storage is tagged 'cuda:0', as on a GPU machine."""
    X, regressor, _ = fitted_pair
    path = tmp_path / "cuda.pt"
    monkeypatch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
    save_model(regressor, path)
    monkeypatch.undo()
    with zipfile.ZipFile(path) as archive:
        pickled = archive.read(next(n for n in archive.namelist() if n.endswith("data.pkl")))
    assert b"cuda:0" in pickled
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError):
            torch.load(path, weights_only=True)  # what a naive load does on a CPU machine
    np.testing.assert_array_equal(load_model(path).predict(X), regressor.predict(X))


def test_pickled_state_holds_numpy_weights_and_nothing_from_torch(fitted_pair):
    _, regressor, _ = fitted_pair
    weights = {k: v.clone() for k, v in regressor.module_.state_dict().items()}
    state = regressor.__getstate__()
    assert state["module_"].keys() == weights.keys()
    for name, tensor in weights.items():
        assert isinstance(state["module_"][name], np.ndarray)
        np.testing.assert_array_equal(state["module_"][name], tensor.numpy())
        assert torch.equal(regressor.module_.state_dict()[name], tensor)  # the model unchanged
    assert not any(isinstance(v, pl.Trainer | pl.LightningModule) for v in state.values())
    data = pickle.dumps(regressor)
    assert b"lightning" not in data and b"torch" not in data


def test_save_model_drops_unportable_parameters_with_a_warning(fitted_pair, tmp_path):
    _, regressor, _ = fitted_pair
    regressor.set_params(random_state=np.random.RandomState(0))
    with pytest.warns(UserWarning, match=r"\['random_state'\]"):
        save_model(regressor, tmp_path / "m.pt")
    assert load_model(tmp_path / "m.pt").random_state is None
    with pytest.raises(ValueError, match="not fitted"):
        save_model(LSTMRegressor(), tmp_path / "unfitted.pt")


def test_save_refuses_a_fitted_attribute_a_file_cannot_hold_and_writes_nothing(
    fitted_pair, tmp_path
):
    _, regressor, _ = fitted_pair
    path = tmp_path / "model.pt"
    save_model(regressor, path)
    before = path.read_bytes()
    regressor.trained_until_ = pd.Timestamp("2024-01-31")  # a user's own annotation
    with pytest.raises(TypeError, match="fitted attribute trained_until_: it holds a Timestamp"):
        save_model(regressor, path)
    assert path.read_bytes() == before  # the previous file is intact
    regressor.trained_until_ = "2024-01-31"  # a string is kept, as a fitted attribute
    save_model(regressor, path)
    assert load_model(path).trained_until_ == "2024-01-31"


# ----------------------------------------------------------------------------- label types


def _labels(up):
    dates = np.where(up, np.datetime64("2020-01-02"), np.datetime64("2020-01-01"))
    return {
        "int64": up.astype(np.int64),
        "bool": up,
        "uint64": up.astype(np.uint64),
        "big-endian int32": up.astype(">i4"),
        "float16": up.astype(np.float16),
        "str": np.where(up, "up", "down"),
        "object str": np.where(up, "up", "down").astype(object),
        "pandas Categorical": pd.Categorical(np.where(up, "up", "down")),
        "datetime64[D]": dates,
        "datetime64[ns]": dates.astype("datetime64[ns]") + np.timedelta64(1, "ns"),
        "pandas datetime Series": pd.Series(pd.to_datetime(dates)),
        "timedelta64[h]": np.where(up, np.timedelta64(1, "h"), np.timedelta64(2, "h")),
    }


@pytest.mark.parametrize("kind", list(_labels(np.array([True]))))
def test_every_label_type_round_trips_exactly(kind, rng, tmp_path):
    """Old code: datetime64[D], timedelta64 and pandas datetime labels saved a file that
    load_model refused ("datetime.date was not an allowed global"); big-endian labels could
    not be saved. (fit refuses object arrays of Timestamps or mixed types: sklearn's
    type_of_target calls them 'unknown'.)"""
    X = rng.normal(size=(40, 3, 1))
    y = _labels(X[:, -1, 0] > 0)[kind]
    model = LSTMClassifier(units=4, max_epochs=1, batch_size=32, random_state=0).fit(X, y)
    save_model(model, tmp_path / "clf.pt")
    loaded = load_model(tmp_path / "clf.pt")
    assert loaded.classes_.dtype == model.classes_.dtype
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    predicted = loaded.predict(X)
    assert predicted.dtype == model.predict(X).dtype
    np.testing.assert_array_equal(predicted, model.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.score(X, y) == model.score(X, y)


def test_labels_a_file_cannot_hold_are_refused_before_writing(fitted_pair, tmp_path):
    _, _, classifier = fitted_pair
    # e.g. a user mapping the classes to the Timestamps they stand for
    classifier.classes_ = np.array([pd.Timestamp("2020-01-01"), pd.Timestamp("2021-01-01")])
    with pytest.raises(TypeError, match=r"classes_ holds Timestamp objects.*datetime64"):
        save_model(classifier, tmp_path / "clf.pt")
    assert not (tmp_path / "clf.pt").exists()


def test_numpy_scalar_hyperparameters_round_trip(windows_data, tmp_path):
    """Old code: a parameter grid's np.int64/np.float64 made an unloadable file."""
    X, y = windows_data
    grid_point = {"units": np.int64(4), "learning_rate": np.float64(0.01), "dropout": np.float32(0)}
    model = LSTMRegressor(**{**FAST, **grid_point}, random_state=0).fit(X, y)
    save_model(model, tmp_path / "m.pt")
    loaded = load_model(tmp_path / "m.pt")
    assert loaded.get_params() == model.get_params()
    assert type(loaded.units) is int and type(loaded.learning_rate) is float
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    before = loaded.predict(X)
    loaded.partial_fit(X, y)
    assert loaded.n_iter_ == model.n_iter_ + 1 and not np.array_equal(loaded.predict(X), before)


# ----------------------------------------------------------------------------- settings that write


def _files_under(directory):
    return sorted(p.relative_to(directory) for p in directory.rglob("*"))


def test_save_model_stores_no_setting_that_writes_to_disk(windows_data, tmp_path, monkeypatch):
    X, y = windows_data
    work = tmp_path / "work"
    work.mkdir()
    model = LSTMRegressor(
        **FAST,
        random_state=0,
        checkpoint_path=tmp_path / "run.ckpt",
        trainer_kwargs={"default_root_dir": str(tmp_path / "logs"), "deterministic": True},
    ).fit(X, y)
    with pytest.warns(
        UserWarning, match=r"\['checkpoint_path', \"trainer_kwargs\['default_root_dir'\]\"\]"
    ):
        save_model(model, tmp_path / "m.pt")
    loaded = load_model(tmp_path / "m.pt")
    assert loaded.checkpoint_path is None
    assert loaded.trainer_kwargs == {"deterministic": True}  # arithmetic options are kept
    monkeypatch.chdir(work)
    loaded.fit(X, y)
    assert _files_under(work) == []


def test_a_crafted_model_file_never_chooses_where_a_later_fit_writes(
    windows_data, tmp_path, monkeypatch
):
    """Old code: the loaded model kept the file's checkpoint_path and trainer_kwargs, and its
    next fit wrote Lightning logs into the directory the file named."""
    X, y = windows_data
    model = LSTMRegressor(**FAST, random_state=0).fit(X, y)
    save_model(model, tmp_path / "m.pt")
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    target = tmp_path / "chosen_by_the_file"
    payload["params"]["checkpoint_path"] = str(target / "run.ckpt")
    payload["params"]["trainer_kwargs"] = {
        "default_root_dir": str(target),
        "logger": True,
        "enable_checkpointing": True,
        "limit_train_batches": 1000,
    }
    torch.save(payload, tmp_path / "crafted.pt")
    with pytest.warns(UserWarning, match="load_model ignored") as record:
        loaded = load_model(tmp_path / "crafted.pt")
    for name in ("checkpoint_path", "'default_root_dir'", "'logger'", "'enable_checkpointing'"):
        assert name in str(record[0].message)
    assert loaded.checkpoint_path is None
    assert loaded.trainer_kwargs == {"limit_train_batches": 1000}
    monkeypatch.chdir(tmp_path)
    loaded.fit(X, y)
    assert not target.exists() and not (tmp_path / "lightning_logs").exists()


# ----------------------------------------------------------------------------- altered files


def _alter(path, out, change):
    payload = torch.load(path, weights_only=True)
    change(payload)
    torch.save(payload, out)
    return out


def _set(section, key, value):
    return lambda payload: payload[section].__setitem__(key, value)


def _weight(name, transform):
    return lambda payload: payload["network"].__setitem__(name, transform(payload["network"][name]))


def _optimizer_entry(transform):
    def change(payload):
        state = payload["fitted"]["_optimizer_state"]["adam"]["state"][0]
        state["exp_avg"] = transform(state["exp_avg"])

    return change


_ALTERATIONS = {
    "missing _input_ndim": (
        lambda p: p["fitted"].pop("_input_ndim"),
        r"fitted attributes \['_input_ndim'\] are missing",
    ),
    "fitted as a list": (
        lambda p: p.__setitem__("fitted", list(p["fitted"].items())),
        "'fitted' entry should be a dict, got list",
    ),
    "params as None": (lambda p: p.__setitem__("params", None), "'params' entry should be a dict"),
    "units=0": (_set("params", "units", 0), "'units' parameter of LSTMRegressor"),
    "units=(8, 0)": (
        lambda p: p["params"].update(units=(8, 0), num_layers=2),
        "'units' parameter .* one positive int per layer",
    ),
    "units=2**28": (
        lambda p: p["fitted"]["_architecture"].update(units=[2**28]),
        "should be a torch.float32 tensor of shape",
    ),
    "architecture units=0": (
        lambda p: p["fitted"]["_architecture"].update(units=[0]),
        "units should be a list of positive ints",
    ),
    "architecture cell": (
        lambda p: p["fitted"]["_architecture"].update(cell="rnn"),
        "'cell' parameter",
    ),
    "unknown parameter": (_set("params", "alpha", 1.0), r"\['alpha'\] are not parameters"),
    "unknown class": (lambda p: p.__setitem__("class", "Pipeline"), "class 'Pipeline'"),
    "NaN weight": (_weight("head.weight", lambda w: w * np.nan), "'head.weight' holds NaN"),
    "inf weight": (_weight("head.bias", lambda w: w + np.inf), "'head.bias' holds NaN or inf"),
    "truncated weight": (_weight("head.weight", lambda w: w[:, :2]), "'head.weight' should be"),
    "float64 weight": (_weight("head.weight", lambda w: w.double()), "'head.weight' should be"),
    "missing weight": (lambda p: p["network"].pop("head.bias"), r"missing \['head.bias'\]"),
    "n_features_in_ 7": (_set("fitted", "n_features_in_", 7), "shape"),
    "n_features_in_ 0": (_set("fitted", "n_features_in_", 0), "n_features_in_ should be"),
    "_input_ndim 4": (_set("fitted", "_input_ndim", 4), "_input_ndim should be 2 or 3"),
    "history_ a string": (_set("fitted", "history_", "x"), "history_ should be a list"),
    "n_iter_ off by one": (_set("fitted", "n_iter_", 4), r"n_iter_ should equal len\(history_\)"),
    "zero target scale": (
        _set(
            "fitted",
            "target_scale_",
            {"ndarray": {"dtype": "<f8", "shape": [1], "data": torch.zeros(8, dtype=torch.uint8)}},
        ),
        "target_scale_ should be positive",
    ),
    "array bytes cut": (
        lambda p: p["fitted"]["target_mean_"]["ndarray"].__setitem__(
            "data", torch.zeros(3, dtype=torch.uint8)
        ),
        "target_mean_ does not hold 1 values",
    ),
    "best_epoch_ a string": (_set("fitted", "best_epoch_", "x"), "best_epoch_ should be None or"),
    "best_epoch_ past n_iter_": (_set("fitted", "best_epoch_", 3), "best_epoch_ should be None or"),
    "best_loss_ a string": (_set("fitted", "best_loss_", "x"), "best_loss_ should be a number"),
    "loss_ unknown": (_set("fitted", "loss_", "l3"), "loss_ should be one of"),
    "history_ renumbered": (
        lambda p: p["fitted"]["history_"][1].update(epoch=7),
        "history_ should hold one record per epoch, numbered from 0",
    ),
    "limit_train_batches=-7": (
        _set("params", "trainer_kwargs", {"limit_train_batches": -7}),
        "'limit_train_batches' parameter of trainer_kwargs must be",
    ),
    "limit_train_batches=1.5": (
        _set("params", "trainer_kwargs", {"limit_train_batches": 1.5}),
        "'limit_train_batches' parameter of trainer_kwargs",
    ),
    "deterministic='x'": (
        _set("params", "trainer_kwargs", {"deterministic": "x"}),
        "'deterministic' parameter of trainer_kwargs",
    ),
    "method shadowed": (_set("fitted", "predict", 1), "'predict' is not a fitted attribute"),
    "module_ in fitted": (_set("fitted", "module_", 1), "'module_' is not a fitted attribute"),
    "optimizer state reshaped": (
        _optimizer_entry(lambda t: t[:1]),
        "'adam' optimizer state of parameter 0 does not match",
    ),
}


@pytest.mark.parametrize("case", list(_ALTERATIONS))
def test_hand_altered_files_give_the_documented_value_error(case, windows_data, tmp_path):
    """Old code: AttributeError, TypeError, torch's 'hidden_size must be greater than zero',
    or a model that silently predicted NaN."""
    X, y = windows_data
    path = tmp_path / "m.pt"
    save_model(LSTMRegressor(**FAST, random_state=0).fit(X, y), path)
    change, match = _ALTERATIONS[case]
    altered = _alter(path, tmp_path / "altered.pt", change)
    with pytest.raises(ValueError, match=match):
        load_model(altered)


def test_altered_classes_give_the_documented_value_error(fitted_pair, tmp_path):
    _, _, classifier = fitted_pair
    path = tmp_path / "clf.pt"
    save_model(classifier, path)
    for strings, match in [
        (["up", "down"], "sorted order"),
        (["up", "up"], "at least 2 distinct labels"),
        (["up", 1], "should hold 2 strings"),
    ]:
        altered = _alter(
            path,
            tmp_path / "altered.pt",
            lambda p, s=strings: p["fitted"]["classes_"]["ndarray"].update(
                dtype="O", shape=[2], strings=s
            ),
        )
        with pytest.raises(ValueError, match=match):
            load_model(altered)


def _leaves(tree, path=()):
    """Every (path, value) of a payload, down to tensors and scalars."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(tree, list | tuple):
        for i, value in enumerate(tree):
            yield from _leaves(value, (*path, i))
    yield path, tree


def _replace(tree, path, value):
    if len(path) == 1:
        if isinstance(tree, tuple):
            return (*tree[: path[0]], value, *tree[path[0] + 1 :])
        tree[path[0]] = value
        return tree
    tree[path[0]] = _replace(tree[path[0]], path[1:], value)
    return tree


_SUBSTITUTES = (None, "x", -1, 2.5, [], {}, torch.full((2,), torch.nan))


@pytest.mark.parametrize("which", ["regressor", "classifier"])
def test_any_altered_entry_loads_a_working_model_or_gives_a_value_error(
    which, fitted_pair, tmp_path
):
    """Replace every entry of the file, at every depth, by values of other types: only the
    documented ValueError may escape, and a model that loads predicts as a model should."""
    X, regressor, classifier = fitted_pair
    path = tmp_path / "m.pt"
    save_model(regressor if which == "regressor" else classifier, path)
    original = torch.load(path, weights_only=True)
    entries = [  # the first of repeated records (epochs, parameters) stands for all
        p
        for p, _ in _leaves(original)
        if p
        and p[0] not in ("format", "format_version")
        and not any(type(k) is int and k > 0 for k in p)
    ]
    altered = tmp_path / "altered.pt"
    for i, entry in enumerate(entries):
        for k in range(2):
            value = _SUBSTITUTES[(i + k) % len(_SUBSTITUTES)]
            torch.save(_replace(copy.deepcopy(original), entry, value), altered)
            try:
                with warnings.catch_warnings():  # an altered checkpoint_path is ignored
                    warnings.filterwarnings("ignore", "load_model ignored", UserWarning)
                    loaded = load_model(altered)
            except ValueError:
                continue
            if entry[:2] == ("fitted", "feature_names_in_"):  # altered names: X is refused
                with pytest.raises(ValueError, match="feature names should match"):
                    loaded.predict(X)
            elif which == "regressor":
                assert np.isfinite(loaded.predict(X)).all(), (entry, value)
            else:
                assert np.isin(loaded.predict(X), loaded.classes_).all(), (entry, value)


# ----------------------------------------------------------------------------- checkpoint files


class _FailAt(pl.Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.epoch:
            raise RuntimeError("killed")


def _nan_head(state):
    state["network"]["head.weight"] = state["network"]["head.weight"] * torch.nan


def _reshaped_optimizer(state):
    entry = state["optimizer"]["state"][0]
    entry["exp_avg"] = entry["exp_avg"][:1]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            lambda s: s.pop("fingerprint"),
            "altered backup file: its 'fingerprint' entry should be a str, got NoneType",
        ),
        (
            lambda s: s.__setitem__("progress", "x"),
            "altered backup file: its 'progress' entry should be a dict, got str",
        ),
        (
            lambda s: s.__setitem__("network", [1]),
            "altered backup file: its 'network' entry should be a dict, got list",
        ),
        (_nan_head, "damaged or was altered: network weight 'head.weight' holds NaN"),
        (_reshaped_optimizer, "damaged or was altered: the 'optimizer' optimizer state of param"),
        (
            lambda s: s["progress"].__setitem__("history", [1]),
            "its history should be a list of dicts",
        ),
        (lambda s: s["progress"].pop("best_epoch"), "its progress record lacks or adds"),
        (
            lambda s: s["progress"].__setitem__("best", ({}, {})),
            "best epoch's weights do not match",
        ),
        (lambda s: s.__setitem__("torch_rng", s["torch_rng"][:9]), "its torch_rng is not a"),
        (
            lambda s: s.__setitem__("cuda_rng", [torch.zeros(3)]),
            "its cuda_rng is not a list of random generator states",
        ),
        (lambda s: s.pop("cuda_rng"), "its 'cuda_rng' entry should be a list, got NoneType"),
        (
            lambda s: s["progress"].__setitem__("first_epoch", 100),
            "its first_epoch should be 0, the epochs trained before this fit",
        ),
        (
            lambda s: s["progress"]["history"][1].__setitem__("epoch", 5),
            "its history should be a list of dicts of numbers, one per epoch from 0",
        ),
        (
            lambda s: s["progress"]["history"][0].__setitem__("train_loss", "x"),
            "its history should be a list of dicts of numbers",
        ),
        (
            lambda s: s["progress"].__setitem__("best_epoch", 9),
            "its best_epoch should be None or an epoch from -1 to 1",
        ),
        (
            lambda s: s["progress"].__setitem__("best_epoch", "1"),
            "its best_epoch should be None or an epoch",
        ),
        (
            lambda s: s["progress"].__setitem__("best_epoch", None),
            "its best epoch's weights should be there exactly when its best_epoch is",
        ),
        (lambda s: s["progress"].__setitem__("stopped", "no"), "its stopped should be a bool"),
        (lambda s: s["progress"].__setitem__("diverged_at", 7), "its diverged_at should be"),
        (lambda s: s["progress"].__setitem__("best_loss", None), "its best_loss should be"),
        (lambda s: s["progress"].__setitem__("reference_loss", "x"), "its reference_loss"),
        (lambda s: s["progress"].__setitem__("scale_loss", [1.0]), "its scale_loss"),
    ],
)
def test_a_hand_altered_checkpoint_gives_a_value_error(windows_data, tmp_path, change, match):
    """Old code: KeyError, TypeError or torch's RuntimeError from inside the resume, or a
    resume from NaN weights reported as a divergence."""
    X, y = windows_data
    path = tmp_path / "run.ckpt"
    params = {**FAST, "checkpoint_path": path, "random_state": 0}
    with pytest.raises(RuntimeError, match="killed"):
        LSTMRegressor(**params, trainer_kwargs={"callbacks": [_FailAt(2)]}).fit(X, y)
    _alter(path, path, change)
    model = LSTMRegressor(**params)
    with pytest.raises(ValueError, match=match):
        model.fit(X, y)
    assert not hasattr(model, "module_") and path.exists()


def test_resuming_on_other_gpus_says_the_dropout_masks_differ(windows_data, tmp_path, monkeypatch):
    """Old code skipped restoring the GPUs' generators silently when their count differed."""
    X, y = windows_data
    path, on_cpu = tmp_path / "run.ckpt", tmp_path / "cpu.ckpt"
    params = {**FAST, "accelerator": "cpu", "random_state": 0}
    with pytest.raises(RuntimeError, match="killed"):
        LSTMRegressor(
            **params, checkpoint_path=path, trainer_kwargs={"callbacks": [_FailAt(2)]}
        ).fit(X, y)
    on_cpu.write_bytes(path.read_bytes())
    one_gpu = [torch.zeros(16, dtype=torch.uint8)]  # as if written on a machine with one GPU
    _alter(path, path, lambda payload: payload.__setitem__("cuda_rng", one_gpu))
    reference = LSTMRegressor(**params).fit(X, y)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # resumed on two GPUs
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    restored = []
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", restored.append)
    with pytest.warns(UserWarning, match="holds the random generators of 1 GPU"):
        resumed = LSTMRegressor(**params, checkpoint_path=path).fit(X, y)
    assert [states for states in restored if states] == []  # no GPU's generator was set
    np.testing.assert_array_equal(resumed.predict(X), reference.predict(X))
    # Written on the CPU: nothing to restore, nothing to say (warnings are errors here).
    resumed = LSTMRegressor(**params, checkpoint_path=on_cpu).fit(X, y)
    assert [states for states in restored if states] == []
    np.testing.assert_array_equal(resumed.predict(X), reference.predict(X))
