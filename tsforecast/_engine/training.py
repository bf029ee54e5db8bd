"""The training engine: the one seam to PyTorch Lightning, one loop for every kind of fit.

No other module imports Lightning; the estimators import this one only to train.

:func:`train` trains a group of ``k`` runs of one configuration in lockstep: a single fit is
a group of one, the folds of a backtest or of a cross-validated trial are a group of ``k``.
Each run is a :class:`Run` (its network, loss, data, hooks) and gets back a
:class:`~tsforecast._engine.config.TrainingResult`. One Lightning ``Trainer`` drives the
epochs, devices, precision, loggers and callbacks; the steps are the engine's own (manual
optimization):

- at every step each run draws its own minibatch (its own seeded shuffle, as its fit alone
  would); a group of one steps its network, a larger group puts the minibatches side by
  side through one :class:`~tsforecast._nn.grouped.GroupedNetwork`, and one optimizer steps
  every run's parameters (each with its own state);
- each Lightning batch is a chunk of up to :data:`~tsforecast._engine.config.CHUNK_SIZE`
  steps, so that Lightning's fixed cost per batch is paid once per chunk; when nothing
  watches single steps, the step calls ``backward`` and the optimizer directly;
- everything that happens at the end of an epoch (the record, the best weights, divergence,
  early stopping, the hooks, the checkpoint) is plain code in
  :class:`~tsforecast._engine.progress.Progress`, one per run, called from the module's own
  ``on_train_epoch_end``: no callback ordering to rely on.

With ``dropout=0`` a group's results equal its runs trained one by one to float rounding. A
NaN or infinity in one run would reach every run of a group through the zeros of the block
diagonal (``0 * NaN = NaN``): such a step is computed run by run instead. Each step runs the
sub-group of the runs that have a minibatch, so a run that stopped (early, or diverged)
takes part in no later step.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.plugins.precision import MixedPrecision, Precision
from lightning.pytorch.utilities.exceptions import SIGTERMException
from torch import nn

from .._data.windows import Batches
from .._nn.grouped import GroupedNetwork
from .._nn.losses import loss_of
from .config import (
    CHUNK_SIZE,
    OPTIMIZERS,
    TRAIN_LOSS,
    VAL_LOSS,
    EpochRecord,
    Run,
    TrainingConfig,
    TrainingResult,
    check_trainer_options,
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

# Trainer options that watch nothing per optimizer step (unlike loggers or limit_train_batches).
_STEP_NEUTRAL_OPTIONS = {
    "callbacks",
    "default_root_dir",
    "enable_model_summary",
    "deterministic",
    "benchmark",
}
_STEP_HOOKS = (
    "on_train_batch_start",
    "on_train_batch_end",
    "on_before_backward",
    "on_after_backward",
    "on_before_optimizer_step",
    "on_before_zero_grad",
)
LockstepHook = Callable[[list[EpochRecord | None]], None]


class _Member:
    """A run inside the engine: its progress, shuffle, minibatches and epoch losses."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.generator = torch.Generator().manual_seed(run.config.seed)
        self.progress = Progress(
            run.earlier, run.config.patience, run.data.validated, run.hooks, run.checkpoint
        )
        self.tally = EpochLosses()
        self.batches: Batches | None = None
        self.val_batches: Batches | None = None

    def resume(self) -> dict[str, Any] | None:
        """Load the run's checkpoint into its network and progress, if there is one."""
        run = self.run
        checkpoint = run.checkpoint
        resumed = (
            None if checkpoint is None else checkpoint.load(run.network, self.progress.first_epoch)
        )
        if resumed is not None:
            run.network.load_state_dict(resumed["network"])
            run.optimizer_state = resumed["optimizer"]
            self.progress.restore(resumed["progress"])
            torch.set_rng_state(resumed["torch_rng"])
            restore_cuda_rng_states(resumed["cuda_rng"])
            self.generator.set_state(resumed["shuffle_rng"])
        return resumed


