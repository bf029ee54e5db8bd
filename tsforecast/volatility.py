"""The classical variance forecasts to put next to a volatility model.

The variance targets they forecast (:func:`~tsforecast.preprocessing.squared_returns`,
:func:`~tsforecast.preprocessing.parkinson_variance`,
:func:`~tsforecast.preprocessing.garman_klass_variance`) are in
:mod:`tsforecast.preprocessing`.

Baselines, as scikit-learn regressors over the same rows as the LSTM (windows ``X`` of shape
``(n_samples, n_timesteps)`` or ``(n_samples, n_timesteps, n_features)``, oldest step first;
``feature`` picks the series in 3-D input), forecasting the variance of the next
``n_outputs`` steps:

- :class:`EWMAVarianceForecaster`: RiskMetrics' exponentially weighted squared returns.
- :class:`HARForecaster`: Corsi's heterogeneous autoregression on a variance proxy.
- :class:`GARCHForecaster`: GARCH(1, 1) fitted by the ``arch`` package (optional extra
  ``pip install tsforecast[arch]``).

Score them with :func:`tsforecast.metrics.qlike`.
"""

from __future__ import annotations

from abc import abstractmethod
from numbers import Real
from typing import Any, ClassVar

import numpy as np
from sklearn.linear_model import LinearRegression

from ._utils.sklearn_compat import Interval
from .baselines import _WindowBaseline

_GARCH_MIN_SAMPLES = 10  # four parameters: fewer returns leave the likelihood flat


class _VarianceBaseline(_WindowBaseline):
    """A one-step variance forecast, flat or mean-reverting over the output horizons."""

    def _forecast(self, series: np.ndarray) -> np.ndarray:
        return np.repeat(self._one_step(series)[:, np.newaxis], self.n_outputs_, axis=1)

    @abstractmethod
    def _one_step(self, series: np.ndarray) -> np.ndarray:
        """Next-step variance forecasts ``(n_samples,)``."""


