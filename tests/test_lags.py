"""LagSequenceTransformer: client lag rows become sequences, oldest step first."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from tsforecast import LSTMRegressor
from tsforecast.preprocessing import LagSequenceTransformer

# One row per client for 3 lags of y (1, 2, 3 = oldest..newest) and exog a (10, 20, 30) and
# b (100, 200, 300) at the same steps; "current" exog holds a=40, b=400 at the forecast time.
ROWS = {
    ("newest_first", "current"): [3, 2, 1, 40, 400],  # skforecast
    ("oldest_first", "by_variable"): [1, 2, 3, 10, 20, 30, 100, 200, 300],  # sktime
    ("oldest_first", "by_lag"): [1, 2, 3, 10, 100, 20, 200, 30, 300],  # darts
    ("newest_first", "by_variable"): [3, 2, 1, 30, 20, 10, 300, 200, 100],
}
LAGGED = [[1, 10, 100], [2, 20, 200], [3, 30, 300]]
CURRENT = [[1, 40, 400], [2, 40, 400], [3, 40, 400]]


@pytest.mark.parametrize(("order", "layout"), list(ROWS))
def test_every_layout_gives_time_ordered_steps(order, layout):
    row = np.array([ROWS[order, layout]], dtype=float)
    lags = LagSequenceTransformer(3, order=order, exog_layout=layout).fit(row)
    assert (lags.n_lags_, lags.n_exog_) == (3, 2)
    expected = CURRENT if layout == "current" else LAGGED
    np.testing.assert_array_equal(lags.transform(row), [expected])


def test_without_exog_every_column_is_a_lag():
    X = pd.DataFrame({"lag_1": [3.0], "lag_2": [2.0], "lag_3": [1.0]})
    out = LagSequenceTransformer(order="newest_first").fit_transform(X)
    np.testing.assert_array_equal(out, [[[1.0], [2.0], [3.0]]])


def test_misfit_layouts_are_refused_and_leave_the_transformer_as_it_was():
    lags = LagSequenceTransformer(3, exog_layout="by_lag")
    before = dict(vars(lags))
    with pytest.raises(ValueError, match="not a multiple of 3"):
        lags.fit(np.zeros((2, 7)))
    with pytest.raises(ValueError, match="n_lags=3, but X has only 2 columns"):
        lags.fit(np.zeros((2, 2)))
    assert vars(lags) == before
    lags.fit(np.zeros((2, 6)))
    with pytest.raises(ValueError, match="X has 5 features"):
        lags.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="'order' parameter"):
        LagSequenceTransformer(order="backwards").fit(np.zeros((2, 3)))


def test_in_a_pipeline_the_lstm_sees_the_native_windows():
    """Rows in skforecast's layout through the pipeline = the LSTM fitted on the windows."""
    rng = np.random.default_rng(0)
    windows = rng.normal(size=(64, 4, 2))  # (y, exog) per step, oldest first
    y = windows[:, -1, 0] + windows[:, :, 1].sum(axis=1)
    rows = np.column_stack([windows[:, ::-1, 0], windows[:, ::-1, 1]])  # both newest first
    lstm = LSTMRegressor(units=4, max_epochs=3, random_state=0)
    pipe = make_pipeline(LagSequenceTransformer(4, order="newest_first"), clone(lstm))
    native = clone(lstm).fit(windows, y)
    np.testing.assert_allclose(pipe.fit(rows, y).predict(rows), native.predict(windows))
