"""What a training run takes and gives back, in plain values: no Lightning here.

The estimators describe a fit with a :class:`TrainingConfig`, the training seam
(:mod:`tsforecast._engine.training`, the only module that imports Lightning) returns a
:class:`TrainingResult`, and code that wants to watch the epochs (Optuna pruning, a user's
logging) registers plain callables with :func:`epoch_hooks`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import torch

from .._data.windows import Batches, Windows

TRAIN_LOSS = "train_loss"
VAL_LOSS = "val_loss"
# In what epoch hooks see, with validation: the validation loss of the weights the fit keeps
# if it stops now (the best so far; the start counts with keep_start).
KEPT_LOSS = "kept_loss"

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
    "sgd": torch.optim.SGD,
}
# Precisions in which the float32 windows reach the network as it expects them. Lightning's
# "64-true", "16-true" and "bf16-true" convert the network's weights but not our batches.
PRECISIONS = ("32-true", "32", "16-mixed", "bf16-mixed")
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")

# Trainer options that the estimator's own parameters set: passing them in trainer_kwargs
# would bypass the parameters' validation and the epoch count of a resumed fit.
OWN_TRAINER_OPTIONS = {
    "accelerator": "accelerator",
    "devices": "devices",
    "precision": "precision",
    "max_epochs": "max_epochs",
    "gradient_clip_val": "gradient_clip_val",
    "enable_checkpointing": "checkpoint_path",
}

# Minibatches per Lightning batch: amortises Lightning's fixed cost per batch (hooks, progress
# tracking) over several optimizer steps. See benchmarks/ for the measured overhead.
CHUNK_SIZE = 16

EpochRecord = dict[str, float]
EpochHook = Callable[[EpochRecord], None]

_HOOKS: ContextVar[tuple[EpochHook, ...]] = ContextVar("tsforecast_epoch_hooks", default=())


@contextmanager
def epoch_hooks(*hooks: EpochHook) -> Iterator[None]:
    """Call each of ``hooks`` with the record of every epoch that fits inside the block finish.

    A record is ``{"epoch": int, "train_loss": float}`` plus ``"val_loss"`` when the fit holds
    out validation samples; epochs are numbered from the estimator's first epoch. A hook that
    raises ends the fit, which then leaves the estimator as it was (Optuna's ``TrialPruned``
    works this way). The hooks are context-local: a fit in another thread does not see them.
    """
    token = _HOOKS.set(_HOOKS.get() + hooks)
    try:
        yield
    finally:
        _HOOKS.reset(token)


def active_epoch_hooks() -> tuple[EpochHook, ...]:
    """The hooks registered by the enclosing :func:`epoch_hooks` blocks."""
    return _HOOKS.get()


@dataclass(frozen=True)
class TrainingConfig:
    """The hyperparameters of one training run."""

    optimizer: str
    learning_rate: float
    optimizer_kwargs: dict[str, Any]
    batch_size: int
    windows_per_epoch: int | None
    epochs: int
    patience: int | None
    gradient_clip_val: float | None
    accelerator: str
    devices: int | list[int] | str
    precision: str | int
    trainer_kwargs: dict[str, Any]
    verbose: int
    seed: int
    # The starting network competes with the trained epochs for the best validation loss
    # (a linear skip's ridge start: training never returns a model worse on validation).
    keep_start: bool = False


@dataclass(frozen=True)
class TrainingResult:
    """What a training run gives back: plain values on the CPU.

    Attributes
    ----------
    history : list of dict
        One record per whole epoch of this run (a partial epoch cut by Ctrl+C is not kept).
    state, optimizer_state : dict
        The network and optimizer state to keep: the best epoch's when the run validated or
        diverged, else the last whole epoch's.
    best_epoch : int or None
        Epoch of ``state`` when it is the best one (``None`` if no epoch finished).
    best_loss : float
        The monitored loss of ``best_epoch`` (validation loss, else training loss).
    diverged_at : int or None
        The epoch whose loss became non-finite or exploded.
    interrupted : bool
        Whether Ctrl+C stopped the run.
    """

    history: list[EpochRecord]
    state: dict[str, torch.Tensor] | None
    optimizer_state: dict[str, Any] | None
    best_epoch: int | None
    best_loss: float
    diverged_at: int | None
    interrupted: bool


@dataclass(frozen=True)
class TrainingData:
    """All windows and targets of a fit, and which samples train and which validate."""

    windows: Windows
    targets: torch.Tensor
    train_index: torch.Tensor
    val_index: torch.Tensor

    @property
    def validated(self) -> bool:
        return len(self.val_index) > 0

    def to(self, device: torch.device) -> TrainingData:
        """The same data on ``device`` (itself when already there)."""
        return TrainingData(
            self.windows.to(device),
            self.targets.to(device),
            self.train_index.to(device),
            self.val_index.to(device),
        )

    def batches(
        self, config: TrainingConfig, generator: torch.Generator, chunk_size: int
    ) -> tuple[Batches, Batches | None]:
        """The shuffled training minibatches and, when validated, the validation ones."""
        windows, targets = self.windows, self.targets
        if len(self.train_index) == len(windows):  # no validation split: no index copies
            train_windows, train_targets = windows, targets
        else:
            train_windows = windows.subset(self.train_index)
            train_targets = targets[self.train_index]
        train = Batches(
            train_windows,
            train_targets,
            config.batch_size,
            generator,
            chunk_size,
            per_epoch=config.windows_per_epoch,
        )
        if not self.validated:
            return train, None
        validation = Batches(
            windows.subset(self.val_index),
            targets[self.val_index],
            config.batch_size,
            None,
            chunk_size,
        )
        return train, validation
