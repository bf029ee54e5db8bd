"""Input and parameter checks shared by the LSTM estimators.

Each function takes the estimator whose fitted state it reads (``reset=False``) or fills
(``reset=True``); during ``fit`` that is a draft copy, so a failed check changes nothing.
"""

from __future__ import annotations

import os
import warnings
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import validate_data

from .._data.lazy import WindowArray
from .._data.tokens import check_tokens
from .._data.windows import Windows, input_moments
from .._utils.frames import check_numeric_columns

FLOAT_DTYPES = (np.float64, np.float32)
# Inputs beyond this magnitude saturate the LSTM gates (tanh/sigmoid of ~1e3 is flat).
_UNSCALED_WARN_ABOVE = 1e3


def check_values(windows: Windows, *, warn_unscaled: str | None) -> None:
    """Refuse NaN/inf; with ``warn_unscaled`` (the estimator's name), warn on huge values.

    Two reductions (NaN propagates through min and max) and no temporary array: the base can
    be gigabytes. In numpy, because a torch kernel here would wake torch's thread pool, which
    measurably slows a single-window predict.
    """
    values = windows.base.numpy()
    low, high = values.min(), values.max()
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(
            "Input X contains NaN or infinity, or values too large for float32. "
            "Fill or drop missing values and scale the features before fitting."
        )
    largest = max(-float(low), float(high))
    if warn_unscaled and largest > _UNSCALED_WARN_ABOVE:
        warnings.warn(
            f"X has values as large as {largest:.3g}: an LSTM's gates saturate on inputs this "
            f"large and {warn_unscaled} will learn little. Scale X first, e.g. with "
            "StandardScaler in a Pipeline.",
            UserWarning,
            stacklevel=5,
        )


def validate_X(estimator: Any, X: Any, *, reset: bool) -> Windows:
    """Check ``X`` and wrap it as lazy windows ``(n_samples, n_timesteps, n_features)``."""
    if estimator.embedding_dim is not None:
        return _validate_tokens(estimator, X, reset=reset)
    # Scaled inputs are checked for their size at fit only, and need no check when the
    # network standardizes them itself.
    scaled = estimator.standardize_inputs or getattr(estimator, "window_scaling", None)
    warn_unscaled = None if not reset or scaled else type(estimator).__name__
    if isinstance(X, WindowArray):  # lazy windows (a panel's): kept lazy, never copied
        _check_n_features(estimator, X.shape[2], reset=reset)
        if reset:
            estimator._input_ndim = 3
        windows = Windows.from_window_array(X)
        # Zero padding reads as zero after the network's standardization, as zeros padded
        # after a StandardScaler do: as the input mean (at a new fit, these windows' own).
        if windows.fill is not None and reset and estimator.standardize_inputs:
            windows = Windows.from_window_array(X, fill=input_moments(windows)[0])
        elif windows.fill is not None and not reset and hasattr(estimator, "input_mean_"):
            windows = Windows.from_window_array(X, fill=estimator.input_mean_)
        check_values(windows, warn_unscaled=warn_unscaled)
        return windows
    if not hasattr(X, "ndim"):  # lists and other array-likes
        X = np.asarray(X)
    ndim = X.ndim
    name = type(estimator).__name__
    if ndim > 3:
        raise ValueError(
            "X must be 2-D (n_samples, n_timesteps) or 3-D (n_samples, n_timesteps, "
            f"n_features); got an array with {ndim} dimensions."
        )
    if not reset and ndim in (2, 3) and ndim != estimator._input_ndim:
        raise ValueError(
            f"X has {ndim} dimensions, but {name} was fitted on {estimator._input_ndim}-D input."
        )
    if not reset and ndim == estimator._input_ndim and _is_plain_float_array(estimator, X):
        # Fast path for predict on a float ndarray (online use: one window at a time): the
        # checks below, without check_array's generic conversions.
        _check_n_features(estimator, X.shape[-1] if ndim == 3 else X.shape[1], reset=False)
    elif ndim == 3:
        X = check_array(
            X,
            allow_nd=True,
            dtype=FLOAT_DTYPES,
            ensure_all_finite=False,
            input_name="X",
            estimator=estimator,
        )
        if X.shape[1] == 0 or X.shape[2] == 0:
            raise ValueError(
                f"X has shape {X.shape}: sequences need at least one time step and one feature."
            )
        _check_n_features(estimator, X.shape[2], reset=reset)
    else:
        check_numeric_columns(X)
        X = validate_data(estimator, X, reset=reset, dtype=FLOAT_DTYPES)
    if reset:
        estimator._input_ndim = ndim
    windows = Windows.from_array(X if ndim == 3 else X[:, :, np.newaxis])
    check_values(windows, warn_unscaled=warn_unscaled)
    return windows


