"""OptunaSearchCV: search, pruning, failures, resume, bad spaces, shared studies."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import ClassVar

import lightning.pytorch as pl
import numpy as np
import optuna
import pytest
from conftest import FAST
from optuna.distributions import CategoricalDistribution, IntDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsforecast import LSTMRegressor, SlidingWindowTransformer
from tsforecast.model_selection import LayerUnits, OptunaSearchCV, default_search_space

# The searches here run on NumPy series: each validation fold's first windows are padded,
# with a HistoryPaddingWarning (tests/test_history.py); these tests are about the searches.
pytestmark = pytest.mark.filterwarnings("ignore::tsforecast.exceptions.HistoryPaddingWarning")


@pytest.fixture
def series(rng):
    t = np.arange(260)
    x = np.sin(t / 6) + 0.05 * rng.normal(size=len(t))
    return x[:-1, None], x[1:]


def _pipe():
    # On the CPU also on a GPU machine: parallel trials would share its one GPU (and warn).
    return make_pipeline(
        StandardScaler(),
        SlidingWindowTransformer(window=8),
        LSTMRegressor(**{**FAST, "max_epochs": 4}, accelerator="cpu", random_state=0),
    )


def _units_search(n_trials=6, **kwargs):
    """A small search over the LSTM's units, on two time-series folds."""
    return OptunaSearchCV(
        _pipe(),
        {"lstmregressor__units": IntDistribution(4, 12)},
        n_trials=n_trials,
        cv=TimeSeriesSplit(2),
        **kwargs,
    )


def test_default_space_covers_layers_units_dropout_lr_and_window():
    space = default_search_space(_pipe())
    assert set(space) == {
        "lstmregressor__num_layers",
        "lstmregressor__units",
        "lstmregressor__dropout",
        "lstmregressor__learning_rate",
        "slidingwindowtransformer__window",
    }
    with pytest.raises(ValueError, match="needs an LSTMRegressor"):
        default_search_space(StandardScaler())


def test_search_finds_parameters_and_refits(series):
    X, y = series
    space = {
        "lstmregressor__num_layers": IntDistribution(1, 2),
        "lstmregressor__units": LayerUnits(4, 16),
        "lstmregressor__learning_rate": CategoricalDistribution([0.01, 0.03]),
    }
    search = OptunaSearchCV(_pipe(), space, n_trials=4, cv=TimeSeriesSplit(2), random_state=0)
    search.fit(X, y)
    units = search.best_params_["lstmregressor__units"]
    assert (
        isinstance(units, tuple) and len(units) == search.best_params_["lstmregressor__num_layers"]
    )
    assert search.best_estimator_[-1].units == units
    assert search.predict(X).shape == (len(X),)
    assert len(search.study_.trials) == 4
    assert search.best_score_ == max(
        t.value for t in search.study_.trials if t.state == TrialState.COMPLETE
    )


@pytest.mark.parametrize(
    ("group_folds", "step"),
    [
        (False, 5),  # fold 0's epoch 5, the first step after the warm-up
        (True, 8),  # fold 1's epoch 0 (step 1 * max_epochs), reached with the first epoch
    ],
)
def test_pruning_stops_hopeless_trials(series, group_folds, step):
    X, y = series
    # A learning rate of 1e-7 cannot bring the validation loss under 0.8 within the warm-up;
    # 3e-2 does. The threshold pruner (which sees minus the loss) must stop exactly the first.
    space = {"lstmregressor__learning_rate": CategoricalDistribution([3e-2, 1e-7])}
    pipe = _pipe().set_params(lstmregressor__validation_fraction=0.2, lstmregressor__max_epochs=8)
    search = OptunaSearchCV(
        pipe,
        space,
        n_trials=6,
        cv=TimeSeriesSplit(2),
        pruner=optuna.pruners.ThresholdPruner(lower=-0.8, n_warmup_steps=5),
        random_state=1,
        group_folds=group_folds,
    ).fit(X, y)
    by_state = {
        state: {
            t.params["lstmregressor__learning_rate"]
            for t in search.study_.trials
            if t.state == state
        }
        for state in (TrialState.PRUNED, TrialState.COMPLETE)
    }
    assert by_state[TrialState.PRUNED] == {1e-7}
    assert by_state[TrialState.COMPLETE] == {3e-2}
    pruned = [t for t in search.study_.trials if t.state == TrialState.PRUNED]
    assert all(t.user_attrs["prune_reason"].startswith(f"pruned at step {step}") for t in pruned)


