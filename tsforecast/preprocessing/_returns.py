"""Price levels made scale-free: returns as inputs.

A network trained on prices between 1,000 and 2,000 cannot forecast prices near 3,000: its
saturating gates never saw such inputs. Returns look the same at any price level.
:class:`ReturnsTransformer` turns price (and volume) columns into per-step changes; its
companion :class:`~tsforecast.compose.RelativeTargetRegressor` does the same for the target.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .._utils.returns import RETURN_KINDS as _RETURN_KINDS
from .._utils.returns import check_positive as _check_positive
from .._utils.returns import relative as _relative
from .._utils.sklearn_compat import StrOptions, _fit_context
from ._history import _History, split_time_index
from ._transaction import unchanged_on_error


class ReturnsTransformer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Replace each row by its change from the previous row: log returns by default.

    The first row has no previous row: when ``transform`` gets pandas data that directly
    continues the data seen in ``fit`` (same rule as
    :class:`~tsforecast.preprocessing.SlidingWindowTransformer`, including its
    :class:`~tsforecast.exceptions.HistoryPaddingWarning` whenever a previous row exists
    but cannot be matched), the last fitted row is its previous row; otherwise its change is
    0. The row count is kept, so ``y`` stays aligned in a Pipeline.

    Parameters
    ----------
    kind : {"log", "simple", "difference", "log1p"} or dict, default="log"
        ``log(x_t / x_{t-1})``, ``x_t / x_{t-1} - 1``, ``x_t - x_{t-1}`` or
        ``log(1 + x_t) - log(1 + x_{t-1})``. ``"log"`` and ``"simple"`` need positive values
        (prices); ``"log1p"`` needs non-negative ones (volumes, counts that can be zero). A
        value that breaks its kind's rule is a ValueError, in ``fit`` and in ``transform``. A
        dict maps columns (names for DataFrames, positions for arrays) to kinds, e.g.
        ``{"Volume": "log1p"}``; the other columns get ``"log"``.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, for DataFrame input.
    kinds_ : ndarray of shape (`n_features_in_`,)
        The kind of change of each column.
    context_ : object
        The last fitted rows with their index labels, the previous row of data that
        continues the fitted data.

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast.preprocessing import ReturnsTransformer
    >>> ReturnsTransformer(kind="simple").fit_transform(np.array([[100.0], [110.0], [99.0]]))
    array([[ 0. ],
           [ 0.1],
           [-0.1]])
    >>> volumes = np.array([[100.0, 0.0], [110.0, 9.0]])
    >>> ReturnsTransformer(kind={1: "log1p"}).fit_transform(volumes).round(4)
    array([[0.    , 0.    ],
           [0.0953, 2.3026]])
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "kind": [StrOptions(_RETURN_KINDS), dict]
    }

    def __init__(self, kind: str | dict[Hashable, str] = "log") -> None:
        self.kind = kind

    def _kinds(self, n_features: int) -> np.ndarray:
        """The kind of each column, from ``kind`` (a str or a column -> kind dict)."""
        if isinstance(self.kind, str):
            return np.full(n_features, self.kind, dtype=object)
        names = getattr(self, "feature_names_in_", None)
        columns = list(range(n_features)) if names is None else names.tolist()
        kinds = np.full(n_features, "log", dtype=object)
        for column, kind in self.kind.items():
            if column not in columns:
                raise ValueError(
                    f"kind names column {column!r}, which is not a column of X: {columns!r}."
                )
            if kind not in _RETURN_KINDS:
                raise ValueError(
                    f"kind[{column!r}] must be one of {sorted(_RETURN_KINDS)}; got {kind!r}."
                )
            kinds[columns.index(column)] = kind
        return kinds

    def _validate(self, X: Any, *, reset: bool) -> tuple[np.ndarray, pd.Index | None]:
        X, index = split_time_index(X)
        values = validate_data(self, X, reset=reset, dtype=np.float64)
        kinds = self._kinds(values.shape[1]) if reset else self.kinds_
        for kind in set(kinds):
            _check_positive(values[:, kinds == kind], kind, "X")
        if reset:
            self.kinds_ = kinds
        return values, index

    @_fit_context(prefer_skip_nested_validation=True)
    @unchanged_on_error
    def fit(self, X: Any, y: Any = None) -> ReturnsTransformer:
        """Remember the last row, the previous row of data that continues ``X``.

        Parameters
        ----------
        X : array-like of shape (n_steps, n_features)
            Time-ordered rows, oldest first.
        y : None
            Ignored.

        Returns
        -------
        self : ReturnsTransformer
            The fitted transformer.
        """
        values, index = self._validate(X, reset=True)
        self.context_ = _History(values, index, 1, type(self).__name__)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Each row's change from the previous row.

        Parameters
        ----------
        X : array-like of shape (n_steps, n_features)
            Time-ordered rows, oldest first.

        Returns
        -------
        changes : ndarray of shape (n_steps, n_features)
        """
        check_is_fitted(self)
        values, index = self._validate(X, reset=False)
        before = self.context_.rows_before(values, index)
        previous = np.vstack([before if len(before) else values[:1], values[:-1]])
        changes = np.empty_like(values)
        for kind in set(self.kinds_):
            columns = self.kinds_ == kind
            changes[:, columns] = _relative(values[:, columns], previous[:, columns], kind)
        return changes
