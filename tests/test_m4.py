"""The M4 benchmark's scoring: M4's measures and Naive2, by hand and against the published
table (on M4's hourly files in ``../shared/data/m4`` beside the clone; skipped without them)."""

import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.m4 import (
    FREQUENCIES,
    load_m4,
    long_frame,
    m4_scores,
    naive2,
    owa,
    seasonal_indices,
    seasonal_naive,
    seasonality_test,
    validation_split,
)
from benchmarks.m4_contender import RECIPE, tsforecast_contender

M4_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "m4"
PATTERN = np.array([1.2, 0.8, 1.1, 0.9])  # multiplicative, averages 1


def test_seasonal_indices_recover_an_exact_multiplicative_pattern():
    # A constant level times the pattern: the centred 2x4 moving average is the level.
    series = 10 * np.tile(PATTERN, 10)
    np.testing.assert_allclose(seasonal_indices(series, 4), PATTERN)
    # An odd season (plain moving average), and a series that starts mid-season: index i
    # belongs to positions t with t % season == i.
    odd = np.array([1.5, 0.5, 1.0])
    np.testing.assert_allclose(seasonal_indices(7 * np.tile(odd, 9)[1:], 3), np.roll(odd, -1))


def test_seasonality_test_at_90_percent():
    t = np.arange(96)
    assert seasonality_test(10 + np.sin(2 * np.pi * t / 24), 24)
    assert not seasonality_test(np.random.default_rng(0).normal(size=96), 24)
    assert not seasonality_test(10 + np.sin(2 * np.pi * t[:71] / 24), 24)  # < 3 seasons
    assert not seasonality_test(np.arange(50.0), 1)  # no season


def test_naive2_reseasonalises_the_last_deseasonalised_value():
    series = 10 * np.tile(PATTERN, 10)[:-1]  # ends at position 38: pattern index 2
    series[-1] = 1.1 * 12  # the level moved to 12 at the last value
    figure = seasonal_indices(series, 4)
    last = series[-1] / figure[38 % 4]
    np.testing.assert_allclose(naive2(series, 6, 4), last * figure[np.arange(39, 45) % 4])
    # Not seasonal: the last value repeated.
    np.testing.assert_array_equal(naive2(np.arange(1.0, 20.0), 3, 4), [19.0, 19.0, 19.0])
    np.testing.assert_array_equal(seasonal_naive(np.arange(10.0), 5, 3), [7, 8, 9, 7, 8])


def test_m4_scores_and_owa_by_hand():
    train = [np.array([1.0, 2.0, 4.0]), np.array([10.0, 10.0, 20.0, 20.0])]
    test = np.array([[4.0, 6.0], [20.0, 10.0]])
    forecasts = np.array([[4.0, 4.0], [10.0, 10.0]])
    scores = m4_scores(forecasts, train, test, season=1)
    # sMAPE: series 1: (0 + 4/10) / 2, series 2: (20/30 + 0) / 2; percent.
    assert scores["smape"] == pytest.approx(100 * (0.2 + 1 / 3) / 2)
    # MASE: series 1: MAE 1 / naive scale 1.5, series 2: MAE 5 / scale 10/3.
    assert scores["mase"] == pytest.approx((1 / 1.5 + 5 / (10 / 3)) / 2)
    assert owa({"smape": 10.0, "mase": 1.0}, {"smape": 20.0, "mase": 4.0}) == 0.375


def test_validation_holds_out_the_last_training_values():
    train, held_out = validation_split([np.arange(5.0), np.arange(10.0, 14.0)], horizon=2)
    assert [s.tolist() for s in train] == [[0.0, 1.0, 2.0], [10.0, 11.0]]
    assert held_out.tolist() == [[3.0, 4.0], [12.0, 13.0]]
    with pytest.raises(ValueError, match="2 training values or fewer"):
        validation_split([np.arange(2.0)], horizon=2)


def test_long_frame_counts_steps_back_from_each_series_end():
    frame = long_frame(["a", "b"], [np.array([1.0, 2.0]), np.array([3.0])])
    assert frame.index.tolist() == [-2, -1, -1]
    assert frame["id"].tolist() == ["a", "a", "b"]


def test_load_m4_reads_ragged_rows_and_names_missing_files(tmp_path):
    pd.DataFrame(
        {"V1": ["Y1", "Y2"], "V2": [1.0, 4.0], "V3": [2.0, 5.0], "V4": [3.0, None]}
    ).to_csv(tmp_path / "Yearly-train.csv", index=False)
    test = pd.DataFrame({"V1": ["Y1", "Y2"], **{f"V{i}": [0.0, 1.0] for i in range(2, 8)}})
    test.to_csv(tmp_path / "Yearly-test.csv", index=False)
    ids, train, values = load_m4(tmp_path, "Yearly")
    assert ids == ["Y1", "Y2"]
    assert [s.tolist() for s in train] == [[1.0, 2.0, 3.0], [4.0, 5.0]]
    assert values.shape == (2, FREQUENCIES["Yearly"][0])
    with pytest.raises(FileNotFoundError, match="M4's Hourly train file is not in"):
        load_m4(tmp_path, "Hourly")
    with pytest.raises(ValueError, match="frequency must be one of"):
        load_m4(tmp_path, "hourly")


@pytest.fixture(scope="module")
def hourly():
    if not (M4_DATA / "Hourly-train.csv.gz").is_file():
        pytest.skip(f"M4's hourly files are not in {M4_DATA} (shared/ beside the clone)")
    return load_m4(M4_DATA, "Hourly")


def test_naive2_and_seasonal_naive_reproduce_the_published_hourly_rows(hourly):
    _, train, test = hourly
    horizon, season = FREQUENCIES["Hourly"]
    baseline = m4_scores(np.stack([naive2(s, horizon, season) for s in train]), train, test, 24)
    assert round(baseline["smape"], 3) == 18.383
    assert round(baseline["mase"], 3) == 2.395
    snaive = np.stack([seasonal_naive(s, horizon, season) for s in train])
    scores = m4_scores(snaive, train, test, season)
    assert round(scores["smape"], 3) == 13.912
    assert round(scores["mase"], 3) == 1.193
    # Published 0.627 is the OWA of the rounded measures (0.62745); unrounded it is 0.62750.
    assert owa(scores, baseline) == pytest.approx(0.627, abs=1e-3)


def test_the_contender_has_the_examples_recipe_and_keeps_the_series_order(monkeypatch):
    # The benchmark scores the recipe that examples/m4_hourly.py shows users.
    examples = Path(__file__).resolve().parents[1] / "examples"
    monkeypatch.syspath_prepend(str(examples))  # the example's shared _settings module
    example = runpy.run_path(str(examples / "m4_hourly.py"))
    assert example["RECIPE"] == RECIPE
    t = np.arange(60)
    series = [10.0**k * (5 + np.sin(2 * np.pi * t[: 60 - 5 * k] / 6)) for k in range(3)]
    tiny = {"window": 12, "units": 4, "max_epochs": 1, "members": 2}
    forecasts = tsforecast_contender(series, horizon=4, season=6, **tiny)
    assert forecasts.shape == (3, 4)
    # One row per series, in train's order: near its seasonal-naive forecast (the network
    # forecasts the residual to it, scaled by each window's own level).
    snaive = np.stack([seasonal_naive(s, 4, 6) for s in series])
    np.testing.assert_allclose(forecasts, snaive, rtol=0.15)
