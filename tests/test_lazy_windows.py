"""Lazy panel windows: equal to the materialised ones, never crossing series, O(rows) memory."""

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tsforecast._data.lazy import WindowArray, panel_windows, sample_epoch
from tsforecast._data.windows import Batches, Windows


def _padded_windows(rows, history, window, padding):
    """The windows ending at each of ``rows``, read after ``history``; what is missing before
    it is padded with its first row ("edge") or zeros ("zero")."""
    base = np.concatenate([history, rows])
    missing = window - 1 - len(history)
    if missing > 0:
        fill = base[:1] if padding == "edge" else np.zeros((1, base.shape[1]))
        base = np.concatenate([np.repeat(fill, missing, axis=0), base])
    start = len(base) - len(rows)
    return np.stack([base[k - window + 1 : k + 1] for k in range(start, len(base))])


@st.composite
def panels(draw):
    """Interleaved series (each in time order), a window, a padding and some histories."""
    lengths = draw(st.lists(st.integers(1, 12), min_size=1, max_size=4))
    n_features = draw(st.integers(1, 2))
    window = draw(st.integers(1, 6))
    codes = np.repeat(np.arange(len(lengths)), lengths)
    if draw(st.booleans()):  # interleaved series, else grouped by series
        codes = codes[np.random.default_rng(draw(st.integers(0, 1000))).permutation(len(codes))]
    # Row order within a series is the order of appearance; value // 1000 is the series code:
    # rows are code * 1000 + 500 + step, history rows code * 1000 + 499, 498, ...
    steps = np.zeros(len(codes), dtype=int)
    for code in range(len(lengths)):
        steps[codes == code] = np.arange(lengths[code])
    features = np.arange(n_features) * 0.5
    values = (codes * 1000 + 500 + steps)[:, None] + features
    history = []
    for code in range(len(lengths)):
        n_history = draw(st.integers(0, window + 1)) if draw(st.booleans()) else None
        history.append(
            None
            if n_history is None
            else (code * 1000 + 499 - np.arange(n_history)[::-1])[:, None] + features
        )
    padding = draw(st.sampled_from(["edge", "zero"]))
    return values, codes, window, padding, history


