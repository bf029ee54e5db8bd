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


def documented_forms():
    """Every fitted form of forecasting model the documentation shows, on time-indexed data.

    Returns ``{name: (model, X_train, X_test)}``: each model fitted on ``X_train``, with
    ``X_test`` the rows that continue it (so that its transformers carry history over).
    """
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from tsforecast import LSTMRegressor, SlidingWindowTransformer
    from tsforecast.compose import AdaptiveConformalRegressor, RelativeTargetRegressor
    from tsforecast.preprocessing import PanelWindowTransformer, ReturnsTransformer

    rng = np.random.default_rng(3)
    index = pd.bdate_range("2021-01-04", periods=90, name="Date")
    X = pd.DataFrame(
        {"close": 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 90))), "rate": rng.normal(size=90)},
        index=index,
    )
    y = X["close"].shift(-1).ffill().to_numpy()
    panel = pd.concat(
        [X.assign(pair="EUR"), X.assign(pair="GBP", close=X["close"] * 1.2)]
    ).sort_index(kind="stable")
    fast = {"units": 4, "max_epochs": 1, "batch_size": 32, "random_state": 0}

    def lstm(**kwargs):
        return LSTMRegressor(**fast, **kwargs)

    def windows():
        return make_pipeline(StandardScaler(), SlidingWindowTransformer(window=5), lstm())

    forms = {
        "set_output_pandas": (windows().set_output(transform="pandas"), X, y),
        "windows_on_a_frame": (make_pipeline(SlidingWindowTransformer(window=5), lstm()), X, y),
        "lazy": (
            make_pipeline(
                SlidingWindowTransformer(window=5, lazy=True), lstm(standardize_inputs=True)
            ),
            X,
            y,
        ),
        "returns": (
            make_pipeline(
                ReturnsTransformer(kind={"rate": "difference"}),
                SlidingWindowTransformer(window=4),
                lstm(),
            ).set_output(transform="pandas"),
            X,
            y,
        ),
        "panel": (
            make_pipeline(PanelWindowTransformer(group="pair", window=4), lstm()),
            panel,
            panel["close"].to_numpy(),
        ),
        "relative_target": (RelativeTargetRegressor(windows(), reference="close"), X, y),
        "conformal": (
            AdaptiveConformalRegressor(windows().set_output(transform="pandas"), horizon=2),
            X,
            y,
        ),
        "quantiles": (
            make_pipeline(SlidingWindowTransformer(window=5), lstm(loss="quantile")),
            X,
            y,
        ),
    }
    fitted = {}
    for name, (model, data, target) in forms.items():
        n_train = len(data) * 3 // 4
        fitted[name] = (
            model.fit(data.iloc[:n_train], target[:n_train]),
            data.iloc[:n_train],
            data.iloc[n_train:],
        )
    return fitted


@pytest.fixture(scope="session")
def forms():
    return documented_forms()


def assert_same_state(actual, expected, where="state"):
    """``actual`` equals ``expected`` exactly, through dicts, lists and tuples: tensors and
    arrays element by element (NaN equal to NaN, not elided as in ``repr``), estimators by
    their type and parameters, other values by ``==`` (NaN equal to NaN) or, for objects
    without value equality, by identity."""
    if hasattr(expected, "get_params") and not isinstance(expected, type):
        assert type(actual) is type(expected), f"{where}: {type(actual)} != {type(expected)}"
        assert_same_state(actual.get_params(deep=False), expected.get_params(deep=False), where)
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), where
        for key in expected:
            assert_same_state(actual[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, list | tuple):
        assert type(actual) is type(expected) and len(actual) == len(expected), where
        for k, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same_state(a, e, f"{where}[{k}]")
    elif isinstance(expected, torch.Tensor):
        assert isinstance(actual, torch.Tensor), where
        torch.testing.assert_close(actual, expected, rtol=0, atol=0, equal_nan=True, msg=where)
    elif isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray) and actual.dtype == expected.dtype, where
        np.testing.assert_array_equal(actual, expected, err_msg=where)
    elif isinstance(expected, float) and np.isnan(expected):
        assert isinstance(actual, float) and np.isnan(actual), where
    else:
        assert actual == expected or actual is expected, f"{where}: {actual!r} != {expected!r}"
