"""Conversions of nested state (dicts, lists, tuples) between torch tensors and NumPy arrays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch


def _map_leaves(value: Any, kind: type, convert: Callable[[Any], Any]) -> Any:
    """``value`` (nested dicts, lists and tuples) with ``convert`` applied to each ``kind``."""
    if isinstance(value, kind):
        return convert(value)
    if isinstance(value, dict):
        return {k: _map_leaves(v, kind, convert) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_map_leaves(v, kind, convert) for v in value)
    return value


def cpu_copy(value: Any) -> Any:
    """A detached CPU copy of a state dict."""
    return _map_leaves(value, torch.Tensor, lambda t: t.detach().to("cpu", copy=True))


def to_numpy(value: Any) -> Any:
    """A state dict with every tensor as a NumPy array (on the CPU)."""
    return _map_leaves(value, torch.Tensor, lambda t: t.detach().cpu().numpy())


def to_torch(value: Any) -> Any:
    """The inverse of :func:`to_numpy`."""
    return _map_leaves(value, np.ndarray, lambda a: torch.from_numpy(a.copy()))
