"""Files written with ``torch.save`` and read back without executing code.

Everything is stored as tensors, numbers, strings, lists and dicts, so that
``torch.load(..., weights_only=True)`` can read it: loading a file never runs code from it.
A file read back is checked field by field before anything is built from it, so that a
hand-altered file gives a ``ValueError`` naming the problem.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .sklearn_compat import validate_parameter_constraints

PathLike = str | os.PathLike[str]
_KNOWN_READ_ERRORS = (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, OSError)


def is_number(value: Any) -> bool:
    """Whether a stored value is a plain number (an int or float, not a bool)."""
    return type(value) in (int, float)


def expect(condition: bool, problem: str) -> None:
    """Raise ``ValueError(problem)`` unless ``condition``: the check of one stored field."""
    if not condition:
        raise ValueError(problem)


def serialize(payload: dict[str, Any]) -> bytes:
    """``payload`` as the bytes of a ``torch.save`` file."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def read_weights_only(data: bytes) -> Any:
    """Read bytes written by :func:`serialize` as :func:`safe_load` reads a file."""
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def write_atomically(data: bytes, path: PathLike) -> None:
    """Write ``data`` to ``path`` via a temporary file: a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_save(payload: dict[str, Any], path: PathLike) -> None:
    """``torch.save`` ``payload`` to ``path`` atomically (see :func:`write_atomically`)."""
    write_atomically(serialize(payload), path)


def safe_load(
    path: PathLike, *, kind: str, version: int, fields: Mapping[str, type] | None = None
) -> dict[str, Any]:
    """Read a file written by :func:`atomic_save`, on the CPU, executing no code.

    ``fields`` maps the top-level entries the file must hold to their types.

    Raises
    ------
    ValueError
        If the file is not a ``kind`` file, is corrupted, has another format ``version``, or
        lacks one of ``fields`` (or holds it with another type).
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
    for name, expected in (fields or {}).items():
        if not isinstance(payload.get(name), expected):
            raise ValueError(
                f"{os.fspath(path)!r} holds an incomplete or altered {kind} file: its "
                f"{name!r} entry should be a {expected.__name__}, got "
                f"{type(payload.get(name)).__name__}."
            )
    return payload


def encode_array(name: str, value: np.ndarray) -> dict[str, Any]:
    """A weights-only-loadable form of ``value`` from which :func:`decode_array` rebuilds it
    exactly: same dtype (byte order, datetime unit and string width included) and values.

    Raises
    ------
    TypeError
        If ``value`` holds Python objects other than strings, or structured records.
    """
    if value.dtype.kind == "O":
        strings = value.ravel().tolist()
        others = sorted({type(v).__name__ for v in strings if not isinstance(v, str)})
        if others:
            raise TypeError(
                f"{name} holds {', '.join(others)} objects; a weights-only file stores "
                "numbers, strings, booleans, datetime64 and timedelta64 values. Convert them "
                "(e.g. Timestamps to datetime64 with np.asarray(..., dtype='datetime64[ns]'))."
            )
        return {"dtype": "O", "shape": list(value.shape), "strings": [str(v) for v in strings]}
    if value.dtype.fields is not None or value.dtype.kind == "V":
        raise TypeError(f"{name} is a structured array ({value.dtype}); it cannot be stored.")
    raw = np.frombuffer(bytearray(value.tobytes()), dtype=np.uint8)
    return {"dtype": value.dtype.str, "shape": list(value.shape), "data": torch.from_numpy(raw)}


