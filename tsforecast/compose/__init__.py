"""Meta-estimators over a regressor: relative targets and adaptive conformal intervals.

A network trained on price levels between 1,000 and 2,000 cannot forecast levels near 3,000.
:class:`RelativeTargetRegressor` trains a regressor on the target relative to the current
value of a reference column and turns its forecasts back into levels.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from .._utils.returns import KINDS as _KINDS
from .._utils.returns import absolute as _absolute
from .._utils.returns import check_positive as _check_positive
from .._utils.returns import relative as _relative
from .._utils.sklearn_compat import HasMethods, StrOptions, _fit_context
from ._conformal import AdaptiveConformalRegressor


class RelativeTargetRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Train a regressor on the target relative to a reference column; forecast levels.

    With ``reference`` the column of ``X`` holding the forecast series' current value (e.g.
    today's close, in ``X`` from :func:`~tsforecast.make_supervised`), the inner regressor
    learns ``log(y / reference)`` (``kind="log"``), and ``predict`` returns
    ``reference * exp(forecast)``: a forecast of a level that follows the level however far
    it moves from the training range. A forecast of zero is the naive "tomorrow = today".

    When ``X`` is a DataFrame and ``regressor`` a :class:`~sklearn.pipeline.Pipeline`, the
    clone gets ``set_output(transform="pandas")``: every step then passes the index on, so
    the window transformers read the real history of rows that continue the training rows
    (``predict(X_test)`` equals ``predict(X)[len(X_train):]``), with no action from the user.

    Parameters
    ----------
    regressor : estimator
        The regressor (or Pipeline) trained on the relative target; cloned in ``fit``. A
        Pipeline's steps must accept pandas output when ``X`` is a DataFrame.
    reference : hashable or int
        Column of ``X`` with the current value: a column name for DataFrames, a position for
        arrays.
    kind : {"log", "simple", "difference"}, default="log"
        The relative target: ``log(y / r)``, ``y / r - 1`` or ``y - r``.

    Attributes
    ----------
    regressor_ : estimator
        The fitted inner regressor.
    n_features_in_ : int
        Number of columns of ``X``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.dummy import DummyRegressor
    >>> from tsforecast.compose import RelativeTargetRegressor
    >>> X = pd.DataFrame({"close": [100.0, 110.0, 121.0]})
    >>> model = RelativeTargetRegressor(DummyRegressor(), reference="close")
    >>> model = model.fit(X, [110.0, 121.0, 133.1])
    >>> model.predict(pd.DataFrame({"close": [1000.0]})).round(6)
    array([1100.])
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "regressor": [HasMethods(["fit", "predict"])],
        "reference": [Hashable],
        "kind": [StrOptions(_KINDS)],
    }

    def __init__(self, regressor: BaseEstimator, reference: Hashable, kind: str = "log") -> None:
        self.regressor = regressor
        self.reference = reference
        self.kind = kind

    def _reference(self, X: Any) -> tuple[np.ndarray, int]:
        """The reference column ``(n_samples, 1)`` and the number of columns of ``X``."""
        if isinstance(X, pd.DataFrame):
            if self.reference not in X.columns:
                raise ValueError(
                    f"reference {self.reference!r} is not a column of X: {X.columns.tolist()!r}."
                )
            column, n_columns = X[self.reference], X.shape[1]
        else:
            array = check_array(X, dtype=np.float64, input_name="X", estimator=self)
            if not isinstance(self.reference, int) or not 0 <= self.reference < array.shape[1]:
                raise ValueError(
                    f"reference={self.reference!r} must be a column position below "
                    f"{array.shape[1]} for array input."
                )
            column, n_columns = array[:, self.reference], array.shape[1]
        values = check_array(
            np.asarray(column, dtype=np.float64).reshape(-1, 1), input_name="reference column"
        )
        _check_positive(values, self.kind, f"The reference column {self.reference!r}")
        return values, n_columns

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any) -> RelativeTargetRegressor:
        """Fit the regressor on ``y`` relative to the reference column of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Inputs, containing the reference column.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target levels (several columns: several horizons).

        Returns
        -------
        self : RelativeTargetRegressor
            The fitted estimator.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        reference, n_features = self._reference(X)
        target = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        target2d = target.reshape(len(target), -1)
        if len(target2d) != len(reference):
            raise ValueError(f"X has {len(reference)} samples but y has {len(target2d)}.")
        _check_positive(target2d, self.kind, "y")
        relative = _relative(target2d, reference, self.kind)
        regressor = clone(self.regressor)
        if isinstance(X, pd.DataFrame) and isinstance(regressor, Pipeline):
            regressor.set_output(transform="pandas")  # the index carries history
        self.regressor_ = regressor.fit(X, relative[:, 0] if target.ndim == 1 else relative)
        self.n_features_in_ = n_features
        return self

    def _levels(self, relative: Any, X: Any) -> np.ndarray:
        """Turn relative forecasts ``(n, ...)`` back into levels of the reference column."""
        relative = np.asarray(relative, dtype=np.float64)
        reference, _ = self._reference(X)
        return _absolute(relative, reference.reshape(-1, *[1] * (relative.ndim - 1)), self.kind)

    def predict(self, X: Any) -> np.ndarray:
        """Forecast levels: the inner forecast turned back into the reference's units.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Inputs, containing the reference column.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        return self._levels(self.regressor_.predict(X), X)

    def predict_quantiles(self, X: Any) -> np.ndarray:
        """Forecast quantiles of the levels, from a regressor with ``predict_quantiles``.

        The regressor (or the last step of a Pipeline) must forecast quantiles, e.g. an
        :class:`~tsforecast.LSTMRegressor` with ``loss="quantile"``. Quantiles of the relative
        target map to quantiles of the level, since the inversion is increasing.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Inputs, containing the reference column.

        Returns
        -------
        y_quantiles : ndarray of shape (n_samples, n_quantiles) or \
(n_samples, n_outputs, n_quantiles)
        """
        check_is_fitted(self)
        regressor = self.regressor_
        if isinstance(regressor, Pipeline):
            X_last, regressor = regressor[:-1].transform(X), regressor[-1]
        else:
            X_last = X
        if not hasattr(regressor, "predict_quantiles"):
            raise TypeError(f"{type(regressor).__name__} has no predict_quantiles method.")
        return self._levels(regressor.predict_quantiles(X_last), X)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


__all__ = ["AdaptiveConformalRegressor", "RelativeTargetRegressor"]