def train(runs: Sequence[Run], lockstep_hooks: Sequence[LockstepHook] = ()) -> list[TrainingResult]:
    """Train ``runs`` (one configuration) together, each for up to ``config.epochs`` epochs.

    Parameters
    ----------
    runs : sequence of Run
        One run is a single fit; several are trained as one grouped network (see
        :func:`~tsforecast._nn.grouped.groupable` and
        :func:`~tsforecast._engine.config.grouping_blocker`).
    lockstep_hooks : sequence of callable, default=()
        Called after every epoch with each run's latest record that its epoch hooks saw (a
        run that stopped early keeps its last one; a diverged epoch is never seen; ``None``
        before the first), if any run has one, e.g. to prune.

    Returns
    -------
    list of TrainingResult
        One per run: the records, and the network/optimizer state to keep.

    Raises
    ------
    SystemExit
        With status 143 when the process receives SIGTERM: the runs are abandoned.
    """
    config = runs[0].config
    check_trainer_options(config.trainer_kwargs)
    members = [_Member(run) for run in runs]
    if len(members) == 1:
        members[0].resume()
    epochs = config.epochs - min(len(m.progress.history) for m in members)
    if all(m.progress.stopped for m in members):
        epochs = 0
    with quiet_lightning(config.verbose), GracefulInterrupt() as interrupt:
        if epochs > 0:
            _fit(members, config, epochs, interrupt, tuple(lockstep_hooks))
    return [m.progress.result(interrupted=interrupt.requested) for m in members]


