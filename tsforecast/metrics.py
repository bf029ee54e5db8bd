"""Forecast accuracy metrics and their scikit-learn scorers.

MAE, RMSE and MAPE are scikit-learn's own (``mean_absolute_error``,
``root_mean_squared_error``, ``mean_absolute_percentage_error``; scorers
``"neg_mean_absolute_error"``, ``"neg_root_mean_squared_error"``,
``"neg_mean_absolute_percentage_error"``). This module adds the two that forecasting needs
and scikit-learn lacks: the mean absolute scaled error and directional accuracy.

Scorers for ``scoring=`` in ``GridSearchCV`` or ``OptunaSearchCV``:

- ``mase_scorer``: negated MASE. A scorer sees only the scored fold, so the error is scaled
  by the one-step naive error of the fold's own observations.
- ``directional_accuracy_scorer``: directional accuracy of forecast returns (reference 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import make_scorer
from sklearn.utils import check_consistent_length


def _as_2d(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D or 2-D; got {array.ndim} dimensions.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return array.reshape(len(array), -1)


def mean_absolute_scaled_error(
    y_true: Any, y_pred: Any, *, y_train: Any, seasonality: int = 1
) -> float:
    """MASE: the forecast's MAE divided by the in-sample MAE of the seasonal naive forecast.

    Below 1, the forecast beats "the value ``seasonality`` steps earlier" as judged on the
    training series (Hyndman & Koehler, 2006). Multi-output: the mean over outputs.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Observed and forecast values.
    y_train : array-like of shape (n_train,) or (n_train, n_outputs)
        The training series, in time order, that scales the error.
    seasonality : int, default=1
        Season length ``m`` of the naive forecast; 1 is "tomorrow = today".

    Returns
    -------
    mase : float

    Examples
    --------
    >>> from tsforecast.metrics import mean_absolute_scaled_error
    >>> mean_absolute_scaled_error([5, 6], [5.5, 6.5], y_train=[1, 2, 3, 4])
    0.5
    """
    true, pred = _as_2d(y_true, "y_true"), _as_2d(y_pred, "y_pred")
    check_consistent_length(true, pred)
    train = _as_2d(y_train, "y_train")
    if len(train) <= seasonality:
        raise ValueError(
            f"y_train has {len(train)} values; MASE with seasonality={seasonality} needs more."
        )
    scale = np.mean(np.abs(train[seasonality:] - train[:-seasonality]), axis=0)
    if not (scale > 0).all():
        raise ValueError("y_train is constant at lag `seasonality`: MASE is undefined.")
    return float(np.mean(np.mean(np.abs(true - pred), axis=0) / scale))


def directional_accuracy(y_true: Any, y_pred: Any, *, reference: Any = 0.0) -> float:
    """Share of samples whose forecast moves in the observed direction from ``reference``.

    For returns, the reference is 0 (up or down); for price levels, pass the last observed
    value of each sample. Samples whose observed value equals the reference (no move) are
    left out.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Observed and forecast values.
    reference : float or array-like broadcastable to y_true, default=0.0
        The value the direction is measured from.

    Returns
    -------
    accuracy : float
        In [0, 1]; 0.5 is a coin flip. NaN when no sample moved.

    Examples
    --------
    >>> from tsforecast.metrics import directional_accuracy
    >>> directional_accuracy([0.01, -0.02, 0.03, 0.0], [0.002, 0.001, 0.004, 0.01])
    0.6666666666666666
    >>> directional_accuracy([11, 9], [10.5, 10.5], reference=[10, 10])
    0.5
    """
    true, pred = _as_2d(y_true, "y_true"), _as_2d(y_pred, "y_pred")
    check_consistent_length(true, pred)
    base = np.asarray(reference, dtype=np.float64)
    base = base.reshape(len(base), -1) if base.ndim else base
    moved = np.sign(true - base)
    counted = moved != 0
    if not counted.any():
        return float("nan")
    return float(np.mean(np.sign(pred - base)[counted] == moved[counted]))


def _mase_on_fold(y_true: Any, y_pred: Any) -> float:
    return mean_absolute_scaled_error(y_true, y_pred, y_train=y_true)


mase_scorer = make_scorer(_mase_on_fold, greater_is_better=False)
directional_accuracy_scorer = make_scorer(directional_accuracy)
