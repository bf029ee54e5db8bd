import numpy as np
import pandas as pd

from tsforecast.datasets import load_eurusd, load_fx, load_hourly_weather, load_kjv, load_sp500


def _check_frame(frame: pd.DataFrame) -> None:
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert all(dtype == np.float64 for dtype in frame.dtypes)
    assert not frame.isna().any().any()


def test_load_sp500():
    prices = load_sp500()
    _check_frame(prices)
    assert prices.shape == (5031, 6)
    assert prices.columns.tolist() == ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
    assert prices.index[0] == pd.Timestamp("1999-01-04")
    assert prices.index[-1] == pd.Timestamp("2018-12-31")
    assert prices.loc["2018-12-31", "Close"] == 2506.850098
    assert (prices["High"] >= prices["Low"]).all()


def test_load_fx_and_eurusd():
    rates = load_fx()
    _check_frame(rates)
    assert rates.shape == (7126, 5)
    assert rates.index[-1] == pd.Timestamp("2026-10-30")
    eurusd = load_eurusd()
    assert eurusd.columns.tolist() == ["USD"]
    pd.testing.assert_series_equal(eurusd["USD"], rates["USD"])
    assert eurusd["USD"].min() > 0.8 and eurusd["USD"].max() < 1.7


def test_loaders_return_fresh_copies():
    first = load_sp500()
    first.iloc[0, 0] = -1.0
    assert load_sp500().iloc[0, 0] > 0


def test_load_kjv():
    verses = load_kjv()
    assert verses.columns.tolist() == ["book", "chapter", "verse", "text"]
    assert len(verses) == 3376
    assert verses.groupby("book")["chapter"].max().to_dict() == {"Proverbs": 31, "Psalms": 150}
    assert verses.loc[0, "text"].startswith("Blessed is the man that walketh not")
    assert not verses.isna().any().any()
    assert verses.duplicated(["book", "chapter", "verse"]).sum() == 0


def test_price_indexes_carry_their_trading_calendar_as_frequency():
    """sktime, skforecast and darts need a frequency; "B" would invent holiday prices."""
    for frame in (load_sp500(), load_fx(), load_eurusd()):
        index = frame.index
        assert index.freqstr == "C"
        # Every label is on the calendar and none of its days is missing: freq validates.
        pd.DatetimeIndex(index, freq=index.freq)
        step = pd.Series(index[1:] - index[:-1])
        assert step.min() == pd.Timedelta(days=1)
        # The calendar skips the weekdays without a price (holidays), as the data do.
        holidays = pd.bdate_range(index[0], index[-1]).difference(index)
        assert len(holidays) > 0
        assert all(index.freq.rollforward(day) > day for day in holidays[:20])
        # Slices keep the frequency, so a training window passes it on.
        assert frame.iloc[100:200].index.freq is not None
    sp500 = load_sp500().index
    assert str((sp500[-1] + sp500.freq).date()) == "2019-01-01"  # beyond the data: weekdays
    assert pd.Timestamp("2018-12-25") not in sp500  # Christmas is a holiday of the calendar
    assert sp500[sp500.get_loc(pd.Timestamp("2018-12-24")) + 1] == pd.Timestamp("2018-12-26")


def test_load_hourly_weather():
    weather = load_hourly_weather()
    _check_frame(weather)
    assert weather.shape == (8760, 4)
    assert weather.columns.tolist() == ["ghi", "temperature", "humidity", "wind_speed"]
    assert weather.index.name == "time" and weather.index.freqstr == "h"
    assert weather.index[0] == pd.Timestamp("2021-01-01 00:00")
    assert weather.index[-1] == pd.Timestamp("2021-12-31 23:00")
    # Irradiance is zero at night and never negative; the warmest month is July.
    assert (weather["ghi"] >= 0).all()
    assert (weather["ghi"][weather.index.hour.isin([0, 1, 2, 3, 22, 23])] == 0).all()
    monthly = weather["temperature"].groupby(weather.index.month).mean()
    assert monthly.idxmax() == 7 and monthly.idxmin() == 1
    # The documented jump at a month boundary (months come from different years).
    assert weather.loc["2021-01-31 23:00", "humidity"] == 93.0
    assert weather.loc["2021-02-01 00:00", "humidity"] == 49.0
