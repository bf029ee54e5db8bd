"""Lazy windows for NumPy users of the data: a 2-D base plus start rows, never materialised.

A :class:`WindowArray` is what a panel window transformer returns instead of a dense
``(n_rows, window, n_features)`` array: memory O(rows), not O(rows x window). The estimators
read its base and starts directly (:meth:`tsforecast._data.windows.Windows.from_window_array`);
anything else gets the dense array through ``np.asarray``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from numpy.lib.stride_tricks import sliding_window_view

# Rows per step when building a panel's base: temporaries of a few MB, whatever the panel.
_CHUNK = 1 << 20


class WindowArray:
    """Read-only windows over a 2-D base: window ``i`` is ``base[starts[i]:starts[i] + length]``.

    Array-like of shape ``(n_samples, length, n_features)``: ``len``, ``shape``, ``ndim``,
    ``dtype``; ``np.asarray`` materialises it; indexing the first axis by a slice, an integer
    array or a boolean mask returns another lazy view of the same base (an integer returns
    that window as a 2-D array); other keys materialise the selected rows first.

    Parameters
    ----------
    base : ndarray of shape (n_rows, n_features)
        The rows every window reads; not copied, and never written.
    starts : ndarray of shape (n_samples,)
        First base row of each window; int32 is kept (half the memory of int64).
    length : int
        Time steps per window.
    lead : int, default=0
        Rows of padding before the base's first row, which take no memory; ``starts`` then
        count from the first of them.
    padding : {"edge", "zero"}, default="edge"
        What the ``lead`` rows read as: copies of the base's first row, or zeros.
    """

    __slots__ = ("base", "lead", "length", "padding", "starts")

    def __init__(
        self,
        base: np.ndarray,
        starts: np.ndarray,
        length: int,
        lead: int = 0,
        padding: str = "edge",
    ) -> None:
        starts = np.asarray(starts)
        if base.ndim != 2 or starts.ndim != 1 or length < 1 or lead < 0:
            raise ValueError(
                "WindowArray needs a 2-D base, 1-D starts, a positive length and a "
                "non-negative lead."
            )
        if padding not in ("edge", "zero"):
            raise ValueError(f"padding must be 'edge' or 'zero'; got {padding!r}.")
        if starts.dtype not in (np.int32, np.int64):
            starts = starts.astype(np.int64)
        if len(starts) and (starts.min() < 0 or starts.max() + length > len(base) + lead):
            raise ValueError(f"Windows of length {length} must lie within the base's rows.")
        self.base, self.starts, self.length, self.lead = base, starts, length, lead
        self.padding = padding

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.starts), self.length, self.base.shape[1])

    @property
    def ndim(self) -> int:
        return 3

    @property
    def dtype(self) -> np.dtype:
        return self.base.dtype

    def __len__(self) -> int:
        return len(self.starts)

    def __repr__(self) -> str:
        return f"WindowArray(shape={self.shape}, dtype={self.dtype}, base_rows={len(self.base)})"

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy is False:
            raise ValueError("A WindowArray cannot be converted to an array without a copy.")
        windows = self._gather(self.starts)
        return windows if dtype is None else windows.astype(dtype, copy=False)

    def _gather(self, starts: np.ndarray) -> np.ndarray:
        """The windows starting at ``starts``, materialised."""
        if self.lead:
            rows = starts[..., np.newaxis] + np.arange(-self.lead, self.length - self.lead)
            windows = self.base[np.maximum(rows, 0)]  # a new array: writable
            if self.padding == "zero":
                windows[rows < 0] = 0
            return windows
        every_start = sliding_window_view(self.base, self.length, axis=0).transpose(0, 2, 1)
        return every_start[starts]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, tuple):
            rows = self[key[0]]
            rest = key[1:]
            return (
                rows[rest]
                if isinstance(rows, np.ndarray)
                else np.asarray(rows)[(slice(None), *rest)]
            )
        if isinstance(key, int | np.integer):
            start = self.starts[key]
            if self.lead:
                return self._gather(start)
            return self.base[start : start + self.length]
        return WindowArray(self.base, self.starts[key], self.length, self.lead, self.padding)


def panel_windows(
    values: np.ndarray | pd.DataFrame,
    codes: np.ndarray,
    window: int,
    padding: str = "edge",
    history: Sequence[np.ndarray | None] | None = None,
    dtype: Any = np.float32,
) -> WindowArray:
    """Lazy windows over the rows of a long-format panel; no window crosses two series.

    The base holds, per series, ``window - 1`` rows of history (the series' ``history``
    rows, padded before) followed by its rows: one copy of ``values`` plus ``window - 1``
    rows per series. Window ``i`` ends at row ``i`` of ``values`` and reads only rows of
    its own series, in their order, exactly as a single series' sliding window would.

    Parameters
    ----------
    values : ndarray or DataFrame of shape (n_rows, n_features)
        The panel's feature rows, each series in time order (series may interleave). A
        DataFrame is read column by column, never copied as a whole.
    codes : ndarray of shape (n_rows,)
        Series code of each row, integers ``0 .. n_series - 1`` (e.g. from
        :func:`pandas.factorize`, or a categorical's ``codes``). Rows already grouped by
        series (codes non-decreasing) skip a sort.
    window : int
        Time steps per window.
    padding : {"edge", "zero"}, default="edge"
        Fill for missing history: the series' earliest available row, or zeros.
    history : sequence of ndarray or None, default=None
        Per series code, rows before its first row (at most ``window - 1`` are used);
        ``None`` or an empty array when the series has none.
    dtype : dtype, default=np.float32
        Type of the base.

    Returns
    -------
    windows : WindowArray of shape (n_rows, window, n_features)
    """
    codes = np.asarray(codes)
    if len(codes) != len(values) or (len(codes) and codes.min() < 0):
        raise ValueError(
            "codes must give a non-negative series code for every row of values (a missing "
            "group key is coded -1 by pandas.factorize)."
        )
    n_series = int(codes.max()) + 1 if len(codes) else 0
    counts = np.bincount(codes, minlength=n_series)
    reach = window - 1
    n_history = np.zeros(n_series, dtype=np.int64)
    if history is not None:
        n_history[:] = [0 if h is None else min(len(h), reach) for h in history]
    block_start = np.arange(n_series, dtype=np.int64) * reach
    block_start[1:] += np.cumsum(counts)[:-1]
    columns = _columns(values)
    n_rows = len(codes)
    base = np.empty((n_rows + reach * n_series, len(columns)), dtype=dtype)
    # Series c's block is its reach rows of history, then its rows: the k-th row of the
    # panel sorted by series (stably) sits at base row k + reach * (c + 1). The work goes by
    # chunks, so that temporaries stay small next to the base.
    # int32 start rows when they fit: 4 bytes a window instead of 8 (torch indexes with both).
    index_type = np.int32 if len(base) < np.iinfo(np.int32).max else np.int64
    starts = np.empty(n_rows, dtype=index_type)
    in_blocks = n_rows < 2 or bool((codes[1:] >= codes[:-1]).all())
    order = None if in_blocks else np.argsort(codes, kind="stable")
    chunks = [slice(first, min(first + _CHUNK, n_rows)) for first in range(0, n_rows, _CHUNK)]
    for part in chunks:
        positions = np.arange(part.start, part.stop)
        if order is None:
            starts[part] = positions
        else:
            starts[order[part]] = positions
    del order
    for part in chunks:
        starts[part] += reach * codes[part].astype(index_type)
        rows = starts[part] + reach
        for j, column in enumerate(columns):
            base[rows, j] = column[part]
    if history is not None:
        for code in np.flatnonzero(n_history):
            first = block_start[code] + reach - n_history[code]
            base[first : block_start[code] + reach] = history[code][-n_history[code] :]
    # Padding: the rows of each block before its first available row.
    n_pad = reach - n_history
    pad_rows = np.repeat(block_start, n_pad) + _ranges(n_pad)
    if padding == "edge":
        base[pad_rows] = base[np.repeat(block_start + n_pad, n_pad)]
    else:
        base[pad_rows] = 0
    return WindowArray(base, starts, window)


def _columns(values: np.ndarray | pd.DataFrame) -> list[np.ndarray]:
    """The feature columns, without a 2-D copy of a DataFrame's values."""
    if isinstance(values, pd.DataFrame):
        return [values[name].to_numpy() for name in values.columns]
    return [values[:, j] for j in range(values.shape[1])]


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """``0 .. n - 1`` for each ``n`` of ``lengths``, concatenated."""
    ends = np.cumsum(lengths)
    return np.arange(int(ends[-1]) if len(ends) else 0) - np.repeat(ends - lengths, lengths)


def sample_epoch(
    n_samples: int, per_epoch: int | None, generator: torch.Generator | None
) -> torch.Tensor:
    """One epoch's sample order: all samples shuffled, or ``per_epoch`` drawn at random.

    For panels too large to visit every window each epoch (as neuralforecast's
    ``windows_batch_size``): ``per_epoch`` windows are drawn uniformly with replacement
    from ``generator``, in O(per_epoch) memory, where a full permutation would take
    O(n_samples) (472 MB of int64 for 59M windows).

    Parameters
    ----------
    n_samples : int
        Number of windows.
    per_epoch : int or None
        Windows per epoch; ``None`` (or at least ``n_samples``) visits all, shuffled.
    generator : torch.Generator
        The fit's seeded generator: the same seed draws the same windows.

    Returns
    -------
    index : torch.Tensor of shape (min(per_epoch, n_samples),)
    """
    if per_epoch is None or per_epoch >= n_samples:
        return torch.randperm(n_samples, generator=generator)
    return torch.randint(n_samples, (per_epoch,), generator=generator)
