"""standardize_inputs and lazy sliding windows: a Pipeline that trains on the caller's memory.

``SlidingWindowTransformer(lazy=True) -> LSTMRegressor(standardize_inputs=True)`` must forecast
as ``StandardScaler -> SlidingWindowTransformer -> LSTMRegressor`` does, without the scaler's
copy and the padded copy of the rows.
"""

import warnings

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import (
    LSTMClassifier,
    LSTMRegressor,
    SlidingWindowTransformer,
    load_model,
    save_model,
)
from tsforecast._data.lazy import WindowArray
from tsforecast._data.windows import Windows, split_tail
from tsforecast.preprocessing import HistoryPaddingWarning

_FAST = {"units": 6, "max_epochs": 3, "batch_size": 16, "random_state": 0, "accelerator": "cpu"}


@pytest.fixture
def series():
    """Three features on very different scales, and a target that reads two of them."""
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(300, 3)) * [1.0, 20.0, 500.0] + [0.0, 50.0, -3000.0]).astype(np.float32)
    y = X[:, 0] + 0.05 * np.roll(X[:, 1], 1) + rng.normal(scale=0.1, size=300)
    return X, y


def _scaler_pipeline(window, padding="edge", **params):
    return make_pipeline(
        StandardScaler(),
        SlidingWindowTransformer(window, padding),
        LSTMRegressor(**_FAST, **params),
    )


def _lazy_pipeline(window, padding="edge", **params):
    return make_pipeline(
        SlidingWindowTransformer(window, padding, lazy=True),
        LSTMRegressor(standardize_inputs=True, **_FAST, **params),
    )


@pytest.mark.parametrize("padding", ["edge", "zero"])
@pytest.mark.parametrize("params", [{}, {"linear_skip": True, "validation_fraction": 0.2}])
def test_lazy_pipeline_forecasts_as_the_scaler_pipeline(series, params, padding):
    """Issue 22: with padding="zero" the padded zero rows entered input_mean_ and were read as
    raw zeros, where the scaler pipeline pads with the mean (zero after scaling)."""
    X, y = series
    old = _scaler_pipeline(8, padding, **params).fit(X, y)
    new = _lazy_pipeline(8, padding, **params).fit(X, y)
    scaler, model = old[0], new[-1]
    np.testing.assert_allclose(model.input_mean_, scaler.mean_, rtol=1e-12)
    np.testing.assert_allclose(model.input_scale_, scaler.scale_, rtol=1e-12)
    losses = [[r["train_loss"] for r in p[-1].history_] for p in (old, new)]
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)
    np.testing.assert_allclose(new.predict(X), old.predict(X), rtol=1e-5, atol=1e-5)
    later = X[-50:] * 1.1  # unseen rows, padded (with the warning) as the old pipeline pads them
    with pytest.warns(HistoryPaddingWarning, match="without an index"):
        forecasts = new.predict(later), old.predict(later)
    np.testing.assert_allclose(*forecasts, rtol=1e-5, atol=1e-5)


class _ScaleRowsAt(pl.Callback):
    """Doubles the caller's rows, in place, at the start of one epoch (``None``: never)."""

    def __init__(self, rows, epoch):
        self.rows, self.epoch = rows, epoch

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.epoch:
            self.rows *= 2


def _fit_while_the_rows_change(make, series, epoch):
    X, y = series
    rows = X.copy()
    model = make(8, trainer_kwargs={"callbacks": [_ScaleRowsAt(rows, epoch)]}).fit(rows, y)
    return model.predict(X)


def test_the_lazy_pipeline_trains_on_the_callers_memory(series):
    """Old pipeline: the network trained on a padded copy of the scaler's copy of X. The
    lazy one reads the caller's rows as it trains: rows changed mid-fit change the fit."""
    for make, reads_the_rows in ((_lazy_pipeline, True), (_scaler_pipeline, False)):
        changed, unchanged = (_fit_while_the_rows_change(make, series, e) for e in (1, None))
        assert np.array_equal(changed, unchanged) is not reads_the_rows, make.__name__


