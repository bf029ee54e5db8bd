"""Markdown tables from the benchmark JSON files."""

from __future__ import annotations

import json
from pathlib import Path


def _ratio_table(title: str, contenders: dict[str, dict[str, float]], unit: str) -> list[str]:
    scale = {"s": 1.0, "ms": 1e3}[unit]
    lines = [f"**{title}**", "", f"| contender | median ({unit}) | ratio to first | rounds |"]
    lines.append("| --- | ---: | ---: | ---: |")
    for name, stats in contenders.items():
        lines.append(
            f"| {name} | {stats['median_s'] * scale:.3f} | {stats['ratio']:.3f}x | "
            f"{stats['rounds']} |"
        )
    return [*lines, ""]


def _fit_overhead(results: dict) -> list[str]:
    lines = ["### Fit time against a bare PyTorch loop", ""]
    for key in sorted(results):
        r = results[key]
        title = f"workload {r['workload']} ({r['n_samples']} windows, {r['epochs']} epochs)"
        lines += _ratio_table(title, r["contenders"], "s")
    return lines


def _predict_latency(results: dict) -> list[str]:
    lines = ["### Predict latency against the bare module", ""]
    for label in ("single window", "whole test set"):
        title = f"{label}, workload {results['workload']}"
        if label == "whole test set":
            title += f" ({results['test_windows']} windows)"
        lines += _ratio_table(title, results[label], "ms")
    return lines


def _memory(results: dict) -> list[str]:
    lines = [
        "### Memory of fit on a long series",
        "",
        f"{results['setup']}. Each contender runs in a fresh process; 'fit adds' is the peak",
        "resident memory during fit minus the resident memory after imports and data creation.",
        "",
        "| steps | contender | data (MB) | fit adds (MB) | process peak (MB) | peak vs lazy bare |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    bare = {
        m["n_steps"]: m["process_peak_mb"]
        for m in results["measurements"]
        if m["contender"] == "lazy bare loop"
    }
    for m in results["measurements"]:
        lines.append(
            f"| {m['n_steps']:,} | {m['contender']} | {m['data_mb']:.0f} | "
            f"{m['fit_added_mb']:.0f} | {m['process_peak_mb']:.0f} | "
            f"{m['process_peak_mb'] / bare[m['n_steps']]:.2f}x |"
        )
    return [*lines, ""]


def _peers(results: dict) -> list[str]:
    lines = [f"### Peers on workload {results['workload']}", ""]
    lines += _ratio_table("fit", results["fit"], "s")
    lines += _ratio_table("single-window predict", results["single-window predict"], "ms")
    lines += [
        "| library | peak RSS of a fit process (MB) | vs tsforecast |",
        "| --- | ---: | ---: |",
    ]
    ours = results["peak_rss_mb"]["tsforecast"]
    for name, mb in results["peak_rss_mb"].items():
        lines.append(f"| {name} | {mb:.0f} | {mb / ours:.2f}x |")
    return [*lines, ""]


def _scaling(results: dict) -> list[str]:
    lines = ["### Scaling of fit time", "", results["setup"] + ".", ""]
    for key, label in (("lengths", "n_steps"), ("windows", "window")):
        lines += [
            f"| {label} | one epoch (s) | time per {label} vs first row |",
            "| ---: | ---: | ---: |",
        ]
        for row in results[key]:
            lines.append(
                f"| {row[label]:,} | {row['seconds']:.2f} | {row['per_unit_vs_first']:.2f} |"
            )
        lines.append("")
    return lines


def _distributed(results: dict) -> list[str]:
    lines = [
        f"### devices=2 (DDP, spawned CPU processes), workload {results['workload']}, "
        f"{results['epochs']} epochs",
        "",
        "| devices | wall time (s) | samples/s |",
        "| ---: | ---: | ---: |",
    ]
    for row in results["runs"]:
        lines.append(
            f"| {row['devices']} | {row['seconds']:.1f} | {row['samples_per_second']:.0f} |"
        )
    return [*lines, ""]


def _gpu(results: dict) -> list[str]:
    if "skipped" in results:
        return ["### GPU", "", f"Skipped: {results['skipped']}.", ""]
    lines = ["### GPU", "", results["setup"] + ".", ""]
    for label in ("fp32", "bf16-mixed"):
        lines += _ratio_table(label, results[label], "s")
    if "cells" in results:
        lines += _cells(results["cells"])
    if "folds_together" in results:
        lines += _folds_together(results["folds_together"])
    return lines


def _optuna_vs_grid(results: dict) -> list[str]:
    grid, search = results["grid"], results["optuna"]
    return [
        "### Pruned Optuna search vs exhaustive GridSearchCV (EUR/USD returns, 16-point space)",
        "",
        "| search | fits | wall time (s) | best CV score (neg. RMSE) |",
        "| --- | --- | ---: | ---: |",
        f"| GridSearchCV | {grid['points']} points x 3 folds | {grid['seconds']:.0f} | "
        f"{grid['best_score']:.6f} |",
        f"| OptunaSearchCV | {search['trials']} trials {search['states']} | "
        f"{search['seconds']:.0f} | {search['best_score']:.6f} |",
        "",
        f"Optuna took {results['time_ratio']:.2f}x the grid's time; its best RMSE is "
        f"{100 * results['score_gap']:.2f}% worse than the grid's (target: <= 2% in <= 1/3).",
        "",
    ]


