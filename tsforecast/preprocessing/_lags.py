"""Read the tabular lag rows of forecasting libraries as sequences, oldest step first."""

from __future__ import annotations

from numbers import Integral
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from .._utils.sklearn_compat import Interval, StrOptions, _fit_context

_FLOAT_DTYPES = (np.float64, np.float32)


class LagSequenceTransformer(TransformerMixin, BaseEstimator):
    """Turn a row of lag columns into a sequence ``(n_lags, 1 + n_exog)``, oldest step first.

    Forecasting libraries that accept any scikit-learn regressor (skforecast, sktime, darts)
    give it one flat row per forecast: the target's lags, then the exogenous variables. An
    LSTM given that row reads it as one univariate sequence: backwards when the newest lag
    comes first (skforecast), and with the exogenous columns as extra time steps. Put this
    transformer before the estimator, in a :class:`~sklearn.pipeline.Pipeline` given to the
    library as its regressor, and tell it the library's column layout: each time step then
    holds the target's lag and the exogenous variables at that step, in time order.

    Parameters
    ----------
    n_lags : int, default=None
        Number of target lags: the first ``n_lags`` columns of each row. ``None`` reads every
        column as a target lag (no exogenous variables).
    order : {"oldest_first", "newest_first"}, default="oldest_first"
        Order of the lag columns, in the target's block and in every exogenous block:
        ``"newest_first"`` for skforecast (``lag_1`` first), ``"oldest_first"`` for sktime's
        ``make_reduction`` and darts' regression models.
    exog_layout : {"by_variable", "by_lag", "current"}, default="by_variable"
        Layout of the columns after the target's lags.

        - ``"by_variable"``: one block of ``n_lags`` lags per exogenous variable (sktime's
          ``make_reduction`` with ``X``).
        - ``"by_lag"``: one block per lag, holding every exogenous variable at that lag
          (darts with ``lags_past_covariates`` equal to ``lags``).
        - ``"current"``: one column per exogenous variable, its value at the time being
          forecast (skforecast's ``exog``); it is repeated at every step of the sequence.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen in :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame ``X``.
    n_lags_ : int
        Time steps of each output sequence.
    n_exog_ : int
        Exogenous variables: each output step has ``1 + n_exog_`` features, the target first.

    See Also
    --------
    tsforecast.SlidingWindowTransformer : Windows straight from a time-indexed DataFrame.

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast.preprocessing import LagSequenceTransformer
    >>> row = np.array([[3.0, 2.0, 1.0, 30.0]])  # lag_1, lag_2, lag_3 (skforecast), then exog
    >>> lags = LagSequenceTransformer(n_lags=3, order="newest_first", exog_layout="current")
    >>> lags.fit_transform(row)
    array([[[ 1., 30.],
            [ 2., 30.],
            [ 3., 30.]]])
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_lags": [Interval(Integral, 1, None, closed="left"), None],
        "order": [StrOptions({"oldest_first", "newest_first"})],
        "exog_layout": [StrOptions({"by_variable", "by_lag", "current"})],
    }

    def __init__(
        self,
        n_lags: int | None = None,
        *,
        order: str = "oldest_first",
        exog_layout: str = "by_variable",
    ) -> None:
        self.n_lags = n_lags
        self.order = order
        self.exog_layout = exog_layout

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> LagSequenceTransformer:
        """Check the column layout of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_columns)
            Rows of lags as the forecasting library builds them.
        y : None
            Ignored.

        Returns
        -------
        self : LagSequenceTransformer
            The fitted transformer.
        """
        # The layout is checked before validate_data records anything: a refused X leaves
        # the transformer as it was.
        n_lags, n_exog = self._layout(check_array(X, dtype=_FLOAT_DTYPES).shape[1])
        validate_data(self, X, reset=True, dtype=_FLOAT_DTYPES)
        self.n_lags_ = n_lags
        self.n_exog_ = n_exog
        return self

    def _layout(self, n_columns: int) -> tuple[int, int]:
        """``(n_lags, n_exog)`` of rows of ``n_columns``, or a ValueError naming the misfit."""
        n_lags = n_columns if self.n_lags is None else self.n_lags
        if n_lags > n_columns:
            raise ValueError(f"n_lags={n_lags}, but X has only {n_columns} columns.")
        n_extra = n_columns - n_lags
        if self.exog_layout == "current":
            return n_lags, n_extra
        if n_extra % n_lags:
            raise ValueError(
                f"With exog_layout={self.exog_layout!r}, the {n_extra} columns after the "
                f"n_lags={n_lags} target lags must be whole blocks of {n_lags} lags; "
                f"{n_extra} is not a multiple of {n_lags}."
            )
        return n_lags, n_extra // n_lags

    def transform(self, X: Any) -> np.ndarray:
        """Rearrange each row of ``X`` into a sequence.

        Parameters
        ----------
        X : array-like of shape (n_samples, `n_features_in_`)
            Rows of lags in the layout seen in :meth:`fit`.

        Returns
        -------
        X_seq : ndarray of shape (n_samples, `n_lags_`, 1 + `n_exog_`)
            Step ``i`` holds the target and the exogenous variables ``n_lags_ - i`` steps
            before the forecast (``"current"`` exogenous values at every step).
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=_FLOAT_DTYPES)
        n_samples, n_lags = len(X), self.n_lags_
        target = X[:, :n_lags, np.newaxis]
        extra = X[:, n_lags:]
        if self.exog_layout == "current":
            exog = np.broadcast_to(extra[:, np.newaxis, :], (n_samples, n_lags, self.n_exog_))
        elif self.exog_layout == "by_variable":
            exog = extra.reshape(n_samples, self.n_exog_, n_lags).transpose(0, 2, 1)
        else:
            exog = extra.reshape(n_samples, n_lags, self.n_exog_)
        if self.order == "newest_first":
            target, exog = target[:, ::-1], exog[:, ::-1]
        return np.concatenate([target, exog], axis=2)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
