"""Epoch-level pruning of Optuna trials, as a plain per-epoch hook of the LSTM estimators."""

from __future__ import annotations

from typing import Any

import optuna

from .._config import TRAIN_LOSS, VAL_LOSS, EpochRecord


class Terminated(KeyboardInterrupt):
    """SIGTERM inside a trial, carried through Optuna as an interrupt so that the trial is
    recorded as failed (Optuna leaves a trial ended by SystemExit RUNNING forever)."""

    def __init__(self, code: Any) -> None:
        super().__init__(code)
        self.code = code


class PruneOnEpoch:
    """Report each epoch to an Optuna trial and prune when the pruner says so.

    The reported value is minus the validation loss (the training loss without validation):
    larger is better, as for the study's objective (a score), so a pruner compares trials in
    the study's own direction. Raising ``TrialPruned`` ends the fit, which leaves the fold's
    clone unfitted.
    """

    def __init__(self, trial: optuna.Trial, first_step: int) -> None:
        self.trial = trial
        self.first_step = first_step

    def __call__(self, record: EpochRecord) -> None:
        step = self.first_step + int(record["epoch"])
        loss = record.get(VAL_LOSS, record[TRAIN_LOSS])
        self.trial.report(-loss, step)
        if self.trial.should_prune():
            reason = f"pruned at step {step} (epoch {record['epoch']}), loss {loss:.6g}"
            self.trial.set_user_attr("prune_reason", reason)
            raise optuna.TrialPruned(reason)


class PruneOnFoldMean(PruneOnEpoch):
    """:class:`PruneOnEpoch` for folds trained together: once per epoch, the folds' mean.

    Called with every fold's latest record (a fold that stopped early keeps its last one),
    it reports the mean loss at step ``epoch``: the pruner's warm-up and steps count epochs,
    as for a single fit.
    """

    def __init__(self, trial: optuna.Trial) -> None:
        super().__init__(trial, 0)

    def __call__(self, records: list[EpochRecord]) -> None:  # type: ignore[override]
        keys = [TRAIN_LOSS] + ([VAL_LOSS] if all(VAL_LOSS in r for r in records) else [])
        mean: EpochRecord = {"epoch": max(r["epoch"] for r in records)}
        for key in keys:
            mean[key] = sum(r[key] for r in records) / len(records)
        super().__call__(mean)