@settings(max_examples=40, deadline=None)
@given(
    n_rows=st.integers(1, 30),
    n_features=st.integers(1, 2),
    window=st.integers(1, 8),
    padding=st.sampled_from(["edge", "zero"]),
    n_fit=st.integers(0, 20),
)
def test_lazy_windows_equal_the_array_windows(n_rows, n_features, window, padding, n_fit):
    window = min(window, n_fit + n_rows)
    rows = np.arange(n_fit + n_rows, dtype=np.float32)[:, None] * [1.0, -1.0][:n_features]
    index = pd.RangeIndex(len(rows))
    frame = pd.DataFrame(rows, index=index)
    fit_rows = frame.iloc[: max(n_fit, window)]
    new = frame.iloc[n_fit:] if n_fit >= window else frame  # continues the fit, or is it
    transformers = [
        SlidingWindowTransformer(window, padding, lazy).fit(fit_rows) for lazy in (False, True)
    ]
    dense, lazy = (t.transform(new) for t in transformers)
    assert isinstance(lazy, WindowArray)
    np.testing.assert_array_equal(np.asarray(lazy), dense)
    np.testing.assert_array_equal(lazy[len(lazy) - 1], dense[-1])
    # The estimators' view: the same windows, and the same validation embargo.
    windows = [Windows.from_array(dense), Windows.from_window_array(lazy)]
    every = torch.arange(len(dense))
    torch.testing.assert_close(windows[1].gather(every), windows[0].gather(every))
    n_val = len(dense) // 3
    if n_val:
        for a, b in zip(*(split_tail(w, n_val) for w in windows), strict=True):
            torch.testing.assert_close(a, b)


def test_lazy_edge_windows_share_the_input_rows():
    X = np.random.default_rng(0).normal(size=(50, 2))
    lazy = SlidingWindowTransformer(5, lazy=True).fit_transform(X)
    assert lazy.base is X and lazy.lead == 4
    zero = SlidingWindowTransformer(5, "zero", lazy=True).fit_transform(X)
    assert zero.base is X and zero.lead == 4  # zeros take no rows either
    np.testing.assert_array_equal(zero[1], np.r_[np.zeros((3, 2)), X[:2]])


def test_window_array_lead_rows_repeat_the_first_row():
    base = np.arange(8.0).reshape(4, 2)
    lazy = WindowArray(base, np.arange(4), 3, lead=2)
    np.testing.assert_array_equal(lazy[0], [[0, 1], [0, 1], [0, 1]])
    np.testing.assert_array_equal(np.asarray(lazy[[3, 1]])[:, :, 0], [[2, 4, 6], [0, 0, 2]])
    with pytest.raises(ValueError, match="within the base"):
        WindowArray(base, np.array([4]), 3, lead=2)
    with pytest.raises(ValueError, match="non-negative lead"):
        WindowArray(base, np.array([0]), 3, lead=-1)


def test_standardized_inputs_are_fixed_by_the_first_fit(series):
    X, y = series
    windows = np.lib.stride_tricks.sliding_window_view(X, 8, axis=0).transpose(0, 2, 1)
    model = LSTMRegressor(standardize_inputs=True, warm_start=True, **_FAST).fit(windows, y[7:])
    mean, scale = model.input_mean_.copy(), model.input_scale_.copy()
    np.testing.assert_allclose(mean, X.mean(axis=0, dtype=np.float64), rtol=1e-9)
    model.partial_fit(windows[:40] * 3, y[7:47])
    model.fit(windows[:40] * 3, y[7:47])
    np.testing.assert_array_equal(model.input_mean_, mean)
    np.testing.assert_array_equal(model.input_scale_, scale)
    np.testing.assert_array_equal(model.module_.input_mean.numpy(), mean.astype(np.float32))
    weights = {k: v.clone() for k, v in model.module_.state_dict().items()}
    with pytest.raises(ValueError, match="standardize_inputs=True"):
        model.set_params(standardize_inputs=False).fit(windows, y[7:])
    for key, value in model.module_.state_dict().items():
        torch.testing.assert_close(value, weights[key])


