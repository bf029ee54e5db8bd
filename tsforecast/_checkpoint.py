"""The resumable training state of one ``fit`` on disk, tied to its parameters and data."""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from typing import Any

import torch

from ._data import Windows
from ._persistence import atomic_save, safe_load

_VERSION = 2


def data_digest(windows: Windows, targets: torch.Tensor) -> str:
    """A fast fingerprint of the training data: every value, the window layout, the targets.

    BLAKE2 runs at about a gigabyte a second, a small cost next to one training epoch.
    """
    digest = hashlib.blake2b(digest_size=16)
    for tensor in (windows.base, windows.starts, targets):
        digest.update(repr((tuple(tensor.shape), str(tensor.dtype))).encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    digest.update(str(windows.length).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """The file of one ``fit``: written after every epoch, read back to resume it.

    Parameters
    ----------
    path : str
        The file.
    fingerprint : str
        The estimator's class, training parameters and :func:`data_digest`: a file written
        for anything else is refused instead of resumed.
    """

    path: str
    fingerprint: str

    def load(self) -> dict[str, Any] | None:
        if not os.path.exists(self.path):
            return None
        state = safe_load(self.path, kind="backup", version=_VERSION)
        if state.get("fingerprint") != self.fingerprint:
            raise ValueError(
                f"The checkpoint {self.path!r} was written by a fit with other parameters or "
                "other data; delete it or choose another checkpoint_path."
            )
        return state["training"]

    def save(self, training: dict[str, Any]) -> None:
        atomic_save(
            {
                "format": "tsforecast-backup",
                "format_version": _VERSION,
                "fingerprint": self.fingerprint,
                "training": training,
            },
            self.path,
        )

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)
