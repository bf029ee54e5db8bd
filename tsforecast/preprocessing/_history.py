"""History before the first row: what the transformers that read back in time carry over.

:class:`SlidingWindowTransformer`, :class:`PanelWindowTransformer` (per series) and
:class:`ReturnsTransformer` read rows before each row. Each keeps a :class:`_History` of the
last fitted rows and decides with it whether new rows continue the fitted ones.
:func:`predict_with_history` passes history explicitly, for rows that arrive without an index.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from ..exceptions import HistoryPaddingWarning

# Set by callers that know the padding lands on rows whose output they drop (a context
# variable: warnings.catch_warnings changes process-wide filters, which threads race on).
_PADDING_EXPECTED: ContextVar[bool] = ContextVar("tsforecast_padding_expected", default=False)


@contextmanager
def padding_expected() -> Iterator[None]:
    """No :class:`HistoryPaddingWarning` inside the block, in this thread or task only: the
    caller drops the outputs of the padded rows."""
    token = _PADDING_EXPECTED.set(True)
    try:
        yield
    finally:
        _PADDING_EXPECTED.reset(token)


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


def _index_keys(index: pd.Index) -> tuple[str, np.ndarray | None]:
    """The kind of ``index`` and its labels as numbers that keep their order and spacing.

    Datetimes (UTC nanoseconds; the time zone is part of the kind), timedeltas, periods
    (ordinals; the frequency is part of the kind) and numbers have such keys; other labels
    (strings, categories) have none: ``(kind, None)``.
    """
    if isinstance(index, pd.DatetimeIndex):
        return "datetimes" + (f" in {index.tz}" if index.tz else ""), index.as_unit("ns").asi8
    if isinstance(index, pd.TimedeltaIndex):
        return "timedeltas", index.as_unit("ns").asi8
    if isinstance(index, pd.PeriodIndex):
        return f"periods of {index.freqstr}", index.asi8
    if is_numeric_dtype(index.dtype) and not is_bool_dtype(index.dtype):
        return "numbers", index.to_numpy(dtype=np.float64)
    return f"labels of dtype {index.dtype}", None


class _History:
    """The last fitted rows and where the fitted rows lie in time.

    Keeps the last ``2 * reach`` fitted rows with their index labels as numbers, so that rows
    continuing the fitted ones, and rows that begin among the last ``reach + 1`` fitted rows
    (e.g. ``predict(X_train.iloc[[-1]])``), read their real history. Only plain values are
    kept (NumPy arrays, numbers, strings): :func:`tsforecast.save_model` and the MLflow
    flavour store a fitted transformer like any other.

    Parameters
    ----------
    rows : ndarray of shape (n_rows, n_features)
        The fitted rows.
    index : Index or None
        Their index; ``None`` for NumPy input.
    reach : int
        How many rows before each row the transformer reads.
    owner : str
        The transformer's name, for the warning.
    """

    _storable = True  # plain values only: tsforecast.save_model may store it

    def __init__(self, rows: np.ndarray, index: pd.Index | None, reach: int, owner: str) -> None:
        self.reach = reach
        self.owner = owner
        self.head = rows[:1].copy()
        self.rows = rows[:0].copy()
        self.kind: str | None = None
        self.keys: np.ndarray | None = None
        self.start = self.max_step = None
        if index is not None and len(index) > 0:
            self.kind, keys = _index_keys(index)
            if keys is not None:
                self.start = keys[0].item()
                self.max_step = np.diff(keys).max().item() if len(keys) > 1 else None
                self.keys = keys[:0]
        self._append(rows, keys if self.keys is not None else None)

    def _append(self, rows: np.ndarray, keys: np.ndarray | None) -> None:
        """Keep the last ``2 * reach`` rows of the kept rows followed by ``rows``."""
        keep = max(len(self.rows) + len(rows) - 2 * self.reach, 0)
        self.rows = np.concatenate([self.rows, rows.astype(self.rows.dtype)])[keep:]
        if keys is not None:
            self.keys = np.concatenate([self.keys, keys])[keep:]

    def extended(self, values: np.ndarray, index: pd.Index | None) -> _History:
        """This history followed by ``values`` (labelled ``index``), rows that continue it."""
        new = copy.copy(self)
        kind, keys = _index_keys(index) if index is not None else (None, None)
        if self.keys is None or keys is None or kind != self.kind or not len(self.keys):
            new.kind, new.keys = None, None  # where the rows lie is no longer known
        else:
            steps = np.diff(np.concatenate([self.keys[-1:], keys]))
            new.max_step = max([steps.max().item(), *([self.max_step] if self.max_step else [])])
        new._append(values, None if new.keys is None else keys)
        return new

    def rows_before(self, values: np.ndarray, index: pd.Index | None) -> np.ndarray:
        """The ``reach`` fitted rows before ``values`` (labelled ``index``), or no row.

        Rows whose first label is later than the last fitted label by at most the largest
        fitted step continue the fitted rows; rows whose first label is one of the last
        ``reach + 1`` fitted labels (but the first ``reach``) read the rows before it. Rows
        that begin where the fitted rows begin (the same first label, or the same first row
        when there is no comparable index) or earlier need no history. Any other rows are
        padded with a :class:`HistoryPaddingWarning`: they begin after a gap, earlier inside
        the fitted rows, or without an index that tells where they begin.
        """
        none = self.rows[:0]
        if self.reach == 0 or len(self.rows) == 0 or len(values) == 0:
            return none
        kind, keys = _index_keys(index) if index is not None else (None, None)
        if keys is not None and self.keys is not None and kind == self.kind:
            first, end = keys[0].item(), self.keys[-1].item()
            if end < first and self.max_step is not None and first <= end + self.max_step:
                return self.rows[max(len(self.rows) - self.reach, 0) :]
            if first <= self.start:
                return none
            position = int(np.searchsorted(self.keys, first))
            if first <= end and self.keys[position] == first and position >= self.reach:
                return self.rows[position - self.reach : position]
            where = (
                f"begin inside the fitted rows, before the last {self.reach + 1}"
                if first <= end
                else "begin after a gap larger than any step between the fitted rows"
            )
        elif np.array_equal(values[:1], self.head):
            return none  # the fitted rows' own start: nothing comes before it
        elif index is None:
            where = "arrive without an index"
        elif self.kind is None:
            where = "arrive with an index, but the transformer was fitted without one"
        elif keys is None:
            where = f"have a {type(index).__name__} of {kind}, which cannot tell where they begin"
        else:
            where = f"have a {type(index).__name__} of {kind}, but the fitted rows had {self.kind}"
        if not _PADDING_EXPECTED.get():
            warnings.warn(
                f"{self.owner}: these rows {where}, so they cannot be matched to the fitted "
                f"rows, and the {self.reach} row(s) of history before them are replaced by "
                "padding. Keep the index (pass DataFrames that continue the fitted rows; "
                "pipeline.set_output(transform='pandas')) or pass the rows before them with "
                "tsforecast.preprocessing.predict_with_history.",
                HistoryPaddingWarning,
                stacklevel=3,
            )
        return none


def _inner_estimators(estimator: Any) -> list[Any]:
    """The fitted estimators a meta-estimator forecasts with: a Pipeline's steps, and the
    public fitted attributes that are estimators (``regressor_``, ``estimator_``,
    ``best_estimator_``, ...)."""
    if isinstance(estimator, Pipeline):
        return [step for _, step in estimator.steps if step not in (None, "passthrough")]
    return [
        value
        for name, value in vars(estimator).items()
        if name.endswith("_") and not name.startswith("_") and isinstance(value, BaseEstimator)
    ]


def history_length(estimator: Any) -> int:
    """How many rows before its input a fitted estimator or pipeline reads back in time.

    The sum over a Pipeline's steps of the rows each step reads before each row (e.g.
    ``window - 1`` for :class:`~tsforecast.preprocessing.SlidingWindowTransformer`, 1 for
    :class:`~tsforecast.preprocessing.ReturnsTransformer`); for a meta-estimator, the most
    that any of its fitted estimators reads (the ``regressor_`` of
    :class:`~tsforecast.compose.RelativeTargetRegressor`, the ``estimator_`` of
    :class:`~tsforecast.compose.AdaptiveConformalRegressor`, the ``best_estimator_`` of a
    search, ...); 0 for estimators without history.

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
    context = getattr(estimator, "context_", None)
    if isinstance(context, _History):
        return context.reach
    if isinstance(context, dict):
        return max((h.reach for h in context.values()), default=0)
    lengths = [history_length(inner) for inner in _inner_estimators(estimator)]
    if isinstance(estimator, Pipeline):
        return sum(lengths)
    return max(lengths, default=0)


