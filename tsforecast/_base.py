"""The shared machinery of the LSTM estimators: parameters, input validation, training."""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import warnings
from abc import ABCMeta, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, ClassVar

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.plugins.precision import MixedPrecision, Precision
from sklearn.base import BaseEstimator
from sklearn.utils import (
    check_array,
    check_consistent_length,
    check_random_state,
)
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from ._data import Batches, Windows, forward_in_batches, split_tail
from ._defaults import _validation_size
from ._interrupt import GracefulInterrupt
from ._lightning import (
    LIGHTNING_FUTURE_WARNING,
    LIGHTNING_LOGGERS,
    OPTIMIZERS,
    BestWeights,
    EpochBackup,
    QuietWorkers,
    SequenceModule,
    ShardByRank,
    StopWhen,
    ValidatedSequenceModule,
)
from ._network import CELLS, Embedding, StackedRNN
from ._persistence import atomic_save, safe_load
from ._sklearn_compat import Interval, StrOptions
from ._tokens import check_tokens

_FLOAT_DTYPES = (np.float64, np.float32)
# Windows per forward pass in predict: large enough to amortise the call, small enough for memory.
_PREDICT_BATCH_SIZE = 4096
# Minibatches per Lightning batch: amortises Lightning's fixed cost per batch (hooks, progress
# tracking) over several optimizer steps. See benchmarks/ for the measured overhead.
_CHUNK_SIZE = 16
_BACKUP_VERSION = 1
# Inputs beyond this magnitude saturate the LSTM gates (tanh/sigmoid of ~1e3 is flat).
_UNSCALED_WARN_ABOVE = 1e3


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed torch for the block and restore the caller's random state afterwards."""
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@contextmanager
def _quiet_lightning(verbose: int) -> Iterator[None]:
    """Silence Lightning's informational logging (device summaries) unless ``verbose``, and
    the FutureWarning Lightning 2.6 triggers inside torch on every fit."""
    loggers = [logging.getLogger(name) for name in LIGHTNING_LOGGERS]
    levels = [logger.level for logger in loggers]
    if not verbose:
        for logger in loggers:
            logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", **LIGHTNING_FUTURE_WARNING)
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _check_values(base: torch.Tensor, *, warn_unscaled: str | None) -> None:
    """Refuse NaN/inf; with ``warn_unscaled`` (the estimator's name), warn on huge values.

    Two reductions (NaN propagates through min and max) and no temporary array: the base can
    be gigabytes. In numpy, because a torch kernel here would wake torch's thread pool, which
    measurably slows a single-window predict.
    """
    values = base.numpy()
    low, high = values.min(), values.max()
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(
            "Input X contains NaN or infinity, or values too large for float32. "
            "Fill or drop missing values and scale the features before fitting."
        )
    largest = max(-float(low), float(high))
    if warn_unscaled and largest > _UNSCALED_WARN_ABOVE:
        warnings.warn(
            f"X has values as large as {largest:.3g}: an LSTM's gates saturate on inputs this "
            f"large and {warn_unscaled} will learn little. Scale X first, e.g. with "
            "StandardScaler in a Pipeline.",
            UserWarning,
            stacklevel=5,
        )


# Trainer options that read nothing per optimizer step (unlike max_steps or loggers).
_STEP_NEUTRAL_TRAINER_OPTIONS = {
    "callbacks",
    "default_root_dir",
    "enable_model_summary",
    "enable_progress_bar",
}
_STEP_HOOKS = ("on_before_backward", "on_after_backward", "on_before_optimizer_step")


def _observes_steps(callback: pl.Callback) -> bool:
    return any(
        getattr(type(callback), hook) is not getattr(pl.Callback, hook) for hook in _STEP_HOOKS
    )


def _spans_several_devices(devices: int | list[int] | str) -> bool:
    if isinstance(devices, str):
        return (devices in ("auto", "-1") and torch.cuda.device_count() > 1) or (
            devices.isdigit() and int(devices) > 1
        )
    if isinstance(devices, list):
        return len(devices) > 1
    return devices > 1 or (devices == -1 and torch.cuda.device_count() > 1)


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


