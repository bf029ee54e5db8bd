"""Adaptive conformal prediction intervals for time series (conformal quantile tracking)."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.utils import check_array, check_consistent_length, get_tags
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .._utils.sklearn_compat import HasMethods, Interval, StrOptions, _fit_context
from ..preprocessing._history import call_with_history, extend_history, history_length


def _as_rows(X: Any) -> Any:
    """``X`` as something sliceable by rows, untouched when it already is (DataFrames too)."""
    if issparse(X):
        return X.tocsr()  # COO and DIA formats cannot be sliced
    return X if hasattr(X, "iloc") or hasattr(X, "shape") else np.asarray(X)


def _rows(X: Any, rows: slice) -> Any:
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def _conformity_scores(bands: np.ndarray, y: np.ndarray) -> np.ndarray:
    """How far each target lies outside its band ``(n_samples, 2)``; negative inside."""
    return np.maximum(bands[:, 0] - y, y - bands[:, 1])


class AdaptiveConformalRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Prediction intervals whose coverage adapts online when the error distribution changes.

    Split conformal prediction calibrates an interval once; after a change of regime (volatility
    falls or rises) its coverage drifts away from the nominal level. This meta-estimator tracks
    the conformal threshold online, as conformal PID control's quantile tracker does
    (Angelopoulos, Candès & Tibshirani, 2023; a scale-free relative of Gibbs & Candès' 2021
    adaptive conformal inference): after each observed miss the threshold grows by
    ``learning_rate * (1 - alpha) * B``, after each hit it shrinks by
    ``learning_rate * alpha * B``, with ``B`` the largest recent score, so that the long-run
    miss rate is ``alpha`` whatever the data do.

    The threshold used for a forecast made at row ``t`` is updated only with targets observed
    by then: the target of a ``horizon``-step forecast made at row ``s`` is known at
    ``s + horizon``, so row ``t`` uses rows ``s <= t - horizon`` and never looks ahead.

    ``fit`` holds out the last ``calibration_fraction`` of the rows, in time order, fits a
    clone of ``estimator`` on the rows before them (less ``horizon - 1`` rows whose targets
    would overlap) and starts the threshold at the split-conformal quantile of the held-out
    scores. :meth:`predict` is the inner estimator's forecast, so the wrapper is a regressor
    that :func:`~tsforecast.model_selection.backtest` can fit and score;
    :meth:`predict_interval` gives the intervals.

    Parameters
    ----------
    estimator : estimator
        A point regressor, or with ``conformity="quantile"`` one with ``predict_quantiles``
        (e.g. ``LSTMRegressor(loss="quantile")``) whose outermost quantiles make the band.
    alpha : float, default=0.2
        Target miss rate: 0.2 for 80% intervals.
    learning_rate : float, default=0.05
        Step of the threshold, relative to the largest of the last ``scale_window`` scores.
        Larger adapts faster and keeps the long-run coverage closer to nominal over short
        periods; smaller gives steadier widths.
    horizon : int, default=1
        Steps ahead of the targets: how long until a forecast's target is observed.
    calibration_fraction : float, default=0.2
        Share of the rows, the most recent, held out to calibrate the first threshold.
    conformity : {"absolute", "quantile"}, default="absolute"
        ``"absolute"``: intervals ``prediction ± threshold``. ``"quantile"``: conformalized
        quantile regression, ``[lower - threshold, upper + threshold]``.
    scale_window : int, default=100
        Number of recent scores whose maximum scales the threshold's steps.

    Attributes
    ----------
    estimator_ : estimator
        The fitted inner estimator.
    calibration_scores_ : ndarray of shape (n_calibration,)
        Scores of the held-out rows, in time order.
    threshold_ : float
        The split-conformal threshold the online tracking starts from.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from tsforecast.compose import AdaptiveConformalRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 1))
    >>> y = 2 * X[:, 0] + rng.normal(size=1000) * np.where(np.arange(1000) < 700, 1, 3)
    >>> model = AdaptiveConformalRegressor(LinearRegression()).fit(X[:500], y[:500])
    >>> bands = model.predict_interval(X[500:], y[500:])
    >>> inside = (bands[:, 0] <= y[500:]) & (y[500:] <= bands[:, 1])
    >>> round(float(inside[300:].mean()), 2)  # after the volatility tripled
    0.8
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "estimator": [HasMethods(["fit", "predict"])],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "calibration_fraction": [Interval(Real, 0, 1, closed="neither")],
        "conformity": [StrOptions({"absolute", "quantile"})],
        "scale_window": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        estimator: BaseEstimator,
        *,
        alpha: float = 0.2,
        learning_rate: float = 0.05,
        horizon: int = 1,
        calibration_fraction: float = 0.2,
        conformity: str = "absolute",
        scale_window: int = 100,
    ) -> None:
        self.estimator = estimator
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.horizon = horizon
        self.calibration_fraction = calibration_fraction
        self.conformity = conformity
        self.scale_window = scale_window

    def _targets(self, y: Any, *, allow_nan: bool) -> np.ndarray:
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = check_array(
            y,
            ensure_2d=False,
            dtype=np.float64,
            ensure_all_finite="allow-nan" if allow_nan else True,
            input_name="y",
            estimator=self,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim != 1:
            raise ValueError(
                f"{type(self).__name__} takes one target per row (y of shape (n_samples,)); "
                f"got y of shape {y.shape}: wrap one model per horizon."
            )
        return y

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any) -> AdaptiveConformalRegressor:
        """Fit the inner estimator on the earlier rows and calibrate on the latest ones.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, ...)
            Inputs of the inner estimator, in time order.
        y : array-like of shape (n_samples,)
            Targets, aligned with ``X``.

        Returns
        -------
        self : AdaptiveConformalRegressor
            The fitted estimator.
        """
        X = _as_rows(X)
        targets = self._targets(y, allow_nan=False)
        check_consistent_length(X, targets)
        if self.conformity == "quantile" and not hasattr(self.estimator, "predict_quantiles"):
            raise TypeError(
                f"conformity='quantile' needs an estimator with predict_quantiles; "
                f"{type(self.estimator).__name__} has none."
            )
        n = len(targets)
        n_calibration = math.ceil(self.calibration_fraction * n)
        n_train = n - n_calibration - (self.horizon - 1)
        if n_train < 1 or n_calibration < 2:
            raise ValueError(
                f"{n} samples are too few to train and hold out calibration_fraction="
                f"{self.calibration_fraction} with horizon={self.horizon}."
            )
        estimator = clone(self.estimator).fit(_rows(X, slice(0, n_train)), targets[:n_train])
        # The calibration rows read their real history, the rows before them; afterwards the
        # inner estimator's history ends where X ends, so rows that continue X read it too.
        lookback = history_length(estimator)
        calibration = slice(n - n_calibration, n)
        history = None
        if lookback:
            history = _rows(X, slice(max(0, n - n_calibration - lookback), n - n_calibration))
            extend_history(
                estimator,
                _rows(X, slice(max(0, n_train - lookback), n_train)),
                _rows(X, slice(n_train, n)),
            )
        bands = self._bands(estimator, _rows(X, calibration), history)
        scores = _conformity_scores(bands, targets[calibration])
        level = min(1.0, math.ceil((n_calibration + 1) * (1 - self.alpha)) / n_calibration)
        self.estimator_ = estimator
        self.calibration_scores_ = scores
        self.threshold_ = float(np.quantile(scores, level, method="higher"))
        return self

    def _bands(self, estimator: BaseEstimator, X: Any, history: Any = None) -> np.ndarray:
        """``(n_samples, 2)``: the inner forecast's lower and upper edge before widening,
        with ``history`` (rows just before ``X``) as the rows before ``X`` if given."""

        def call(method: str) -> Any:
            if history is None:
                return getattr(estimator, method)(X)
            return call_with_history(estimator, history, X, method)

        if self.conformity == "quantile":
            quantiles = np.asarray(call("predict_quantiles"), dtype=np.float64)
            if quantiles.ndim != 2:
                raise ValueError("conformity='quantile' takes an estimator of one target.")
            return quantiles[:, [0, -1]]
        forecast = np.asarray(call("predict"), dtype=np.float64)
        if forecast.ndim != 1:
            raise ValueError("The inner estimator must forecast one target per row.")
        return np.column_stack([forecast, forecast])

    def predict(self, X: Any) -> np.ndarray:
        """The inner estimator's point forecast.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, ...)
            Inputs of the inner estimator.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.estimator_.predict(X)

    def predict_interval(self, X: Any, y: Any = None) -> np.ndarray:
        """Intervals for the rows of ``X``, adapted with the targets observed before each row.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, ...)
            Inputs, in time order, starting after the rows seen by :meth:`fit`.
        y : array-like of shape (n_samples,), default=None
            The rows' targets as they become known (NaN where not yet observed). The interval
            of row ``t`` reads only ``y[: t - horizon + 1]``. ``None``: no tracking, every
            interval uses the calibrated ``threshold_``.

        Returns
        -------
        intervals : ndarray of shape (n_samples, 2)
            Lower and upper bound of each row's interval.
        """
        check_is_fitted(self)
        bands = self._bands(self.estimator_, _as_rows(X))
        n = len(bands)
        thresholds = np.full(n, self.threshold_)
        if y is not None:
            targets = self._targets(y, allow_nan=True)
            check_consistent_length(bands, targets)
            thresholds = self._track(_conformity_scores(bands, targets))
        widened = bands + np.column_stack([-thresholds, thresholds])
        # A negative threshold on a quantile band can cross it: meet in the middle.
        middle = widened.mean(axis=1)
        return np.column_stack(
            [np.minimum(widened[:, 0], middle), np.maximum(widened[:, 1], middle)]
        )

    @property
    def n_features_in_(self) -> int:
        """Number of features seen by the inner estimator during ``fit``."""
        return self.estimator_.n_features_in_

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags = inner.input_tags
        return tags

    def _track(self, scores: np.ndarray) -> np.ndarray:
        """The threshold of each row, updated with the scores observable at that row."""
        recent = list(np.abs(self.calibration_scores_[-self.scale_window :]))
        thresholds = np.empty(len(scores))
        threshold = self.threshold_
        for t in range(len(scores)):
            observed = t - self.horizon
            if observed >= 0 and not np.isnan(scores[observed]):
                recent = [*recent, abs(scores[observed])][-self.scale_window :]
                miss = scores[observed] > thresholds[observed]
                threshold += self.learning_rate * max(recent) * (miss - self.alpha)
            thresholds[t] = threshold
        return thresholds