def test_failed_trials_are_recorded_and_the_search_goes_on(series):
    X, y = series
    space = {"lstmregressor__learning_rate": CategoricalDistribution([1e-2, 1e30])}
    pipe = _pipe().set_params(lstmregressor__optimizer="sgd")
    search = OptunaSearchCV(pipe, space, n_trials=5, cv=TimeSeriesSplit(2), random_state=0)
    search.fit(X, y)
    failed = [t for t in search.study_.trials if t.state == TrialState.FAIL]
    assert failed and all("diverged" in t.user_attrs["fail_reason"] for t in failed)
    assert search.best_params_["lstmregressor__learning_rate"] == 1e-2


def test_a_stored_study_resumes_without_losing_trials(series, tmp_path):
    X, y = series
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "study.log")))
    kwargs = {"storage": storage, "study_name": "s", "refit": False}
    first = _units_search(n_trials=2, random_state=0, **kwargs).fit(X, y)
    before = [(t.number, t.params, t.value) for t in first.study_.trials]
    second = _units_search(n_trials=4, random_state=1, **kwargs).fit(X, y)
    after = [(t.number, t.params, t.value) for t in second.study_.trials]
    assert after[:2] == before and len(after) == 4
    assert not hasattr(second, "best_estimator_")


def test_bad_spaces_are_refused(series):
    X, y = series
    with pytest.raises(ValueError, match=r"'lstmregressor__nope'.*not a parameter"):
        OptunaSearchCV(_pipe(), {"lstmregressor__nope": IntDistribution(1, 2)}).fit(X, y)
    with pytest.raises(TypeError, match="must be an optuna distribution"):
        OptunaSearchCV(_pipe(), {"lstmregressor__units": [8, 16]}).fit(X, y)


def test_grid_and_randomized_search_still_work_on_the_same_pipeline(series):
    X, y = series
    grid = GridSearchCV(_pipe(), {"lstmregressor__units": [4, 8]}, cv=TimeSeriesSplit(2))
    assert grid.fit(X, y).best_params_["lstmregressor__units"] in (4, 8)
    randomized = RandomizedSearchCV(
        _pipe(),
        {"lstmregressor__units": [4, 8, 12], "slidingwindowtransformer__window": [4, 8]},
        n_iter=2,
        cv=TimeSeriesSplit(2),
        random_state=0,
    ).fit(X, y)
    assert randomized.predict(X).shape == (len(X),)


def _run_two_workers(search, X, y, tmp_path):
    """Two concurrent worker processes complete the study together."""
    job = tmp_path / "job.joblib"
    search.dump_job(job, X, y)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tsforecast.model_selection", str(job)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err[-3000:]
    study = optuna.load_study(study_name=search.study_name, storage=search.storage)
    finished = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert 6 <= len(finished) <= 7  # the last trials of both workers may overlap by one
    assert len({t.user_attrs["worker"] for t in study.trials}) == 2


def test_two_worker_processes_share_one_sqlite_study(series, tmp_path):
    X, y = series
    search = _units_search(storage=f"sqlite:///{tmp_path / 'study.db'}", study_name="shared")
    _run_two_workers(search, X, y, tmp_path)