def _warn_if_nondeterministic(
    trainer: pl.Trainer,
    network: nn.Module,
    dropout: float,
    trainer_kwargs: dict[str, Any] | None,
) -> None:
    """cuDNN's fused multi-layer LSTM applies dropout between layers non-deterministically,
    even in PyTorch's deterministic mode: say so when a user asks for determinism."""
    if not (trainer_kwargs or {}).get("deterministic"):
        return
    stacked = any(isinstance(m, nn.RNNBase) and m.num_layers > 1 for m in network.modules())
    if trainer.strategy.root_device.type == "cuda" and stacked and dropout > 0:
        warnings.warn(
            "deterministic=True was requested, but cuDNN's multi-layer LSTM with dropout "
            "between layers is not deterministic on a GPU: results may differ between runs. "
            "Use dropout=0, or units of different sizes per layer (separate LSTM calls).",
            UserWarning,
            stacklevel=6,
        )


class _BaseLSTM(BaseEstimator, metaclass=ABCMeta):
    """Shared parameters, validation and training loop of the LSTM estimators."""

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "units": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "bidirectional": ["boolean"],
        "cell": [StrOptions(set(CELLS))],
        "embedding_dim": [Interval(Integral, 1, None, closed="left"), None],
        "vocab_size": [Interval(Integral, 1, None, closed="left"), None],
        "padding_idx": [Interval(Integral, 0, None, closed="left")],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "optimizer_kwargs": [dict, None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), StrOptions({"auto"})],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "gradient_clip_val": [Interval(Real, 0, None, closed="neither"), None],
        "accelerator": [str],
        "devices": [Interval(Integral, 1, None, closed="left"), list, str],
        "precision": [str, Integral],
        "trainer_kwargs": [dict, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "checkpoint_path": [str, os.PathLike, None],
    }

    def __init__(
        self,
        *,
        units: int | tuple[int, ...] = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        cell: str = "lstm",
        embedding_dim: int | None = None,
        vocab_size: int | None = None,
        padding_idx: int = 0,
        optimizer: str = "adam",
        learning_rate: float = 1e-2,
        optimizer_kwargs: dict[str, Any] | None = None,
        batch_size: int = 64,
        max_epochs: int = 100,
        validation_fraction: float | str = "auto",
        patience: int | None = 10,
        gradient_clip_val: float | None = None,
        accelerator: str = "auto",
        devices: int | list[int] | str = 1,
        precision: str | int = "32-true",
        trainer_kwargs: dict[str, Any] | None = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        warm_start: bool = False,
        checkpoint_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.units = units
        self.num_layers = num_layers
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.cell = cell
        self.embedding_dim = embedding_dim
        self.vocab_size = vocab_size
        self.padding_idx = padding_idx
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.optimizer_kwargs = optimizer_kwargs
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.gradient_clip_val = gradient_clip_val
        self.accelerator = accelerator
        self.devices = devices
        self.precision = precision
        self.trainer_kwargs = trainer_kwargs
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.checkpoint_path = checkpoint_path

    # ------------------------------------------------------------------ subclass hooks
    @abstractmethod
    def _encode_targets(self, y: Any, *, reset: bool, classes: Any = None) -> torch.Tensor:
        """Validate ``y`` and return the training targets as a tensor."""

    @abstractmethod
    def _make_loss(self) -> nn.Module:
        """The training loss."""

    @property
    @abstractmethod
    def _n_outputs(self) -> int:
        """Width of the network's output layer."""

    # ------------------------------------------------------------------ validation
    def _layer_units(self) -> tuple[int, ...]:
        if isinstance(self.units, Integral):
            return (int(self.units),) * self.num_layers
        units = tuple(self.units)
        if len(units) != self.num_layers or not all(
            isinstance(u, Integral) and u >= 1 for u in units
        ):
            raise ValueError(
                f"The 'units' parameter of {type(self).__name__} must be an int or one positive "
                f"int per layer (num_layers={self.num_layers}). Got {self.units!r} instead."
            )
        return tuple(int(u) for u in units)

    def _validate_X(self, X: Any, *, reset: bool) -> Windows:
        """Check ``X`` and wrap it as lazy windows ``(n_samples, n_timesteps, n_features)``."""
        if self.embedding_dim is not None:
            return self._validate_tokens(X, reset=reset)
        if not hasattr(X, "ndim"):  # lists and other array-likes
            X = np.asarray(X)
        ndim = X.ndim
        if ndim > 3:
            raise ValueError(
                "X must be 2-D (n_samples, n_timesteps) or 3-D (n_samples, n_timesteps, "
                f"n_features); got an array with {ndim} dimensions."
            )
        if not reset and ndim in (2, 3) and ndim != self._input_ndim:
            raise ValueError(
                f"X has {ndim} dimensions, but {type(self).__name__} was fitted on "
                f"{self._input_ndim}-D input."
            )
        if not reset and ndim == self._input_ndim and self._is_plain_float_array(X):
            # Fast path for predict on a float ndarray (online use: one window at a time):
            # the checks below, without check_array's generic conversions.
            self._check_n_features(X.shape[-1] if ndim == 3 else X.shape[1], reset=False)
        elif ndim == 3:
            X = check_array(
                X,
                allow_nd=True,
                dtype=_FLOAT_DTYPES,
                ensure_all_finite=False,
                input_name="X",
                estimator=self,
            )
            if X.shape[1] == 0 or X.shape[2] == 0:
                raise ValueError(
                    f"X has shape {X.shape}: sequences need at least one time step and one feature."
                )
            self._check_n_features(X.shape[2], reset=reset)
        else:
            X = validate_data(self, X, reset=reset, dtype=_FLOAT_DTYPES)
        if reset:
            self._input_ndim = ndim
        windows = Windows.from_array(X if ndim == 3 else X[:, :, np.newaxis])
        _check_values(windows.base, warn_unscaled=type(self).__name__ if reset else None)
        return windows

    def _validate_tokens(self, X: Any, *, reset: bool) -> Windows:
        """Check token input and wrap it as windows of one feature, the token id."""
        tokens = check_tokens(X, self.padding_idx, None if reset else self.vocab_size_)
        if reset:
            largest = max(int(tokens.max()), self.padding_idx)
            if self.vocab_size is not None and largest >= self.vocab_size:
                raise ValueError(
                    f"X holds token id {largest}, but vocab_size={self.vocab_size}: ids must "
                    "be below vocab_size (padding_idx included)."
                )
            self.vocab_size_ = self.vocab_size or largest + 1
            self._input_ndim = 2
            self._check_n_features(tokens.shape[1], reset=True)
        return Windows.from_array(tokens.astype(np.float32)[:, :, np.newaxis])

    def _is_plain_float_array(self, X: Any) -> bool:
        return (
            type(X) is np.ndarray
            and X.dtype in _FLOAT_DTYPES
            and all(X.shape)
            and not hasattr(self, "feature_names_in_")  # keep sklearn's feature-name warning
        )

    def _check_n_features(self, n_features: int, *, reset: bool) -> None:
        if reset:
            self.n_features_in_ = n_features
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif n_features != self.n_features_in_:
            raise ValueError(
                f"X has {n_features} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )

    def _validate_fit_data(
        self, X: Any, y: Any, *, reset: bool, classes: Any
    ) -> tuple[Windows, torch.Tensor]:
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        windows = self._validate_X(X, reset=reset)
        targets = self._encode_targets(y, reset=reset, classes=classes)
        check_consistent_length(windows.starts, targets)
        return windows, targets

    # ------------------------------------------------------------------ training
    def _make_trainer(self, max_epochs: int, callbacks: list[pl.Callback]) -> pl.Trainer:
        options: dict[str, Any] = {
            "accelerator": self.accelerator,
            "devices": self.devices,
            "precision": self.precision,
            "max_epochs": max_epochs,
            # Quiet and diskless: users fit hundreds of models in a search.
            "logger": False,
            # True only to admit our in-memory Checkpoint callbacks: nothing goes to disk.
            "enable_checkpointing": True,
            "enable_progress_bar": bool(self.verbose),
            "enable_model_summary": bool(self.verbose),
            "num_sanity_val_steps": 0,
        }
        user = dict(self.trainer_kwargs or {})
        # The user's callbacks run alongside ours; they are used as given (not copied) so that
        # a callback can report back, e.g. to an Optuna trial.
        options["callbacks"] = [*user.pop("callbacks", []), *callbacks]
        if _spans_several_devices(self.devices):
            # Spawned processes work from inside fit (also in notebooks), unlike Lightning's
            # default of re-running the calling script.
            options["strategy"] = "ddp_spawn"
        options.update(copy.deepcopy(user))
        return pl.Trainer(**options)

    def _build_network(self, n_features: int, units: tuple[int, ...]) -> StackedRNN:
        embedding = None
        if self.embedding_dim is not None:
            embedding = Embedding(self.vocab_size_, self.embedding_dim, self.padding_idx)
        return StackedRNN(
            n_features,
            units,
            self._n_outputs,
            dropout=self.dropout,
            bidirectional=self.bidirectional,
            cell=self.cell,
            embedding=embedding,
        )

    def _can_step_directly(self, trainer: pl.Trainer) -> bool:
        """Whether nothing but our own code observes the per-step Lightning hooks."""
        plugin = trainer.precision_plugin
        user = dict(self.trainer_kwargs or {})
        callbacks = user.pop("callbacks", [])
        return (
            set(user) <= _STEP_NEUTRAL_TRAINER_OPTIONS
            and not any(_observes_steps(callback) for callback in callbacks)
            and trainer.world_size == 1
            and type(plugin) in (Precision, MixedPrecision)
            and getattr(plugin, "scaler", None) is None
        )

    def _fit(
        self, X: Any, y: Any, *, max_epochs: int, incremental: bool, classes: Any = None
    ) -> _BaseLSTM:
        fitted = self.__sklearn_is_fitted__()
        reset = not (fitted and (incremental or self.warm_start))
        units = self._layer_units()
        windows, targets = self._validate_fit_data(X, y, reset=reset, classes=classes)
        n_val = 0 if incremental else _validation_size(len(windows), self.validation_fraction)
        validate = n_val > 0
        if validate:
            train_index, val_index = split_tail(windows, n_val)
        else:
            train_index, val_index = torch.arange(len(windows)), torch.arange(0)
        if len(train_index) == 0:
            raise ValueError(
                f"{type(self).__name__} cannot hold out validation_fraction="
                f"{self.validation_fraction} of {len(windows)} sample(s) and still train on "
                "overlap-free windows: pass more samples or set validation_fraction=0."
            )
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        backup = None if incremental else self._backup(windows, targets)
        with _seeded(seed), _quiet_lightning(self.verbose), GracefulInterrupt() as interrupt:
            if reset:
                self.module_ = self._build_network(windows.n_features, units)
                self.history_: list[dict[str, float]] = []
                # Per optimizer name: a changed optimizer starts afresh.
                self._optimizer_state: dict[str, dict[str, Any]] = {}
            start_state = copy.deepcopy(self.module_.state_dict())
            try:
                self._train(
                    _Split(windows, targets, train_index, val_index),
                    max_epochs,
                    seed,
                    interrupt,
                    backup,
                )
            except BaseException:
                # Never half-updated: a failed fit leaves the estimator unfitted, a failed
                # partial_fit or warm start leaves the previous weights.
                if reset:
                    self._forget_fit()
                else:
                    self.module_.load_state_dict(start_state)
                    self.module_.cpu().eval()
                raise
        if interrupt.requested:
            warnings.warn(
                f"{type(self).__name__}: training was interrupted (Ctrl+C) after "
                f"{self.n_iter_} epoch(s); the estimator keeps the "
                + ("best epoch's weights." if validate else "weights of the last step.")
                + (f" Calling fit again resumes from {backup.path!r}." if backup else ""),
                UserWarning,
                stacklevel=3,
            )
        return self

    def _backup(self, windows: Windows, targets: torch.Tensor) -> _Backup | None:
        if self.checkpoint_path is None:
            return None
        ignored = {"verbose", "checkpoint_path", "trainer_kwargs", "random_state", "warm_start"}
        params = {k: v for k, v in self.get_params().items() if k not in ignored}
        fingerprint = repr(
            (
                type(self).__name__,
                sorted(params.items()),
                len(windows),
                windows.length,
                windows.n_features,
                tuple(targets.shape),
            )
        )
        return _Backup(os.fspath(self.checkpoint_path), fingerprint)

    def _train(
        self,
        data: _Split,
        max_epochs: int,
        seed: int,
        interrupt: GracefulInterrupt,
        backup: _Backup | None,
    ) -> None:
        generator = torch.Generator().manual_seed(seed)
        resumed = backup.load() if backup else None
        best = BestWeights(self.patience, resumed["best"] if resumed else None)
        history: list[dict[str, float]] = resumed["history"] if resumed else []
        callbacks: list[pl.Callback] = [StopWhen(interrupt), best]
        if resumed:
            self.module_.load_state_dict(resumed["network"])
            self._optimizer_state = {self.optimizer: resumed["optimizer"]}
            torch.set_rng_state(resumed["torch_rng"])
            generator.set_state(resumed["shuffle_rng"])
        if backup:
            callbacks.append(EpochBackup(backup, best, generator))
        epochs = max_epochs - len(history)
        if epochs > 0:
            history = self._run_trainer(data, epochs, generator, callbacks, history, best)
        self.module_.cpu().eval()
        offset = len(self.history_)
        self.history_ += [{**r, "epoch": offset + i} for i, r in enumerate(history)]
        self.n_iter_ = len(self.history_)
        if best.diverged:
            self._recover_from_divergence(best)
        elif len(data.val_index) and best.best_state is not None:
            self.module_.load_state_dict(best.best_state)
        if backup and not interrupt.requested:
            backup.remove()

    def _run_trainer(
        self,
        data: _Split,
        epochs: int,
        generator: torch.Generator,
        callbacks: list[pl.Callback],
        history: list[dict[str, float]],
        best: BestWeights,
    ) -> list[dict[str, float]]:
        """Train ``module_`` for up to ``epochs`` epochs; return the records of this fit."""
        trainer = self._make_trainer(epochs, callbacks)
        windows, targets = data.windows, data.targets
        train_index, val_index = data.train_index, data.val_index
        if trainer.num_devices == 1:
            # Keep all data on the training device: batches are then gathered there.
            device = trainer.strategy.root_device
            windows, targets = windows.to(device), targets.to(device)
            train_index, val_index = train_index.to(device), val_index.to(device)
        # Distributed strategies synchronise gradients once per Lightning batch: one step each.
        chunk_size = _CHUNK_SIZE if trainer.world_size == 1 else 1
        if len(train_index) == len(windows):  # no validation split: no index copies
            train_windows, train_targets = windows, targets
        else:
            train_windows, train_targets = windows.subset(train_index), targets[train_index]
        train = Batches(train_windows, train_targets, self.batch_size, generator, chunk_size)
        _warn_if_nondeterministic(trainer, self.module_, self.dropout, self.trainer_kwargs)
        module_class = ValidatedSequenceModule if len(val_index) else SequenceModule
        lit = module_class(
            self.module_,
            self._make_loss(),
            self.optimizer,
            self.learning_rate,
            self.optimizer_kwargs,
            self._optimizer_state.get(self.optimizer),
            self.gradient_clip_val,
            direct_steps=self._can_step_directly(trainer),
            history=history,
        )
        lit.tracker = best
        trainer.callbacks.append(ShardByRank(train))
        if not self.verbose:
            trainer.callbacks.append(QuietWorkers(os.getpid()))
        val = None
        if len(val_index):
            val = Batches(
                windows.subset(val_index), targets[val_index], self.batch_size, None, chunk_size
            )
        self.module_.train()  # predict leaves it in eval mode
        with _spawned_workers(trainer.world_size):
            trainer.fit(lit, train_dataloaders=train, val_dataloaders=val)
        self._optimizer_state = {self.optimizer: lit.final_optimizer_state}
        return lit.history

    def _recover_from_divergence(self, best: BestWeights) -> None:
        hint = "lower learning_rate, scale X and y (e.g. StandardScaler), or set gradient_clip_val"
        if best.best_state is None:
            raise ValueError(
                f"{type(self).__name__}: training diverged (the loss became NaN or infinite in "
                f"the first epoch); {hint}."
            )
        self.module_.load_state_dict(best.best_state)
        warnings.warn(
            f"{type(self).__name__}: the loss became NaN or infinite after epoch "
            f"{self.n_iter_ - 1}; restored the weights of the best epoch "
            f"({best.best_epoch}). To train further, {hint}.",
            RuntimeWarning,
            stacklevel=5,
        )

    def _forget_fit(self) -> None:
        for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("__")]:
            delattr(self, name)

    # ------------------------------------------------------------------ public API
    def _forward(self, X: Any) -> torch.Tensor:
        if not self.__sklearn_is_fitted__():
            check_is_fitted(self)  # raises sklearn's NotFittedError
        windows = self._validate_X(X, reset=False)
        return forward_in_batches(self.module_, windows, _PREDICT_BATCH_SIZE).cpu()

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "module_")

    def __getstate__(self) -> dict[str, Any]:
        # Tensors are pickled on the CPU, so that a model whose network a user moved to a GPU
        # still unpickles on a machine without one.
        state = super().__getstate__()
        module = state.get("module_")
        if module is not None and any(p.device.type != "cpu" for p in module.parameters()):
            state["module_"] = copy.deepcopy(module).cpu()
        if state.get("_optimizer_state"):
            state["_optimizer_state"] = _to_cpu(state["_optimizer_state"])
        return state

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


