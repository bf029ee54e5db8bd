"""Fit time of each recurrent cell (``cell=``), as a ratio to ``nn.LSTM``.

Same data, network size and epochs for every cell; only the recurrence differs. The peephole
cell is TorchScript (one ``addmm`` and a few element-wise kernels per step); ``lstm`` and
``gru`` are PyTorch's fused implementations (cuDNN on a GPU). "peephole, eager loop" runs
the same recurrence as plain Python, to show what scripting buys.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import torch

from tsforecast import LSTMRegressor
from tsforecast._nn import peephole as _peephole

from ._harness import interleaved, summarize
from ._workloads import sp500_windows

WINDOW, UNITS, LAYERS, BATCH, EPOCHS = 30, 32, 2, 64, 3
EAGER = "peephole, eager loop"
CELLS = ("lstm", "gru", "peephole", EAGER)


@contextmanager
def _eager_peephole() -> Iterator[None]:
    scripted = _peephole._scripted_recurrence
    _peephole._scripted_recurrence = _peephole._recurrence
    try:
        yield
    finally:
        _peephole._scripted_recurrence = scripted


def _fit(X, y, cell: str, accelerator: str) -> None:
    with _eager_peephole() if cell == EAGER else nullcontext():
        _fit_cell(X, y, "peephole" if cell == EAGER else cell, accelerator)


def _fit_cell(X, y, cell: str, accelerator: str) -> None:
    LSTMRegressor(
        cell=cell,
        units=UNITS,
        num_layers=LAYERS,
        batch_size=BATCH,
        max_epochs=EPOCHS,
        validation_fraction=0.0,
        accelerator=accelerator,
        random_state=0,
    ).fit(X, y)
    if accelerator == "cuda":
        torch.cuda.synchronize()


def setup(n_windows: int) -> str:
    return (
        f"S&P 500 returns, {n_windows} windows of {WINDOW}, {LAYERS} x {UNITS} units, "
        f"batch {BATCH}, {EPOCHS} epoch(s) per fit"
    )


def time_cells(rounds: int, accelerator: str) -> dict:
    """Each cell's fit time on ``accelerator``, as a ratio to ``lstm``."""
    X, y = sp500_windows(WINDOW)
    times = interleaved(
        {cell: lambda c=cell: _fit(X, y, c, accelerator) for cell in CELLS}, rounds=rounds
    )
    return summarize(times, "lstm")


def run(rounds: int) -> dict:
    """On the CPU; the GPU suite (``gpu.py``) times the cells on CUDA."""
    return {"setup": setup(len(sp500_windows(WINDOW)[0])), "cpu": time_cells(rounds, "cpu")}
