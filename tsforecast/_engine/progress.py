"""What happens at the end of every training epoch, in plain Python (no Lightning).

:class:`Progress` records the epoch, keeps the best and the last whole epoch's state, decides
divergence and early stopping, calls the epoch hooks and writes the checkpoint. The training
module calls :meth:`Progress.end_epoch` from its own ``on_train_epoch_end``; a spawned worker
sends its progress back through :meth:`Progress.snapshot`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .._data.windows import Batches
from .._nn.losses import loss_of
from .._utils.arrays import cpu_copy
from .config import KEPT_LOSS, TRAIN_LOSS, VAL_LOSS, EpochHook, EpochRecord, TrainingResult

# A training loss further above the lowest loss so far than this many times the larger of that
# loss's size and the loss of zero outputs has exploded (a learning rate far too large keeps
# the loss finite but useless).
EXPLOSION_RATIO = 100.0
SNAPSHOT_FIELDS = (
    "first_epoch",
    "reference_loss",
    "scale_loss",
    "history",
    "best_loss",
    "best_epoch",
    "best",
    "last",
    "diverged_at",
    "stopped",
)


def cuda_rng_states() -> list[torch.Tensor]:
    """Every GPU's random generator state (dropout on a GPU draws from them), or ``[]``
    when this process has not used CUDA."""
    return torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else []


def restore_cuda_rng_states(states: list[torch.Tensor]) -> None:
    """Put back what :func:`cuda_rng_states` saved, where the same GPUs are present; say so
    where other GPUs are (the resumed fit then draws other dropout masks)."""
    if not states or not torch.cuda.is_available():
        return
    if len(states) != torch.cuda.device_count():
        warnings.warn(
            f"The checkpoint holds the random generators of {len(states)} GPU(s), this "
            f"process sees {torch.cuda.device_count()}: the resumed fit draws other dropout "
            "masks than the interrupted one would have.",
            UserWarning,
            stacklevel=2,
        )
        return
    torch.cuda.set_rng_state_all(states)


class EpochLosses:
    """The minibatch losses of an epoch, kept as tensors on the device and reduced once.

    No kernel launch and no host synchronisation per step; the epoch's loss is the mean
    weighted by minibatch size, in float64.
    """

    def __init__(self) -> None:
        self._losses: dict[str, list[torch.Tensor]] = {}
        self._counts: dict[str, list[int]] = {}

    def add(self, key: str, loss: torch.Tensor, count: int) -> None:
        self._losses.setdefault(key, []).append(loss.detach())
        self._counts.setdefault(key, []).append(count)

    def mean(self, key: str) -> torch.Tensor:
        """The epoch's loss under ``key`` (a float64 scalar on the device); forgets it."""
        losses = torch.stack(self._losses.pop(key)).double()
        counts = torch.tensor(self._counts.pop(key), dtype=losses.dtype, device=losses.device)
        return losses @ counts / counts.sum()


def score_unchanged(
    network: nn.Module, loss: nn.Module, batches: Batches, tally: EpochLosses, key: str
) -> None:
    """Add ``network``'s loss on every minibatch of ``batches`` to ``tally`` under ``key``,
    in evaluation mode and without gradients (the network's mode is restored)."""
    training = network.training
    network.train(False)
    with torch.no_grad():
        for chunk in batches:
            for x, y in chunk:
                tally.add(key, loss_of(loss, network(x), y, x), x.shape[0])
    network.train(training)


