"""Save and load fitted estimators without pickle: weights, hyperparameters and a version.

Unlike ``pickle``/``joblib``, loading never executes code from the file: it is read with
``torch.load(..., weights_only=True)``, which accepts tensors, numbers, strings, lists and
dicts only, and every entry is checked before an estimator is built from it. A model file
never decides where a later ``fit`` writes or which code it runs: ``checkpoint_path`` and the
``trainer_kwargs`` that reach the disk or hold code are neither saved nor loaded. Use these
functions to exchange models; use pickle within a trusted pipeline.
"""

from __future__ import annotations

import os
import pickle
import warnings
from typing import Any

import numpy as np
import torch

from .. import __version__
from .._engine.config import PORTABLE_TRAINER_OPTIONS
from .._utils.files import (
    PathLike,
    check_architecture,
    check_optimizer_state,
    check_weights,
    decode_array,
    encode_array,
    expect,
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


def save_model(estimator: _BaseLSTM, path: PathLike) -> None:
    """Save a fitted :class:`LSTMRegressor` or :class:`LSTMClassifier` to ``path``.

    The file holds the weights, the fitted attributes and the hyperparameters, except
    ``checkpoint_path`` and the ``trainer_kwargs`` entries that write to disk or hold code
    (``default_root_dir``, ``logger``, ``callbacks``, ...; only numeric training options such
    as ``deterministic`` or ``limit_train_batches`` are kept) and values that are objects
    (a ``RandomState``): these are reset to their defaults, with a warning. Set them again on
    the loaded model to train it further with them.

    Parameters
    ----------
    estimator : LSTMRegressor or LSTMClassifier
        A fitted estimator.
    path : str or path-like
        File to write (replaced atomically if it exists).

    Raises
    ------
    TypeError
        If ``estimator`` is not an LSTM estimator, or holds a fitted attribute that a
        weights-only file cannot store (e.g. ``classes_`` of objects other than strings).
    ValueError
        If ``estimator`` is not fitted, or its state could not be read back from the file;
        nothing is written then.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from tsforecast import LSTMRegressor
    >>> from tsforecast.persistence import load_model, save_model
    >>> X, y = np.random.default_rng(0).normal(size=(50, 4, 1)), np.arange(50.0)
    >>> model = LSTMRegressor(units=4, max_epochs=1, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.pt")
    >>> save_model(model, path)
    >>> np.array_equal(load_model(path).predict(X), model.predict(X))
    True
    """
    name = type(estimator).__name__
    if name not in _CLASSES:
        raise TypeError(f"save_model saves LSTMRegressor and LSTMClassifier, not {name}.")
    if not estimator.__sklearn_is_fitted__():
        raise ValueError(f"This {name} instance is not fitted yet: there is nothing to save.")
    params, dropped = _portable_params(estimator.get_params(deep=False))
    fitted = {key: _encode(key, value) for key, value in vars(estimator).items() if _is_stored(key)}
    data = serialize(
        {
            "format": "tsforecast-model",
            "format_version": _FORMAT_VERSION,
            "tsforecast_version": __version__,
            "class": name,
            "params": params,
            "fitted": fitted,
            "network": estimator.module_.state_dict(),
        }
    )
    try:  # never write a file that load_model would refuse
        _restore(read_weights_only(data))
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


def load_model(path: PathLike) -> _BaseLSTM:
    """Load an estimator written by :func:`save_model`, on the CPU, executing no code.

    Every entry of the file is checked before the estimator is built: the hyperparameters as
    ``fit`` would check them, the fitted attributes' types and shapes, and the weights (finite,
    shaped as the hyperparameters imply). ``checkpoint_path`` and the ``trainer_kwargs`` that
    write to disk or hold code are ignored, with a warning, if a file holds them.

    Parameters
    ----------
    path : str or path-like
        File written by :func:`save_model` (also by a GPU machine).

    Returns
    -------
    estimator : LSTMRegressor or LSTMClassifier
        The fitted estimator, predicting exactly as the saved one.

    Raises
    ------
    ValueError
        If the file is corrupted, is not a tsforecast model, has another format version, or
        holds a missing, mistyped or inconsistent entry (a hand-altered file).
    """
    payload = safe_load(path, kind="model", version=_FORMAT_VERSION, fields=_FIELDS)
    try:
        estimator, ignored = _restore(payload)
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


def _restore(payload: dict[str, Any]) -> tuple[_BaseLSTM, list[str]]:
    """The estimator ``payload`` describes, and the parameters it ignored.

    Raises ``ValueError`` naming the first entry that is missing, mistyped or inconsistent.
    """
    expect(
        payload.get("class") in _CLASSES,
        f"class {payload.get('class')!r} is not one of {sorted(_CLASSES)}",
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
    estimator.set_params(**params)
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
        type(fitted["n_iter_"]) is int and fitted["n_iter_"] == len(history),
        "n_iter_ should equal len(history_)",
    )
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
