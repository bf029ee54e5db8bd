"""Save and load fitted estimators and whole pipelines without pickle: weights,
hyperparameters, fitted attributes and a version.

Unlike ``pickle``/``joblib``, loading never executes code from the file: it is read with
``torch.load(..., weights_only=True)``, which accepts tensors, numbers, strings, lists and
dicts only, and every entry is checked before an estimator is built from it. A model file
never decides where a later ``fit`` writes or which code it runs: ``checkpoint_path`` and the
``trainer_kwargs`` that reach the disk or hold code are neither saved nor loaded. Use these
functions to exchange models; use pickle within a trusted pipeline.
"""

from __future__ import annotations

import importlib
import math
import os
import pickle
import warnings
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from .. import __version__
from .._engine.config import PORTABLE_TRAINER_OPTIONS, TRAINER_OPTION_CONSTRAINTS
from .._utils.files import (
    PathLike,
    check_architecture,
    check_optimizer_state,
    check_weights,
    decode_array,
    encode_array,
    expect,
    is_number,
    read_weights_only,
    safe_load,
    serialize,
    write_atomically,
)
from .._utils.sklearn_compat import validate_parameter_constraints
from ..estimators import LSTMClassifier, LSTMRegressor
from ..estimators._base import _BaseLSTM

_FORMAT_VERSION = 2
_CLASSES: dict[str, type[_BaseLSTM]] = {
    "LSTMRegressor": LSTMRegressor,
    "LSTMClassifier": LSTMClassifier,
}
_FIELDS = {"class": str, "params": dict, "fitted": dict, "network": dict}
# Private fitted state besides the public attributes ending in "_".
_PRIVATE_STATE = ("_input_ndim", "_optimizer_state", "_architecture")


