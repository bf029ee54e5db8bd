"""The default validation split: early stopping only where the validation loss means something."""

import numpy as np
import pytest

from tsforecast import LSTMRegressor


def _data(n_samples):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, 3, 1)).astype(np.float32)
    return X, X[:, -1, 0]


def _validation_loss_over(model, X, y, n):
    """The loss of the fitted weights over the ``n`` most recent samples, as fit scores it."""
    errors = (model.predict(X[len(X) - n :]) - y[len(y) - n :]) / model.target_scale_
    return float(np.mean(errors**2))


@pytest.mark.parametrize(
    ("n_samples", "fraction", "expected"),
    [
        (1, "auto", 0),
        (200, "auto", 0),
        (490, "auto", 0),  # a tenth would be 49 samples: fewer than 50
        (491, "auto", 50),
        (3000, "auto", 300),
        (200, 0.1, 20),
        (24, 0.25, 6),
        (3, 0.1, 1),
        (3000, 0.0, 0),
    ],
)
def test_fit_validates_on_the_most_recent_samples_it_holds_out(n_samples, fraction, expected):
    """``"auto"`` holds out a tenth only from 50 samples on; an explicit fraction always."""
    X, y = _data(n_samples)
    model = LSTMRegressor(
        units=2, max_epochs=1, patience=1, validation_fraction=fraction, random_state=0
    ).fit(X, y)
    if expected == 0:
        assert all(set(record) == {"epoch", "train_loss"} for record in model.history_)
        return
    (record,) = model.history_  # one epoch: the weights kept are that epoch's
    assert _validation_loss_over(model, X, y, expected) == pytest.approx(
        record["val_loss"], rel=1e-5
    )
    for other in (expected - 1, expected + 1):  # the loss tells the sizes apart
        if 0 < other < n_samples:
            assert _validation_loss_over(model, X, y, other) != pytest.approx(
                record["val_loss"], rel=1e-5
            )


def test_default_split_trains_small_data_for_max_epochs_without_validation():
    model = LSTMRegressor(units=2, max_epochs=3, patience=1, random_state=0).fit(*_data(200))
    assert model.n_iter_ == 3
    assert all(set(record) == {"epoch", "train_loss"} for record in model.history_)


def test_default_split_keeps_early_stopping_on_larger_data():
    model = LSTMRegressor(units=2, max_epochs=2, random_state=0).fit(*_data(600))
    assert all("val_loss" in record for record in model.history_)
    explicit = LSTMRegressor(units=2, max_epochs=2, validation_fraction=0.1, random_state=0)
    assert all("val_loss" in record for record in explicit.fit(*_data(200)).history_)
