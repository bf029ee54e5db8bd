"""The default validation split: early stopping only where the validation loss means something."""

import numpy as np
import pytest

from tsforecast import LSTMRegressor
from tsforecast.estimators._defaults import _MIN_AUTO_VALIDATION, _validation_size


@pytest.mark.parametrize(
    ("n_samples", "expected"),
    [(0, 0), (1, 0), (200, 0), (490, 0), (491, _MIN_AUTO_VALIDATION), (3000, 300)],
)
def test_auto_holds_out_a_tenth_only_from_the_minimum_size(n_samples, expected):
    assert _validation_size(n_samples, "auto") == expected


@pytest.mark.parametrize(
    ("n_samples", "fraction", "expected"),
    [(200, 0.1, 20), (24, 0.25, 6), (3, 0.1, 1), (3000, 0.0, 0), (10, 0.999, 10)],
)
def test_an_explicit_fraction_is_honoured_on_any_size(n_samples, fraction, expected):
    assert _validation_size(n_samples, fraction) == expected


def _data(n_samples):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, 3, 1)).astype(np.float32)
    return X, X[:, -1, 0]


def test_default_split_trains_small_data_for_max_epochs_without_validation():
    model = LSTMRegressor(units=2, max_epochs=3, patience=1, random_state=0).fit(*_data(200))
    assert model.n_iter_ == 3
    assert all(set(record) == {"epoch", "train_loss"} for record in model.history_)


def test_default_split_keeps_early_stopping_on_larger_data():
    model = LSTMRegressor(units=2, max_epochs=2, random_state=0).fit(*_data(600))
    assert all("val_loss" in record for record in model.history_)
    explicit = LSTMRegressor(units=2, max_epochs=2, validation_fraction=0.1, random_state=0)
    assert all("val_loss" in record for record in explicit.fit(*_data(200)).history_)
