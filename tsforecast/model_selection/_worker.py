"""Worker processes for a shared study: ``python -m tsforecast.model_selection JOB``."""

from __future__ import annotations

import argparse

import joblib
from optuna.trial import TrialState

_DESCRIPTION = (
    "Add trials to a shared Optuna study written by OptunaSearchCV.dump_job. The job file is "
    "a joblib pickle: loading it runs code, so only pass files you wrote yourself (job files "
    "are trusted input)."
)


def main(argv: list[str] | None = None, prog: str = "python -m tsforecast.model_selection") -> None:
    """Worker entry point (see :meth:`OptunaSearchCV.dump_job`)."""
    parser = argparse.ArgumentParser(prog=prog, description=_DESCRIPTION)
    parser.add_argument("job", help="file written by OptunaSearchCV.dump_job (trusted input)")
    args = parser.parse_args(argv)
    job = joblib.load(args.job)
    search = job["search"].set_params(refit=False)
    search.fit(job["X"], job["y"])
    finished = len(search.study_.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED)))
    name = search.study_.study_name
    print(f"study {name!r}: {finished} finished trials, best score {search.best_score_:.6g}")
