"""Train the fold models of one configuration together, as one grouped network.

A walk-forward backtest or a cross-validated trial fits the same estimator on ``k`` training
sets. :func:`train_grouped` runs those ``k`` training runs in lockstep: at every step each
fold draws its own minibatch (its own seeded shuffle, as its fit alone would), the
minibatches go side by side through one :class:`~tsforecast._nn.grouped.GroupedNetwork`,
and one optimizer steps every fold's parameters (each with its own state). Everything else
is per fold and exactly as in :func:`tsforecast._engine.training.train`: the epoch records, the
validation loss, the best weights, divergence, early stopping and the epoch hooks, all in
:class:`~tsforecast._engine.progress.Progress`. With ``dropout=0`` the results equal ``k``
separate fits to float rounding; with dropout the masks are drawn differently. A NaN or
infinity in one fold would reach every fold through the zeros of the block diagonal
(``0 * NaN = NaN``): a step whose losses or gradients are not all finite is computed fold by
fold instead. Each step runs the sub-group of the folds that have a minibatch, so a fold that
stopped (early, or diverged) takes part in no later step.

It is a plain torch loop on one device: it serves the configurations in which Lightning
would only drive the loop (one device, 32-bit, no logger, callbacks, progress bar or
checkpoint); :func:`grouping_blocker` says when that is not the case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .._data.windows import Batches
from .._nn.grouped import GroupedNetwork
from .config import (
    CHUNK_SIZE,
    OPTIMIZERS,
    EpochHook,
    EpochRecord,
    TrainingConfig,
    TrainingData,
    TrainingResult,
)
from .interrupt import GracefulInterrupt, sigterm_raises_system_exit
from .progress import EpochLosses, Progress, score_unchanged

_SINGLE_PRECISION = ("32-true", "32", 32)


def grouping_blocker(config: TrainingConfig) -> str | None:
    """Why a fit with ``config`` cannot be trained in a group, or ``None`` if it can."""
    one_gpu = isinstance(config.devices, list) and len(config.devices) == 1  # devices=[i]
    if config.devices != 1 and not (one_gpu and grouping_device(config).type == "cuda"):
        return f"devices={config.devices!r} (a group trains on one device)"
    if config.precision not in _SINGLE_PRECISION:
        return f"precision={config.precision!r} (a group trains in 32-bit)"
    if config.trainer_kwargs:
        return "trainer_kwargs (a group runs no Lightning Trainer)"
    if config.verbose:
        return "verbose (a group has no progress bar)"
    if config.accelerator == "mps" or (
        config.accelerator in ("gpu", "cuda") and not torch.cuda.is_available()
    ):
        return f"accelerator={config.accelerator!r}"
    return None


def grouping_device(config: TrainingConfig) -> torch.device:
    """The device a group trains on."""
    if config.accelerator != "cpu" and torch.cuda.is_available():
        # As Lightning reads devices: 1 is the first GPU, [i] GPU i.
        return torch.device("cuda", config.devices[0] if config.devices != 1 else 0)
    return torch.device("cpu")


class _FoldOptimizer:
    """Fold ``j``'s view of the shared optimizer, as :class:`Progress` reads it."""

    def __init__(self, network: GroupedNetwork, optimizer: torch.optim.Optimizer, j: int) -> None:
        self.network, self.optimizer, self.j = network, optimizer, j

    def state_dict(self) -> dict[str, Any]:
        return self.network.optimizer_state(self.optimizer, self.j)


@dataclass
class _Fold:
    """One fold's training run: its data, loss, shuffle, progress and epoch losses."""

    loss: nn.Module
    batches: Batches
    val_batches: Batches | None
    progress: Progress
    epoch_losses: EpochLosses = field(default_factory=EpochLosses)

    def epoch_mean(self, key: str) -> float:
        return float(self.epoch_losses.mean(key))


def _minibatches(batches: Batches) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    for chunk in batches:
        yield from chunk