@pytest.fixture
def postgres_url():
    """A throw-away PostgreSQL server on loopback (Debian's postgresql package)."""
    bin_dirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    initdb = shutil.which("initdb") or next((str(d / "initdb") for d in bin_dirs), None)
    if initdb is None:
        pytest.skip("PostgreSQL is not installed (Debian package 'postgresql')")
    pg_ctl = str(Path(initdb).with_name("pg_ctl"))
    pytest.importorskip("psycopg2", reason="psycopg2 is not installed (dev extra)")
    base = Path(tempfile.mkdtemp(prefix="tsforecast-pg-"))
    base.chmod(0o755)
    data = base / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(base, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    commands = [
        [initdb, "-D", str(data), "-A", "trust", "-U", "postgres"],
        [
            pg_ctl,
            "-D",
            str(data),
            "-l",
            str(base / "log"),
            "-w",
            "start",
            "-o",
            f"-p {port} -c listen_addresses=127.0.0.1 -k {base}",
        ],
    ]
    try:
        for command in commands:
            subprocess.run([*as_user, *command], check=True, capture_output=True, timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        shutil.rmtree(base, ignore_errors=True)
        detail = getattr(exc, "stderr", b"") or b""
        pytest.skip(f"could not start a PostgreSQL server: {exc} {detail.decode()[-300:]}")
    yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-m", "fast", "stop"], capture_output=True, timeout=120
    )
    shutil.rmtree(base, ignore_errors=True)


def test_two_worker_processes_share_one_postgres_study(series, tmp_path, postgres_url):
    X, y = series
    search = _units_search(storage=postgres_url, study_name="shared-pg")
    _run_two_workers(search, X, y, tmp_path)


def test_parallel_trials_run_in_processes_and_score_as_serial_fits(series):
    X, y = series
    search = _units_search(n_trials=4, n_jobs=2, random_state=0).fit(X, y)
    complete = search.study_.get_trials(states=(TrialState.COMPLETE,))
    assert 4 <= len(complete) <= 5  # the workers' last trials may overlap by one
    assert len({t.user_attrs["worker"] for t in search.study_.trials}) == 2
    # Each trial's score is what the same fits give in this process, serially (the worker
    # processes run torch on fewer threads: equal up to float rounding).
    serial = GridSearchCV(
        _pipe(),
        {"lstmregressor__units": [search.best_params_["lstmregressor__units"]]},
        cv=TimeSeriesSplit(2),
    ).fit(X, y)
    assert serial.best_score_ == pytest.approx(search.best_score_, rel=1e-5)


def test_parallel_workers_without_a_study_name_share_one_generated_study(series, tmp_path):
    """Old code: each worker created a study of its own and ran every trial, then loading
    "the" study failed (the storage did not contain exactly 1 study)."""
    X, y = series
    storage = f"sqlite:///{tmp_path / 's.db'}"
    search = _units_search(n_trials=2, n_jobs=2, storage=storage, random_state=0).fit(X, y)
    summaries = optuna.get_all_study_summaries(storage)
    assert [s.study_name for s in summaries] == [search.study_.study_name]
    assert 2 <= len(search.study_.get_trials(states=(TrialState.COMPLETE,))) <= 3


def test_dump_job_without_a_study_name_is_refused(series, tmp_path):
    X, y = series
    storage = f"sqlite:///{tmp_path / 's.db'}"
    with pytest.raises(ValueError, match=r"study_name=.*got study_name=None"):
        _units_search(storage=storage).dump_job(tmp_path / "job", X, y)
    assert not (tmp_path / "job").exists()
    assert optuna.get_all_study_summaries(storage) == []


def test_parallel_trials_on_one_gpu_warn(series, monkeypatch):
    monkeypatch.setattr("tsforecast.model_selection._parallel.gpu_count", lambda: 1)
    X, y = series
    search = _units_search(n_trials=1, n_jobs=2)
    search.set_params(estimator__lstmregressor__accelerator="auto")
    with pytest.warns(UserWarning, match="share the only GPU"):
        search.fit(X, y)


def test_a_space_that_samples_the_accelerator_counts_as_using_the_gpu():
    """Old code read only the estimator's parameters: a CPU default with a space sampling
    "cuda" went without the shared-GPU warning."""
    from tsforecast.model_selection._parallel import _trains_on_gpu

    units = {"lstmregressor__units": IntDistribution(4, 12)}
    assert not _trains_on_gpu(OptunaSearchCV(_pipe(), units))
    sampled = optuna.distributions.CategoricalDistribution(["cpu", "cuda"])
    search = OptunaSearchCV(_pipe(), {**units, "lstmregressor__accelerator": sampled})
    assert _trains_on_gpu(search)


def test_parallel_trials_on_the_cpu_do_not_warn_of_the_gpu(series, monkeypatch):
    """Old code warned whenever the machine had one GPU, also for networks pinned to the CPU."""
    monkeypatch.setattr("tsforecast.model_selection._parallel.gpu_count", lambda: 1)
    X, y = series
    search = _units_search(n_trials=1, n_jobs=2)
    assert search.estimator.get_params()["lstmregressor__accelerator"] == "cpu"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        search.fit(X, y)


_INTERRUPTED_WORKER = """
import os, signal, sys, joblib, optuna
job = joblib.load(sys.argv[1])
search = job["search"]

def stop_after_two(study, trial):
    if len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))) >= 2:
        os.kill(os.getpid(), signal.SIGKILL)  # as a crash or a killed job would

search.set_params(refit=False)
orig = optuna.study.Study.optimize
def optimize(self, *args, **kwargs):
    kwargs["callbacks"] = [*kwargs.get("callbacks", []), stop_after_two]
    return orig(self, *args, **kwargs)
optuna.study.Study.optimize = optimize
search.fit(job["X"], job["y"])
"""


def test_an_interrupted_study_resumes_without_losing_completed_trials(series, tmp_path):
    X, y = series
    search = _units_search(
        n_trials=4,
        storage=f"sqlite:///{tmp_path / 'study.db'}",
        study_name="interrupted",
        refit=False,
    )
    job = tmp_path / "job.joblib"
    search.dump_job(job, X, y)
    killed = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_WORKER, str(job)], capture_output=True, timeout=300
    )
    assert killed.returncode == -9  # the worker died mid-study
    study = optuna.load_study(study_name="interrupted", storage=search.storage)
    done = [(t.number, t.params, t.value) for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(done) == 2
    resumed = search.fit(X, y)
    after = {
        (t.number, tuple(t.params.items()), t.value)
        for t in resumed.study_.trials
        if t.state == TrialState.COMPLETE
    }
    assert {(n, tuple(p.items()), v) for n, p, v in done} <= after
    assert len(after) == 4


def _ar2(n=400, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    for t in range(2, n):
        x[t] = 0.6 * x[t - 1] - 0.3 * x[t - 2] + rng.normal()
    X = np.lib.stride_tricks.sliding_window_view(x[:-1], 10)[:, :, None]
    return X, x[10:]


def test_the_pruner_stops_hopeless_trials_not_the_best_ones():
    # Issue 12: the loss was reported to a maximising study, so MedianPruner pruned the
    # trials with the lowest loss (every good learning rate) and completed the hopeless ones.
    X, y = _ar2()
    search = OptunaSearchCV(
        LSTMRegressor(units=8, max_epochs=4, random_state=0),
        {"learning_rate": CategoricalDistribution([3e-2, 1e-6])},
        n_trials=10,
        cv=TimeSeriesSplit(2),
        sampler=optuna.samplers.RandomSampler(seed=0),
        random_state=0,
    ).fit(X, y)
    pruned = {t.params["learning_rate"] for t in search.study_.trials if t.state.name == "PRUNED"}
    assert pruned == {1e-6}
    assert search.best_params_["learning_rate"] == 3e-2
    # Intermediate values are on the objective's side: larger is better.
    good = [t for t in search.study_.trials if t.params["learning_rate"] == 3e-2]
    bad = [t for t in search.study_.trials if t.params["learning_rate"] == 1e-6]
    assert min(t.intermediate_values[0] for t in good) > max(t.intermediate_values[0] for t in bad)


class _CtrlCAtReport(optuna.pruners.BasePruner):
    """Never prunes; presses Ctrl+C at the first epoch that trial ``number`` reports (its
    folds training together), as a terminal delivers it: with Python's default handler
    outside fits, whatever an earlier test in this worker process left installed."""

    def __init__(self, number):
        self.number = number
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def prune(self, study, trial):
        if trial.number == self.number:
            signal.raise_signal(signal.SIGINT)
        return False


class _CtrlCAtFit(pl.Callback):
    """Presses Ctrl+C at the start of the ``at``-th fit that any copy of it watches."""

    fits: ClassVar[list[int]] = []

    def __init__(self, at):
        self.at = at
        _CtrlCAtFit.fits.clear()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def on_train_start(self, trainer, pl_module):
        self.fits.append(1)
        if len(self.fits) == self.at:
            signal.raise_signal(signal.SIGINT)


def test_ctrl_c_stops_an_optuna_search_without_scoring_the_truncated_fit(series, tmp_path):
    X, y = series
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "study.log")))
    search = _units_search(
        n_trials=4, storage=storage, study_name="s", random_state=0, pruner=_CtrlCAtReport(1)
    )
    # Pressed after a whole epoch: the folds say which weights they keep, then stop.
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="interrupted"):
        search.fit(X, y)
    trials = optuna.load_study(study_name="s", storage=storage).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL]
    assert trials[1].user_attrs["fail_reason"] == "interrupted (Ctrl+C)"


