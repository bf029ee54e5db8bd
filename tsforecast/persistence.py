"""Save and load fitted estimators without pickle: weights, hyperparameters and a version.

Unlike ``pickle``/``joblib``, loading never executes code from the file: it is read with
``torch.load(..., weights_only=True)``, which accepts tensors, numbers, strings, lists and
dicts only. Use these functions to exchange models; use pickle within a trusted pipeline.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import torch

from . import __version__
from ._base import _BaseLSTM
from ._persistence import PathLike, atomic_save, safe_load
from .estimators import LSTMClassifier, LSTMRegressor

_FORMAT_VERSION = 1
_CLASSES: dict[str, type[_BaseLSTM]] = {
    "LSTMRegressor": LSTMRegressor,
    "LSTMClassifier": LSTMClassifier,
}
# Private fitted state besides the public attributes ending in "_".
_PRIVATE_STATE = ("_input_ndim", "_optimizer_state")


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list | tuple):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def _encode(value: Any) -> Any:
    """A weights-only-loadable form of a fitted attribute."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            return {"ndarray": torch.from_numpy(np.ascontiguousarray(value))}
        return {"ndarray_list": value.tolist(), "dtype": value.dtype.str}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "ndarray" in value:
        return value["ndarray"].numpy()
    if isinstance(value, dict) and "ndarray_list" in value:
        return np.asarray(value["ndarray_list"], dtype=np.dtype(value["dtype"]))
    return value


def _portable_params(estimator: _BaseLSTM) -> dict[str, Any]:
    params = estimator.get_params(deep=False)
    if params.get("checkpoint_path") is not None:
        params["checkpoint_path"] = os.fspath(params["checkpoint_path"])
    dropped = sorted(name for name, value in params.items() if not _is_plain(value))
    if dropped:
        warnings.warn(
            f"save_model stores no value for {dropped}: they hold objects (a RandomState, "
            "callbacks, ...) that a weights-only file cannot carry. The loaded model predicts "
            "the same; those parameters are reset to their defaults.",
            UserWarning,
            stacklevel=3,
        )
    return {name: value for name, value in params.items() if name not in dropped}


def save_model(estimator: _BaseLSTM, path: PathLike) -> None:
    """Save a fitted :class:`LSTMRegressor` or :class:`LSTMClassifier` to ``path``.

    Parameters
    ----------
    estimator : LSTMRegressor or LSTMClassifier
        A fitted estimator.
    path : str or path-like
        File to write (replaced atomically if it exists).

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
    state = vars(estimator)
    fitted = {
        key: _encode(value)
        for key, value in state.items()
        if (key.endswith("_") and key != "module_") or key in _PRIVATE_STATE
    }
    atomic_save(
        {
            "format": "tsforecast-model",
            "format_version": _FORMAT_VERSION,
            "tsforecast_version": __version__,
            "class": name,
            "params": _portable_params(estimator),
            "fitted": fitted,
            "network": estimator.module_.state_dict(),
        },
        path,
    )


def load_model(path: PathLike) -> _BaseLSTM:
    """Load an estimator written by :func:`save_model`, on the CPU, executing no code.

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
        If the file is corrupted, is not a tsforecast model, or has another format version.
    """
    payload = safe_load(path, kind="model", version=_FORMAT_VERSION)
    try:
        estimator = _CLASSES[payload["class"]](**payload["params"])
        for key, value in payload["fitted"].items():
            setattr(estimator, key, _decode(value))
        n_features = 1 if estimator._input_ndim == 2 else estimator.n_features_in_
        network = estimator._build_network(n_features, estimator._layer_units())
        network.load_state_dict(payload["network"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise ValueError(
            f"{os.fspath(path)!r} holds an incomplete or altered model: {exc}"
        ) from exc
    estimator.module_ = network.eval()
    return estimator
