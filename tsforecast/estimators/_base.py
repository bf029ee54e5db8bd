"""The shared estimator layer of the LSTM estimators: parameters, the fit transaction, predict.

Training itself happens in :mod:`tsforecast._engine.training`, imported at the first fit only: this
module never imports Lightning.
"""

from __future__ import annotations

import inspect
import os
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._data.windows import Windows, forward_in_batches, split_tail
from .._engine.checkpoint import data_digest, data_digest_of_state
from .._engine.config import (
    ACCELERATORS,
    COMPUTING_TRAINER_OPTIONS,
    OPTIMIZERS,
    PRECISIONS,
    TrainingConfig,
)
from .._nn.network import CELLS, Embedding, StackedRNN
from .._nn.window_scaling import WindowScaler
from .._utils.arrays import to_numpy, to_torch
from .._utils.sklearn_compat import Interval, Options, StrOptions
from ._defaults import _validation_size
from ._fit import begin_fit, finish_fit, seeded
from ._validation import (
    architecture_params,
    validate_X,
)

# Windows per forward pass in predict: large enough to amortise the call, small enough for memory.
_PREDICT_BATCH_SIZE = 4096
# Parameters that do not change what a fit computes, left out of a checkpoint's fingerprint.
# (An int random_state is added back; a RandomState or None draws a seed that cannot be matched.)
_NOT_FINGERPRINTED = {"verbose", "checkpoint_path", "trainer_kwargs", "random_state", "warm_start"}


