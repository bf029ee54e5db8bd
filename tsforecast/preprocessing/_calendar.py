"""Calendar covariates: known in advance, so usable as features without look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd

_CALENDAR_PERIODS = {
    "minute": 60,
    "hour": 24,
    "day_of_week": 7,
    "month": 12,
    "day_of_year": 366,
    "quarter": 4,
}


def calendar_features(
    index: pd.DatetimeIndex, features: tuple[str, ...] = ("day_of_week", "month")
) -> pd.DataFrame:
    """Cyclical calendar covariates: a sine and a cosine per calendar field.

    Calendar fields are known in advance, so they are covariates without look-ahead; the
    sine/cosine pair puts December next to January and Friday next to Monday. Join them
    with the series before :func:`~tsforecast.make_supervised`.

    Parameters
    ----------
    index : DatetimeIndex
        The time steps.
    features : tuple of str, default=("day_of_week", "month")
        Fields among ``"minute"`` (of the hour), ``"hour"`` (of the day, for sub-daily
        data), ``"day_of_week"``, ``"month"``, ``"day_of_year"``, ``"quarter"``.

    Returns
    -------
    covariates : DataFrame of shape (len(index), 2 * len(features))
        Columns ``<field>_sin`` and ``<field>_cos`` on ``index``.

    Examples
    --------
    >>> import pandas as pd
    >>> from tsforecast.preprocessing import calendar_features
    >>> calendar_features(pd.bdate_range("2024-01-01", periods=2), ("day_of_week",)).round(3)
                day_of_week_sin  day_of_week_cos
    2024-01-01            0.000            1.000
    2024-01-02            0.782            0.623
    >>> hours = pd.date_range("2024-01-01 00:00", periods=3, freq="6h")
    >>> calendar_features(hours, ("hour",)).round(3)
                         hour_sin  hour_cos
    2024-01-01 00:00:00       0.0       1.0
    2024-01-01 06:00:00       1.0       0.0
    2024-01-01 12:00:00       0.0      -1.0
    """
    if not isinstance(index, pd.DatetimeIndex):
        raise TypeError(f"index must be a DatetimeIndex; got {type(index).__name__}.")
    unknown = sorted(set(features) - set(_CALENDAR_PERIODS))
    if unknown:
        raise ValueError(
            f"Unknown calendar features {unknown}; choose from {sorted(_CALENDAR_PERIODS)}."
        )
    columns = {}
    for name in features:
        position = np.asarray(getattr(index, name), dtype=np.float64)
        if name in ("month", "day_of_year", "quarter"):
            position -= 1  # these count from 1
        angle = 2 * np.pi * position / _CALENDAR_PERIODS[name]
        columns[f"{name}_sin"], columns[f"{name}_cos"] = np.sin(angle), np.cos(angle)
    return pd.DataFrame(columns, index=index)
