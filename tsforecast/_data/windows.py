"""In-memory training data: windows gathered by index from one 2-D tensor, batch iteration.

Nothing here ever materialises every window at once. A set of windows is a 2-D ``base`` tensor
``(n_rows, n_features)`` plus one start row per sample; a batch is gathered from the base with a
single ``index_select``. A contiguous 3-D array is the special case where each sample owns its own
rows, and a sliding-window view (as made by :class:`~tsforecast.SlidingWindowTransformer`) is the
case where consecutive samples start one row apart and share their rows.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from numpy.lib.stride_tricks import as_strided

from .lazy import WindowArray, sample_epoch

# Rows per step of input_moments: float64 temporaries of a few MB, whatever the base.
_MOMENT_CHUNK = 1 << 16


def _strided_base(X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Find the 2-D array that a 3-D array is a strided window view of.

    Returns ``(base, starts)`` such that ``X[i, t] == base[starts[i] + t]`` without copying,
    or ``None`` when ``X`` is not laid out that way (or the base would hold more rows than
    ``X``).
    """
    n_samples, length, n_features = X.shape
    if n_samples == 1:  # one window: nothing to share, and no step between windows
        return None
    s_sample, s_step, s_feature = X.strides
    # The stride of an axis of size 1 is arbitrary (numpy may report 0): pick a consistent one.
    if length == 1:
        s_step = s_sample
    if n_features == 1:
        s_feature = X.itemsize
    # A zero sample stride (np.broadcast_to) repeats one window: no sliding layout.
    if s_step <= 0 or s_feature <= 0 or s_sample <= 0 or s_sample % s_step:
        return None
    step = s_sample // s_step
    n_rows = (n_samples - 1) * step + length
    if n_rows > n_samples * length:
        return None
    base = as_strided(X, shape=(n_rows, X.shape[2]), strides=(s_step, s_feature))
    return base, np.arange(0, n_samples * step, step, dtype=np.int64)


