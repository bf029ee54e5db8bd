"""Markdown tables from the benchmark JSON files."""

from __future__ import annotations

import json
import re
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


def _engine_choice(results: dict) -> list[str]:
    lines = [
        "### Training engine: Lightning Trainer or Fabric",
        "",
        "The Fabric contenders are a prototype (`benchmarks/engine_choice.py`); *per round* is "
        "each round's time over the Trainer engine's in the same round.",
        "",
    ]
    for r in results.values():
        size = f"fold sizes {r['fold_sizes']}" if "fold_sizes" in r else f"{r['n_samples']} windows"
        first = next(iter(r["contenders"]))
        lines += [
            f"**{r['workload']} ({size}, {r['epochs']} epochs)**",
            "",
            f"| contender | median (s) | min - max (s) | ratio to {first} | per round: median "
            "(min - max) | rounds |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, stats in r["contenders"].items():
            paired = r["fabric_over_trainer"].get(name)
            per_round = (
                "-"
                if paired is None
                else f"{paired['median']:.3f}x ({paired['min']:.3f} - {paired['max']:.3f})"
            )
            lines.append(
                f"| {name} | {stats['median_s']:.3f} | {stats['min_s']:.3f} - "
                f"{stats['max_s']:.3f} | {stats['ratio']:.3f}x | {per_round} | {stats['rounds']} |"
            )
        lines += [
            "",
            "Same seed, Trainer engine and Fabric prototype: largest difference of the final "
            f"training losses {r['max_loss_difference']:.1e}, of the forecasts "
            f"{r['max_forecast_difference']:.1e}.",
            "",
        ]
    return lines


# The examples' figures (``python examples/<name>.py --save-results``): the tables the docs
# quote, one renderer per example.


def _example_stock_forecast(results: dict) -> list[str]:
    split = results["split"]
    lines = [
        "### Flagship: S&P 500 next-day close (`examples/stock_forecast.py`)",
        "",
        f"Train {split['train'][0]} .. {split['train'][1]} (maximum {split['train_max']:,.0f}), "
        f"test {split['test'][0]} .. {split['test'][1]} ({split['test_days']:,} days, "
        f"{split['test_range'][0]:,.0f} .. {split['test_range'][1]:,.0f}).",
        "",
        "| next-day close | RMSE | MAE | MASE | RMSE vs naive | direction |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in results["next_day"].items():
        direction = "-" if row["direction"] is None else f"{row['direction']:.3f}"
        lines.append(
            f"| {name} | {row['rmse']:.3f} | {row['mae']:.3f} | {row['mase']:.3f} | "
            f"{row['rmse_vs_naive']:.4f} | {direction} |"
        )
    multi = ", ".join(f"{ratio:.4f}" for ratio in results["multi_step"].values())
    folds = ", ".join(f"{fold['ratio']:.4f}" for fold in results["backtest"])
    direction = results["direction"]
    bands = results["intervals"]
    quantile, fixed = bands["LSTM, quantile loss"], bands["training-return quantiles"]
    risk = results["risk"]
    lstm_risk = risk["LSTM, QLIKE"]
    returns = results["forecast_returns"]
    return [
        *lines,
        "",
        f"- Direct multi-step (one 5-output model), RMSE vs naive for t+1 .. t+5: {multi}.",
        f"- Walk-forward backtest (refit every 250 days, 4 folds), LSTM / naive RMSE: {folds}.",
        f"- Direction classifier: accuracy {direction['accuracy']:.3f}; majority class "
        f"('{direction['majority']}' every day) {direction['majority_accuracy']:.3f}.",
        f"- 80% prediction interval (quantile loss): coverage {quantile['coverage']:.3f}, mean "
        f"width {quantile['width']:.1f}; fixed training-return quantiles: coverage "
        f"{fixed['coverage']:.3f}, width {fixed['width']:.1f}.",
        f"- Risk, next-day variance, QLIKE: GARCH(1, 1) {risk['GARCH(1, 1)']['qlike']:.4f}, "
        f"EWMA {risk['EWMA 0.94']['qlike']:.4f}, LSTM {lstm_risk['qlike']:.4f} (DM vs GARCH "
        f"{lstm_risk['dm_vs_garch']:+.2f}, p={lstm_risk['pvalue']:.3f}).",
        f"- The LSTM's forecast returns: std {returns['std']:.1e} against "
        f"{returns['actual_std']:.1e} for the real ones; correlation of forecast and actual "
        f"prices {returns['price_correlation']:.3f}.",
        "",
    ]


def _example_volatility(results: dict) -> list[str]:
    lines = [
        "### Next-day variance, QLIKE (`examples/volatility.py`)",
        "",
        "| series (test days) | EWMA | GARCH(1, 1) | HAR | LSTM (design) | LSTM / best | "
        "DM vs GARCH | DM vs EWMA |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, series in results.items():
        models = series["models"]
        lstm = models["LSTM"]
        tests = [lstm[f"dm_vs_{other}"] for other in ("GARCH", "EWMA")]
        lines.append(
            f"| {name} ({series['test_days']:,}) | {models['EWMA']['qlike']:.4f} | "
            f"{models['GARCH']['qlike']:.4f} | {models['HAR']['qlike']:.4f} | "
            f"{lstm['qlike']:.4f} ({series['design']}) | {lstm['vs_best']:.3f} | "
            + " | ".join(f"{t['statistic']:+.2f}, p={t['pvalue']:.3f}" for t in tests)
            + " |"
        )
    return [*lines, ""]


def _example_intervals(results: dict) -> list[str]:
    methods = list(next(iter(results.values())))
    lines = [
        "### 80% intervals for next-day returns, coverage / mean width (`examples/intervals.py`)",
        "",
        "| series | " + " | ".join(methods) + " |",
        "| --- |" + " ---: |" * len(methods),
    ]
    for name, cells in results.items():
        lines.append(
            f"| {name} | "
            + " | ".join(f"{c['coverage']:.3f} / {c['width']:.3f}" for c in cells.values())
            + " |"
        )
    within = {
        method: sum(0.78 <= cells[method]["coverage"] <= 0.82 for cells in results.values())
        for method in methods
    }
    return [
        *lines,
        "",
        "Coverage within the goal [0.78, 0.82]: "
        + ", ".join(f"{method} {count} of {len(results)}" for method, count in within.items())
        + ".",
        "",
    ]


def _example_tune_fx(results: dict) -> list[str]:
    params = ", ".join(
        f"`{name.split('__')[1]}` {value:.4g}"
        if isinstance(value, float)
        else f"`{name.split('__')[1]}` {value}"
        for name, value in results["best_params"].items()
    )
    states = ", ".join(f"{count} {state.lower()}" for state, count in results["states"].items())
    return [
        "### Optuna search on EUR/USD returns (`examples/tune_fx.py`)",
        "",
        f"{results['trials']} trials ({states}) in {results['search_seconds']:.0f} s on "
        f"{results['train_days']:,} training days; best: {params}; cross-validated RMSE of "
        f"returns {results['best_cv_rmse']:.6f}.",
        "",
        "| hold-out, EUR/USD level one day ahead | RMSE |",
        "| --- | ---: |",
        f"| tuned LSTM | {results['holdout_rmse']:.6f} |",
        f"| naive (last value) | {results['naive_rmse']:.6f} |",
        f"| ratio | {results['ratio']:.4f} |",
        "",
    ]


def _example_hourly_weather(results: dict) -> list[str]:
    lines = [
        "### 24 hours ahead on hourly weather, RMSE (`examples/hourly_weather.py`)",
        "",
        "| target | forecast | RMSE | vs best baseline |",
        "| --- | --- | ---: | ---: |",
    ]
    for target, result in results.items():
        best = result["rmse"][result["best_baseline"]]
        for name, score in result["rmse"].items():
            lines.append(f"| {target} | {name} | {score:.4g} | {score / best:.3f} |")
    chosen = "; ".join(
        f"{target}: linear_skip={r['chosen']['linear_skip']}, learning rate "
        f"{r['chosen']['learning_rate']:g}, solar inputs {r['chosen']['solar']}"
        for target, r in results.items()
    )
    first = next(iter(results.values()))
    return [
        *lines,
        "",
        f"Test {first['test'][0]} .. {first['test'][1]}, {first['forecasts']:,} forecasts. "
        f"Chosen on the inner split: {chosen}.",
        "",
    ]


def _example_price_levels(results: dict) -> list[str]:
    lines = [
        "### Price levels beyond the training range (`examples/price_levels.py`)",
        "",
        "| series (test range; training maximum) | recommended pipeline vs naive | "
        "correlation with actual | standardized levels vs naive |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        low, high = r["test_range"]
        recommended, levels = r["recommended pipeline"], r["standardized levels"]
        lines.append(
            f"| {name} ({low:,.4g} .. {high:,.4g}; {r['train_max']:,.4g}) | "
            f"{recommended['vs_naive']:.4f} | {recommended['correlation']:.3f} | "
            f"{levels['vs_naive']:.2f}x |"
        )
    return [*lines, ""]


def _example_fx_panel(results: dict) -> list[str]:
    lines = [
        "### One global model over five currencies (`examples/fx_panel.py`)",
        "",
        "| currency | naive RMSE | global / naive | per-currency / naive |",
        "| --- | ---: | ---: | ---: |",
    ]
    for currency, r in results.items():
        lines.append(
            f"| {currency} | {r['naive_rmse']:.4f} | {r['global']:.4f} | {r['per_currency']:.4f} |"
        )
    return [*lines, ""]


def _example_digits_classification(results: dict) -> list[str]:
    lines = [
        f"### Digits read row by row, accuracy on {results['test_images']:,} test images "
        "(`examples/digits_classification.py`)",
        "",
        "| model | accuracy |",
        "| --- | ---: |",
    ]
    for name, accuracy in results["accuracy"].items():
        lines.append(f"| {name} | {accuracy:.3f} |")
    met = "met" if max(results["accuracy"].values()) >= results["target_accuracy"] else "missed"
    return [
        *lines,
        "",
        f"{results['train_images']:,} training images, stratified. The LSTM (`--seed "
        f"{results['seed']}`) trained {results['epochs']} epochs; target accuracy >= "
        f"{results['target_accuracy']}: {met}.",
        "",
    ]


def _example_text_classification(results: dict) -> list[str]:
    lines = [
        f"### Psalms or Proverbs: {results['test_verses']:,} held-out verses from "
        f"{results['test_chapters']} whole chapters (`examples/text_classification.py`)",
        "",
        "| model | accuracy | balanced accuracy |",
        "| --- | ---: | ---: |",
    ]
    for name, score in results["scores"].items():
        lines.append(f"| {name} | {score['accuracy']:.3f} | {score['balanced']:.3f} |")
    return [
        *lines,
        "",
        f"{results['train_verses']:,} training verses; the LSTM's vocabulary "
        f"{results['vocabulary']:,} word ids, {results['epochs']} epochs.",
        "",
    ]


def _example_text_generation(results: dict) -> list[str]:
    lines = [
        "### Proverbs character by character, hold-out bits per character "
        "(`examples/text_generation.py`)",
        "",
        "| model | bits/char |",
        "| --- | ---: |",
    ]
    for name, bits in results["bits_per_char"].items():
        lines.append(f"| {name} | {bits:.3f} |")
    return [
        *lines,
        "",
        f"{results['train_characters']:,} training characters (chapters 1-27), "
        f"{results['test_characters']:,} held out (28-31), {results['distinct_characters']} "
        f"distinct. The LSTM trained {results['epochs']} epochs (at most "
        f"{results['max_epochs']}); next-character accuracy "
        f"{results['next_character_accuracy']:.3f}.",
        "",
    ]


def _example_interop(results: dict) -> list[str]:
    lines = [
        f"### One-step forecasts of the last {results['test_days']} days through skforecast, "
        "sktime and darts, MSE (`examples/interop.py`)",
        "",
        "| forecast | MSE |",
        "| --- | ---: |",
    ]
    for name, mse in results["mse"].items():
        lines.append(f"| {name} | {mse:.3f} |")
    return [*lines, ""]


def _best_in_columns(rows: dict[str, list[float]], digits: str) -> dict[str, list[str]]:
    """``rows``' figures formatted with ``digits``, the lowest of each column in bold."""
    columns = list(zip(*rows.values(), strict=True))
    best = [min(column) for column in columns]
    return {
        name: [
            f"**{value:{digits}}**" if value == low else f"{value:{digits}}"
            for value, low in zip(values, best, strict=True)
        ]
        for name, values in rows.items()
    }


_HOURLY_PEERS = {
    "darts BlockRNNModel (LSTM)": "darts `BlockRNNModel` (LSTM)",
    "neuralforecast LSTM": "neuralforecast `LSTM`",
    "tsforecast LSTM": "tsforecast `LSTMRegressor`",
    "tsforecast LSTM + linear skip": "tsforecast `LSTMRegressor(linear_skip=True)`",
}


def _hourly_peers(results: dict) -> list[str]:
    lines = [
        f"### Peers on the hourly example's test period, RMSE over {results['forecasts']:,} "
        "forecasts",
        "",
        "| contender | temperature (°C) | GHI (W/m²) |",
        "| --- | ---: | ---: |",
    ]
    rows = {
        name: [scores["temperature"], scores["ghi"]] for name, scores in results["rmse"].items()
    }
    for name, cells in _best_in_columns(rows, ".4g").items():
        lines.append(f"| {_HOURLY_PEERS.get(name, name)} | " + " | ".join(cells) + " |")
    missing = results.get("not_installed", {})
    if missing:
        lines += ["", "Not installed where this ran: " + ", ".join(missing) + "."]
    return [*lines, ""]


_HOURLY_DESIGN = {
    "ridge": "`RidgeCV`, same inputs",
    "last_state": "LSTM, last-state head (the package's)",
    "shared_layer": "LSTM, darts / neuralforecast head: 24 outputs from the last 24 hidden "
    "states, one shared layer",
    "fixed_skip": "LSTM + linear skip fixed at ridge, ridge start kept unless beaten "
    "(the package's)",
    "joint_skip": "LSTM + linear skip trained jointly",
}


def _hourly_design(results: dict) -> list[str]:
    rmse = results["rmse"]
    columns = [(target, inputs) for target in rmse for inputs in rmse[target]]
    units = {"temperature": "temperature (°C)", "ghi": "GHI (W/m²)"}
    header = [
        units.get(target, target) if inputs == "plain" else "with solar inputs"
        for target, inputs in columns
    ]
    variants = list(rmse[columns[0][0]][columns[0][1]])
    rows = {v: [rmse[target][inputs][v] for target, inputs in columns] for v in variants}
    lines = [
        "### Design variants on the hourly example's inner split, RMSE",
        "",
        "| variant | " + " | ".join(header) + " |",
        "| --- |" + " ---: |" * len(columns),
    ]
    for name, cells in _best_in_columns(rows, ".4g").items():
        lines.append(f"| {_HOURLY_DESIGN.get(name, name)} | " + " | ".join(cells) + " |")
    trained = "; ".join(
        f"{target}, {inputs}: "
        + ", ".join(str(n) for n in results["epochs"][target][inputs].values())
        for target, inputs in columns
    )
    return [
        *lines,
        "",
        f"1 x 64 LSTM, at most {results['max_epochs']} epochs, patience {results['patience']}. "
        f"Epochs trained (in the table's order): {trained}.",
        "",
    ]


def _round_three(results: dict) -> list[str]:
    lines = [
        "### Round three's history cases, measured on this tree",
        "",
        "| case | measured | HistoryPaddingWarning |",
        "| --- | --- | ---: |",
    ]
    for group, cases in results.items():
        for case, value in cases.items():
            if isinstance(value, dict) and "padding_warnings" in value:
                shown, warned = value["value"], str(value["padding_warnings"])
            else:
                shown, warned = value, "\\-"
            if isinstance(shown, float):
                shown = f"{shown:.3g}"
            elif isinstance(shown, dict):
                shown = ", ".join(f"{key}: {item:.3g}" for key, item in shown.items())
            lines.append(f"| {group}: {case} | {shown} | {warned} |")
    return [*lines, ""]


def _m4(results: dict) -> list[str]:
    from .m4 import table

    return [f"### M4 {results['frequency']}", "", *table(results).splitlines(), ""]


def _against(results: dict) -> list[str]:
    lines = [
        "### This commit's package timings against another commit's",
        "",
        "Median over rounds of the per-round ratio (this / the other; above 1 is slower), "
        "with the range.",
        "",
        "| timing | median ratio | min | max | rounds |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for key, r in results.items():
        lines.append(
            f"| {key} | {r['median_ratio']:.3f}x | {r['min_ratio']:.3f}x | "
            f"{r['max_ratio']:.3f}x | {r['rounds']} |"
        )
    return [*lines, ""]


def _m4_ablation(results: dict) -> list[str]:
    lines = [
        f"### M4 {results['frequency']}: the recipe's parts, on the validation split",
        "",
        f"{results['n_series']} series, {results['split']}; one thread, seed {results['seed']}.",
        "",
        "| variant | sMAPE | MASE | OWA | fit + forecast (s) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, row in results["rows"].items():
        seconds = f"{row['seconds']:.0f}" if "seconds" in row else ""
        lines.append(
            f"| {name} | {row['smape']:.3f} | {row['mase']:.3f} | {row['owa']:.3f} | {seconds} |"
        )
    return [*lines, ""]


_RENDERERS = {
    "m4": _m4,
    "m4_ablation": _m4_ablation,
    "against": _against,
    "fit_overhead": _fit_overhead,
    "folds_together": _folds_together,
    "engine_choice": _engine_choice,
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
    "example_stock_forecast": _example_stock_forecast,
    "example_volatility": _example_volatility,
    "example_intervals": _example_intervals,
    "example_tune_fx": _example_tune_fx,
    "example_hourly_weather": _example_hourly_weather,
    "example_price_levels": _example_price_levels,
    "example_fx_panel": _example_fx_panel,
    "example_digits_classification": _example_digits_classification,
    "example_text_classification": _example_text_classification,
    "example_text_generation": _example_text_generation,
    "example_interop": _example_interop,
    "hourly_peers": _hourly_peers,
    "hourly_design": _hourly_design,
    "round_three": _round_three,
}


def _machine(environment: dict) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in environment["versions"].items())
    load = environment.get("load_average")
    load = "" if load is None else f", load average {load:.1f} when it ended"
    return (
        f"Machine: {environment['processor']}, {environment['cpu_count']} cores{load}, "
        f"torch threads {environment['torch_threads']}, CUDA: {environment['cuda']}. "
        f"Python {environment['python']}; {versions}."
    )


def provenance(payload: dict, source: str) -> str:
    """Where a result comes from: the command, when, and the machine it ran on.

    ``source`` names the result file. Files written before the date was recorded carry the
    date of the commit that wrote them, with a ``date_source`` saying so.
    """
    suite = payload["suite"]
    command = payload.get("command", f"python -m benchmarks --only {suite}")
    took = f" ({payload['seconds']:.0f} s)" if "seconds" in payload else ""
    environment = payload["environment"]
    date = environment.get("date", "a date not recorded")
    if environment.get("date_source"):  # a date added to an old file, not recorded by the run
        date += f" ({environment['date_source']})"
    if environment.get("commit"):
        date += f" (commit {environment['commit']})"
    quick = " (a --quick smoke run)" if payload.get("quick") else ""
    return (
        f"Measured by `{command}`{took}{quick} on {date}. {_machine(environment)} "
        f"Source: `{source}`."
    )


def render(directory: Path) -> str:
    """One Markdown document from every ``<suite>.json`` in ``directory``.

    The suites measured on a GPU machine name it under their own section; the last line names
    the machine of the other benchmarks. The examples' figures, and the results of scripts run
    on their own (a ``command`` in the file), name their own command and machine.
    """
    lines = ["# Benchmark results", "", "Reproduce with `make bench` (`python -m benchmarks`).", ""]
    environment = None
    for path in sorted(directory.glob("*.json")):
        payload = json.loads(path.read_text())
        renderer = _RENDERERS.get(payload["suite"])
        if renderer is not None:
            lines += renderer(payload["results"])
        if payload["suite"].startswith("example_") or "command" in payload:
            lines += [provenance(payload, path.name), ""]
        elif payload["environment"]["cuda"] is not None:
            lines += [_machine(payload["environment"]), ""]
        else:
            environment = payload["environment"]
    if environment is not None:
        lines += [_machine(environment), ""]
    return "\n".join(lines)


def _rst_inline(text: str) -> str:
    """Markdown's inline code and bold as reStructuredText."""
    return re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", text)


def to_rst(lines: list[str]) -> str:
    """The Markdown these renderers write (headings, pipe tables, lists, paragraphs) as
    reStructuredText that can be included anywhere in a page: headings become rubrics, so
    they never clash with the including page's section levels."""
    out: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if not table:
            return
        out.extend(["", ".. list-table::", "   :header-rows: 1", ""])
        for row in table:
            # A lone "-" (no value) would open a nested list.
            cells = [cell if cell != "-" else "\\-" for cell in row]
            out.append(f"   * - {cells[0]}")
            out.extend(f"     - {cell}" for cell in cells[1:])
        out.append("")
        table.clear()

    for line in lines:
        if line.startswith("|"):
            cells = [_rst_inline(cell.strip()) for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= set("-: ") for cell in cells):
                table.append(cells)
            continue
        flush()
        if line.startswith("#"):
            # A rubric is a plain title: code markup in it renders as a block.
            out.extend([f".. rubric:: {line.lstrip('#').strip().replace('`', '')}", ""])
        else:
            out.append(_rst_inline(line))
    flush()
    return "\n".join(out).strip() + "\n"


def rst(path: Path) -> str | None:
    """The docs' table of one result file, with where it comes from (``None``: no renderer)."""
    payload = json.loads(path.read_text())
    renderer = _RENDERERS.get(payload["suite"])
    if renderer is None:
        return None
    source = f"benchmarks/results/{path.name}"
    return to_rst([*renderer(payload["results"]), "", provenance(payload, source)])
