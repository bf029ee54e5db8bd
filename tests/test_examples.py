"""The examples run end to end (one epoch) and text generation is seeded."""

import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view

from tsforecast import LSTMClassifier, datasets
from tsforecast.datasets import load_kjv
from tsforecast.preprocessing import TextTokenizer

EXAMPLES = Path(__file__).parent.parent / "examples"

# Here the examples read the most recent rows of the shipped series only: the same code, the
# same tables, a fraction of the fitting (run a script by hand for its figures on all the data).
_RECENT_ROWS = {
    "load_sp500": 1500,
    "load_fx": 1500,
    "load_eurusd": 1500,
    "load_hourly_weather": 2000,
}


def _recent(load, rows):
    return lambda: load().iloc[-rows:]


@pytest.fixture(autouse=True)
def _examples_importable(monkeypatch):
    """The examples import their shared settings (``examples/_settings.py``), which pin the
    torch threads: give the examples' folder to the import system, restore the threads."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("digits_classification.py", ["majority class", "LSTM, 2 x 128", "confusion matrix"]),
        ("text_classification.py", ["majority class (Psalms)", "bag of words", "embedding"]),
        (
            "stock_forecast.py",
            ["naive (last value)", "t+5:", "Walk-forward", "majority class", "Risk: next-day"],
        ),
        ("price_levels.py", ["EUR/USD", "recommended pipeline", "standardized levels"]),
        ("fx_panel.py", ["global / naive", "per-currency / naive", "NOK"]),
        ("volatility.py", ["EUR/USD", "GARCH", "DM vs EWMA", "chosen on the inner split"]),
        ("intervals.py", ["S&P 500", "conformal(LSTM)", "conformal(zero)", "Within the goal"]),
        ("hourly_weather.py", ["seasonal naive (24 h)", "RidgeCV, same window", "ghi:"]),
    ],
)
def test_examples_run(script, expected, monkeypatch, tmp_path, capsys):
    for name, rows in _RECENT_ROWS.items():
        monkeypatch.setattr(datasets, name, _recent(getattr(datasets, name), rows))
    monkeypatch.setattr(sys, "argv", [script, "--max-epochs", "1"])
    if script.startswith(("digits", "stock", "hourly")):
        sys.argv += ["--output-dir", str(tmp_path)]
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    out = capsys.readouterr().out
    for text in expected:
        assert text in out


def test_text_generation_is_deterministic_with_a_seed():
    example = runpy.run_path(str(EXAMPLES / "text_generation.py"))
    generate, context = example["generate"], example["CONTEXT"]
    text = "\n".join(load_kjv().query("book == 'Proverbs' and chapter == 1")["text"])
    tokenizer = TextTokenizer(analyzer="char", lowercase=False).fit([text])
    ids = tokenizer.transform([text])[0]
    model = LSTMClassifier(embedding_dim=4, units=8, max_epochs=1, random_state=0)
    model.fit(sliding_window_view(ids[:-1], context), ids[context:])
    prompt = tokenizer.transform(["My son"])[0]

    def sample(seed):
        return generate(model, tokenizer, prompt, 40, 1.0, np.random.default_rng(seed))

    first = sample(0)
    assert len(first) == 40
    assert set(first) <= set(text)
    assert sample(0) == first
    assert sample(1) != first


def _write_m4_hourly(folder, lengths=(240, 260, 250)):
    """A stand-in for M4's hourly files, in their format: a row per series, its id (``V1``)
    then its values (``V2``, ``V3``, ...), shorter series ending in empty cells."""
    rng = np.random.default_rng(0)
    parts = {"train": {}, "test": {}}
    for i, n in enumerate(lengths):
        t = np.arange(n + 48)
        y = 10**i * (5 + np.sin(2 * np.pi * t / 24)) + rng.normal(size=len(t))
        parts["train"][f"H{i + 1}"], parts["test"][f"H{i + 1}"] = y[:n], y[n:]
    for part, rows in parts.items():
        wide = pd.DataFrame({key: pd.Series(values) for key, values in rows.items()}).T
        wide.columns = [f"V{j + 2}" for j in range(wide.shape[1])]
        wide.rename_axis("V1").to_csv(folder / f"Hourly-{part}.csv.gz")


def test_m4_example_runs_on_a_stand_in_in_m4s_format(monkeypatch, tmp_path, capsys):
    _write_m4_hourly(tmp_path)
    argv = ["m4_hourly.py", "--data", str(tmp_path), "--series", "3", "--members", "2"]
    argv += ["--max-epochs", "1", "--output-dir", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(EXAMPLES / "m4_hourly.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "3 series, 750 training values, horizon 48" in out
    for title in ("validation (last 48 training values)", "test (M4's 48 hours)"):
        table = out.split(title)[1].splitlines()[1:4]
        assert table[0].split() == ["sMAPE", "MASE", "OWA"]
        assert table[1].startswith("seasonal naive")
        assert table[2].startswith("LSTM ensemble of 2")
        assert all(np.isfinite(float(x)) for row in table[1:] for x in row.split()[-3:])


def test_m4_example_says_where_the_data_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "argv", ["m4_hourly.py", "--data", str(tmp_path)])
    with pytest.raises(SystemExit, match=r"Hourly-train\.csv\.gz is missing"):
        runpy.run_path(str(EXAMPLES / "m4_hourly.py"), run_name="__main__")


def test_benchmark_charts_draw_the_saved_results(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)  # the chart is written to the current folder
    monkeypatch.setattr(sys, "argv", ["benchmark_charts.py"])
    runpy.run_path(str(EXAMPLES / "benchmark_charts.py"), run_name="__main__")
    out = capsys.readouterr().out
    saved = json.loads((EXAMPLES.parent / "benchmarks/results/m4_hourly.json").read_text())
    for name, row in saved["results"]["contenders"].items():
        assert f"{name:<42}{row['owa']:>7.3f}" in out
    assert (tmp_path / "benchmark_charts.png").stat().st_size > 10_000