def train_grouped(
    networks: Sequence[nn.Module],
    losses: Sequence[nn.Module],
    datas: Sequence[TrainingData],
    configs: Sequence[TrainingConfig],
    hooks: Sequence[Sequence[EpochHook]],
    lockstep_hooks: Sequence[Callable[[list[EpochRecord | None]], None]] = (),
) -> list[TrainingResult]:
    """Train fold ``j``'s ``networks[j]`` with ``losses[j]`` on ``datas[j]``, all at once.

    Parameters
    ----------
    networks : sequence of nn.Module
        Fresh fold networks of one shape (see
        :func:`~tsforecast._nn.grouped.groupable`).
    losses : sequence of nn.Module
        Each fold's mean loss over a minibatch.
    datas : sequence of TrainingData
        Each fold's windows, targets and train/validation split.
    configs : sequence of TrainingConfig
        One configuration (see :func:`grouping_blocker`), differing only in the seed.
    hooks : sequence of sequence of callable
        Each fold's epoch hooks; an exception from any ends the whole group.
    lockstep_hooks : sequence of callable, default=()
        Called after every epoch with each fold's latest record that its epoch hooks saw
        (a fold that stopped early keeps its last one; a diverged epoch is never seen;
        ``None`` before the first), if any fold has one, e.g. to prune.

    Returns
    -------
    list of TrainingResult
        One per fold, as :func:`tsforecast._engine.training.train` would return it.

    Raises
    ------
    SystemExit
        With status 143 when the process receives SIGTERM.
    """
    config = configs[0]
    device = grouping_device(config)
    folds = []
    for j, data in enumerate(datas):
        generator = torch.Generator().manual_seed(configs[j].seed)
        batches, val_batches = data.to(device).batches(configs[j], generator, CHUNK_SIZE)
        progress = Progress((), config.patience, data.validated, tuple(hooks[j]), None)
        fold = _Fold(losses[j].to(device), batches, val_batches, progress)
        if config.keep_start and val_batches is not None:  # as a separate fit does
            _start_from(fold, networks[j].to(device), config)
        folds.append(fold)
    grouped = GroupedNetwork([n.to(device) for n in networks]).to(device)
    groups = _Subgroups(grouped)
    optimizer = OPTIMIZERS[config.optimizer](
        grouped.leaves, lr=config.learning_rate, **config.optimizer_kwargs
    )
    with GracefulInterrupt() as interrupt, sigterm_raises_system_exit():
        for _ in range(config.epochs):
            running = [j for j, fold in enumerate(folds) if not fold.progress.stopped]
            if not running or interrupt.requested:
                break
            groups.train(True)
            _train_epoch(groups, optimizer, folds, running, config, interrupt)
            if interrupt.requested:  # a partial epoch is neither recorded nor kept
                break
            groups.train(False)
            with torch.no_grad():
                _validate(groups, folds, running)
            for j in running:
                fold = folds[j]
                fold.progress.end_epoch(
                    grouped.write_back(j),
                    _FoldOptimizer(grouped, optimizer, j),
                    fold.epoch_mean("train"),
                    fold.epoch_mean("val") if fold.val_batches is not None else None,
                    fold.batches.generator,
                    is_global_zero=True,
                )
            records = [fold.progress.last_hooked for fold in folds]
            for hook in lockstep_hooks if any(r is not None for r in records) else ():
                hook(records)
    return [fold.progress.result(interrupted=interrupt.requested) for fold in folds]


def _start_from(fold: _Fold, network: nn.Module, config: TrainingConfig) -> None:
    """The fold's untrained network competes for its best epoch (``config.keep_start``)."""
    score_unchanged(network, fold.loss, fold.val_batches, fold.epoch_losses, "val")
    optimizer = OPTIMIZERS[config.optimizer](
        network.parameters(), lr=config.learning_rate, **config.optimizer_kwargs
    )
    fold.progress.start_from(network.state_dict(), optimizer.state_dict(), fold.epoch_mean("val"))


