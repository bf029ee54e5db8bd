"""scikit-learn estimators wrapping a stacked LSTM trained with PyTorch Lightning."""

from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import assert_all_finite, check_array
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d
from torch import nn

from ._base import _BaseLSTM
from ._losses import QuantileLoss
from ._sklearn_compat import StrOptions, _fit_context

_REGRESSION_LOSSES: dict[str, type[nn.Module]] = {
    "mse": nn.MSELoss,
    "mae": nn.L1Loss,
    "huber": nn.HuberLoss,
}

_SHARED_PARAMETERS_DOC = """
    units : int or tuple of int, default=64
        Hidden units of each LSTM layer: one int for every layer, or one int per layer.
    num_layers : int, default=1
        Number of stacked LSTM layers.
    dropout : float, default=0.0
        Dropout between stacked layers and on the last hidden state before the dense head.
    bidirectional : bool, default=False
        Also read each sequence backwards; the head sees the last state of both directions.
        Suited to classifying whole sequences (image rows, sentences). For forecasting it is
        not a leak, since it reads only the past inside each window, but it rarely helps:
        the most recent step, the one that matters most, is the backward pass's first.
    cell : {"lstm", "gru", "peephole"}, default="lstm"
        Recurrent cell. ``"lstm"`` is ``torch.nn.LSTM`` (cuDNN on a GPU), ``"gru"`` is
        ``torch.nn.GRU``. ``"peephole"`` is the LSTM of Gers & Schmidhuber (2000) whose gates
        also read the cell state through diagonal weights: the input and forget gates read the
        previous cell state ``c_{t-1}``, the output gate the new one ``c_t``; it runs as a
        TorchScript loop, slower than the fused kernels (see the benchmarks).
    embedding_dim : int, default=None
        Read ``X`` as integer token ids through an embedding layer of this width. ``X`` is
        then a 2-D array of ids, each row padded with ``padding_idx`` after its end (e.g. by
        :class:`~tsforecast.text.TextTokenizer`), or a ragged list of id sequences. Sequences
        are packed: the padding after a sequence never changes its prediction, and predict
        accepts any sequence length.
    vocab_size : int, default=None
        Number of token ids (``padding_idx`` included). ``None`` infers it as the largest id
        seen in ``fit`` plus one; ids beyond the vocabulary are refused at predict.
    padding_idx : int, default=0
        The padding token id (embedded as zeros, never trained).
    optimizer : {"adam", "adamw", "rmsprop", "sgd"}, default="adam"
        Optimizer.
    learning_rate : float, default=1e-2
        Optimizer step size.
    optimizer_kwargs : dict, default=None
        Further optimizer arguments, e.g. ``{"weight_decay": 1e-4}``.
    batch_size : int, default=64
        Samples per training step.
    max_epochs : int, default=100
        Maximum passes over the training data in ``fit``.
    validation_fraction : float or "auto", default="auto"
        Fraction of the samples, taken from the end (the most recent), held out to stop early
        and to pick the best epoch's weights. Training samples whose window shares a time step
        with a validation window are dropped. ``0`` trains on everything for ``max_epochs``.
        ``"auto"`` holds out 0.1 when that is at least 50 samples (from about 500 samples
        on), and nothing below: a validation loss over fewer samples is too noisy to choose
        an epoch by.
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
    checkpoint_path : str or path-like, default=None
        Back up the whole training state to this file after every epoch of ``fit``. If the
        file exists when ``fit`` starts (a fit was interrupted or crashed), training resumes
        from it and ends where an uninterrupted fit would have (same data and parameters; on
        CPU, bit for bit). The file is deleted when ``fit`` completes.
"""

