"""Multi-step forecasts: the next values of every series of a panel, or by recursion.

Two ways to forecast ``H`` steps ahead:

- **direct**: ``make_supervised(data, target, horizon=range(1, H + 1))`` and one multi-output
  regressor. Each horizon is trained on real targets, so errors do not compound, and
  covariates can be used; it needs a fixed maximum horizon at training time.
  :func:`forecast_panel` then gives the next ``H`` values of every series of a long frame
  (a single series is a panel of one) in one tidy frame, with their dates.
- **recursive**: :func:`recursive_forecast` with a one-step model of a single series, fed back
  its own forecasts. Any horizon from one model, but errors compound, and only the series
  itself can be an input (future covariates are unknown).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .preprocessing import history_length
from .preprocessing._history import padding_expected


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
        # The history is passed explicitly: padding reaches only the first rows, whose
        # forecasts are not used.
        with padding_expected():
            series.append(float(np.ravel(model.predict(rows))[-1]))
    return np.asarray(series[len(values) :])


class _PanelForecast:
    """The forecasts of the last row of each series of ``data`` (see :func:`forecast_panel`).

    Attributes: ``keys`` (each series' key, in order of first appearance; ``[None]`` without a
    group), ``indexes`` (each series' index), ``point`` ``(n_series, horizon)``, ``quantiles``
    ``(n_series, horizon, n_quantiles)`` or None and ``levels`` (the quantile levels).
    """

    def __init__(
        self, model: Any, data: Any, group: Hashable | None, horizon: int | None, quantiles: bool
    ) -> None:
        check_is_fitted(model)
        if isinstance(data, pd.Series) and group is None:
            data = data.to_frame()
        if not isinstance(data, pd.DataFrame):
            raise TypeError(
                f"data must be a pandas DataFrame (the rows the model reads, long format for a "
                f"panel); got {type(data).__name__}."
            )
        if group is None:
            keys, positions = [None], [np.arange(len(data))]
        else:
            if group not in data.columns:
                raise ValueError(
                    f"group {group!r} is not a column of data: {data.columns.tolist()!r}."
                )
            if data[group].isna().any():
                raise ValueError(f"The group column {group!r} has missing keys.")
            codes, uniques = pd.factorize(data[group])
            keys = list(uniques)
            order = np.argsort(codes, kind="stable")
            positions = np.split(order, np.cumsum(np.bincount(codes, minlength=len(keys)))[:-1])
        reach = history_length(model) + 1  # the rows one forecast reads
        for key, rows in zip(keys, positions, strict=True):
            if len(rows) < reach:
                where = "data" if key is None else f"series {key!r}"
                raise ValueError(
                    f"{where} has {len(rows)} row(s); the model reads {reach} rows for one "
                    "forecast, so its forecast would read padding."
                )
        tails = np.concatenate([rows[-reach:] for rows in positions])
        last = np.cumsum([min(len(rows), reach) for rows in positions]) - 1
        rows = data.iloc[tails]
        # Each tail holds the whole history its last row reads: padding reaches only the
        # earlier rows, whose forecasts are not used.
        with padding_expected():
            point = np.asarray(model.predict(rows), dtype=np.float64)[last]
            bands = _predict_quantiles(model, rows)[last] if quantiles else None
        point = point.reshape(len(keys), -1)
        n_outputs = point.shape[1]
        if horizon is None:
            horizon = n_outputs
        if not isinstance(horizon, Integral) or isinstance(horizon, bool) or horizon < 1:
            raise ValueError(f"horizon must be a positive int or None; got {horizon!r}.")
        if horizon > n_outputs:
            raise ValueError(
                f"horizon={horizon} exceeds the model's {n_outputs} output(s): fit it on "
                f"make_supervised(..., horizon=range(1, {horizon + 1})) targets, or forecast "
                "a single series by recursion with recursive_forecast."
            )
        self.keys, self.point = keys, point[:, :horizon]
        # One series: its own index (positional indexing may drop the index's freq).
        self.indexes = [data.index] if group is None else [data.index[p] for p in positions]
        self.levels = _quantile_levels(model) if quantiles else None
        self.quantiles = None
        if bands is not None:
            self.quantiles = bands.reshape(len(keys), n_outputs, -1)[:, :horizon]

    def frame(
        self, group: Hashable | None, times: list[pd.Index] | None, name: str
    ) -> pd.DataFrame:
        """The tidy frame: ``group``, ``step``, ``name`` (with ``times``), ``forecast``, ..."""
        n_series, horizon = self.point.shape
        columns: dict[Hashable, Any] = {}
        if group is not None:
            columns[group] = np.repeat(np.asarray(self.keys, dtype=object), horizon)
        columns["step"] = np.tile(np.arange(1, horizon + 1), n_series)
        if times is not None:
            columns[name] = _concat(times)
        columns["forecast"] = self.point.ravel()
        if self.quantiles is not None:
            for j, level in enumerate(self.levels):
                columns[f"q{level:g}"] = self.quantiles[:, :, j].ravel()
        return pd.DataFrame(columns)


def _concat(indexes: list[pd.Index]) -> pd.Index:
    return indexes[0].append(indexes[1:]) if len(indexes) > 1 else indexes[0]


def _final(model: Any) -> Any:
    return model[-1] if isinstance(model, Pipeline) else model


def _predict_quantiles(model: Any, rows: pd.DataFrame) -> np.ndarray:
    if hasattr(model, "predict_quantiles"):
        return np.asarray(model.predict_quantiles(rows), dtype=np.float64)
    if isinstance(model, Pipeline) and hasattr(model[-1], "predict_quantiles"):
        return np.asarray(model[-1].predict_quantiles(model[:-1].transform(rows)), np.float64)
    raise ValueError(
        f"quantiles=True needs a model with predict_quantiles (e.g. LSTMRegressor with "
        f"loss='quantile'); {type(_final(model)).__name__} has none."
    )


def _quantile_levels(model: Any) -> np.ndarray:
    final = _final(model)
    final = getattr(final, "regressor_", final)  # RelativeTargetRegressor
    return np.asarray(final.quantiles_)


def _infer_freq(index: pd.DatetimeIndex) -> Any:
    with warnings.catch_warnings():
        # pandas 3 warns that infer_freq will return an offset; date_range takes either.
        warnings.filterwarnings("ignore", message=".* from infer_freq")
        return pd.infer_freq(index)


def _future_index(index: pd.Index, horizon: int, freq: Any, where: str) -> pd.Index | None:
    """The labels of the ``horizon`` steps after ``index``; None where labels have no
    arithmetic (strings)."""
    if isinstance(index, pd.DatetimeIndex):
        step = freq or index.freq or (_infer_freq(index) if len(index) >= 3 else None)
        if step is None:
            raise ValueError(
                f"The dates of {where} have no regular frequency to date the forecasts "
                "(gaps, e.g. holidays, or a long frame's index): pass freq= (e.g. freq='B' "
                "for business days), or set the index's freq."
            )
        try:
            return pd.date_range(index[-1], periods=horizon + 1, freq=step)[1:]
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"freq={freq!r} is not a frequency for the dates of {where}: pass a pandas "
                f"frequency string or DateOffset such as 'D' or 'B' ({error})."
            ) from None
    if isinstance(index, pd.PeriodIndex):
        if freq is not None:
            raise ValueError(
                f"freq={freq!r} cannot be used with the PeriodIndex of {where}: periods carry "
                "their own frequency; leave freq=None."
            )
        return pd.period_range(index[-1] + 1, periods=horizon, name=index.name)
    if pd.api.types.is_integer_dtype(index.dtype) and len(index):
        if freq is not None and not isinstance(freq, Integral):
            raise ValueError(
                f"freq={freq!r} cannot step the integer index of {where}: pass the integer "
                "step between its labels (e.g. freq=1), or give the data a DatetimeIndex."
            )
        steps = np.unique(np.diff(np.asarray(index)))
        if freq is None and len(steps) > 1:
            raise ValueError(
                f"The index of {where} is not evenly spaced: pass freq= (the step between "
                "labels) to label the forecasts."
            )
        step = freq if freq is not None else (int(steps[0]) if len(steps) else 1)
        return pd.Index(index[-1] + step * np.arange(1, horizon + 1), name=index.name)
    return None


def forecast_panel(
    model: Any,
    data: pd.DataFrame | pd.Series,
    *,
    group: Hashable | None = None,
    horizon: int | None = None,
    freq: Any = None,
    quantiles: bool = False,
) -> pd.DataFrame:
    """The next ``horizon`` values of every series of a panel, in one call, as a tidy frame.

    ``model`` is a fitted direct multi-step forecaster: trained on
    ``make_supervised(data, target, group=group, horizon=range(1, H + 1))``, its ``predict``
    gives, for each row, the next ``H`` values of the row's series (e.g. a
    :class:`~tsforecast.preprocessing.PanelWindowTransformer` and an
    :class:`~tsforecast.LSTMRegressor` in a Pipeline). Each series' forecast origin is its
    last row in ``data``: this function finds it, gives the model exactly the rows that the
    origin's forecast reads (:func:`~tsforecast.preprocessing.history_length`), and calls
    ``predict`` once for all series. The model is not refitted. A single series
    (``group=None``) is a panel of one.

    Parameters
    ----------
    model : fitted estimator or Pipeline
        A direct multi-step model whose outputs are the steps ``1 .. H``.
    data : DataFrame or Series
        The rows the model reads, in the columns it was fitted on, each series sorted by the
        index and ending at its forecast origin: for a panel in long format, every series'
        rows with the ``group`` column.
    group : hashable, default=None
        The column naming each row's series; ``None``: ``data`` is one series.
    horizon : int, default=None
        Steps to forecast, at most the model's ``H`` outputs; ``None``: all of them.
    freq : str, DateOffset or int, default=None
        The step between index labels, to label the forecasts: by default the index's own
        ``freq`` or the frequency pandas infers from each series' dates (a
        ``DatetimeIndex``), or the constant step of an integer index (an int). A long
        frame's dates with gaps (e.g. business days with holidays) need it (``freq="B"``).
        A ``PeriodIndex`` carries its own frequency and takes none.
    quantiles : bool, default=False
        Add one column ``q<level>`` per quantile of a model with ``predict_quantiles`` (an
        :class:`~tsforecast.LSTMRegressor` with ``loss="quantile"``).

    Returns
    -------
    forecasts : DataFrame of shape (n_series * horizon, ...)
        Series by series, step by step: the ``group`` column (panels only), ``step``
        (1 .. horizon), the step's label named as the index (``"time"`` when unnamed; absent
        when the labels have no arithmetic, e.g. strings), ``forecast`` and the quantile
        columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from tsforecast import make_supervised
    >>> from tsforecast.forecast import forecast_panel
    >>> data = pd.DataFrame(
    ...     {"id": ["a"] * 4 + ["b"] * 4, "y": [1.0, 2, 3, 4, 10, 11, 12, 13]},
    ...     index=pd.Index([0, 1, 2, 3] * 2, name="t"))
    >>> X, y = make_supervised(data, "y", group="id", horizon=[1, 2])
    >>> model = make_pipeline(FunctionTransformer(lambda X: X[["y"]]), LinearRegression())
    >>> forecast_panel(model.fit(X, y), data, group="id").round(6)
      id  step  t  forecast
    0  a     1  4       5.0
    1  a     2  5       6.0
    2  b     1  4      14.0
    3  b     2  5      15.0
    """
    forecasts = _PanelForecast(model, data, group, horizon, quantiles)
    horizon = forecasts.point.shape[1]
    times = []
    for key, index in zip(forecasts.keys, forecasts.indexes, strict=True):
        future = _future_index(index, horizon, freq, "data" if key is None else f"series {key!r}")
        if future is None:
            times = None
            break
        times.append(future)
    name = data.index.name if data.index.name is not None else "time"
    return forecasts.frame(group, times, name)
