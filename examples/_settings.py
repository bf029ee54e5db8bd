"""What every example shares: one torch thread, seeds, the docs build's short training, results.

- ``setup()`` pins one torch thread and the seeds: the small networks of the examples gain
  little from more threads, on a shared machine more threads than free cores slow them down
  several-fold, and a fixed thread count keeps the figures reproducible.
- ``TSFORECAST_DOCS_FAST=1`` (set by ``make docs``) is the one switch for the documentation
  build: ``epochs(n)`` gives at most ``FAST_EPOCHS`` epochs, ``fast(full, short)`` picks the
  short value, so that the gallery builds in minutes on two cores. The printed figures of such
  a run are not the documented ones; the docs' tables come from the full runs saved by
  ``--save-results``.
- ``PLOTS``: where the examples write their pictures by default, the current folder; in the
  docs build a temporary one (sphinx-gallery shows the figures on the page, and nothing is
  written into the source tree).
- ``save(name, figures)``: ``benchmarks/results/example_<name>.json``, with the machine,
  library versions, threads and date (the benchmarks' own result writer).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

THREADS = 1
SEED = 0
FAST = os.environ.get("TSFORECAST_DOCS_FAST", "") == "1"
FAST_EPOCHS = 2
ROOT = Path(__file__).resolve().parent.parent
PLOTS = Path(tempfile.gettempdir()) if FAST else Path(".")

T = TypeVar("T")
_START = time.perf_counter()


def setup() -> None:
    """One torch thread and seeded generators; print what the run is (docs build or full)."""
    torch.set_num_threads(THREADS)
    torch.manual_seed(SEED)
    np.random.seed(SEED)  # noqa: NPY002 - seeds any legacy-API caller (e.g. a library)
    mode = (
        f"TSFORECAST_DOCS_FAST=1: training shortened (at most {FAST_EPOCHS} epochs) for the "
        "docs build; the documented figures come from the full run"
        if FAST
        else "full run"
    )
    print(f"[torch threads: {THREADS}; {mode}]")


def fast(full: T, short: T) -> T:
    """``short`` in the docs build (``TSFORECAST_DOCS_FAST=1``), ``full`` otherwise."""
    return short if FAST else full


def epochs(full: int) -> int:
    """The example's number of epochs, at most ``FAST_EPOCHS`` in the docs build."""
    return min(full, FAST_EPOCHS) if FAST else full


def arguments(doc: str, max_epochs: int, *, saves: bool = False) -> argparse.ArgumentParser:
    """A parser with ``--max-epochs`` (docs build: shortened) and, if ``saves``,
    ``--save-results``."""
    # sphinx-gallery runs an example with an empty __doc__.
    title = next((line for line in (doc or "").splitlines() if line.strip()), None)
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--max-epochs", type=int, default=epochs(max_epochs))
    if saves:
        parser.add_argument(
            "--save-results",
            action="store_true",
            help="write benchmarks/results/example_<name>.json (the figures the docs quote)",
        )
    return parser


def save(name: str, figures: dict[str, Any]) -> Path:
    """Write ``figures`` with the environment and the command to the benchmark results."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from benchmarks._harness import write

    command = " ".join(["python", *[str(arg) for arg in sys.argv]])
    payload = {
        "suite": f"example_{name}",
        "quick": FAST,
        "command": command,
        "seconds": time.perf_counter() - _START,
        "results": figures,
    }
    path = write(f"example_{name}", payload)
    print(f"figures saved to {path.relative_to(ROOT)}")
    return path
