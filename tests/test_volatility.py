"""Variance targets, variance baselines, QLIKE (metric and LSTM loss), Diebold-Mariano."""

import numpy as np
import pandas as pd
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from tsforecast import LSTMRegressor
from tsforecast.metrics import diebold_mariano, qlike
from tsforecast.preprocessing import garman_klass_variance, parkinson_variance, squared_returns
from tsforecast.volatility import EWMAVarianceForecaster, GARCHForecaster, HARForecaster


def simulate_garch(n, omega=0.05, alpha=0.1, beta=0.85, seed=0):
    rng = np.random.default_rng(seed)
    returns, variance = np.empty(n), omega / (1 - alpha - beta)
    for t in range(n):
        returns[t] = np.sqrt(variance) * rng.standard_normal()
        variance = omega + alpha * returns[t] ** 2 + beta * variance
    return returns


# ---------------------------------------------------------------- Diebold-Mariano
def test_diebold_mariano_one_step_against_a_hand_computation():
    # d = e_a² - e_b² = [0.75, 3, 1.25, 0.75]: mean 1.4375, variance (1/n) 0.85546875,
    # DM = 1.4375 / sqrt(0.85546875 / 4) = 3.10839; HLN factor sqrt(3 / 4).
    result = diebold_mariano([1.0, -2.0, 1.5, -1.0], [0.5, -1.0, 1.0, 0.5])
    assert result.statistic == pytest.approx(3.108394 * np.sqrt(0.75), rel=1e-6)
    # Two-sided Student t with 3 degrees of freedom at 2.691946: 0.074291.
    assert result.pvalue == pytest.approx(0.074291, abs=1e-6)


def test_diebold_mariano_two_steps_counts_the_first_autocovariance():
    a = np.array([2.0, 3.0, 1.0, 2.0, 4.0, 3.0])
    b = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    # Absolute losses: d = [1, 2, 0, 1, 3, 2], mean 1.5, centred [-0.5, 0.5, -1.5, -0.5, 1.5, 0.5]
    # gamma0 = 5.5 / 6, gamma1 = (-0.25 - 0.75 + 0.75 - 0.75 + 0.75) / 6 = -0.25 / 6
    variance = 5.5 / 6 + 2 * (-0.25 / 6)
    dm = 1.5 / np.sqrt(variance / 6)
    factor = np.sqrt((6 + 1 - 4 + 2 / 6) / 6)
    result = diebold_mariano(a, b, horizon=2, loss="absolute")
    assert result.statistic == pytest.approx(dm * factor, rel=1e-12)
    # Swapping the forecasts flips the sign and keeps the p-value.
    swapped = diebold_mariano(b, a, horizon=2, loss="absolute")
    assert swapped.statistic == pytest.approx(-result.statistic)
    assert swapped.pvalue == pytest.approx(result.pvalue)


def test_diebold_mariano_size_and_power():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(2, 500))
    assert diebold_mariano(noise[0], noise[1]).pvalue > 0.05  # equal accuracy
    assert diebold_mariano(2 * noise[0], noise[1]).pvalue < 1e-6
    assert np.isnan(diebold_mariano(noise[0], noise[0]).statistic)  # identical: undefined


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"loss": "hinge"}, "loss must be one of"),
        ({"horizon": 0}, "horizon must be an int"),
        ({"horizon": 4}, "too few"),
    ],
)
def test_diebold_mariano_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        diebold_mariano([1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 2.0], **kwargs)


def test_diebold_mariano_on_precomputed_qlike_losses():
    y, h_a, h_b = np.array([1.0, 2.0, 0.5, 3.0]), np.ones(4), np.array([1.0, 2.0, 1.0, 2.0])
    precomputed = diebold_mariano(
        qlike(y, h_a, per_sample=True), qlike(y, h_b, per_sample=True), loss="precomputed"
    )
    d = (y / h_a - np.log(y / h_a)) - (y / h_b - np.log(y / h_b))
    assert precomputed.statistic == pytest.approx(
        d.mean() / np.sqrt(d.var() / 4) * np.sqrt(3 / 4), rel=1e-12
    )


# ---------------------------------------------------------------- QLIKE and targets
def test_qlike_against_a_hand_computation_and_scale_invariance():
    # y/h = [1, 2]: terms 0 and 2 - log 2 - 1 = 0.306853
    assert qlike([1.0, 4.0], [1.0, 2.0]) == pytest.approx((1 - np.log(2)) / 2, rel=1e-12)
    assert qlike([100.0, 400.0], [100.0, 200.0]) == pytest.approx(qlike([1, 4], [1, 2]))
    # Under-forecasting risk costs more than over-forecasting it by the same factor.
    assert qlike([2.0], [1.0]) > qlike([1.0], [2.0])
    with pytest.raises(ValueError, match="y_true has 1 values <= 0"):
        qlike([0.0, 1.0], [1.0, 1.0])


def test_variance_targets_against_hand_computations():
    prices = pd.Series([100.0, 101.0, 101.0, 99.0])
    floor = (0.01 / 101.0) ** 2 / 6
    expected = [np.log(1.01) ** 2, floor, np.log(99 / 101) ** 2]
    np.testing.assert_allclose(squared_returns(prices, tick=0.01), expected, rtol=1e-12)
    assert squared_returns(prices).iloc[1] == 0.0
    ohlc = pd.DataFrame(
        {"Open": [100.0, 50.0], "High": [104.0, 51.0], "Low": [98.0, 49.0], "Close": [103.0, 50.0]}
    )
    hl = np.log(ohlc["High"] / ohlc["Low"]).to_numpy()
    np.testing.assert_allclose(parkinson_variance(ohlc), hl**2 / (4 * np.log(2)))
    co = np.log(ohlc["Close"] / ohlc["Open"]).to_numpy()
    np.testing.assert_allclose(
        garman_klass_variance(ohlc), 0.5 * hl**2 - (2 * np.log(2) - 1) * co**2
    )