@settings(max_examples=200, deadline=None)
@given(panel=panels(), as_frame=st.booleans())
def test_property_lazy_panel_windows_equal_materialised_and_stay_in_their_series(panel, as_frame):
    values, codes, window, padding, history = panel
    rows = pd.DataFrame(values) if as_frame else values
    lazy = panel_windows(rows, codes, window, padding, history, dtype=np.float64)
    assert lazy.shape == (len(values), window, values.shape[1])
    assert lazy.starts.dtype == np.int32  # half the memory of int64 start rows
    dense = np.asarray(lazy)
    for code, series_history in enumerate(history):
        rows = np.flatnonzero(codes == code)
        context = np.empty((0, values.shape[1])) if series_history is None else series_history
        context = context[max(len(context) - window + 1, 0) :]
        expected = _padded_windows(values[rows], context, window, padding)
        np.testing.assert_array_equal(dense[rows], expected)
        # Never another series: every non-padding value carries this series' code.
        seen = dense[rows][..., 0]
        assert (seen[seen != 0] // 1000 == code).all()
    # One copy of the rows plus window - 1 per series, whatever the window count.
    assert len(lazy.base) == len(values) + (window - 1) * (codes.max() + 1)


def test_history_rows_before_a_series_are_its_own_context():
    values = np.array([[1.0], [10.0], [2.0], [20.0]])
    codes = np.array([0, 1, 0, 1])
    lazy = panel_windows(values, codes, 3, "zero", [np.array([[-1.0], [0.0]]), None])
    np.testing.assert_array_equal(
        np.asarray(lazy)[..., 0], [[-1, 0, 1], [0, 0, 10], [0, 1, 2], [0, 10, 20]]
    )


def test_panel_windows_refuses_rows_without_a_series():
    with pytest.raises(ValueError, match="missing group key"):
        panel_windows(np.zeros((3, 1)), np.array([0, -1, 0]), 2)
    with pytest.raises(ValueError, match="every row"):
        panel_windows(np.zeros((3, 1)), np.array([0, 0]), 2)


def test_window_array_is_a_read_only_lazy_array_like():
    base = np.arange(20.0, dtype=np.float32).reshape(10, 2)
    lazy = WindowArray(base, np.array([0, 3, 5, 7]), 3)
    dense = np.asarray(lazy)
    assert (len(lazy), lazy.shape, lazy.ndim, lazy.dtype) == (4, (4, 3, 2), 3, np.float32)
    np.testing.assert_array_equal(dense[1], base[3:6])
    for key in (slice(1, 3), np.array([3, 0]), np.array([True, False, True, True])):
        view = lazy[key]
        assert isinstance(view, WindowArray)
        assert view.base is base  # no copy of the rows
        np.testing.assert_array_equal(np.asarray(view), dense[key])
    np.testing.assert_array_equal(lazy[2], dense[2])
    np.testing.assert_array_equal(lazy[1:3, -1, 0], dense[1:3, -1, 0])
    np.testing.assert_array_equal(lazy[2, 0], dense[2, 0])
    assert np.asarray(lazy, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="without a copy"):
        np.asarray(lazy, copy=False)
    with pytest.raises(ValueError, match="within the base"):
        WindowArray(base, np.array([8]), 3)
    with pytest.raises(ValueError, match="2-D base"):
        WindowArray(base[:, 0], np.array([0]), 3)


def test_estimator_windows_share_the_lazy_base():
    values = np.arange(12.0, dtype=np.float32).reshape(6, 2)
    lazy = panel_windows(values, np.array([0, 0, 1, 0, 1, 1]), 2)
    windows = Windows.from_window_array(lazy)
    assert windows.base.data_ptr() == lazy.base.ctypes.data
    index = torch.tensor([5, 0, 3])
    np.testing.assert_array_equal(windows.gather(index).numpy(), np.asarray(lazy)[[5, 0, 3]])


def test_sample_epoch_is_seeded_and_bounded():
    draws = [sample_epoch(10**6, 1000, torch.Generator().manual_seed(0)) for _ in range(2)]
    assert torch.equal(draws[0], draws[1]) and draws[0].shape == (1000,)
    assert int(draws[0].min()) >= 0 and int(draws[0].max()) < 10**6
    everything = sample_epoch(50, None, torch.Generator().manual_seed(0))
    assert sorted(everything.tolist()) == list(range(50))
    assert sorted(sample_epoch(50, 80, torch.Generator().manual_seed(0)).tolist()) == list(
        range(50)
    )


def test_batches_draw_a_seeded_sample_of_windows_per_epoch():
    lazy = panel_windows(np.arange(200.0)[:, None], np.repeat([0, 1], 100), 5)
    windows, y = Windows.from_window_array(lazy), torch.arange(200.0)
    batches = Batches(windows, y, 8, torch.Generator().manual_seed(0), chunk_size=2, per_epoch=20)
    assert (batches.n_samples, batches.n_batches, len(batches)) == (20, 3, 2)
    epoch = [(xb, yb) for chunk in batches for xb, yb in chunk]
    assert [len(yb) for _, yb in epoch] == [8, 8, 4]
    for xb, yb in epoch:  # each window still ends at its own row
        torch.testing.assert_close(xb[:, -1, 0], yb)
    again = Batches(windows, y, 8, torch.Generator().manual_seed(0), chunk_size=2, per_epoch=20)
    assert [yb.tolist() for chunk in again for _, yb in chunk] == [yb.tolist() for _, yb in epoch]
    # Without a generator (validation) every window is visited, in order.
    ordered = Batches(windows, y, 64, None, chunk_size=2, per_epoch=20)
    assert torch.cat([yb for chunk in ordered for _, yb in chunk]).tolist() == y.tolist()
