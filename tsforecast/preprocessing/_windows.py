"""Turn time-ordered pandas data into supervised pairs and LSTM windows, with no look-ahead."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .._data.lazy import WindowArray
from .._utils.frames import check_numeric_columns
from .._utils.sklearn_compat import Interval, StrOptions, _fit_context
from ._history import _History, check_time_index, split_time_index
from ._transaction import unchanged_on_error

_FLOAT_DTYPES = (np.float64, np.float32)


def padded_windows(rows: np.ndarray, history: np.ndarray, window: int, padding: str) -> np.ndarray:
    """Read-only windows ``(len(rows), window, n_features)`` ending at each of ``rows``.

    ``history`` (rows before the first, possibly empty) comes first; what is still missing
    is padded: ``"edge"`` repeats the earliest available row, ``"zero"`` uses zeros.
    """
    base = _padded_base(rows, history, window, padding)
    return sliding_window_view(base, window, axis=0).transpose(0, 2, 1)


def lazy_padded_windows(
    rows: np.ndarray, history: np.ndarray, window: int, padding: str
) -> WindowArray:
    """The windows of :func:`padded_windows` as a lazy ``WindowArray``.

    The padding takes no memory (the array's ``lead`` rows), so without ``history`` the
    base is ``rows`` itself, not a copy; an estimator can tell the padding from the data.
    """
    base = np.concatenate([history, rows]) if len(history) else rows
    return WindowArray(base, np.arange(len(rows)), window, window - 1 - len(history), padding)


def _padded_base(rows: np.ndarray, history: np.ndarray, window: int, padding: str) -> np.ndarray:
    """``history`` then ``rows``, preceded by padding up to ``window - 1`` rows of history."""
    n_pad = window - 1 - len(history)
    if padding == "edge":
        pad = np.repeat((history if len(history) else rows)[:1], n_pad, axis=0)
    else:
        pad = np.zeros((n_pad, rows.shape[1]), dtype=rows.dtype)
    return np.concatenate([pad, history, rows]).astype(rows.dtype, copy=False)


def make_supervised(
    data: pd.DataFrame | pd.Series,
    target: Hashable | None = None,
    horizon: int | Sequence[int] = 1,
    *,
    group: Hashable | None = None,
) -> tuple[pd.DataFrame, pd.Series | pd.DataFrame]:
    """Pair the features at time ``t`` with the target at time ``t + horizon``.

    Parameters
    ----------
    data : DataFrame or Series
        Time-ordered observations, one row per time step (sorted, unique index).
    target : hashable, default=None
        Column of ``data`` to forecast; may be omitted for a Series or a one-column DataFrame.
    horizon : int or sequence of int, default=1
        Steps ahead. A sequence (e.g. ``range(1, 6)``) gives one target column per horizon, for
        a multi-output (direct multi-step) model.
    group : hashable, default=None
        Column identifying the series of a panel in long format (several series stacked,
        e.g. one per currency). Targets are then taken within each series, never across
        two, and each series must be sorted by the index; the column stays in ``X``.

    Returns
    -------
    X : DataFrame of shape (n_steps - max(horizon), n_features)
        ``data`` without the last rows, which have no future target. Every column, the target's
        own history included, is a feature at time ``t``.
    y : Series or DataFrame
        The target ``horizon`` steps after each row of ``X``, on the same index. A Series named
        ``"<target>(t+h)"`` for an int horizon, a DataFrame with one such column per horizon
        otherwise.

    Examples
    --------
    >>> import pandas as pd
    >>> from tsforecast import make_supervised
    >>> prices = pd.DataFrame({"close": [10.0, 11.0, 12.0, 13.0]})
    >>> X, y = make_supervised(prices, "close", horizon=1)
    >>> y.tolist()
    [11.0, 12.0, 13.0]
    >>> make_supervised(prices, "close", horizon=[1, 2])[1].columns.tolist()
    ['close(t+1)', 'close(t+2)']
    """
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame or Series; got {type(data).__name__}.")
    if target is None:
        if data.shape[1] != 1:
            raise ValueError(
                f"target must name one of the {data.shape[1]} columns of data: "
                f"{data.columns.tolist()!r}."
            )
        target = data.columns[0]
    if target not in data.columns:
        raise ValueError(f"target {target!r} is not a column of data: {data.columns.tolist()!r}.")
    if group is not None and (group not in data.columns or group == target):
        raise ValueError(
            f"group {group!r} must be a column of data other than the target: "
            f"{data.columns.tolist()!r}."
        )
    horizons = _check_horizons(horizon)
    max_h = max(horizons)
    if group is not None:
        return _make_panel_supervised(
            data, target, horizons, group, single=isinstance(horizon, Integral)
        )
    check_time_index(data.index, "data")
    if len(data) <= max_h:
        raise ValueError(
            f"data has {len(data)} rows; a horizon of {max_h} needs at least {max_h + 1}."
        )
    _check_no_missing(data)
    y = pd.concat({f"{target}(t+{h})": data[target].shift(-h) for h in horizons}, axis=1).iloc[
        : len(data) - max_h
    ]
    X = data.iloc[: len(data) - max_h]
    return X, (y.iloc[:, 0] if isinstance(horizon, Integral) else y)


def _check_horizons(horizon: Any) -> list[int]:
    """The horizons as a list of distinct positive ints, or a clear error."""
    try:
        horizons = [horizon] if isinstance(horizon, Integral | str) else list(horizon)
    except TypeError:  # not iterable: None, a float
        horizons = [horizon]
    if not all(isinstance(h, Integral) and not isinstance(h, bool) for h in horizons):
        raise TypeError(
            f"horizon must be an int or a sequence of ints (e.g. range(1, 6)); got {horizon!r}."
        )
    if not horizons or min(horizons) < 1:
        raise ValueError(
            f"horizon must be a positive int or a non-empty sequence of them; got {horizon!r}."
        )
    if len(set(horizons)) < len(horizons):
        raise ValueError(f"horizon has repeated steps: {horizon!r}; give each step once.")
    return [int(h) for h in horizons]


def _check_no_missing(data: pd.DataFrame) -> None:
    missing = data.isna().any()
    if missing.any():
        column = missing.index[missing.to_numpy()][0]
        first = data.index[data[column].isna().to_numpy()][0]
        raise ValueError(
            f"data contains missing values (column {column!r}, first at {first!r}); fill or "
            "drop them before making supervised pairs."
        )


def _make_panel_supervised(
    data: pd.DataFrame, target: Hashable, horizons: list[int], group: Hashable, *, single: bool
) -> tuple[pd.DataFrame, pd.Series | pd.DataFrame]:
    """make_supervised for a long-format panel: targets shifted within each series."""
    max_h = max(horizons)
    for key, rows in data.groupby(group, sort=False):
        check_time_index(rows.index, f"series {key!r} of data")
        if len(rows) <= max_h:
            raise ValueError(
                f"series {key!r} has {len(rows)} rows; a horizon of {max_h} needs at least "
                f"{max_h + 1}."
            )
    _check_no_missing(data)
    by_series = data.groupby(group, sort=False)[target]
    y = pd.concat({f"{target}(t+{h})": by_series.shift(-h) for h in horizons}, axis=1)
    keep = by_series.cumcount(ascending=False).to_numpy() >= max_h
    X, y = data[keep], y[keep]
    return X, (y.iloc[:, 0] if single else y)


class SlidingWindowTransformer(
    OneToOneFeatureMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None
):
    """Turn time-ordered rows into LSTM windows, one window per row, never looking ahead.

    Row ``i`` of the output holds input rows ``i - window + 1 .. i`` in time order, so the
    output keeps the input's row count and ``y`` stays aligned inside a
    :class:`~sklearn.pipeline.Pipeline`. The windows are a read-only strided view of one 2-D
    array: no window is copied, and :class:`~tsforecast.LSTMRegressor` /
    :class:`~tsforecast.LSTMClassifier` keep them lazy during training.

    **History before the first row.** When ``transform`` receives pandas data whose first index
    label directly follows the last label seen in ``fit`` (later than it, by no more than the
    largest step between consecutive fitted labels), the last ``window - 1`` fitted rows are
    used as the history of the first windows: a test period right after the training period
    sees its real past. Rows that begin at one of the last ``window`` fitted labels (e.g.
    ``predict(X_train.iloc[[-1]])``) read the fitted rows before them too. Rows that begin
    where the fitted rows begin, or earlier, have no history: it is filled according to
    ``padding``, from data at or before the window's own rows only. Any other rows are padded
    with a :class:`~tsforecast.exceptions.HistoryPaddingWarning`: rows without the index
    seen in ``fit`` (a NumPy array, e.g. from a scaler without ``set_output``, or a served
    model's request), rows after a gap, rows with an index of labels without order. Keep the
    index through a pipeline with ``pipeline.set_output(transform="pandas")``, or pass the
    rows before explicitly with :func:`~tsforecast.preprocessing.predict_with_history`.
    DatetimeIndex, PeriodIndex, TimedeltaIndex and numeric indexes all carry history.

    Parameters
    ----------
    window : int, default=30
        Time steps per window.
    padding : {"edge", "zero"}, default="edge"
        Fill for history that is missing before the first row: ``"edge"`` repeats the earliest
        available row, ``"zero"`` uses zeros (the mean, after standardization). For
        ``LSTMRegressor(standardize_inputs=True)`` use ``lazy=True``: lazy windows mark their
        padding, which the network then reads as the mean; an ndarray's zeros are data.
    lazy : bool, default=False
        Return a ``WindowArray`` (lazy windows: a 2-D base plus start rows, as
        :class:`~tsforecast.preprocessing.PanelWindowTransformer` returns) instead of an
        ndarray. With ``padding="edge"`` and no history carried over, its base
        is ``X``'s own memory, not a padded copy: ``make_pipeline(SlidingWindowTransformer(
        window, lazy=True), LSTMRegressor(standardize_inputs=True))`` trains on ``X`` with no
        copy of it, where a :class:`~sklearn.preprocessing.StandardScaler` step and the padded
        base each make one. ``np.asarray`` gives the same windows as ``lazy=False``.

    Attributes
    ----------
    n_features_in_ : int
        Number of features (columns).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, for DataFrame input.
    context_ : object
        The last ``2 * (window - 1)`` fitted rows with their index labels, the history of
        data that continues the fitted data.

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast import SlidingWindowTransformer
    >>> X = np.arange(5.0).reshape(-1, 1)
    >>> SlidingWindowTransformer(window=3).fit_transform(X)[:, :, 0]
    array([[0., 0., 0.],
           [0., 0., 1.],
           [0., 1., 2.],
           [1., 2., 3.],
           [2., 3., 4.]])
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "window": [Interval(Integral, 1, None, closed="left")],
        "padding": [StrOptions({"edge", "zero"})],
        "lazy": ["boolean"],
    }

    def __init__(self, window: int = 30, padding: str = "edge", lazy: bool = False) -> None:
        self.window = window
        self.padding = padding
        self.lazy = lazy

    def _validate(self, X: Any, *, reset: bool) -> tuple[np.ndarray, pd.Index | None]:
        X, index = split_time_index(X)
        check_numeric_columns(X)
        values = validate_data(self, X, reset=reset, dtype=_FLOAT_DTYPES)
        return values, index

    @_fit_context(prefer_skip_nested_validation=True)
    @unchanged_on_error
    def fit(self, X: Any, y: Any = None) -> SlidingWindowTransformer:
        """Remember the last ``window - 1`` rows as history for data that continues ``X``.

        Parameters
        ----------
        X : array-like of shape (n_steps, n_features)
            Time-ordered rows, oldest first (DataFrame, Series or array).
        y : None
            Ignored.

        Returns
        -------
        self : SlidingWindowTransformer
            The fitted transformer.
        """
        values, index = self._validate(X, reset=True)
        if len(values) < self.window:
            raise ValueError(
                f"X has {len(values)} sample(s) (time steps), fewer than window={self.window}: "
                "every window would be mostly padding. Use a smaller window or a longer series."
            )
        self.context_ = _History(values, index, self.window - 1, type(self).__name__)
        return self

    def transform(self, X: Any) -> np.ndarray | WindowArray:
        """Windows ending at each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_steps, n_features)
            Time-ordered rows, oldest first.

        Returns
        -------
        windows : ndarray or WindowArray of shape (n_steps, window, n_features)
            Read-only view (a WindowArray with ``lazy=True``); ``windows[i, -1]`` is row ``i``
            of ``X``.
        """
        check_is_fitted(self)
        values, index = self._validate(X, reset=False)
        make = lazy_padded_windows if self.lazy else padded_windows
        return make(values, self.context_.rows_before(values, index), self.window, self.padding)

    def set_output(self, *, transform: str | None = None) -> SlidingWindowTransformer:
        """Accept a pipeline's output configuration; the 3-D output stays an ndarray.

        ``Pipeline.set_output(transform="pandas")`` thus works, and the steps before this one
        keep the index that history carry-over needs.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None
            Ignored: a 3-D array has no DataFrame form.

        Returns
        -------
        self : SlidingWindowTransformer
            The transformer, unchanged.
        """
        return self

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
