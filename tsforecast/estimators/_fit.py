"""The fit transaction of the LSTM estimators, in two halves around the training run.

:func:`begin_fit` validates the input and builds everything the run needs on a *draft* of
the estimator; :func:`finish_fit` turns the run's result into the new fitted state and
commits it with one assignment. Anything raised before the commit leaves the estimator
exactly as it was. Between the two halves the caller trains: one network at a time through
:func:`tsforecast._engine.training.train`, or several folds at once through
:func:`tsforecast._engine.grouped.train_grouped`.
"""

from __future__ import annotations

import copy
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from sklearn.utils import check_consistent_length, check_random_state
from torch import nn

from .._data.windows import input_moments
from .._engine.checkpoint import Checkpoint
from .._engine.config import TrainingConfig, TrainingData, TrainingResult
from ._validation import check_checkpoint_path, check_same_architecture, validate_X

if TYPE_CHECKING:
    from ._base import _BaseLSTM

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


@dataclass
class PendingFit:
    """A validated fit, not yet trained: the draft and what its training run takes."""

    draft: _BaseLSTM
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

    def checkpoint(self, network: nn.Module) -> Checkpoint | None:
        if self.path is None:
            return None
        data = self.data
        return Checkpoint(self.path, self.draft._fingerprint(data.windows, data.targets, network))

    def optimizer_state(self) -> dict[str, Any] | None:
        """A copy of the saved state of the configured optimizer, if any."""
        return copy.deepcopy(self.optimizer_states.get(self.config.optimizer))


def begin_fit(
    estimator: _BaseLSTM, X: Any, y: Any, *, epochs: int, incremental: bool, classes: Any = None
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


def finish_fit(
    estimator: _BaseLSTM,
    pending: PendingFit,
    network: nn.Module,
    result: TrainingResult,
    checkpoint: Checkpoint | None,
) -> _BaseLSTM:
    """Commit the trained ``network`` to ``estimator``, or raise leaving it unchanged.

    Ctrl+C raises ``KeyboardInterrupt`` so that the calling code (a search, a script) stops
    too; without a checkpoint the estimator first keeps the best whole epoch's weights (if
    one finished), with a checkpoint it stays as it was and calling ``fit`` again resumes.
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
            f"{name}: no epoch was trained: trainer_kwargs (such as limit_train_batches=0 or "
            "max_steps=0) stopped Lightning before the first one; the estimator is unchanged."
        )
    if result.state is None:
        raise ValueError(
            f"{name}: training diverged (the loss became NaN, infinite or exploded in "
            f"epoch {result.diverged_at}, the first of this fit); {_HINT}."
        )
    network.load_state_dict(result.state)
    draft = pending.draft
    draft.module_ = network.cpu().eval()
    draft.history_ = pending.history + result.history
    draft.n_iter_ = len(draft.history_)
    draft.best_epoch_, draft.best_loss_ = _best_epoch(estimator, pending, result), result.best_loss
    draft._optimizer_state = {
        **pending.optimizer_states,
        pending.config.optimizer: result.optimizer_state,
    }
    estimator.__dict__ = draft.__dict__  # the commit
    if result.diverged_at is not None:
        warnings.warn(
            f"{name}: the loss became NaN, infinite or exploded in epoch "
            f"{result.diverged_at}; restored the weights of "
            + (
                "the network this fit started from (the linear skip's ridge start, or the "
                "model a warm start continued)"
                if _start_won(pending, result)
                else f"the best epoch ({estimator.best_epoch_})"
            )
            + f". To train further, {_HINT}.",
            RuntimeWarning,
            stacklevel=4,
        )
    if result.interrupted:
        kept = estimator.best_epoch_ if estimator.best_epoch_ is not None else estimator.n_iter_ - 1
        warnings.warn(
            f"{name}: training was interrupted (Ctrl+C); the estimator keeps the weights "
            f"of epoch {kept} ({estimator.n_iter_} whole epoch(s) trained).",
            UserWarning,
            stacklevel=4,
        )
        raise KeyboardInterrupt
    if checkpoint is not None:
        checkpoint.remove()
    return estimator


def _start_won(pending: PendingFit, result: TrainingResult) -> bool:
    """Whether the fit keeps the network it started from (``TrainingConfig.keep_start``):
    its best epoch is then the one before the fit's first."""
    return result.best_epoch is not None and result.best_epoch < len(pending.history)


def _best_epoch(estimator: _BaseLSTM, pending: PendingFit, result: TrainingResult) -> int | None:
    """The epoch whose weights the fit keeps. When the network the fit started from won, that
    is the epoch the starting weights came from: -1 for a new network, else the earlier fit's
    kept epoch (its best, or its last)."""
    if not _start_won(pending, result) or not pending.history:
        return result.best_epoch
    earlier = getattr(estimator, "best_epoch_", None)
    return earlier if earlier is not None else len(pending.history) - 1
