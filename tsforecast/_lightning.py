"""The LightningModule that trains a network, and the callbacks of a fit.

The metric keys are constants so that callbacks (early stopping, Optuna pruning) read one name.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import warnings
from collections.abc import Mapping
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Checkpoint
from torch import nn

from ._data import Batches, Chunk

LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric")
# Lightning 2.6 triggers this torch >= 2.10 deprecation on every fit; it concerns Lightning.
LIGHTNING_FUTURE_WARNING = {
    "message": r"`isinstance\(treespec, LeafSpec\)`",
    "category": FutureWarning,
}

TRAIN_LOSS = "train_loss"
VAL_LOSS = "val_loss"

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
    "sgd": torch.optim.SGD,
}


class SequenceModule(pl.LightningModule):
    """Train ``network`` with ``loss`` and one optimizer, logging one loss value per epoch.

    Each Lightning batch is a :class:`~tsforecast._data.Chunk` of several minibatches, and
    ``training_step`` takes one optimizer step per minibatch (manual optimization), so
    Lightning's fixed cost per batch is paid once per chunk. Losses stay on the device and are
    reduced once per epoch: no host synchronisation and no logging per step.

    Parameters
    ----------
    network : nn.Module
        Maps a batch ``(B, T, F)`` to outputs ``(B, n_outputs)``.
    loss : nn.Module
        Mean loss over a batch.
    optimizer : {"adam", "adamw", "rmsprop", "sgd"}
        Optimizer name.
    learning_rate : float
        Optimizer step size.
    optimizer_kwargs : mapping or None
        Further optimizer arguments (e.g. ``weight_decay``).
    optimizer_state : dict or None
        A state dict of the same optimizer to resume from (``partial_fit``, ``warm_start``).
    gradient_clip_val : float or None
        Clip the gradient norm of each step at this value.
    direct_steps : bool, default=False
        Call ``backward`` and the torch optimizer directly instead of going through
        ``manual_backward`` and Lightning's optimizer wrapper. Equivalent when the precision
        plugin needs no gradient scaler, training runs in one process and no callback observes
        the backward/optimizer hooks; it saves about 0.15 ms a step, which is 10-15% of a step
        of a small LSTM on a CPU.
    history : list of dict, default=None
        Epoch records of an interrupted fit to continue from.
    """

    def __init__(
        self,
        network: nn.Module,
        loss: nn.Module,
        optimizer: str,
        learning_rate: float,
        optimizer_kwargs: Mapping[str, Any] | None = None,
        optimizer_state: dict[str, Any] | None = None,
        gradient_clip_val: float | None = None,
        direct_steps: bool = False,
        history: list[dict[str, float]] | None = None,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.network = network
        self.loss = loss
        self.optimizer_name = optimizer
        self.learning_rate = learning_rate
        self.optimizer_kwargs = dict(optimizer_kwargs or {})
        self.optimizer_state = optimizer_state
        self.gradient_clip_val = gradient_clip_val
        self.direct_steps = direct_steps
        self.history: list[dict[str, float]] = list(history or [])
        # Set by the estimator; travel back from spawned workers with the extra state below.
        self.tracker: BestWeights | None = None
        self.final_optimizer_state: dict[str, Any] | None = None
        self._losses: dict[str, list[torch.Tensor]] = {}
        self._counts: dict[str, list[int]] = {}
        self._val_loss = math.nan

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)

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
        return float(mean)

    def _log_epoch(self, key: str, value: float) -> None:
        self.log(key, value, sync_dist=self.trainer.world_size > 1)

    def on_train_end(self) -> None:
        self.final_optimizer_state = self.trainer.optimizers[0].state_dict()

    def get_extra_state(self) -> dict[str, Any]:
        # Lightning returns a spawned worker's results through the module's state dict.
        return {
            "history": self.history,
            "best": self.tracker.snapshot() if self.tracker else None,
            "diverged": bool(self.tracker and self.tracker.diverged),
            "optimizer": self.final_optimizer_state,
        }

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.history = state["history"]
        self.final_optimizer_state = state["optimizer"]
        if self.tracker is not None and state["best"] is not None:
            self.tracker.restore(state["best"], diverged=state["diverged"])

    def training_step(self, batch: Chunk, batch_idx: int) -> None:
        wrapped = self.optimizers()
        if self.direct_steps:
            optimizer, backward = wrapped.optimizer, torch.Tensor.backward
        else:
            optimizer, backward = wrapped, self.manual_backward
        for x, y in batch:
            loss = self._batch_loss(TRAIN_LOSS, x, y)
            optimizer.zero_grad(set_to_none=True)
            backward(loss)
            if self.gradient_clip_val is not None:
                if self.direct_steps:
                    nn.utils.clip_grad_norm_(self.network.parameters(), self.gradient_clip_val)
                else:
                    self.clip_gradients(wrapped, gradient_clip_val=self.gradient_clip_val)
            optimizer.step()

    def on_train_epoch_end(self) -> None:
        train_loss = self._epoch_mean(TRAIN_LOSS)
        self._log_epoch(TRAIN_LOSS, train_loss)
        record = {"epoch": len(self.history), TRAIN_LOSS: train_loss}
        if not math.isnan(self._val_loss):
            record[VAL_LOSS] = self._val_loss
        self.history.append(record)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        optimizer = OPTIMIZERS[self.optimizer_name](
            self.network.parameters(), lr=self.learning_rate, **self.optimizer_kwargs
        )
        if self.optimizer_state is not None:
            optimizer.load_state_dict(self.optimizer_state)
            # The saved state carries its hyperparameters: the current ones win.
            for group in optimizer.param_groups:
                group.update(lr=self.learning_rate, **self.optimizer_kwargs)
        return optimizer


class ValidatedSequenceModule(SequenceModule):
    """A :class:`SequenceModule` that also scores a validation set after every epoch."""

    def validation_step(self, batch: Chunk, batch_idx: int) -> None:
        for x, y in batch:
            self._batch_loss(VAL_LOSS, x, y)

    def on_validation_epoch_end(self) -> None:
        self._val_loss = self._epoch_mean(VAL_LOSS)
        self._log_epoch(VAL_LOSS, self._val_loss)


class BestWeights(Checkpoint):
    """Keep the weights of the best epoch in memory, stop early, and catch divergence.

    It is a :class:`~lightning.pytorch.callbacks.Checkpoint` (in memory, never on disk) so that
    Lightning runs it after the module's own ``on_train_epoch_end``, which records the epoch.

    The monitored value is the validation loss when there is one, else the training loss. After
    ``patience`` epochs without improvement (validation only) training stops. A non-finite loss
    stops training at once and sets :attr:`diverged`.

    Parameters
    ----------
    patience : int or None
        Epochs without improvement of the validation loss before stopping; ``None`` never stops.
    best : dict, default=None
        ``{"loss", "epoch", "state"}`` of an interrupted fit to continue from.
    """

    def __init__(self, patience: int | None, best: dict[str, Any] | None = None) -> None:
        best = best or {"loss": math.inf, "epoch": -1, "state": None}
        self.patience = patience
        self.best_loss: float = best["loss"]
        self.best_epoch: int = best["epoch"]
        self.best_state: dict[str, torch.Tensor] | None = best["state"]
        self.diverged = False

    def snapshot(self) -> dict[str, Any]:
        return {"loss": self.best_loss, "epoch": self.best_epoch, "state": self.best_state}

    def restore(self, best: dict[str, Any], *, diverged: bool) -> None:
        self.best_loss, self.best_epoch, self.best_state = (
            best["loss"],
            best["epoch"],
            best["state"],
        )
        self.diverged = diverged

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        record = pl_module.history[-1]
        monitored = record.get(VAL_LOSS, record[TRAIN_LOSS])
        if not math.isfinite(record[TRAIN_LOSS]) or not math.isfinite(monitored):
            self.diverged = True
            trainer.should_stop = True
            return
        if monitored < self.best_loss:
            self.best_loss, self.best_epoch = monitored, record["epoch"]
            self.best_state = copy.deepcopy(pl_module.network.state_dict())
        elif (
            VAL_LOSS in record
            and self.patience is not None
            and record["epoch"] - self.best_epoch >= self.patience
        ):
            trainer.should_stop = True


class ShardByRank(pl.Callback):
    """Give each distributed process its own share of the training samples."""

    def __init__(self, batches: Batches) -> None:
        self.batches = batches

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self.batches.rank, self.batches.world_size = trainer.global_rank, trainer.world_size


class QuietWorkers(pl.Callback):
    """Apply the estimator's quiet mode inside spawned worker processes too.

    The workers are fresh interpreters: the logging levels and warning filters set around
    ``fit`` in the main process do not reach them.
    """

    def __init__(self, parent_pid: int) -> None:
        self.parent_pid = parent_pid

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if os.getpid() == self.parent_pid:
            return
        for name in LIGHTNING_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        warnings.filterwarnings("ignore", **LIGHTNING_FUTURE_WARNING)


class StopWhen(pl.Callback):
    """Stop training after the current chunk once ``source.requested`` is true (Ctrl+C)."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if self.source.requested:
            trainer.should_stop = True


class EpochBackup(Checkpoint):
    """Back up the full training state after every epoch, after :class:`BestWeights`.

    Parameters
    ----------
    backup : object
        Has ``save(module, optimizer, best, generator)`` writing the state.
    best : BestWeights
        The fit's best-weights tracker, whose state is part of the backup.
    generator : torch.Generator
        The shuffling generator, whose state is part of the backup.
    """

    def __init__(self, backup: Any, best: BestWeights, generator: torch.Generator) -> None:
        self.backup = backup
        self.best = best
        self.generator = generator

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self.best.diverged and trainer.is_global_zero:
            self.backup.save(pl_module, trainer.optimizers[0], self.best, self.generator)