def _fit(
    members: list[_Member],
    config: TrainingConfig,
    epochs: int,
    interrupt: GracefulInterrupt,
    lockstep_hooks: tuple[LockstepHook, ...],
) -> None:
    trainer = _make_trainer(config, epochs)
    if trainer.world_size > 1 and (members[0].progress.hooks or len(members) > 1):
        raise ValueError(
            "Per-epoch hooks (such as OptunaSearchCV's pruning) and folds trained together "
            "run in the training process and cannot follow a fit spread over several "
            "devices: use devices=1."
        )
    observed = _observes_steps(config)
    # One optimizer step per Lightning batch when something counts or watches the steps
    # (progress bar, logger, batch callbacks) and in distributed training, which
    # synchronises gradients once per Lightning batch.
    chunk_size = 1 if observed or trainer.world_size > 1 else CHUNK_SIZE
    for member in members:
        data = member.run.data
        if trainer.num_devices == 1:
            # Keep all data on the training device: batches are then gathered there.
            data = data.to(trainer.strategy.root_device)
        member.batches, member.val_batches = data.batches(config, member.generator, CHUNK_SIZE)
    plugin = trainer.precision_plugin
    direct = (
        not observed
        and trainer.world_size == 1
        and type(plugin) in (Precision, MixedPrecision)
        and getattr(plugin, "scaler", None) is None
    )
    validated = any(m.val_batches is not None for m in members)
    module = (_ValidatedEngineModule if validated else _EngineModule)(
        members, config, direct, interrupt, lockstep_hooks, chunk_size
    )
    warn_if_nondeterministic(trainer, module.network, config)
    module.train()
    try:
        with spawned_workers(trainer.world_size):
            trainer.fit(
                module,
                train_dataloaders=_Lockstep(members, chunk_size, validation=False),
                val_dataloaders=_Lockstep(members, chunk_size, validation=True)
                if validated
                else None,
            )
    except SIGTERMException as exc:  # a SystemExit without a code: the shell would see 0
        raise SystemExit(SIGTERM_EXIT_STATUS) from exc
    except SystemExit as exc:
        # Lightning answers a KeyboardInterrupt inside fit (raised by a callback, or a second
        # Ctrl+C) with sys.exit(1), which would end an interactive session: it stays an
        # interrupt, and the estimator stays as it was.
        if isinstance(exc.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        raise


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


Step = dict[int, tuple[torch.Tensor, torch.Tensor]]


class _Steps:
    """A few consecutive lockstep steps, handed to Lightning as one batch.

    Each step maps a run's position to its minibatch ``(x, y)``, gathered only when the
    step is reached. The class has no ``to`` method and is no collection, so Lightning
    passes it through untouched; the data already lives on the training device.
    """

    __slots__ = ("steps",)

    def __init__(self, steps: Iterator[Step]) -> None:
        self.steps = steps

    def __iter__(self) -> Iterator[Step]:
        return self.steps


def _minibatches(batches: Batches) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    for chunk in batches:
        yield from chunk


class _Lockstep:
    """The epoch's steps of every run still training, ``chunk_size`` steps per batch."""

    def __init__(self, members: list[_Member], chunk_size: int, *, validation: bool) -> None:
        self.members = members
        self.chunk_size = chunk_size
        self.validation = validation

    def _batches(self) -> dict[int, Batches]:
        found = {
            j: m.val_batches if self.validation else m.batches
            for j, m in enumerate(self.members)
            if not m.progress.stopped
        }
        return {j: b for j, b in found.items() if b is not None}

    def __len__(self) -> int:
        steps = max((b.n_batches for b in self._batches().values()), default=0)
        return math.ceil(steps / self.chunk_size)

    def __iter__(self) -> Iterator[_Steps]:
        streams = {j: _minibatches(b) for j, b in self._batches().items()}

        def steps() -> Iterator[Step]:
            while streams:
                step = {}
                for j, stream in list(streams.items()):
                    batch = next(stream, None)
                    if batch is None:
                        del streams[j]
                    else:
                        step[j] = batch
                if step:
                    yield step

        all_steps = steps()
        while streams:
            chunk = [step for _, step in zip(range(self.chunk_size), all_steps, strict=False)]
            if chunk:
                yield _Steps(iter(chunk))


class _Subgroups(dict):
    """The groups of the runs present at a step, built once per set of runs."""

    def __init__(self, grouped: GroupedNetwork) -> None:
        super().__init__()
        self.grouped = grouped

    def __missing__(self, members: tuple[int, ...]) -> GroupedNetwork:
        self[members] = group = self.grouped.subgroup(members)
        return group


class _FoldOptimizer:
    """Run ``j``'s view of a group's shared optimizer, as :class:`Progress` reads it."""

    def __init__(self, network: GroupedNetwork, optimizer: torch.optim.Optimizer, j: int) -> None:
        self.network, self.optimizer, self.j = network, optimizer, j

    def state_dict(self) -> dict[str, Any]:
        return self.network.optimizer_state(self.optimizer, self.j)


class _EngineModule(pl.LightningModule):
    """Train a group of runs with one optimizer, one chunk of lockstep steps per batch.

    Losses stay on the device and are reduced once per epoch: no host synchronisation and no
    logging per step. With ``direct_steps`` the step calls ``backward`` and the torch
    optimizer directly instead of ``manual_backward`` and Lightning's optimizer wrapper:
    equivalent when no gradient scaler, no second process and nothing watching the step hooks
    is involved, and about 0.15 ms a step faster (10-15% of a small LSTM's step on a CPU).
    """

    def __init__(
        self,
        members: list[_Member],
        config: TrainingConfig,
        direct_steps: bool,
        interrupt: GracefulInterrupt,
        lockstep_hooks: tuple[LockstepHook, ...],
        chunk_size: int,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.members = members
        self.config = config
        self.direct_steps = direct_steps
        self.interrupt = interrupt
        self.lockstep_hooks = lockstep_hooks
        self.chunk_size = chunk_size
        self.grouped = len(members) > 1
        networks = [m.run.network for m in members]
        # Registered, so that Lightning moves them (and the losses' buffers) to the device.
        self.losses = nn.ModuleList([m.run.loss for m in members])
        if self.grouped:
            self.runs = nn.ModuleList(networks)
            self.network: nn.Module = GroupedNetwork(networks)
            self.subgroups = _Subgroups(self.network)
        else:
            self.network = networks[0]
        self.parent_pid = os.getpid()
        self._val_losses: dict[int, float] = {}
        self._running: list[int] = []

    # ------------------------------------------------------------------ set-up
    def setup(self, stage: str) -> None:
        # Each distributed process trains on its own share of the samples.
        for member in self.members:
            for batches in (member.batches, member.val_batches):
                if batches is not None:
                    batches.rank = self.trainer.global_rank
                    batches.world_size = self.trainer.world_size
        if os.getpid() != self.parent_pid and not self.config.verbose:
            # A spawned worker is a fresh interpreter: the quiet mode set around fit in the
            # main process does not reach it.
            for name in LIGHTNING_LOGGERS:
                logging.getLogger(name).setLevel(logging.WARNING)
            warnings.filterwarnings("ignore", **LIGHTNING_FUTURE_WARNING)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        parameters = self.network.leaves if self.grouped else self.network.parameters()
        optimizer = OPTIMIZERS[self.config.optimizer](
            parameters, lr=self.config.learning_rate, **self.config.optimizer_kwargs
        )
        saved = self.members[0].run.optimizer_state
        if saved is not None:
            current = dict(optimizer.defaults)
            optimizer.load_state_dict(saved)
            # The saved state carries its hyperparameters: the current ones win, also where
            # the user removed a keyword (its default comes back).
            for group in optimizer.param_groups:
                group.update(current)
        return optimizer

    def _run_network(self, j: int) -> nn.Module:
        """Run ``j``'s network holding its current weights."""
        return self.network.write_back(j) if self.grouped else self.network

    def _run_optimizer(self, j: int) -> Any:
        optimizer = self.trainer.optimizers[0]
        return _FoldOptimizer(self.network, optimizer, j) if self.grouped else optimizer

    def on_train_start(self) -> None:
        """Each run's divergence scale; with ``config.keep_start``, each validated run's
        untrained network competes for its best epoch, scored on the device and in the
        precision the epochs are scored in."""
        for j, member in enumerate(self.members):
            if member.progress.scale_loss is None and member.batches is not None:
                with self.trainer.precision_plugin.forward_context():
                    member.progress.scale_loss = _zero_output_loss(
                        self._run_network(j), self.losses[j], member.batches
                    )
            if not self.config.keep_start:
                continue
            if member.val_batches is None or member.progress.history:  # resumed: done
                continue
            network = self._run_network(j)
            with self.trainer.precision_plugin.forward_context():
                score_unchanged(network, self.losses[j], member.val_batches, member.tally, VAL_LOSS)
            member.progress.start_from(
                network.state_dict(),
                self._run_optimizer(j).state_dict(),
                self._reduced_mean(j, VAL_LOSS),
            )

    # ------------------------------------------------------------------ steps
    def _losses(self, step: Step) -> dict[int, torch.Tensor]:
        """Each run's loss on its minibatch of ``step``."""
        if not self.grouped:
            ((j, (x, y)),) = step.items()
            return {j: loss_of(self.losses[j], self.network(x), y, x)}
        runs = sorted(step)
        group = self.subgroups[tuple(runs)]
        if group.training != self.network.training:
            group.train(self.network.training)
        out = group(_side_by_side([step[j] for j in runs]))
        return {
            j: loss_of(
                self.losses[j],
                group.fold_outputs(out, position)[: step[j][0].shape[0]],
                step[j][1],
                step[j][0],
            )
            for position, j in enumerate(runs)
        }

    def _alone(self, j: int, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Run ``j``'s loss computed by its own network, and in training its gradient."""
        network = self._run_network(j).train(self.network.training)
        loss = loss_of(self.losses[j], network(x), y, x)
        if self.network.training:
            parameters = list(network.parameters())
            grads = torch.autograd.grad(loss, parameters, allow_unused=True)
            self.network.leaves[j].grad = torch.cat(
                [
                    (torch.zeros_like(p) if g is None else g).reshape(-1)
                    for p, g in zip(parameters, grads, strict=True)
                ]
            )
        return loss.detach()

    def _finite_losses(
        self, step: Step, losses: dict[int, torch.Tensor], training: bool
    ) -> dict[int, torch.Tensor]:
        """``losses``, or where a group's step is not finite, each run's computed alone."""
        values = [loss.detach() for loss in losses.values()]
        if training:
            values += [self.network.leaves[j].grad.sum() for j in step]
        if bool(torch.stack(values).isfinite().all()):
            return losses
        # A NaN or infinity in one run reaches every run through the zeros around its
        # block (0 * NaN = NaN): this step is computed run by run instead.
        return {j: self._alone(j, *step[j]) for j in step}

    def _record(self, step: Step, losses: dict[int, torch.Tensor], key: str) -> None:
        for j, loss in losses.items():
            member = self.members[j]
            member.tally.add(key, loss, step[j][0].shape[0])
            if key == TRAIN_LOSS and member.progress.reference_loss is None:  # once per run
                member.progress.reference_loss = float(loss.detach())

    def training_step(self, batch: _Steps, batch_idx: int) -> None:
        wrapped = self.optimizers()
        if self.direct_steps:
            optimizer, backward = wrapped.optimizer, torch.Tensor.backward
        else:
            optimizer, backward = wrapped, self.manual_backward
        clip = self.config.gradient_clip_val
        for step in batch:
            losses = self._losses(step)
            optimizer.zero_grad(set_to_none=True)
            backward(losses[0] if not self.grouped else torch.stack(list(losses.values())).sum())
            if self.grouped:
                losses = self._finite_losses(step, losses, training=True)
            self._record(step, losses, TRAIN_LOSS)
            if clip is not None:
                if self.grouped:  # each run's own norm, as if trained alone
                    for j in step:
                        nn.utils.clip_grad_norm_([self.network.leaves[j]], clip)
                elif self.direct_steps:
                    nn.utils.clip_grad_norm_(self.network.parameters(), clip)
                else:
                    self.clip_gradients(wrapped, gradient_clip_val=clip)
            optimizer.step()
            if self.interrupt.requested:  # Ctrl+C: stop after this step
                self.trainer.should_stop = True
                return

    # ------------------------------------------------------------------ epochs
    def _reduced_mean(self, j: int, key: str) -> float:
        mean = self.members[j].tally.mean(key)
        if self.trainer.world_size > 1:  # every process decides on the same, global loss
            mean = self.trainer.strategy.reduce(mean, reduce_op="mean")
        return float(mean)

    def _epoch_mean(self, j: int, key: str) -> float:
        value = self._reduced_mean(j, key)
        self.log(
            key if not self.grouped else f"{key}_{j}", value, sync_dist=self.trainer.world_size > 1
        )
        return value

    def on_train_epoch_start(self) -> None:
        self._running = [j for j, m in enumerate(self.members) if not m.progress.stopped]
        self._val_losses = {}

    def on_train_epoch_end(self) -> None:
        train_losses = {j: self._epoch_mean(j, TRAIN_LOSS) for j in self._running}
        if self.interrupt.requested:
            return  # a partial epoch is neither recorded nor saved
        for j, train_loss in train_losses.items():
            member = self.members[j]
            member.progress.end_epoch(
                self._run_network(j),
                self._run_optimizer(j),
                train_loss,
                self._val_losses.get(j),
                member.generator,
                is_global_zero=self.trainer.is_global_zero,
            )
        records = [m.progress.last_hooked for m in self.members]
        for hook in self.lockstep_hooks if any(r is not None for r in records) else ():
            hook(records)
        if all(m.progress.stopped for m in self.members):
            self.trainer.should_stop = True

    def get_extra_state(self) -> list[dict[str, Any]]:
        # Lightning returns a spawned worker's results through the module's state dict.
        return [m.progress.snapshot() for m in self.members]

    def set_extra_state(self, state: list[dict[str, Any]]) -> None:
        for member, snapshot in zip(self.members, state, strict=True):
            member.progress.restore(snapshot)


class _ValidatedEngineModule(_EngineModule):
    """An :class:`_EngineModule` that also scores the validation samples after every epoch
    (a separate class: Lightning warns of a ``validation_step`` without validation data)."""

    def validation_step(self, batch: _Steps, batch_idx: int) -> None:
        for step in batch:
            losses = self._losses(step)
            if self.grouped:
                losses = self._finite_losses(step, losses, training=False)
            self._record(step, losses, VAL_LOSS)

    def on_validation_epoch_end(self) -> None:
        self._val_losses = {
            j: self._epoch_mean(j, VAL_LOSS)
            for j in self._running
            if self.members[j].val_batches is not None
        }


def _side_by_side(batches: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """The minibatches ``(b_j, T, F)`` of a group's runs as one ``(max b_j, T, k * F)``
    input; the rows after a short one read zeros."""
    rows = max(x_j.shape[0] for x_j, _ in batches)
    parts = []
    for x_j, _ in batches:
        pad = rows - x_j.shape[0]
        parts.append(x_j if not pad else torch.cat([x_j, x_j.new_zeros(pad, *x_j.shape[1:])]))
    return torch.cat(parts, dim=2)


@torch.no_grad()
def _zero_output_loss(network: nn.Module, loss: nn.Module, batches: Batches) -> float:
    """The loss of a model that always outputs zeros, on the first training minibatch: the
    scale divergence is judged against (on a standardized target, the loss of its mean).
    Computed in evaluation mode, so that no random number is drawn."""
    windows = batches.windows
    x, y = windows.at(windows.starts[: batches.batch_size]), batches.y[: batches.batch_size]
    training = network.training
    network.train(False)
    value = loss_of(loss, torch.zeros_like(network(x)), y, x)
    network.train(training)
    return float(value)
