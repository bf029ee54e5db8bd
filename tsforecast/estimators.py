"""scikit-learn estimators wrapping a stacked LSTM trained with PyTorch Lightning."""

from __future__ import annotations

import copy
import logging
import warnings
from abc import ABCMeta, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from numbers import Integral, Real
from typing import Any, ClassVar

import lightning.pytorch as pl
import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import (
    assert_all_finite,
    check_array,
    check_consistent_length,
    check_random_state,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from torch import nn

from ._data import Batches, Windows, forward_in_batches, split_tail
from ._lightning import OPTIMIZERS, BestWeights, SequenceModule, ValidatedSequenceModule
from ._network import StackedLSTM
from ._sklearn_compat import Interval, StrOptions, _fit_context

_FLOAT_DTYPES = (np.float64, np.float32)
# Windows per forward pass in predict: large enough to amortise the call, small enough for memory.
_PREDICT_BATCH_SIZE = 4096
# Minibatches per Lightning batch: amortises Lightning's fixed cost per batch (hooks, progress
# tracking) over several optimizer steps. See benchmarks/ for the measured overhead.
_CHUNK_SIZE = 16
_LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric")

_REGRESSION_LOSSES: dict[str, type[nn.Module]] = {
    "mse": nn.MSELoss,
    "mae": nn.L1Loss,
    "huber": nn.HuberLoss,
}


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed torch for the block and restore the caller's random state afterwards."""
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@contextmanager
def _quiet_lightning(verbose: int) -> Iterator[None]:
    """Silence Lightning's informational logging (device summaries) unless ``verbose``.

    Also hides a FutureWarning that Lightning 2.6 triggers inside torch >= 2.10 on every fit
    (``LeafSpec`` deprecation): it concerns Lightning's internals, not the user's code.
    """
    loggers = [logging.getLogger(name) for name in _LIGHTNING_LOGGERS]
    levels = [logger.level for logger in loggers]
    if not verbose:
        for logger in loggers:
            logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=r"`isinstance\(treespec, LeafSpec\)`", category=FutureWarning
            )
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _check_finite(base: torch.Tensor) -> None:
    # In numpy: a torch kernel here would wake torch's thread pool for a few microseconds of
    # work, which measurably slows single-window predict.
    if not np.isfinite(base.numpy()).all():
        raise ValueError(
            "Input X contains NaN or infinity, or values too large for float32. "
            "Fill or drop missing values and scale the features before fitting."
        )


