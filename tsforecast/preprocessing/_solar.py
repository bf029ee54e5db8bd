"""Clear-sky irradiance: a covariate of solar data known in advance from the clock alone."""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd


def clear_sky_irradiance(
    index: pd.DatetimeIndex,
    latitude: float,
    longitude: float,
    *,
    utc_offset: float | None = None,
) -> pd.Series:
    """Global horizontal irradiance under a cloudless sky at each time step (W/m²).

    The sun's position from NOAA's solar equations (Spencer's series for the declination
    and the equation of time, accurate to a few minutes of time), and the Haurwitz model
    ``1098 cos(z) exp(-0.057 / cos(z))`` for the irradiance at zenith angle ``z``; zero
    while the sun is below the horizon. It depends on nothing but the timestamp and the
    place, so it is known for any future step: as a covariate it carries the daily and
    yearly shape of irradiance, and the observed irradiance divided by it is the sky's
    clearness. For a direct multi-step forecast, also pass it at the target times (for
    example, computed on ``index + horizon``) so that the window holds the shape of the
    hours to forecast.

    Parameters
    ----------
    index : DatetimeIndex
        The time steps, taken as instants (for hourly averages labelled at the end of the
        hour, pass ``index - pd.Timedelta(minutes=30)`` to place them mid-hour).
    latitude, longitude : float
        Degrees, north and east positive.
    utc_offset : float, default=None
        Hours ahead of UTC of a time-zone-naive ``index`` (-5 for US Eastern Standard
        Time); a time-zone-aware index must not pass it.

    Returns
    -------
    irradiance : Series of float, on ``index``
        Named ``"clear_sky_ghi"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from tsforecast.preprocessing import clear_sky_irradiance
    >>> hours = pd.date_range("2021-06-21 00:00", periods=24, freq="h", tz="UTC")
    >>> ghi = clear_sky_irradiance(hours, latitude=0.0, longitude=0.0)
    >>> int(ghi.idxmax().hour), round(float(ghi.max()))
    (12, 947)
    >>> float(ghi.iloc[0])
    0.0
    """
    if not isinstance(index, pd.DatetimeIndex):
        raise TypeError(f"index should be a pandas DatetimeIndex, got {type(index).__name__}.")
    for name, value, bound in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        if isinstance(value, bool) or not isinstance(value, Real) or not -bound <= value <= bound:
            raise ValueError(f"{name} should be a number of degrees in [-{bound}, {bound}].")
    if index.hasnans:
        raise ValueError("index holds missing timestamps (NaT): the sun's position needs a time.")
    if index.tz is None:
        if utc_offset is None:
            raise ValueError(
                "index has no time zone: pass utc_offset, its hours ahead of UTC (-5 for US "
                "Eastern Standard Time), or a time-zone-aware index."
            )
        if (
            isinstance(utc_offset, bool)
            or not isinstance(utc_offset, Real)
            or not -14 <= utc_offset <= 14
        ):
            raise ValueError(
                f"utc_offset should be a number of hours in [-14, 14], got {utc_offset!r}."
            )
        utc = index - pd.Timedelta(hours=float(utc_offset))
    else:
        if utc_offset is not None:
            raise ValueError("index has a time zone: utc_offset is only for a naive index.")
        utc = index.tz_convert("UTC").tz_localize(None)
    hours = np.asarray(utc.hour + utc.minute / 60 + utc.second / 3600, dtype=np.float64)
    # The fractional year on 365 days, also in leap years, as Spencer's series take it.
    gamma = (
        2 * np.pi / 365 * (np.asarray(utc.day_of_year, dtype=np.float64) - 1 + (hours - 12) / 24)
    )
    equation_of_time = 229.18 * (
        0.000075
        + 0.001868 * np.cos(gamma)
        - 0.032077 * np.sin(gamma)
        - 0.014615 * np.cos(2 * gamma)
        - 0.040849 * np.sin(2 * gamma)
    )  # minutes
    declination = (
        0.006918
        - 0.399912 * np.cos(gamma)
        + 0.070257 * np.sin(gamma)
        - 0.006758 * np.cos(2 * gamma)
        + 0.000907 * np.sin(2 * gamma)
        - 0.002697 * np.cos(3 * gamma)
        + 0.00148 * np.sin(3 * gamma)
    )  # radians
    solar_minutes = hours * 60 + equation_of_time + 4 * longitude
    hour_angle = np.radians(solar_minutes / 4 - 180)
    lat = np.radians(latitude)
    cos_zenith = np.sin(lat) * np.sin(declination) + np.cos(lat) * np.cos(declination) * np.cos(
        hour_angle
    )
    up = cos_zenith > 0
    irradiance = np.zeros(len(index))
    irradiance[up] = 1098 * cos_zenith[up] * np.exp(-0.057 / cos_zenith[up])
    return pd.Series(irradiance, index=index, name="clear_sky_ghi")
