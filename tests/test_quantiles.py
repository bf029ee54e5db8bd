"""Quantile loss: the pinball loss, interval coverage, inversion through relative targets."""

import numpy as np
import pytest
import torch
from conftest import FAST
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from tsforecast import LSTMRegressor, SlidingWindowTransformer, make_supervised
from tsforecast._nn.losses import QuantileLoss
from tsforecast.compose import RelativeTargetRegressor
from tsforecast.persistence import load_model, save_model
from tsforecast.preprocessing import ReturnsTransformer


def test_pinball_loss_values():
    loss = QuantileLoss([0.1, 0.9])
    # One target; errors y - pred = 1 for both quantiles: 0.1 * 1 and 0.9 * 1.
    value = loss(torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0]]))
    assert value.item() == pytest.approx((0.1 + 0.9) / 2)
    # Over-forecasting by 1: (1 - q) each.
    value = loss(torch.tensor([[2.0, 2.0]]), torch.tensor([[1.0]]))
    assert value.item() == pytest.approx((0.9 + 0.1) / 2)


@pytest.fixture
def noisy(rng):
    """y = x_last + noise with a known spread: N(0, 1) quantiles are -1.28, 0, 1.28."""
    X = rng.normal(size=(2000, 4, 1)).astype(np.float32)
    y = X[:, -1, 0] + rng.normal(size=2000)
    return X, y


def test_quantile_regressor_intervals_cover_as_promised(noisy):
    X, y = noisy
    model = LSTMRegressor(
        **{**FAST, "max_epochs": 15, "batch_size": 64},
        loss="quantile",
        learning_rate=0.01,
        random_state=0,
    ).fit(X[:1500], y[:1500])
    q = model.predict_quantiles(X[1500:])
    assert q.shape == (500, 3)
    assert (np.diff(q, axis=1) >= 0).all()  # never crossing
    coverage = np.mean((y[1500:] >= q[:, 0]) & (y[1500:] <= q[:, 2]))
    assert 0.72 <= coverage <= 0.88  # nominal 0.80, 500 samples
    np.testing.assert_array_equal(model.predict(X[1500:]), q[:, 1])
    width = np.mean(q[:, 2] - q[:, 0])
    assert width == pytest.approx(2 * 1.2816, rel=0.2)


def test_quantiles_multi_output_and_persistence(noisy, tmp_path):
    X, y = noisy
    Y = np.c_[y, 2 * y][:300]
    model = LSTMRegressor(**FAST, loss="quantile", quantiles=[0.25, 0.5, 0.75]).fit(X[:300], Y)
    assert model.predict_quantiles(X[:5]).shape == (5, 2, 3)
    np.testing.assert_array_equal(model.predict(X[:5]), model.predict_quantiles(X[:5])[:, :, 1])
    save_model(model, tmp_path / "q.pt")
    np.testing.assert_array_equal(
        load_model(tmp_path / "q.pt").predict_quantiles(X[:5]), model.predict_quantiles(X[:5])
    )


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"loss": "quantile", "quantiles": (0.9, 0.1)}, "increasing"),
        ({"loss": "quantile", "quantiles": (0.0, 0.5)}, "strictly between 0 and 1"),
        ({"loss": "quantile", "quantiles": ()}, "increasing"),
        ({"loss": "mse", "quantiles": (0.1, 0.9)}, "needs loss='quantile'"),
    ],
)
def test_bad_quantiles_are_refused(noisy, params, match):
    X, y = noisy
    with pytest.raises(ValueError, match=match):
        LSTMRegressor(**FAST, **params).fit(X[:50], y[:50])


def test_predict_quantiles_needs_a_quantile_model(noisy):
    X, y = noisy
    model = LSTMRegressor(**FAST).fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="loss='quantile'"):
        model.predict_quantiles(X[:5])


def test_relative_target_quantiles_are_price_levels(series_frame):
    prices = series_frame.assign(price=lambda d: 100 + 10 * d["price"])
    X, y = make_supervised(prices, target="price")
    model = RelativeTargetRegressor(
        make_pipeline(
            ReturnsTransformer(),
            SlidingWindowTransformer(window=5),
            LSTMRegressor(**FAST, loss="quantile", random_state=0),
        ),
        reference="price",
    ).fit(X, y)
    bands = model.predict_quantiles(X)
    assert bands.shape == (len(X), 3)
    assert (np.diff(bands, axis=1) >= 0).all()
    # The median band is the point forecast, in price units around the current price.
    np.testing.assert_allclose(bands[:, 1], model.predict(X))
    assert np.all(np.abs(bands[:, 1] / X["price"] - 1) < 0.5)
    with pytest.raises(TypeError, match="Ridge has no predict_quantiles"):
        RelativeTargetRegressor(Ridge(), reference="price").fit(X, y).predict_quantiles(X)
