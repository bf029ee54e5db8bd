import math
import tracemalloc

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from tsforecast._data.windows import Batches, Windows, split_tail


def _sliding(base: np.ndarray, window: int) -> np.ndarray:
    return sliding_window_view(base, window, axis=0).transpose(0, 2, 1)


@given(
    n_rows=st.integers(1, 40),
    n_features=st.integers(1, 4),
    # one feature and window 1 give size-1 axes, whose strides numpy may report as 0
    window=st.integers(1, 10),
    step=st.integers(1, 3),
)
def test_sliding_view_is_wrapped_without_copying_windows(n_rows, n_features, window, step):
    base = np.arange(n_rows * n_features, dtype=np.float32).reshape(n_rows, n_features)
    if window > n_rows:
        window = n_rows
    X = _sliding(base, window)[::step]
    windows = Windows.from_array(X)
    # The base holds each row once, not once per window.
    assert windows.base.shape[0] <= n_rows
    gathered = windows.gather(torch.arange(len(windows))).numpy()
    np.testing.assert_array_equal(gathered, X)


def test_float32_sliding_view_shares_the_users_memory():
    base = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    windows = Windows.from_array(_sliding(base, 5))
    assert np.shares_memory(windows.base.numpy(), base)


@pytest.mark.parametrize(
    "make",
    [
        lambda a: a,  # contiguous: each sample owns its rows
        lambda a: a[::-1],  # negative stride
        lambda a: np.asfortranarray(a),  # feature-major layout
        lambda a: a[:, ::2],  # every other time step
        lambda a: a.transpose(0, 2, 1).copy().transpose(0, 2, 1),
    ],
)
def test_any_layout_gathers_the_same_windows(make):
    X = make(np.random.default_rng(1).normal(size=(7, 6, 3)))
    windows = Windows.from_array(X)
    np.testing.assert_allclose(windows.gather(torch.arange(len(X))).numpy(), X, rtol=1e-6)


def test_wrapping_a_large_sliding_view_allocates_only_its_base():
    base = np.random.default_rng(0).normal(size=(20_000, 8))  # float64: one float32 copy
    X = _sliding(base, 128)
    tracemalloc.start()
    Windows.from_array(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2 * base.nbytes  # materialised windows would be 64x base.nbytes


@given(n=st.integers(2, 60), length=st.integers(1, 8), fraction=st.floats(0.05, 0.5))
def test_split_tail_leaves_no_shared_rows(n, length, fraction):
    starts = torch.arange(n)
    windows = Windows(torch.zeros(n + length - 1, 1), starts, length)
    train, val = split_tail(windows, math.ceil(fraction * n))
    assert len(val) >= 1 and val[-1] == n - 1
    assert torch.equal(val, torch.arange(n - len(val), n))
    if len(train):
        assert int(starts[train].max()) + length <= int(starts[val].min())
        assert torch.equal(train, torch.arange(len(train)))


def test_split_tail_keeps_all_non_overlapping_samples():
    windows = Windows(torch.zeros(40, 1), torch.arange(10) * 4, 4)
    train, val = split_tail(windows, 2)
    assert train.tolist() == list(range(8)) and val.tolist() == [8, 9]


def _minibatches(batches):
    return [(xb, yb) for chunk in batches for xb, yb in chunk]


def test_batches_visit_every_sample_once_per_epoch_in_chunks():
    windows = Windows(torch.arange(23.0).reshape(-1, 1), torch.arange(20), 4)
    y = torch.arange(20.0)
    batches = Batches(windows, y, 6, torch.Generator().manual_seed(0), chunk_size=3)
    assert batches.n_batches == 4 and len(batches) == 2
    assert [len(chunk.starts) for chunk in batches] == [3, 1]
    for _ in range(2):
        seen = torch.cat([yb for _, yb in _minibatches(batches)])
        assert sorted(seen.tolist()) == y.tolist()
    for xb, yb in _minibatches(batches):
        # the last step of window i is row i + 3, and y_i = i
        torch.testing.assert_close(xb[:, -1, 0], yb + 3)
    first = [yb.tolist() for _, yb in _minibatches(batches)]
    second = [yb.tolist() for _, yb in _minibatches(batches)]
    assert first != second  # reshuffled every epoch
    ordered = Batches(windows, y, 6, None, chunk_size=3)
    assert torch.cat([yb for _, yb in _minibatches(ordered)]).tolist() == y.tolist()


def test_gather_all_is_a_view_for_tiled_windows():
    X = np.random.default_rng(0).normal(size=(5, 4, 2)).astype(np.float32)
    windows = Windows.from_array(X)
    assert windows.tiled
    assert windows.gather_all().data_ptr() == windows.base.data_ptr()
    sliding = Windows.from_array(_sliding(X.reshape(-1, 2), 4))
    assert not sliding.tiled
    np.testing.assert_array_equal(sliding.gather_all().numpy(), _sliding(X.reshape(-1, 2), 4))
