"""This tree's speed against another commit's: ``python -m benchmarks.against REF``.

Checks out ``REF`` and ``HEAD`` (the last commit; commit what you measure) in temporary git
worktrees and runs the named suites (default: ``fit_overhead``, ``folds_together``,
``predict_latency``, ``import_time``) in each with ``--quick``, alternating which tree goes
first, for ``--rounds`` rounds (``--threads 1`` pins torch to one thread in both). Each run
is a fresh process on each tree's own code and benchmark definitions; every timing of the
package (the contenders ``tsforecast`` and ``together``) is paired by round, and the median
of the per-round ratios HEAD / REF is reported, with its range. A ratio of 1.02 is 2% slower.
Pairing by round cancels the machine's drift between rounds; the spread between rounds says
how much noise is left.

Writes ``benchmarks/results/against.json`` (with ``--only``: ``against_<suites>.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ._harness import write

SUITES = ("fit_overhead", "folds_together", "predict_latency", "import_time")
PACKAGE_CONTENDERS = ("tsforecast", "together")
ROOT = Path(__file__).resolve().parent.parent


def _timings(value: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, float]]:
    """Every ``(path, median_s)`` of a package contender in a suite's results."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in PACKAGE_CONTENDERS and isinstance(item, dict) and "median_s" in item:
                yield " / ".join((*path, key)), float(item["median_s"])
            else:
                yield from _timings(item, (*path, str(key)))


def _checkout(ref: str, where: Path) -> Path:
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), ref],
        check=True,
        capture_output=True,
    )
    return where


# Runs ``python -m benchmarks`` with torch's thread count pinned, whatever the suites set:
# the same for both trees, whose harnesses may differ.
_PINNED = (
    "import runpy, sys, torch; pin = torch.set_num_threads; pin({threads}); "
    "torch.set_num_threads = lambda n: None; sys.argv[0] = 'benchmarks'; "
    "runpy.run_module('benchmarks', run_name='__main__', alter_sys=True)"
)


def _run(tree: Path, suites: tuple[str, ...], threads: int | None) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    arguments = ["--quick", "--only", *suites]
    if threads is None:
        command = [sys.executable, "-m", "benchmarks", *arguments]
    else:
        command = [sys.executable, "-c", _PINNED.format(threads=threads), *arguments]
    subprocess.run(command, cwd=tree, env=env, check=True, capture_output=True)
    out = {}
    for suite in suites:
        payload = json.loads((tree / "benchmarks" / "results" / f"{suite}.json").read_text())
        out.update({f"{suite}: {k}": v for k, v in _timings(payload["results"])})
    return out


def compare(
    ref: str, head: str, rounds: int, suites: tuple[str, ...], threads: int | None = None
) -> dict:
    """Per package timing: the median, min and max over rounds of HEAD / REF."""
    scratch = Path(tempfile.mkdtemp(prefix="tsforecast-against-"))
    trees = {"ref": _checkout(ref, scratch / "ref"), "head": _checkout(head, scratch / "head")}
    ratios: dict[str, list[float]] = {}
    try:
        for r in range(rounds):
            order = ("ref", "head") if r % 2 == 0 else ("head", "ref")
            times = {name: _run(trees[name], suites, threads) for name in order}
            for key in times["ref"].keys() & times["head"].keys():
                ratios.setdefault(key, []).append(times["head"][key] / times["ref"][key])
            print(f"[against] round {r + 1}/{rounds} done", flush=True)
    finally:
        for tree in trees.values():
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                check=False,
                capture_output=True,
            )
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        key: {
            "median_ratio": statistics.median(values),
            "min_ratio": min(values),
            "max_ratio": max(values),
            "rounds": len(values),
        }
        for key, values in sorted(ratios.items())
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", help="the commit to compare against")
    parser.add_argument("--head", default="HEAD", help="the commit measured (default HEAD)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", nargs="+", default=list(SUITES))
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="pin torch's threads in both trees (default: the suites' own, 2); one thread "
        "is far less disturbed by other processes on a shared machine",
    )
    args = parser.parse_args()
    revs = {
        name: subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", rev],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        for name, rev in (("ref", args.ref), ("head", args.head))
    }
    result = compare(revs["ref"], revs["head"], args.rounds, tuple(args.only), args.threads)
    print(f"\n{revs['head']} / {revs['ref']} (package timings; > 1 is slower)")
    for key, stats in result.items():
        print(
            f"  {key}: {stats['median_ratio']:.3f}x "
            f"[{stats['min_ratio']:.3f}, {stats['max_ratio']:.3f}] over {stats['rounds']} rounds"
        )
    name = "against" if set(args.only) == set(SUITES) else "_".join(["against", *args.only])
    write(
        name,
        {
            "suite": "against",
            "command": "python -m benchmarks.against " + " ".join(sys.argv[1:]),
            "quick": True,
            **revs,
            "threads": args.threads or "suites' own",
            "results": result,
        },
    )


if __name__ == "__main__":
    main()
