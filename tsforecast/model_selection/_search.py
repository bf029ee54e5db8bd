"""Optuna search over an LSTM estimator or a Pipeline ending in one, pruned epoch by epoch.

The pruning is a plain per-epoch hook (:func:`tsforecast._engine.config.epoch_hooks`): this module
knows nothing of Lightning.
"""

from __future__ import annotations

import gc
import os
import socket
from numbers import Integral, Real
from typing import Any, ClassVar

import joblib
import numpy as np
import optuna
from optuna.trial import FixedTrial, TrialState
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import TimeSeriesSplit, check_cv
from sklearn.utils import indexable
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._engine.interrupt import Terminated, sigterm_raises_system_exit
from .._utils.sklearn_compat import HasMethods, Interval, StrOptions, _fit_context, _safe_indexing
from ..estimators._base import _BaseLSTM
from ..estimators._together import fit_together
from ._parallel import gpu_count, run_workers, storage_with_heartbeats
from ._pruning import PruneInLockstep, PruneOnEpoch
from ._space import check_space, default_search_space, find_step, suggest

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def _estimator_has(attr: str):  # type: ignore[no-untyped-def]
    """Whether the best estimator (before fit: the estimator) offers ``attr``."""

    def check(self: OptunaSearchCV) -> bool:
        if not self.refit:
            return False
        return hasattr(getattr(self, "best_estimator_", self.estimator), attr)

    return check


class OptunaSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Hyperparameter search with Optuna, cross-validation and epoch-level pruning.

    Each trial samples parameters, fits one clone per cross-validation fold and scores it;
    during every fit the LSTM reports minus its validation loss each epoch (step
    ``fold * max_epochs + epoch``, also when the folds train together) and the study's
    pruner can stop the trial. Pruned and
    failed trials are recorded with their reason (``user_attrs["prune_reason"]`` /
    ``user_attrs["fail_reason"]``) and the search goes on. Ctrl+C stops the search: the
    trial in progress is recorded as failed, completed trials stay in the storage.

    Parameters
    ----------
    estimator : estimator
        An LSTM estimator or a Pipeline ending in one. Its ``checkpoint_path`` must be
        ``None``: trials cannot share one resumable file.
    param_distributions : dict, default=None
        Optuna distributions (or :class:`LayerUnits`) keyed by ``step__param`` names;
        ``None`` uses :func:`default_search_space`.
    n_trials : int, default=20
        Finished (complete or pruned) trials the study should hold; a resumed study runs only
        the missing ones.
    timeout : float, default=None
        Stop starting new trials after this many seconds.
    cv : int or cross-validation splitter, default=None
        ``None`` is ``TimeSeriesSplit(3)``; an int is that many ``TimeSeriesSplit`` folds.
    scoring : str or callable, default=None
        sklearn scoring; ``None`` uses the estimator's ``score``.
    refit : bool, default=True
        Refit the best parameters on all the data as ``best_estimator_``.
    n_jobs : int, default=1
        Worker processes running trials in parallel (``-1``: one per CPU, joblib's meaning
        for other negative values). Processes, not
        threads: each fit is seeded exactly as a serial one. Workers finishing together
        may each add a last trial (at most ``n_jobs - 1`` beyond ``n_trials``). Without a
        ``storage`` they share a temporary journal file. With several GPUs, trial ``k`` trains
        on GPU
        ``k % n_gpus``.
    storage : str or optuna storage, default=None
        Where the study lives: ``None`` in memory; a URL (``sqlite:///study.db``,
        ``postgresql://...``) or storage object (e.g. ``JournalStorage``) persists it, so a
        re-run with the same ``study_name`` resumes and several processes can share it. A URL
        gets heartbeats: the trial of a worker that died (killed, out of memory) is marked
        failed after three minutes without a heartbeat and retried by another worker.
    study_name : str, default=None
        Name of the study in ``storage``; ``None`` starts a new study under a name Optuna
        generates (shared by the ``n_jobs`` workers of this fit; :meth:`dump_job` needs a
        name).
    sampler : optuna sampler, default=None
        ``None`` uses ``TPESampler(seed=random_state)``.
    pruner : optuna pruner, default=None
        ``None`` uses ``MedianPruner()``. It sees minus the loss, larger is better.
    random_state : int, default=None
        Seed of the default sampler.
    group_folds : bool or "auto", default="auto"
        Train a trial's fold models together, as one block-diagonal network, as
        :func:`~tsforecast.model_selection.backtest` does (same rule for ``"auto"``); the
        scores equal those of separate fits to float rounding. Folds trained together
        report the same values at the same steps, epoch by epoch (so the pruner sees the
        later folds' first epochs sooner than with folds fitted one after another).

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

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "estimator": [HasMethods(["fit"])],
        "param_distributions": [dict, None],
        "n_trials": [Interval(Integral, 1, None, closed="left")],
        "timeout": [Interval(Real, 0, None, closed="neither"), None],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "refit": ["boolean"],
        "n_jobs": [Integral, None],
        "storage": [str, optuna.storages.BaseStorage, None],
        "study_name": [str, None],
        "sampler": [optuna.samplers.BaseSampler, None],
        "pruner": [optuna.pruners.BasePruner, None],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "group_folds": ["boolean", StrOptions({"auto"})],
    }

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
        group_folds: bool | str = "auto",
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
        self.group_folds = group_folds

    def _space(self) -> dict[str, Any]:
        if self.param_distributions is None:
            return default_search_space(self.estimator)
        return check_space(self.estimator, self.param_distributions)

    def _check_no_checkpoint(self) -> None:
        params = self.estimator.get_params(deep=True)
        lstm = find_step(self.estimator, _BaseLSTM)
        path = params.get(f"{lstm}checkpoint_path") if lstm is not None else None
        if path is not None:
            raise ValueError(
                f"OptunaSearchCV cannot search an estimator with checkpoint_path={path!r}: "
                "every trial and fold would write and resume the same file. Set it to None "
                "(a search keeps its progress in its storage instead)."
            )

    def _objective(self, X: Any, y: Any, space: dict[str, Any], folds: list, scorer: Any):
        lstm = find_step(self.estimator, _BaseLSTM)
        defaults = self.estimator.get_params(deep=True)
        gpus = gpu_count()

        def objective(trial: optuna.Trial) -> float:
            trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
            params = suggest(trial, space, defaults)
            # Each fold reports its epochs at steps of its own: fold * max_epochs + epoch,
            # with this trial's max_epochs (it may be searched).
            key = f"{lstm}max_epochs"
            max_epochs = params.get(key, defaults.get(key, 0)) if lstm is not None else 0
            if gpus > 1 and lstm is not None:
                # Parallel workers take turns over the GPUs instead of crowding the first.
                params[f"{lstm}devices"] = [trial.number % gpus]
            models = [clone(self.estimator).set_params(**params) for _ in folds]
            try:
                fit_together(
                    models,
                    (_safe_indexing(X, train) for train, _ in folds),  # taken fold by fold
                    [_safe_indexing(y, train) for train, _ in folds],
                    hooks=[[PruneOnEpoch(trial, k * max_epochs)] for k in range(len(folds))],
                    lockstep_hooks=[PruneInLockstep(trial, max_epochs)],
                    together=self.group_folds,
                )
                scores = [
                    scorer(model, _safe_indexing(X, test), _safe_indexing(y, test))
                    for model, (_, test) in zip(models, folds, strict=True)
                ]
            except optuna.TrialPruned:
                raise
            except SystemExit as exc:
                trial.set_user_attr("fail_reason", f"terminated (exit status {exc.code})")
                raise Terminated(exc.code) from exc
            except KeyboardInterrupt:
                trial.set_user_attr("fail_reason", "interrupted (Ctrl+C)")
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

    def _create_study(self, storage: Any) -> optuna.Study:
        return optuna.create_study(
            storage=storage,
            study_name=self.study_name,
            sampler=self.sampler or optuna.samplers.TPESampler(seed=self.random_state),
            pruner=self.pruner or optuna.pruners.MedianPruner(),
            direction="maximize",
            load_if_exists=True,
        )

    @_fit_context(prefer_skip_nested_validation=False)
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
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        if issparse(X):
            raise TypeError(
                f"{type(self).__name__} does not accept sparse X: the LSTM estimators read "
                "dense windows. Convert it with X.toarray()."
            )
        X, y = indexable(X, y)
        space = self._space()
        self._check_no_checkpoint()
        n_jobs = joblib.effective_n_jobs(self.n_jobs)
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            study = run_workers(self, X, y, n_jobs) if n_jobs > 1 else self._optimize(X, y, space)
        except Terminated as exc:
            raise SystemExit(exc.code) from None
        finally:
            optuna.logging.set_verbosity(verbosity)
        complete = study.get_trials(states=(TrialState.COMPLETE,))
        if not complete:
            reasons = {t.user_attrs.get("fail_reason", t.state.name) for t in study.trials}
            raise ValueError(f"No trial of the study completed; reasons: {sorted(reasons)}.")
        best = study.best_trial
        fitted = {
            "study_": study,
            "best_score_": best.value,
            "best_params_": suggest(
                FixedTrial(best.params), space, self.estimator.get_params(deep=True)
            ),
        }
        if self.refit:  # committed only once the refit succeeded
            refitted = clone(self.estimator).set_params(**fitted["best_params_"])
            fitted["best_estimator_"] = refitted.fit(X, y)
        vars(self).update(fitted)
        gc.collect()
        return self

    def _optimize(self, X: Any, y: Any, space: dict[str, Any]) -> optuna.Study:
        cv = TimeSeriesSplit(3) if self.cv is None else self.cv
        cv = TimeSeriesSplit(cv) if isinstance(cv, Integral) else check_cv(cv)
        folds = list(cv.split(X, y))
        scorer = check_scoring(self.estimator, scoring=self.scoring)
        study = self._create_study(storage_with_heartbeats(self.storage))
        missing = self.n_trials - len(study.get_trials(states=_FINISHED))
        if missing > 0:
            with sigterm_raises_system_exit():  # a terminated worker fails its trial
                study.optimize(
                    self._objective(X, y, space, folds, scorer),
                    n_trials=missing,
                    timeout=self.timeout,
                    catch=(Exception,),
                    callbacks=[optuna.study.MaxTrialsCallback(self.n_trials, states=_FINISHED)],
                    gc_after_trial=True,
                )
        return study

    def dump_job(self, path: str | os.PathLike[str], X: Any, y: Any) -> None:
        """Write this search and its data for extra worker processes.

        Start each worker with ``python -m tsforecast.model_selection PATH`` (on this machine,
        or on others that can reach the same ``storage``, e.g. a PostgreSQL URL): every worker
        adds trials to the shared study until it holds ``n_trials`` finished ones.

        The file is a joblib pickle: loading it runs code. Job files are trusted input: only
        start workers on files you wrote yourself.

        Parameters
        ----------
        path : str or path-like
            File to write.
        X, y : array-like
            The data every worker searches on.
        """
        if self.storage is None or self.study_name is None:
            raise ValueError(
                "Workers can only share a study kept in a storage under a name: pass storage= "
                "(a database URL or an optuna storage object) and study_name= (without it "
                f"each worker would start a study of its own); got study_name={self.study_name!r}."
            )
        self._check_no_checkpoint()
        # Create the study (and a database's tables) once, before workers race to do it.
        self._create_study(storage_with_heartbeats(self.storage))
        joblib.dump({"search": clone(self), "X": X, "y": y}, path)

    @available_if(_estimator_has("predict"))
    def predict(self, X: Any) -> np.ndarray:
        """Predict with ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities from ``best_estimator_`` (classifiers)."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: Any) -> np.ndarray:
        """Decision function of ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.decision_function(X)

    @available_if(_estimator_has("predict_quantiles"))
    def predict_quantiles(self, X: Any) -> np.ndarray:
        """Quantile forecasts of ``best_estimator_`` (quantile regressors)."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_quantiles(X)

    @available_if(_estimator_has("score"))
    def score(self, X: Any, y: Any) -> float:
        """Score of ``best_estimator_`` (its own ``score``, or ``scoring``)."""
        check_is_fitted(self, "best_estimator_")
        return check_scoring(self.best_estimator_, scoring=self.scoring)(self.best_estimator_, X, y)

    @property
    def classes_(self) -> np.ndarray:
        """Class labels of ``best_estimator_`` (classifiers)."""
        return self.best_estimator_.classes_

    @property
    def n_features_in_(self) -> int:
        """Number of features of ``best_estimator_``'s input."""
        return self.best_estimator_.n_features_in_

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.estimator_type = inner.estimator_type
        tags.input_tags = inner.input_tags
        tags.target_tags = inner.target_tags
        tags.regressor_tags = inner.regressor_tags
        tags.classifier_tags = inner.classifier_tags
        return tags
