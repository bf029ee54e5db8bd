"""Interleaved timing, environment capture and result files shared by the benchmarks."""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch

RESULTS_DIR = Path(__file__).parent / "results"
THREADS = 2


def environment() -> dict[str, Any]:
    """Library versions and machine facts recorded next to every result: the date, the commit
    of the checkout (``+`` when it has uncommitted changes) and the load average of the last
    minute (timings on a shared machine depend on it)."""
    versions = {}
    for name in ("tsforecast", "torch", "lightning", "scikit-learn", "numpy", "skorch", "darts"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "commit": _commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average": round(os.getloadavg()[0], 2),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "versions": versions,
    }


def _commit() -> str | None:
    """The checkout's commit, ``None`` outside a git checkout."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
        )
    except OSError:
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+" if dirty.stdout.strip() else "")


def interleaved(
    contenders: dict[str, Callable[[], Any]], rounds: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Time each contender ``rounds`` times in turn (A, B, A, B, ...): seconds per call.

    Interleaving spreads the machine's slow phases over all contenders alike.
    """
    for _ in range(warmup):
        for run in contenders.values():
            run()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def summarize(times: dict[str, list[float]], reference: str) -> dict[str, dict[str, float]]:
    """Median, spread and median ratio to ``reference`` of each contender."""
    base = statistics.median(times[reference])
    return {
        name: {
            "median_s": statistics.median(values),
            "min_s": min(values),
            "max_s": max(values),
            "rounds": len(values),
            "ratio": statistics.median(values) / base,
        }
        for name, values in times.items()
    }


def write(name: str, payload: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps({"environment": environment(), **payload}, indent=2) + "\n")
    return path


def seeded_rng(seed: int = 0) -> np.random.Generator:
    torch.manual_seed(seed)
    return np.random.default_rng(seed)
