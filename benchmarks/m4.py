"""M4 benchmark: tsforecast against the published table and peers run on the same split.

``python -m benchmarks --only m4 --data DIR [--frequency Hourly]`` reads the competition's own
files ``DIR/<Frequency>-train.csv.gz`` and ``DIR/<Frequency>-test.csv.gz`` (one row per series:
its id, then its values; shorter series end in empty cells), and scores every contender
exactly as M4 does: sMAPE (percent) and MASE (in-sample seasonal-naive scale, ``m`` = the
frequency's season) averaged over the series, and OWA, the mean of both relative to M4's
Naive2 benchmark (a naive forecast of the series divided by its classical multiplicative
seasonal indices, where a 90% autocorrelation test finds seasonality).

Every contender chooses its settings on the last ``horizon`` training values of each series
(M4's usual validation; the peers' early stopping reads them) and is scored once on the test
values. Each contender runs in a process of its own (``python -m benchmarks.m4 --worker NAME``)
so that its time and peak memory are its own; the peers run in their own environment
(``make m4peers``: statsforecast and neuralforecast pin pandas < 3), found with
``--peers-python`` or at ``.venv-m4peers/bin/python``, and are reported as skipped where absent.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.metrics import (
    mean_absolute_scaled_error,
    symmetric_mean_absolute_percentage_error,
)

from .m4_contender import tsforecast_contender

# Horizon and season (M4's ``frequency``, which also scales MASE) of each M4 set.
FREQUENCIES = {
    "Hourly": (48, 24),
    "Daily": (14, 1),
    "Weekly": (13, 1),
    "Monthly": (18, 12),
    "Quarterly": (8, 4),
    "Yearly": (6, 1),
}

# M4's published results (`Evaluation and Ranks.xlsx`), sMAPE / MASE / OWA.
PUBLISHED = {
    "Hourly": {
        "best entry (Doornik et al.)": (8.913, 0.801, 0.410),
        "Smyl, ES-RNN (M4 winner)": (9.328, 0.893, 0.440),
        "Pawlikowski et al.": (9.611, 0.873, 0.444),
        "Montero-Manso et al. (FFORMA)": (11.506, 0.819, 0.484),
        "seasonal naive": (13.912, 1.193, 0.627),
        "M4 benchmark MLP": (13.842, 2.607, 0.921),
        "Naive2": (18.383, 2.395, 1.000),
        "M4 benchmark RNN": (14.698, 3.048, 1.036),
    },
}

PEERS_PYTHON = Path(__file__).resolve().parent.parent / ".venv-m4peers" / "bin" / "python"


# --- data -----------------------------------------------------------------------------------


def load_m4(data: str | os.PathLike, frequency: str = "Hourly") -> tuple[list, list, np.ndarray]:
    """Series ids, training series (1-D arrays of their own lengths) and test values.

    Parameters
    ----------
    data : path-like
        The folder with M4's ``<frequency>-train.csv.gz`` and ``<frequency>-test.csv.gz``
        (plain ``.csv`` files are read too).
    frequency : str, default="Hourly"
        One of :data:`FREQUENCIES`.

    Returns
    -------
    ids : list of str
    train : list of ndarray
        Each series' training values, oldest first.
    test : ndarray of shape (n_series, horizon)
    """
    if frequency not in FREQUENCIES:
        raise ValueError(f"frequency must be one of {sorted(FREQUENCIES)}; got {frequency!r}.")
    folder = Path(data)
    frames = []
    for part in ("train", "test"):
        candidates = [folder / f"{frequency}-{part}.csv{ext}" for ext in (".gz", "")]
        found = [path for path in candidates if path.is_file()]
        if not found:
            raise FileNotFoundError(
                f"M4's {frequency} {part} file is not in {folder} (looked for "
                f"{', '.join(path.name for path in candidates)}); pass --data with the folder "
                "of the competition's Dataset/ files."
            )
        frames.append(pd.read_csv(found[0], index_col=0))
    train_frame, test_frame = frames
    if not train_frame.index.equals(test_frame.index):
        raise ValueError("The train and test files do not list the same series in one order.")
    horizon = FREQUENCIES[frequency][0]
    test = test_frame.to_numpy(dtype=np.float64)
    if test.shape[1] != horizon or not np.isfinite(test).all():
        raise ValueError(f"The {frequency} test file must hold {horizon} values per series.")
    train = [row[~np.isnan(row)] for row in train_frame.to_numpy(dtype=np.float64)]
    return list(train_frame.index), train, test


def validation_split(train: list[np.ndarray], horizon: int) -> tuple[list[np.ndarray], np.ndarray]:
    """M4's usual validation: each series' last ``horizon`` training values held out."""
    if min(len(s) for s in train) <= horizon:
        raise ValueError(f"A series has {horizon} training values or fewer: none to fit on.")
    return [s[:-horizon] for s in train], np.stack([s[-horizon:] for s in train])


def _split(data: str, frequency: str, split: str) -> tuple[list, list[np.ndarray], np.ndarray]:
    """Ids, the series to fit on and the values to score: the test, or the validation."""
    ids, train, test = load_m4(data, frequency)
    if split == "validation":
        train, test = validation_split(train, FREQUENCIES[frequency][0])
    return ids, train, test


def long_frame(ids: list, train: list[np.ndarray]) -> pd.DataFrame:
    """The panel in long format: columns ``id`` and ``y``, each series on the index
    ``-n .. -1`` (steps before its forecast origin; M4 gives no timestamps)."""
    return pd.DataFrame(
        {
            "id": np.repeat(np.asarray(ids, dtype=object), [len(s) for s in train]),
            "y": np.concatenate(train),
        },
        index=pd.Index(np.concatenate([np.arange(-len(s), 0) for s in train]), name="t"),
    )


# --- M4's measures and benchmarks -----------------------------------------------------------


def _acf(series: np.ndarray, lag: int) -> float:
    centered = series - series.mean()
    return float(centered[lag:] @ centered[:-lag] / (centered @ centered))


def seasonality_test(series: np.ndarray, season: int) -> bool:
    """M4's test: is the autocorrelation at lag ``season`` significant at 90%?

    As the competition's R code (``SeasonalityTest``): the limit is
    ``1.645 sqrt((1 + 2 sum_{k<season} acf_k^2) / n)``; series shorter than three seasons
    are not seasonal.
    """
    if season <= 1 or len(series) < 3 * season:
        return False
    acf = np.array([_acf(series, k) for k in range(1, season + 1)])
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / len(series))
    return bool(abs(acf[-1]) > limit)


def seasonal_indices(series: np.ndarray, season: int) -> np.ndarray:
    """Classical multiplicative decomposition's seasonal figure, as R's ``decompose``.

    Returns ``season`` indices averaging 1; index ``i`` belongs to the positions ``t`` with
    ``t % season == i`` (counted from the series' first value).
    """
    if season % 2 == 0:
        weights = np.r_[0.5, np.ones(season - 1), 0.5] / season
    else:
        weights = np.ones(season) / season
    half = len(weights) // 2
    trend = np.full(len(series), np.nan)
    trend[half : len(series) - half] = np.convolve(series, weights, mode="valid")
    ratio = series / trend
    padded = np.r_[ratio, np.full(-len(ratio) % season, np.nan)].reshape(-1, season)
    figure = np.nanmean(padded, axis=0)
    return figure / figure.mean()


def naive2(series: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """M4's Naive2: the last deseasonalised value, reseasonalised (seasonal series only)."""
    if not seasonality_test(series, season):
        return np.full(horizon, series[-1])
    figure = seasonal_indices(series, season)
    n = len(series)
    last = series[-1] / figure[(n - 1) % season]
    return last * figure[np.arange(n, n + horizon) % season]


def seasonal_naive(series: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The value one season before each step (the last season repeated)."""
    last = series[-season:]
    return np.resize(last, horizon)


def m4_scores(
    forecasts: np.ndarray, train: list[np.ndarray], test: np.ndarray, season: int
) -> dict[str, float]:
    """sMAPE (percent) and MASE averaged over the series, as M4 computes them."""
    smape = [
        symmetric_mean_absolute_percentage_error(y, f) for y, f in zip(test, forecasts, strict=True)
    ]
    mase = [
        mean_absolute_scaled_error(y, f, y_train=x, seasonality=season)
        for y, f, x in zip(test, forecasts, train, strict=True)
    ]
    return {"smape": 100 * float(np.mean(smape)), "mase": float(np.mean(mase))}


def owa(scores: dict[str, float], naive2_scores: dict[str, float]) -> float:
    """M4's overall weighted average: the mean of sMAPE and MASE relative to Naive2."""
    return 0.5 * (scores["smape"] / naive2_scores["smape"] + scores["mase"] / naive2_scores["mase"])


# --- contenders -----------------------------------------------------------------------------


def _statistical(kind: str) -> Callable[[list[np.ndarray], int, int], np.ndarray]:
    def forecast(train: list[np.ndarray], horizon: int, season: int) -> np.ndarray:
        rule = {"Naive2": naive2, "seasonal naive": seasonal_naive}[kind]
        return np.stack([rule(series, horizon, season) for series in train])

    return forecast


# name -> (environment, function); "peers" run in the peers' environment (benchmarks.m4_peers).
CONTENDERS: dict[str, tuple[str, str]] = {
    "Naive2": ("tsforecast", "naive2"),
    "seasonal naive": ("tsforecast", "seasonal_naive"),
    "statsforecast MSTL": ("peers", "mstl"),
    "statsforecast AutoETS": ("peers", "autoets"),
    "neuralforecast LSTM": ("peers", "nf_lstm"),
    "neuralforecast NHITS": ("peers", "nf_nhits"),
    "tsforecast LSTM (global)": ("tsforecast", "tsforecast"),
    "statsforecast AutoARIMA": ("peers", "autoarima"),
}
DEFAULT_CONTENDERS = [name for name in CONTENDERS if name != "statsforecast AutoARIMA"]


def _function(key: str) -> Callable[..., np.ndarray]:
    if key in ("naive2", "seasonal_naive"):
        return _statistical({"naive2": "Naive2", "seasonal_naive": "seasonal naive"}[key])
    if key == "tsforecast":
        return tsforecast_contender
    from . import m4_peers

    return getattr(m4_peers, key)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _worker(args: argparse.Namespace) -> None:
    """Run one contender and write its forecasts, time and memory to ``args.out``."""
    import torch

    torch.set_num_threads(args.threads)
    _, train, _ = _split(args.data, args.frequency, args.split)
    horizon, season = FREQUENCIES[args.frequency]
    function = _function(CONTENDERS[args.worker][1])
    before = _rss_mb()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    forecasts = np.asarray(function(train, horizon, season), dtype=np.float64)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    peak = usage.ru_maxrss / 1024
    if forecasts.shape != (len(train), horizon) or not np.isfinite(forecasts).all():
        raise RuntimeError(f"{args.worker} returned forecasts of shape {forecasts.shape}.")
    np.save(args.out, forecasts)
    Path(args.out).with_suffix(".json").write_text(
        json.dumps(
            {"seconds": seconds, "cpu_seconds": cpu, "rss_before_mb": before, "peak_rss_mb": peak}
        )
    )


def _run_contender(
    name: str, data: str, frequency: str, split: str, python: str, threads: int, timeout: float
) -> tuple[np.ndarray, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "forecasts.npy"
        command = [python, "-m", "benchmarks.m4", "--worker", name, "--data", data]
        command += ["--frequency", frequency, "--split", split, "--out", str(out)]
        command += ["--threads", str(threads)]
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        root = Path(__file__).resolve().parent.parent
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        completed = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout
        )
        if completed.returncode != 0:
            raise RuntimeError(completed.stderr.strip().splitlines()[-1:] or ["failed"])
        return np.load(out), json.loads(out.with_suffix(".json").read_text())


def _versions(python: Path) -> dict[str, str]:
    """Versions of the peers' libraries in their environment."""
    script = (
        "import json; from importlib import metadata; print(json.dumps({n: metadata.version(n) "
        "for n in ('statsforecast', 'neuralforecast', 'pandas', 'torch', 'lightning')}))"
    )
    completed = subprocess.run([str(python), "-c", script], capture_output=True, text=True)
    return json.loads(completed.stdout) if completed.returncode == 0 else {}


def run(
    data: str,
    frequency: str = "Hourly",
    split: str = "test",
    contenders: list[str] | None = None,
    peers_python: str | None = None,
    threads: int = 2,
    timeout: float = 3600,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Score every contender on the test values (``split="test"``, once per finished
    recipe) or on the last ``horizon`` training values (``"validation"``, to choose settings);
    the result the suite writes as JSON.

    ``on_result`` receives the result so far after each contender (a long run keeps what it
    measured when stopped).
    """
    ids, train, test = _split(data, frequency, split)
    horizon, season = FREQUENCIES[frequency]
    panel_mb = long_frame(ids, train).memory_usage(deep=True).sum() / 2**20
    peers = Path(peers_python) if peers_python else PEERS_PYTHON
    baseline = m4_scores(_statistical("Naive2")(train, horizon, season), train, test, season)
    results: dict[str, Any] = {}
    result = {
        "peers_versions": _versions(peers) if peers.is_file() else None,
        "frequency": frequency,
        "split": split,
        "horizon": horizon,
        "season": season,
        "n_series": len(train),
        "panel_frame_mb": panel_mb,
        "threads": threads,
        "published": {
            k: dict(zip(("smape", "mase", "owa"), v, strict=True))
            for k, v in PUBLISHED.get(frequency, {}).items()
        },
        "contenders": results,
    }
    for name in contenders or DEFAULT_CONTENDERS:
        environment = CONTENDERS[name][0]
        python = sys.executable if environment == "tsforecast" else str(peers)
        if environment == "peers" and not peers.is_file():
            results[name] = {"skipped": f"no peers environment at {peers} (make m4peers)"}
            print(f"[m4] {name}: skipped ({results[name]['skipped']})", flush=True)
            continue
        try:
            forecasts, cost = _run_contender(name, data, frequency, split, python, threads, timeout)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            results[name] = {"skipped": f"failed: {exc}"}
            print(f"[m4] {name}: {results[name]['skipped']}", flush=True)
            continue
        scores = m4_scores(forecasts, train, test, season)
        results[name] = {**scores, "owa": owa(scores, baseline), **cost}
        print(
            f"[m4] {name}: sMAPE {scores['smape']:.3f} MASE {scores['mase']:.3f} "
            f"OWA {results[name]['owa']:.3f} ({cost['seconds']:.0f} s, "
            f"peak {cost['peak_rss_mb']:.0f} MB)",
            flush=True,
        )
        if on_result is not None:
            on_result(result)
    return result


def table(result: dict[str, Any]) -> str:
    """Markdown: the published rows, then the contenders of this run."""
    lines = [
        f"M4 {result['frequency']}, {result['split']} ({result['n_series']} series, horizon "
        f"{result['horizon']}, season {result['season']}; {result['threads']} threads; the "
        "published rows are on the test)",
        "",
        "| method | sMAPE | MASE | OWA | fit + forecast (s) | CPU (s) | peak memory (MB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in result["published"].items():
        lines.append(
            f"| {name} (published) | {row['smape']:.3f} | {row['mase']:.3f} | "
            f"{row['owa']:.3f} | | | |"
        )
    for name, row in result["contenders"].items():
        if "skipped" in row:
            lines.append(f"| {name} | skipped: {row['skipped']} | | | | | |")
            continue
        lines.append(
            f"| {name} | {row['smape']:.3f} | {row['mase']:.3f} | {row['owa']:.3f} | "
            f"{row['seconds']:.0f} | {row['cpu_seconds']:.0f} | {row['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="One M4 contender (used by run()).")
    parser.add_argument("--worker", choices=sorted(CONTENDERS), required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--frequency", default="Hourly", choices=sorted(FREQUENCIES))
    parser.add_argument("--split", default="test", choices=["test", "validation"])
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=2)
    _worker(parser.parse_args())


if __name__ == "__main__":
    main()