def _to_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_to_cpu(v) for v in value)
    return value


@dataclass(frozen=True)
class _Split:
    """A fit's data: all windows and targets, and which samples train and which validate."""

    windows: Windows
    targets: torch.Tensor
    train_index: torch.Tensor
    val_index: torch.Tensor


@dataclass(frozen=True)
class _Backup:
    """The checkpoint file of one ``fit``: written every epoch, read back to resume."""

    path: str
    fingerprint: str

    def load(self) -> dict[str, Any] | None:
        if not os.path.exists(self.path):
            return None
        state = safe_load(self.path, kind="backup", version=_BACKUP_VERSION)
        if state["fingerprint"] != self.fingerprint:
            raise ValueError(
                f"The checkpoint {self.path!r} was written by a fit with other parameters or "
                "other data; delete it or choose another checkpoint_path."
            )
        return state

    def save(
        self,
        module: SequenceModule,
        optimizer: Any,
        best: BestWeights,
        generator: torch.Generator,
    ) -> None:
        atomic_save(
            {
                "format": "tsforecast-backup",
                "format_version": _BACKUP_VERSION,
                "fingerprint": self.fingerprint,
                "network": module.network.state_dict(),
                "optimizer": optimizer.state_dict(),
                "history": module.history,
                "best": best.snapshot(),
                "torch_rng": torch.get_rng_state(),
                "shuffle_rng": generator.get_state(),
            },
            self.path,
        )

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)