def _validate_tokens(estimator: Any, X: Any, *, reset: bool) -> Windows:
    """Check token input and wrap it as windows of one feature, the token id."""
    padding_idx, vocab_size = estimator.padding_idx, estimator.vocab_size
    tokens = check_tokens(X, padding_idx, None if reset else estimator.vocab_size_)
    if reset:
        largest = max(int(tokens.max()), padding_idx)
        if vocab_size is not None and largest >= vocab_size:
            raise ValueError(
                f"X holds token id {largest}, but vocab_size={vocab_size}: ids must be below "
                "vocab_size (padding_idx included)."
            )
        estimator.vocab_size_ = vocab_size or largest + 1
        estimator._input_ndim = 2
        _check_n_features(estimator, tokens.shape[1], reset=True)
    return Windows.from_array(tokens.astype(np.float32)[:, :, np.newaxis])


def _is_plain_float_array(estimator: Any, X: Any) -> bool:
    return (
        type(X) is np.ndarray
        and X.dtype in FLOAT_DTYPES
        and all(X.shape)
        and not hasattr(estimator, "feature_names_in_")  # keep sklearn's feature-name warning
    )


def _check_n_features(estimator: Any, n_features: int, *, reset: bool) -> None:
    if reset:
        estimator.n_features_in_ = n_features
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    elif n_features != estimator.n_features_in_:
        raise ValueError(
            f"X has {n_features} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input."
        )


def layer_units(estimator: Any) -> tuple[int, ...]:
    """The width of each layer from ``units`` and ``num_layers``."""
    units, num_layers = estimator.units, estimator.num_layers
    if isinstance(units, Integral):
        return (int(units),) * num_layers
    units = tuple(units)
    if len(units) != num_layers or not all(
        isinstance(u, Integral) and not isinstance(u, bool) and u >= 1 for u in units
    ):
        raise ValueError(
            f"The 'units' parameter of {type(estimator).__name__} must be an int or one positive "
            f"int per layer (num_layers={num_layers}). Got {estimator.units!r} instead."
        )
    return tuple(int(u) for u in units)


def check_checkpoint_path(estimator: Any) -> str | None:
    """The checkpoint file as a string, refusing paths that cannot be a file."""
    path = estimator.checkpoint_path
    if path is None:
        return None
    path = os.fspath(path)
    if not path or os.path.isdir(path):
        raise ValueError(
            f"The 'checkpoint_path' parameter of {type(estimator).__name__} must name a file; "
            f"got {estimator.checkpoint_path!r}."
        )
    return path


def architecture_params(estimator: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The parameters that shape the network and its outputs: ``units`` per layer and ``names``."""
    return {
        "units": list(layer_units(estimator)),
        **{name: getattr(estimator, name) for name in names},
    }


def check_same_architecture(estimator: Any) -> None:
    """Refuse a warm start or partial_fit after a change of the network's shape."""
    fitted = getattr(estimator, "_architecture", None)
    current = estimator._architecture_params()
    if fitted is None or fitted == current:
        return
    changed = sorted(k for k in current if current[k] != fitted.get(k))
    raise ValueError(
        f"{type(estimator).__name__} was fitted with "
        + ", ".join(f"{k}={fitted.get(k)!r}" for k in changed)
        + f", but its parameters now say {', '.join(f'{k}={current[k]!r}' for k in changed)}: "
        "warm_start and partial_fit continue the fitted network. Set warm_start=False (or "
        "fit a clone) to train a new one."
    )
