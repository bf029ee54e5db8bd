"""The one seam to PyTorch Lightning: train a network on in-memory windows, return plain values.

No other module of the package imports Lightning, and the estimators import this one only when
they train, so ``import tsforecast`` and a predict-only process never load it.

:func:`train` takes a network, a loss, the data, a :class:`~tsforecast._config.TrainingConfig`
and per-epoch hooks, and returns a :class:`~tsforecast._config.TrainingResult`. Inside, each
Lightning batch is a chunk of up to :data:`_CHUNK_SIZE` minibatches stepped with manual
optimization, so Lightning's fixed cost per batch is paid once per chunk; when nothing watches
the per-step hooks the step calls ``backward`` and the optimizer directly. Everything that
happens at the end of an epoch (the record, the best weights, divergence, early stopping, the
hooks, the checkpoint) is plain code in :class:`_Progress`, run from the LightningModule's
own ``on_train_epoch_end``: no callback ordering to rely on.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.plugins.precision import MixedPrecision, Precision
from lightning.pytorch.utilities.exceptions import SIGTERMException
from torch import nn

from ._config import (
    OPTIMIZERS,
    TRAIN_LOSS,
    VAL_LOSS,
    EpochHook,
    EpochRecord,
    TrainingConfig,
    TrainingResult,
)
from ._data import Batches, Chunk, Windows
from ._interrupt import GracefulInterrupt

# Minibatches per Lightning batch: amortises Lightning's fixed cost per batch (hooks, progress
# tracking) over several optimizer steps. See benchmarks/ for the measured overhead.
_CHUNK_SIZE = 16
# A loss this many times the best so far (and above 1: targets are standardized) has exploded.
_EXPLOSION_RATIO = 1e4
# The exit status of a process ended by SIGTERM (128 + 15), as a shell reports it.
SIGTERM_EXIT_STATUS = 143

_LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric")
# Lightning 2.6 triggers this torch >= 2.10 deprecation on every fit; it concerns Lightning.
_LIGHTNING_FUTURE_WARNING = {
    "message": r"`isinstance\(treespec, LeafSpec\)`",
    "category": FutureWarning,
}
# Trainer options that watch nothing per optimizer step (unlike loggers or max_steps).
_STEP_NEUTRAL_OPTIONS = {"callbacks", "default_root_dir", "enable_model_summary"}
_STEP_HOOKS = (
    "on_train_batch_start",
    "on_train_batch_end",
    "on_before_backward",
    "on_after_backward",
    "on_before_optimizer_step",
    "on_before_zero_grad",
)


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


def train(
    network: nn.Module,
    loss: nn.Module,
    data: TrainingData,
    config: TrainingConfig,
    *,
    first_epoch: int = 0,
    optimizer_state: dict[str, Any] | None = None,
    hooks: Sequence[EpochHook] = (),
    checkpoint: Any = None,
) -> TrainingResult:
    """Train ``network`` in place for up to ``config.epochs`` epochs.

    Parameters
    ----------
    network : nn.Module
        Maps a batch ``(B, T, F)`` to outputs ``(B, n_outputs)``.
    loss : nn.Module
        Mean loss over a batch.
    data : TrainingData
        The windows, targets and the train/validation split.
    config : TrainingConfig
        Optimizer, batch size, epochs, Lightning settings, seed.
    first_epoch : int, default=0
        Number of the first epoch (epochs trained before, by ``partial_fit``/warm start).
    optimizer_state : dict, default=None
        State of the same optimizer to continue from.
    hooks : sequence of callable, default=()
        Called with each finished epoch's record; an exception ends training.
    checkpoint : object, default=None
        Has ``load(network) -> dict | None`` and ``save(dict)``: the run resumes from what
        ``load`` returns and saves its whole state after every finished epoch.

    Returns
    -------
    TrainingResult
        The records, and the network/optimizer state to keep.

    Raises
    ------
    SystemExit
        With status 143 when the process receives SIGTERM: the run is abandoned.
    """
    generator = torch.Generator().manual_seed(config.seed)
    progress = _Progress(first_epoch, config.patience, data.validated, tuple(hooks), checkpoint)
    resumed = checkpoint.load(network) if checkpoint is not None else None
    if resumed is not None:
        network.load_state_dict(resumed["network"])
        optimizer_state = resumed["optimizer"]
        progress.restore(resumed["progress"])
        torch.set_rng_state(resumed["torch_rng"])
        generator.set_state(resumed["shuffle_rng"])
    epochs = 0 if progress.stopped else config.epochs - len(progress.history)
    with _quiet_lightning(config.verbose), GracefulInterrupt() as interrupt:
        if epochs > 0:
            _run_trainer(
                network, loss, data, config, epochs, optimizer_state, progress, interrupt, generator
            )
    return progress.result(interrupted=interrupt.requested)


def _run_trainer(
    network: nn.Module,
    loss: nn.Module,
    data: TrainingData,
    config: TrainingConfig,
    epochs: int,
    optimizer_state: dict[str, Any] | None,
    progress: _Progress,
    interrupt: GracefulInterrupt,
    generator: torch.Generator,
) -> None:
    trainer = _make_trainer(config, epochs)
    observed = _observes_steps(config)
    windows, targets = data.windows, data.targets
    train_index, val_index = data.train_index, data.val_index
    if trainer.num_devices == 1:
        # Keep all data on the training device: batches are then gathered there.
        device = trainer.strategy.root_device
        windows, targets = windows.to(device), targets.to(device)
        train_index, val_index = train_index.to(device), val_index.to(device)
    # One optimizer step per Lightning batch when something counts or watches the steps
    # (progress bar, logger, batch callbacks) and in distributed training, which
    # synchronises gradients once per Lightning batch.
    chunk_size = 1 if observed or trainer.world_size > 1 else _CHUNK_SIZE
    if len(train_index) == len(windows):  # no validation split: no index copies
        train_windows, train_targets = windows, targets
    else:
        train_windows, train_targets = windows.subset(train_index), targets[train_index]
    batches = Batches(train_windows, train_targets, config.batch_size, generator, chunk_size)
    val_batches = None
    if data.validated:
        val_batches = Batches(
            windows.subset(val_index), targets[val_index], config.batch_size, None, chunk_size
        )
    _warn_if_nondeterministic(trainer, network, config)
    plugin = trainer.precision_plugin
    direct = (
        not observed
        and trainer.world_size == 1
        and type(plugin) in (Precision, MixedPrecision)
        and getattr(plugin, "scaler", None) is None
    )
    module_class = _ValidatedModule if data.validated else _SequenceModule
    module = module_class(
        network,
        loss,
        config,
        optimizer_state,
        direct_steps=direct,
        progress=progress,
        interrupt=interrupt,
        batches=batches,
    )
    network.train()
    try:
        with _spawned_workers(trainer.world_size):
            trainer.fit(module, train_dataloaders=batches, val_dataloaders=val_batches)
    except SIGTERMException as exc:  # a SystemExit without a code: the shell would see 0
        raise SystemExit(SIGTERM_EXIT_STATUS) from exc


def _make_trainer(config: TrainingConfig, epochs: int) -> pl.Trainer:
    user = dict(config.trainer_kwargs)
    callbacks = user.pop("callbacks", None) or []
    if not isinstance(callbacks, list | tuple) or not all(
        isinstance(c, pl.Callback) for c in callbacks
    ):
        raise TypeError(
            "trainer_kwargs['callbacks'] must be a list of lightning.pytorch.Callback "
            f"instances; got {callbacks!r}."
        )
    options: dict[str, Any] = {
        "accelerator": config.accelerator,
        "devices": config.devices,
        "precision": config.precision,
        "max_epochs": epochs,
        # Quiet and diskless unless asked otherwise: users fit hundreds of models in a search.
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": bool(config.verbose),
        "enable_model_summary": bool(config.verbose),
        "num_sanity_val_steps": 0,
        # Only epoch means are logged: nothing to wait 50 steps for.
        "log_every_n_steps": 1,
        # The user's callbacks and logger are used as given (not copied), so that they can
        # report back and their handles point at what they logged.
        "callbacks": list(callbacks),
    }
    if _spans_several_devices(config.devices):
        _check_main_guard()
        # Spawned processes work from inside fit (also in notebooks), unlike Lightning's
        # default of re-running the calling script.
        options["strategy"] = "ddp_spawn"
    options.update(user)
    return pl.Trainer(**options)


def _observes_steps(config: TrainingConfig) -> bool:
    """Whether anything counts or watches single optimizer steps."""
    user = config.trainer_kwargs
    if config.verbose or user.get("enable_progress_bar") or user.get("logger"):
        return True
    if not set(user) <= _STEP_NEUTRAL_OPTIONS | {"enable_progress_bar", "logger"}:
        return True
    return any(
        getattr(type(callback), hook) is not getattr(pl.Callback, hook)
        for callback in user.get("callbacks") or []
        for hook in _STEP_HOOKS
    )


def _spans_several_devices(devices: int | list[int] | str) -> bool:
    if isinstance(devices, str):
        return (devices in ("auto", "-1") and torch.cuda.device_count() > 1) or (
            devices.isdigit() and int(devices) > 1
        )
    if isinstance(devices, list):
        return len(devices) > 1
    return devices > 1 or (devices == -1 and torch.cuda.device_count() > 1)


def _check_main_guard() -> None:
    """Spawned workers re-import the main script: without a ``__main__`` guard they would run
    the whole script again. Say so before spawning rather than after a worker dies."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path or not os.path.isfile(path) or getattr(main, "__spec__", None) is not None:
        return  # interactive session, notebook, or `python -m`: nothing is re-run
    with open(path, encoding="utf-8", errors="replace") as f:
        source = f.read()
    if "__main__" not in source:
        raise RuntimeError(
            f"devices > 1 trains in spawned processes, which re-import {path!r}; that script "
            'has no `if __name__ == "__main__":` guard, so each worker would run it again. '
            "Put the code that fits the model under such a guard."
        )


