"""Chronological cross-validation splits with an embargo for multi-step targets."""

from __future__ import annotations

from collections.abc import Iterator
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.model_selection import BaseCrossValidator, TimeSeriesSplit


class WalkForwardSplit(BaseCrossValidator):
    """Chronological train/test splits that leave out the samples whose targets overlap a test.

    scikit-learn's :class:`~sklearn.model_selection.TimeSeriesSplit` with the embargo a
    forecast needs: a sample at time ``t`` with a target ``horizon`` steps ahead is only
    known at ``t + horizon``, so the last ``horizon - 1`` samples before each test period are
    dropped from training, plus ``gap`` more. Usable as ``cv=`` anywhere scikit-learn takes a
    splitter (``GridSearchCV``, ``OptunaSearchCV``, :func:`backtest`).

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds.
    horizon : int, default=1
        The largest forecast horizon of the targets (steps ahead).
    gap : int, default=0
        Further samples to leave out between each training set and its test set.
    test_size : int, default=None
        Samples per test set (refit every ``test_size`` steps in a backtest); default
        ``n_samples // (n_splits + 1)``.
    max_train_size : int, default=None
        Keep only the most recent ``max_train_size`` training samples: a rolling window.
        ``None`` trains on all the past: an expanding window.

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast.model_selection import WalkForwardSplit
    >>> for train, test in WalkForwardSplit(n_splits=2, horizon=3, test_size=2).split(
    ...     np.zeros(10)
    ... ):
    ...     print(train, test)
    [0 1 2 3] [6 7]
    [0 1 2 3 4 5] [8 9]
    """

    def __init__(
        self,
        n_splits: int = 5,
        *,
        horizon: int = 1,
        gap: int = 0,
        test_size: int | None = None,
        max_train_size: int | None = None,
    ) -> None:
        self.n_splits = n_splits
        self.horizon = horizon
        self.gap = gap
        self.test_size = test_size
        self.max_train_size = max_train_size

    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Generate ``(train, test)`` index arrays, oldest fold first.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Time-ordered samples (only their number is used).
        y, groups : None
            Ignored.

        Yields
        ------
        train, test : ndarray
            Positions of the training and test samples of each fold.
        """
        if not isinstance(self.horizon, Integral) or self.horizon < 1:
            raise ValueError(f"horizon must be a positive int; got {self.horizon!r}.")
        if not isinstance(self.gap, Integral) or self.gap < 0:
            raise ValueError(f"gap must be a non-negative int; got {self.gap!r}.")
        splitter = TimeSeriesSplit(
            n_splits=self.n_splits,
            max_train_size=self.max_train_size,
            test_size=self.test_size,
            gap=self.gap + self.horizon - 1,
        )
        return splitter.split(X, y, groups)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of folds.

        Parameters
        ----------
        X, y, groups : None
            Ignored.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits
