"""Multi-step forecasting by feeding a one-step model its own forecasts.

Two ways to forecast ``H`` steps ahead:

- **direct**: ``make_supervised(data, target, horizon=range(1, H + 1))`` and one multi-output
  regressor. Each horizon is trained on real targets, so errors do not compound, and
  covariates can be used; it needs a fixed maximum horizon at training time.
- **recursive**: :func:`recursive_forecast` with a one-step model of a single series, fed back
  its own forecasts. Any horizon from one model, but errors compound, and only the series
  itself can be an input (future covariates are unknown).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from .preprocessing import HistoryPaddingWarning, history_length


def recursive_forecast(
    model: Any, history: Any, steps: int, *, window: int | None = None
) -> np.ndarray:
    """Forecast ``steps`` values of a single series by recursion on a one-step model.

    At each step the model forecasts the next value from the series so far (the history,
    then the forecasts already made), and that forecast becomes the last observation.

    Parameters
    ----------
    model : fitted estimator
        A regressor or Pipeline fitted on the series itself (one column, e.g. ``X`` from
        ``make_supervised(series, horizon=1)``) that forecasts the next value for each row:
        e.g. windowing + :class:`~tsforecast.LSTMRegressor`, or a
        :class:`~tsforecast.compose.RelativeTargetRegressor`.
    history : Series, one-column DataFrame or array-like of shape (n_steps,) or (n_steps, 1)
        The observed series, oldest first, ending at the forecast origin.
    steps : int
        Number of future values.
    window : int, default=None
        Feed only the last ``window`` rows to each ``predict`` call: faster on long
        histories. At least the number of rows the model reads for one forecast
        (:func:`~tsforecast.preprocessing.history_length` plus one, e.g. the window of its
        :class:`~tsforecast.preprocessing.SlidingWindowTransformer`). ``None`` feeds
        everything.

    Returns
    -------
    forecast : ndarray of shape (steps,)
        The forecasts for the ``steps`` time steps after the history.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from tsforecast.forecast import recursive_forecast
    >>> series = 0.5 ** np.arange(10)            # x(t+1) = 0.5 x(t)
    >>> model = LinearRegression(fit_intercept=False).fit(series[:-1, None], series[1:])
    >>> recursive_forecast(model, series[:3], steps=3).round(5)
    array([0.125  , 0.0625 , 0.03125])
    """
    check_is_fitted(model)
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int; got {steps!r}.")
    if window is not None and (not isinstance(window, int) or window < 1):
        raise ValueError(f"window must be a positive int or None; got {window!r}.")
    if window is not None and window <= history_length(model):
        raise ValueError(
            f"window={window} rows are too few: the model reads {history_length(model)} "
            "rows before each row, so its last forecast would read padding."
        )
    columns = None
    if isinstance(history, pd.Series):
        columns = [history.name if history.name is not None else 0]
    elif isinstance(history, pd.DataFrame):
        columns = list(history.columns)
    values = np.asarray(history, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, np.newaxis]
    if values.ndim != 2 or values.shape[1] != 1:
        raise ValueError(
            "recursive_forecast needs a single series (one column): future values of other "
            f"columns are unknown; got history of shape {np.shape(history)}."
        )
    if len(values) == 0 or not np.isfinite(values).all():
        raise ValueError("history must be non-empty and contain no NaN or infinity.")
    series = list(values[:, 0])
    for _ in range(steps):
        recent = np.asarray(series[-window:] if window else series)[:, np.newaxis]
        rows = recent if columns is None else pd.DataFrame(recent, columns=columns)
        with warnings.catch_warnings():
            # The history is passed explicitly: padding reaches only the first rows, whose
            # forecasts are not used.
            warnings.simplefilter("ignore", HistoryPaddingWarning)
            series.append(float(np.ravel(model.predict(rows))[-1]))
    return np.asarray(series[len(values) :])
