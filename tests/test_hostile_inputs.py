"""Messy and hostile inputs: each gets a clear error or a documented, tested behaviour."""

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import FAST
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import LSTMClassifier, LSTMRegressor, SlidingWindowTransformer
from tsforecast.preprocessing import HistoryPaddingWarning

TINY = {**FAST, "units": 2, "max_epochs": 1}


def test_string_and_object_columns_are_refused(series_frame):
    frame = series_frame.assign(name=pd.Series("SPX", index=series_frame.index, dtype=object))
    with pytest.raises(ValueError, match="could not convert string to float"):
        SlidingWindowTransformer(window=3).fit(frame)
    with pytest.raises(ValueError, match="could not convert string to float"):
        LSTMRegressor(**TINY).fit(frame, np.zeros(len(frame)))


@pytest.mark.parametrize(
    "column",
    [
        pd.date_range("2020-01-01", periods=3),
        pd.to_timedelta([1, 2, 3], unit="D"),
        pd.Series(["a", "b", "c"], dtype="str"),
    ],
)
def test_a_column_of_dates_durations_or_text_is_refused_by_name(column):
    frame = pd.DataFrame({"price": [1.0, 2.0, 3.0], "when": column})
    match = r"X column 'when' has dtype .*; the features must be numbers"
    with pytest.raises(TypeError, match=match):
        SlidingWindowTransformer(window=2).fit(frame)
    with pytest.raises(TypeError, match=match):
        LSTMRegressor(**TINY).fit(frame, np.zeros(3))
    model = LSTMRegressor(**TINY).fit(frame[["price"]].assign(other=1.0), np.zeros(3))
    with pytest.raises(TypeError, match=match):
        model.predict(frame)


@pytest.mark.parametrize("shape", [(40, 6), (40, 6, 1)])
def test_broadcast_windows_train_as_their_copy(shape):
    """np.broadcast_to gives every window a zero stride: each is still its own sample."""
    row = np.linspace(-1.0, 1.0, 6).reshape((1, 6, 1)[: len(shape)])
    X, y = np.broadcast_to(row, shape), np.linspace(0.0, 1.0, 40)
    params = {**TINY, "validation_fraction": 0.25, "random_state": 0}
    copied = LSTMRegressor(**params).fit(X.copy(), y)
    model = LSTMRegressor(**params).fit(X, y)
    assert [r["train_loss"] for r in model.history_] == [r["train_loss"] for r in copied.history_]
    np.testing.assert_array_equal(model.predict(X), copied.predict(X.copy()))


def test_empty_input_is_refused():
    with pytest.raises(ValueError, match="0 sample"):
        LSTMRegressor(**TINY).fit(np.zeros((0, 4, 1)), np.zeros(0))
    with pytest.raises(ValueError, match="0 sample"):
        SlidingWindowTransformer(window=2).fit(np.zeros((0, 2)))


def test_single_sample():
    X, y = np.ones((1, 5, 1)), np.ones(1)
    with pytest.raises(ValueError, match=r"validation_fraction=0\.1 of 1 sample"):
        LSTMRegressor(**{**TINY, "validation_fraction": 0.1}).fit(X, y)
    assert LSTMRegressor(**TINY).fit(X, y).predict(X).shape == (1,)
    with pytest.raises(ValueError, match="only one class"):
        LSTMClassifier(**TINY).fit(X, ["a"])


def test_transform_of_fewer_rows_than_the_window_is_padded(series_frame):
    transformer = SlidingWindowTransformer(window=10).fit(series_frame.iloc[:100])
    later = series_frame.iloc[200:203]  # 3 rows after a gap: documented edge padding
    with pytest.warns(HistoryPaddingWarning, match="after a gap"):
        out = transformer.transform(later)
    assert out.shape == (3, 10, 2)
    np.testing.assert_array_equal(out[0], np.tile(later.iloc[0].to_numpy(), (10, 1)))
    following = series_frame.iloc[100:103]  # continues the fit: real history
    np.testing.assert_array_equal(
        transformer.transform(following)[0, :-1], series_frame.iloc[91:100].to_numpy()
    )


def test_timezone_aware_indexes(series_frame):
    aware = series_frame.tz_localize("America/New_York")
    transformer = SlidingWindowTransformer(window=4).fit(aware.iloc[:100])
    whole = SlidingWindowTransformer(window=4).fit_transform(aware)
    np.testing.assert_array_equal(transformer.transform(aware.iloc[100:]), whole[100:])
    # a naive index after an aware one cannot be compared: no history, a warning, no crash
    naive_next = series_frame.iloc[100:110]
    with pytest.warns(HistoryPaddingWarning, match="have a DatetimeIndex of datetimes, but"):
        first = transformer.transform(naive_next)[0]
    np.testing.assert_array_equal(first, np.tile(naive_next.iloc[0].to_numpy(), (4, 1)))