_SHARED_ATTRIBUTES_DOC = """
    module_ : torch.nn.Module
        The trained network (on the CPU); ``module_(x)`` maps a float32 tensor
        ``(batch, n_timesteps, n_features)`` to raw outputs.
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss`` and, with validation, ``val_loss``.
    n_iter_ : int
        Epochs trained in total.
    vocab_size_ : int
        Size of the embedding's vocabulary (token input only).
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


_LOSS_DOC = '    loss : {"mse", "mae", "huber", "quantile"}, default="mse"'


class LSTMRegressor(RegressorMixin, _BaseLSTM):
    __doc__ = f"""Stacked LSTM regressor trained with PyTorch Lightning.
{_INPUT_DOC}
    Parameters
    ----------{_SHARED_PARAMETERS_DOC}{_LOSS_DOC}
        Training loss, computed on the standardized target. ``"quantile"`` is the pinball
        loss of each of ``quantiles``: the network forecasts those quantiles.
    standardize_target : bool, default=True
        Train on ``(y - mean) / std`` and invert on predict, so that price levels and returns
        train equally well.
    quantiles : sequence of float, default=None
        With ``loss="quantile"``: the quantiles to forecast, increasing in (0, 1); ``None``
        means ``(0.1, 0.5, 0.9)``. ``predict`` returns the one nearest 0.5,
        :meth:`predict_quantiles` all of them (an 80% interval with the default).

    Attributes
    ----------{_SHARED_ATTRIBUTES_DOC}    n_outputs_ : int
        Number of targets.
    target_mean_, target_scale_ : ndarray of shape (n_outputs_,)
        Standardization of the target (zeros and ones when ``standardize_target=False``).
    quantiles_ : ndarray of shape (n_quantiles,)
        The forecast quantiles (``loss="quantile"`` only).

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
        "loss": [StrOptions({*_REGRESSION_LOSSES, "quantile"})],
        "standardize_target": ["boolean"],
        "quantiles": [tuple, list, None],
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
        loss: str = "mse",
        standardize_target: bool = True,
        quantiles: tuple[float, ...] | None = None,
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
        )
        self.loss = loss
        self.standardize_target = standardize_target
        self.quantiles = quantiles

    @property
    def _n_outputs(self) -> int:
        return self.n_outputs_ * (len(self.quantiles_) if self.loss == "quantile" else 1)

    def _make_loss(self) -> nn.Module:
        if self.loss == "quantile":
            return QuantileLoss(self.quantiles_)
        return _REGRESSION_LOSSES[self.loss]()

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
        ):
            raise ValueError(
                "quantiles must be increasing numbers strictly between 0 and 1, e.g. "
                f"(0.1, 0.5, 0.9); got {self.quantiles!r}."
            )
        self.quantiles_ = quantiles.astype(np.float64)

    def _encode_targets(self, y: Any, *, reset: bool, classes: Any = None) -> torch.Tensor:
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y", estimator=self)
        y2d = y.reshape(len(y), -1)
        if reset:
            self._check_quantiles()
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
        if self.loss == "quantile":
            quantiles = self._quantile_forecasts(X)
            out = quantiles[:, :, np.argmin(np.abs(self.quantiles_ - 0.5))]
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
        if self.loss != "quantile":
            raise ValueError(
                f"predict_quantiles needs a model fitted with loss='quantile' (loss={self.loss!r})."
            )
        quantiles = self._quantile_forecasts(X)
        return quantiles[:, 0] if self.n_outputs_ == 1 else quantiles

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
        self._check_known_labels(y)
        return torch.from_numpy(np.searchsorted(self.classes_, y).astype(np.int64))

    def _check_known_labels(self, y: np.ndarray) -> None:
        unseen = np.setdiff1d(y, self.classes_)
        if len(unseen):
            raise ValueError(
                f"y contains labels not seen in the classes of {type(self).__name__}: "
                f"{unseen.tolist()!r}; known classes are {self.classes_.tolist()!r}."
            )

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy on ``X`` and ``y``.

        Unlike a plain accuracy, labels never seen in ``fit`` raise an error instead of
        silently counting as mistakes: they usually mean mislabelled or misaligned data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or (n_samples, n_timesteps)
            Input sequences.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Accuracy of ``self.predict(X)``.
        """
        check_is_fitted(self)
        self._check_known_labels(column_or_1d(y))
        return super().score(X, y, sample_weight=sample_weight)

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
