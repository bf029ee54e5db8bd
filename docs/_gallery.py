"""The gallery's configuration and the measured figures' tables (imported by ``conf.py``).

- sphinx-gallery runs every example under ``examples/`` (``interop.py`` is shown without
  running: it needs the clients' environment) with ``TSFORECAST_DOCS_FAST=1``, the examples'
  one switch for short training (``examples/_settings.py``), unless the environment sets it.
- ``write_tables`` renders every saved result under ``benchmarks/results/`` with the
  benchmarks' own renderers (``benchmarks/report.py``) into ``docs/_generated/<suite>.rst``,
  which the guide pages include (``all.rst`` includes them all): the docs' tables are the
  saved results, with the command, date and machine that produced them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TSFORECAST_DOCS_FAST", "1")

sphinx_gallery_conf = {
    "examples_dirs": [str(ROOT / "examples")],
    "gallery_dirs": ["auto_examples"],
    # Run every example but the one that needs skforecast, sktime and darts.
    "filename_pattern": r"/(?!interop\.py$)[^/]+\.py$",
    # examples/_settings.py is the examples' shared helper, not an example.
    # m4_hourly.py needs M4's files (benchmark data, never shipped): not in the gallery.
    "ignore_pattern": r"^_|m4_hourly\.py$",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "capture_repr": (),
    "remove_config_comments": True,
    "min_reported_time": 0,
    "matplotlib_animations": False,
}


def write_tables(directory: Path) -> list[Path]:
    """``directory/<suite>.rst`` for every result file a renderer knows; unchanged files are
    left alone (their modification time too, so that Sphinx does not re-read the pages)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from benchmarks.report import rst

    directory.mkdir(exist_ok=True)
    written = []
    for path in sorted((ROOT / "benchmarks" / "results").glob("*.json")):
        text = rst(path)
        if text is None:
            continue
        target = directory / f"{path.stem}.rst"
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
        written.append(target)
    index = directory / "all.rst"
    text = "\n".join(f".. include:: /_generated/{path.name}\n" for path in written)
    if not index.exists() or index.read_text() != text:
        index.write_text(text)
    return written