def test_ctrl_c_stops_a_grid_search_too(series):
    X, y = series
    pipe = _pipe().set_params(lstmregressor__trainer_kwargs={"callbacks": [_CtrlCAtFit(2)]})
    grid = GridSearchCV(pipe, {"lstmregressor__units": [4, 8]}, cv=TimeSeriesSplit(2))
    with pytest.raises(KeyboardInterrupt):
        grid.fit(X, y)
    assert not hasattr(grid, "best_score_")


def test_a_checkpoint_path_inside_a_search_is_refused(series, tmp_path):
    X, y = series
    pipe = _pipe().set_params(lstmregressor__checkpoint_path=str(tmp_path / "c.ckpt"))
    with pytest.raises(ValueError, match="checkpoint_path"):
        OptunaSearchCV(pipe, {"lstmregressor__units": IntDistribution(4, 8)}).fit(X, y)


def test_search_parameters_are_validated_and_methods_follow_the_estimator(series):
    X, y = series
    with pytest.raises(ValueError, match="'n_trials' parameter"):
        _units_search(n_trials=0).fit(X, y)
    with pytest.raises(ValueError, match="'pruner' parameter"):
        _units_search(pruner="median").fit(X, y)
    search = _units_search(n_trials=1)
    assert not hasattr(search, "predict_proba")  # a regressor has no probabilities
    assert hasattr(search, "predict")


