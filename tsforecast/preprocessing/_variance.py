"""Variance targets from prices: one observed variance per day, in squared log-return units.

:func:`squared_returns` (close to close), :func:`parkinson_variance` (high-low range) and
:func:`garman_klass_variance` (open, high, low, close): the targets of a volatility model and of
the forecasters in :mod:`tsforecast.volatility`.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd

_LOG2 = np.log(2.0)


def _prices(ohlc: pd.DataFrame, columns: tuple[str, ...]) -> list[np.ndarray]:
    if not isinstance(ohlc, pd.DataFrame):
        raise TypeError(f"ohlc must be a pandas DataFrame; got {type(ohlc).__name__}.")
    missing = [name for name in columns if name not in ohlc.columns]
    if missing:
        raise ValueError(f"ohlc has no column {missing}; it needs {list(columns)}.")
    values = ohlc[list(columns)].to_numpy(dtype=np.float64)
    if not (np.isfinite(values).all() and (values > 0).all()):
        raise ValueError(f"The {list(columns)} prices must be positive and finite.")
    prices = dict(zip(columns, values.T, strict=True))
    high, low = prices["High"], prices["Low"]
    checks = [("High < Low", high < low)]
    for name in ("Open", "Close"):
        if name in prices:
            checks += [
                (f"{name} > High", prices[name] > high),
                (f"{name} < Low", prices[name] < low),
            ]
    for problem, rows in checks:
        if rows.any():
            raise ValueError(
                f"ohlc has rows with {problem} (the first at index {ohlc.index[rows][0]!r}); "
                "every price of a bar must lie between its Low and its High."
            )
    return list(values.T)


def squared_returns(prices: pd.Series, *, tick: float = 0.0) -> pd.Series:
    """Squared daily log returns, the close-to-close variance proxy.

    A price quoted to a tick that did not move has a zero squared return, which QLIKE cannot
    score. Such a day moved by less than a tick: with ``tick`` > 0 its squared return is
    replaced by ``(tick / price) ** 2 / 6``, the variance of the return that rounding both
    prices to the tick leaves (two independent uniform errors). Returns of a tick or more
    are never changed.

    Parameters
    ----------
    prices : Series of shape (n_days,)
        Positive prices, oldest first.
    tick : float, default=0.0
        Quote resolution (0.0001 for ECB euro rates, 0.01 for an index in points).

    Returns
    -------
    variance : Series of shape (n_days - 1,)
        Indexed by the later day of each return.

    Examples
    --------
    >>> import pandas as pd
    >>> from tsforecast.preprocessing import squared_returns
    >>> squared_returns(pd.Series([1.0, 1.1, 1.1]), tick=0.01).round(8).tolist()
    [0.00908403, 1.377e-05]
    """
    if not isinstance(prices, pd.Series):
        raise TypeError(f"prices must be a pandas Series; got {type(prices).__name__}.")
    if not isinstance(tick, Real) or not (0 <= tick < np.inf):
        raise ValueError(f"tick must be a finite number >= 0; got {tick!r}.")
    values = prices.to_numpy(dtype=np.float64)
    if not (np.isfinite(values).all() and (values > 0).all()):
        raise ValueError("prices must be positive and finite.")
    squared = np.diff(np.log(values)) ** 2
    floor = (tick / values[1:]) ** 2 / 6
    return pd.Series(np.maximum(squared, floor), index=prices.index[1:], name="variance")


def parkinson_variance(ohlc: pd.DataFrame) -> pd.Series:
    """Parkinson's (1980) range estimate of each day's variance: ``log(H / L)² / (4 log 2)``.

    About five times as efficient as a squared return, but blind to the overnight move.

    Parameters
    ----------
    ohlc : DataFrame with columns "High" and "Low"
        Daily prices.

    Returns
    -------
    variance : Series of shape (n_days,)

    Examples
    --------
    >>> import pandas as pd
    >>> from tsforecast.preprocessing import parkinson_variance
    >>> parkinson_variance(pd.DataFrame({"High": [102.0], "Low": [100.0]})).round(8).tolist()
    [0.00014144]
    """
    high, low = _prices(ohlc, ("High", "Low"))
    return pd.Series(np.log(high / low) ** 2 / (4 * _LOG2), index=ohlc.index, name="variance")


def garman_klass_variance(ohlc: pd.DataFrame) -> pd.Series:
    """Garman & Klass's (1980) estimate of each day's variance from open, high, low, close.

    ``0.5 log(H / L)² - (2 log 2 - 1) log(C / O)²``: the most efficient of the classical
    range estimators for a driftless diffusion; like Parkinson's, it measures the trading
    session only.

    Parameters
    ----------
    ohlc : DataFrame with columns "Open", "High", "Low", "Close"
        Daily prices.

    Returns
    -------
    variance : Series of shape (n_days,)

    Examples
    --------
    >>> import pandas as pd
    >>> from tsforecast.preprocessing import garman_klass_variance
    >>> day = pd.DataFrame({"Open": [100.0], "High": [102.0], "Low": [99.0], "Close": [101.0]})
    >>> garman_klass_variance(day).round(8).tolist()
    [0.00040735]
    """
    open_, high, low, close = _prices(ohlc, ("Open", "High", "Low", "Close"))
    variance = 0.5 * np.log(high / low) ** 2 - (2 * _LOG2 - 1) * np.log(close / open_) ** 2
    return pd.Series(variance, index=ohlc.index, name="variance")