class _BaseLSTM(BaseEstimator, metaclass=ABCMeta):
    """Shared parameters, fit transaction and predict of the LSTM estimators."""

    # Parameters (besides units) that a warm start or partial_fit must not change.
    _ARCHITECTURE: ClassVar[tuple[str, ...]] = (
        "cell",
        "dropout",
        "bidirectional",
        "embedding_dim",
        "vocab_size",
        "padding_idx",
        "standardize_inputs",
    )

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
        "windows_per_epoch": [Interval(Integral, 1, None, closed="left"), None],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), StrOptions({"auto"})],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "gradient_clip_val": [Interval(Real, 0, None, closed="neither"), None],
        "accelerator": [StrOptions(set(ACCELERATORS))],
        "devices": [Interval(Integral, 1, None, closed="left"), list, str],
        "precision": [StrOptions(set(PRECISIONS)), Options(Integral, {32})],
        "trainer_kwargs": [dict, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "checkpoint_path": [str, os.PathLike, None],
        "standardize_inputs": ["boolean"],
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
        windows_per_epoch: int | None = None,
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
        standardize_inputs: bool = False,
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
        self.windows_per_epoch = windows_per_epoch
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
        self.standardize_inputs = standardize_inputs

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
        """Width of the network's output layer, from the fitted state."""

    # ------------------------------------------------------------------ network
    def _build_network(self, n_features: int) -> StackedRNN:
        """The network of the fitted ``_architecture`` (parameters may have changed since)."""
        shape = self._architecture
        embedding = None
        if shape["embedding_dim"] is not None:
            embedding = Embedding(self.vocab_size_, shape["embedding_dim"], shape["padding_idx"])
        scaling = (self.input_mean_, self.input_scale_) if hasattr(self, "input_mean_") else None
        return StackedRNN(
            n_features,
            shape["units"],
            self._n_outputs,
            dropout=shape["dropout"],
            bidirectional=shape["bidirectional"],
            cell=shape["cell"],
            embedding=embedding,
            # Set by LSTMRegressor(linear_skip=True) when it fits the skip path.
            skip_timesteps=getattr(self, "n_timesteps_in_", None),
            input_scaling=scaling,
            window_scaler=self._window_scaler(),
        )

    def _window_scaler(self) -> WindowScaler | None:
        """The fitted network's per-window scaling (``LSTMRegressor(window_scaling=...)``)."""
        return None

    def _initial_network(
        self,
        windows: Windows,
        targets: torch.Tensor,
        train_index: torch.Tensor,
        val_index: torch.Tensor,
    ) -> StackedRNN:
        """The network a fresh fit starts from (subclasses may initialise it from the data)."""
        return self._build_network(windows.n_features)

    # ------------------------------------------------------------------ the fit transaction
    def _fit(
        self, X: Any, y: Any, *, epochs: int, incremental: bool, classes: Any = None
    ) -> _BaseLSTM:
        """Train, building the new fitted state on a draft and committing it on success.

        Any exception (bad input, divergence in the first epoch, a pruning hook, SIGTERM)
        leaves the estimator exactly as it was; see
        :func:`tsforecast.estimators._fit.finish_fit` for Ctrl+C.
        """
        from .._engine.training import train  # Lightning loads at the first fit only

        pending = begin_fit(self, X, y, epochs=epochs, incremental=incremental, classes=classes)
        with seeded(pending.seed, cuda=pending.cuda):
            network = pending.start_network(getattr(self, "module_", None))
            checkpoint = pending.checkpoint(network)
            (result,) = train([pending.run(network, checkpoint)])
        return finish_fit(self, pending, network, result, checkpoint)

    @classmethod
    def _parameter_defaults(cls) -> dict[str, Any]:
        return {
            name: p.default
            for name, p in inspect.signature(cls.__init__).parameters.items()
            if p.default is not inspect.Parameter.empty
        }

    @classmethod
    def _complete_architecture(cls, architecture: Any) -> None:
        """Give a fitted ``_architecture`` from before an entry existed that entry's default
        (which is what such models did); leave anything but a dict alone."""
        if isinstance(architecture, dict):
            defaults = cls._parameter_defaults()
            for name in cls._ARCHITECTURE:
                architecture.setdefault(name, defaults[name])

    def _architecture_params(self) -> dict[str, Any]:
        """The parameters that shape the network and its outputs."""
        return architecture_params(self, self._ARCHITECTURE)

    def _split(self, windows: Windows, *, validate: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Training and validation samples: whether there is validation is decided here."""
        n_val = _validation_size(len(windows), self.validation_fraction) if validate else 0
        if n_val == 0:
            return torch.arange(len(windows)), torch.arange(0)
        train_index, val_index = split_tail(windows, n_val)
        if len(train_index) == 0:
            raise ValueError(
                f"{type(self).__name__} cannot hold out validation_fraction="
                f"{self.validation_fraction} of {len(windows)} sample(s) and still train on "
                "overlap-free windows: pass more samples or set validation_fraction=0."
            )
        return train_index, val_index

    def _training_config(self, epochs: int, seed: int) -> TrainingConfig:
        return TrainingConfig(
            optimizer=self.optimizer,
            learning_rate=self.learning_rate,
            optimizer_kwargs=dict(self.optimizer_kwargs or {}),
            batch_size=self.batch_size,
            windows_per_epoch=self.windows_per_epoch,
            epochs=epochs,
            patience=self.patience,
            gradient_clip_val=self.gradient_clip_val,
            accelerator=self.accelerator,
            devices=self.devices,
            precision=self.precision,
            trainer_kwargs=dict(self.trainer_kwargs or {}),
            verbose=self.verbose,
            seed=seed,
            keep_start=self._keeps_start(),
        )

    def _keeps_start(self) -> bool:
        """Whether the untrained network competes with the epochs for the best validation
        loss (see :class:`~tsforecast._engine.config.TrainingConfig`)."""
        return False

    def _fingerprint(self, windows: Windows, targets: torch.Tensor, network: nn.Module) -> str:
        """What a checkpoint must match to be resumed: the class, the parameters that change
        the computation (an int random_state and the Trainer options that change what is
        computed included), the data and the starting weights."""
        params = {k: v for k, v in self.get_params().items() if k not in _NOT_FINGERPRINTED}
        trainer_kwargs = self.trainer_kwargs or {}
        params["trainer_kwargs"] = {
            k: trainer_kwargs[k] for k in COMPUTING_TRAINER_OPTIONS if k in trainer_kwargs
        }
        if isinstance(self.random_state, Integral):
            params["random_state"] = int(self.random_state)
        start = data_digest_of_state(network.state_dict())
        return repr(
            (type(self).__name__, sorted(params.items()), data_digest(windows, targets), start)
        )

    def _forget_fit(self) -> None:
        for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("__")]:
            delattr(self, name)
        for name in ("_input_ndim", "_optimizer_state", "_architecture"):
            self.__dict__.pop(name, None)

    # ------------------------------------------------------------------ predict and state
    def _forward(self, X: Any) -> torch.Tensor:
        if not self.__sklearn_is_fitted__():
            check_is_fitted(self)  # raises sklearn's NotFittedError
        windows = validate_X(self, X, reset=False)
        return forward_in_batches(self.module_, windows, _PREDICT_BATCH_SIZE).cpu()

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "module_")

    def __getstate__(self) -> dict[str, Any]:
        # Weights and optimizer state are pickled as NumPy arrays on the CPU, never as torch
        # objects: a model trained on a GPU unpickles on a machine without one, and loaders
        # that allow-list what a pickle may build (darts' safe loading) need nothing from
        # torch. The network is rebuilt from the fitted _architecture on unpickling.
        state = dict(super().__getstate__())  # object.__getstate__ returns __dict__ itself
        if isinstance(state.get("module_"), nn.Module):
            state["module_"] = to_numpy(state["module_"].state_dict())
        if "_optimizer_state" in state:
            state["_optimizer_state"] = to_numpy(state["_optimizer_state"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        # Pickled before a parameter existed: it has its default, which is what such models did.
        for name, value in self._parameter_defaults().items():
            state.setdefault(name, value)
        self._complete_architecture(state.get("_architecture"))
        weights = state.pop("module_", None)
        if "_optimizer_state" in state:
            state["_optimizer_state"] = to_torch(state["_optimizer_state"])
        super().__setstate__(state)
        if isinstance(weights, nn.Module):  # pickled by an earlier version
            self.module_ = weights
        elif weights is not None:
            network = self._build_network(1 if self._input_ndim == 2 else self.n_features_in_)
            network.load_state_dict(to_torch(weights))
            self.module_ = network.eval()

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
