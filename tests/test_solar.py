"""clear_sky_irradiance: the sun's position and the Haurwitz clear-sky model, by hand."""

import numpy as np
import pandas as pd
import pytest

from tsforecast.preprocessing import clear_sky_irradiance


def _haurwitz(zenith_degrees):
    cos_z = np.cos(np.radians(zenith_degrees))
    return 1098 * cos_z * np.exp(-0.057 / cos_z)


def test_solar_noon_at_the_solstice_has_the_zenith_latitude_minus_the_tilt():
    # Greensboro, NC (36.1 N, 79.95 W); local solar noon near 12:20 EST on 21 June.
    minutes = pd.date_range("2021-06-21 11:00", "2021-06-21 14:00", freq="min")
    ghi = clear_sky_irradiance(minutes, 36.1, -79.95, utc_offset=-5)
    noon = ghi.idxmax()
    assert pd.Timestamp("2021-06-21 12:15") <= noon <= pd.Timestamp("2021-06-21 12:25")
    assert ghi.max() == pytest.approx(_haurwitz(36.1 - 23.44), rel=2e-3)


def test_zero_at_night_positive_by_day_and_summer_above_winter():
    hours = pd.date_range("2021-01-01", "2021-12-31 23:00", freq="h")
    ghi = clear_sky_irradiance(hours, 36.1, -79.95, utc_offset=-5)
    assert (ghi >= 0).all() and ghi.name == "clear_sky_ghi" and ghi.index.equals(hours)
    assert (ghi[hours.hour.isin([0, 1, 2, 3, 22, 23])] == 0).all()
    assert (ghi[hours.hour.isin([10, 11, 12, 13, 14])] > 0).all()
    assert ghi["2021-06"].max() > 1.4 * ghi["2021-12"].max()


def test_an_aware_index_equals_the_naive_one_with_its_offset():
    naive = pd.date_range("2021-03-20", periods=48, freq="h")
    aware = naive.tz_localize("Etc/GMT+5")  # UTC-5, as US Eastern Standard Time
    np.testing.assert_array_equal(
        clear_sky_irradiance(aware, 36.1, -79.95).to_numpy(),
        clear_sky_irradiance(naive, 36.1, -79.95, utc_offset=-5).to_numpy(),
    )


def test_the_southern_hemisphere_has_its_summer_in_december():
    days = pd.date_range("2021-01-01 12:00", periods=365, freq="D", tz="UTC")
    ghi = clear_sky_irradiance(days, -34.0, 0.0)
    assert ghi.idxmax().month in (12, 1) and ghi.idxmin().month in (6, 7)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"index": [1, 2]}, TypeError, "pandas DatetimeIndex"),
        ({"latitude": 91.0}, ValueError, "latitude should be"),
        ({"longitude": "0"}, ValueError, "longitude should be"),
        ({"latitude": True}, ValueError, "latitude should be"),
        ({"utc_offset": None}, ValueError, "index has no time zone"),
        ({"utc_offset": True}, ValueError, "utc_offset should be"),
        ({"utc_offset": 100}, ValueError, "utc_offset should be"),
        ({"utc_offset": float("nan")}, ValueError, "utc_offset should be"),
        (
            {"index": pd.DatetimeIndex(["2021-06-21 12:00", None])},
            ValueError,
            "missing timestamps",
        ),
    ],
)
def test_bad_input_is_named(kwargs, error, match):
    args = {
        "index": pd.date_range("2021-01-01", periods=3, freq="h"),
        "latitude": 36.1,
        "longitude": -79.95,
        "utc_offset": -5,
    }
    args.update(kwargs)
    with pytest.raises(error, match=match):
        clear_sky_irradiance(args.pop("index"), **args)


def test_an_aware_index_refuses_an_offset():
    hours = pd.date_range("2021-01-01", periods=3, freq="h", tz="UTC")
    with pytest.raises(ValueError, match="only for a naive index"):
        clear_sky_irradiance(hours, 36.1, -79.95, utc_offset=-5)