class Progress:
    """The records and kept states of one training run.

    Parameters
    ----------
    earlier : sequence of dict
        The records of the epochs trained before this run (``partial_fit``, warm start):
        they number this run's epochs and are the reference for an exploding loss.
    patience : int or None
        Epochs without a better validation loss before stopping.
    validated : bool
        Whether the run scores validation samples.
    hooks : tuple of callable
        Called with each finished epoch's record.
    checkpoint : object or None
        Has ``save(dict)``; written after every whole epoch.
    """

    def __init__(
        self,
        earlier: Sequence[EpochRecord],
        patience: int | None,
        validated: bool,
        hooks: tuple[EpochHook, ...],
        checkpoint: Any,
    ) -> None:
        self.first_epoch = len(earlier)
        losses = [r[TRAIN_LOSS] for r in earlier if math.isfinite(r[TRAIN_LOSS])]
        # The lowest training loss so far: of the earlier epochs, else (set by the training
        # step) the loss of the untrained network on the first minibatch; then of each epoch.
        self.reference_loss: float | None = min(losses) if losses else None
        # The loss of a model that outputs zeros (set when training starts): the scale below
        # which a loss is never judged exploded.
        self.scale_loss: float | None = None
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
        # What the hooks last saw: the record and, with validation, KEPT_LOSS.
        self.last_hooked: EpochRecord | None = None

    def start_from(
        self, state: dict[str, Any], optimizer_state: dict[str, Any], val_loss: float
    ) -> None:
        """Make the network the run starts from the best so far, at ``val_loss``, as if it
        were the epoch before this run's first: an epoch must beat it to replace it, and
        ``patience`` epochs that do not stop the run (``TrainingConfig.keep_start``)."""
        self.best = (cpu_copy(state), cpu_copy(optimizer_state))
        self.best_loss = val_loss
        self.best_epoch = self.first_epoch - 1

    def snapshot(self) -> dict[str, Any]:
        """Everything a resumed run or the parent of a spawned worker needs."""
        return {name: getattr(self, name) for name in SNAPSHOT_FIELDS}

    def restore(self, snapshot: dict[str, Any]) -> None:
        for name, value in snapshot.items():
            setattr(self, name, value)

    def _exploded(self, train_loss: float) -> bool:
        """Whether ``train_loss`` is not finite or exploded: more than
        :data:`EXPLOSION_RATIO` times the larger of the lowest loss so far and the scale (the
        loss of zero outputs) above the lowest. The lowest catches a loss that explodes after
        it fell; the scale keeps a near-zero lowest (e.g. a linear skip's ridge start on an
        almost linear target) from making any rise an explosion. Distances in units of sizes
        are also right for losses that can be negative (QLIKE without its constant)."""
        if not math.isfinite(train_loss):
            return True
        lowest = self.reference_loss
        if lowest is None or not math.isfinite(lowest):
            return False
        scale = self.scale_loss if self.scale_loss is not None else 0.0
        size = max(abs(lowest), abs(scale) if math.isfinite(scale) else 0.0, 1e-12)
        return train_loss > lowest + EXPLOSION_RATIO * size

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
        if self._exploded(train_loss) or not math.isfinite(monitored):
            self.diverged_at = epoch
            self.stopped = True
            return True
        self.reference_loss = min(train_loss, self.reference_loss or math.inf)
        self.last = (cpu_copy(network.state_dict()), cpu_copy(optimizer.state_dict()))
        if monitored < self.best_loss:
            self.best_loss, self.best_epoch, self.best = monitored, epoch, self.last
        self.stopped = (
            self.validated
            and self.patience is not None
            and self.best_epoch is not None
            and epoch - self.best_epoch >= self.patience
        )
        self.last_hooked = dict(record)
        if self.validated and self.best_epoch is not None:
            self.last_hooked[KEPT_LOSS] = self.best_loss
        for hook in self.hooks:
            hook(dict(self.last_hooked))
        if self.checkpoint is not None and is_global_zero:
            self.checkpoint.save(
                {
                    "network": self.last[0],
                    "optimizer": self.last[1],
                    "progress": self.snapshot(),
                    "torch_rng": torch.get_rng_state(),
                    "shuffle_rng": generator.get_state(),
                    "cuda_rng": cuda_rng_states(),
                }
            )
        return self.stopped

    def result(self, *, interrupted: bool) -> TrainingResult:
        """The run's outcome: the best epoch's state when it validated or diverged, else the
        last whole epoch's; no state when interrupted before a whole epoch."""
        keeps_best = self.validated or self.diverged_at is not None
        keep = self.best if keeps_best else self.last
        if interrupted and not self.history:  # no whole epoch: nothing trained to keep
            keep = None
        return TrainingResult(
            history=self.history,
            state=keep[0] if keep else None,
            optimizer_state=keep[1] if keep else None,
            best_epoch=self.best_epoch if keeps_best else None,
            best_loss=self.best_loss if keeps_best else math.nan,
            diverged_at=self.diverged_at,
            interrupted=interrupted,
        )