def decode_array(name: str, stored: Any) -> np.ndarray:
    """The array :func:`encode_array` stored, after checking that the entry is well formed."""
    expect(
        isinstance(stored, dict)
        and isinstance(stored.get("dtype"), str)
        and isinstance(stored.get("shape"), list)
        and all(type(n) is int and n >= 0 for n in stored["shape"]),
        f"{name} is not a stored array",
    )
    shape = tuple(stored["shape"])
    if stored["dtype"] == "O":
        strings = stored.get("strings")
        expect(
            isinstance(strings, list)
            and all(type(s) is str for s in strings)
            and len(strings) == math.prod(shape),
            f"{name} should hold {math.prod(shape)} strings",
        )
        array = np.empty(len(strings), dtype=object)
        array[:] = strings
        return array.reshape(shape)
    try:
        dtype = np.dtype(stored["dtype"])
    except TypeError as exc:
        raise ValueError(f"{name} has an unknown dtype {stored['dtype']!r}") from exc
    data = stored.get("data")
    expect(
        dtype.kind in "biufcmMSU"
        and isinstance(data, torch.Tensor)
        and data.dtype == torch.uint8
        and data.ndim == 1
        and len(data) == dtype.itemsize * math.prod(shape),
        f"{name} does not hold {math.prod(shape)} values of dtype {dtype}",
    )
    return data.numpy().copy().view(dtype).reshape(shape)


def check_weights(weights: Any, network: nn.Module, *, name: str = "network") -> None:
    """Check that ``weights`` fits ``network.load_state_dict``: the same entries, each a finite
    tensor of the shape and dtype the network's parameters imply."""
    expected = network.state_dict()
    expect(isinstance(weights, dict), f"{name} weights should be a dict of tensors")
    missing, unexpected = expected.keys() - weights.keys(), weights.keys() - expected.keys()
    expect(
        not missing and not unexpected,
        f"{name} weights do not match the declared architecture (missing {sorted(missing)}, "
        f"unexpected {sorted(map(str, unexpected))})",
    )
    for key, tensor in expected.items():
        value = weights[key]
        expect(
            isinstance(value, torch.Tensor)
            and value.layout == torch.strided
            and value.shape == tensor.shape
            and value.dtype == tensor.dtype,
            f"{name} weight {key!r} should be a {tensor.dtype} tensor of shape "
            f"{tuple(tensor.shape)}, as the parameters imply; got "
            + (
                f"{value.dtype} of shape {tuple(value.shape)}"
                if isinstance(value, torch.Tensor)
                else type(value).__name__
            ),
        )
        expect(
            not value.is_floating_point() or bool(torch.isfinite(value).all()),
            f"{name} weight {key!r} holds NaN or infinite values",
        )


def check_optimizer_state(state: Any, network: nn.Module, *, name: str) -> None:
    """Check that ``state`` is the ``state_dict`` of an optimizer over ``network.parameters()``
    (in their order): one group list covering every parameter, per-parameter tensors shaped
    like their parameter."""
    shapes = [p.shape for p in network.parameters()]
    groups = state.get("param_groups") if isinstance(state, dict) else None
    expect(
        isinstance(state, dict)
        and isinstance(state.get("state"), dict)
        and isinstance(groups, list)
        and all(isinstance(g, dict) and isinstance(g.get("params"), list) for g in groups),
        f"the {name!r} optimizer state is not an optimizer state_dict",
    )
    ids = [i for group in groups for i in group["params"]]
    expect(
        all(type(i) is int for i in ids) and ids == list(range(len(shapes))),
        f"the {name!r} optimizer state does not cover the network's {len(shapes)} parameters",
    )
    for i, entry in state["state"].items():
        expect(
            type(i) is int
            and 0 <= i < len(shapes)
            and isinstance(entry, dict)
            and all(
                v.ndim == 0 or v.shape == shapes[i]
                for v in entry.values()
                if isinstance(v, torch.Tensor)
            ),
            f"the {name!r} optimizer state of parameter {i} does not match its shape",
        )


def check_architecture(estimator: Any, architecture: Any, name: str) -> None:
    """Check a file's ``_architecture`` (the fitted network's shape, which may differ from
    parameters changed after fit): the entries the estimator records, and values that the
    parameters they came from would allow."""
    expected = estimator._architecture_params()
    expect(
        isinstance(architecture, dict) and architecture.keys() == expected.keys(),
        f"_architecture should hold {sorted(expected)}",
    )
    units = architecture["units"]
    expect(
        isinstance(units, list) and units and all(type(u) is int and u >= 1 for u in units),
        "_architecture's units should be a list of positive ints",
    )
    values = {k: v for k, v in architecture.items() if k != "units"}
    validate_parameter_constraints(  # raises InvalidParameterError, a ValueError
        {k: estimator._parameter_constraints[k] for k in values}, values, caller_name=name
    )
