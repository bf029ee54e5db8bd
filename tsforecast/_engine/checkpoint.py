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
from .._utils.files import (
    atomic_save,
    check_optimizer_state,
    check_weights,
    expect,
    is_number,
    safe_load,
)
from .config import TRAIN_LOSS
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
    if windows.lead:  # padding changes the windows, not the base
        digest.update(f"lead {windows.lead}".encode())
    if windows.fill is not None:
        digest.update(windows.fill.cpu().numpy().tobytes())
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

    def load(self, network: nn.Module, first_epoch: int) -> dict[str, Any] | None:
        """The saved training state for resuming ``network`` in a run whose first epoch is
        ``first_epoch``, or ``None`` without a file."""
        if not os.path.exists(self.path):
            return None
        state = safe_load(self.path, kind="backup", version=_VERSION, fields=_FIELDS)
        if state["fingerprint"] != self.fingerprint:
            raise ValueError(
                f"The checkpoint {self.path!r} was written by a fit with other parameters or "
                "other data; delete it or choose another checkpoint_path."
            )
        try:
            _check_training_state(state, network, first_epoch)
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


def _check_training_state(state: dict[str, Any], network: nn.Module, first_epoch: int) -> None:
    """Check every entry that resuming reads, before anything is loaded."""
    check_weights(state["network"], network)
    check_optimizer_state(state["optimizer"], network, name="optimizer")
    progress = state["progress"]
    expect(set(progress) == set(SNAPSHOT_FIELDS), "its progress record lacks or adds entries")
    _check_progress(progress, first_epoch)
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


def _is_epoch(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value < high


def _check_progress(progress: dict[str, Any], first_epoch: int) -> None:
    """Check the progress snapshot's fields: types, and epochs within the run's."""
    expect(
        progress["first_epoch"] == first_epoch and type(progress["first_epoch"]) is int,
        f"its first_epoch should be {first_epoch}, the epochs trained before this fit",
    )
    history = progress["history"]
    expect(
        isinstance(history, list)
        and all(
            isinstance(record, dict)
            and record.get("epoch") == first_epoch + k
            and is_number(record.get(TRAIN_LOSS))
            and all(type(key) is str and is_number(v) for key, v in record.items())
            for k, record in enumerate(history)
        ),
        f"its history should be a list of dicts of numbers, one per epoch from {first_epoch}, "
        f"each with its {TRAIN_LOSS}",
    )
    end = first_epoch + len(history)  # the run's epochs: first_epoch .. end - 1
    expect(
        progress["best_epoch"] is None or _is_epoch(progress["best_epoch"], first_epoch - 1, end),
        f"its best_epoch should be None or an epoch from {first_epoch - 1} to {end - 1}",
    )
    expect(
        (progress["best"] is None) == (progress["best_epoch"] is None),
        "its best epoch's weights should be there exactly when its best_epoch is",
    )
    expect(
        progress["diverged_at"] is None or _is_epoch(progress["diverged_at"], first_epoch, end),
        f"its diverged_at should be None or an epoch from {first_epoch} to {end - 1}",
    )
    expect(type(progress["stopped"]) is bool, "its stopped should be a bool")
    expect(is_number(progress["best_loss"]), "its best_loss should be a number")
    for key in ("reference_loss", "scale_loss"):
        expect(
            progress[key] is None or is_number(progress[key]),
            f"its {key} should be None or a number",
        )
