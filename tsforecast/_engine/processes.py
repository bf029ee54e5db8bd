"""Process plumbing around a Lightning fit, kept out of the training seam: quiet logging,
spawned workers, the ``__main__`` guard they need, and a determinism warning.

Lightning-free: it refers to Lightning's loggers by name and receives the trainer as a value.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from .config import TrainingConfig

LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric")
# Lightning 2.6 triggers this torch >= 2.10 deprecation on every fit; it concerns Lightning.
LIGHTNING_FUTURE_WARNING = {
    "message": r"`isinstance\(treespec, LeafSpec\)`",
    "category": FutureWarning,
}
# Lightning's PossibleUserWarning when ``accelerator="cpu"`` is given on a GPU machine: the
# estimator's default ("auto") takes the GPU, so the CPU was chosen on purpose.
LIGHTNING_GPU_UNUSED_WARNING = {"message": "GPU available but not used"}


def spans_several_devices(devices: int | list[int] | str) -> bool:
    if isinstance(devices, str):
        return (devices in ("auto", "-1") and torch.cuda.device_count() > 1) or (
            devices.isdigit() and int(devices) > 1
        )
    if isinstance(devices, list):
        return len(devices) > 1
    return devices > 1


def check_main_guard() -> None:
    """Spawned workers re-import the main script: without a ``__main__`` guard they would run
    the whole script again. Say so before spawning rather than after a worker dies."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path or not os.path.isfile(path) or getattr(main, "__spec__", None) is not None:
        return  # interactive session, notebook, or `python -m`: nothing is re-run
    with open(path, encoding="utf-8", errors="replace") as f:
        source = f.read()
    if not re.search(r"""^\s*if\s+__name__\s*==\s*["']__main__["']""", source, re.MULTILINE):
        raise RuntimeError(
            f"devices > 1 trains in spawned processes, which re-import {path!r}; that script "
            'has no `if __name__ == "__main__":` guard, so each worker would run it again. '
            "Put the code that fits the model under such a guard."
        )


@contextmanager
def quiet_lightning(verbose: int) -> Iterator[None]:
    """Silence Lightning's informational logging (device summaries, "`Trainer.fit` stopped")
    unless ``verbose``, the FutureWarning Lightning 2.6 triggers inside torch, and Lightning's
    "GPU available but not used" (the CPU was asked for by name)."""
    loggers = [logging.getLogger(name) for name in LIGHTNING_LOGGERS]
    levels = [logger.level for logger in loggers]
    if not verbose:
        for logger in loggers:
            logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", **LIGHTNING_FUTURE_WARNING)
            warnings.filterwarnings("ignore", **LIGHTNING_GPU_UNUSED_WARNING)
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextmanager
def spawned_workers(world_size: int) -> Iterator[None]:
    """Settings for a fit in spawned worker processes, restored afterwards.

    Tensors travel through named shared-memory files: torch's default (passing file
    descriptors) fails in some sandboxes with "unable to resize file". The rendezvous port
    Lightning leaves in the environment is removed, so the next distributed fit draws a fresh
    one instead of reusing a port the last process group may still hold.
    """
    if world_size == 1:
        yield
        return
    sharing = torch.multiprocessing.get_sharing_strategy()
    environment = {key: os.environ.get(key) for key in ("MASTER_ADDR", "MASTER_PORT")}
    torch.multiprocessing.set_sharing_strategy("file_system")
    try:
        yield
    finally:
        torch.multiprocessing.set_sharing_strategy(sharing)
        for key, value in environment.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def warn_if_nondeterministic(trainer: Any, network: nn.Module, config: TrainingConfig) -> None:
    """cuDNN's fused multi-layer LSTM applies dropout between layers non-deterministically,
    even in PyTorch's deterministic mode: say so when a user asks for determinism."""
    if not config.trainer_kwargs.get("deterministic"):
        return
    stacked_dropout = any(
        isinstance(m, nn.RNNBase) and m.num_layers > 1 and m.dropout > 0 for m in network.modules()
    )
    if trainer.strategy.root_device.type == "cuda" and stacked_dropout:
        warnings.warn(
            "deterministic=True was requested, but cuDNN's multi-layer LSTM with dropout "
            "between layers is not deterministic on a GPU: results may differ between runs. "
            "Use dropout=0, or units of different sizes per layer (separate LSTM calls).",
            UserWarning,
            stacklevel=2,
        )
