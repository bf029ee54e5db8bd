"""Price levels made scale-free: returns as inputs, targets relative to the last observed value.

A network trained on prices between 1,000 and 2,000 cannot forecast prices near 3,000: its
saturating gates never saw such inputs. Returns and relative targets look the same at any
price level. :class:`ReturnsTransformer` turns price columns into per-step returns;
:class:`RelativeTargetRegressor` trains a regressor on the target relative to the current
value of a reference column and turns its forecasts back into levels.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    OneToOneFeatureMixin,
    RegressorMixin,
    TransformerMixin,
    clone,
)
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from ._sklearn_compat import HasMethods, StrOptions, _fit_context
from .windowing import continues, index_end, split_time_index

_KINDS = {"log", "simple", "difference"}


def _relative(values: np.ndarray, reference: np.ndarray, kind: str) -> np.ndarray:
    if kind == "log":
        return np.log(values / reference)
    if kind == "simple":
        return values / reference - 1.0
    return values - reference


def _absolute(relative: np.ndarray, reference: np.ndarray, kind: str) -> np.ndarray:
    if kind == "log":
        return reference * np.exp(relative)
    if kind == "simple":
        return reference * (1.0 + relative)
    return reference + relative


def _check_positive(values: np.ndarray, kind: str, what: str) -> None:
    if kind != "difference" and not (values > 0).all():
        raise ValueError(
            f"{what} has values <= 0: {kind} returns need positive prices; use "
            "kind='difference' for series that can be zero or negative."
        )


class ReturnsTransformer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Replace each row by its change from the previous row: log returns by default.

    The first row has no previous row: when ``transform`` gets pandas data that directly
    continues the data seen in ``fit`` (same rule as
    :class:`~tsforecast.SlidingWindowTransformer`), the last fitted row is its previous row;
    otherwise its change is 0. The row count is kept, so ``y`` stays aligned in a Pipeline.

    Parameters
    ----------
    kind : {"log", "simple", "difference"}, default="log"
        ``log(x_t / x_{t-1})``, ``x_t / x_{t-1} - 1`` or ``x_t - x_{t-1}``. The first two
        need positive values (prices, volumes).

    Attributes
    ----------
    n_features_in_ : int
        Number of columns.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, for DataFrame input.
    last_row_ : ndarray of shape (n_features_in_,)
        The last fitted row.
    last_label_, max_step_ : object or None
        Index label of the last fitted row and the largest step between fitted labels.

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast.preprocessing import ReturnsTransformer
    >>> ReturnsTransformer(kind="simple").fit_transform(np.array([[100.0], [110.0], [99.0]]))
    array([[ 0. ],
           [ 0.1],
           [-0.1]])
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {"kind": [StrOptions(_KINDS)]}

    def __init__(self, kind: str = "log") -> None:
        self.kind = kind

    def _validate(self, X: Any, *, reset: bool) -> tuple[np.ndarray, pd.Index | None]:
        X, index = split_time_index(X)
        values = validate_data(self, X, reset=reset, dtype=np.float64)
        _check_positive(values, self.kind, "X")
        return values, index

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> ReturnsTransformer:
        """Remember the last row, the previous row of data that continues ``X``.

        Parameters
        ----------
        X : array-like of shape (n_steps, n_features)
            Time-ordered rows, oldest first.
        y : None
            Ignored.

        Returns
        -------
        self : ReturnsTransformer
            The fitted transformer.
        """
        values, index = self._validate(X, reset=True)
        self.last_row_ = values[-1].copy()
        self.last_label_, self.max_step_ = index_end(index)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Each row's change from the previous row.

        Parameters
        ----------
        X : array-like of shape (n_steps, n_features)
            Time-ordered rows, oldest first.

        Returns
        -------
        changes : ndarray of shape (n_steps, n_features)
        """
        check_is_fitted(self)
        values, index = self._validate(X, reset=False)
        if continues(index, self.last_label_, self.max_step_):
            previous = np.vstack([self.last_row_, values[:-1]])
        else:
            previous = np.vstack([values[:1], values[:-1]])
        return _relative(values, previous, self.kind)


class RelativeTargetRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Train a regressor on the target relative to a reference column; forecast levels.

    With ``reference`` the column of ``X`` holding the forecast series' current value (e.g.
    today's close, in ``X`` from :func:`~tsforecast.make_supervised`), the inner regressor
    learns ``log(y / reference)`` (``kind="log"``), and ``predict`` returns
    ``reference * exp(forecast)``: a forecast of a level that follows the level however far
    it moves from the training range. A forecast of zero is the naive "tomorrow = today".

    Parameters
    ----------
    regressor : estimator
        The regressor (or Pipeline) trained on the relative target; cloned in ``fit``.
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
    >>> from tsforecast.preprocessing import RelativeTargetRegressor
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
        reference, self.n_features_in_ = self._reference(X)
        target = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        target2d = target.reshape(len(target), -1)
        if len(target2d) != len(reference):
            raise ValueError(f"X has {len(reference)} samples but y has {len(target2d)}.")
        _check_positive(target2d, self.kind, "y")
        relative = _relative(target2d, reference, self.kind)
        self.regressor_ = clone(self.regressor).fit(
            X, relative[:, 0] if target.ndim == 1 else relative
        )
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


_CALENDAR_PERIODS = {"day_of_week": 7, "month": 12, "day_of_year": 366, "quarter": 4}


def calendar_features(
    index: pd.DatetimeIndex, features: tuple[str, ...] = ("day_of_week", "month")
) -> pd.DataFrame:
    """Cyclical calendar covariates: a sine and a cosine per calendar field.

    Calendar fields are known in advance, so they are covariates without look-ahead; the
    sine/cosine pair puts December next to January and Friday next to Monday. Join them
    with the series before :func:`~tsforecast.make_supervised`.

    Parameters
    ----------
    index : DatetimeIndex
        The time steps.
    features : tuple of str, default=("day_of_week", "month")
        Fields among ``"day_of_week"``, ``"month"``, ``"day_of_year"``, ``"quarter"``.

    Returns
    -------
    covariates : DataFrame of shape (len(index), 2 * len(features))
        Columns ``<field>_sin`` and ``<field>_cos`` on ``index``.

    Examples
    --------
    >>> import pandas as pd
    >>> from tsforecast.preprocessing import calendar_features
    >>> calendar_features(pd.bdate_range("2024-01-01", periods=2), ("day_of_week",)).round(3)
                day_of_week_sin  day_of_week_cos
    2024-01-01            0.000            1.000
    2024-01-02            0.782            0.623
    """
    if not isinstance(index, pd.DatetimeIndex):
        raise TypeError(f"index must be a DatetimeIndex; got {type(index).__name__}.")
    unknown = sorted(set(features) - set(_CALENDAR_PERIODS))
    if unknown:
        raise ValueError(
            f"Unknown calendar features {unknown}; choose from {sorted(_CALENDAR_PERIODS)}."
        )
    columns = {}
    for name in features:
        position = np.asarray(getattr(index, name), dtype=np.float64)
        if name in ("month", "day_of_year", "quarter"):
            position -= 1  # these count from 1
        angle = 2 * np.pi * position / _CALENDAR_PERIODS[name]
        columns[f"{name}_sin"], columns[f"{name}_cos"] = np.sin(angle), np.cos(angle)
    return pd.DataFrame(columns, index=index)
