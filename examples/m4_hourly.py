"""
M4 Hourly: one ensemble of global LSTMs forecasts 48 hours of every series
==========================================================================

M4's hourly set from its own files (``--data DIR``: ``Hourly-train.csv.gz``,
``Hourly-test.csv.gz``; never shipped) as one long frame: ``id`` names each series, ``y``
holds its values on the hour ``t`` (M4 gives no dates). ``make_supervised(..., group="id",
horizon=range(1, 49))`` pairs each hour with the next 48 of its series,
``PanelWindowTransformer`` gives the model the week before (never crossing two series), and
``LSTMEnsembleRegressor`` takes the median of ``--members`` LSTMs, each trained on every
series at once. Each LSTM scales each window by its own median and spread
(``window_scaling="robust"``) and forecasts the difference to the same hour yesterday
(``seasonal_residual``). ``RECIPE`` was chosen on the validation split;
``python -m benchmarks --only m4 --data DIR`` scores the same recipe against M4's table.

1. Validation, M4's way: ``backtest_panel`` holds out each series' last 48 training values.
2. Test, once: fit on all training values; ``forecast_panel`` gives the next 48 values of
   every series (id, step, t, forecast), scored as M4 does: sMAPE, MASE and OWA, beside
   seasonal naive. OWA divides by the published Naive2 of the whole test set: on validation
   or ``--series N`` it is indicative only.

Run:  python examples/m4_hourly.py --data DIR [--series N] [--members K] [--max-epochs N]
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from _settings import PLOTS, arguments, fast, setup
from sklearn.pipeline import Pipeline, make_pipeline

from tsforecast import LSTMEnsembleRegressor, LSTMRegressor, make_supervised
from tsforecast.forecast import forecast_panel
from tsforecast.metrics import mean_absolute_scaled_error as mase
from tsforecast.metrics import symmetric_mean_absolute_percentage_error as smape
from tsforecast.model_selection import backtest_panel
from tsforecast.preprocessing import PanelWindowTransformer

HORIZON, SEASON = 48, 24
NAIVE2 = (18.383, 2.395)  # M4's published Naive2 sMAPE and MASE on this set, for OWA
# The recipe, chosen on the validation split (python -m benchmarks.m4_validation): the
# settings of benchmarks/m4_contender.py's RECIPE (tests/test_m4.py checks that they agree).
RECIPE = {
    "window": 168,
    "units": 64,
    "learning_rate": 1e-3,
    "batch_size": 256,
    "windows_per_epoch": 8192,
    "max_epochs": 10,
    "validation_fraction": 0.0,  # no early stopping: the epochs were chosen on validation
    "window_scaling": "robust",
    "seasonal_residual": True,
    "linear_skip": False,
    "loss": "mae",
    "members": 5,
}


def model(season: int = SEASON, random_state: int = 0, **overrides: object) -> Pipeline:
    """The recipe as one estimator (``overrides`` replace entries of :data:`RECIPE`)."""
    settings = {**RECIPE, **overrides}
    window, members = settings.pop("window"), settings.pop("members")
    network = LSTMRegressor(season=season, **settings)
    return make_pipeline(
        PanelWindowTransformer(group="id", window=window),
        LSTMEnsembleRegressor(network, n_members=members, random_state=random_state),
    )


def read_m4(folder: Path, n_series: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """M4's files (a row per series: its id, then its values) as long frames on each series'
    hour ``t``: training (id, y) on t = 0 .. n - 1, test (id, t, actual) on n .. n + 47."""
    frames = []
    for part in ("train", "test"):
        path = folder / f"Hourly-{part}.csv.gz"
        if not path.is_file():
            raise SystemExit(f"M4's hourly files are not in {folder}: {path.name} is missing.")
        wide = pd.read_csv(path, index_col=0).iloc[:n_series]
        long = wide.melt(var_name="t", value_name="y", ignore_index=False).dropna()
        long = long.loc[wide.index].rename_axis("id").reset_index()  # series by series
        long["t"] = long["t"].str[1:].astype(int) - 2  # V2 holds each series' first value
        frames.append(long)
    train, test = frames
    test["t"] += test["id"].map(train.groupby("id").size())  # the test continues the series
    return train.set_index("t"), test.rename(columns={"y": "actual"})


def report(title: str, table: pd.DataFrame, history: pd.DataFrame, name: str) -> None:
    """M4's sMAPE (percent), MASE and OWA of the forecasts and of seasonal naive."""
    past = {key: y.to_numpy() for key, y in history.groupby("id", sort=False)["y"]}
    table["naive"] = np.concatenate([np.resize(y[-SEASON:], HORIZON) for y in past.values()])
    print(f"\n{title}\n{'':<32}{'sMAPE':>8}{'MASE':>8}{'OWA':>8}")
    for label, column in (("seasonal naive", "naive"), (name, "forecast")):
        s, m = np.mean(
            [
                (
                    100 * smape(rows["actual"], rows[column]),
                    mase(rows["actual"], rows[column], y_train=past[key], seasonality=SEASON),
                )
                for key, rows in table.groupby("id", sort=False)
            ],
            axis=0,
        )
        owa = (s / NAIVE2[0] + m / NAIVE2[1]) / 2
        print(f"{label:<32}{s:>8.3f}{m:>8.3f}{owa:>8.3f}")