def test_worker_help_says_job_files_are_trusted_input():
    out = subprocess.run(
        [sys.executable, "-m", "tsforecast.model_selection", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "trusted input" in out.stdout


# A worker (the public CLI) of a job whose pruner sends itself SIGNAL at the first epoch that
# trial NUMBER reports from step STEP on.
_SIGNAL_IN_WORKER = """
import runpy, signal, sys, types, joblib, optuna

class SignalAt(optuna.pruners.BasePruner):
    def prune(self, study, trial):
        if trial.number == NUMBER and trial.last_step >= STEP:
            signal.raise_signal(SIGNAL)
        return False

# In a module of its own: the worker's __main__ replaces this script's.
SignalAt.__module__ = "signal_at"
sys.modules["signal_at"] = types.SimpleNamespace(SignalAt=SignalAt)

job = joblib.load(sys.argv[1])
job["search"].set_params(pruner=SignalAt())
joblib.dump(job, sys.argv[1])
sys.argv = ["python -m tsforecast.model_selection", sys.argv[1]]
runpy.run_module("tsforecast.model_selection", run_name="__main__", alter_sys=True)
"""

# During the second trial, whose folds train together.
_SIGTERM_WORKER, _KILLED_WORKER = (
    _SIGNAL_IN_WORKER.replace("NUMBER", "1").replace("STEP", "0").replace("SIGNAL", "15"),
    # With folds fitted one by one, during the second fold of the second trial (steps from
    # max_epochs on): Optuna's heartbeat thread has then surely recorded the trial (a worker
    # killed within the first milliseconds of a trial leaves it RUNNING, an Optuna limitation).
    _SIGNAL_IN_WORKER.replace("NUMBER", "1").replace("STEP", "4").replace("SIGNAL", "9"),
)


def _job(search, X, y, tmp_path):
    job = tmp_path / "job.joblib"
    search.dump_job(job, X, y)
    return str(job)


def test_a_sigterm_in_a_worker_exits_143_and_fails_its_trial(series, tmp_path):
    X, y = series
    search = _units_search(storage=f"sqlite:///{tmp_path / 's.db'}", study_name="t")
    out = subprocess.run(
        [sys.executable, "-c", _SIGTERM_WORKER, _job(search, X, y, tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 143, out.stderr[-2000:]
    trials = optuna.load_study(study_name="t", storage=search.storage).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL]
    assert "terminated" in trials[1].user_attrs["fail_reason"]


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_the_trial_of_a_killed_worker_is_failed_and_retried(series, tmp_path, monkeypatch):
    import time

    from optuna.storages import RetryHeartbeatStaleTrialCallback

    X, y = series
    search = _units_search(
        n_trials=3,
        storage=f"sqlite:///{tmp_path / 's.db'}",
        study_name="k",
        refit=False,
        group_folds=False,
    )
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_WORKER, _job(search, X, y, tmp_path)],
        capture_output=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL
    before = optuna.load_study(study_name="k", storage=search.storage).trials
    assert [t.state for t in before] == [TrialState.COMPLETE, TrialState.RUNNING]
    monkeypatch.setattr("tsforecast.model_selection._parallel.GRACE_PERIOD", 1)
    time.sleep(2)
    search.fit(X, y)
    trials = search.study_.trials
    assert trials[1].state == TrialState.FAIL  # no longer RUNNING forever
    retried = [t for t in trials if RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == 1]
    assert retried and retried[0].params == trials[1].params
    assert not [t for t in trials if t.state == TrialState.RUNNING]


def test_ctrl_c_during_the_refit_leaves_the_search_unfitted(series):
    X, y = series
    search = _units_search(n_trials=1, random_state=0)
    # The callback watches each fit: the trial's two folds, then the refit.
    search.set_params(estimator__lstmregressor__trainer_kwargs={"callbacks": [_CtrlCAtFit(3)]})
    with pytest.raises(KeyboardInterrupt):
        search.fit(X, y)
    assert _CtrlCAtFit.fits == [1, 1, 1]
    assert not hasattr(search, "best_estimator_") and not hasattr(search, "study_")
