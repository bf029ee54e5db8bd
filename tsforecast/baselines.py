"""Naive forecasts as scikit-learn regressors, to put next to every model.

They read the same windows as the LSTM estimators: ``X`` of shape ``(n_samples, n_timesteps)``
(one series) or ``(n_samples, n_timesteps, n_features)``, oldest step first, e.g. the output
of :class:`~tsforecast.SlidingWindowTransformer`. ``feature`` picks the forecast series in
3-D input. Feed them unscaled values: a baseline forecasts in the units it reads. A 2-D ``y``
(one column per horizon, as ``make_supervised(..., horizon=[1, 2, ...])`` gives) is
forecast column by column.
"""

from __future__ import annotations

import math
from abc import ABCMeta, abstractmethod
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from ._utils.sklearn_compat import Interval, _fit_context


class _WindowBaseline(RegressorMixin, BaseEstimator, metaclass=ABCMeta):
    """Validation shared by the baselines: windows in, one forecast per output column out."""

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "feature": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, *, feature: int = 0) -> None:
        self.feature = feature

    def _series(self, X: Any, *, reset: bool) -> np.ndarray:
        """The forecast feature of each window: ``(n_samples, n_timesteps)``."""
        if not hasattr(X, "ndim"):  # lists and other array-likes
            X = np.asarray(X)
        if X.ndim == 3:
            X = check_array(X, allow_nd=True, dtype=np.float64, input_name="X", estimator=self)
            if self.feature >= X.shape[2]:
                raise ValueError(
                    f"feature={self.feature}, but X has {X.shape[2]} features per time step."
                )
            self._check_steps(X.shape[1], reset=reset)
            return X[:, :, self.feature]
        X = validate_data(self, X, reset=reset, dtype=np.float64)
        self._check_steps(X.shape[1], reset=reset)
        return X

    def _check_steps(self, n_timesteps: int, *, reset: bool) -> None:
        if reset:
            self.n_timesteps_ = n_timesteps
        elif n_timesteps != self.n_timesteps_:
            raise ValueError(
                f"X has windows of {n_timesteps} steps; {type(self).__name__} was fitted on "
                f"{self.n_timesteps_}."
            )

    def _targets(self, y: Any) -> np.ndarray:
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y", estimator=self)
        y2d = y.reshape(len(y), -1)
        self.n_outputs_ = y2d.shape[1]
        return y2d

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> _WindowBaseline:
        """Check the data and learn what the forecast needs (nothing for most baselines).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or (n_samples, n_timesteps, n_features)
            Windows, oldest step first.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets; several columns are several horizons (1, 2, ...).

        Returns
        -------
        self : object
            The fitted baseline.
        """
        series = self._series(X, reset=True)
        targets = self._targets(y)
        if len(series) != len(targets):
            raise ValueError(f"X has {len(series)} samples but y has {len(targets)}.")
        self._learn(series, targets)
        return self

    def _learn(self, series: np.ndarray, targets: np.ndarray) -> None:
        """Estimate parameters from training windows and targets (none by default)."""

    def predict(self, X: Any) -> np.ndarray:
        """Forecast each window's target(s).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or (n_samples, n_timesteps, n_features)
            Windows, oldest step first.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        forecast = self._forecast(self._series(X, reset=False))
        return forecast.ravel() if self.n_outputs_ == 1 else forecast

    @abstractmethod
    def _forecast(self, series: np.ndarray) -> np.ndarray:
        """Forecasts ``(n_samples, n_outputs_)`` from windows of the forecast series."""

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.multi_output = True
        tags.regressor_tags.poor_score = True  # by design: they are the bar to beat
        return tags


class NaiveForecaster(_WindowBaseline):
    """Tomorrow = today: every horizon is forecast as the window's last value.

    Parameters
    ----------
    feature : int, default=0
        The forecast series, for 3-D windows.

    Attributes
    ----------
    n_outputs_ : int
        Number of targets (horizons).

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast.baselines import NaiveForecaster
    >>> X = np.array([[1.0, 2.0, 3.0], [2.0, 3.0, 5.0]])
    >>> NaiveForecaster().fit(X, [4.0, 6.0]).predict(X)
    array([3., 5.])
    """

    def _forecast(self, series: np.ndarray) -> np.ndarray:
        return np.repeat(series[:, -1:], self.n_outputs_, axis=1)


class DriftForecaster(_WindowBaseline):
    """The last value plus the average change to the target seen in training.

    For horizon ``h`` this is the random walk with drift: ``last + h * mean step``, the mean
    step estimated from the training targets.

    Parameters
    ----------
    feature : int, default=0
        The forecast series, for 3-D windows.

    Attributes
    ----------
    drift_ : ndarray of shape (`n_outputs_`,)
        Mean of ``y - last value`` over the training samples, per output.
    n_outputs_ : int
        Number of targets (horizons).

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast.baselines import DriftForecaster
    >>> X = np.array([[1.0, 2.0], [2.0, 3.0]])
    >>> DriftForecaster().fit(X, [3.0, 4.0]).predict(np.array([[5.0, 7.0]]))
    array([8.])
    """

    def _learn(self, series: np.ndarray, targets: np.ndarray) -> None:
        self.drift_ = (targets - series[:, -1:]).mean(axis=0)

    def _forecast(self, series: np.ndarray) -> np.ndarray:
        return series[:, -1:] + self.drift_


class SeasonalNaiveForecaster(_WindowBaseline):
    """The value one season before the target: ``y(t + h) = x(t + h - k * seasonality)``.

    ``k`` is the smallest whole number of seasons that reaches back into the window
    (``ceil(h / seasonality)``); the output columns are horizons ``1, 2, ...``.

    Parameters
    ----------
    seasonality : int, default=1
        Season length in time steps (e.g. 5 for a weekly pattern on business days).
    feature : int, default=0
        The forecast series, for 3-D windows.

    Attributes
    ----------
    n_outputs_ : int
        Number of targets (horizons).

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast.baselines import SeasonalNaiveForecaster
    >>> X = np.array([[1.0, 2.0, 3.0, 4.0]])
    >>> SeasonalNaiveForecaster(seasonality=3).fit(X, [[0.0, 0.0]]).predict(X)
    array([[2., 3.]])
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_WindowBaseline._parameter_constraints,
        "seasonality": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, seasonality: int = 1, *, feature: int = 0) -> None:
        super().__init__(feature=feature)
        self.seasonality = seasonality

    def _learn(self, series: np.ndarray, targets: np.ndarray) -> None:
        if series.shape[1] < self.seasonality:
            raise ValueError(
                f"Windows of {series.shape[1]} steps (n_features={series.shape[1]} for 2-D "
                f"input) cannot reach back seasonality={self.seasonality} steps: use a window "
                "of at least the season length."
            )

    def _forecast(self, series: np.ndarray) -> np.ndarray:
        last = series.shape[1] - 1
        columns = [
            last + h - self.seasonality * math.ceil(h / self.seasonality)
            for h in range(1, self.n_outputs_ + 1)
        ]
        return series[:, columns]


class ZeroReturnForecaster(_WindowBaseline):
    """Forecast a return (or any change) of zero: the naive forecast of a return series.

    Parameters
    ----------
    feature : int, default=0
        Unused; kept so that all baselines take the same parameters.

    Attributes
    ----------
    n_outputs_ : int
        Number of targets (horizons).

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast.baselines import ZeroReturnForecaster
    >>> ZeroReturnForecaster().fit(np.ones((2, 3)), [0.01, -0.02]).predict(np.ones((1, 3)))
    array([0.])
    """

    def _forecast(self, series: np.ndarray) -> np.ndarray:
        return np.zeros((len(series), self.n_outputs_))