class _BaseLSTM(BaseEstimator, metaclass=ABCMeta):
    """Shared parameters, validation and training loop of the LSTM estimators."""

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "units": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "bidirectional": ["boolean"],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "optimizer_kwargs": [dict, None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "gradient_clip_val": [Interval(Real, 0, None, closed="neither"), None],
        "accelerator": [str],
        "devices": [Interval(Integral, 1, None, closed="left"), list, str],
        "precision": [str, Integral],
        "trainer_kwargs": [dict, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        *,
        units: int | tuple[int, ...] = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        optimizer_kwargs: dict[str, Any] | None = None,
        batch_size: int = 64,
        max_epochs: int = 100,
        validation_fraction: float = 0.1,
        patience: int | None = 10,
        gradient_clip_val: float | None = None,
        accelerator: str = "auto",
        devices: int | list[int] | str = 1,
        precision: str | int = "32-true",
        trainer_kwargs: dict[str, Any] | None = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        warm_start: bool = False,
    ) -> None:
        self.units = units
        self.num_layers = num_layers
        self.dropout = dropout
        self.bidirectional = bidirectional
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
        _check_finite(windows.base)
        return windows

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
            # True only to admit BestWeights, an in-memory Checkpoint: nothing goes to disk.
            "enable_checkpointing": True,
            "enable_progress_bar": bool(self.verbose),
            "enable_model_summary": bool(self.verbose),
            "num_sanity_val_steps": 0,
        }
        user = dict(self.trainer_kwargs or {})
        # The user's callbacks run alongside ours; they are used as given (not copied) so that
        # a callback can report back, e.g. to an Optuna trial.
        options["callbacks"] = [*user.pop("callbacks", []), *callbacks]
        options.update(copy.deepcopy(user))
        return pl.Trainer(**options)

    def _fit(
        self, X: Any, y: Any, *, max_epochs: int, incremental: bool, classes: Any = None
    ) -> _BaseLSTM:
        fitted = self.__sklearn_is_fitted__()
        reset = not (fitted and (incremental or self.warm_start))
        units = self._layer_units()
        windows, targets = self._validate_fit_data(X, y, reset=reset, classes=classes)
        validate = not incremental and self.validation_fraction > 0
        if validate:
            train_index, val_index = split_tail(windows, self.validation_fraction)
        else:
            train_index, val_index = torch.arange(len(windows)), torch.arange(0)
        if len(train_index) == 0:
            raise ValueError(
                f"{type(self).__name__} cannot hold out validation_fraction="
                f"{self.validation_fraction} of {len(windows)} sample(s) and still train on "
                "overlap-free windows: pass more samples or set validation_fraction=0."
            )
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        with _seeded(seed), _quiet_lightning(self.verbose):
            if reset:
                self.module_ = StackedLSTM(
                    windows.n_features,
                    units,
                    self._n_outputs,
                    dropout=self.dropout,
                    bidirectional=self.bidirectional,
                )
                self.history_: list[dict[str, float]] = []
                self.n_iter_ = 0
                # Per optimizer name: a changed optimizer starts afresh.
                self._optimizer_state: dict[str, dict[str, Any]] = {}
            self._train(windows, targets, train_index, val_index, max_epochs, seed)
        return self

    def _train(
        self,
        windows: Windows,
        targets: torch.Tensor,
        train_index: torch.Tensor,
        val_index: torch.Tensor,
        max_epochs: int,
        seed: int,
    ) -> None:
        best = BestWeights(self.patience)
        trainer = self._make_trainer(max_epochs, [best])
        if trainer.num_devices == 1:
            # Keep all data on the training device: batches are then gathered there.
            device = trainer.strategy.root_device
            windows, targets = windows.to(device), targets.to(device)
            train_index, val_index = train_index.to(device), val_index.to(device)
        generator = torch.Generator().manual_seed(seed)
        # Distributed strategies synchronise gradients once per Lightning batch: one step each.
        chunk_size = _CHUNK_SIZE if trainer.world_size == 1 else 1
        train = Batches(
            windows.subset(train_index),
            targets[train_index],
            self.batch_size,
            generator,
            _CHUNK_SIZE,
        )
        module_class = ValidatedSequenceModule if len(val_index) else SequenceModule
        lit = module_class(
            self.module_,
            self._make_loss(),
            self.optimizer,
            self.learning_rate,
            self.optimizer_kwargs,
            self._optimizer_state.get(self.optimizer),
            self.gradient_clip_val,
        )
        start_state = copy.deepcopy(self.module_.state_dict())
        self.module_.train()  # predict leaves it in eval mode
        if len(val_index):
            val = Batches(
                windows.subset(val_index), targets[val_index], self.batch_size, None, chunk_size
            )
            trainer.fit(lit, train_dataloaders=train, val_dataloaders=val)
        else:
            trainer.fit(lit, train_dataloaders=train)
        self.module_.cpu().eval()
        self.history_.extend({**r, "epoch": self.n_iter_ + r["epoch"]} for r in lit.history)
        self.n_iter_ += len(lit.history)
        if best.diverged:
            self._recover_from_divergence(best, start_state)
            return
        if len(val_index) and best.best_state is not None:
            self.module_.load_state_dict(best.best_state)
        self._optimizer_state = {self.optimizer: trainer.optimizers[0].state_dict()}

    def _recover_from_divergence(
        self, best: BestWeights, start_state: dict[str, torch.Tensor]
    ) -> None:
        hint = "lower learning_rate, scale X and y (e.g. StandardScaler), or set gradient_clip_val"
        if best.best_state is not None:
            self.module_.load_state_dict(best.best_state)
            warnings.warn(
                f"{type(self).__name__}: the loss became NaN or infinite after epoch "
                f"{self.n_iter_ - 1}; restored the weights of the best epoch "
                f"({best.best_epoch}). To train further, {hint}.",
                RuntimeWarning,
                stacklevel=4,
            )
            return
        self.module_.load_state_dict(start_state)
        raise ValueError(
            f"{type(self).__name__}: training diverged (the loss became NaN or infinite in "
            f"the first epoch); {hint}."
        )

    # ------------------------------------------------------------------ public API
    def _forward(self, X: Any) -> torch.Tensor:
        if not self.__sklearn_is_fitted__():
            check_is_fitted(self)  # raises sklearn's NotFittedError
        windows = self._validate_X(X, reset=False)
        return forward_in_batches(self.module_, windows, _PREDICT_BATCH_SIZE).cpu()

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "module_")

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


