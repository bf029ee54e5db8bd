"""Optuna search over an LSTM estimator or a Pipeline ending in one, pruned epoch by epoch.

Optuna is imported here only; nothing in the package imports this module.
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
import warnings
from numbers import Integral
from typing import Any

import joblib
import lightning.pytorch as pl
import numpy as np
import optuna
import torch
from lightning.pytorch.callbacks import Checkpoint
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import BaseTrial, FixedTrial, TrialState
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import TimeSeriesSplit, check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils.metaestimators import available_if

from ._base import _BaseLSTM
from ._lightning import TRAIN_LOSS, VAL_LOSS
from .preprocessing import SlidingWindowTransformer


class LayerUnits:
    """Search space of per-layer widths: one int in ``[low, high]`` for each sampled layer.

    Use it as the value of ``<step>__units``; the number of layers is the sampled (or set)
    ``<step>__num_layers``, and ``units`` becomes a tuple such as ``(128, 32)``.

    Parameters
    ----------
    low, high : int
        Bounds of each layer's width.
    log : bool, default=True
        Sample widths on a log scale.
    """

    def __init__(self, low: int, high: int, log: bool = True) -> None:
        self.low, self.high, self.log = low, high, log

    def __repr__(self) -> str:
        return f"LayerUnits({self.low}, {self.high}, log={self.log})"


def _gpu_count() -> int:
    return torch.cuda.device_count()


def _find_step(estimator: BaseEstimator, kind: type) -> str | None:
    """The parameter prefix of the first ``kind`` inside ``estimator`` ("" for itself)."""
    if isinstance(estimator, kind):
        return ""
    for name, value in estimator.get_params(deep=True).items():
        if isinstance(value, kind):
            return name + "__"
    return None


def default_search_space(estimator: BaseEstimator) -> dict[str, Any]:
    """Layers, units, dropout, learning rate, and the window of a SlidingWindowTransformer.

    Parameters
    ----------
    estimator : estimator
        An LSTM estimator or a Pipeline containing one.

    Returns
    -------
    space : dict
        Optuna distributions keyed by ``step__param`` names.
    """
    lstm = _find_step(estimator, _BaseLSTM)
    if lstm is None:
        raise ValueError(
            "OptunaSearchCV needs an LSTMRegressor/LSTMClassifier or a Pipeline containing one "
            f"to build its default search space; got {type(estimator).__name__}."
        )
    space: dict[str, Any] = {
        f"{lstm}num_layers": IntDistribution(1, 4),
        f"{lstm}units": IntDistribution(16, 256, log=True),
        f"{lstm}dropout": FloatDistribution(0.0, 0.5),
        f"{lstm}learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
    }
    window = _find_step(estimator, SlidingWindowTransformer)
    if window is not None:
        space[f"{window}window"] = IntDistribution(5, 60)
    return space


def _suggest(trial: BaseTrial, space: dict[str, Any], fixed: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, dist in space.items():
        if isinstance(dist, LayerUnits):
            continue
        if isinstance(dist, IntDistribution):
            params[name] = trial.suggest_int(
                name, dist.low, dist.high, step=dist.step, log=dist.log
            )
        elif isinstance(dist, FloatDistribution):
            params[name] = trial.suggest_float(
                name, dist.low, dist.high, step=dist.step, log=dist.log
            )
        else:
            params[name] = trial.suggest_categorical(name, dist.choices)
    for name, dist in space.items():
        if isinstance(dist, LayerUnits):
            layers_key = name[: -len("units")] + "num_layers"
            n_layers = params.get(layers_key, fixed[layers_key])
            params[name] = tuple(
                trial.suggest_int(f"{name}_{i}", dist.low, dist.high, log=dist.log)
                for i in range(n_layers)
            )
    return params


class _ReportToTrial(Checkpoint):
    """Report each epoch's validation loss (else training loss) to an Optuna trial; prune.

    A Checkpoint so that Lightning runs it after the module has recorded the epoch. Raising
    ``TrialPruned`` ends the fit: the estimator is left unfitted and Optuna records the trial
    as pruned.
    """

    def __init__(self, trial: optuna.Trial, first_step: int) -> None:
        self.trial = trial
        self.first_step = first_step

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        record = pl_module.history[-1]
        step = self.first_step + record["epoch"]
        value = record.get(VAL_LOSS, record[TRAIN_LOSS])
        self.trial.report(value, step)
        if self.trial.should_prune():
            reason = f"pruned at step {step} (epoch {record['epoch']}), loss {value:.6g}"
            self.trial.set_user_attr("prune_reason", reason)
            raise optuna.TrialPruned(reason)


class OptunaSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Hyperparameter search with Optuna, cross-validation and epoch-level pruning.

    Each trial samples parameters, fits one clone per cross-validation fold and scores it;
    during every fit the LSTM reports its validation loss each epoch (step
    ``fold * max_epochs + epoch``) and the study's pruner can stop the trial. Pruned and
    failed trials are recorded with their reason (``user_attrs["prune_reason"]`` /
    ``user_attrs["fail_reason"]``) and the search goes on.

    Parameters
    ----------
    estimator : estimator
        An LSTM estimator or a Pipeline ending in one.
    param_distributions : dict, default=None
        Optuna distributions (or :class:`LayerUnits`) keyed by ``step__param`` names;
        ``None`` uses :func:`default_search_space`.
    n_trials : int, default=20
        Finished (complete or pruned) trials the study should hold; a resumed study runs only
        the missing ones. Failed trials count against this run's attempts, not the study.
    timeout : float, default=None
        Stop starting new trials after this many seconds.
    cv : int or cross-validation splitter, default=None
        ``None`` is ``TimeSeriesSplit(3)``; an int is that many ``TimeSeriesSplit`` folds.
    scoring : str or callable, default=None
        sklearn scoring; ``None`` uses the estimator's ``score``.
    refit : bool, default=True
        Refit the best parameters on all the data as ``best_estimator_``.
    n_jobs : int, default=1
        Trials run in parallel threads (results then depend on thread timing). With several
        GPUs, trial ``k`` trains on GPU ``k % n_gpus``; with one GPU a warning says that the
        trials share it. Threads, not processes: no fork after CUDA initialisation.
    storage : str or optuna storage, default=None
        Where the study lives: ``None`` in memory; a URL (``sqlite:///study.db``,
        ``postgresql://...``) or storage object (e.g. ``JournalStorage``) persists it, so a
        re-run with the same ``study_name`` resumes and several processes can share it.
    study_name : str, default=None
        Name of the study in ``storage``.
    sampler, pruner : optuna sampler / pruner, default=None
        ``None`` uses ``TPESampler(seed=random_state)`` and ``MedianPruner()``.
    random_state : int, default=None
        Seed of the default sampler.

    Attributes
    ----------
    study_ : optuna.Study
        The study, for ``trials_dataframe()`` and Optuna's visualisations.
    best_params_ : dict
        Parameters of the best trial, as passed to ``set_params``.
    best_score_ : float
        Mean cross-validated score of the best trial.
    best_estimator_ : estimator
        The estimator refitted on all the data (``refit=True``).
    """

    def __init__(
        self,
        estimator: BaseEstimator,
        param_distributions: dict[str, Any] | None = None,
        *,
        n_trials: int = 20,
        timeout: float | None = None,
        cv: Any = None,
        scoring: Any = None,
        refit: bool = True,
        n_jobs: int = 1,
        storage: Any = None,
        study_name: str | None = None,
        sampler: optuna.samplers.BaseSampler | None = None,
        pruner: optuna.pruners.BasePruner | None = None,
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.n_trials = n_trials
        self.timeout = timeout
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.n_jobs = n_jobs
        self.storage = storage
        self.study_name = study_name
        self.sampler = sampler
        self.pruner = pruner
        self.random_state = random_state

    def _space(self) -> dict[str, Any]:
        if self.param_distributions is None:
            return default_search_space(self.estimator)
        valid = self.estimator.get_params(deep=True)
        for name, dist in self.param_distributions.items():
            if name not in valid:
                raise ValueError(
                    f"The search space names {name!r}, which is not a parameter of "
                    f"{type(self.estimator).__name__}; valid names include "
                    f"{sorted(valid)[:8]} ..."
                )
            if not isinstance(dist, BaseDistribution | LayerUnits):
                raise TypeError(
                    f"The search space value for {name!r} must be an optuna distribution "
                    f"(IntDistribution, FloatDistribution, CategoricalDistribution) or "
                    f"LayerUnits; got {dist!r}."
                )
        return dict(self.param_distributions)

    def _objective(self, X: Any, y: Any, space: dict[str, Any], folds: list, scorer: Any):
        lstm = _find_step(self.estimator, _BaseLSTM)
        defaults = self.estimator.get_params(deep=True)

        gpus = _gpu_count() if self.n_jobs != 1 else 0

        def objective(trial: optuna.Trial) -> float:
            trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
            params = _suggest(trial, space, defaults)
            if gpus > 1 and lstm is not None:
                # Parallel trials take turns over the GPUs instead of crowding the first.
                params[f"{lstm}devices"] = [trial.number % gpus]
            try:
                scores = []
                for fold, (train, test) in enumerate(folds):
                    model = clone(self.estimator).set_params(**params)
                    if lstm is not None:
                        lstm_model = model.get_params()[lstm[:-2]] if lstm else model
                        kwargs = dict(lstm_model.trainer_kwargs or {})
                        report = _ReportToTrial(trial, fold * lstm_model.max_epochs)
                        kwargs["callbacks"] = [*kwargs.get("callbacks", []), report]
                        lstm_model.set_params(trainer_kwargs=kwargs)
                    model.fit(_safe_indexing(X, train), _safe_indexing(y, train))
                    scores.append(scorer(model, _safe_indexing(X, test), _safe_indexing(y, test)))
            except optuna.TrialPruned:
                raise
            except Exception as exc:
                trial.set_user_attr("fail_reason", f"{type(exc).__name__}: {exc}")
                raise
            score = float(np.mean(scores))
            if not np.isfinite(score):
                trial.set_user_attr("fail_reason", f"non-finite score {score}")
                raise ValueError(f"non-finite cross-validation score {score}")
            return score

        return objective

    def fit(self, X: Any, y: Any) -> OptunaSearchCV:
        """Run the study on ``X``, ``y`` (resuming a stored one), then refit the best.

        Parameters
        ----------
        X : array-like
            Training data, time-ordered.
        y : array-like
            Targets.

        Returns
        -------
        self : OptunaSearchCV
            The fitted search.
        """
        if not isinstance(self.n_trials, Integral) or self.n_trials < 1:
            raise ValueError(f"n_trials must be a positive int; got {self.n_trials!r}.")
        space = self._space()
        cv = TimeSeriesSplit(3) if self.cv is None else self.cv
        cv = TimeSeriesSplit(cv) if isinstance(cv, Integral) else check_cv(cv)
        folds = list(cv.split(X, y))
        scorer = check_scoring(self.estimator, scoring=self.scoring)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if self.n_jobs != 1 and _gpu_count() == 1:
            warnings.warn(
                f"n_jobs={self.n_jobs}: the parallel trials share the only GPU; they run, but "
                "each is slower. Use n_jobs=1, or a storage and one worker process per GPU.",
                UserWarning,
                stacklevel=2,
            )
        self.study_ = optuna.create_study(
            storage=self.storage,
            study_name=self.study_name,
            sampler=self.sampler or optuna.samplers.TPESampler(seed=self.random_state),
            pruner=self.pruner or optuna.pruners.MedianPruner(),
            direction="maximize",
            load_if_exists=True,
        )
        finished = (TrialState.COMPLETE, TrialState.PRUNED)
        missing = self.n_trials - len(self.study_.get_trials(states=finished))
        if missing > 0:
            self.study_.optimize(
                self._objective(X, y, space, folds, scorer),
                n_trials=missing,
                timeout=self.timeout,
                n_jobs=self.n_jobs,
                catch=(Exception,),
                callbacks=[optuna.study.MaxTrialsCallback(self.n_trials, states=finished)],
                gc_after_trial=True,
            )
        complete = self.study_.get_trials(states=(TrialState.COMPLETE,))
        if not complete:
            reasons = {t.user_attrs.get("fail_reason", t.state.name) for t in self.study_.trials}
            raise ValueError(f"No trial of the study completed; reasons: {sorted(reasons)}.")
        best = self.study_.best_trial
        self.best_score_ = best.value
        self.best_params_ = _suggest(
            FixedTrial(best.params), space, self.estimator.get_params(deep=True)
        )
        if self.refit:
            self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_)
            self.best_estimator_.fit(X, y)
        gc.collect()
        return self

    def dump_job(self, path: str | os.PathLike[str], X: Any, y: Any) -> None:
        """Write this search and its data for extra worker processes.

        Start each worker with ``python -m tsforecast.tuning PATH`` (on this machine, or on
        others that can reach the same ``storage``, e.g. a PostgreSQL URL): every worker adds
        trials to the shared study until it holds ``n_trials`` finished ones. The file is a
        joblib pickle: only load files you wrote yourself.

        Parameters
        ----------
        path : str or path-like
            File to write.
        X, y : array-like
            The data every worker searches on.
        """
        if self.storage is None:
            raise ValueError(
                "Workers can only share a study kept in a storage: pass storage= (a database "
                "URL or an optuna storage object) and study_name=."
            )
        # Create the study (and a database's tables) once, before workers race to do it.
        optuna.create_study(
            storage=self.storage,
            study_name=self.study_name,
            direction="maximize",
            load_if_exists=True,
        )
        joblib.dump({"search": clone(self), "X": X, "y": y}, path)

    def _refitted(self) -> bool:
        return bool(self.refit)

    @available_if(_refitted)
    def predict(self, X: Any) -> np.ndarray:
        """Predict with ``best_estimator_``."""
        return self.best_estimator_.predict(X)

    @available_if(_refitted)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities from ``best_estimator_`` (classifiers)."""
        return self.best_estimator_.predict_proba(X)

    @available_if(_refitted)
    def score(self, X: Any, y: Any) -> float:
        """Score of ``best_estimator_`` (its own ``score``, or ``scoring``)."""
        return check_scoring(self.best_estimator_, scoring=self.scoring)(self.best_estimator_, X, y)


def main(argv: list[str] | None = None) -> None:
    """Worker entry point: ``python -m tsforecast.tuning JOB`` (see ``dump_job``)."""
    parser = argparse.ArgumentParser(
        prog="python -m tsforecast.tuning",
        description="Add trials to a shared Optuna study written by OptunaSearchCV.dump_job.",
    )
    parser.add_argument("job", help="file written by OptunaSearchCV.dump_job")
    args = parser.parse_args(argv)
    job = joblib.load(args.job)
    search = job["search"].set_params(refit=False)
    search.fit(job["X"], job["y"])
    finished = len(search.study_.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED)))
    name = search.study_.study_name
    print(f"study {name!r}: {finished} finished trials, best score {search.best_score_:.6g}")


if __name__ == "__main__":
    main()


__all__ = [
    "CategoricalDistribution",
    "FloatDistribution",
    "IntDistribution",
    "LayerUnits",
    "OptunaSearchCV",
    "default_search_space",
]