def test_integer_float64_bool_and_constant_inputs(rng):
    y = rng.normal(size=60)
    for X in (
        rng.integers(0, 5, size=(60, 4, 2)),
        rng.normal(size=(60, 4, 2)),
        rng.integers(0, 2, size=(60, 4, 2)).astype(bool),
        np.full((60, 4, 2), 3.0),  # constant columns
    ):
        pred = LSTMRegressor(**TINY, random_state=0).fit(X, y).predict(X)
        assert pred.shape == (60,) and np.isfinite(pred).all()


def test_huge_magnitudes_warn_unless_scaled(series_frame):
    frame = series_frame.assign(volume=series_frame["volume"] * 1e10)
    y = frame["price"].to_numpy()
    with pytest.warns(UserWarning, match="values as large as 2e\\+10.*StandardScaler"):
        make_pipeline(SlidingWindowTransformer(5), LSTMRegressor(**TINY)).fit(frame, y)
    scaled = make_pipeline(StandardScaler(), SlidingWindowTransformer(5), LSTMRegressor(**TINY))
    assert np.isfinite(scaled.fit(frame, y).predict(frame)).all()


def test_unseen_labels_at_score(rng):
    X = rng.normal(size=(40, 5))
    clf = LSTMClassifier(**TINY, random_state=0).fit(X, np.repeat(["a", "b"], 20))
    with pytest.raises(ValueError, match=r"labels not seen.*\['c'\]"):
        clf.score(X, np.repeat(["a", "c"], 20))


def test_pandas_nullable_dtypes(series_frame):
    frame = series_frame.astype("Float64")
    out = SlidingWindowTransformer(window=3).fit_transform(frame)
    assert out.dtype == np.float64 and out.shape == (300, 3, 2)
    counts = pd.DataFrame({"n": pd.array(np.arange(300), dtype="Int64")}, index=frame.index)
    assert SlidingWindowTransformer(window=3).fit_transform(counts).shape == (300, 3, 1)
    holed = frame.copy()
    holed.iloc[5, 0] = pd.NA
    with pytest.raises(ValueError, match="NaN"):
        SlidingWindowTransformer(window=3).fit(holed)
    y = pd.Series(np.arange(300.0), dtype="Float64")
    y.iloc[3] = pd.NA
    with pytest.raises(ValueError, match="NaN"):
        LSTMRegressor(**TINY).fit(frame.to_numpy(np.float64), y)


# ----------------------------------------------------------------------------- fuzzing

_DTYPES = st.sampled_from(
    [np.float64, np.float32, np.int64, np.int8, np.bool_, np.complex64, np.uint16]
)
_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from([0.0, 1e10, -1e30, 3.4e38]),
)
# The package's documented exceptions; warnings (e.g. unscaled input) are allowed too.
_DOCUMENTED = (ValueError, TypeError)


def _arrays(max_dims: int):
    def array(dtype):
        floats = np.dtype(dtype).kind in "fc"
        shapes = hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=0, max_side=5)
        return hnp.arrays(dtype, shapes, elements=_VALUES if floats else None)

    return _DTYPES.flatmap(array)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(X=_arrays(max_dims=3), seed=st.integers(0, 3))
def test_fuzzed_estimator_inputs_fail_only_with_documented_errors(X, seed):
    y = np.random.default_rng(seed).normal(size=X.shape[0] if X.ndim else 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = LSTMRegressor(**TINY, random_state=0).fit(X, y)
        except _DOCUMENTED:
            return
        pred = model.predict(X)
    assert pred.shape == (X.shape[0],)
    assert np.isfinite(pred).all()


@settings(max_examples=80, deadline=None)
@given(X=_arrays(max_dims=3), window=st.integers(-1, 6), padding=st.sampled_from(["edge", "zero"]))
def test_fuzzed_windowing_inputs_fail_only_with_documented_errors(X, window, padding):
    transformer = SlidingWindowTransformer(window=window, padding=padding)
    try:
        out = transformer.fit_transform(X)
    except _DOCUMENTED:
        return
    assert out.shape == (X.shape[0], window, X.shape[1])
    assert np.isfinite(out).all()
