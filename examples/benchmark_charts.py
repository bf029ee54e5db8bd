"""
The measured comparisons as charts: M4 Hourly and the hourly weather peers
===========================================================================

The saved results of two benchmarks, drawn: ``python -m benchmarks --only m4 --data DIR``
(M4's hourly set, 414 series, 48 hours ahead, scored once on the test period; the published
rows of the competition beside the contenders run on this machine) and
``python -m benchmarks.hourly_peers`` (24 hours ahead on the shipped Greensboro weather,
RMSE of every forecast of the test period). Nothing is trained here: the figures are read
from ``benchmarks/results/`` as saved, with the date and machine of their run (see the
Measured results page), so the charts show exactly what the guide's tables do.

Run:  python examples/benchmark_charts.py
"""

from __future__ import annotations

import json

from _settings import PLOTS, ROOT, setup

RESULTS = ROOT / "benchmarks" / "results"


def load(name: str) -> dict:
    """The saved result ``benchmarks/results/<name>.json``: its figures and when it ran."""
    payload = json.loads((RESULTS / f"{name}.json").read_text())
    print(f"{name}: measured {payload['environment'].get('date', 'on an unrecorded date')}")
    return payload["results"]


def m4_rows(results: dict) -> dict[str, tuple[float, bool]]:
    """OWA of every M4 row, best first: ``(owa, run_here)``."""
    rows = {name: (row["owa"], False) for name, row in results["published"].items()}
    rows.update({name: (row["owa"], True) for name, row in results["contenders"].items()})
    return dict(sorted(rows.items(), key=lambda item: item[1][0]))


if __name__ == "__main__":
    setup()
    m4 = m4_rows(load("m4_hourly"))
    peers = load("hourly_peers")["rmse"]
    print(f"\nM4 Hourly, OWA (Naive2 = 1; lower is better)\n{'':<42}{'OWA':>7}")
    for name, (owa, here) in m4.items():
        print(f"{name + ('' if here else ' (published)'):<42}{owa:>7.3f}")
    print(f"\nHourly weather peers, RMSE\n{'':<36}{'temperature':>12}{'GHI':>8}")
    for name, rmse in peers.items():
        print(f"{name:<36}{rmse['temperature']:>12.3f}{rmse['ghi']:>8.1f}")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no chart saved")
        raise SystemExit(0) from None

    fig = plt.figure(figsize=(10, 8))
    grid = fig.add_gridspec(2, 2, height_ratios=[1.6, 1])
    ax_m4 = fig.add_subplot(grid[0, :])
    ax_t, ax_g = fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])
    names = list(m4)
    colours = [
        "tab:orange" if name.startswith("tsforecast") else "tab:blue" if here else "lightgrey"
        for name, (_, here) in m4.items()
    ]
    ax_m4.barh(names, [owa for owa, _ in m4.values()], color=colours)
    ax_m4.axvline(1.0, color="black", linewidth=0.8)
    ax_m4.invert_yaxis()
    ax_m4.set_xlabel("OWA (Naive2 = 1, lower is better)")
    ax_m4.set_title("M4 Hourly: grey published, blue run here", loc="left")
    for ax, target, unit in ((ax_t, "temperature", "°C"), (ax_g, "GHI", "W/m²")):
        labels = list(peers)
        ax.barh(
            labels,
            [peers[name][target.lower()] for name in labels],
            color=["tab:orange" if n.startswith("tsforecast") else "tab:blue" for n in labels],
        )
        ax.invert_yaxis()
        ax.set_xlabel(f"RMSE ({unit})")
        ax.set_title(f"Hourly weather, 24 h ahead: {target}", loc="left")
    ax_g.set_yticklabels([])
    fig.tight_layout()
    PLOTS.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOTS / "benchmark_charts.png", dpi=100)
    print(f"\nchart saved to {PLOTS / 'benchmark_charts.png'}")