@contextmanager
def _quiet_lightning(verbose: int) -> Iterator[None]:
    """Silence Lightning's informational logging (device summaries, "`Trainer.fit` stopped")
    unless ``verbose``, and the FutureWarning Lightning 2.6 triggers inside torch."""
    loggers = [logging.getLogger(name) for name in _LIGHTNING_LOGGERS]
    levels = [logger.level for logger in loggers]
    if not verbose:
        for logger in loggers:
            logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", **_LIGHTNING_FUTURE_WARNING)
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextmanager
def _spawned_workers(world_size: int) -> Iterator[None]:
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


def _warn_if_nondeterministic(trainer: pl.Trainer, network: nn.Module, config: TrainingConfig):
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


def _cpu_copy(value: Any) -> Any:
    """A detached CPU copy of a state dict (nested dicts and lists of tensors)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: _cpu_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_cpu_copy(v) for v in value)
    return value


class _Progress:
    """The end of every epoch: record, best and last state, divergence, early stop, hooks,
    checkpoint. Plain Python; travels back from spawned workers through its snapshot."""

    def __init__(
        self,
        first_epoch: int,
        patience: int | None,
        validated: bool,
        hooks: tuple[EpochHook, ...],
        checkpoint: Any,
    ) -> None:
        self.first_epoch = first_epoch
        self.patience = patience
        self.validated = validated
        self.hooks = hooks
        self.checkpoint = checkpoint
        self.history: list[EpochRecord] = []
        self.best_loss = math.inf
        self.best_epoch: int | None = None
        self.best: tuple[dict, dict] | None = None
        self.last: tuple[dict, dict] | None = None
        self.diverged_at: int | None = None
        self.stopped = False

    def snapshot(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "best_loss": self.best_loss,
            "best_epoch": self.best_epoch,
            "best": self.best,
            "last": self.last,
            "diverged_at": self.diverged_at,
            "stopped": self.stopped,
        }

    def restore(self, snapshot: dict[str, Any]) -> None:
        for name, value in snapshot.items():
            setattr(self, name, value)

    def end_epoch(
        self,
        network: nn.Module,
        optimizer: torch.optim.Optimizer,
        train_loss: float,
        val_loss: float | None,
        generator: torch.Generator,
        *,
        is_global_zero: bool,
    ) -> bool:
        """Close an epoch; return whether training should stop."""
        epoch = self.first_epoch + len(self.history)
        record: EpochRecord = {"epoch": epoch, TRAIN_LOSS: train_loss}
        monitored = train_loss
        if val_loss is not None:
            record[VAL_LOSS] = monitored = val_loss
        self.history.append(record)
        exploded = monitored > max(_EXPLOSION_RATIO * self.best_loss, 1.0)
        if not (math.isfinite(train_loss) and math.isfinite(monitored)) or exploded:
            self.diverged_at = epoch
            self.stopped = True
            return True
        self.last = (_cpu_copy(network.state_dict()), _cpu_copy(optimizer.state_dict()))
        if monitored < self.best_loss:
            self.best_loss, self.best_epoch, self.best = monitored, epoch, self.last
        self.stopped = (
            self.validated
            and self.patience is not None
            and self.best_epoch is not None
            and epoch - self.best_epoch >= self.patience
        )
        for hook in self.hooks:
            hook(dict(record))
        if self.checkpoint is not None and is_global_zero:
            self.checkpoint.save(
                {
                    "network": self.last[0],
                    "optimizer": self.last[1],
                    "progress": self.snapshot(),
                    "torch_rng": torch.get_rng_state(),
                    "shuffle_rng": generator.get_state(),
                }
            )
        return self.stopped

    def result(self, *, interrupted: bool) -> TrainingResult:
        keep = self.best if (self.validated or self.diverged_at is not None) else self.last
        return TrainingResult(
            history=self.history,
            state=keep[0] if keep else None,
            optimizer_state=keep[1] if keep else None,
            best_epoch=self.best_epoch,
            best_loss=self.best_loss,
            diverged_at=self.diverged_at,
            interrupted=interrupted,
        )


class _SequenceModule(pl.LightningModule):
    """Train ``network`` with ``loss`` and one optimizer, one chunk of minibatches per batch.

    Losses stay on the device and are reduced once per epoch: no host synchronisation and no
    logging per step. With ``direct_steps`` the step calls ``backward`` and the torch
    optimizer directly instead of ``manual_backward`` and Lightning's optimizer wrapper:
    equivalent when no gradient scaler, no second process and nothing watching the step hooks
    is involved, and about 0.15 ms a step faster (10-15% of a small LSTM's step on a CPU).
    """

    def __init__(
        self,
        network: nn.Module,
        loss: nn.Module,
        config: TrainingConfig,
        optimizer_state: dict[str, Any] | None,
        *,
        direct_steps: bool,
        progress: _Progress,
        interrupt: GracefulInterrupt,
        batches: Batches,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.network = network
        self.loss = loss
        self.config = config
        self.optimizer_state = optimizer_state
        self.direct_steps = direct_steps
        self.progress = progress
        self.interrupt = interrupt
        self.batches = batches
        self.parent_pid = os.getpid()
        self._losses: dict[str, list[torch.Tensor]] = {}
        self._counts: dict[str, list[int]] = {}
        self._val_loss: float | None = None

    def setup(self, stage: str) -> None:
        # Each distributed process trains on its own share of the samples.
        self.batches.rank, self.batches.world_size = (
            self.trainer.global_rank,
            self.trainer.world_size,
        )
        if os.getpid() != self.parent_pid and not self.config.verbose:
            # A spawned worker is a fresh interpreter: the quiet mode set around fit in the
            # main process does not reach it.
            for name in _LIGHTNING_LOGGERS:
                logging.getLogger(name).setLevel(logging.WARNING)
            warnings.filterwarnings("ignore", **_LIGHTNING_FUTURE_WARNING)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        kwargs = self.config.optimizer_kwargs
        optimizer = OPTIMIZERS[self.config.optimizer](
            self.network.parameters(), lr=self.config.learning_rate, **kwargs
        )
        if self.optimizer_state is not None:
            optimizer.load_state_dict(self.optimizer_state)
            # The saved state carries its hyperparameters: the current ones win.
            for group in optimizer.param_groups:
                group.update(lr=self.config.learning_rate, **kwargs)
        return optimizer

    def _batch_loss(self, key: str, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = self.loss(self.network(x), y)
        # Kept as tensors and reduced once per epoch: no kernel and no sync per step.
        self._losses.setdefault(key, []).append(loss.detach())
        self._counts.setdefault(key, []).append(x.shape[0])
        return loss

    def _epoch_mean(self, key: str) -> float:
        losses = torch.stack(self._losses.pop(key)).double()
        counts = torch.tensor(self._counts.pop(key), dtype=losses.dtype, device=losses.device)
        mean = losses @ counts / counts.sum()
        if self.trainer.world_size > 1:  # every process decides on the same, global loss
            mean = self.trainer.strategy.reduce(mean, reduce_op="mean")
        value = float(mean)
        self.log(key, value, sync_dist=self.trainer.world_size > 1)
        return value

    def training_step(self, batch: Chunk, batch_idx: int) -> None:
        wrapped = self.optimizers()
        if self.direct_steps:
            optimizer, backward = wrapped.optimizer, torch.Tensor.backward
        else:
            optimizer, backward = wrapped, self.manual_backward
        clip = self.config.gradient_clip_val
        for x, y in batch:
            loss = self._batch_loss(TRAIN_LOSS, x, y)
            optimizer.zero_grad(set_to_none=True)
            backward(loss)
            if clip is not None:
                if self.direct_steps:
                    nn.utils.clip_grad_norm_(self.network.parameters(), clip)
                else:
                    self.clip_gradients(wrapped, gradient_clip_val=clip)
            optimizer.step()

    def on_train_batch_end(self, *args: Any) -> None:
        if self.interrupt.requested:  # Ctrl+C: stop after this chunk
            self.trainer.should_stop = True

    def on_train_epoch_end(self) -> None:
        train_loss = self._epoch_mean(TRAIN_LOSS)
        if self.interrupt.requested:
            return  # a partial epoch is neither recorded nor saved
        stop = self.progress.end_epoch(
            self.network,
            self.trainer.optimizers[0],
            train_loss,
            self._val_loss,
            self.batches.generator,
            is_global_zero=self.trainer.is_global_zero,
        )
        if stop:
            self.trainer.should_stop = True

    def get_extra_state(self) -> dict[str, Any]:
        # Lightning returns a spawned worker's results through the module's state dict.
        return self.progress.snapshot()

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.progress.restore(state)


class _ValidatedModule(_SequenceModule):
    """A :class:`_SequenceModule` that also scores the validation samples after every epoch."""

    def validation_step(self, batch: Chunk, batch_idx: int) -> None:
        for x, y in batch:
            self._batch_loss(VAL_LOSS, x, y)

    def on_validation_epoch_end(self) -> None:
        self._val_loss = self._epoch_mean(VAL_LOSS)
