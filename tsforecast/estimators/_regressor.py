"""The LSTM regressor: point, quantile and variance (QLIKE) forecasts."""

from __future__ import annotations

import os
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import RegressorMixin
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._data.windows import Windows
from .._engine.ridge import fit_ridge
from .._nn.losses import MASELoss, QLikeLoss, QuantileLoss, SMAPELoss, WindowScaledLoss
from .._nn.network import StackedRNN
from .._nn.window_scaling import WINDOW_SCALINGS, WindowScaler
from .._utils.sklearn_compat import Interval, StrOptions, _fit_context
from ._base import _BaseLSTM
from ._docstrings import _INPUT_DOC, _LOSS_DOC, _SHARED_ATTRIBUTES_DOC, _SHARED_PARAMETERS_DOC

# Standardized targets this far from the fitted mean cannot continue a fitted network.
_FARTHEST_TARGET = 1e4
_REGRESSION_LOSSES: dict[str, type[nn.Module]] = {
    "mse": nn.MSELoss,
    "mae": nn.L1Loss,
    "huber": nn.HuberLoss,
}


class LSTMRegressor(RegressorMixin, _BaseLSTM):
    __doc__ = f"""Stacked LSTM regressor trained with PyTorch Lightning.
{_INPUT_DOC}
    Parameters
    ----------{_SHARED_PARAMETERS_DOC}{_LOSS_DOC}
        Training loss, computed on the standardized target (with ``window_scaling``: on the
        target in units of each window's scale). ``"quantile"`` is the pinball
        loss of each of ``quantiles``: the network forecasts those quantiles. ``"qlike"`` is
        the QLIKE loss of variance forecasts (``y`` observed variances >= 0, e.g. squared
        returns): the network forecasts the log-variance, so ``predict`` is always positive.
        ``"mase"`` is the absolute error divided by the window's in-sample seasonal-naive
        error (the mean of ``|x[t] - x[t - season]|`` over the ``target_feature``), as the
        MASE of M4 scores a forecast; it needs ``season``. ``"smape"`` is the symmetric
        absolute percentage error ``2 |y - p| / (|y| + |p|)`` in the target's units, as M4's
        sMAPE (for targets that keep one sign, e.g. positive demand).
    standardize_target : bool, default=True
        Train on ``(y - mean) / std`` and invert on predict, so that price levels and returns
        train equally well. With ``loss="qlike"``, train on ``y / mean`` instead (a variance
        has to stay positive; QLIKE is unchanged by the rescaling). Ignored with
        ``window_scaling``, which scales the target by each window's statistics instead.
    quantiles : sequence of float, default=None
        With ``loss="quantile"``: the quantiles to forecast, increasing in (0, 1); ``None``
        means ``(0.1, 0.5, 0.9)``. ``predict`` returns the one nearest 0.5,
        :meth:`predict_quantiles` all of them (an 80% interval with the default).
    linear_skip : bool, default=False
        Add a linear skip path (as LSTNet's "highway"): the network's output is a fixed linear
        map of the whole flattened window plus the LSTM head's output. ``fit`` sets the skip
        to the ridge regression of the standardized target on the training windows, with the
        penalty chosen on the validation windows (by generalised cross-validation without
        any), and starts the head at zero: before training the network predicts exactly as
        that ridge model, and training learns only what it misses. With validation, that
        start competes with the trained epochs for the best validation loss: a fit keeps it
        (``best_epoch_`` is then the epoch before its first, -1 for a new model) unless an
        epoch beats it, so it never ends worse on the validation windows than ridge. The
        skip is not trained (trained jointly, Adam's steps undid the ridge solution and
        forecast worse). Windows must keep the length seen in ``fit``. Memory: a matrix of
        (n_timesteps * n_features)² floats. Ignored for token input (``embedding_dim``: a
        linear map of token ids means nothing); refused with ``loss="qlike"`` (the network's
        output is then a log-variance, not the target).
    window_scaling : {None, "mean", "standard", "robust", "last"}, default=None
        Scale each window by its own statistics inside the network, and the forecasts back,
        so that one network learns across series whose levels differ by orders of magnitude
        (as RevIN and neuralforecast's ``scaler_type``). Per window and feature: ``"mean"``
        divides by the mean absolute value, ``"standard"`` subtracts the mean and divides by
        the standard deviation, ``"robust"`` subtracts the median and divides by the median
        absolute deviation from it, ``"last"`` divides by the absolute last value. The
        network's outputs are multiplied back by the statistics of ``target_feature``'s
        values in the window: targets must be in that feature's units (e.g. its next values).
        A window's forecast reads that window only (no look-ahead, no statistics of the
        training set), the scaling is part of the saved, pickled and exported model, and with
        any of the four a series multiplied by ``c > 0`` gets its forecast multiplied by
        ``c``. A constant window (scale 0) is divided by its absolute location, or by 1 if
        that is 0 too. Replaces ``standardize_target``; refused with
        ``standardize_inputs=True``, token input and ``loss="qlike"``. Not trained together
        with other folds (``fit_together`` trains such folds one by one).
    target_feature : int, default=0
        The input feature that holds the target's own history: its window statistics unscale
        the forecasts (``window_scaling``), and ``loss="mase"`` and ``seasonal_residual``
        read it.
    season : int or None, default=None
        The seasonal period in time steps (24 for hourly data with a daily cycle), read by
        ``loss="mase"`` and ``seasonal_residual``.
    seasonal_residual : bool, default=False
        Forecast the difference to the seasonal-naive forecast, as Smyl's ES-RNN
        deseasonalises: target ``j`` (the forecast ``j + 1`` steps ahead, so ``y``'s columns
        must be steps 1, 2, ... of the target) gets the ``target_feature``'s value
        ``season - j % season`` steps before the window's end added to the network's output
        (in the window-scaled units, so the network learns the scaled difference). An
        untrained network thus forecasts "the same time one season ago". Needs
        ``window_scaling`` and ``season``, and windows of at least ``season`` steps.

    Attributes
    ----------{_SHARED_ATTRIBUTES_DOC}    n_outputs_ : int
        Number of targets.
    target_mean_, target_scale_ : ndarray of shape (`n_outputs_`,)
        Standardization of the target (zeros and ones when ``standardize_target=False``).
    quantiles_ : ndarray of shape (n_quantiles,)
        The forecast quantiles (``loss="quantile"`` only).
    loss_ : str
        The loss the network was fitted with; ``predict`` follows it, not a later
        ``set_params(loss=...)``.
    linear_skip_alpha_ : float
        Ridge penalty of the skip path, for the flattened windows and the standardized
        target (``linear_skip=True`` only).
    n_timesteps_in_ : int
        Time steps per window seen in ``fit``, the skip path's input (``linear_skip=True``
        only).

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

    _ARCHITECTURE = (
        *_BaseLSTM._ARCHITECTURE,
        "loss",
        "standardize_target",
        "quantiles",
        "linear_skip",
        "window_scaling",
        "target_feature",
        "season",
        "seasonal_residual",
    )
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_BaseLSTM._parameter_constraints,
        "loss": [StrOptions({*_REGRESSION_LOSSES, "quantile", "qlike", "mase", "smape"})],
        "standardize_target": ["boolean"],
        "quantiles": [tuple, list, None],
        "linear_skip": ["boolean"],
        "window_scaling": [StrOptions(set(WINDOW_SCALINGS)), None],
        "target_feature": [Interval(Integral, 0, None, closed="left")],
        "season": [Interval(Integral, 1, None, closed="left"), None],
        "seasonal_residual": ["boolean"],
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
        loss: str = "mse",
        standardize_target: bool = True,
        quantiles: tuple[float, ...] | None = None,
        linear_skip: bool = False,
        window_scaling: str | None = None,
        target_feature: int = 0,
        season: int | None = None,
        seasonal_residual: bool = False,
    ) -> None:
        super().__init__(
            units=units,
            num_layers=num_layers,
            dropout=dropout,
            bidirectional=bidirectional,
            cell=cell,
            embedding_dim=embedding_dim,
            vocab_size=vocab_size,
            padding_idx=padding_idx,
            optimizer=optimizer,
            learning_rate=learning_rate,
            optimizer_kwargs=optimizer_kwargs,
            batch_size=batch_size,
            windows_per_epoch=windows_per_epoch,
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
            checkpoint_path=checkpoint_path,
            standardize_inputs=standardize_inputs,
        )
        self.loss = loss
        self.standardize_target = standardize_target
        self.quantiles = quantiles
        self.linear_skip = linear_skip
        self.window_scaling = window_scaling
        self.target_feature = target_feature
        self.season = season
        self.seasonal_residual = seasonal_residual

    @property
    def _n_outputs(self) -> int:
        return self.n_outputs_ * (len(self.quantiles_) if self._is_quantile_model() else 1)

    def _is_quantile_model(self) -> bool:
        # The fitted state decides, never the current value of the ``loss`` parameter.
        return self.loss_ == "quantile"

    def _make_loss(self) -> nn.Module:
        shape = self._architecture
        if self.loss_ == "mase":
            return MASELoss(shape["season"], shape["target_feature"], self.target_scale_)
        if self.loss_ == "smape":
            return SMAPELoss(self.target_mean_, self.target_scale_)
        if self.loss_ == "quantile":
            loss = QuantileLoss(self.quantiles_)
        elif self.loss_ == "qlike":
            loss = QLikeLoss()
        else:
            loss = _REGRESSION_LOSSES[self.loss_]()
        scaler = self._window_scaler()
        return loss if scaler is None else WindowScaledLoss(loss, scaler)

    def _window_scaler(self) -> WindowScaler | None:
        shape = self._architecture
        if shape["window_scaling"] is None:
            return None
        return WindowScaler(
            shape["window_scaling"],
            shape["target_feature"],
            season=shape["season"] if shape["seasonal_residual"] else None,
            n_quantiles=len(self.quantiles_) if self._is_quantile_model() else 1,
            n_outputs=self.n_outputs_,
        )

    def _scales_windows(self) -> bool:
        return self._architecture["window_scaling"] is not None

    def _check_window_options(self, windows: Windows) -> None:
        """Refuse combinations of window_scaling, target_feature, season, seasonal_residual
        and loss that cannot train, naming the parameters (a fresh fit only)."""
        scaling = self.window_scaling
        if scaling is not None:
            for conflict, why in (
                (self.standardize_inputs, "standardize_inputs=True (both scale the inputs)"),
                (self.embedding_dim is not None, "token input (embedding_dim)"),
                (self.loss == "qlike", "loss='qlike' (the network forecasts a log-variance)"),
            ):
                if conflict:
                    raise ValueError(f"window_scaling={scaling!r} cannot be combined with {why}.")
        if self.seasonal_residual and (scaling is None or self.season is None):
            raise ValueError(
                "seasonal_residual=True needs window_scaling (e.g. 'mean') and season (e.g. 24); "
                f"got window_scaling={scaling!r}, season={self.season!r}."
            )
        reads_target = scaling is not None or self.loss == "mase"
        if reads_target and self.target_feature >= windows.n_features:
            raise ValueError(
                f"target_feature={self.target_feature} is not a feature of X, which has "
                f"{windows.n_features}."
            )
        if self.loss == "mase" and self.season is None:
            raise ValueError("loss='mase' needs season, the seasonal period (e.g. 24).")
        uses_season = self.loss == "mase" or self.seasonal_residual
        if uses_season and self.season >= windows.length + (self.loss != "mase"):
            raise ValueError(
                f"season={self.season} needs windows longer than the season (at least "
                f"{self.season} steps for seasonal_residual, {self.season + 1} for "
                f"loss='mase'); got windows of {windows.length}."
            )

    def _keeps_start(self) -> bool:
        return bool(self.linear_skip) and self.embedding_dim is None

    def _initial_network(
        self,
        windows: Windows,
        targets: torch.Tensor,
        train_index: torch.Tensor,
        val_index: torch.Tensor,
    ) -> StackedRNN:
        self._check_window_options(windows)
        if not self.linear_skip or self.embedding_dim is not None:
            return super()._initial_network(windows, targets, train_index, val_index)
        if self.loss_ == "qlike":
            raise ValueError(
                "linear_skip=True cannot be combined with loss='qlike': the network then "
                "forecasts a log-variance, which a ridge model of the target cannot start."
            )
        ridge = fit_ridge(windows, targets, train_index, val_index, self._skip_problem)
        self.linear_skip_alpha_, self.n_timesteps_in_ = ridge.alpha, windows.length
        network = self._build_network(windows.n_features)
        repeat = len(self.quantiles_) if self._is_quantile_model() else 1
        # Quantile outputs are (target, quantile) pairs: every quantile starts at the mean.
        network.start_linear(
            ridge.coef.repeat_interleave(repeat, dim=0),
            ridge.intercept.repeat_interleave(repeat),
        )
        return network

    def _skip_problem(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The skip path's input (flattened) and target for windows ``x`` and targets ``y``,
        as the network scales its input and output around it (float64 in and out)."""
        if self.standardize_inputs:
            x = (x - torch.from_numpy(self.input_mean_)) / torch.from_numpy(self.input_scale_)
        scaler = self._window_scaler()
        if scaler is not None:
            y = scaler.network_targets(x, y)
            x, _ = scaler.scale(x)
        return x.flatten(1), y

    def _check_quantiles(self) -> None:
        if self.loss != "quantile":
            if self.quantiles is not None:
                raise ValueError(
                    f"quantiles={self.quantiles!r} needs loss='quantile' (got loss={self.loss!r})."
                )
            return
        quantiles = np.asarray((0.1, 0.5, 0.9) if self.quantiles is None else self.quantiles)
        if (
            quantiles.ndim != 1
            or len(quantiles) == 0
            or quantiles.dtype.kind not in "fi"
            or not ((quantiles > 0) & (quantiles < 1)).all()
            or not (np.diff(quantiles) > 0).all()
            or 0.5 not in quantiles
        ):
            raise ValueError(
                "quantiles must be increasing numbers strictly between 0 and 1 that include "
                f"0.5 (the median, which predict returns), e.g. (0.1, 0.5, 0.9); got "
                f"{self.quantiles!r}."
            )
        self.quantiles_ = quantiles.astype(np.float64)

    def _encode_targets(self, y: Any, *, reset: bool, classes: Any = None) -> torch.Tensor:
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y", estimator=self)
        y2d = y.reshape(len(y), -1)
        largest = np.abs(y2d).max(initial=0.0)
        if not np.isfinite(largest) or largest > np.finfo(np.float32).max / 2:
            raise ValueError(
                f"Input y has values as large as {largest:.3g}, beyond what float32 training "
                "can represent: rescale y (e.g. to thousands or millions) before fitting."
            )
        if reset:
            self._check_quantiles()
            self.loss_ = self.loss
            self.n_outputs_ = y2d.shape[1]
            if self.loss == "qlike":
                self._check_variances(y2d)
                self.target_mean_ = np.zeros(self.n_outputs_)
                scale = y2d.mean(axis=0) if self.standardize_target else 1.0
                self.target_scale_ = np.broadcast_to(scale, (self.n_outputs_,)).astype(float)
            elif self.standardize_target and not self._scales_windows():
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
        elif self.loss_ == "qlike":
            self._check_variances(y2d)
        scaled = (y2d - self.target_mean_) / self.target_scale_
        if not np.isfinite(scaled.astype(np.float32)).all():
            raise ValueError("Input y contains values too large for float32.")
        farthest = np.abs(scaled).max(initial=0.0)
        standardized = self.standardize_target and not self._scales_windows()
        if not reset and standardized and farthest > _FARTHEST_TARGET:
            raise ValueError(
                f"y lies up to {farthest:.3g} standard deviations from the target mean of the "
                "first fit: partial_fit and warm starts keep that fit's target scaling, on "
                "which targets this far outside the fitted range cannot train. Call fit with "
                "warm_start=False to train on them."
            )
        return torch.from_numpy(scaled.astype(np.float32))

    @staticmethod
    def _check_variances(y2d: np.ndarray) -> None:
        if (y2d < 0).any() or not (y2d.mean(axis=0) > 0).all():
            raise ValueError(
                "loss='qlike' needs variance targets: y must be >= 0 with a positive mean "
                "in every column."
            )

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
        return self._fit(X, y, epochs=self.max_epochs, incremental=False)

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
        return self._fit(X, y, epochs=epochs, incremental=True)

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
        check_is_fitted(self)  # before reading the fitted loss_
        if self._is_quantile_model():
            out = self._quantile_forecasts(X)[:, :, np.searchsorted(self.quantiles_, 0.5)]
        elif self.loss_ == "qlike":
            out = np.exp(self._forward(X).numpy().astype(np.float64)) * self.target_scale_
        else:
            out = self._forward(X).numpy().astype(np.float64)
            out = out * self.target_scale_ + self.target_mean_
        return out.ravel() if self.n_outputs_ == 1 else out

    def _quantile_forecasts(self, X: Any) -> np.ndarray:
        """``(n_samples, n_outputs_, n_quantiles)``, sorted along the quantiles so that
        they never cross (monotone rearrangement), in the target's units."""
        raw = self._forward(X).numpy().astype(np.float64)
        raw = np.sort(raw.reshape(len(raw), self.n_outputs_, len(self.quantiles_)), axis=2)
        return raw * self.target_scale_[:, np.newaxis] + self.target_mean_[:, np.newaxis]

    def predict_quantiles(self, X: Any) -> np.ndarray:
        """Forecast the ``quantiles_`` of each target (``loss="quantile"`` only).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_timesteps)
            Input sequences.

        Returns
        -------
        y_quantiles : ndarray of shape (n_samples, n_quantiles) or \
(n_samples, n_outputs, n_quantiles)
            Increasing along the last axis.
        """
        check_is_fitted(self)
        if not self._is_quantile_model():
            raise ValueError("predict_quantiles needs a model fitted with loss='quantile'.")
        quantiles = self._quantile_forecasts(X)
        return quantiles[:, 0] if self.n_outputs_ == 1 else quantiles

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