def _to_python(value: Any) -> Any:
    """``value`` with NumPy scalars (e.g. from a parameter grid) made Python scalars, which a
    weights-only file can hold."""
    if isinstance(value, np.bool_ | np.integer | np.floating):
        return value.item()
    if type(value) is dict:
        return {k: _to_python(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_to_python(v) for v in value)
    return value


def _is_plain(value: Any, *, state: bool = False) -> bool:
    """Whether a weights-only file holds ``value``: Python scalars, strings, lists, tuples and
    dicts of them; with ``state``, also tensors and int keys (an optimizer's state_dict)."""
    if value is None or type(value) in (bool, int, float, str):
        return True
    if state and type(value) is torch.Tensor:
        return True
    if type(value) in (list, tuple):
        return all(_is_plain(v, state=state) for v in value)
    if type(value) is dict:
        keys = (str, int) if state else (str,)
        return all(type(k) in keys and _is_plain(v, state=state) for k, v in value.items())
    return False


def _portable_params(params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Split ``params`` into those a model file may carry and the names of the others.

    Dropped: ``checkpoint_path`` and ``trainer_kwargs`` entries outside
    ``PORTABLE_TRAINER_OPTIONS`` (a file must not choose where a later fit writes or which
    code it runs), and values a weights-only file cannot hold (a RandomState, callbacks).
    """
    kept, dropped = {}, []
    for name, value in params.items():
        if name == "checkpoint_path":
            dropped += [] if value is None else [name]
            continue
        if name == "trainer_kwargs" and isinstance(value, dict):
            dropped += [
                f"trainer_kwargs[{k!r}]" for k in value if k not in PORTABLE_TRAINER_OPTIONS
            ]
            value = {k: v for k, v in value.items() if k in PORTABLE_TRAINER_OPTIONS} or None
        value = _to_python(value)
        if _is_plain(value):
            kept[name] = value
        else:
            dropped.append(name)
    return kept, dropped


def _encode(name: str, value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"ndarray": encode_array(name, value)}
    value = _to_python(value)
    if not _is_plain(value, state=True):
        raise TypeError(
            f"save_model cannot store the fitted attribute {name}: it holds a "
            f"{type(value).__name__}, and a weights-only file holds numbers, strings, arrays, "
            "tensors, and lists and dicts of them."
        )
    return value


def _is_stored(name: str) -> bool:
    """Whether a file stores the attribute ``name``: the public fitted attributes (but the
    network, stored as weights) and ``_PRIVATE_STATE``."""
    public = name.endswith("_") and not name.startswith("_") and name != "module_"
    return public or name in _PRIVATE_STATE


def _decode(name: str, value: Any) -> Any:
    if isinstance(value, dict) and "ndarray" in value:
        return decode_array(name, value["ndarray"])
    return value


def _lstm_payload(estimator: _BaseLSTM) -> tuple[dict[str, Any], list[str]]:
    """The file entries of a fitted LSTM estimator, and the parameters left out."""
    params, dropped = _portable_params(estimator.get_params(deep=False))
    fitted = {key: _encode(key, value) for key, value in vars(estimator).items() if _is_stored(key)}
    payload = {
        "class": type(estimator).__name__,
        "params": params,
        "fitted": fitted,
        "network": estimator.module_.state_dict(),
    }
    return payload, dropped


def save_model(estimator: Any, path: PathLike) -> None:
    """Save a fitted estimator or Pipeline to ``path`` as a weights-only file.

    An :class:`LSTMRegressor` or :class:`LSTMClassifier` is stored as its weights, fitted
    attributes and hyperparameters, except ``checkpoint_path`` and the ``trainer_kwargs``
    entries that write to disk or hold code (``default_root_dir``, ``logger``, ``callbacks``,
    ...; only numeric training options such as ``deterministic`` or
    ``limit_train_batches`` are kept) and values that are objects (a ``RandomState``):
    these are reset to their defaults, with a warning. Set them again on the loaded model to
    train it further with them.

    Any other estimator of scikit-learn or tsforecast (a :class:`~sklearn.pipeline.Pipeline`
    of transformers and an LSTM estimator, :class:`~tsforecast.compose.RelativeTargetRegressor`,
    :class:`~tsforecast.compose.AdaptiveConformalRegressor`, a scaler, ...) is stored as its
    class name and attributes, nested estimators alike, each LSTM estimator as above. The
    attributes must be plain values: numbers, strings, arrays, and lists, tuples and dicts of
    them.

    Parameters
    ----------
    estimator : estimator
        A fitted LSTM estimator, or a fitted estimator of scikit-learn or tsforecast (e.g. a
        Pipeline) holding LSTM estimators or not.
    path : str or path-like
        File to write (replaced atomically if it exists).

    Raises
    ------
    TypeError
        If ``estimator`` is not an estimator of scikit-learn or tsforecast, or holds a value
        that a weights-only file cannot store (a function, an object of another package,
        ``classes_`` of objects other than strings); the error names it.
    ValueError
        If an LSTM estimator in it is not fitted, or its state could not be read back from
        the file; nothing is written then.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from tsforecast import LSTMRegressor, SlidingWindowTransformer
    >>> from tsforecast.persistence import load_model, save_model
    >>> X, y = np.random.default_rng(0).normal(size=(50, 1)), np.arange(50.0)
    >>> model = make_pipeline(StandardScaler(), SlidingWindowTransformer(window=4),
    ...                       LSTMRegressor(units=4, max_epochs=1, random_state=0)).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.pt")
    >>> save_model(model, path)
    >>> np.array_equal(load_model(path).predict(X), model.predict(X))
    True
    """
    name = type(estimator).__name__
    if isinstance(estimator, _BaseLSTM) and name in _CLASSES:
        if not estimator.__sklearn_is_fitted__():
            raise ValueError(f"This {name} instance is not fitted yet: there is nothing to save.")
        entries, dropped = _lstm_payload(estimator)
    else:
        dropped = []
        entries = {"estimator": _encode_tree(estimator, "estimator", dropped)}
    data = serialize(
        {
            "format": "tsforecast-model",
            "format_version": _FORMAT_VERSION,
            "tsforecast_version": __version__,
            **entries,
        }
    )
    try:  # never write a file that load_model would refuse
        _restore_any(read_weights_only(data))
    except (pickle.UnpicklingError, ValueError) as exc:
        raise ValueError(
            f"save_model cannot store this {name} in a file that load_model reads back: {exc}"
        ) from exc
    if dropped:
        warnings.warn(
            f"save_model stores no value for {dropped}: a model file never decides where a "
            "later fit writes or which code it runs, and cannot carry objects (a RandomState, "
            "callbacks, ...). The loaded model predicts the same; those parameters are reset "
            "to their defaults.",
            UserWarning,
            stacklevel=2,
        )
    write_atomically(data, path)


def load_model(path: PathLike) -> Any:
    """Load an estimator or Pipeline written by :func:`save_model`, on the CPU, executing no
    code from the file.

    Every entry of an LSTM estimator is checked before the estimator is built: the
    hyperparameters as ``fit`` would check them, the fitted attributes' types and shapes, and
    the weights (finite, shaped as the hyperparameters imply). Other estimators are built only
    from classes of scikit-learn and tsforecast, without calling any of their methods.
    ``checkpoint_path`` and the ``trainer_kwargs`` that write to disk or hold code are
    ignored, with a warning, if a file holds them.

    Parameters
    ----------
    path : str or path-like
        File written by :func:`save_model` (also by a GPU machine).

    Returns
    -------
    estimator : estimator
        The fitted estimator or Pipeline, predicting exactly as the saved one.

    Raises
    ------
    ValueError
        If the file is corrupted, is not a tsforecast model, has another format version, or
        holds a missing, mistyped or inconsistent entry (a hand-altered file).
    """
    payload = safe_load(path, kind="model", version=_FORMAT_VERSION)
    try:
        estimator, ignored = _restore_any(payload)
    # Every entry is checked first; the other types are a net for what no check foresaw.
    except (ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise ValueError(
            f"{os.fspath(path)!r} holds an incomplete or altered model: {str(exc).rstrip('.')}."
        ) from exc
    if ignored:
        warnings.warn(
            f"load_model ignored {ignored} from {os.fspath(path)!r}: a model file never "
            "decides where a later fit writes or which code it runs. Set them on the loaded "
            "model if you trust them.",
            UserWarning,
            stacklevel=2,
        )
    return estimator


# Packages whose estimator classes a file may name: their classes are built from the stored
# attributes (with ``__new__``, running no method of theirs), never code from the file.
_PACKAGES = ("sklearn.", "tsforecast.")


def _is_storable_class(cls: Any) -> bool:
    """Whether a file may hold objects of ``cls``: scikit-learn's and tsforecast's estimators,
    and tsforecast's plain records marked ``_storable`` (the history of a transformer)."""
    return (
        isinstance(cls, type)
        and cls.__module__.startswith(_PACKAGES)
        and (issubclass(cls, BaseEstimator) or getattr(cls, "_storable", False))
    )


def _encode_tree(value: Any, where: str, dropped: list[str]) -> Any:
    """``value`` (an estimator and what it holds) in a form that a weights-only file holds.

    Each node is a dict of one tagged entry, so that :func:`_decode_tree` rebuilds it with its
    exact type; ``where`` names the node in errors and ``dropped`` collects the LSTM
    parameters left out (see :func:`_portable_params`).
    """
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, _BaseLSTM) and type(value).__name__ in _CLASSES:
        if not value.__sklearn_is_fitted__():  # a template, e.g. a wrapper's parameter
            params, lost = _portable_params(value.get_params(deep=False))
            dropped += [f"{where}.{name}" for name in lost]
            return {"lstm_params": {"class": type(value).__name__, "params": params}}
        entries, lost = _lstm_payload(value)
        dropped += [f"{where}.{name}" for name in lost]
        return {"lstm": entries}
    if type(value) is np.ndarray:
        return {"ndarray": encode_array(where, value)}
    if isinstance(value, np.generic):
        return {"scalar": encode_array(where, np.asarray(value))}
    if isinstance(value, np.dtype):
        return {"dtype": value.str}
    if isinstance(value, type) and issubclass(value, np.generic):
        return {"numpy_type": value.__name__}
    if type(value) in (list, tuple):
        items = [_encode_tree(v, f"{where}[{i}]", dropped) for i, v in enumerate(value)]
        return {type(value).__name__: items}
    if type(value) is dict:
        return {
            "dict": [
                [
                    _encode_tree(k, f"{where} key", dropped),
                    _encode_tree(v, f"{where}[{k!r}]", dropped),
                ]
                for k, v in value.items()
            ]
        }
    if type(value) is slice:
        return {
            "slice": [
                _encode_tree(v, where, dropped) for v in (value.start, value.stop, value.step)
            ]
        }
    if _is_storable_class(type(value)):
        cls = type(value)
        state = {
            name: _encode_tree(item, f"{where}.{name}", dropped)
            for name, item in vars(value).items()
        }
        return {"object": f"{cls.__module__}:{cls.__qualname__}", "state": state}
    raise TypeError(
        f"save_model cannot store {where}: it is a {type(value).__module__}."
        f"{type(value).__qualname__}, and a weights-only file holds estimators of scikit-learn "
        "and tsforecast whose attributes are numbers, strings, arrays, and lists, tuples and "
        "dicts of them. Replace it (e.g. a FunctionTransformer's function by a transformer "
        "class), or use pickle or joblib for models that only trusted code reads."
    )


def _class(name: Any) -> type:
    """The class a file names as ``"module:qualname"``, if a file may hold its objects."""
    expect(
        type(name) is str
        and name.count(":") == 1
        and name.startswith(_PACKAGES)
        and "__main__" not in name,
        f"{name!r} is not a class of scikit-learn or tsforecast",
    )
    module, qualname = name.split(":")
    try:
        cls = importlib.import_module(module)
        for part in qualname.split("."):
            cls = getattr(cls, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"class {name!r} does not exist in this version") from exc
    expect(_is_storable_class(cls), f"{name!r} is not an estimator class")
    return cls


def _decode_tree(node: Any, where: str, ignored: list[str]) -> Any:
    """The value :func:`_encode_tree` stored, after checking the node's form."""
    if node is None or type(node) in (bool, int, float, str):
        return node
    expect(type(node) is dict and len(node) in (1, 2), f"{where} is not a stored value")
    tag = next(iter(node))
    content = node[tag]
    if tag == "lstm":
        expect(len(node) == 1 and type(content) is dict, f"{where} is not a stored LSTM")
        estimator, lost = _restore(content)
        ignored += [f"{where}.{name}" for name in lost]
        return estimator
    if tag == "lstm_params":
        expect(len(node) == 1 and type(content) is dict, f"{where} is not a stored LSTM")
        estimator, lost = _restore_params(content)
        ignored += [f"{where}.{name}" for name in lost]
        return estimator
    if tag == "object":
        expect(len(node) == 2 and type(node.get("state")) is dict, f"{where} has no state")
        cls = _class(content)
        # An LSTM estimator is stored as its own entry, whose every field is checked.
        expect(not issubclass(cls, _BaseLSTM), f"{where} holds an LSTM estimator as an object")
        state = {}
        for name, item in node["state"].items():
            expect(type(name) is str and name.isidentifier(), f"{where} has an attribute {name!r}")
            state[name] = _decode_tree(item, f"{where}.{name}", ignored)
        if issubclass(cls, Pipeline) and state.get("memory") is not None:
            # A file never chooses where a later fit writes (or what joblib's cache reads).
            state["memory"] = None
            ignored.append(f"{where}.memory")
        obj = cls.__new__(cls)
        vars(obj).update(state)
        return obj
    expect(len(node) == 1, f"{where} is not a stored value")
    if tag == "ndarray":
        return decode_array(where, content)
    if tag == "scalar":
        array = decode_array(where, content)
        expect(array.ndim == 0, f"{where} is not a stored scalar")
        return array[()]
    if tag == "dtype":
        expect(type(content) is str, f"{where} is not a stored dtype")
        try:
            return np.dtype(content)
        except TypeError as exc:
            raise ValueError(f"{where} has an unknown dtype {content!r}") from exc
    if tag == "numpy_type":
        cls = getattr(np, content, None) if type(content) is str else None
        expect(
            isinstance(cls, type) and issubclass(cls, np.generic), f"{where} is not a NumPy type"
        )
        return cls
    if tag in ("list", "tuple", "slice"):
        expect(type(content) is list, f"{where} is not a stored {tag}")
        items = [_decode_tree(v, f"{where}[{i}]", ignored) for i, v in enumerate(content)]
        if tag == "slice":
            expect(len(items) == 3, f"{where} is not a stored slice")
            return slice(*items)
        return items if tag == "list" else tuple(items)
    if tag == "dict":
        expect(
            type(content) is list and all(type(p) is list and len(p) == 2 for p in content),
            f"{where} is not a stored dict",
        )
        pairs = [(_decode_tree(k, f"{where} key", ignored), v) for k, v in content]
        try:
            return {k: _decode_tree(v, f"{where}[{k!r}]", ignored) for k, v in pairs}
        except TypeError as exc:  # an unhashable key
            raise ValueError(f"{where} has a key that is not hashable") from exc
    raise ValueError(f"{where} has an unknown kind of value {tag!r}")


def _restore_any(payload: dict[str, Any]) -> tuple[Any, list[str]]:
    """The estimator a model file describes (an LSTM estimator or any stored estimator), and
    the parameters it ignored."""
    if "estimator" in payload:
        ignored: list[str] = []
        estimator = _decode_tree(payload["estimator"], "estimator", ignored)
        expect(isinstance(estimator, BaseEstimator), "the file holds no estimator")
        return estimator, ignored
    return _restore(payload)


def _restore_params(payload: dict[str, Any]) -> tuple[_BaseLSTM, list[str]]:
    """The unfitted LSTM estimator ``payload`` describes (its ``class`` and ``params``), and
    the parameters it ignored."""
    expect(
        payload.get("class") in _CLASSES,
        f"class {payload.get('class')!r} is not one of {sorted(_CLASSES)}",
    )
    expect(
        isinstance(payload.get("params"), dict),
        f"its 'params' entry should be a dict, got {type(payload.get('params')).__name__}",
    )
    estimator = _CLASSES[payload["class"]]()
    expect(all(type(k) is str for k in payload["params"]), "parameter names should be strings")
    objects = sorted(name for name, value in payload["params"].items() if not _is_plain(value))
    expect(not objects, f"parameters {objects} hold objects, not plain values")
    params, ignored = _portable_params(payload["params"])
    unknown = sorted(set(params) - set(estimator.get_params(deep=False)))
    expect(not unknown, f"{unknown} are not parameters of {payload['class']}")
    validate_parameter_constraints(  # raises InvalidParameterError, a ValueError
        estimator._parameter_constraints, params, caller_name=payload["class"]
    )
    if params.get("trainer_kwargs"):
        validate_parameter_constraints(
            TRAINER_OPTION_CONSTRAINTS, params["trainer_kwargs"], caller_name="trainer_kwargs"
        )
    estimator.set_params(**params)
    return estimator, ignored


def _restore(payload: dict[str, Any]) -> tuple[_BaseLSTM, list[str]]:
    """The estimator ``payload`` describes, and the parameters it ignored.

    Raises ``ValueError`` naming the first entry that is missing, mistyped or inconsistent.
    """
    for name, expected in _FIELDS.items():
        expect(
            isinstance(payload.get(name), expected),
            f"its {name!r} entry should be a {expected.__name__}, got "
            f"{type(payload.get(name)).__name__}",
        )
    estimator, ignored = _restore_params(payload)
    expect(all(type(k) is str for k in payload["fitted"]), "fitted names should be strings")
    fitted = {key: _decode(key, value) for key, value in payload["fitted"].items()}
    estimator._complete_architecture(fitted.get("_architecture"))  # files from before an entry
    _check_fitted(estimator, fitted)
    check_architecture(estimator, fitted["_architecture"], payload["class"])
    for key, value in fitted.items():
        setattr(estimator, key, value)
    n_features = 1 if fitted["_input_ndim"] == 2 else fitted["n_features_in_"]
    with torch.device("meta"):  # shapes only: a file claiming a huge network allocates nothing
        skeleton = estimator._build_network(n_features)
    check_weights(payload["network"], skeleton)
    for name, state in fitted["_optimizer_state"].items():
        check_optimizer_state(state, skeleton, name=name)
    network = estimator._build_network(n_features)
    network.load_state_dict(payload["network"])
    estimator.module_ = network.eval()
    return estimator, ignored


def _is_int(value: Any, low: int) -> bool:
    return type(value) is int and value >= low


def _check_fitted(estimator: _BaseLSTM, fitted: dict[str, Any]) -> None:
    """Check the fitted attributes' names, types, shapes and consistency."""
    required = {"n_features_in_", "n_iter_", "history_", *_PRIVATE_STATE}
    if isinstance(estimator, LSTMClassifier):
        required.add("classes_")
    else:
        required |= {"n_outputs_", "target_mean_", "target_scale_"}
        required |= {"loss_"}
        required |= {"quantiles_"} if fitted.get("loss_") == "quantile" else set()
    required |= {"vocab_size_"} if estimator.embedding_dim is not None else set()
    expect(
        required <= fitted.keys(),
        f"fitted attributes {sorted(required - fitted.keys())} are missing",
    )
    for key in fitted:
        expect(
            _is_stored(key) and not hasattr(type(estimator), key),
            f"{key!r} is not a fitted attribute",
        )
    expect(
        type(fitted["_input_ndim"]) is int and fitted["_input_ndim"] in (2, 3),
        "_input_ndim should be 2 or 3",
    )
    n_features = fitted["n_features_in_"]
    expect(_is_int(n_features, 1), "n_features_in_ should be a positive int")
    expect(
        estimator.embedding_dim is None or fitted["_input_ndim"] == 2,
        "_input_ndim should be 2 for token input (embedding_dim is set)",
    )
    history = fitted["history_"]
    expect(
        isinstance(history, list)
        and all(
            isinstance(r, dict)
            and all(type(k) is str and type(v) in (int, float) for k, v in r.items())
            for r in history
        ),
        "history_ should be a list of dicts of numbers",
    )
    expect(
        all(r.get("epoch") == k and "train_loss" in r for k, r in enumerate(history)),
        "history_ should hold one record per epoch, numbered from 0, each with its train_loss",
    )
    n_iter = fitted["n_iter_"]
    expect(type(n_iter) is int and n_iter == len(history), "n_iter_ should equal len(history_)")
    if "best_epoch_" in fitted:
        best = fitted["best_epoch_"]
        expect(
            best is None or (type(best) is int and -1 <= best < n_iter),
            f"best_epoch_ should be None or an int from -1 to n_iter_ - 1 = {n_iter - 1}",
        )
    for key, check, problem in _SCALAR_CHECKS:
        expect(key not in fitted or check(fitted[key]), f"{key} should be {problem}")
    if "loss_" in fitted:
        losses = estimator._parameter_constraints["loss"][0].options
        expect(fitted["loss_"] in losses, f"loss_ should be one of {sorted(losses)}")
    if "feature_names_in_" in fitted:
        names = fitted["feature_names_in_"]
        expect(
            isinstance(names, np.ndarray)
            and names.dtype == object
            and names.shape == (n_features,),
            f"feature_names_in_ should be an object array of {n_features} strings",
        )
    if "vocab_size_" in fitted:
        expect(
            _is_int(fitted["vocab_size_"], estimator.padding_idx + 1),
            f"vocab_size_ should be an int above padding_idx={estimator.padding_idx}",
        )
    if "classes_" in fitted:
        classes = fitted["classes_"]
        expect(
            isinstance(classes, np.ndarray)
            and classes.ndim == 1
            and len(classes) >= 2
            and np.array_equal(np.unique(classes), classes),
            "classes_ should be an array of at least 2 distinct labels in sorted order",
        )
    if "n_outputs_" in fitted:
        n_outputs = fitted["n_outputs_"]
        expect(_is_int(n_outputs, 1), "n_outputs_ should be a positive int")
        _check_location_scale(fitted, "target", n_outputs)
    if "input_mean_" in fitted or "input_scale_" in fitted:
        _check_location_scale(fitted, "input", 1 if fitted["_input_ndim"] == 2 else n_features)
    if "quantiles_" in fitted:
        quantiles = fitted["quantiles_"]
        expect(
            isinstance(quantiles, np.ndarray)
            and quantiles.dtype == np.float64
            and quantiles.ndim == 1
            and len(quantiles) > 0
            and bool(((quantiles > 0) & (quantiles < 1)).all())
            and bool((np.diff(quantiles) > 0).all()),
            "quantiles_ should be increasing float64 values strictly between 0 and 1",
        )
    expect(
        isinstance(fitted["_optimizer_state"], dict)
        and all(type(k) is str for k in fitted["_optimizer_state"]),
        "_optimizer_state should map optimizer names to their states",
    )


# Fitted scalars checked by type and range: (name, check, what the value should be).
_SCALAR_CHECKS = (
    ("best_loss_", is_number, "a number"),
    (
        "linear_skip_alpha_",
        lambda v: is_number(v) and 0 < v < math.inf,
        "a positive finite number",
    ),
    ("n_timesteps_in_", lambda v: _is_int(v, 1), "a positive int"),
)


def _check_location_scale(fitted: dict[str, Any], name: str, width: int) -> None:
    """``<name>_mean_`` and ``<name>_scale_``: ``width`` finite float64 values, scales > 0."""
    for key in (f"{name}_mean_", f"{name}_scale_"):
        value = fitted.get(key)
        expect(
            isinstance(value, np.ndarray)
            and value.dtype == np.float64
            and value.shape == (width,)
            and bool(np.isfinite(value).all()),
            f"{key} should hold {width} finite float64 values",
        )
    expect(bool((fitted[f"{name}_scale_"] > 0).all()), f"{name}_scale_ should be positive")
