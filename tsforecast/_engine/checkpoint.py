"""The resumable training state of one ``fit`` on disk, tied to its parameters and data."""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .._data.windows import Windows
from .._utils.files import atomic_save, check_optimizer_state, check_weights, expect, safe_load
from .progress import SNAPSHOT_FIELDS

_VERSION = 4  # 4: the progress record holds the divergence scale (scale_loss)
_FIELDS = {
    "fingerprint": str,
    "network": dict,
    "optimizer": dict,
    "progress": dict,
    "torch_rng": torch.Tensor,
    "shuffle_rng": torch.Tensor,
    "cuda_rng": list,
}


def data_digest(windows: Windows, targets: torch.Tensor) -> str:
    """A fast fingerprint of the training data: every value, the window layout, the targets.

    BLAKE2 runs at about a gigabyte a second, a small cost next to one training epoch.
    """
    digest = hashlib.blake2b(digest_size=16)
    for tensor in (windows.base, windows.starts, targets):
        digest.update(repr((tuple(tensor.shape), str(tensor.dtype))).encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    digest.update(str(windows.length).encode())
    if windows.lead:  # edge padding changes the windows, not the base
        digest.update(f"lead {windows.lead}".encode())
    return digest.hexdigest()


def data_digest_of_state(state: dict[str, torch.Tensor]) -> str:
    """A fingerprint of a network's weights: where a warm-started fit begins."""
    digest = hashlib.blake2b(digest_size=16)
    for key, tensor in state.items():
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """The file of one ``fit``: written after every whole epoch, read back to resume it.

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

    def load(self, network: nn.Module) -> dict[str, Any] | None:
        """The saved training state for resuming ``network``, or ``None`` without a file."""
        if not os.path.exists(self.path):
            return None
        state = safe_load(self.path, kind="backup", version=_VERSION, fields=_FIELDS)
        if state["fingerprint"] != self.fingerprint:
            raise ValueError(
                f"The checkpoint {self.path!r} was written by a fit with other parameters or "
                "other data; delete it or choose another checkpoint_path."
            )
        try:
            _check_training_state(state, network)
        except ValueError as exc:
            raise ValueError(
                f"The checkpoint {self.path!r} is damaged or was altered: {exc}; delete it to "
                "train from scratch."
            ) from exc
        return state

    def save(self, training: dict[str, Any]) -> None:
        atomic_save(
            {
                "format": "tsforecast-backup",
                "format_version": _VERSION,
                "fingerprint": self.fingerprint,
                **training,
            },
            self.path,
        )

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)


def _check_training_state(state: dict[str, Any], network: nn.Module) -> None:
    """Check every entry that resuming reads, before anything is loaded."""
    check_weights(state["network"], network)
    check_optimizer_state(state["optimizer"], network, name="optimizer")
    progress = state["progress"]
    expect(set(progress) == set(SNAPSHOT_FIELDS), "its progress record lacks or adds entries")
    expect(
        isinstance(progress["history"], list)
        and all(isinstance(record, dict) for record in progress["history"]),
        "its history should be a list of dicts",
    )
    for key in ("best", "last"):
        snapshot = progress[key]
        if snapshot is None:
            continue
        expect(
            isinstance(snapshot, tuple | list) and len(snapshot) == 2,
            f"its {key} epoch should be a (weights, optimizer state) pair",
        )
        check_weights(snapshot[0], network, name=f"{key} epoch's")
        check_optimizer_state(snapshot[1], network, name=f"{key} epoch's")
    rng = torch.get_rng_state()
    for key in ("torch_rng", "shuffle_rng"):
        expect(
            state[key].dtype == rng.dtype and state[key].shape == rng.shape,
            f"its {key} is not a random generator state",
        )
    expect(
        all(isinstance(r, torch.Tensor) and r.dtype == torch.uint8 for r in state["cuda_rng"]),
        "its cuda_rng is not a list of random generator states",
    )
