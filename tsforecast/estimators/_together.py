"""Fit the fold models of one configuration together (backtests and cross-validated trials).

:func:`fit_together` fits each estimator (an LSTM estimator, or a Pipeline ending in one) on
its own data. When the folds can share one training run (:func:`grouping_blocker_of`), their
transformers are fitted one by one and their networks trained as one group by the engine
(:func:`tsforecast._engine.training.train`), then all committed or none; otherwise each is
fitted on its own. Either way each estimator ends up fitted on its data only, with the same
weights to float rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from .._engine.config import (
    EpochHook,
    EpochRecord,
    Run,
    epoch_hooks,
    grouping_blocker,
    may_use_gpu,
)
from .._nn.grouped import groupable
from ._base import _BaseLSTM
from ._classifier import LSTMClassifier
from ._fit import PendingFit, begin_fit, conclude_fit, seeded
from ._regressor import LSTMRegressor
from ._validation import layer_units

# Widest grouped layer (folds x units x directions) that "auto" trains together on the CPU:
# measured faster than separate fits at 64 (workload b: 4 x 16) and slower at 256
# (workload a: 4 x 64); see benchmarks/folds_together.py.
CPU_GROUPED_WIDTH = 128


def _final_lstm(estimator: BaseEstimator) -> _BaseLSTM | None:
    if isinstance(estimator, _BaseLSTM):
        return estimator
    if isinstance(estimator, Pipeline) and isinstance(estimator.steps[-1][1], _BaseLSTM):
        return estimator.steps[-1][1]
    return None


def _overrides_fit(estimator: BaseEstimator) -> bool:
    """Whether ``estimator``'s class defines a ``fit`` of its own, which fitting it
    together with others (through the transaction, not ``fit``) would skip."""
    return type(estimator).fit not in (Pipeline.fit, LSTMRegressor.fit, LSTMClassifier.fit)


def _fit_transformers(estimator: BaseEstimator, X: Any, y: Any) -> Any:
    """Fit ``estimator``'s transformers (if a Pipeline) as its ``fit`` would, and return
    the input of its LSTM."""
    if not (isinstance(estimator, Pipeline) and len(estimator.steps) > 1):
        return X
    transformers = estimator[:-1]
    Xt = transformers.fit_transform(X, y)
    estimator.steps[:-1] = transformers.steps  # with memory, the fitted ones are clones
    return Xt


def _same_setting(a: Any, b: Any) -> bool:
    """Whether two parameter values configure the same fit: equal values, or objects of the
    same type (the clones' copies of a callback or a logger, which one group shares)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_setting(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(_same_setting(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, str | int | float | bool | type(None) | np.generic):
        return type(a) is type(b) and bool(a == b)
    return type(a) is type(b)


def grouping_blocker_of(estimators: Sequence[BaseEstimator], mode: bool | str = True) -> str | None:
    """Why ``estimators`` should not train together, or ``None`` if they should (as far as
    their parameters tell: the fitted networks must also have one shape).

    ``mode`` is ``group_folds``: ``False`` never groups, ``True`` whenever possible,
    ``"auto"`` also only where it pays: on a GPU, or on the CPU while the grouped layers
    stay at most :data:`CPU_GROUPED_WIDTH` units wide (the block-diagonal matrices do
    ``k`` times the arithmetic of ``k`` separate fits, which small, overhead-bound networks
    do not notice and wide ones do).
    """
    if not mode:  # False, or numpy's False_
        return "group_folds=False"
    lstms = [_final_lstm(e) for e in estimators]
    if len(estimators) < 2:
        return "a single fit"
    if any(lstm is None for lstm in lstms):
        return "not an LSTM estimator or a Pipeline ending in one"
    if any(_overrides_fit(e) for e in [*estimators, *lstms]):
        return "a subclass with its own fit (training together would bypass it)"
    if any(lstm.warm_start or lstm.checkpoint_path is not None for lstm in lstms):
        return "warm_start or checkpoint_path"
    if lstms[0].cell == "peephole" or lstms[0].embedding_dim is not None:
        return "the peephole cell or token input (an embedding)"
    params = [{k: v for k, v in lstm.get_params().items() if k != "random_state"} for lstm in lstms]
    if not all(_same_setting(p, params[0]) for p in params[1:]):
        return "estimators with different parameters"
    config = lstms[0]._training_config(lstms[0].max_epochs, 0)
    blocker = grouping_blocker(config)
    if blocker is None and mode == "auto" and not may_use_gpu(config):
        width = len(lstms) * max(layer_units(lstms[0])) * (2 if lstms[0].bidirectional else 1)
        if width > CPU_GROUPED_WIDTH:
            return (
                f"{len(lstms)} folds x {max(layer_units(lstms[0]))} units are "
                f"{width} > {CPU_GROUPED_WIDTH} grouped units on the CPU (slower than "
                "separate fits; group_folds=True forces it)"
            )
    return blocker


def fit_together(
    estimators: Sequence[BaseEstimator],
    Xs: Iterable[Any],
    ys: Sequence[Any],
    *,
    hooks: Sequence[Sequence[EpochHook]] | None = None,
    lockstep_hooks: Sequence[Callable[[list[EpochRecord | None]], None]] = (),
    together: bool | str = True,
) -> list[BaseEstimator]:
    """Fit ``estimators[j]`` on ``Xs[j]`` and ``ys[j]``, training the folds together if possible.

    Parameters
    ----------
    estimators : sequence of estimator
        Unfitted estimators of one configuration (clones), one per fold.
    Xs : iterable
        Each fold's training input; when the folds are fitted one by one, each is taken
        only when its fold is fitted (a generator then holds one fold's rows at a time).
    ys : sequence
        Each fold's training targets.
    hooks : sequence of sequence of callable, default=None
        Each fold's epoch hooks when the folds are fitted one by one, added to those of the
        enclosing :func:`~tsforecast._engine.config.epoch_hooks` blocks (which also apply to folds
        trained together).
    lockstep_hooks : sequence of callable, default=()
        When the folds train together: called after every epoch with the folds' latest
        records (see :func:`~tsforecast._engine.training.train`).
    together : bool or "auto", default=True
        ``group_folds`` (see :func:`grouping_blocker_of`); ``False`` fits the estimators one
        by one.

    Returns
    -------
    list of estimator
        ``estimators``, fitted.
    """
    from .._engine.training import train  # Lightning loads at the first fit only

    hooks = [()] * len(estimators) if hooks is None else hooks
    if grouping_blocker_of(estimators, together) is not None:
        return _one_by_one(estimators, Xs, ys, hooks)
    lstms = [_final_lstm(e) for e in estimators]
    inputs = [_fit_transformers(e, X, y) for e, X, y in zip(estimators, Xs, ys, strict=True)]
    pendings, runs = start_runs(lstms, inputs, ys)
    networks = [run.network for run in runs]
    if groupable(networks) is None:
        with seeded(pendings[0].seed, cuda=pendings[0].cuda):
            results = train(runs, lockstep_hooks)
    else:  # e.g. a class missing from one fold: the same runs (and seeds), one by one
        results = []
        for run, pending in zip(runs, pendings, strict=True):
            run.hooks = (*run.hooks, *hooks[len(results)])
            with seeded(pending.seed, cuda=pending.cuda):
                results.extend(train([run]))
    conclusions, interrupted = [], False
    for lstm, pending, network, result in zip(lstms, pendings, networks, results, strict=True):
        try:
            conclusions.append(conclude_fit(lstm, pending, network, result, None))
        except KeyboardInterrupt:  # Ctrl+C: every fold keeps its whole epochs, then stop
            interrupted = True
    if interrupted and len(conclusions) < len(lstms):
        raise KeyboardInterrupt  # a fold without a whole epoch: none is committed
    for conclusion in conclusions:  # all or nothing: nothing above has committed
        try:
            conclusion.commit()
        except KeyboardInterrupt:
            interrupted = True
    if interrupted:
        raise KeyboardInterrupt
    return list(estimators)


def start_runs(
    lstms: Sequence[_BaseLSTM], Xs: Iterable[Any], ys: Sequence[Any]
) -> tuple[list[PendingFit], list[Run]]:
    """Begin the fit of every LSTM estimator on its inputs: each one's pending fit and its
    engine run from its seeded start network (the set-up of a group, before it trains)."""
    for lstm in lstms:
        lstm._validate_params()
    pendings = [
        begin_fit(lstm, X, y, epochs=lstm.max_epochs, incremental=False)
        for lstm, X, y in zip(lstms, Xs, ys, strict=True)
    ]
    runs = []
    for pending in pendings:
        with seeded(pending.seed, cuda=pending.cuda):
            runs.append(pending.run(pending.start_network(None), None))
    return pendings, runs


def _one_by_one(
    estimators: Sequence[BaseEstimator],
    Xs: Iterable[Any],
    ys: Sequence[Any],
    hooks: Sequence[Sequence[EpochHook]],
) -> list[BaseEstimator]:
    for estimator, X, y, fold_hooks in zip(estimators, Xs, ys, hooks, strict=True):
        with epoch_hooks(*fold_hooks):
            estimator.fit(X, y)
    return list(estimators)
