"""The fit transaction of the LSTM estimators, in two halves around the training run.

:func:`begin_fit` validates the input and builds everything the run needs on a *draft* of
the estimator; :func:`conclude_fit` turns the run's result into the new fitted state (and
gives the fit's warnings), and :meth:`Conclusion.commit` commits it with one assignment.
Anything raised before the commit leaves the estimator exactly as it was. Between the two
halves the caller trains through :func:`tsforecast._engine.training.train`: one run, or the
runs of several folds at once, which are then all committed or none.

The estimators meet this module through the :class:`Trainable` protocol, so that it never
imports them.
"""

from __future__ import annotations

import copy
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from sklearn.utils import check_consistent_length, check_random_state
from torch import nn

from .._data.windows import Windows, input_moments
from .._engine.checkpoint import Checkpoint
from .._engine.config import (
    Run,
    TrainingConfig,
    TrainingData,
    TrainingResult,
    active_epoch_hooks,
)
from ._validation import check_checkpoint_path, check_same_architecture, validate_X

# torch's random state is process-global: fits in several threads take turns, so that each is
# seeded as a serial fit would be and leaves the global state (and logging levels) as found.
FIT_LOCK = threading.RLock()

_HINT = "lower learning_rate, scale X and y (e.g. StandardScaler), or set gradient_clip_val"


@contextmanager
def seeded(seed: int, *, cuda: bool) -> Iterator[None]:
    """Seed torch for the block and restore the caller's random state afterwards.

    CUDA's generators are included only when the fit may use a GPU: touching them
    initialises CUDA, which later fork-based worker processes cannot inherit.
    """
    devices = list(range(torch.cuda.device_count())) if cuda and torch.cuda.is_available() else []
    with FIT_LOCK, torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class Trainable(Protocol):
    """What the fit transaction reads and calls on an estimator (the LSTM estimators'
    shared base implements it)."""

    warm_start: bool
    random_state: Any
    standardize_inputs: bool
    embedding_dim: int | None
    history_: list[dict[str, float]]
    _optimizer_state: dict[str, Any]

    def __sklearn_is_fitted__(self) -> bool: ...

    def _forget_fit(self) -> None:
        """Remove every fitted attribute."""

    def _architecture_params(self) -> dict[str, Any]:
        """The parameters that shape the network and its outputs."""

    def _encode_targets(self, y: Any, *, reset: bool, classes: Any) -> torch.Tensor:
        """``y`` as the network's targets (fitting the encoding when ``reset``)."""

    def _split(self, windows: Windows, *, validate: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Training and validation sample indices."""

    def _training_config(self, epochs: int, seed: int) -> TrainingConfig:
        """The engine's configuration of a fit."""

    def _initial_network(
        self,
        windows: Windows,
        targets: torch.Tensor,
        train_index: torch.Tensor,
        val_index: torch.Tensor,
    ) -> nn.Module:
        """A new network for the data (seeded by the caller)."""

    def _fingerprint(self, windows: Windows, targets: torch.Tensor, network: nn.Module) -> str:
        """What a checkpoint must match to be resumed by this fit."""

    def _make_loss(self) -> nn.Module:
        """The training loss."""


@dataclass
class PendingFit:
    """A validated fit, not yet trained: the draft and what its training run takes."""

    draft: Trainable
    reset: bool
    path: str | None
    data: TrainingData
    config: TrainingConfig
    history: list[dict[str, float]]
    optimizer_states: dict[str, Any]

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def cuda(self) -> bool:
        return self.config.accelerator != "cpu"

    def start_network(self, current: nn.Module | None) -> nn.Module:
        """The network training starts from: a new one (seed it first) or a copy of
        ``current``, the estimator's fitted one."""
        if self.reset:
            data = self.data
            return self.draft._initial_network(
                data.windows, data.targets, data.train_index, data.val_index
            )
        return copy.deepcopy(current)

    def run(self, network: nn.Module, checkpoint: Checkpoint | None) -> Run:
        """The engine's run of this fit, starting from ``network``."""
        return Run(
            network,
            self.draft._make_loss(),
            self.data,
            self.config,
            hooks=active_epoch_hooks(),
            earlier=self.history,
            optimizer_state=self.optimizer_state(),
            checkpoint=checkpoint,
        )

    def checkpoint(self, network: nn.Module) -> Checkpoint | None:
        if self.path is None:
            return None
        data = self.data
        return Checkpoint(self.path, self.draft._fingerprint(data.windows, data.targets, network))

    def optimizer_state(self) -> dict[str, Any] | None:
        """A copy of the saved state of the configured optimizer, if any."""
        return copy.deepcopy(self.optimizer_states.get(self.config.optimizer))


def begin_fit(
    estimator: Trainable, X: Any, y: Any, *, epochs: int, incremental: bool, classes: Any = None
) -> PendingFit:
    """Validate a fit of ``estimator`` and prepare its training run on a draft."""
    reset = not (estimator.__sklearn_is_fitted__() and (incremental or estimator.warm_start))
    draft = object.__new__(type(estimator))
    draft.__dict__.update(estimator.__dict__)
    if reset:
        draft._forget_fit()
        draft._architecture = draft._architecture_params()
    else:
        check_same_architecture(estimator)
    path = None if incremental else check_checkpoint_path(draft)
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None."
        )
    windows = validate_X(draft, X, reset=reset)
    if reset and draft.standardize_inputs and draft.embedding_dim is None:
        draft.input_mean_, draft.input_scale_ = input_moments(windows)
    targets = draft._encode_targets(y, reset=reset, classes=classes)
    check_consistent_length(windows.starts, targets)
    train_index, val_index = estimator._split(windows, validate=not incremental)
    seed = int(check_random_state(estimator.random_state).randint(np.iinfo(np.int32).max))
    return PendingFit(
        draft=draft,
        reset=reset,
        path=path,
        data=TrainingData(windows, targets, train_index, val_index),
        config=estimator._training_config(epochs, seed),
        history=[] if reset else list(estimator.history_),
        optimizer_states={} if reset else dict(estimator._optimizer_state),
    )