def _bar(**second):
    """Two daily bars; the second (index "b") takes the given prices."""
    bars = {"Open": [100.0, 101.0], "High": [102.0, 102.0], "Low": [99.0, 98.0]}
    bars["Close"] = [101.0, 100.0]
    frame = pd.DataFrame(bars, index=["a", "b"])
    for name, price in second.items():
        frame.loc["b", name] = price
    return frame


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: squared_returns([1.0, 2.0]), TypeError, "pandas Series"),
        (lambda: squared_returns(pd.Series([1.0, -1.0])), ValueError, "positive"),
        (lambda: parkinson_variance(pd.DataFrame({"High": [1.0]})), ValueError, "no column"),
        (
            lambda: parkinson_variance(pd.DataFrame({"High": [1.0], "Low": [2.0]})),
            ValueError,
            "High < Low",
        ),
        (lambda: squared_returns(pd.Series([1.0, 2.0]), tick=np.nan), ValueError, "tick"),
        (lambda: squared_returns(pd.Series([1.0, 2.0]), tick=np.inf), ValueError, "tick"),
        (
            lambda: garman_klass_variance(_bar(Close=103.0)),
            ValueError,
            r"Close > High \(the first at index 'b'\)",
        ),
        (lambda: garman_klass_variance(_bar(Close=97.0)), ValueError, "Close < Low"),
        (lambda: garman_klass_variance(_bar(Open=105.0)), ValueError, "Open > High"),
        (lambda: garman_klass_variance(_bar(Open=90.0)), ValueError, "Open < Low"),
    ],
)
def test_variance_targets_refuse_bad_prices(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------- baselines
def test_ewma_matches_pandas_exponential_weighting():
    returns = np.random.default_rng(0).normal(size=60)
    X = sliding_window_view(returns, 30)
    model = EWMAVarianceForecaster(decay=0.9).fit(X, np.ones(len(X)))
    expected = pd.Series(returns**2).ewm(alpha=0.1, adjust=True).mean().to_numpy()
    # adjust=True weights the whole history; over a window the same weights restart.
    np.testing.assert_allclose(model.predict(X[:1]), expected[29], rtol=1e-12)


def test_har_recovers_its_coefficients():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 2.0, size=(400, 30))
    y = 0.1 + 0.4 * X[:, -1] + 0.3 * X[:, -5:].mean(axis=1) + 0.2 * X[:, -22:].mean(axis=1)
    model = HARForecaster().fit(X, y)
    np.testing.assert_allclose(model.coef_, [0.1, 0.4, 0.3, 0.2], atol=1e-8)
    with pytest.raises(ValueError, match="at least 22 steps"):
        HARForecaster().fit(X[:, :10], y)


def test_garch_recovers_parameters_and_matches_arch_forecasts():
    arch = pytest.importorskip("arch")
    returns = simulate_garch(3000)
    X = sliding_window_view(returns[:-1], 300)
    model = GARCHForecaster().fit(X, returns[300:] ** 2)
    p = model.params_
    assert p["alpha"] == pytest.approx(0.1, abs=0.03)
    assert p["beta"] == pytest.approx(0.85, abs=0.05)
    # The same parameters run through arch's own recursion over the whole series.
    fixed = arch.arch_model(returns[:-1], mean="Constant", vol="GARCH", p=1, q=1).fix(
        [p["mu"], p["omega"], p["alpha"], p["beta"]]
    )
    expected = fixed.forecast(horizon=3, reindex=False).variance.to_numpy()[-1]
    model_3 = GARCHForecaster().fit(X, np.repeat(returns[300:, None] ** 2, 3, axis=1))
    np.testing.assert_allclose(model_3.predict(X[-1:])[0], expected, rtol=1e-6)


# ---------------------------------------------------------------- the LSTM with QLIKE
def test_lstm_qlike_learns_the_variance_and_is_scale_free():
    rng = np.random.default_rng(0)
    vol = np.exp(np.sin(np.arange(1220) / 40))
    returns = rng.normal(size=len(vol)) * vol
    X = sliding_window_view(returns[:-1], 20)[:, :, None].astype("float32")
    y = returns[20:] ** 2
    params = {"units": 8, "max_epochs": 10, "learning_rate": 0.01, "random_state": 0}
    model = LSTMRegressor(loss="qlike", **params).fit(X[:900], y[:900])
    forecast = model.predict(X[900:])
    assert (forecast > 0).all()
    truth = np.maximum(y[900:], 1e-12)
    constant = qlike(truth, np.full(len(truth), y[:900].mean()))
    oracle = qlike(truth, vol[920:] ** 2)
    assert qlike(truth, forecast) < constant - 0.5 * (constant - oracle)
    # Variance in other units: the same net, the forecast in the new units.
    rescaled = LSTMRegressor(loss="qlike", **params).fit(X[:900], 1e4 * y[:900])
    np.testing.assert_allclose(rescaled.predict(X[900:]), 1e4 * forecast, rtol=1e-4)


def test_lstm_qlike_refuses_negative_targets_and_keeps_its_state():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 5, 1)).astype("float32"), rng.uniform(0.5, 1.5, size=60)
    model = LSTMRegressor(loss="qlike", units=4, max_epochs=1, random_state=0).fit(X, y)
    before = model.predict(X)
    with pytest.raises(ValueError, match="loss='qlike' needs variance targets"):
        model.fit(X, y - 1.0)
    np.testing.assert_array_equal(model.predict(X), before)