def _sliding_base(X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Find the series that the windows of ``X`` slide over, from their content.

    Each window is taken to continue the previous one moved by the smallest step (below the
    window length) that makes their shared rows equal, or to start on rows of its own. So
    windows with one missing (dropped, or filtered out) still share their rows with their
    neighbours, as the validation embargo needs. Returns ``(base, starts)`` when at least one
    window continues the previous one, else ``None``. Independent sequences (images,
    sentences) cost one comparison of each window's first value with the previous window.
    """
    n_samples, length, _ = X.shape
    if n_samples < 2 or length < 2:
        return None
    # candidates[i, s - 1]: window i + 1 may be window i moved s rows later.
    candidates = X[1:, 0, :1] == X[:-1, 1:, 0]
    if not candidates.any():
        return None
    steps = _steps(X, candidates)
    if (steps == length).all():
        return None
    ends = np.cumsum(steps)
    # Window i + 1 adds its last steps[i] rows to the base.
    window = np.repeat(np.arange(1, n_samples), steps)
    row = np.arange(ends[-1]) - np.repeat(ends - steps, steps) + np.repeat(length - steps, steps)
    return np.concatenate([X[0], X[window, row]]), np.concatenate([[0], ends])


def _steps(X: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Step from each window to the next: the smallest of its ``candidates`` that the rows
    confirm, else the window length (no shared row)."""
    length = X.shape[1]
    every_pair = candidates.all(axis=0)
    if every_pair.any():  # one step for all pairs, as in a plain sliding window: one pass
        step = int(every_pair.argmax()) + 1
        if not candidates[:, : step - 1].any() and np.array_equal(
            X[1:, : length - step], X[:-1, step:]
        ):
            return np.full(len(candidates), step)
    steps = np.full(len(candidates), length)
    pending = np.arange(len(candidates))
    for step in range(1, length):
        pairs = pending[candidates[pending, step - 1]]
        if len(pairs):
            slides = (X[pairs + 1, : length - step] == X[pairs, step:]).all(axis=(1, 2))
            steps[pairs[slides]] = step
            pending = np.setdiff1d(pending, pairs[slides], assume_unique=True)
    return steps


def _as_float_tensor(a: np.ndarray) -> torch.Tensor:
    if a.dtype == np.float32 and a.flags.c_contiguous:
        # Share the caller's memory instead of copying it.
        if a.flags.writeable:
            return torch.from_numpy(a)
        # Views from sliding_window_view are flagged read-only, which torch warns about; the
        # base is only ever read (batches are gathered into new tensors).
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            return torch.from_numpy(a)
    return torch.from_numpy(np.array(a, dtype=np.float32, order="C"))


@dataclass(frozen=True)
class Windows:
    """Fixed-length windows over a 2-D base: sample ``i`` is ``base[starts[i]:starts[i] + length]``.

    Parameters
    ----------
    base : torch.Tensor of shape (n_rows, n_features)
        The rows every window reads from.
    starts : torch.Tensor of shape (n_samples,)
        First row of each window, int64 (int32 from a panel's ``WindowArray``).
    length : int
        Number of time steps in each window.
    tiled : bool, default=False
        Whether the windows are the base's rows cut in consecutive blocks of ``length`` (a
        contiguous 3-D array): they can then be read as a view, without gathering.
    lead : int, default=0
        Rows of padding before the base's first row, which take no memory: ``starts`` then
        count from the first of them.
    fill : torch.Tensor of shape (n_features,) or None, default=None
        What the ``lead`` rows read as: this row (zero padding: zeros, or the network's
        input mean, which standardizes to zero), or ``None`` for copies of the base's first
        row (edge padding).
    """

    base: torch.Tensor
    starts: torch.Tensor
    length: int
    tiled: bool = False
    lead: int = 0
    fill: torch.Tensor | None = None

    @classmethod
    def from_array(cls, X: np.ndarray) -> Windows:
        """Wrap a 3-D array ``(n_samples, n_timesteps, n_features)``, copying only its 2-D base.

        Windows that slide over one series are recognised from their memory layout (a strided
        view) or, for an array holding its own copy of every window, from their content; both
        give the same base and start rows, hence the same validation embargo.
        """
        n_samples, length, n_features = X.shape
        found = None if X.flags.c_contiguous else _strided_base(X)
        if found is None:
            found = _sliding_base(X)
        if found is None:
            # numpy, not torch.arange: a torch kernel here costs more than the rest of a
            # single-window predict (it wakes torch's intra-op thread pool).
            starts = np.arange(0, n_samples * length, length, dtype=np.int64)
            found = np.ascontiguousarray(X).reshape(-1, n_features), starts
        base, starts = found
        tiled = base.shape[0] == n_samples * length  # only when no window shares a row
        return cls(_as_float_tensor(base), torch.from_numpy(starts), length, tiled)

    @classmethod
    def from_window_array(cls, X: WindowArray, fill: np.ndarray | None = None) -> Windows:
        """Wrap lazy windows (e.g. a panel's), sharing a float32 base instead of copying it.

        ``fill`` is what zero padding reads as (``None``: zeros).
        """
        base = _as_float_tensor(X.base)
        if X.padding == "zero" and X.lead:
            fill = torch.zeros(base.shape[1]) if fill is None else torch.tensor(fill)
            fill = fill.to(base.dtype)
        else:
            fill = None
        return cls(base, torch.from_numpy(X.starts), X.length, lead=X.lead, fill=fill)

    def __len__(self) -> int:
        return self.starts.shape[0]

    @property
    def n_features(self) -> int:
        return self.base.shape[1]

    @property
    def n_rows(self) -> int:
        """Rows the start rows count over: the base's and the ``lead`` rows before it."""
        return self.base.shape[0] + self.lead

    @cached_property
    def every_start(self) -> torch.Tensor:
        """A zero-copy view of the window starting at every row: ``(n_rows - length + 1, length,
        n_features)``. Indexing it by start rows gathers windows in a single kernel."""
        return self.base.unfold(0, self.length, 1).transpose(1, 2)

    def at(self, starts: torch.Tensor) -> torch.Tensor:
        """Materialise the windows starting at rows ``starts``: ``(len(starts), length, F)``."""
        if self.lead:
            # One index_select of the clamped rows: faster on CPU than indexing by a 2-D
            # index (and than the unfolded view's gather) for windows of 128 steps.
            rows = starts.unsqueeze(1) + self._offsets
            windows = self.base.index_select(0, rows.clamp(min=0).view(-1))
            windows = windows.view(*rows.shape, self.n_features)
            if self.fill is None:
                return windows
            return torch.where((rows < 0).unsqueeze(2), self.fill, windows)
        return self.every_start[starts]

    @cached_property
    def _offsets(self) -> torch.Tensor:
        """Base row of each time step of the window starting at row 0, before clamping."""
        return torch.arange(-self.lead, self.length - self.lead, device=self.base.device)

    def gather(self, index: torch.Tensor) -> torch.Tensor:
        """Materialise the windows of samples ``index`` only."""
        return self.at(self.starts[index])

    def gather_all(self) -> torch.Tensor:
        """Every window; a view of the base when the windows are tiled."""
        if self.tiled:
            return self.base.view(len(self), self.length, self.n_features)
        return self.gather(torch.arange(len(self), device=self.starts.device))

    def subset(self, index: torch.Tensor) -> Windows:
        """The windows of ``index``, sharing this object's base."""
        return Windows(self.base, self.starts[index], self.length, lead=self.lead, fill=self.fill)

    def to(self, device: torch.device) -> Windows:
        if self.base.device == device:
            return self
        fill = None if self.fill is None else self.fill.to(device)
        return Windows(
            self.base.to(device), self.starts.to(device), self.length, self.tiled, self.lead, fill
        )


def input_moments(windows: Windows) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each feature over the rows the windows read.

    Each base row that a window reads counts once; the ``lead`` rows (padding) and the rows
    no window reads (e.g. the later rows of a base shared with a test period)
    do not count, as a :class:`~sklearn.preprocessing.StandardScaler` fitted on the series
    of the training windows would count them. Two passes in float64, a chunk of rows at a
    time: the base can be gigabytes. A constant feature gets a scale of 1.
    """
    values = windows.base.cpu().numpy()
    read = rows_read(windows, windows.starts)[windows.lead :].numpy()

    def chunks() -> Iterator[np.ndarray]:  # one chunk alive at a time, a view when all read
        for i in range(0, len(values), _MOMENT_CHUNK):
            chunk, keep = values[i : i + _MOMENT_CHUNK], read[i : i + _MOMENT_CHUNK]
            yield chunk if keep.all() else chunk[keep]

    n_read = int(read.sum())
    mean = sum(chunk.sum(axis=0, dtype=np.float64) for chunk in chunks()) / n_read
    scale = np.sqrt(sum(np.square(chunk - mean).sum(axis=0) for chunk in chunks()) / n_read)
    return mean, np.where(scale > 0, scale, 1.0)


def rows_read(windows: Windows, starts: torch.Tensor) -> torch.Tensor:
    """Whether each of the ``n_rows`` rows lies inside a window starting at ``starts``."""
    starts = starts.long().cpu()
    # A difference array: +1 where a window starts, -1 after it ends, summed up.
    edges = torch.zeros(windows.n_rows + 1, dtype=torch.int32)
    ones = torch.ones_like(starts, dtype=torch.int32)
    edges.index_add_(0, starts, ones).index_add_(0, starts + windows.length, -ones)
    return edges.cumsum_(0)[:-1] > 0  # in place: no int64 copy of a long series' rows


def split_tail(windows: Windows, n_val: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split samples into a head for training and the last ``n_val`` for validation.

    Training samples whose window shares a row with any validation window are dropped (an
    embargo), so that the validation loss never scores rows the model was trained on. The
    rows are compared, not their order: this holds for one series and for panels whose
    series lie side by side in the base.

    Returns
    -------
    train_index, val_index : torch.Tensor
        Sample indices, both in time order.
    """
    n_train = len(windows) - n_val
    starts, length = windows.starts.long(), windows.length
    read = rows_read(windows, starts[n_train:]).to(torch.int32)  # by a validation window
    before = torch.cat([torch.zeros(1, dtype=read.dtype), read.cumsum(0)])  # rows read before r
    train_starts = starts[:n_train]
    keep = before[train_starts + length] == before[train_starts]
    return torch.arange(n_train)[keep], torch.arange(n_train, len(windows))


class Chunk:
    """A few consecutive minibatches, handed to Lightning as one batch.

    Iterating gathers each minibatch ``(x, y)`` only when it is reached. The class has no
    ``to`` method and is no collection, so Lightning passes it through untouched; the data
    already lives on the training device.
    """

    __slots__ = ("starts", "windows", "y")

    def __init__(self, windows: Windows, starts: list[torch.Tensor], y: list[torch.Tensor]) -> None:
        self.windows = windows
        self.starts = starts
        self.y = y

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for starts, y in zip(self.starts, self.y, strict=True):
            yield self.windows.at(starts), y


class Batches:
    """Re-iterable chunks of minibatches gathered from windows held in memory.

    The epoch's permutation is applied once to the start rows and the targets; each
    minibatch then costs one gather kernel, as indexing a materialised tensor would.

    Parameters
    ----------
    windows : Windows
        The inputs.
    y : torch.Tensor of shape (n_samples, ...)
        The targets, on the same device as ``windows``.
    batch_size : int
        Samples per minibatch; the last one may be smaller.
    generator : torch.Generator or None
        Source of each epoch's shuffle; ``None`` keeps the samples in order.
    chunk_size : int
        Minibatches per chunk.
    per_epoch : int or None, default=None
        With a ``generator``: windows drawn at random per epoch (with replacement, see
        :func:`~tsforecast._data.lazy.sample_epoch`) instead of all of them shuffled.
    """

    def __init__(
        self,
        windows: Windows,
        y: torch.Tensor,
        batch_size: int,
        generator: torch.Generator | None,
        chunk_size: int,
        per_epoch: int | None = None,
    ) -> None:
        self.windows = windows
        self.y = y
        self.batch_size = batch_size
        self.generator = generator
        self.chunk_size = chunk_size
        self.per_epoch = per_epoch if generator is not None else None
        # Distributed training: this process takes the rank-th of world_size equal shares.
        self.rank, self.world_size = 0, 1

    @property
    def n_samples(self) -> int:
        n_windows = len(self.windows)
        if self.per_epoch is not None:
            n_windows = min(self.per_epoch, n_windows)
        return n_windows // self.world_size

    @property
    def n_batches(self) -> int:
        return math.ceil(self.n_samples / self.batch_size)

    def __len__(self) -> int:
        return math.ceil(self.n_batches / self.chunk_size)

    def __iter__(self) -> Iterator[Chunk]:
        starts, y = self.windows.starts, self.y
        if self.generator is not None:
            order = sample_epoch(len(starts), self.per_epoch, self.generator).to(y.device)
            starts, y = starts[order], y[order]
        if self.world_size > 1:
            # Every process draws the same permutation: the shares are disjoint and equal.
            share = slice(self.rank * self.n_samples, (self.rank + 1) * self.n_samples)
            starts, y = starts[share], y[share]
        # Each chunk is cut when it is reached: a fit that stops early (limit_train_batches,
        # an interrupt) pays only for the minibatches it used.
        step = self.batch_size * self.chunk_size
        for first in range(0, len(starts), step):
            part = slice(first, first + step)
            yield Chunk(
                self.windows,
                list(starts[part].split(self.batch_size)),
                list(y[part].split(self.batch_size)),
            )


def forward_in_batches(module: torch.nn.Module, windows: Windows, batch_size: int) -> torch.Tensor:
    """Run ``module`` over every window in evaluation mode, ``batch_size`` windows at a time."""
    device = next(module.parameters()).device
    windows = windows.to(device)
    if module.training:
        module.eval()
    with torch.inference_mode():
        if len(windows) <= batch_size:
            return module(windows.gather_all())
        index = torch.arange(len(windows), device=device)
        return torch.cat([module(windows.gather(part)) for part in index.split(batch_size)])
