"""The one seam to PyTorch Lightning: train a network on in-memory windows, return plain values.

No other module imports Lightning; the estimators import this one only to train.

:func:`train` takes a network, a loss, the data, a
:class:`~tsforecast._engine.config.TrainingConfig` and per-epoch hooks, and returns a
:class:`~tsforecast._engine.config.TrainingResult`. Inside, each Lightning batch is a chunk of up
to :data:`CHUNK_SIZE` minibatches stepped with manual optimization, so Lightning's fixed cost per
batch is paid once per chunk; when nothing watches the per-step hooks the step calls ``backward``
and the optimizer directly. Everything that happens at the end of an epoch (the record, the best
weights, divergence, early stopping, the hooks, the checkpoint) is plain code in
:class:`~tsforecast._engine.progress.Progress`, run from the LightningModule's own
``on_train_epoch_end``: no callback ordering to rely on.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.plugins.precision import MixedPrecision, Precision
from lightning.pytorch.utilities.exceptions import SIGTERMException
from torch import nn

from .._data.windows import Batches, Chunk
from .config import (
    CHUNK_SIZE,
    OPTIMIZERS,
    OWN_TRAINER_OPTIONS,
    TRAIN_LOSS,
    VAL_LOSS,
    EpochHook,
    EpochRecord,
    TrainingConfig,
    TrainingData,
    TrainingResult,
)
from .interrupt import SIGTERM_EXIT_STATUS, GracefulInterrupt
from .processes import (
    LIGHTNING_FUTURE_WARNING,
    LIGHTNING_LOGGERS,
    check_main_guard,
    quiet_lightning,
    spans_several_devices,
    spawned_workers,
    warn_if_nondeterministic,
)
from .progress import EpochLosses, Progress, restore_cuda_rng_states, score_unchanged

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


def train(
    network: nn.Module,
    loss: nn.Module,
    data: TrainingData,
    config: TrainingConfig,
    *,
    earlier: Sequence[EpochRecord] = (),
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
    earlier : sequence of dict, default=()
        Records of the epochs trained before (``partial_fit``, warm start): this run's epochs
        are numbered after them, and a loss exploding against them is divergence.
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
    progress = Progress(earlier, config.patience, data.validated, tuple(hooks), checkpoint)
    resumed = checkpoint.load(network) if checkpoint is not None else None
    if resumed is not None:
        network.load_state_dict(resumed["network"])
        optimizer_state = resumed["optimizer"]
        progress.restore(resumed["progress"])
        torch.set_rng_state(resumed["torch_rng"])
        restore_cuda_rng_states(resumed["cuda_rng"])
        generator.set_state(resumed["shuffle_rng"])
    epochs = 0 if progress.stopped else config.epochs - len(progress.history)
    with quiet_lightning(config.verbose), GracefulInterrupt() as interrupt:
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
    progress: Progress,
    interrupt: GracefulInterrupt,
    generator: torch.Generator,
) -> None:
    trainer = _make_trainer(config, epochs)
    if trainer.world_size > 1 and progress.hooks:
        raise ValueError(
            "Per-epoch hooks (such as OptunaSearchCV's pruning) run in the training process "
            "and cannot follow a fit spread over several devices: use devices=1."
        )
    observed = _observes_steps(config)
    if trainer.num_devices == 1:
        # Keep all data on the training device: batches are then gathered there.
        data = data.to(trainer.strategy.root_device)
    # One optimizer step per Lightning batch when something counts or watches the steps
    # (progress bar, logger, batch callbacks) and in distributed training, which
    # synchronises gradients once per Lightning batch.
    chunk_size = 1 if observed or trainer.world_size > 1 else CHUNK_SIZE
    batches, val_batches = data.batches(config, generator, chunk_size)
    warn_if_nondeterministic(trainer, network, config)
    plugin = trainer.precision_plugin
    direct = (
        not observed
        and trainer.world_size == 1
        and type(plugin) in (Precision, MixedPrecision)
        and getattr(plugin, "scaler", None) is None
    )
    module = (_ValidatedModule if data.validated else _SequenceModule)(
        network,
        loss,
        config,
        optimizer_state,
        direct_steps=direct,
        progress=progress,
        interrupt=interrupt,
        batches=batches,
    )
    if data.validated:
        module.val_batches = val_batches
    network.train()
    try:
        with spawned_workers(trainer.world_size):
            trainer.fit(module, train_dataloaders=batches, val_dataloaders=val_batches)
    except SIGTERMException as exc:  # a SystemExit without a code: the shell would see 0
        raise SystemExit(SIGTERM_EXIT_STATUS) from exc


def _make_trainer(config: TrainingConfig, epochs: int) -> pl.Trainer:
    user = dict(config.trainer_kwargs)
    own = sorted(set(user) & set(OWN_TRAINER_OPTIONS))
    if own:
        raise ValueError(
            f"trainer_kwargs sets {own}, which the estimator's own parameters control: use "
            + ", ".join(f"{OWN_TRAINER_OPTIONS[key]}=" for key in own)
            + " instead."
        )
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
    if spans_several_devices(config.devices):
        check_main_guard()
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
        progress: Progress,
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
        self._epoch_losses = EpochLosses()
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
            for name in LIGHTNING_LOGGERS:
                logging.getLogger(name).setLevel(logging.WARNING)
            warnings.filterwarnings("ignore", **LIGHTNING_FUTURE_WARNING)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        kwargs = self.config.optimizer_kwargs
        optimizer = OPTIMIZERS[self.config.optimizer](
            self.network.parameters(), lr=self.config.learning_rate, **kwargs
        )
        if self.optimizer_state is not None:
            current = dict(optimizer.defaults)
            optimizer.load_state_dict(self.optimizer_state)
            # The saved state carries its hyperparameters: the current ones win, also where
            # the user removed a keyword (its default comes back).
            for group in optimizer.param_groups:
                group.update(current)
        return optimizer

    def _batch_loss(self, key: str, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = self.loss(self.network(x), y)
        self._epoch_losses.add(key, loss, x.shape[0])
        return loss

    def _reduced_mean(self, key: str) -> float:
        mean = self._epoch_losses.mean(key)
        if self.trainer.world_size > 1:  # every process decides on the same, global loss
            mean = self.trainer.strategy.reduce(mean, reduce_op="mean")
        return float(mean)

    def _epoch_mean(self, key: str) -> float:
        value = self._reduced_mean(key)
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
            if self.progress.reference_loss is None:  # once per run: the untrained loss
                self.progress.reference_loss = float(loss.detach())
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
    """A :class:`_SequenceModule` that also scores the validation samples after every epoch,
    and with ``config.keep_start`` before the first, on the device and in the precision the
    epochs are scored in."""

    val_batches: Batches

    def on_train_start(self) -> None:
        if not self.config.keep_start or self.progress.history:  # resumed: already done
            return
        with self.trainer.precision_plugin.forward_context():
            score_unchanged(self.network, self.loss, self.val_batches, self._epoch_losses, VAL_LOSS)
        self.progress.start_from(
            self.network.state_dict(),
            self.trainer.optimizers[0].state_dict(),
            self._reduced_mean(VAL_LOSS),
        )

    def validation_step(self, batch: Chunk, batch_idx: int) -> None:
        for x, y in batch:
            self._batch_loss(VAL_LOSS, x, y)

    def on_validation_epoch_end(self) -> None:
        self._val_loss = self._epoch_mean(VAL_LOSS)