def _tuning_memory(results: dict) -> list[str]:
    marks = ", ".join(
        f"{mb:.0f} MB after trial {k}" for k, mb in results["rss_mb_after_trial"].items()
    )
    return [
        f"### Memory over a {results['trials']}-trial study",
        "",
        f"Resident memory: {marks}; growth after the first 10 trials: "
        f"{results['growth_mb_after_first_10']:+.0f} MB.",
        "",
    ]


def _cells(results: dict) -> list[str]:
    lines = ["### Fit time by recurrent cell (`cell=`)", "", results["setup"] + ".", ""]
    for device in ("cpu", "cuda"):
        if device in results:
            lines += _ratio_table(device.upper(), results[device], "s")
    return lines


def _import_time(results: dict) -> list[str]:
    target = results["target_ratio"]
    loaded = results["modules_loaded"]["tsforecast"]
    return [
        "### Import time",
        "",
        f"Fresh interpreters, interleaved; target: at most {target}x the unavoidable imports.",
        "",
        *_ratio_table("cold-start import", results["contenders"], "s"),
        f"`import tsforecast` loads Lightning: {loaded['lightning']}; Optuna: {loaded['optuna']}.",
        "",
    ]


def _backtest_scaling(results: dict) -> list[str]:
    lines = [
        "### Backtest time against the history length (fixed test size)",
        "",
        results["setup"] + ". Medians of interleaved rounds; CPU time is this process's.",
        "",
        "| history (steps) | refit | training | algorithm | wall (s) | CPU (s) | min CPU (s) | "
        "CPU vs shortest history (median, min) |",
        "| ---: | --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in results["rows"]:
        ratio = f"{r['cpu_vs_shortest_history']:.2f}x, {r['min_cpu_vs_shortest_history']:.2f}x"
        lines.append(
            f"| {r['n_steps']:,} | {r['refit']} | {r['training']} | {r['algorithm']} | "
            f"{r['median_s']:.2f} | {r['median_cpu_s']:.2f} | {r['min_cpu_s']:.2f} | {ratio} |"
        )
    return [*lines, ""]


def _panel_memory(results: dict) -> list[str]:
    lines = [
        "### Memory of fit on panels",
        "",
        results["setup"] + ". 'fit adds': peak minus the resident memory with the input loaded.",
        "",
        "| case (series x steps, window, features) | contender | input (MB) | fit adds (MB) | "
        "adds vs input | process peak (MB) | peak vs first |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for case in results["cases"]:
        n_series, n_steps, window, n_covariates = case["shape"]
        label = f"{case['case']}: {n_series:,} x {n_steps:,}, {window}, {1 + n_covariates}"
        for m in case["measurements"]:
            lines.append(
                f"| {label} | {m['contender']} | {m['input_mb']:.0f} | {m['fit_added_mb']:.0f} | "
                f"{m['added_vs_input']:.2f}x | {m['process_peak_mb']:.0f} | "
                f"{m['peak_vs_first']:.2f}x |"
            )
    return [*lines, ""]


def _folds_together(results: dict) -> list[str]:
    lines = ["### Fold models trained together vs one by one", ""]
    for key, r in results.items():
        title = (
            f"{key}: {r['workload']}; fold sizes {r['fold_sizes']}, {r['epochs']} epochs; "
            f"largest forecast difference {r['max_forecast_difference']:.1e}"
        )
        lines += _ratio_table(title, r["contenders"], "s")
    return lines


def _m4(results: dict) -> list[str]:
    from .m4 import table

    return [f"### M4 {results['frequency']}", "", table(results), ""]


_RENDERERS = {
    "m4": _m4,
    "fit_overhead": _fit_overhead,
    "folds_together": _folds_together,
    "predict_latency": _predict_latency,
    "memory": _memory,
    "peers": _peers,
    "scaling": _scaling,
    "distributed": _distributed,
    "gpu": _gpu,
    "optuna_vs_grid": _optuna_vs_grid,
    "tuning_memory": _tuning_memory,
    "cells": _cells,
    "import_time": _import_time,
    "backtest_scaling": _backtest_scaling,
    "panel_memory": _panel_memory,
}


def _machine(environment: dict) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in environment["versions"].items())
    return (
        f"Machine: {environment['processor']}, {environment['cpu_count']} cores, "
        f"torch threads {environment['torch_threads']}, CUDA: {environment['cuda']}. "
        f"Python {environment['python']}; {versions}."
    )


def render(directory: Path) -> str:
    """One Markdown document from every ``<suite>.json`` in ``directory``.

    The suites measured on a GPU machine name it under their own section; the last line names
    the machine of the others.
    """
    lines = ["# Benchmark results", "", "Reproduce with `make bench` (`python -m benchmarks`).", ""]
    environment = None
    for path in sorted(directory.glob("*.json")):
        payload = json.loads(path.read_text())
        renderer = _RENDERERS.get(payload["suite"])
        if renderer is not None:
            lines += renderer(payload["results"])
        if payload["environment"]["cuda"] is not None:
            lines += [_machine(payload["environment"]), ""]
        else:
            environment = payload["environment"]
    if environment is not None:
        lines += [_machine(environment), ""]
    return "\n".join(lines)