_SHARED_PARAMETERS_DOC = """
    units : int or tuple of int, default=64
        Hidden units of each LSTM layer: one int for every layer, or one int per layer.
    num_layers : int, default=1
        Number of stacked LSTM layers.
    dropout : float, default=0.0
        Dropout between stacked layers and on the last hidden state before the dense head.
    bidirectional : bool, default=False
        Also read each window backwards. Suited to classifying whole sequences; for
        forecasting it only re-reads the past inside the window, which rarely helps.
    optimizer : {"adam", "adamw", "rmsprop", "sgd"}, default="adam"
        Optimizer.
    learning_rate : float, default=1e-3
        Optimizer step size.
    optimizer_kwargs : dict, default=None
        Further optimizer arguments, e.g. ``{"weight_decay": 1e-4}``.
    batch_size : int, default=64
        Samples per training step.
    max_epochs : int, default=100
        Maximum passes over the training data in ``fit``.
    validation_fraction : float, default=0.1
        Fraction of the samples, taken from the end (the most recent), held out to stop early
        and to pick the best epoch's weights. Training samples whose window shares a time step
        with a validation window are dropped. ``0`` trains on everything for ``max_epochs``.
    patience : int or None, default=10
        Epochs without improvement of the validation loss before training stops; ``None``
        trains ``max_epochs`` and still restores the best epoch.
    gradient_clip_val : float, default=None
        Clip the gradient norm at this value.
    accelerator : str, default="auto"
        Lightning accelerator: ``"auto"`` uses a GPU when one is present, else the CPU.
    devices : int, list of int or str, default=1
        Lightning devices.
    precision : str or int, default="32-true"
        Lightning precision, e.g. ``"bf16-mixed"`` on a recent GPU.
    trainer_kwargs : dict, default=None
        Further :class:`lightning.pytorch.Trainer` arguments; they override the defaults above
        (e.g. ``{"enable_progress_bar": True}``). ``callbacks`` are added to the estimator's
        own (early stopping and best weights).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and dropout. On CPU an int gives identical
        models on every fit; the global torch random state is left untouched.
    verbose : int, default=0
        ``0`` prints nothing and writes nothing to disk; ``1`` shows Lightning's progress bar
        and model summary.
    warm_start : bool, default=False
        Continue from the previous solution when ``fit`` is called again.
"""

_SHARED_ATTRIBUTES_DOC = """
    module_ : torch.nn.Module
        The trained network (on the CPU); ``module_(x)`` maps a float32 tensor
        ``(batch, n_timesteps, n_features)`` to raw outputs.
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss`` and, with validation, ``val_loss``.
    n_iter_ : int
        Epochs trained in total.
    n_features_in_ : int
        Features per time step for 3-D input; columns (time steps) for 2-D input.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of a DataFrame ``X`` (2-D input only).
"""

_INPUT_DOC = """
    Input ``X`` is either a 3-D array ``(n_samples, n_timesteps, n_features)`` (windows, e.g. from
    :class:`~tsforecast.SlidingWindowTransformer`, or sequences such as image rows) or a 2-D array
    or DataFrame ``(n_samples, n_timesteps)`` read as univariate sequences. Windows produced by a
    sliding-window view are recognised from their memory layout and never copied one by one:
    the model keeps their 2-D base and gathers each batch by index.

    Training runs through a :class:`lightning.pytorch.Trainer` built inside ``fit``; ``predict``
    calls the network directly in batches, without a Trainer.
"""


