"""Trainer or Fabric for the training engine: fit time of both, interleaved, on the CPU.

Issue 20 asks whether the engine (``tsforecast/_engine/training.py``: one Lightning
``Trainer`` and one ``LightningModule`` with manual optimization) should instead be built on
Lightning Fabric, which leaves the loop to the caller and keeps devices, precision and DDP.
This suite times, interleaved, on workloads (a) and (b) of ``fit_overhead``:

- the bare PyTorch loop of ``fit_overhead`` (:func:`benchmarks._workloads.bare_fit`);
- ``LSTMRegressor.fit``: today's Trainer engine;
- ``LSTMRegressor`` fitted through :func:`fabric_train`, a **prototype** of a Fabric engine
  written for this measurement only (it is not part of the package);

and, for the grouped networks, 4 expanding folds of workload (b) trained together
(:func:`~tsforecast.estimators._together.fit_together`, as ``folds_together`` does) against
the same group trained by the prototype.

The prototype reuses everything of the engine that does not touch Lightning (the fit
transaction, the seeded network, the per-run shuffles and minibatches, the lockstep
iteration, the grouped network, the end-of-epoch bookkeeping in ``Progress``), so the two
differ only in what drives the loop: ``Trainer.fit`` with its hooks, chunks of 16 steps per
Lightning batch and direct ``backward``/``optimizer.step`` calls, against a plain Python
loop with ``Fabric(accelerator="cpu", devices=1, precision="32-true")`` owning the set-up,
the forward wrapper, ``backward`` and the optimizer step. It handles only what these
workloads use: no validation split, no gradient clipping, no callbacks or loggers, no
checkpoint, no Ctrl+C, no recovery of a group's non-finite step (it raises). Before timing,
each workload is fitted once both ways with one seed and the final training losses and
forecasts are recorded: the same computation gives the same numbers to float rounding.
"""

from __future__ import annotations

import logging
import statistics
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from lightning.fabric import Fabric
from sklearn.base import clone
from sklearn.model_selection import TimeSeriesSplit

from tsforecast import LSTMRegressor
from tsforecast._engine.config import CHUNK_SIZE, OPTIMIZERS, TRAIN_LOSS, Run, TrainingResult
from tsforecast._engine.training import (
    _FoldOptimizer,
    _Lockstep,
    _Member,
    _side_by_side,
    _Subgroups,
    _zero_output_loss,
)
from tsforecast._nn.grouped import GroupedNetwork
from tsforecast._nn.losses import loss_of
from tsforecast.estimators._fit import conclude_fit, seeded
from tsforecast.estimators._together import fit_together, start_runs

from ._harness import interleaved, summarize
from ._workloads import WORKLOADS, bare_fit, sp500_windows, tsforecast_regressor

TRAINER = "tsforecast (Trainer engine)"
# The prototype's variants: whether its steps bypass Fabric's wrappers (``direct``).
FABRIC_VARIANTS = {"Fabric prototype": False, "Fabric prototype, direct steps": True}
_K = 4


def fabric_train(runs: Sequence[Run], *, direct: bool = False) -> list[TrainingResult]:
    """PROTOTYPE for the engine decision: train ``runs`` in lockstep with Lightning Fabric.

    The same steps as :func:`tsforecast._engine.training.train` on the subset of features
    the module docstring lists; one run steps its own network, several a grouped network.
    Each step goes through Fabric's forward wrapper, ``fabric.backward`` and Fabric's
    optimizer; with ``direct``, Fabric only sets up and the steps call the network,
    ``backward`` and the torch optimizer themselves (the Trainer engine's ``direct_steps``).
    """
    config = runs[0].config
    if config.gradient_clip_val is not None or any(r.data.validated for r in runs):
        raise ValueError("The Fabric prototype neither clips gradients nor validates.")
    fabric = Fabric(accelerator="cpu", devices=1, precision="32-true")
    members = [_Member(run) for run in runs]
    for member in members:
        member.batches, _ = member.run.data.batches(config, member.generator, CHUNK_SIZE)
    grouped = len(members) > 1
    network = GroupedNetwork([m.run.network for m in members]) if grouped else runs[0].network
    parameters = network.leaves if grouped else network.parameters()
    optimizer = OPTIMIZERS[config.optimizer](
        parameters, lr=config.learning_rate, **config.optimizer_kwargs
    )
    module, optimizer = fabric.setup(network, optimizer)
    module.train()
    forward = network if direct else module
    backward = torch.Tensor.backward if direct else fabric.backward
    step_optimizer = optimizer.optimizer if direct else optimizer
    subgroups = _Subgroups(network) if grouped else None
    for j, member in enumerate(members):
        run_network = network.write_back(j) if grouped else network
        member.progress.scale_loss = _zero_output_loss(run_network, runs[j].loss, member.batches)
    for _ in range(config.epochs):
        running = [j for j, m in enumerate(members) if not m.progress.stopped]
        for chunk in _Lockstep(members, CHUNK_SIZE, validation=False):
            for step in chunk:
                if not grouped:
                    ((j, (x, y)),) = step.items()
                    losses = {j: loss_of(runs[j].loss, forward(x), y, x)}
                else:
                    order = sorted(step)
                    group = subgroups[tuple(order)]
                    with fabric.autocast():
                        out = group(_side_by_side([step[j] for j in order]))
                    losses = {
                        j: loss_of(
                            runs[j].loss,
                            group.fold_outputs(out, p)[: step[j][0].shape[0]],
                            step[j][1],
                            step[j][0],
                        )
                        for p, j in enumerate(order)
                    }
                optimizer.zero_grad(set_to_none=True)
                backward(torch.stack(list(losses.values())).sum() if grouped else losses[j])
                if grouped:  # the engine's check before a group's step (it recovers)
                    values = [*losses.values(), *(network.leaves[j].grad.sum() for j in step)]
                    if not bool(torch.stack([v.detach() for v in values]).isfinite().all()):
                        raise FloatingPointError("The prototype does not recover this step.")
                for j, loss in losses.items():
                    progress = members[j].progress
                    members[j].tally.add(TRAIN_LOSS, loss, step[j][0].shape[0])
                    if progress.reference_loss is None:
                        progress.reference_loss = float(loss.detach())
                step_optimizer.step()
        for j in running:
            members[j].progress.end_epoch(
                network.write_back(j) if grouped else network,
                _FoldOptimizer(network, optimizer.optimizer, j) if grouped else optimizer.optimizer,
                float(members[j].tally.mean(TRAIN_LOSS)),
                None,
                members[j].generator,
                is_global_zero=True,
            )
        if all(m.progress.stopped for m in members):
            break
    return [m.progress.result(interrupted=False) for m in members]


