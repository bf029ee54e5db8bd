import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import SlidingWindowTransformer, make_supervised
from tsforecast.preprocessing import (
    HistoryPaddingWarning,
    PanelWindowTransformer,
    ReturnsTransformer,
    history_length,
    predict_with_history,
)

# ----------------------------------------------------------------------------- make_supervised


def test_make_supervised_aligns_future_target(series_frame):
    X, y = make_supervised(series_frame, target="price", horizon=3)
    assert len(X) == len(y) == len(series_frame) - 3
    assert X.index.equals(y.index)
    assert y.name == "price(t+3)"
    np.testing.assert_array_equal(y.to_numpy(), series_frame["price"].to_numpy()[3:])
    pd.testing.assert_frame_equal(X, series_frame.iloc[:-3])


def test_make_supervised_multi_horizon(series_frame):
    X, y = make_supervised(series_frame["price"], horizon=range(1, 4))
    assert y.columns.tolist() == ["price(t+1)", "price(t+2)", "price(t+3)"]
    assert len(X) == len(series_frame) - 3
    values = series_frame["price"].to_numpy()
    np.testing.assert_array_equal(y.iloc[5].to_numpy(), values[6:9])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"target": "nope"}, "not a column"),
        ({"target": "price", "horizon": 0}, "horizon must be a positive int"),
        ({"target": "price", "horizon": [1, -2]}, "horizon must be a positive int"),
        ({"target": None}, "target must name one of the 2 columns"),
        ({"target": "price", "horizon": 400}, "needs at least 401"),
    ],
)
def test_make_supervised_errors(series_frame, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_supervised(series_frame, **kwargs)


def test_make_supervised_rejects_unsorted_duplicated_and_missing(series_frame):
    with pytest.raises(ValueError, match="sorted"):
        make_supervised(series_frame.iloc[::-1], "price")
    with pytest.raises(ValueError, match="duplicated"):
        make_supervised(pd.concat([series_frame, series_frame.iloc[-1:]]), "price")
    holed = series_frame.copy()
    holed.iloc[10, 1] = np.nan
    with pytest.raises(ValueError, match=r"missing values \(column 'volume'"):
        make_supervised(holed, "price")
    with pytest.raises(TypeError, match="DataFrame or Series"):
        make_supervised(series_frame.to_numpy(), "price")


# ----------------------------------------------------------------------------- windows


@given(
    n_rows=st.integers(1, 60),
    n_features=st.integers(1, 3),
    window=st.integers(1, 12),
    padding=st.sampled_from(["edge", "zero"]),
)
def test_window_i_holds_rows_up_to_i_and_never_later(n_rows, n_features, window, padding):
    window = min(window, n_rows)
    # Every value encodes its own time step, so a later value is easy to spot.
    X = np.repeat(np.arange(n_rows, dtype=float)[:, None], n_features, axis=1)
    out = SlidingWindowTransformer(window=window, padding=padding).fit_transform(X)
    assert out.shape == (n_rows, window, n_features)
    for i in range(n_rows):
        assert out[i].max() <= i  # no look-ahead
        np.testing.assert_array_equal(out[i, -1], X[i])
        real = min(window, i + 1)
        np.testing.assert_array_equal(out[i, window - real :, 0], np.arange(i - real + 1, i + 1))
        fill = out[i, : window - real]
        assert (fill == (0.0 if padding == "zero" else X[0, 0])).all()


def test_output_is_a_strided_view_not_a_copy_per_window():
    X = np.random.default_rng(0).normal(size=(1000, 4))
    out = SlidingWindowTransformer(window=50).fit_transform(X)
    assert out.strides[0] == out.strides[1]  # consecutive windows share rows
    assert not out.flags.writeable
    assert out.base is not None


@given(
    n_fit=st.integers(5, 40),
    n_new=st.integers(1, 20),
    window=st.integers(1, 5),
)
def test_history_carries_over_when_data_continues_the_fit(n_fit, n_new, window):
    index = pd.bdate_range("2021-01-01", periods=n_fit + n_new)
    values = pd.DataFrame({"x": np.arange(n_fit + n_new, dtype=float)}, index=index)
    train, test = values.iloc[:n_fit], values.iloc[n_fit:]
    transformer = SlidingWindowTransformer(window=window).fit(train)
    whole = SlidingWindowTransformer(window=window).fit_transform(values)
    np.testing.assert_array_equal(transformer.transform(test), whole[n_fit:])


def test_no_history_for_data_that_does_not_continue_the_fit(series_frame):
    transformer = SlidingWindowTransformer(window=5).fit(series_frame.iloc[:100])
    later = series_frame.iloc[150:160]  # a gap of 50 business days
    overlapping = series_frame.iloc[90:110]
    array_fitted = SlidingWindowTransformer(window=5).fit(series_frame.iloc[:100].to_numpy())
    for fitted, frame, why in [
        (transformer, later, "begin after a gap"),
        (transformer, overlapping, "begin inside the fitted rows"),
        (array_fitted, series_frame.iloc[100:110].to_numpy(), "arrive without an index"),
    ]:
        with pytest.warns(HistoryPaddingWarning, match=why):  # padded, never silently
            out = fitted.transform(frame)
        first = np.asarray(frame)[0]
        np.testing.assert_array_equal(out[0], np.tile(first, (5, 1)))


def test_fit_transform_equals_fit_then_transform_and_is_repeatable(series_frame):
    transformer = SlidingWindowTransformer(window=7)
    fitted = transformer.fit_transform(series_frame)
    np.testing.assert_array_equal(fitted, transformer.transform(series_frame))
    np.testing.assert_array_equal(fitted, transformer.transform(series_frame))


def test_dtype_is_preserved_and_names_pass_through(series_frame):
    transformer = SlidingWindowTransformer(window=4).fit(series_frame)
    assert transformer.get_feature_names_out().tolist() == ["price", "volume"]
    assert transformer.transform(series_frame.astype("float32")).dtype == np.float32


def test_series_input_is_one_feature(series_frame):
    out = SlidingWindowTransformer(window=4).fit_transform(series_frame["price"])
    assert out.shape == (300, 4, 1)


@pytest.mark.parametrize(
    ("make_input", "match"),
    [
        (lambda f: f.iloc[::-1], "sorted"),
        (lambda f: pd.concat([f.iloc[:5], f.iloc[4:10]]), "duplicated"),
        (lambda f: f.assign(price=np.nan), "NaN"),
        (lambda f: f.iloc[:3], "fewer than window=4"),
        (lambda f: f["price"].to_numpy(), "Expected 2D array"),
    ],
)
def test_fit_errors(series_frame, make_input, match):
    with pytest.raises(ValueError, match=match):
        SlidingWindowTransformer(window=4).fit(make_input(series_frame))


def test_transform_errors(series_frame):
    transformer = SlidingWindowTransformer(window=4).fit(series_frame)
    with pytest.raises(ValueError, match="X has 1 features, but SlidingWindowTransformer"):
        SlidingWindowTransformer(window=4).fit(series_frame.to_numpy()).transform(
            series_frame[["price"]].to_numpy()
        )
    with pytest.raises(ValueError, match="sorted"):
        transformer.transform(series_frame.iloc[::-1])
    with pytest.raises(ValueError, match="window"):
        SlidingWindowTransformer(window=0).fit(series_frame)


def test_pipeline_set_output_keeps_the_index_for_history(series_frame):
    pipe = make_pipeline(StandardScaler(), SlidingWindowTransformer(window=5))
    pipe.set_output(transform="pandas")
    pipe.fit(series_frame.iloc[:200])
    continued = pipe.transform(series_frame.iloc[200:])
    whole = pipe.transform(series_frame)
    np.testing.assert_allclose(continued, whole[200:])


@pytest.mark.parametrize(
    ("horizon", "error", "match"),
    [
        (1.0, TypeError, "horizon must be an int or a sequence of ints"),
        (None, TypeError, "horizon must be an int or a sequence of ints"),
        (True, TypeError, "horizon must be an int or a sequence of ints"),
        ("1", TypeError, "horizon must be an int or a sequence of ints"),
        ([1, 2.5], TypeError, "horizon must be an int or a sequence of ints"),
        ([1, 1], ValueError, "horizon has repeated steps"),
        ([], ValueError, "non-empty sequence"),
    ],
)
def test_make_supervised_rejects_bad_horizons(series_frame, horizon, error, match):
    with pytest.raises(error, match=match):
        make_supervised(series_frame, "price", horizon=horizon)


def test_make_supervised_accepts_numpy_horizons(series_frame):
    _, y = make_supervised(series_frame, "price", horizon=np.arange(1, 3))
    assert y.columns.tolist() == ["price(t+1)", "price(t+2)"]


# ----------------------------------------------------------------------------- history


_NAMES_LOST = "X does not have valid feature names"  # sklearn's warning for NumPy input


@pytest.mark.filterwarnings(f"ignore:{_NAMES_LOST}")
def test_padding_warns_exactly_when_it_replaces_available_history(series_frame):
    train, test = series_frame.iloc[:100], series_frame.iloc[100:110]
    fitted = SlidingWindowTransformer(window=5).fit(train)
    # Rows without the fitted index: the history cannot be matched.
    unindexed = SlidingWindowTransformer(window=5).fit(train.to_numpy())
    later = series_frame.iloc[150:160]
    for transformer, rows, why in [
        (fitted, test.to_numpy(), "without an index"),
        (fitted, test.reset_index().drop(columns="Date"), "RangeIndex of numbers"),
        (fitted, later, "after a gap"),  # its real history is not the fitted rows'
        (unindexed, test.to_numpy(), "without an index"),  # may continue the fitted rows
    ]:
        with pytest.warns(HistoryPaddingWarning, match=why):
            out = transformer.transform(rows)
        np.testing.assert_array_equal(out[0], np.tile(np.asarray(rows)[0], (5, 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", _NAMES_LOST)
        fitted.transform(test)  # continues the fit: history, no warning
        fitted.transform(train)  # the fitted rows: the same padding as in fit
        unindexed.transform(train.to_numpy())
        SlidingWindowTransformer(window=1).fit(train).transform(test.to_numpy())  # no history


@pytest.mark.filterwarnings(f"ignore:{_NAMES_LOST}")
def test_explicit_history_gives_the_windows_of_continuation(series_frame):
    train, test = series_frame.iloc[:100], series_frame.iloc[100:120]
    fitted = SlidingWindowTransformer(window=6).fit(train)
    continued = fitted.transform(test)
    past = train.iloc[-history_length(fitted) :]
    assert history_length(fitted) == 5
    for history, rows in [(past, test), (past.to_numpy(), test.to_numpy())]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            warnings.filterwarnings("ignore", _NAMES_LOST)
            explicit = predict_with_history(fitted, history, rows, method="transform")
        np.testing.assert_array_equal(explicit, continued)
    with pytest.raises(ValueError, match="history has 4 row"):
        predict_with_history(fitted, past.iloc[1:], test, method="transform")
    with pytest.raises(ValueError, match=r"history has columns \['price'\], X has"):
        predict_with_history(fitted, past[["price"]], test, method="transform")
    with pytest.raises(ValueError, match=r"history has rows of shape \(1,\), X \(2,\)"):
        predict_with_history(
            fitted, past[["price"]].to_numpy(), test.to_numpy(), method="transform"
        )


def test_explicit_history_through_a_served_pipeline(series_frame):
    """A served pipeline whose requests lost their DatetimeIndex forecasts like in-process."""
    X, _ = make_supervised(series_frame, "price")
    pipe = make_pipeline(
        ReturnsTransformer(kind="difference"), StandardScaler(), SlidingWindowTransformer(8)
    )
    pipe.set_output(transform="pandas")
    pipe.fit(X.iloc[:200])
    assert history_length(pipe) == 8
    request = X.iloc[200:230].reset_index(drop=True)
    past = X.iloc[200 - 8 : 200].reset_index(drop=True)
    with pytest.warns(HistoryPaddingWarning):
        padded = pipe.transform(request)
    explicit = predict_with_history(pipe, past, request, method="transform")
    np.testing.assert_allclose(explicit, pipe.transform(X.iloc[200:230]))
    assert not np.allclose(padded[:8], explicit[:8])


@pytest.mark.parametrize(
    ("transformer", "bad"),
    [
        # validate_data accepts the 3-column frame, then the window check fails
        (SlidingWindowTransformer(window=4), lambda f: f.assign(extra=1.0).iloc[:3]),
        # validate_data accepts the frame, then the positivity check fails
        (ReturnsTransformer(), lambda f: f.assign(extra=-1.0)),
        # the columns are read, then a series' unsorted index fails
        (PanelWindowTransformer(group="id", window=4), lambda f: f.iloc[::-1]),
    ],
)
def test_a_failed_refit_leaves_the_transformer_as_it_was(series_frame, transformer, bad):
    frame = series_frame.assign(price=series_frame["price"] + 2.0)
    if isinstance(transformer, PanelWindowTransformer):
        frame = frame.assign(id="a")
    fitted = transformer.fit(frame.iloc[:100])
    before = (fitted.n_features_in_, fitted.transform(frame.iloc[100:]))
    with pytest.raises(ValueError):
        fitted.fit(bad(frame))
    assert fitted.n_features_in_ == before[0]
    np.testing.assert_array_equal(fitted.transform(frame.iloc[100:]), before[1])
