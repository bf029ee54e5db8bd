"""Walk-forward evaluation: a forecasting splitter with an embargo, and backtesting."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import mean_absolute_error, root_mean_squared_error
from sklearn.model_selection import BaseCrossValidator, TimeSeriesSplit
from sklearn.utils.parallel import Parallel, delayed

from ..estimators._together import fit_together, grouping_blocker_of
from ..metrics import DieboldMarianoResult, diebold_mariano
from ..preprocessing._history import padding_expected
from ._lookback import check_lookback, infer_lookback
from ._split import WalkForwardSplit

__all__ = ["BacktestResult", "WalkForwardSplit", "backtest", "infer_lookback"]

Metric = Callable[[np.ndarray, np.ndarray], float]
DEFAULT_METRICS: dict[str, Metric] = {"mae": mean_absolute_error, "rmse": root_mean_squared_error}


@dataclass(frozen=True)
class BacktestResult:
    """What :func:`backtest` returns.

    Attributes
    ----------
    predictions : DataFrame
        One row per test sample, on the index of ``y``: ``fold``, the observed target(s)
        (``y_true``, or ``y_true[<column>]`` per output), the forecast(s) (``y_pred``...)
        and the baseline's (``y_baseline``...) when there is one.
    metrics : DataFrame
        One row per fold: ``train_start``, ``train_end``, ``test_start``, ``test_end`` (index
        labels), ``refit``, one column per metric and ``baseline_<metric>`` for a baseline.
    estimators : list
        The fitted estimator used for each fold (the same object for folds without refit).
    diebold_mariano : DieboldMarianoResult or None
        With a baseline and one target: the Diebold-Mariano test of the squared errors of
        every test row against the baseline's (negative statistic: the estimator's errors
        are smaller), with the horizon of ``cv`` (``cv.horizon``, else 1).
    """

    predictions: pd.DataFrame
    metrics: pd.DataFrame
    estimators: list[BaseEstimator]
    diebold_mariano: DieboldMarianoResult | None = None


def _frame(y: Any) -> pd.DataFrame:
    if isinstance(y, pd.Series):
        return y.to_frame()
    if isinstance(y, pd.DataFrame):
        return y
    array = np.asarray(y)
    return pd.DataFrame(array.reshape(len(array), -1))


def _squeeze(values: np.ndarray) -> np.ndarray:
    return values[:, 0] if values.shape[1] == 1 else values


def _rows(X: Any, start: int, stop: int) -> Any:
    return X.iloc[start:stop] if hasattr(X, "iloc") else X[start:stop]


def _refit_folds(refit: bool | int, n_folds: int) -> list[bool]:
    if isinstance(refit, bool):
        return [True] + [refit] * (n_folds - 1)
    if not isinstance(refit, Integral) or refit < 1:
        raise ValueError(f"refit must be a bool or a positive int; got {refit!r}.")
    return [k % refit == 0 for k in range(n_folds)]


def backtest(
    estimator: BaseEstimator,
    X: Any,
    y: Any,
    *,
    cv: BaseCrossValidator | TimeSeriesSplit | None = None,
    refit: bool | int = True,
    metrics: dict[str, Metric] | None = None,
    lookback: int | str | None = "auto",
    n_jobs: int | None = None,
    baseline: BaseEstimator | None = None,
    group_folds: bool | str = "auto",
) -> BacktestResult:
    """Walk-forward backtest: fit on the past, forecast the next test period, move on.

    Each fold's model is a fresh clone fitted on that fold's training rows only, so a
    scaler or window transformer inside a Pipeline is re-fitted on past data. A test
    period is forecast by one ``predict`` call over its rows and the ``lookback`` rows
    before it (never rows after it, never earlier than the training start): windows at the
    start of a test period read their real history, and the cost grows with the test
    period, not with the history. With ``refit=False`` the first fold's model forecasts all
    later (adjacent) test periods in one batched ``predict``.

    Parameters
    ----------
    estimator : estimator
        A regressor (or a Pipeline ending in one), cloned for each fit.
    X : DataFrame or array-like of shape (n_samples, ...)
        Time-ordered inputs, oldest first, e.g. from :func:`~tsforecast.make_supervised`.
    y : Series, DataFrame or array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets aligned with ``X``.
    cv : WalkForwardSplit or TimeSeriesSplit, default=None
        The folds, in time order, each test period after its training rows; default
        ``WalkForwardSplit(n_splits=5)``. Rolling training windows: ``max_train_size``;
        refit every ``k`` steps: ``test_size=k``.
    refit : bool or int, default=True
        ``True`` refits on every fold, ``False`` only on the first, an int ``n`` on every
        ``n``-th fold.
    metrics : dict of str to callable, default=None
        ``name -> metric(y_true, y_pred)`` computed per fold; default MAE and RMSE.
    lookback : "auto", int or None, default="auto"
        Rows before each test period that its forecasts read (e.g. ``window - 1`` for a
        sliding window). ``"auto"`` infers it with :func:`infer_lookback`; ``None``
        predicts from the training start (exact for any model, cost grows with the
        history), which is also what ``"auto"`` falls back to when it cannot tell.
    n_jobs : int, default=None
        Number of fits run in parallel through joblib (``-1``: all cores); ``None`` means 1
        unless in a :func:`joblib.parallel_config` context, so that
        ``with joblib.parallel_config(backend="dask"):`` runs the fits on a Dask cluster.
        Results do not depend on it.
    baseline : estimator, default=None
        A forecast to beat, backtested on the same folds and refit schedule (e.g. a Pipeline
        of the same windowing and a :class:`~tsforecast.baselines.NaiveForecaster`): its
        forecasts are added as ``y_baseline`` columns, its metrics as ``baseline_<name>``.
    group_folds : bool or "auto", default="auto"
        Train the refits of an LSTM estimator (or a Pipeline ending in one) together, as one
        block-diagonal network in this process, when the configuration allows it (one
        device; 32-bit or bf16-mixed; no ``callbacks``, ``logger`` or fractional
        ``limit_train_batches`` in ``trainer_kwargs``; no ``warm_start`` or
        ``checkpoint_path``; not for token input or the peephole cell). The forecasts equal
        those of separate fits to float rounding (tested to a relative 1e-4; with dropout
        the masks are drawn differently); all folds' training data are in memory at once.
        ``"auto"`` does so where it is faster: on a GPU, and on the CPU while folds x units
        stay at most 128 (small networks, whose fits are overhead-bound); ``True`` whenever
        the configuration allows; ``False`` fits the folds one by one, through ``n_jobs``
        (and a joblib backend such as Dask's).

    Returns
    -------
    result : BacktestResult
        Aligned predictions, per-fold metrics and the fitted estimators.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tsforecast.baselines import NaiveForecaster
    >>> from tsforecast.model_selection import WalkForwardSplit, backtest
    >>> series = np.arange(12.0)
    >>> X, y = series[:-1].reshape(-1, 1), series[1:]
    >>> result = backtest(NaiveForecaster(), X, y, cv=WalkForwardSplit(3, test_size=2))
    >>> result.metrics["mae"].tolist()
    [1.0, 1.0, 1.0]
    >>> result.predictions["y_pred"].tolist()
    [5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    """
    auto = isinstance(group_folds, str) and group_folds == "auto"
    if not (auto or isinstance(group_folds, bool | np.bool_)):
        raise ValueError(f'group_folds must be True, False or "auto"; got {group_folds!r}.')
    cv = WalkForwardSplit() if cv is None else cv
    metrics = DEFAULT_METRICS if metrics is None else metrics
    rows_before = check_lookback(lookback, estimator)
    targets = _frame(y)
    if len(targets) != len(X):
        raise ValueError(f"X has {len(X)} samples but y has {len(targets)}.")
    folds = list(cv.split(np.zeros(len(targets))))
    _check_forward(folds)
    refits = _refit_folds(refit, len(folds))
    labels = targets.index
    names = ["y_true"] if targets.shape[1] == 1 else [f"y_true[{c}]" for c in targets.columns]
    forecasts = _forecasts(estimator, X, targets, folds, refits, rows_before, n_jobs, group_folds)
    contenders = {"pred": [pred for _, pred in forecasts]}
    if baseline is not None:
        baseline_lookback = check_lookback(lookback, baseline)
        baseline_forecasts = _forecasts(
            baseline, X, targets, folds, refits, baseline_lookback, n_jobs, group_folds
        )
        contenders["baseline"] = [pred for _, pred in baseline_forecasts]
    observed = targets.to_numpy()
    parts, records = [], []
    for k, ((train, test), fitted) in enumerate(zip(folds, refits, strict=True)):
        true = observed[test]
        part = pd.DataFrame(true, index=labels[test], columns=names)
        record = {
            "train_start": labels[train[0]],
            "train_end": labels[train[-1]],
            "test_start": labels[test[0]],
            "test_end": labels[test[-1]],
            "refit": fitted,
        }
        for contender, predictions in contenders.items():
            pred = predictions[k]
            for name, column in zip(names, pred.T, strict=True):
                part[name.replace("y_true", f"y_{contender}", 1)] = column
            prefix = "" if contender == "pred" else "baseline_"
            for name, metric in metrics.items():
                record[prefix + name] = metric(_squeeze(true), _squeeze(pred))
        part.insert(0, "fold", k)
        parts.append(part)
        records.append(record)
    predictions = pd.concat(parts)
    test = None
    if baseline is not None and len(names) == 1:
        errors = predictions["y_true"] - predictions["y_pred"]
        baseline_errors = predictions["y_true"] - predictions["y_baseline"]
        test = diebold_mariano(errors, baseline_errors, horizon=getattr(cv, "horizon", 1))
    return BacktestResult(
        predictions=predictions,
        metrics=pd.DataFrame.from_records(records, index=pd.RangeIndex(len(folds), name="fold")),
        estimators=[model for model, _ in forecasts],
        diebold_mariano=test,
    )


def _check_forward(folds: list[tuple[np.ndarray, np.ndarray]]) -> None:
    for k, (train, test) in enumerate(folds):
        if len(train) == 0 or len(test) == 0:
            raise ValueError(f"Fold {k} of cv has an empty training or test set.")
        if test[0] <= train[-1] or (np.diff(test) <= 0).any():
            raise ValueError(
                f"backtest needs folds whose test rows are in time order after their training "
                f"rows (a forecasting splitter such as WalkForwardSplit); fold {k} tests from row "
                f"{test[0]} but trains up to row {train[-1]}."
            )


def _predicted_ranges(tests: list[np.ndarray], lookback: int | None) -> list[tuple[int, int]]:
    """Row ranges to predict so that every test row reads ``lookback`` rows of history.

    Positions count from the training start (row 0); overlapping or adjacent ranges merge,
    so adjacent test periods cost one ``predict``.
    """
    ranges: list[tuple[int, int]] = []
    for test in tests:
        start = 0 if lookback is None else max(0, int(test[0]) - lookback)
        stop = int(test[-1]) + 1
        if ranges and start <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(stop, ranges[-1][1]))
        else:
            ranges.append((start, stop))
    return ranges


def _fit_and_forecast(
    estimator: BaseEstimator,
    X: Any,
    y: Any,
    n_train: int,
    tests: list[np.ndarray],
    lookback: int | None,
) -> tuple[BaseEstimator, list[np.ndarray]]:
    """Fit a clone on the first ``n_train`` rows and forecast the rows ``tests``.

    ``X`` and ``y`` start at the training start; ``tests`` are positions in them.
    """
    model = clone(estimator).fit(_rows(X, 0, n_train), _rows(y, 0, n_train))
    return model, _forecast(model, X, tests, lookback)


def _forecast(
    model: BaseEstimator, X: Any, tests: list[np.ndarray], lookback: int | None
) -> list[np.ndarray]:
    """The fitted ``model``'s forecasts of the rows ``tests`` of ``X`` (positions in it)."""
    ranges = _predicted_ranges(tests, lookback)
    predicted = []
    for start, stop in ranges:
        # With a lookback the padding lands on the lookback rows, which are not predicted.
        with padding_expected() if lookback is not None else nullcontext():
            pred = np.asarray(model.predict(_rows(X, start, stop)), dtype=np.float64)
        predicted.append(pred.reshape(len(pred), -1))
    starts = np.array([start for start, _ in ranges])
    out = []
    for test in tests:
        k = int(np.searchsorted(starts, test[0], side="right")) - 1
        out.append(predicted[k][test - starts[k]])
    return out


def _forecasts(
    estimator: BaseEstimator,
    X: Any,
    targets: pd.DataFrame,
    folds: list[tuple[np.ndarray, np.ndarray]],
    refits: list[bool],
    lookback: int | None,
    n_jobs: int | None,
    group_folds: bool | str,
) -> list[tuple[BaseEstimator, np.ndarray]]:
    """Each fold's model and its ``(n_test, n_outputs)`` forecasts: the fits run together
    (:func:`fit_together`) or in parallel."""
    y = targets.iloc[:, 0] if targets.shape[1] == 1 else targets
    # Each fit forecasts its own fold and the folds without refit after it.
    starts = [k for k, fitted in enumerate(refits) if fitted]
    spans = list(zip(starts, [*starts[1:], len(folds)], strict=True))
    tasks = []
    for k, last in spans:
        train = folds[k][0]
        first = int(train[0])
        stop = max(int(test[-1]) for _, test in folds[k:last]) + 1
        # Each task gets only its rows: little to ship to a remote worker.
        tests = [test - first for _, test in folds[k:last]]
        n_train = int(train[-1]) + 1 - first
        tasks.append((_rows(X, first, stop), _rows(y, first, stop), n_train, tests))
    models = [clone(estimator) for _ in tasks]
    if grouping_blocker_of(models, group_folds) is None:
        fit_together(
            models,
            [_rows(X_k, 0, n_train) for X_k, _, n_train, _ in tasks],
            [_rows(y_k, 0, n_train) for _, y_k, n_train, _ in tasks],
        )
        results = [
            (model, _forecast(model, X_k, tests, lookback))
            for model, (X_k, _, _, tests) in zip(models, tasks, strict=True)
        ]
    else:
        results = Parallel(n_jobs=n_jobs)(
            delayed(_fit_and_forecast)(estimator, *task, lookback) for task in tasks
        )
    out = []
    for model, preds in results:
        out.extend((model, pred) for pred in preds)
    return out