class EWMAVarianceForecaster(_VarianceBaseline):
    """RiskMetrics' variance forecast: exponentially weighted squared returns.

    The forecast for the next step is ``sum_i w_i r_{t-i}²`` with weights proportional to
    ``decay ** i`` over the window, normalised to sum to one (a zero-mean return, as
    RiskMetrics assumes). Every horizon gets the same forecast.

    Parameters
    ----------
    decay : float, default=0.94
        RiskMetrics' lambda for daily data.
    feature : int, default=0
        The return series, for 3-D windows.

    Attributes
    ----------
    n_outputs_ : int
        Number of targets (horizons).

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast.volatility import EWMAVarianceForecaster
    >>> X = np.array([[0.0, 1.0, 2.0]])
    >>> EWMAVarianceForecaster(decay=0.5).fit(X, [1.0]).predict(X).round(6)
    array([2.571429])
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_WindowBaseline._parameter_constraints,
        "decay": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(self, decay: float = 0.94, *, feature: int = 0) -> None:
        super().__init__(feature=feature)
        self.decay = decay

    def _one_step(self, series: np.ndarray) -> np.ndarray:
        weights = self.decay ** np.arange(series.shape[1])[::-1]
        return series**2 @ (weights / weights.sum())


class HARForecaster(_VarianceBaseline):
    """Corsi's (2009) HAR: tomorrow's variance regressed on its daily, weekly, monthly means.

    Features are the last value and the means over the last 5 and 22 steps of a variance
    proxy (squared returns or a range estimate); the regression has non-negative
    coefficients and intercept, so that every forecast is a positive variance.

    Parameters
    ----------
    feature : int, default=0
        The variance proxy, for 3-D windows; windows need at least 22 steps.

    Attributes
    ----------
    coef_ : ndarray of shape (4,)
        Intercept and daily, weekly, monthly coefficients of the one-step regression.
    n_outputs_ : int
        Number of targets (horizons); each gets the one-step forecast.

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast.volatility import HARForecaster
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(1, 2, size=(50, 22))
    >>> y = 0.5 + X[:, -1]
    >>> HARForecaster().fit(X, y).coef_.round(2)
    array([0.5, 1. , 0. , 0. ])
    """

    _LAGS = (1, 5, 22)

    def _features(self, series: np.ndarray) -> np.ndarray:
        if series.shape[1] < self._LAGS[-1]:
            raise ValueError(
                f"HAR needs windows of at least {self._LAGS[-1]} steps; got {series.shape[1]}."
            )
        means = [series[:, -lag:].mean(axis=1) for lag in self._LAGS]
        return np.column_stack([np.ones(len(series)), *means])

    def _learn(self, series: np.ndarray, targets: np.ndarray) -> None:
        regression = LinearRegression(fit_intercept=False, positive=True)
        self.coef_ = regression.fit(self._features(series), targets[:, 0]).coef_

    def _one_step(self, series: np.ndarray) -> np.ndarray:
        return self._features(series) @ self.coef_


class GARCHForecaster(_VarianceBaseline):
    """GARCH(1, 1) with a constant mean, estimated by the ``arch`` package.

    ``fit`` estimates the model by maximum likelihood on the last return of each training
    window (in time order, the return series itself for windows one step apart). ``predict``
    runs the fitted recursion ``s²(t+1) = omega + alpha e(t)² + beta s²(t)`` through each
    window, started at the unconditional variance, and forecasts horizon ``h`` as
    ``v + (alpha + beta) ** (h - 1) (s²(t+1) - v)`` with ``v`` the unconditional variance.
    With ``beta`` near 0.9, the start is forgotten after a few dozen steps: use windows of
    100 steps or more.

    Parameters
    ----------
    feature : int, default=0
        The return series, for 3-D windows.

    Attributes
    ----------
    params_ : dict
        ``mu``, ``omega``, ``alpha``, ``beta`` in the units of the returns.
    n_outputs_ : int
        Number of targets (horizons).

    Examples
    --------
    >>> import numpy as np
    >>> from numpy.lib.stride_tricks import sliding_window_view
    >>> from tsforecast.volatility import GARCHForecaster
    >>> returns = np.random.default_rng(0).standard_t(5, size=600) / 100
    >>> X = sliding_window_view(returns[:-1], 100)
    >>> model = GARCHForecaster().fit(X, returns[100:] ** 2)
    >>> bool((model.predict(X) > 0).all())
    True
    """

    def _learn(self, series: np.ndarray, targets: np.ndarray) -> None:
        try:
            from arch import arch_model
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError(
                "GARCHForecaster needs the arch package: pip install tsforecast[arch]"
            ) from error
        returns = series[:, -1]
        if len(returns) < _GARCH_MIN_SAMPLES:
            raise ValueError(
                f"GARCH(1, 1) needs at least {_GARCH_MIN_SAMPLES} training samples; got "
                f"n_samples={len(returns)}."
            )
        scale = returns.std()
        if not scale > 0:
            raise ValueError("The training returns are constant: GARCH cannot be estimated.")
        # arch's optimiser is tuned for returns of unit order: fit on standardized returns.
        fitted = arch_model(returns / scale, mean="Constant", vol="GARCH", p=1, q=1).fit(
            disp="off", options={"maxiter": 500}
        )
        if fitted.convergence_flag != 0:
            raise ValueError(f"GARCH estimation did not converge: {fitted.optimization_result}")
        mu, omega, alpha, beta = fitted.params[["mu", "omega", "alpha[1]", "beta[1]"]]
        self.params_ = {
            "mu": float(mu * scale),
            "omega": float(omega * scale**2),
            "alpha": float(alpha),
            "beta": float(beta),
        }

    def _unconditional(self) -> float:
        p = self.params_
        persistence = p["alpha"] + p["beta"]
        return p["omega"] / (1 - persistence) if persistence < 1 else np.nan

    def _one_step(self, series: np.ndarray) -> np.ndarray:
        p = self.params_
        unconditional = self._unconditional()
        start = unconditional if np.isfinite(unconditional) else np.mean(series**2)
        variance = np.full(len(series), start)
        for shock in (series - p["mu"]).T:
            variance = p["omega"] + p["alpha"] * shock**2 + p["beta"] * variance
        return variance

    def _forecast(self, series: np.ndarray) -> np.ndarray:
        one_step = self._one_step(series)[:, np.newaxis]
        unconditional = self._unconditional()
        if not np.isfinite(unconditional):  # integrated GARCH: the forecast stays flat
            return np.repeat(one_step, self.n_outputs_, axis=1)
        decay = (self.params_["alpha"] + self.params_["beta"]) ** np.arange(self.n_outputs_)
        return unconditional + decay * (one_step - unconditional)