def _method(estimator: Any, method: str) -> Any:
    """``estimator.<method>``; for a Pipeline without it, its steps' transforms followed by
    the final step's ``<method>`` (e.g. ``predict_quantiles``)."""
    if hasattr(estimator, method):
        return getattr(estimator, method)
    if isinstance(estimator, Pipeline) and hasattr(estimator[-1], method):
        return lambda rows: getattr(estimator[-1], method)(estimator[:-1].transform(rows))
    raise ValueError(
        f"method={method!r} is not a method of {type(estimator).__name__}"
        + (
            f" nor of its final step {type(estimator[-1]).__name__}"
            if isinstance(estimator, Pipeline)
            else ""
        )
        + "."
    )


def call_with_history(estimator: Any, history: Any, X: Any, method: str) -> Any:
    """``estimator.<method>`` of ``history`` then ``X``, the outputs for ``X`` only.

    The rows are passed without their index, so the transformers pad before ``history``, which
    is long enough (:func:`history_length`) for the padding never to reach ``X``: the
    :class:`HistoryPaddingWarning` about it is silenced.
    """
    call = _method(estimator, method)
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
    with padding_expected():
        output = call(rows)
    return output[len(history) :]


def extend_history(estimator: Any, history: Any, X: Any) -> None:
    """Make the fitted ``estimator``'s history end with ``X``, rows that continue its fitted
    rows (``history``: the rows just before ``X``, as in :func:`call_with_history`).

    Afterwards, rows that continue ``X`` read ``X``'s last rows as their history, as if the
    estimator's transformers had been fitted up to the end of ``X``. The per-series history
    of a :class:`~tsforecast.preprocessing.PanelWindowTransformer` is left as it is.
    """
    index = X.index if isinstance(X, pd.DataFrame | pd.Series) else None
    if isinstance(estimator, Pipeline):
        for i, (_, step) in enumerate(estimator.steps):
            if isinstance(getattr(step, "context_", None), _History):
                inputs = X if i == 0 else call_with_history(estimator[:i], history, X, "transform")
                step.context_ = step.context_.extended(np.asarray(inputs), index)
        return
    if isinstance(getattr(estimator, "context_", None), _History):
        estimator.context_ = estimator.context_.extended(np.asarray(X), index)
    for inner in _inner_estimators(estimator):
        extend_history(inner, history, X)


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
        A fitted estimator, transformer, Pipeline or meta-estimator (conformal, search).
    history : DataFrame or array-like of shape (n_history, n_features)
        The rows just before ``X``, oldest first; at least
        :func:`history_length(estimator) <history_length>` of them.
    X : DataFrame or array-like of shape (n_samples, n_features)
        The rows to forecast or transform, in the same columns as ``history``.
    method : str, default="predict"
        The method to call, e.g. ``"predict"``, ``"predict_quantiles"`` or ``"transform"``;
        for a Pipeline, also a method of its final step only (``"predict_quantiles"`` of an
        :class:`~tsforecast.LSTMRegressor`).

    Returns
    -------
    output : ndarray
        ``estimator.<method>`` of the rows of ``X`` only.

    Raises
    ------
    ValueError
        If ``history`` has fewer rows than the estimator reads, or other columns than ``X``,
        or ``method`` is not a method of the estimator (nor of a Pipeline's final step).

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast.preprocessing import SlidingWindowTransformer, predict_with_history
    >>> windows = SlidingWindowTransformer(window=3).fit(np.arange(5.0).reshape(-1, 1))
    >>> predict_with_history(windows, [[3.0], [4.0]], [[5.0]], method="transform")[:, :, 0]
    array([[3., 4., 5.]])
    """
    _method(estimator, method)
    needed = history_length(estimator)
    if len(history) < needed:
        raise ValueError(
            f"history has {len(history)} row(s); {type(estimator).__name__} reads {needed} "
            "row(s) before each row."
        )
    return call_with_history(estimator, history, X, method)
