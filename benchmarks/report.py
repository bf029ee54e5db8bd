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


_RENDERERS = {
    "fit_overhead": _fit_overhead,
    "predict_latency": _predict_latency,
    "memory": _memory,
}


def render(directory: Path) -> str:
    """One Markdown document from every ``<suite>.json`` in ``directory``."""
    lines = ["# Benchmark results", "", "Reproduce with `make bench` (`python -m benchmarks`).", ""]
    environment = None
    for path in sorted(directory.glob("*.json")):
        payload = json.loads(path.read_text())
        environment = payload["environment"]
        renderer = _RENDERERS.get(payload["suite"])
        if renderer is not None:
            lines += renderer(payload["results"])
    if environment is not None:
        versions = ", ".join(f"{k} {v}" for k, v in environment["versions"].items())
        lines += [
            f"Machine: {environment['processor']}, {environment['cpu_count']} cores, "
            f"torch threads {environment['torch_threads']}, CUDA: {environment['cuda']}. "
            f"Python {environment['python']}; {versions}.",
            "",
        ]
    return "\n".join(lines)
