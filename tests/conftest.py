"""Shared fixtures: tiny data and fast estimator settings."""

import gc
import os

import numpy as np
import pandas as pd
import pytest
import torch

# Tiny networks, few epochs: enough to test behaviour and numbers in well under a second a fit.
FAST = {"units": 8, "max_epochs": 3, "batch_size": 32, "validation_fraction": 0.0}

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs one pytest-xdist worker per core: one torch thread per worker, and in
    # the processes the tests start, so that the workers do not fight over the cores.
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"

if torch.cuda.is_available():
    # On a GPU machine the tests (accelerator="auto") train on the GPU. PyTorch lets cuDNN's
    # LSTM use TF32 (a 10-bit mantissa) on Ampere and newer by default, which alone moves
    # forecasts by ~1e-4 relative: the tests compare two ways of computing the same thing in
    # full float32.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def pytest_collection_finish(session):
    # What collection imported (torch, Lightning, sklearn, optuna, ...) lives as long as the
    # run: frozen out of the collector's reach, the gc.collect() that ends every search and
    # every trial scans the objects the tests create, not half a million (0.6 s each).
    gc.freeze()


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