@dataclass
class Conclusion:
    """A trained fit whose new state is built and whose warnings are given: only the commit
    is left, which cannot fail."""

    estimator: Trainable
    draft: Trainable
    interrupted: bool
    checkpoint: Checkpoint | None

    def commit(self) -> None:
        """Make the draft the estimator's state (one assignment), then end as the run did:
        Ctrl+C raises ``KeyboardInterrupt``, a finished run removes its checkpoint."""
        self.estimator.__dict__ = self.draft.__dict__
        if self.interrupted:
            raise KeyboardInterrupt
        if self.checkpoint is not None:
            self.checkpoint.remove()


def conclude_fit(
    estimator: Trainable,
    pending: PendingFit,
    network: nn.Module,
    result: TrainingResult,
    checkpoint: Checkpoint | None,
) -> Conclusion:
    """Build the fitted state of the trained ``network`` on the draft and give the fit's
    warnings, or raise leaving ``estimator`` unchanged. Every warning comes before the
    commit, so that a warning turned into an error (``-W error``) leaves it unchanged too.

    Ctrl+C raises ``KeyboardInterrupt``: without a checkpoint the estimator first keeps the
    best whole epoch's weights (if one finished; at the commit), with a checkpoint it stays as
    it was and calling ``fit`` again resumes.
    """
    name = type(estimator).__name__
    if result.interrupted and (checkpoint is not None or result.state is None):
        if checkpoint is not None:
            warnings.warn(
                f"{name}: training was interrupted (Ctrl+C); the estimator is unchanged. "
                f"Calling fit again resumes from {pending.path!r}.",
                UserWarning,
                stacklevel=4,
            )
        raise KeyboardInterrupt
    if result.state is None and result.diverged_at is None:
        raise ValueError(
            f"{name}: no epoch was trained: trainer_kwargs (such as limit_train_batches=0) "
            "stopped Lightning before the first one; the estimator is unchanged."
        )
    if result.state is None:
        raise ValueError(
            f"{name}: training diverged (the loss became NaN, infinite or exploded in "
            f"epoch {result.diverged_at}, the first of this fit); {_HINT}."
        )
    draft = pending.draft
    network.load_state_dict(result.state)
    draft.module_ = network.cpu().eval()
    draft.history_ = pending.history + result.history
    draft.n_iter_ = len(draft.history_)
    draft.best_epoch_, draft.best_loss_ = _best_epoch(estimator, pending, result), result.best_loss
    draft._optimizer_state = {
        **pending.optimizer_states,
        pending.config.optimizer: result.optimizer_state,
    }
    if result.diverged_at is not None:
        warnings.warn(
            f"{name}: the loss became NaN, infinite or exploded in epoch "
            f"{result.diverged_at}; restored the weights of "
            + (
                "the network this fit started from (the linear skip's ridge start, or the "
                "model a warm start continued)"
                if _start_won(pending, result)
                else f"the best epoch ({draft.best_epoch_})"
            )
            + f". To train further, {_HINT}.",
            RuntimeWarning,
            stacklevel=4,
        )
    if result.interrupted:
        kept = draft.best_epoch_ if draft.best_epoch_ is not None else draft.n_iter_ - 1
        warnings.warn(
            f"{name}: training was interrupted (Ctrl+C); the estimator keeps the weights "
            f"of epoch {kept} ({draft.n_iter_} whole epoch(s) trained).",
            UserWarning,
            stacklevel=4,
        )
    return Conclusion(estimator, draft, result.interrupted, checkpoint)


def finish_fit(
    estimator: Trainable,
    pending: PendingFit,
    network: nn.Module,
    result: TrainingResult,
    checkpoint: Checkpoint | None,
) -> Trainable:
    """Commit the trained ``network`` to ``estimator``, or raise leaving it unchanged (see
    :func:`conclude_fit`)."""
    conclude_fit(estimator, pending, network, result, checkpoint).commit()
    return estimator


def _start_won(pending: PendingFit, result: TrainingResult) -> bool:
    """Whether the fit keeps the network it started from (``TrainingConfig.keep_start``):
    its best epoch is then the one before the fit's first."""
    return result.best_epoch is not None and result.best_epoch < len(pending.history)


def _best_epoch(estimator: Trainable, pending: PendingFit, result: TrainingResult) -> int | None:
    """The epoch whose weights the fit keeps. When the network the fit started from won, that
    is the epoch the starting weights came from: -1 for a new network, else the earlier fit's
    kept epoch (its best, or its last)."""
    if not _start_won(pending, result) or not pending.history:
        return result.best_epoch
    earlier = getattr(estimator, "best_epoch_", None)
    return earlier if earlier is not None else len(pending.history) - 1
