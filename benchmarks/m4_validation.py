"""Choose tsforecast's M4 recipe on the validation split, and the ablation of its parts.

M4's validation rule: hold out the last ``horizon`` training values of each series, fit on
the rest, score the held-out values. The test file is never read for fitting or scoring here.

    python -m benchmarks.m4_validation --data ../shared/data/m4 [--series 104]
        [--variant NAME ...] [--set name=value ...]

Scores seasonal naive, Naive2 and each variant of the recipe (:data:`VARIANTS`: the recipe,
and the recipe without each of its capabilities), prints sMAPE, MASE and OWA (relative to
Naive2 on the same split), and writes ``benchmarks/results/m4_ablation.json``. ``--set``
runs one extra variant with the given overrides (not saved when given alone).
"""

from __future__ import annotations

import argparse
import ast
import sys
import time

import torch

from ._harness import write
from .m4 import FREQUENCIES, _statistical, load_m4, m4_scores, owa, validation_split
from .m4_contender import tsforecast_contender

# The recipe, then the recipe without one capability each (the ablation).
VARIANTS: dict[str, dict] = {
    "recipe (ensemble of 5)": {},
    "one network (no ensemble)": {"members": 1},
    "without the seasonal residual": {"seasonal_residual": False},
    "without window scaling": {"window_scaling": None, "seasonal_residual": False},
    "loss mse instead of mae": {"loss": "mse"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--frequency", default="Hourly", choices=sorted(FREQUENCIES))
    parser.add_argument("--series", type=int, default=None, help="about this many series")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variant", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--set", action="append", default=[], help="recipe override k=v")
    args = parser.parse_args()
    torch.set_num_threads(1)
    _, series, _ = load_m4(args.data, args.frequency)
    if args.series:
        series = series[:: max(1, len(series) // args.series)]
    horizon, season = FREQUENCIES[args.frequency]
    fit, held_out = validation_split(series, horizon)
    baseline = m4_scores(_statistical("Naive2")(fit, horizon, season), fit, held_out, season)
    variants = {name: VARIANTS[name] for name in args.variant}
    if args.set:
        extra = {k: ast.literal_eval(v) for k, v in (s.split("=", 1) for s in args.set)}
        variants = {**(variants if len(args.variant) < len(VARIANTS) else {}), str(extra): extra}
    rows = {}
    for name in ("Naive2", "seasonal naive"):
        forecast = _statistical(name)(fit, horizon, season)
        rows[name] = m4_scores(forecast, fit, held_out, season)
    for name, overrides in variants.items():
        start, cpu = time.perf_counter(), time.process_time()
        # The network's season may differ from the data's (e.g. weekly in hourly data).
        settings = {k: v for k, v in overrides.items() if k != "season"}
        network_season = overrides.get("season", season)
        forecast = tsforecast_contender(fit, horizon, network_season, args.seed, **settings)
        scores = m4_scores(forecast, fit, held_out, season)
        rows[name] = {
            **scores,
            "overrides": str(overrides),
            "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu,
        }
        print(f"[m4 validation] {name}: OWA {owa(scores, baseline):.3f}", flush=True)
    for name, row in rows.items():
        row["owa"] = owa(row, baseline)
        print(f"{name:45s} sMAPE {row['smape']:7.3f} MASE {row['mase']:6.3f} OWA {row['owa']:6.3f}")
    if not args.set:
        write(
            "m4_ablation",
            {
                "suite": "m4_ablation",
                "command": "python -m benchmarks.m4_validation " + " ".join(sys.argv[1:]),
                "quick": False,
                "results": {
                    "frequency": args.frequency,
                    "split": "validation (last horizon training values)",
                    "n_series": len(series),
                    "threads": 1,
                    "seed": args.seed,
                    "rows": rows,
                },
            },
        )


if __name__ == "__main__":
    main()
