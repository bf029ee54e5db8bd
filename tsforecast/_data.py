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

import numpy as np
import torch
from numpy.lib.stride_tricks import as_strided


def _strided_base(X: np.ndarray) -> tuple[np.ndarray, int] | None:
    """Find the 2-D array that a 3-D array is a strided window view of.

    Returns ``(base, step)`` such that ``X[i, t] == base[i * step + t]`` without copying, or
    ``None`` when ``X`` is not laid out that way (or the base would hold more rows than ``X``).
    """
    n_samples, length, n_features = X.shape
    s_sample, s_step, s_feature = X.strides
    # The stride of an axis of size 1 is arbitrary (numpy may report 0): pick a consistent one.
    if n_samples == 1:
        s_sample = 0
    if length == 1:
        s_step = s_sample
    if n_features == 1:
        s_feature = X.itemsize
    if s_step <= 0 or s_feature <= 0 or s_sample < 0 or s_sample % s_step:
        return None
    step = s_sample // s_step
    n_rows = (n_samples - 1) * step + length
    if n_rows > n_samples * length:
        return None
    return as_strided(X, shape=(n_rows, X.shape[2]), strides=(s_step, s_feature)), step


def _as_float_tensor(a: np.ndarray) -> torch.Tensor:
    if a.dtype == np.float32 and a.flags.c_contiguous:
        # Share the caller's memory instead of copying it. Views from sliding_window_view are
        # flagged read-only, which torch warns about; the base is only ever read (batches are
        # gathered into new tensors), so the warning does not apply.
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
        First row of each window, int64.
    length : int
        Number of time steps in each window.
    """

    base: torch.Tensor
    starts: torch.Tensor
    length: int

    @classmethod
    def from_array(cls, X: np.ndarray) -> Windows:
        """Wrap a 3-D array ``(n_samples, n_timesteps, n_features)``, copying only its 2-D base."""
        found = _strided_base(X)
        if found is None:
            base, step = np.ascontiguousarray(X).reshape(-1, X.shape[2]), X.shape[1]
        else:
            base, step = found
        starts = torch.arange(X.shape[0], dtype=torch.int64) * step
        return cls(_as_float_tensor(base), starts, X.shape[1])

    def __len__(self) -> int:
        return self.starts.shape[0]

    @property
    def n_features(self) -> int:
        return self.base.shape[1]

    def gather(self, index: torch.Tensor) -> torch.Tensor:
        """Materialise the windows of ``index`` only: ``(len(index), length, n_features)``."""
        offsets = torch.arange(self.length, device=self.starts.device)
        rows = (self.starts[index].unsqueeze(1) + offsets).reshape(-1)
        return self.base.index_select(0, rows).view(len(index), self.length, self.n_features)

    def subset(self, index: torch.Tensor) -> Windows:
        """The windows of ``index``, sharing this object's base."""
        return Windows(self.base, self.starts[index], self.length)

    def to(self, device: torch.device) -> Windows:
        return Windows(self.base.to(device), self.starts.to(device), self.length)


def split_tail(windows: Windows, fraction: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Split samples into a head for training and the last ``fraction`` for validation.

    Training samples whose window shares a row with any validation window are dropped (an
    embargo), so that the validation loss never scores rows the model was trained on.

    Returns
    -------
    train_index, val_index : torch.Tensor
        Sample indices, both in time order.
    """
    n_samples = len(windows)
    n_val = math.ceil(fraction * n_samples)
    head = torch.arange(n_samples - n_val)
    first_val_row = windows.starts[n_samples - n_val :].min()
    keep = windows.starts[: n_samples - n_val] + windows.length <= first_val_row
    return head[keep], torch.arange(n_samples - n_val, n_samples)


class Batches:
    """Re-iterable minibatches ``(x, y)`` gathered from windows held in memory.

    Parameters
    ----------
    windows : Windows
        The inputs.
    y : torch.Tensor of shape (n_samples, ...)
        The targets, on the same device as ``windows``.
    batch_size : int
        Samples per batch; the last batch may be smaller.
    generator : torch.Generator or None
        Source of each epoch's shuffle; ``None`` keeps the samples in order.
    """

    def __init__(
        self,
        windows: Windows,
        y: torch.Tensor,
        batch_size: int,
        generator: torch.Generator | None,
    ) -> None:
        self.windows = windows
        self.y = y
        self.batch_size = batch_size
        self.generator = generator

    def __len__(self) -> int:
        return math.ceil(len(self.windows) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n_samples = len(self.windows)
        if self.generator is None:
            order = torch.arange(n_samples)
        else:
            order = torch.randperm(n_samples, generator=self.generator)
        for index in order.to(self.y.device).split(self.batch_size):
            yield self.windows.gather(index), self.y[index]


def forward_in_batches(module: torch.nn.Module, windows: Windows, batch_size: int) -> torch.Tensor:
    """Run ``module`` over every window in evaluation mode, ``batch_size`` windows at a time."""
    device = next(module.parameters()).device
    windows = windows.to(device)
    module.eval()
    with torch.inference_mode():
        if len(windows) <= batch_size:
            return module(windows.gather(torch.arange(len(windows), device=device)))
        return torch.cat(
            [
                module(windows.gather(index))
                for index in torch.arange(len(windows), device=device).split(batch_size)
            ]
        )


def as_numpy_windows(X: np.ndarray) -> np.ndarray:
    """Read a 2-D array ``(n_samples, n_timesteps)`` as univariate sequences, without copying."""
    return X[:, :, np.newaxis]