def test_standardized_inputs_read_only_the_rows_of_the_training_windows(series):
    # The first 100 lazy windows share the base of all 300 rows: the later rows are the
    # future (a backtest's or search's test period) and must not set the scaling.
    X, y = series
    windows = SlidingWindowTransformer(8, lazy=True).fit_transform(X)
    params = {**_FAST, "max_epochs": 1, "validation_fraction": 0}
    model = LSTMRegressor(standardize_inputs=True, **params).fit(windows[:100], y[:100])
    scaler = StandardScaler().fit(X[:100])  # the rows those windows read, lead rows aside
    np.testing.assert_allclose(model.input_mean_, scaler.mean_, rtol=1e-6)
    np.testing.assert_allclose(model.input_scale_, scaler.scale_, rtol=1e-6)
    gappy = windows[[7, 207]]  # rows 0 .. 7 and 200 .. 207: rows 8 .. 199 are read by none
    model.fit(gappy, y[:2])
    rows = np.concatenate([X[:8], X[200:208]])
    np.testing.assert_allclose(model.input_mean_, rows.mean(axis=0, dtype=np.float64), rtol=1e-6)


def test_standardized_inputs_need_no_scaling_warning_and_keep_constant_features():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4, 2)) * 1e5
    X[:, :, 1] = 7.0  # constant: scaled by 1, not divided by zero
    y = X[:, -1, 0] / 1e5
    with pytest.warns(UserWarning, match="gates saturate"):
        LSTMRegressor(**_FAST).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LSTMRegressor(standardize_inputs=True, **_FAST).fit(X, y)
    assert model.input_scale_[1] == 1.0 and model.input_mean_[1] == 7.0
    assert np.isfinite(model.predict(X)).all()
    classifier = LSTMClassifier(standardize_inputs=True, **_FAST).fit(X[:, :, 0], y > 0)
    assert classifier.input_mean_.shape == (1,)  # 2-D input: one feature per step


def test_standardized_model_round_trips_and_damaged_scales_are_refused(series, tmp_path):
    X, y = series
    model = _lazy_pipeline(8, linear_skip=True).fit(X, y)[-1]
    windows = SlidingWindowTransformer(8).fit_transform(X)
    save_model(model, tmp_path / "m.pt")
    np.testing.assert_array_equal(
        load_model(tmp_path / "m.pt").predict(windows), model.predict(windows)
    )
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    payload["fitted"]["input_scale_"]["ndarray"]["data"] = torch.zeros(24, dtype=torch.uint8)
    torch.save(payload, tmp_path / "zero.pt")
    with pytest.raises(ValueError, match="input_scale_ should be positive"):
        load_model(tmp_path / "zero.pt")
    # A file written before standardize_inputs existed loads as standardize_inputs=False.
    windows = windows[:, :, :2]  # within the range an unscaled model trains on
    plain = LSTMRegressor(**_FAST).fit(windows, y)
    save_model(plain, tmp_path / "plain.pt")
    payload = torch.load(tmp_path / "plain.pt", weights_only=True)
    del payload["params"]["standardize_inputs"]
    del payload["fitted"]["_architecture"]["standardize_inputs"]
    torch.save(payload, tmp_path / "old.pt")
    np.testing.assert_array_equal(
        load_model(tmp_path / "old.pt").predict(windows), plain.predict(windows)
    )


def test_a_model_pickled_before_standardize_inputs_loads_and_refits():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(80, 5, 2)).astype(np.float32), rng.normal(size=80)
    model = LSTMRegressor(units=3, max_epochs=1, random_state=0).fit(X, y)
    state = model.__getstate__()
    del state["standardize_inputs"]  # as pickled by the version before the parameter
    del state["_architecture"]["standardize_inputs"]
    old = object.__new__(LSTMRegressor)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.predict(X), model.predict(X))
    assert old.get_params()["standardize_inputs"] is False
    old.set_params(warm_start=True).fit(X, y)  # the same architecture: no refusal
    assert old.n_iter_ == 2


def test_input_moments_read_the_base_a_chunk_at_a_time():
    """The moments of a long base take a few chunks of temporary memory, not a copy of it."""
    import tracemalloc

    from tsforecast._data.windows import input_moments

    base = np.random.default_rng(0).normal(size=(1_000_000, 4)).astype(np.float32)
    windows = Windows(torch.from_numpy(base), torch.arange(0, 999_991), 10)
    tracemalloc.start()
    mean, scale = input_moments(windows)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.5 * base.nbytes  # 16 MB of rows; a chunk's float64 temporaries are 2 MB
    np.testing.assert_allclose(mean, base.mean(axis=0, dtype=np.float64), rtol=1e-6)
    np.testing.assert_allclose(scale, base.std(axis=0, dtype=np.float64), rtol=1e-6)
