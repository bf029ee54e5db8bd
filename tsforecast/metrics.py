"""Forecast accuracy metrics and their scikit-learn scorers.

MAE, RMSE and MAPE are scikit-learn's own (``mean_absolute_error``,
``root_mean_squared_error``, ``mean_absolute_percentage_error``; scorers
``"neg_mean_absolute_error"``, ``"neg_root_mean_squared_error"``,
``"neg_mean_absolute_percentage_error"``). This module adds those that forecasting needs
and scikit-learn lacks: the mean absolute scaled error, the symmetric MAPE (both as the M4
competition computes them), directional accuracy, QLIKE for variance forecasts and the
Diebold-Mariano test of equal accuracy. The mean squared error of a
variance forecast is scikit-learn's ``mean_squared_error`` on the variances.

Scorers for ``scoring=`` in ``GridSearchCV`` or ``OptunaSearchCV``:

- ``smape_scorer``: negated sMAPE.
- ``mase_scorer``: negated MASE. A scorer sees only the scored fold, so the error is scaled
  by the one-step naive error of the fold's own observations.
- ``directional_accuracy_scorer``: directional accuracy of forecast returns (reference 0).
- ``qlike_scorer``: negated QLIKE of variance forecasts.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy import stats
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


def symmetric_mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> float:
    """sMAPE: the mean of ``2 |y - f| / (|y| + |f|)``, between 0 and 2.

    The M4 competition's measure (reported there in percent: multiply by 100). Unlike MAPE it
    is bounded, and an error counts the same whether the observation or the forecast is the
    larger value. Multi-output: the mean over outputs. A pair whose observation and forecast
    are both 0 is a perfect forecast (error 0), not a division by zero.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Observed and forecast values.

    Returns
    -------
    smape : float

    Examples
    --------
    >>> from tsforecast.metrics import symmetric_mean_absolute_percentage_error
    >>> symmetric_mean_absolute_percentage_error([100, 200], [110, 200])
    0.047619047619047616
    """
    true, pred = _as_2d(y_true, "y_true"), _as_2d(y_pred, "y_pred")
    check_consistent_length(true, pred)
    if true.shape != pred.shape:
        raise ValueError(
            f"y_true and y_pred have different numbers of outputs: {true.shape[1]} and "
            f"{pred.shape[1]}."
        )
    error = np.abs(true - pred)
    scale = np.abs(true) + np.abs(pred)
    ratio = np.divide(2 * error, scale, out=np.zeros_like(error), where=scale > 0)
    return float(ratio.mean())


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


def qlike(y_true: Any, y_pred: Any, *, per_sample: bool = False) -> float | np.ndarray:
    """QLIKE loss of variance forecasts: the mean of ``y / h - log(y / h) - 1``.

    ``y`` is the observed variance (a squared return or a range-based estimate) and ``h`` the
    forecast. QLIKE is the loss of choice for volatility forecasts (Patton, 2011): its
    ranking of forecasts is robust to noise in the variance proxy, and it punishes
    under-forecasting risk more than over-forecasting it. It is 0 for a perfect forecast and
    does not change when both variances are rescaled, so returns in percent or in fractions
    give the same value.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Observed variances, positive (an unchanged price gives a zero squared return:
        :func:`tsforecast.preprocessing.squared_returns` floors it at the price tick).
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Forecast variances, positive.
    per_sample : bool, default=False
        Return the loss of each sample (averaged over outputs) instead of the mean, e.g. for
        :func:`diebold_mariano` with ``loss="precomputed"``.

    Returns
    -------
    loss : float or ndarray of shape (n_samples,)

    Examples
    --------
    >>> from tsforecast.metrics import qlike
    >>> qlike([1.0, 4.0], [1.0, 2.0])
    0.1534264097200273
    """
    true, pred = _as_2d(y_true, "y_true"), _as_2d(y_pred, "y_pred")
    check_consistent_length(true, pred)
    for name, values in (("y_true", true), ("y_pred", pred)):
        if not (values > 0).all():
            raise ValueError(
                f"QLIKE needs positive variances; {name} has {int((values <= 0).sum())} "
                "values <= 0."
            )
    ratio = true / pred
    terms = (ratio - np.log(ratio) - 1).mean(axis=1)
    return terms if per_sample else float(terms.mean())


class DieboldMarianoResult(NamedTuple):
    """Result of :func:`diebold_mariano`."""

    statistic: float
    """Corrected DM statistic; positive when forecast ``a`` has the larger mean loss."""
    pvalue: float
    """Two-sided p-value of equal expected loss (Student t, ``n - 1`` degrees of freedom)."""


_DM_LOSSES = ("squared", "absolute", "precomputed")


def diebold_mariano(
    errors_a: Any, errors_b: Any, horizon: int = 1, *, loss: str = "squared"
) -> DieboldMarianoResult:
    """Diebold-Mariano test of equal forecast accuracy, with the small-sample correction.

    The loss differential ``d = L(errors_a) - L(errors_b)`` has mean zero under the null
    hypothesis. Its long-run variance counts the autocovariances up to lag ``horizon - 1``
    (``h``-step forecast errors overlap), and the statistic is multiplied by
    ``sqrt((n + 1 - 2h + h(h - 1) / n) / n)`` and compared with a Student t with ``n - 1``
    degrees of freedom (Harvey, Leybourne & Newbold, 1997), which keeps the test's size close
    to nominal on short test periods.

    Parameters
    ----------
    errors_a, errors_b : array-like of shape (n_samples,)
        Forecast errors (observed minus forecast) of two forecasts of the same targets, in
        time order; per-sample losses with ``loss="precomputed"``.
    horizon : int, default=1
        Steps ahead of the forecasts.
    loss : {"squared", "absolute", "precomputed"}, default="squared"
        Loss of an error. ``"precomputed"``: the inputs are losses already, e.g.
        ``qlike(y, h, per_sample=True)``.

    Returns
    -------
    result : DieboldMarianoResult
        ``statistic`` and two-sided ``pvalue``; both NaN when the loss differential has no
        variance (identical losses).

    Examples
    --------
    >>> from tsforecast.metrics import diebold_mariano
    >>> result = diebold_mariano([1.0, -2.0, 1.5, -1.0], [0.5, -1.0, 1.0, 0.5])
    >>> round(result.statistic, 4), round(result.pvalue, 4)
    (2.6919, 0.0743)
    """
    if loss not in _DM_LOSSES:
        raise ValueError(f"loss must be one of {_DM_LOSSES}; got {loss!r}.")
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be an int >= 1; got {horizon!r}.")
    a, b = _as_2d(errors_a, "errors_a"), _as_2d(errors_b, "errors_b")
    if a.shape[1] != 1 or b.shape[1] != 1:
        raise ValueError("diebold_mariano compares one series of errors: pass 1-D arrays.")
    check_consistent_length(a, b)
    n = len(a)
    if n <= horizon:
        raise ValueError(f"{n} errors are too few for a test at horizon={horizon}.")
    transform = {"squared": np.square, "absolute": np.abs, "precomputed": np.asarray}[loss]
    d = (transform(a) - transform(b)).ravel()
    centered = d - d.mean()
    autocov = [centered[k:] @ centered[: n - k] / n for k in range(horizon)]
    variance = autocov[0] + 2 * sum(autocov[1:])
    if not variance > 0:
        return DieboldMarianoResult(float("nan"), float("nan"))
    correction = np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    statistic = float(correction * d.mean() / np.sqrt(variance / n))
    return DieboldMarianoResult(statistic, float(2 * stats.t.sf(abs(statistic), df=n - 1)))


def _mase_on_fold(y_true: Any, y_pred: Any) -> float:
    return mean_absolute_scaled_error(y_true, y_pred, y_train=y_true)


mase_scorer = make_scorer(_mase_on_fold, greater_is_better=False)
smape_scorer = make_scorer(symmetric_mean_absolute_percentage_error, greater_is_better=False)
directional_accuracy_scorer = make_scorer(directional_accuracy)
qlike_scorer = make_scorer(qlike, greater_is_better=False)
