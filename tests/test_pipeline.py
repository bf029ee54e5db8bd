"""End to end on the shipped data: the Pipeline / GridSearchCV code of the README."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import LSTMClassifier, LSTMRegressor, SlidingWindowTransformer, make_supervised
from tsforecast.datasets import load_eurusd, load_sp500

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sp500_supervised():
    prices = load_sp500().iloc[-1200:]  # the last ~5 years keep the test fast
    return make_supervised(prices[["Close", "Volume"]], target="Close", horizon=1)


def test_regressor_pipeline_and_grid_search(sp500_supervised):
    X, y = sp500_supervised
    split = int(len(X) * 0.8)
    pipe = make_pipeline(
        StandardScaler(),
        SlidingWindowTransformer(window=30),
        LSTMRegressor(units=32, num_layers=2, max_epochs=2, random_state=0),
    ).set_output(transform="pandas")  # the test rows read the training rows as history
    pipe.fit(X.iloc[:split], y.iloc[:split])
    pred = pipe.predict(X.iloc[split:])
    assert pred.shape == (len(X) - split,)
    assert np.isfinite(pred).all()
    assert pipe[-1].n_features_in_ == 2
    gs = GridSearchCV(
        pipe,
        {"lstmregressor__units": [16, 32], "lstmregressor__num_layers": [1, 2]},
        cv=TimeSeriesSplit(3),
    ).fit(X.iloc[:split], y.iloc[:split])
    assert set(gs.best_params_) == {"lstmregressor__units", "lstmregressor__num_layers"}
    assert len(gs.cv_results_["mean_test_score"]) == 4
    assert np.isfinite(gs.cv_results_["mean_test_score"]).all()
    assert gs.predict(X.iloc[split:]).shape == pred.shape


def test_classifier_pipeline_on_next_return_sign():
    rates = np.log(load_eurusd()).diff().dropna().iloc[-1500:]
    X, next_return = make_supervised(rates, target="USD", horizon=1)
    y = np.where(next_return > 0, "up", "down")
    split = int(len(X) * 0.8)
    pipe = make_pipeline(
        StandardScaler(),
        SlidingWindowTransformer(window=20),
        LSTMClassifier(units=16, max_epochs=2, random_state=0),
    ).set_output(transform="pandas")
    pipe.fit(X.iloc[:split], y[:split])
    assert pipe.classes_.tolist() == ["down", "up"]
    proba = pipe.predict_proba(X.iloc[split:])
    assert proba.shape == (len(X) - split, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # Daily FX direction is close to a coin flip: an honest model is near 50%, not far above.
    accuracy = pipe.score(X.iloc[split:], y[split:])
    assert 0.4 < accuracy < 0.6


def test_pipeline_predictions_never_use_later_rows(sp500_supervised):
    """Changing the future must not change a past prediction (no look-ahead in the pipeline)."""
    X, y = sp500_supervised
    pipe = make_pipeline(
        StandardScaler(),
        SlidingWindowTransformer(window=10),
        LSTMRegressor(units=8, max_epochs=1, random_state=0),
    ).set_output(transform="pandas")
    pipe.fit(X.iloc[:600], y.iloc[:600])
    test = X.iloc[600:700].copy()
    before = pipe.predict(test)
    test.iloc[50:] *= 1.5
    after = pipe.predict(test)
    np.testing.assert_array_equal(before[:50], after[:50])
    assert not np.allclose(before[50:], after[50:])