def _side_by_side(batches: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """The minibatches ``(b_j, T, F)`` of a group's folds as one ``(max b_j, T, k * F)``
    input; the rows after a short one read zeros."""
    rows = max(x_j.shape[0] for x_j, _ in batches)
    parts = []
    for x_j, _ in batches:
        pad = rows - x_j.shape[0]
        parts.append(x_j if not pad else torch.cat([x_j, x_j.new_zeros(pad, *x_j.shape[1:])]))
    return torch.cat(parts, dim=2)


def _fold_losses(
    groups: _Subgroups,
    folds: list[_Fold],
    batches: dict[int, tuple[torch.Tensor, torch.Tensor]],
) -> dict[int, torch.Tensor]:
    """Each fold's loss on its minibatch, computed by the group of the folds that have one."""
    members = sorted(batches)
    group = groups[tuple(members)]
    out = group(_side_by_side([batches[j] for j in members]))
    return {
        j: folds[j].loss(group.fold_outputs(out, position)[: batches[j][0].shape[0]], batches[j][1])
        for position, j in enumerate(members)
    }


class _Subgroups(dict):
    """The groups of the folds present at a step, built once per set of folds."""

    def __init__(self, grouped: GroupedNetwork) -> None:
        super().__init__()
        self.grouped = grouped

    def __missing__(self, members: tuple[int, ...]) -> GroupedNetwork:
        self[members] = group = self.grouped.subgroup(members)
        return group

    def train(self, mode: bool) -> None:
        for group in {id(g): g for g in (self.grouped, *self.values())}.values():
            group.train(mode)


def _alone(
    grouped: GroupedNetwork, fold: _Fold, j: int, x: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    """Fold ``j``'s loss computed by its own network, and in training its gradient."""
    network = grouped.write_back(j).train(grouped.training)
    loss = fold.loss(network(x), y)
    if grouped.training:
        parameters = list(network.parameters())
        grads = torch.autograd.grad(loss, parameters, allow_unused=True)
        grouped.leaves[j].grad = torch.cat(
            [
                (torch.zeros_like(p) if g is None else g).reshape(-1)
                for p, g in zip(parameters, grads, strict=True)
            ]
        )
    return loss.detach()


def _finite(values: list[torch.Tensor]) -> bool:
    return bool(torch.stack(values).isfinite().all())


def _lockstep(
    folds: list[_Fold], running: list[int], validation: bool
) -> Iterator[dict[int, tuple[torch.Tensor, torch.Tensor]]]:
    """Each step's minibatch of every fold that still has one."""
    streams = {
        j: _minibatches(folds[j].val_batches if validation else folds[j].batches)
        for j in running
        if not validation or folds[j].val_batches is not None
    }
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


def _train_epoch(
    groups: _Subgroups,
    optimizer: torch.optim.Optimizer,
    folds: list[_Fold],
    running: list[int],
    config: TrainingConfig,
    interrupt: GracefulInterrupt,
) -> None:
    grouped = groups.grouped
    for step in _lockstep(folds, running, validation=False):
        losses = _fold_losses(groups, folds, step)
        optimizer.zero_grad(set_to_none=True)
        torch.stack(list(losses.values())).sum().backward()
        sums = [grouped.leaves[j].grad.sum() for j in step]
        if not _finite([loss.detach() for loss in losses.values()] + sums):
            # A NaN or infinity in one fold reaches every fold through the zeros around its
            # block (0 * NaN = NaN): this step is computed fold by fold instead.
            losses = {j: _alone(grouped, folds[j], j, *step[j]) for j in step}
        for j, loss in losses.items():
            folds[j].epoch_losses.add("train", loss, step[j][0].shape[0])
            progress = folds[j].progress
            if progress.reference_loss is None:  # once per run: the untrained loss
                progress.reference_loss = float(loss.detach())
        for j, leaf in enumerate(grouped.leaves):
            if j not in step:  # no minibatch, no step: as if trained alone
                leaf.grad = None
            elif config.gradient_clip_val is not None:
                nn.utils.clip_grad_norm_([leaf], config.gradient_clip_val)
        optimizer.step()
        if interrupt.requested:
            return


def _validate(groups: _Subgroups, folds: list[_Fold], running: list[int]) -> None:
    grouped = groups.grouped
    for step in _lockstep(folds, running, validation=True):
        losses = _fold_losses(groups, folds, step)
        if not _finite(list(losses.values())):  # as in training: fold by fold
            losses = {j: _alone(grouped, folds[j], j, *step[j]) for j in step}
        for j, loss in losses.items():
            folds[j].epoch_losses.add("val", loss, step[j][0].shape[0])