class LSTMRegressor(RegressorMixin, _BaseLSTM):
    __doc__ = f"""Stacked LSTM regressor trained with PyTorch Lightning.
{_INPUT_DOC}
    Parameters
    ----------{_SHARED_PARAMETERS_DOC}    loss : {{"mse", "mae", "huber"}}, default="mse"
        Training loss, computed on the standardized target.
    standardize_target : bool, default=True
        Train on ``(y - mean) / std`` and invert on predict, so that price levels and returns
        train equally well.

    Attributes
    ----------{_SHARED_ATTRIBUTES_DOC}    n_outputs_ : int
        Number of targets.
    target_mean_, target_scale_ : ndarray of shape (n_outputs_,)
        Standardization of the target (zeros and ones when ``standardize_target=False``).

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast import LSTMRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5, 2)).astype("float32")
    >>> y = X[:, -1, 0] + X[:, -2, 1]
    >>> model = LSTMRegressor(units=16, max_epochs=20, learning_rate=0.01, random_state=0)
    >>> model.fit(X, y).predict(X[:3]).shape
    (3,)
    >>> model.score(X, y) > 0.8
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_BaseLSTM._parameter_constraints,
        "loss": [StrOptions(set(_REGRESSION_LOSSES))],
        "standardize_target": ["boolean"],
    }

    def __init__(
        self,
        *,
        units: int | tuple[int, ...] = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        optimizer_kwargs: dict[str, Any] | None = None,
        batch_size: int = 64,
        max_epochs: int = 100,
        validation_fraction: float = 0.1,
        patience: int | None = 10,
        gradient_clip_val: float | None = None,
        accelerator: str = "auto",
        devices: int | list[int] | str = 1,
        precision: str | int = "32-true",
        trainer_kwargs: dict[str, Any] | None = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        warm_start: bool = False,
        loss: str = "mse",
        standardize_target: bool = True,
    ) -> None:
        super().__init__(
            units=units,
            num_layers=num_layers,
            dropout=dropout,
            bidirectional=bidirectional,
            optimizer=optimizer,
            learning_rate=learning_rate,
            optimizer_kwargs=optimizer_kwargs,
            batch_size=batch_size,
            max_epochs=max_epochs,
            validation_fraction=validation_fraction,
            patience=patience,
            gradient_clip_val=gradient_clip_val,
            accelerator=accelerator,
            devices=devices,
            precision=precision,
            trainer_kwargs=trainer_kwargs,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
        )
        self.loss = loss
        self.standardize_target = standardize_target

    @property
    def _n_outputs(self) -> int:
        return self.n_outputs_

    def _make_loss(self) -> nn.Module:
        return _REGRESSION_LOSSES[self.loss]()

    def _encode_targets(self, y: Any, *, reset: bool, classes: Any = None) -> torch.Tensor:
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y", estimator=self)
        y2d = y.reshape(len(y), -1)
        if reset:
            self.n_outputs_ = y2d.shape[1]
            if self.standardize_target:
                scale = y2d.std(axis=0)
                self.target_mean_ = y2d.mean(axis=0)
                self.target_scale_ = np.where(scale > 0, scale, 1.0)
            else:
                self.target_mean_ = np.zeros(self.n_outputs_)
                self.target_scale_ = np.ones(self.n_outputs_)
        elif y2d.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y2d.shape[1]} targets, but {type(self).__name__} was fitted with "
                f"{self.n_outputs_}."
            )
        scaled = (y2d - self.target_mean_) / self.target_scale_
        if not np.isfinite(scaled.astype(np.float32)).all():
            raise ValueError("Input y contains values too large for float32.")
        return torch.from_numpy(scaled.astype(np.float32))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> LSTMRegressor:
        """Train the network on ``X`` and ``y`` (a fresh model unless ``warm_start``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_timesteps)
            Input sequences.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.

        Returns
        -------
        self : LSTMRegressor
            The fitted estimator.
        """
        return self._fit(X, y, max_epochs=self.max_epochs, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any, *, epochs: int = 1) -> LSTMRegressor:
        """Train for ``epochs`` more epochs on ``X`` and ``y`` without re-initialising.

        No validation split is held out. The optimizer state carries over between calls.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_timesteps)
            Input sequences.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        epochs : int, default=1
            Passes over ``X``.

        Returns
        -------
        self : LSTMRegressor
            The updated estimator.
        """
        return self._fit(X, y, max_epochs=epochs, incremental=True)

    def predict(self, X: Any) -> np.ndarray:
        """Predict the target of each sequence in ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_timesteps)
            Input sequences.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions, one row per row of ``X``.
        """
        out = self._forward(X).numpy().astype(np.float64) * self.target_scale_ + self.target_mean_
        return out.ravel() if self.n_outputs_ == 1 else out

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class LSTMClassifier(ClassifierMixin, _BaseLSTM):
    __doc__ = f"""Stacked LSTM classifier trained with PyTorch Lightning (cross-entropy loss).
{_INPUT_DOC}
    Labels may be of any type (ints, strings); ``classes_`` holds them in sorted order.

    Parameters
    ----------{_SHARED_PARAMETERS_DOC}
    Attributes
    ----------{_SHARED_ATTRIBUTES_DOC}    classes_ : ndarray of shape (n_classes,)
        Class labels.

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast import LSTMClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 6)).astype("float32")
    >>> y = np.where(X.sum(axis=1) > 0, "up", "down")
    >>> clf = LSTMClassifier(units=16, max_epochs=30, learning_rate=0.01, random_state=0)
    >>> clf.fit(X, y).classes_
    array(['down', 'up'], dtype='<U4')
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    >>> clf.score(X, y) > 0.85
    True
    """

    @property
    def _n_outputs(self) -> int:
        return len(self.classes_)

    def _make_loss(self) -> nn.Module:
        return nn.CrossEntropyLoss()

    def _encode_targets(self, y: Any, *, reset: bool, classes: Any = None) -> torch.Tensor:
        y = column_or_1d(y, warn=True)
        if y.dtype.kind in "fc":
            assert_all_finite(y, input_name="y")
        check_classification_targets(y)
        if reset:
            encoder = LabelEncoder().fit(y if classes is None else classes)
            if len(encoder.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                    f"but the data contains only one class: {encoder.classes_[0]!r}."
                )
            self.classes_ = encoder.classes_
        unseen = np.setdiff1d(y, self.classes_)
        if len(unseen):
            raise ValueError(
                f"y contains labels not seen in the classes of {type(self).__name__}: "
                f"{unseen.tolist()!r}; known classes are {self.classes_.tolist()!r}."
            )
        return torch.from_numpy(np.searchsorted(self.classes_, y).astype(np.int64))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> LSTMClassifier:
        """Train the network on ``X`` and ``y`` (a fresh model unless ``warm_start``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_timesteps)
            Input sequences.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : LSTMClassifier
            The fitted estimator.
        """
        return self._fit(X, y, max_epochs=self.max_epochs, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, *, epochs: int = 1
    ) -> LSTMClassifier:
        """Train for ``epochs`` more epochs on ``X`` and ``y`` without re-initialising.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_timesteps)
            Input sequences.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            Every label that any call may see; used on the first call only. Defaults to the
            labels of the first call's ``y``.
        epochs : int, default=1
            Passes over ``X``.

        Returns
        -------
        self : LSTMClassifier
            The updated estimator.
        """
        return self._fit(X, y, max_epochs=epochs, incremental=True, classes=classes)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of each sequence in ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_timesteps)
            Input sequences.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        return torch.softmax(self._forward(X).double(), dim=1).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each sequence in ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_timesteps)
            Input sequences.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        logits = self._forward(X)
        return self.classes_[logits.argmax(dim=1).numpy()]
