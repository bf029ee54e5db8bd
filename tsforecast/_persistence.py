"""Files written with ``torch.save`` and read back without executing code.

Everything is stored as tensors, numbers, strings, lists and dicts, so that
``torch.load(..., weights_only=True)`` can read it: loading a file never runs code from it.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

PathLike = str | os.PathLike[str]
_KNOWN_READ_ERRORS = (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, OSError)


def atomic_save(payload: dict[str, Any], path: PathLike) -> None:
    """Write ``payload`` to ``path`` via a temporary file: a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def safe_load(path: PathLike, *, kind: str, version: int) -> dict[str, Any]:
    """Read a file written by :func:`atomic_save`, on the CPU, executing no code.

    Raises
    ------
    ValueError
        If the file is not a ``kind`` file, is corrupted, or has a newer format ``version``.
    """
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # a damaged file can fail inside the unpickler in any way
        if not isinstance(exc, _KNOWN_READ_ERRORS):
            exc = ValueError(f"{type(exc).__name__}: {exc}")
        raise ValueError(
            f"{os.fspath(path)!r} is not a readable tsforecast {kind} file (corrupted, "
            f"truncated, or not written by tsforecast): {exc}"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != f"tsforecast-{kind}":
        raise ValueError(f"{os.fspath(path)!r} is not a tsforecast {kind} file.")
    if payload.get("format_version") != version:
        raise ValueError(
            f"{os.fspath(path)!r} has {kind} format version {payload.get('format_version')}, "
            f"but this tsforecast reads version {version}; it was written by tsforecast "
            f"{payload.get('tsforecast_version')}. Load it with that version."
        )
    return payload
