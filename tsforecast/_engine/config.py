"""What a training run takes and gives back, in plain values: no Lightning here.

The estimators describe a fit with a :class:`TrainingConfig`, the training seam
(:mod:`tsforecast._engine.training`, the only module that imports Lightning) returns a
:class:`TrainingResult`, and code that wants to watch the epochs (Optuna pruning, a user's
logging) registers plain callables with :func:`epoch_hooks`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import torch
from torch import nn

from .._data.windows import Batches, Windows
from .._utils.sklearn_compat import HasMethods, Interval, StrOptions, validate_parameter_constraints

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

# Trainer options the engine honours, and what each does in a fit (README: "Trainer options").
TRAINER_OPTIONS: dict[str, str] = {
    "callbacks": "Lightning callbacks; their epoch hooks run, and their step hooks once per "
    "optimizer step",
    "logger": "a Lightning logger: train_loss and val_loss of every epoch",
    "enable_progress_bar": "Lightning's progress bar (verbose=1 also shows it)",
    "enable_model_summary": "Lightning's model summary at the start of fit",
    "default_root_dir": "where a logger or profiler writes",
    "deterministic": "deterministic algorithms (torch.use_deterministic_algorithms)",
    "benchmark": "cuDNN's autotuner",
    "detect_anomaly": "autograd's anomaly detection",
    "profiler": "a Lightning profiler",
    "log_every_n_steps": "logging interval of step-level metrics (the engine logs epochs)",
    "limit_train_batches": "optimizer steps per epoch (an int) or the fraction of them (a "
    "float): every epoch is cut alike, so each still counts as a whole epoch",
    "num_nodes": "machines of a multi-node run (with devices)",
    "strategy": "Lightning's distribution strategy (default ddp_spawn for several devices)",
}
# What each honoured Trainer option accepts, as Lightning's Trainer documents it: anything else
# is refused before training (and, for the portable ones, when a model file is loaded).
TRAINER_OPTION_CONSTRAINTS: dict[str, list[Any]] = {
    "logger": ["boolean", HasMethods(["log_metrics", "finalize"])],
    "enable_progress_bar": ["boolean"],
    "enable_model_summary": ["boolean"],
    "default_root_dir": [str, os.PathLike, None],
    "benchmark": ["boolean", None],
    "deterministic": ["boolean", StrOptions({"warn"}), None],
    "detect_anomaly": ["boolean"],
    "profiler": [
        StrOptions({"simple", "advanced", "pytorch"}),
        HasMethods(["start", "stop"]),
        None,
    ],
    "log_every_n_steps": [Interval(Integral, 0, None, closed="left"), None],
    "limit_train_batches": [
        Interval(Integral, 0, None, closed="left"),
        Interval(Real, 0, 1, closed="both"),
        None,
    ],
    "num_nodes": [Interval(Integral, 1, None, closed="left")],
    "strategy": [str],
}
# Trainer options that change only the arithmetic of training: they never write to disk, log,
# spawn processes or hold code, so a model file may carry them.
PORTABLE_TRAINER_OPTIONS = frozenset(
    {"benchmark", "deterministic", "detect_anomaly", "limit_train_batches", "log_every_n_steps"}
)
# Trainer options that change what a fit computes: part of a checkpoint's fingerprint.
COMPUTING_TRAINER_OPTIONS = ("limit_train_batches", "deterministic")
_CUT_EPOCHS = (
    "would end training inside an epoch that the fit records as whole (and may keep as its "
    "best): use max_epochs, windows_per_epoch or limit_train_batches"
)
_EVERY_EPOCH = (
    "the engine validates at the end of every epoch: early stopping and the weights kept "
    "need every epoch's validation loss of its final weights"
)
# Trainer options refused before training, and why.
REFUSED_TRAINER_OPTIONS: dict[str, str] = {
    "accumulate_grad_batches": "the engine steps the optimizer itself (manual optimization): "
    "use a larger batch_size",
    "gradient_clip_algorithm": "gradient_clip_val clips the gradient norm",
    "check_val_every_n_epoch": _EVERY_EPOCH,
    "val_check_interval": _EVERY_EPOCH,
    "limit_val_batches": _EVERY_EPOCH,
    "num_sanity_val_steps": _EVERY_EPOCH,
    "max_time": _CUT_EPOCHS,
    "max_steps": _CUT_EPOCHS,
    "min_steps": "early stopping decides when a fit ends: use patience=None to train max_epochs",
    "min_epochs": "early stopping decides when a fit ends: use patience=None to train max_epochs",
    "fast_dev_run": _CUT_EPOCHS,
    "overfit_batches": "the engine draws its own minibatches: use windows_per_epoch",
    "barebones": "the engine needs Lightning's epoch hooks and logging",
    "reload_dataloaders_every_n_epochs": "the engine draws each epoch's minibatches itself",
    "use_distributed_sampler": "the engine shares the samples between processes itself",
    "inference_mode": "the engine scores validation windows itself",
    "limit_test_batches": "a fit runs no test loop",
    "limit_predict_batches": "predict never goes through Lightning",
}


def check_trainer_options(trainer_kwargs: dict[str, Any]) -> None:
    """Refuse, before anything is trained, every Trainer option the engine does not honour."""
    own = sorted(set(trainer_kwargs) & set(OWN_TRAINER_OPTIONS))
    if own:
        raise ValueError(
            f"trainer_kwargs sets {own}, which the estimator's own parameters control: use "
            + ", ".join(f"{OWN_TRAINER_OPTIONS[key]}=" for key in own)
            + " instead."
        )
    for key in sorted(trainer_kwargs):
        if key in REFUSED_TRAINER_OPTIONS:
            raise ValueError(
                f"trainer_kwargs[{key!r}] is not supported: {REFUSED_TRAINER_OPTIONS[key]}."
            )
        if key not in TRAINER_OPTIONS:
            raise ValueError(
                f"trainer_kwargs[{key!r}] is not a Trainer option the estimators support; "
                f"they support {sorted(TRAINER_OPTIONS)}."
            )
    checked = {k: v for k, v in trainer_kwargs.items() if k in TRAINER_OPTION_CONSTRAINTS}
    # Raises InvalidParameterError (a ValueError) naming the option and what it accepts.
    validate_parameter_constraints(TRAINER_OPTION_CONSTRAINTS, checked, "trainer_kwargs")


# Trainer options that watch or cut one fit: a group would share them between its runs.
_PER_FIT_OPTIONS = ("callbacks", "logger")
# Precisions a group of runs trains in: 16-bit mixed precision's gradient scaler would skip
# every run's step when one run's gradients overflow.
_GROUP_PRECISIONS = ("32-true", "32", 32, "bf16-mixed")


def grouping_blocker(config: TrainingConfig) -> str | None:
    """Why runs with ``config`` cannot be trained as one group, or ``None`` if they can."""
    one_gpu = isinstance(config.devices, list) and len(config.devices) == 1  # devices=[i]
    if config.devices != 1 and not one_gpu:
        return f"devices={config.devices!r} (a group trains on one device)"
    if config.precision not in _GROUP_PRECISIONS:
        return f"precision={config.precision!r} (its gradient scaler steps a group as a whole)"
    watching = sorted(set(config.trainer_kwargs) & set(_PER_FIT_OPTIONS))
    if watching:
        return f"trainer_kwargs {watching} (they watch one fit: its metrics, its steps)"
    if isinstance(config.trainer_kwargs.get("limit_train_batches"), float):
        return (
            "a fractional limit_train_batches (a fraction of each fold's own steps, which a "
            "group's lockstep epoch cannot cut)"
        )
    return None


def may_use_gpu(config: TrainingConfig) -> bool:
    """Whether a fit with ``config`` may train on a GPU of this machine."""
    return config.accelerator != "cpu" and torch.cuda.is_available()


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


@dataclass
class Run:
    """One training run of a group: what :func:`train` trains and what it reads back.

    Attributes
    ----------
    network : nn.Module
        Maps a batch ``(B, T, F)`` to outputs ``(B, n_outputs)``; trained in place.
    loss : nn.Module
        Mean loss over a batch.
    data : TrainingData
        The windows, targets and the train/validation split.
    config : TrainingConfig
        The group's configuration (runs differ only in ``seed``).
    hooks : tuple of callable
        Called with each finished epoch's record; an exception ends the whole group.
    earlier : sequence of dict
        Records of the epochs trained before (``partial_fit``, warm start): this run's
        epochs are numbered after them. Single runs only.
    optimizer_state : dict or None
        State of the same optimizer to continue from. Single runs only.
    checkpoint : object or None
        Has ``load(network) -> dict | None`` and ``save(dict)``: the run resumes from what
        ``load`` returns and saves its whole state after every finished epoch. Single runs
        only.
    """

    network: nn.Module
    loss: nn.Module
    data: TrainingData
    config: TrainingConfig
    hooks: tuple[EpochHook, ...] = ()
    earlier: Sequence[EpochRecord] = ()
    optimizer_state: dict[str, Any] | None = None
    checkpoint: Any = None
