"""How many rows before a sample an estimator's forecast for it reads (its lookback).

:func:`~tsforecast.model_selection.backtest` predicts each test period from that many rows
before it instead of from the training start.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from ..compose import RelativeTargetRegressor
from ..preprocessing import PanelWindowTransformer, ReturnsTransformer, SlidingWindowTransformer


def _has_inner_estimators(estimator: Any) -> bool:
    for value in estimator.get_params(deep=False).values():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            parts = item if isinstance(item, tuple) else (item,)
            if any(hasattr(part, "fit") for part in parts):
                return True
    return False


def infer_lookback(estimator: Any) -> int | None:
    """Rows before a sample that the estimator's forecast for that sample reads.

    A forecast for row ``t`` of a time-ordered input depends on rows ``t - lookback .. t``
    only: ``window - 1`` for a :class:`~tsforecast.SlidingWindowTransformer`, one for a
    :class:`~tsforecast.preprocessing.ReturnsTransformer`, summed along a Pipeline; zero for
    row-wise steps (scikit-learn's transformers and regressors, tsforecast's estimators on
    windows).

    Parameters
    ----------
    estimator : estimator
        A regressor, transformer or Pipeline, fitted or not.

    Returns
    -------
    lookback : int or None
        ``None`` when unknown: a step whose memory tsforecast cannot tell (a
        ``FunctionTransformer``, a panel window transformer, whose rows interleave several
        series, a search over windows, or any estimator from another package).

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from tsforecast import LSTMRegressor, SlidingWindowTransformer
    >>> from tsforecast.model_selection import infer_lookback
    >>> from tsforecast.preprocessing import ReturnsTransformer
    >>> infer_lookback(make_pipeline(ReturnsTransformer(), StandardScaler(),
    ...                              SlidingWindowTransformer(window=30), LSTMRegressor()))
    30
    """
    if isinstance(estimator, Pipeline):
        total = 0
        for _, step in estimator.steps:
            rows = 0 if step is None or step == "passthrough" else infer_lookback(step)
            if rows is None:
                return None
            total += rows
        return total
    if isinstance(estimator, SlidingWindowTransformer):
        return estimator.window - 1
    if isinstance(estimator, ReturnsTransformer):
        return 1
    if isinstance(estimator, RelativeTargetRegressor | TransformedTargetRegressor):
        # The reference column and the target transform act row by row.
        return 0 if estimator.regressor is None else infer_lookback(estimator.regressor)
    module = type(estimator).__module__.split(".")[0]
    row_wise = (
        module in ("sklearn", "tsforecast")
        and not isinstance(estimator, FunctionTransformer | PanelWindowTransformer)
        and not _has_inner_estimators(estimator)
    )
    return 0 if row_wise else None


def check_lookback(lookback: int | str | None, estimator: Any) -> int | None:
    """The lookback to use: ``lookback`` checked, or inferred when ``"auto"``."""
    if lookback == "auto":
        return infer_lookback(estimator)
    if lookback is None or (
        isinstance(lookback, Integral) and not isinstance(lookback, bool) and lookback >= 0
    ):
        return lookback
    raise ValueError(f'lookback must be "auto", None or a non-negative int; got {lookback!r}.')
