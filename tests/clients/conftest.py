"""Run by `make test-clients` in .venv-clients only (skforecast pins pandas < 3)."""

import numpy as np
import pandas as pd
import pytest

from tsforecast import LSTMRegressor

N_LAGS = 3
N_TRAIN = 400
N_TEST = 100


@pytest.fixture(scope="session")
def ar2_exog() -> tuple[pd.Series, pd.Series]:
    """AR(2) target driven by the previous value of an exogenous series, on a daily index."""
    rng = np.random.default_rng(0)
    n = N_TRAIN + N_TEST
    x = rng.normal(size=n)
    y = np.zeros(n)
    for t in range(2, n):
        y[t] = 0.6 * y[t - 1] - 0.3 * y[t - 2] + 0.8 * x[t - 1] + 0.5 * rng.normal()
    index = pd.date_range("2020-01-01", periods=n, freq="D")
    return pd.Series(y, index=index, name="y"), pd.Series(x, index=index, name="x")


def make_lstm() -> LSTMRegressor:
    return LSTMRegressor(units=8, max_epochs=40, learning_rate=0.02, patience=None, random_state=0)


def mse(forecast: np.ndarray, actual: np.ndarray) -> float:
    return float(np.mean((np.asarray(forecast) - np.asarray(actual)) ** 2))


def _native_mse(windows: np.ndarray, targets: np.ndarray) -> float:
    n_fit = N_TRAIN - N_LAGS
    model = make_lstm().fit(windows[:n_fit], targets[:n_fit])
    return mse(model.predict(windows[n_fit:]), targets[n_fit:])


def _lag_windows(steps: np.ndarray) -> np.ndarray:
    """Windows of the N_LAGS rows of ``steps`` before each target, oldest first.

    A contiguous copy, as the clients' rows become: the estimator trains a strided view of one
    series through another path (same data, different shuffling), which moves the MSE by ~6%.
    """
    windows = np.lib.stride_tricks.sliding_window_view(steps, N_LAGS, axis=0)
    return np.ascontiguousarray(windows.transpose(0, 2, 1)[:-1])


@pytest.fixture(scope="session")
def native_mse(ar2_exog: tuple[pd.Series, pd.Series]) -> float:
    """The same LSTM fitted natively on windows of (y, x) at the N_LAGS steps before each
    target: what sktime and darts give with lagged exogenous columns."""
    y, x = ar2_exog
    return _native_mse(_lag_windows(np.column_stack([y, x])), y.to_numpy()[N_LAGS:])


@pytest.fixture(scope="session")
def native_mse_current_exog(ar2_exog: tuple[pd.Series, pd.Series]) -> float:
    """The same LSTM on windows of y's lags, each step also holding x at t - 1 (skforecast's
    exog at the forecast time is the driver's previous value)."""
    y, x = ar2_exog
    windows = _lag_windows(y.to_numpy()[:, np.newaxis])
    previous_x = np.broadcast_to(x.to_numpy()[N_LAGS - 1 : -1, None, None], windows.shape)
    return _native_mse(np.concatenate([windows, previous_x], axis=2), y.to_numpy()[N_LAGS:])


@pytest.fixture(scope="session")
def baselines(ar2_exog: tuple[pd.Series, pd.Series]) -> dict[str, float]:
    y = ar2_exog[0].to_numpy()
    actual = y[N_TRAIN:]
    return {"zero": mse(0.0, actual), "naive": mse(y[N_TRAIN - 1 : -1], actual)}


def check_forecast(client_mse: float, native_mse: float, baselines: dict[str, float]) -> None:
    assert client_mse < min(baselines.values()), (client_mse, baselines)
    assert abs(client_mse / native_mse - 1) < 0.05, (client_mse, native_mse)
