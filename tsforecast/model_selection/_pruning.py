"""Epoch-level pruning of Optuna trials, as a plain per-epoch hook of the LSTM estimators."""

from __future__ import annotations

import optuna

from .._engine.config import KEPT_LOSS, TRAIN_LOSS, VAL_LOSS, EpochRecord


class PruneOnEpoch:
    """Report each epoch to an Optuna trial and prune when the pruner says so.

    The reported value is minus the validation loss of the weights the fit would keep if it
    stopped now (the best epoch so far, or a linear skip's ridge start; without validation,
    the epoch's training loss, as the fit keeps its last epoch): larger is better, as for
    the study's objective (a score), so a pruner compares trials in the study's own
    direction and judges what each trial would deliver. Raising ``TrialPruned`` ends the
    fit, which leaves the fold's clone unfitted.
    """

    def __init__(self, trial: optuna.Trial, first_step: int) -> None:
        self.trial = trial
        self.first_step = first_step
        self._latest: tuple[int, int, float] = (-1, -1, 0.0)  # step, epoch, loss

    def __call__(self, record: EpochRecord) -> None:
        self._report(self.first_step, record)
        self._prune_if_asked()

    def _report(self, first_step: int, record: EpochRecord) -> None:
        epoch = int(record["epoch"])
        loss = record.get(KEPT_LOSS, record.get(VAL_LOSS, record[TRAIN_LOSS]))
        self.trial.report(-loss, first_step + epoch)
        self._latest = max(self._latest, (first_step + epoch, epoch, loss))

    def _prune_if_asked(self) -> None:
        if self.trial.should_prune():
            step, epoch, loss = self._latest
            reason = f"pruned at step {step} (epoch {epoch}), loss {loss:.6g}"
            self.trial.set_user_attr("prune_reason", reason)
            raise optuna.TrialPruned(reason)


class PruneInLockstep(PruneOnEpoch):
    """:class:`PruneOnEpoch` for the folds of a trial trained together.

    Called after every epoch with each fold's latest record (``None`` before its first), it
    reports each fold's new epoch at the step a fit of that fold alone reports it,
    ``fold * max_epochs + epoch``, then asks the pruner once: studies mixing trials trained
    together and one by one compare the same values at the same steps. The difference is
    when: folds trained together reach the later folds' steps after their first epoch.
    """

    def __init__(self, trial: optuna.Trial, max_epochs: int) -> None:
        super().__init__(trial, 0)
        self.max_epochs = max_epochs
        self._reported: set[int] = set()

    def __call__(self, records: list[EpochRecord | None]) -> None:  # type: ignore[override]
        for fold, record in enumerate(records):
            first_step = fold * self.max_epochs
            if record is not None and first_step + int(record["epoch"]) not in self._reported:
                self._reported.add(first_step + int(record["epoch"]))
                self._report(first_step, record)
        self._prune_if_asked()
