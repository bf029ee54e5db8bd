"""Windows over a panel of several series in long format, for one global model."""

from __future__ import annotations

from collections.abc import Hashable
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from .._data.lazy import WindowArray, panel_windows
from .._utils.sklearn_compat import Interval, StrOptions, _fit_context
from ._history import _History, check_time_index
from ._transaction import unchanged_on_error


class PanelWindowTransformer(TransformerMixin, BaseEstimator):
    """Windows over each series of a long-format panel; no window crosses two series.

    The input holds several series stacked (e.g. from
    ``make_supervised(long_data, target, group="currency")``): a ``group`` column names each
    row's series and the other columns are its features. Row ``i`` of the output holds the
    ``window`` rows of row ``i``'s own series ending at row ``i``, so one
    :class:`~tsforecast.LSTMRegressor` after it learns a global model from all series and
    predicts each row of each series. The row order and count are kept (``y`` stays aligned).
    The output is a dense array (the series' windows cannot share one strided buffer).

    History before a series' first row follows :class:`~tsforecast.SlidingWindowTransformer`'s
    rule, per series: rows continuing the rows of the same series seen in ``fit`` read their
    real past; otherwise the missing history is padded. ``transform`` accepts only the series
    seen in ``fit``.

    Parameters
    ----------
    group : hashable
        The column naming each row's series; it is not a feature.
    window : int, default=30
        Time steps per window.
    padding : {"edge", "zero"}, default="edge"
        Fill for missing history: the series' earliest available row, or zeros.

    Attributes
    ----------
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        The input's columns, ``group`` included.
    n_features_in_ : int
        Number of input columns, ``group`` included.
    features_ : list
        The feature columns, in output order.
    series_ : list
        The series seen in ``fit``.
    context_ : dict
        Per series: its last ``window - 1`` fitted rows with the end of their index, the
        history of data that continues the series.

    Examples
    --------
    >>> import pandas as pd
    >>> from tsforecast.preprocessing import PanelWindowTransformer
    >>> X = pd.DataFrame({"id": ["a", "a", "b", "b"], "x": [1.0, 2.0, 10.0, 20.0]})
    >>> PanelWindowTransformer(group="id", window=2).fit_transform(X)[:, :, 0]
    array([[ 1.,  1.],
           [ 1.,  2.],
           [10., 10.],
           [10., 20.]], dtype=float32)
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "group": [Hashable],
        "window": [Interval(Integral, 1, None, closed="left")],
        "padding": [StrOptions({"edge", "zero"})],
    }

    def __init__(self, group: Hashable, window: int = 30, padding: str = "edge") -> None:
        self.group = group
        self.window = window
        self.padding = padding

    def _split(self, X: Any, *, reset: bool) -> tuple[pd.Series, np.ndarray]:
        """The group key of each row and the float feature values."""
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"{type(self).__name__} needs a DataFrame with the group column "
                f"{self.group!r}; got {type(X).__name__}."
            )
        if self.group not in X.columns:
            raise ValueError(f"group {self.group!r} is not a column of X: {X.columns.tolist()!r}.")
        if reset:
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
            self.n_features_in_ = X.shape[1]
            self.features_ = [c for c in X.columns if c != self.group]
        elif list(X.columns) != list(self.feature_names_in_):
            raise ValueError(
                f"X has columns {X.columns.tolist()!r}; {type(self).__name__} was fitted on "
                f"{self.feature_names_in_.tolist()!r}."
            )
        if not self.features_:
            raise ValueError(f"X has no feature column besides the group column {self.group!r}.")
        keys = X[self.group]
        if keys.isna().any():
            raise ValueError(
                f"The group column {self.group!r} has missing keys (first at index label "
                f"{X.index[keys.isna().to_numpy()][0]!r}); every row must name its series."
            )
        values = check_array(X[self.features_], dtype=np.float64, input_name="X", estimator=self)
        return keys, values

    @_fit_context(prefer_skip_nested_validation=True)
    @unchanged_on_error
    def fit(self, X: pd.DataFrame, y: Any = None) -> PanelWindowTransformer:
        """Remember the last rows of each series as history for data that continues it.

        Parameters
        ----------
        X : DataFrame of shape (n_rows, n_columns)
            The panel in long format, each series sorted by the index.
        y : None
            Ignored.

        Returns
        -------
        self : PanelWindowTransformer
            The fitted transformer.
        """
        keys, values = self._split(X, reset=True)
        self.context_ = {}
        codes, series = pd.factorize(keys)
        for key, positions in zip(series, self._positions(codes, len(series)), strict=True):
            index = X.index[positions]
            check_time_index(index, f"series {key!r} of X")
            self.context_[key] = _History(
                values[positions], index, self.window - 1, type(self).__name__
            )
        self.series_ = list(self.context_)
        return self

    @staticmethod
    def _positions(codes: np.ndarray, n_series: int) -> list[np.ndarray]:
        """Row positions of each series code, in order (one pass)."""
        order = np.argsort(codes, kind="stable")
        return np.split(order, np.cumsum(np.bincount(codes, minlength=n_series))[:-1])

    def transform(self, X: pd.DataFrame) -> WindowArray:
        """The window of each row, within the row's own series.

        Parameters
        ----------
        X : DataFrame of shape (n_rows, n_columns)
            The panel in long format, each series sorted by the index.

        Returns
        -------
        windows : WindowArray of shape (n_rows, window, n_features)
            Lazy, read-only float32 windows (one copy of the rows plus ``window - 1`` rows
            per series, never one copy per window); ``windows[i, -1]`` holds the features
            of row ``i``. ``np.asarray(windows)`` materialises them; the LSTM estimators
            keep them lazy.
        """
        check_is_fitted(self)
        keys, values = self._split(X, reset=False)
        codes, series = pd.factorize(keys)
        unseen = [key for key in series if key not in self.context_]
        if unseen:
            raise ValueError(
                f"X holds series {unseen[:3]!r} of the group column {self.group!r} not seen in "
                f"fit; {type(self).__name__} was fitted on {self.series_[:5]!r}."
            )
        history = []
        for key, positions in zip(series, self._positions(codes, len(series)), strict=True):
            index = X.index[positions]
            check_time_index(index, f"series {key!r} of X")
            history.append(self.context_[key].rows_before(values[positions], index))
        return panel_windows(values, codes, self.window, self.padding, history)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        return tags
