"""History before the first row: what the transformers that read back in time carry over.

:class:`SlidingWindowTransformer`, :class:`PanelWindowTransformer` (per series) and
:class:`ReturnsTransformer` read rows before each row. Each keeps a :class:`_History` of the
last fitted rows and decides with it whether new rows continue the fitted ones.
:func:`predict_with_history` passes history explicitly, for rows that arrive without an index.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from ..exceptions import HistoryPaddingWarning


def check_time_index(index: pd.Index, name: str) -> None:
    """Raise a ValueError unless ``index`` is unique and increasing."""
    if not index.is_unique:
        duplicated = index[index.duplicated()][:3].tolist()
        raise ValueError(f"{name} has duplicated index labels, e.g. {duplicated}.")
    if not index.is_monotonic_increasing:
        raise ValueError(
            f"{name} must be sorted by its index in increasing (time) order; "
            f"call .sort_index() first."
        )


def split_time_index(X: Any) -> tuple[Any, pd.Index | None]:
    """``X`` (a Series becomes a one-column DataFrame) and its checked index, or ``None``."""
    if isinstance(X, pd.Series):
        X = X.to_frame()
    index = X.index if isinstance(X, pd.DataFrame) else None
    if index is not None:
        check_time_index(index, "X")
    return X, index


class _History:
    """The last ``reach`` fitted rows, the last index label and the largest step between labels.

    Parameters
    ----------
    rows : ndarray of shape (n_rows, n_features)
        The fitted rows; only the last ``reach`` are kept.
    index : Index or None
        Their index; ``None`` for NumPy input.
    reach : int
        How many rows before each row the transformer reads.
    owner : str
        The transformer's name, for the warning.
    """

    def __init__(self, rows: np.ndarray, index: pd.Index | None, reach: int, owner: str) -> None:
        self.rows = rows[max(len(rows) - reach, 0) :].copy()
        self.reach = reach
        self.owner = owner
        self.end, self.max_step = None, None
        if index is not None and len(index) > 0:
            try:
                steps = index[1:] - index[:-1]
                self.end = index[-1]
                self.max_step = steps.max() if len(steps) else None
            except TypeError:  # labels without arithmetic (e.g. strings)
                pass

    def rows_before(self, index: pd.Index | None) -> np.ndarray:
        """The fitted rows if rows labelled ``index`` continue them, else no row.

        Rows continue the fitted ones when their first label is later than the last fitted
        label by at most the largest fitted step. Warns (:class:`HistoryPaddingWarning`)
        when history is available but rows arrive without a comparable index.
        """
        none = self.rows[:0]
        if len(self.rows) == 0 or self.end is None or (index is not None and len(index) == 0):
            return none
        if index is not None:
            try:
                continued = self.max_step is not None and bool(
                    self.end < index[0] <= self.end + self.max_step
                )
            except TypeError:  # an index of another kind (e.g. tz-naive vs tz-aware)
                pass
            else:
                return self.rows if continued else none
        kind = "without an index" if index is None else f"with a {type(index).__name__}"
        warnings.warn(
            f"{self.owner} was fitted on indexed rows, but these rows arrive {kind}: the "
            f"{len(self.rows)} fitted row(s) of history cannot be matched and are replaced "
            "by padding. Keep the index (pass DataFrames; "
            "pipeline.set_output(transform='pandas')) or pass the history explicitly with "
            "tsforecast.preprocessing.predict_with_history.",
            HistoryPaddingWarning,
            stacklevel=3,
        )
        return none


def history_length(estimator: Any) -> int:
    """How many rows before its input a fitted estimator or pipeline reads back in time.

    The sum over a Pipeline's steps of the rows each step reads before each row (e.g.
    ``window - 1`` for :class:`~tsforecast.preprocessing.SlidingWindowTransformer`, 1 for
    :class:`~tsforecast.preprocessing.ReturnsTransformer`), looking inside
    :class:`~tsforecast.compose.RelativeTargetRegressor`; 0 for estimators without history.

    Parameters
    ----------
    estimator : estimator
        A fitted estimator, transformer or Pipeline.

    Returns
    -------
    n_rows : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from tsforecast.preprocessing import (
    ...     ReturnsTransformer, SlidingWindowTransformer, history_length)
    >>> pipe = make_pipeline(ReturnsTransformer(), SlidingWindowTransformer(window=5))
    >>> history_length(pipe.fit(np.arange(1.0, 11.0).reshape(-1, 1)))
    5
    """
    if isinstance(estimator, Pipeline):
        return sum(history_length(step) for _, step in estimator.steps)
    if hasattr(estimator, "regressor_"):
        return history_length(estimator.regressor_)
    context = getattr(estimator, "context_", None)
    if isinstance(context, _History):
        return context.reach
    if isinstance(context, dict):
        return max((h.reach for h in context.values()), default=0)
    return 0


def predict_with_history(
    estimator: BaseEstimator, history: Any, X: Any, *, method: str = "predict"
) -> Any:
    """Call ``estimator.<method>`` on ``X`` with ``history`` as the rows before it.

    For rows that arrive without their time index (a served model's request, a NumPy array),
    the transformers cannot tell whether they continue the fitted data and pad the missing
    history. Pass the rows just before ``X`` instead: they are put before ``X``, the call runs
    on both, and only the outputs for ``X`` are returned, exactly the outputs ``X`` gets when
    its index continues the fitted data or when it is the tail of a longer call.

    Parameters
    ----------
    estimator : estimator
        A fitted estimator, transformer or Pipeline.
    history : DataFrame or array-like of shape (n_history, n_features)
        The rows just before ``X``, oldest first; at least
        :func:`history_length(estimator) <history_length>` of them.
    X : DataFrame or array-like of shape (n_samples, n_features)
        The rows to forecast or transform, in the same columns as ``history``.
    method : str, default="predict"
        The method to call, e.g. ``"predict"``, ``"predict_quantiles"`` or ``"transform"``.

    Returns
    -------
    output : ndarray
        ``estimator.<method>`` of the rows of ``X`` only.

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast.preprocessing import SlidingWindowTransformer, predict_with_history
    >>> windows = SlidingWindowTransformer(window=3).fit(np.arange(5.0).reshape(-1, 1))
    >>> predict_with_history(windows, [[3.0], [4.0]], [[5.0]], method="transform")[:, :, 0]
    array([[3., 4., 5.]])
    """
    needed = history_length(estimator)
    if len(history) < needed:
        raise ValueError(
            f"history has {len(history)} row(s); {type(estimator).__name__} reads {needed} "
            "row(s) before each row."
        )
    if isinstance(history, pd.DataFrame) and isinstance(X, pd.DataFrame):
        if list(history.columns) != list(X.columns):
            raise ValueError(
                f"history has columns {history.columns.tolist()!r}, X has "
                f"{X.columns.tolist()!r}: give both the same columns in the same order."
            )
        rows = pd.concat([history, X], ignore_index=True)
    else:
        history, X = np.asarray(history), np.asarray(X)
        if history.shape[1:] != X.shape[1:]:
            raise ValueError(
                f"history has rows of shape {history.shape[1:]}, X {X.shape[1:]}: give both "
                "the same columns."
            )
        rows = np.concatenate([history, X])
    with warnings.catch_warnings():
        # The padding lands on the history rows, whose outputs are dropped.
        warnings.simplefilter("ignore", HistoryPaddingWarning)
        output = getattr(estimator, method)(rows)
    return output[len(history) :]
