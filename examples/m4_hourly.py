"""M4 Hourly: one global LSTM forecasts the next 48 hours of all 414 series in one call.

The M4 competition's hourly set (its own files: ``--data DIR`` holding ``Hourly-train.csv.gz``
and ``Hourly-test.csv.gz``) becomes one long frame: a column ``id`` names each series, ``y``
holds its values. One LSTM learns from every series at once (a *global* model):
``make_supervised(..., group="id", horizon=range(1, 49))`` pairs each hour with the next 48
hours of its own series, and ``PanelWindowTransformer`` gives the network a week (168 hours)
before each hour, never crossing two series. Series differ in level by orders of magnitude, so
each is divided by the mean of its last week before the forecast origin.

1. Validation, M4's usual way: ``backtest_panel`` holds out the last 48 training values of
   every series, fits once and forecasts them (choose settings here, never on the test).
2. Test, once: fit on all training values, then ``forecast_panel`` returns the next 48 values
   of every series as a tidy frame (id, step, forecast), scored as M4 does: sMAPE, MASE
   (scaled by the in-sample error of "same hour yesterday") and OWA relative to M4's Naive2.

The benchmark behind the README's table: ``python -m benchmarks --only m4 --data DIR``.

Run:  python examples/m4_hourly.py --data ../shared/data/m4 [--max-epochs N] [--series N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.pipeline import make_pipeline

from tsforecast import LSTMRegressor, make_supervised
from tsforecast.forecast import forecast_panel
from tsforecast.metrics import (
    mean_absolute_scaled_error,
    symmetric_mean_absolute_percentage_error,
)
from tsforecast.model_selection import backtest_panel
from tsforecast.preprocessing import PanelWindowTransformer

HORIZON, SEASON, WINDOW = 48, 24, 168
NAIVE2 = {"smape": 18.383, "mase": 2.395}  # M4's published Naive2 on this set, for OWA


def read_m4(folder: Path, n_series: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and test values as long frames (id, y) on the hour t relative to the forecast
    origin (training -n .. -1, test 0 .. 47; M4 gives no dates), hour by hour: the last rows
    hold every series' most recent hours (where the LSTM's early stopping looks)."""
    frames = []
    for part in ("train", "test"):
        path = folder / f"Hourly-{part}.csv.gz"
        if not path.is_file():
            sys.exit(f"M4's hourly files are not in {folder}: {path.name} is missing (--data).")
        wide = pd.read_csv(path, index_col=0).iloc[:n_series]  # one row per series, V2, V3...
        long = wide.melt(var_name="t", value_name="y", ignore_index=False)
        long = long.rename_axis("id").reset_index()
        long["t"] = long["t"].str[1:].astype(int) - 2  # V2 is the first value: t = 0
        frames.append(long.dropna())
    train, test = frames
    train["t"] -= train.groupby("id")["t"].transform("size")
    return (frame.sort_values("t", kind="stable").set_index("t") for frame in (train, test))


def scaled(frame: pd.DataFrame, before: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Each series divided by the mean of its last week, ``before`` values from its end (no
    value after the forecast origin is read), and the scales."""
    last_week = frame.groupby("id", sort=False)["y"].apply(
        lambda y: y.iloc[len(y) - before - WINDOW : len(y) - before].abs().mean()
    )
    return frame.assign(y=frame["y"] / last_week.loc[frame["id"]].to_numpy()), last_week


def model(max_epochs: int) -> object:
    """The benchmark's recipe: one LSTM over every series, a week of input, 48 outputs."""
    return make_pipeline(
        PanelWindowTransformer(group="id", window=WINDOW),
        LSTMRegressor(
            units=64,
            learning_rate=1e-3,
            max_epochs=max_epochs,
            patience=3,
            windows_per_epoch=8192,
            validation_fraction=0.05,
            random_state=0,
        ),
    )


def m4_scores(table: pd.DataFrame, history: pd.DataFrame) -> dict[str, float]:
    """M4's sMAPE (percent), MASE and OWA of a frame with id, forecast and actual."""
    smape, mase = [], []
    for key, rows in table.groupby("id", sort=False):
        smape.append(symmetric_mean_absolute_percentage_error(rows["actual"], rows["forecast"]))
        past = history.loc[history["id"] == key, "y"]
        mase.append(
            mean_absolute_scaled_error(
                rows["actual"], rows["forecast"], y_train=past, seasonality=SEASON
            )
        )
    result = {"sMAPE": 100 * np.mean(smape), "MASE": np.mean(mase)}
    result["OWA"] = (result["sMAPE"] / NAIVE2["smape"] + result["MASE"] / NAIVE2["mase"]) / 2
    return result


def same_hour_yesterday(history: pd.DataFrame) -> pd.DataFrame:
    """Seasonal naive forecasts: id, step, forecast."""
    last_day = history.groupby("id", sort=False)["y"].apply(lambda y: y.to_numpy()[-SEASON:])
    return pd.DataFrame(
        {
            "id": np.repeat(last_day.index, HORIZON),
            "step": np.tile(np.arange(1, HORIZON + 1), len(last_day)),
            "forecast": np.concatenate([np.resize(day, HORIZON) for day in last_day]),
        }
    )


def report(title: str, table: pd.DataFrame, history: pd.DataFrame, seconds: float) -> None:
    naive = table.drop(columns="forecast").merge(same_hour_yesterday(history), on=["id", "step"])
    print(f"\n{title}")
    print(f"{'':<24}{'sMAPE':>8}{'MASE':>8}{'OWA':>8}")
    for name, frame in (("seasonal naive", naive), (f"global LSTM ({seconds:.0f} s)", table)):
        s = m4_scores(frame, history)
        print(f"{name:<24}{s['sMAPE']:>8.3f}{s['MASE']:>8.3f}{s['OWA']:>8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of M4's Hourly files")
    parser.add_argument("--max-epochs", type=int, default=5)
    parser.add_argument("--series", type=int, default=None, help="the first N series only")
    args = parser.parse_args()
    torch.set_num_threads(2)
    train, test = read_m4(args.data, args.series)
    print(f"{train['id'].nunique()} series, {len(train):,} training values, horizon {HORIZON}")

    # 1. Validation: hold out the last 48 training values of each series (M4's protocol).
    start = time.perf_counter()
    rows, scale = scaled(train, before=HORIZON)
    held_out = backtest_panel(model(args.max_epochs), rows, "y", horizon=HORIZON, group="id")
    factor = scale.loc[held_out["id"]].to_numpy()
    held_out = held_out.assign(
        forecast=held_out["forecast"] * factor, actual=held_out["actual"] * factor
    )
    inner = train.groupby("id", sort=False).head(-HORIZON)
    report("validation (last 48 training values)", held_out, inner, time.perf_counter() - start)

    # 2. Test, scored once: fit on every training value, the next 48 hours in one call.
    start = time.perf_counter()
    rows, scale = scaled(train)
    X, y = make_supervised(rows, "y", group="id", horizon=range(1, HORIZON + 1))
    fitted = model(args.max_epochs).fit(X, y)
    table = forecast_panel(fitted, rows, group="id")  # id, step, t (0 .. 47), forecast
    table["forecast"] *= scale.loc[table["id"]].to_numpy()
    table = table.merge(test.reset_index().rename(columns={"y": "actual"}), on=["id", "t"])
    report("test (M4's 48 hours)", table, train, time.perf_counter() - start)
    print("\nM4's published: seasonal naive 0.627, ES-RNN (winner) 0.440 OWA.")


if __name__ == "__main__":
    main()