def fabric_fit(
    estimators: Sequence[LSTMRegressor],
    Xs: Sequence[Any],
    ys: Sequence[Any],
    *,
    direct: bool = False,
) -> list[LSTMRegressor]:
    """Fit ``estimators`` (one, or the folds of a group) through the fit transaction with
    :func:`fabric_train` in place of the Trainer engine; all committed at the end."""
    pendings, runs = start_runs(estimators, Xs, ys)
    with seeded(pendings[0].seed, cuda=False):
        results = fabric_train(runs, direct=direct)
    for estimator, pending, run, result in zip(estimators, pendings, runs, results, strict=True):
        conclude_fit(estimator, pending, run.network, result, None).commit()
    return list(estimators)


def _agreement(trainer_fits: list[LSTMRegressor], fabric_fits: dict[str, list], probe: Any) -> dict:
    """Final training losses of the Trainer engine's fits and of each Fabric variant's, and
    the largest loss and forecast differences between them."""
    final = {
        name: [e.history_[-1][TRAIN_LOSS] for e in fits]
        for name, fits in {TRAINER: trainer_fits, **fabric_fits}.items()
    }
    return {
        "final_train_loss": final,
        "max_loss_difference": max(
            abs(a - b)
            for name in fabric_fits
            for a, b in zip(final[TRAINER], final[name], strict=True)
        ),
        "max_forecast_difference": max(
            float(np.abs(a.predict(probe) - b.predict(probe)).max())
            for fits in fabric_fits.values()
            for a, b in zip(trainer_fits, fits, strict=True)
        ),
    }


def _paired(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Each Fabric variant's time over the Trainer engine's in the same round (adjacent, so
    the machine's slow phases cancel): median and range, the noise the decision is read
    against."""
    out = {}
    for name in FABRIC_VARIANTS:
        ratios = [f / t for f, t in zip(times[name], times[TRAINER], strict=True)]
        out[name] = {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}
    return out


def _fabric_contenders(estimator: LSTMRegressor, Xs: list, ys: list) -> dict[str, Callable]:
    return {
        name: lambda direct=direct: fabric_fit(
            [clone(estimator) for _ in Xs], Xs, ys, direct=direct
        )
        for name, direct in FABRIC_VARIANTS.items()
    }


def single_fits(rounds: dict[str, int]) -> dict:
    """Workloads (a) and (b): bare loop, Trainer engine, Fabric prototype (both variants)."""
    out = {}
    for key, w in WORKLOADS.items():
        X, y = sp500_windows(w.window)
        estimator = tsforecast_regressor(w)
        fabric = _fabric_contenders(estimator, [X], [y])
        # Also the warm-up: every contender has run once before the timed rounds.
        agreement = _agreement(
            [clone(estimator).fit(X, y)], {name: run() for name, run in fabric.items()}, X[-500:]
        )
        bare_fit(X, y, w)
        times = interleaved(
            {
                "bare PyTorch": lambda X=X, y=y, w=w: bare_fit(X, y, w),
                TRAINER: lambda X=X, y=y, e=estimator: clone(e).fit(X, y),
                **fabric,
            },
            rounds=rounds[key],
            warmup=0,
        )
        out[key] = {
            "workload": w.name,
            "n_samples": len(X),
            "epochs": w.epochs,
            "contenders": summarize(times, "bare PyTorch"),
            "fabric_over_trainer": _paired(times),
            **agreement,
        }
    return out


def grouped_fits(rounds: int) -> dict:
    """4 expanding folds of workload (b) trained as one group: Trainer engine vs prototype."""
    w = WORKLOADS["b"]
    X, y = sp500_windows(w.window)
    estimator = tsforecast_regressor(w)
    folds = [train for train, _ in TimeSeriesSplit(_K).split(X)]
    Xs, ys = [X[f] for f in folds], [y[f] for f in folds]
    fabric = _fabric_contenders(estimator, Xs, ys)

    def trainer() -> list:
        return fit_together([clone(estimator) for _ in folds], Xs, ys)

    agreement = _agreement(trainer(), {name: run() for name, run in fabric.items()}, X[-500:])
    times = interleaved({TRAINER: trainer, **fabric}, rounds=rounds, warmup=0)
    return {
        "workload": f"{w.name}; {_K} expanding folds trained together",
        "fold_sizes": [len(f) for f in folds],
        "epochs": w.epochs,
        "contenders": summarize(times, TRAINER),
        "fabric_over_trainer": _paired(times),
        **agreement,
    }


def run(rounds: dict[str, int]) -> dict:
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    logging.getLogger("lightning.fabric").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="lightning")
    return {**single_fits(rounds), "together": grouped_fits(rounds["together"])}
