"""Backtest over a panel with the M4 protocol: the last ``horizon`` values of each series."""

from __future__ import annotations

from collections.abc import Hashable
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from ..forecast import _PanelForecast
from ..preprocessing import make_supervised


def backtest_panel(
    estimator: BaseEstimator,
    data: pd.DataFrame | pd.Series,
    target: Hashable | None = None,
    *,
    horizon: int,
    group: Hashable | None = None,
    quantiles: bool = False,
) -> pd.DataFrame:
    """Hold out the last ``horizon`` values of every series, fit once, forecast them.

    The M4 competition's protocol: each series' last ``horizon`` rows are its test; a clone
    of ``estimator`` is fitted once on the rows before them (``make_supervised(train,
    target, group=group, horizon=range(1, horizon + 1))``), and each series is forecast from
    its last training row as :func:`~tsforecast.forecast.forecast_panel` does. Use it on the
    training values alone (their last ``horizon`` values as validation) to choose settings,
    then on the whole data once.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Unfitted direct multi-step model (e.g. a
        :class:`~tsforecast.preprocessing.PanelWindowTransformer` and an
        :class:`~tsforecast.LSTMRegressor`); ``estimator`` itself is left unfitted.
    data : DataFrame or Series
        The panel in long format (one series: any time-ordered frame), each series sorted
        by the index.
    target : hashable, default=None
        The column to forecast; may be omitted for a Series or a one-column frame.
    horizon : int
        Test values per series.
    group : hashable, default=None
        The column naming each row's series; ``None``: ``data`` is one series.
    quantiles : bool, default=False
        Add the quantile columns (a model with ``predict_quantiles``).

    Returns
    -------
    forecasts : DataFrame
        :func:`~tsforecast.forecast.forecast_panel`'s frame with ``actual``, the held-out
        value, and the time column holding the held-out rows' own index labels.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from tsforecast.model_selection import backtest_panel
    >>> data = pd.DataFrame({"id": ["a"] * 5 + ["b"] * 5,
    ...                      "y": [1.0, 2, 3, 4, 5, 10, 11, 12, 13, 15]})
    >>> model = make_pipeline(FunctionTransformer(lambda X: X[["y"]]), LinearRegression())
    >>> backtest_panel(model, data, "y", horizon=1, group="id").round(6)
      id  step  time  forecast  actual
    0  a     1     4       5.0     5.0
    1  b     1     9      14.0    15.0
    """
    if not isinstance(horizon, Integral) or isinstance(horizon, bool) or horizon < 1:
        raise ValueError(f"horizon must be a positive int; got {horizon!r}.")
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame or Series; got {type(data).__name__}.")
    if target is None and data.shape[1] == 1:
        target = data.columns[0]
    if target not in data.columns:
        raise ValueError(f"target {target!r} is not a column of data: {data.columns.tolist()!r}.")
    if group is not None and group not in data.columns:
        raise ValueError(f"group {group!r} is not a column of data: {data.columns.tolist()!r}.")
    keys = np.zeros(len(data)) if group is None else data[group].to_numpy()
    from_end = (
        pd.Series(keys, index=np.arange(len(data)))
        .groupby(keys, sort=False)
        .cumcount(ascending=False)
    )
    test = from_end.to_numpy() < horizon
    train = data[~test]
    X, y = make_supervised(train, target, horizon=range(1, horizon + 1), group=group)
    model = clone(estimator).fit(X, y)
    forecasts = _PanelForecast(model, train, group, horizon, quantiles)
    held_out = data[test]
    actual = [
        held_out if key is None else held_out[held_out[group] == key] for key in forecasts.keys
    ]
    name = data.index.name if data.index.name is not None else "time"
    table = forecasts.frame(group, [rows.index for rows in actual], name)
    table["actual"] = np.concatenate([rows[target].to_numpy() for rows in actual])
    return table
