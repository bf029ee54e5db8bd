"""Shared fixtures: tiny data and fast estimator settings."""

import numpy as np
import pandas as pd
import pytest
import torch

# Tiny networks, few epochs: enough to test behaviour and numbers in well under a second a fit.
FAST = {"units": 8, "max_epochs": 3, "batch_size": 32, "validation_fraction": 0.0}


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def series_frame(rng):
    """A noisy two-feature sine series on business days: 300 rows, sorted DatetimeIndex."""
    t = np.arange(300)
    index = pd.bdate_range("2020-01-01", periods=len(t), name="Date")
    return pd.DataFrame(
        {
            "price": np.sin(t / 8) + 0.05 * rng.normal(size=len(t)),
            "volume": rng.uniform(1, 2, size=len(t)),
        },
        index=index,
    )


@pytest.fixture
def windows_data(rng):
    """3-D windows (n_samples, n_timesteps, n_features) with a learnable float target."""
    X = rng.normal(size=(160, 6, 2)).astype(np.float32)
    y = X[:, -1, 0] - 0.5 * X[:, -2, 1]
    return X, y
