"""Several processes on one Optuna study: storages with heartbeats, local worker processes."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import warnings
from typing import Any, Protocol

import joblib
import optuna
import torch
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState
from sklearn.base import clone

# A worker that stops sending heartbeats for the grace period is taken for dead: its trial
# is failed and, through RetryHeartbeatStaleTrialCallback, tried again by a live worker.
HEARTBEAT_INTERVAL = 60
GRACE_PERIOD = 180
MAX_RETRY = 2


class SharedSearch(Protocol):
    """What the worker processes of a shared study need of a search
    (:class:`~tsforecast.model_selection.OptunaSearchCV` implements it)."""

    estimator: Any
    storage: Any
    study_name: str | None
    random_state: int | None
    sampler: Any

    def set_params(self, **params: Any) -> SharedSearch: ...

    def _space(self) -> dict[str, Any]:
        """The search space, Optuna distributions by parameter name."""

    def _create_study(self, storage: Any) -> optuna.Study:
        """Create (or load) the search's study in ``storage``."""

    def _optimize(self, X: Any, y: Any, space: dict[str, Any]) -> optuna.Study:
        """Run the search's trials on its study."""


def gpu_count() -> int:
    return torch.cuda.device_count()


def _trains_on_gpu(search: SharedSearch) -> bool:
    """Whether a network of the search (in its estimator or pipeline) may take the GPU: an
    ``accelerator`` other than ``"cpu"``, as set or as the search space may sample it."""
    values = list(search.estimator.get_params(deep=True).items())
    values += [
        (key, choice)
        for key, distribution in search._space().items()
        for choice in getattr(distribution, "choices", ("cpu",))
    ]
    return any(value != "cpu" for key, value in values if key.split("__")[-1] == "accelerator")


def storage_with_heartbeats(storage: Any) -> Any:
    """A database URL becomes an RDBStorage that notices dead workers (heartbeats)."""
    if not (isinstance(storage, str) and "://" in storage):
        return storage
    with warnings.catch_warnings():
        # Heartbeats have been "experimental" since Optuna 2.8; they are what makes a dead
        # worker's trial fail instead of staying RUNNING, so they are used knowingly.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RDBStorage(
            storage,
            heartbeat_interval=HEARTBEAT_INTERVAL,
            grace_period=GRACE_PERIOD,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY),
        )


def run_workers(search: SharedSearch, X: Any, y: Any, n_jobs: int) -> optuna.Study:
    """Run ``n_jobs`` worker processes on one shared study and return it.

    Without a storage the workers share a temporary journal file, copied into memory at the
    end. Each worker reseeds its copy of the sampler, so that the workers sample different
    parameters.
    """
    if gpu_count() == 1 and _trains_on_gpu(search):
        warnings.warn(
            f"n_jobs={n_jobs}: the parallel trials share the only GPU; they run, but each is "
            "slower. Use n_jobs=1, or one worker process per GPU.",
            UserWarning,
            stacklevel=4,
        )
    scratch = None
    storage = search.storage
    if storage is None:  # an in-memory study cannot be shared: a temporary journal can
        scratch = tempfile.mkdtemp(prefix="tsforecast-study-")
        backend = optuna.storages.journal.JournalFileBackend(os.path.join(scratch, "log"))
        storage = optuna.storages.JournalStorage(backend)
    try:
        study = search._create_study(storage_with_heartbeats(storage))
        # Without a study_name Optuna generated one: every worker must use that one study.
        name = study.study_name
        seed = search.random_state
        workers = [
            clone(search).set_params(
                n_jobs=1,
                refit=False,
                storage=storage,
                study_name=name,
                random_state=None if seed is None else seed + k,
            )
            for k in range(n_jobs)
        ]
        try:
            joblib.Parallel(n_jobs=n_jobs, backend="loky")(
                joblib.delayed(_run_worker)(worker, X, y) for worker in workers
            )
        except KeyboardInterrupt:
            _fail_abandoned_trials(study)
            raise
        if scratch is None:
            return optuna.load_study(study_name=name, storage=storage_with_heartbeats(storage))
        memory = optuna.storages.InMemoryStorage()
        optuna.copy_study(from_study_name=name, from_storage=storage, to_storage=memory)
        return optuna.load_study(study_name=name, storage=memory)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _run_worker(search: SharedSearch, X: Any, y: Any) -> None:
    """One worker process of ``OptunaSearchCV(n_jobs=k)``: add trials to the shared study."""
    if search.sampler is not None:
        search.sampler.reseed_rng()  # else every worker would sample the same parameters
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    search._optimize(X, y, search._space())


def _fail_abandoned_trials(study: optuna.Study) -> None:
    """Mark failed the RUNNING trials of this machine's workers that no longer run (killed
    with the process group on Ctrl+C before they could record it)."""
    host = socket.gethostname()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker_host, _, pid = str(trial.user_attrs.get("worker", "")).rpartition(":")
        if worker_host != host or not pid.isdigit() or _is_alive(int(pid)):
            continue
        study._storage.set_trial_user_attr(trial._trial_id, "fail_reason", "interrupted (Ctrl+C)")
        study.tell(trial.number, state=TrialState.FAIL)


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
