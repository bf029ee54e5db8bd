"""The LSTM classifier: labels of any type, cross-entropy loss."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import assert_all_finite
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d
from torch import nn

from .._utils.sklearn_compat import _fit_context
from ._base import _BaseLSTM
from ._docstrings import _INPUT_DOC, _SHARED_ATTRIBUTES_DOC, _SHARED_PARAMETERS_DOC


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
        elif y.dtype.kind == "O" and pd.isna(y).any():
            raise ValueError(
                "Input y contains missing labels (None, NaN or pd.NA): drop those samples or "
                "give them a label before fitting."
            )
        check_classification_targets(y)
        if reset:
            encoder = LabelEncoder().fit(y if classes is None else classes)
            if len(encoder.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                    f"but the data contains only one class: {encoder.classes_[0]!r}."
                )
            self.classes_ = encoder.classes_
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={list(classes)!r} is not the same as on the first call to "
                f"partial_fit, was: {self.classes_.tolist()!r}."
            )
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
        return self._fit(X, y, epochs=self.max_epochs, incremental=False)

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
        return self._fit(X, y, epochs=epochs, incremental=True, classes=classes)

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