def plot(train: pd.DataFrame, table: pd.DataFrame, folder: Path, n: int = 3) -> None:
    """The last week and the 48 hours after it of the first ``n`` series."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot saved")
        return
    keys = table["id"].unique()[:n]
    fig, axes = plt.subplots(len(keys), 1, figsize=(9, 2.5 * len(keys)), squeeze=False)
    for ax, key in zip(axes[:, 0], keys, strict=True):
        week, future = train[train["id"] == key].iloc[-168:], table[table["id"] == key]
        ax.plot(week.index, week["y"], color="black", label="last week")
        ax.plot(future["t"], future["actual"], color="grey", label="actual")
        ax.plot(future["t"], future["forecast"], color="tab:orange", label="forecast")
        ax.set_title(key, loc="left")
    axes[0, 0].legend(loc="upper left", ncols=3)
    fig.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / "m4_hourly.png", dpi=100)
    print(f"plot saved to {folder / 'm4_hourly.png'}")


if __name__ == "__main__":
    setup()
    parser = arguments(__doc__, max_epochs=RECIPE["max_epochs"])
    parser.add_argument("--data", type=Path, required=True, help="folder of M4's Hourly files")
    parser.add_argument("--series", type=int, default=fast(None, 20), help="the first N only")
    parser.add_argument("--members", type=int, default=RECIPE["members"])
    parser.add_argument("--output-dir", type=Path, default=PLOTS, help="where the plot goes")
    args = parser.parse_args()
    recipe = {"members": args.members, "max_epochs": args.max_epochs}
    name = f"LSTM ensemble of {args.members}"
    train, test = read_m4(args.data, args.series)
    print(f"{train['id'].nunique()} series, {len(train):,} training values, horizon {HORIZON}")

    # 1. Validation: the last 48 training values of each series held out.
    start = time.perf_counter()
    held_out = backtest_panel(model(**recipe), train, "y", horizon=HORIZON, group="id")
    seconds, inner = time.perf_counter() - start, train.groupby("id").head(-HORIZON)
    report("validation (last 48 training values)", held_out, inner, f"{name} ({seconds:.0f} s)")

    # 2. Test, scored once: fit on every training value, the next 48 hours in one call.
    start = time.perf_counter()
    X, y = make_supervised(train, "y", group="id", horizon=range(1, HORIZON + 1))
    table = forecast_panel(model(**recipe).fit(X, y), train, group="id")  # id, step, t, forecast
    seconds, table = time.perf_counter() - start, table.merge(test, on=["id", "t"])
    report("test (M4's 48 hours)", table, train, f"{name} ({seconds:.0f} s)")
    print("\nM4's published OWA: seasonal naive 0.627, ES-RNN (the winner) 0.440.")
    plot(train, table, args.output_dir)
