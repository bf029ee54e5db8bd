"""Closed-form ridge regression on flattened windows, to initialise the linear skip path.

Everything is computed from the windows' moments (the Gram matrix of the flattened windows),
accumulated a batch at a time: memory is O((n_timesteps * n_features)^2), never
O(n_samples * n_timesteps). One eigendecomposition then gives the solution for every penalty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from .._data.windows import Windows

# Penalties tried, in units of the mean eigenvalue of the training windows' centred Gram matrix
# (about n_samples times the mean feature variance): from almost none to heavy shrinkage.
_RELATIVE_ALPHAS = 10.0 ** torch.arange(-6.0, 1.5, 0.5, dtype=torch.float64)
_CHUNK = 4096


@dataclass(frozen=True)
class RidgeSolution:
    """``prediction = windows.flatten(1) @ coef.T + intercept``, fitted with penalty ``alpha``."""

    coef: torch.Tensor  # (n_outputs, n_timesteps * n_features)
    intercept: torch.Tensor  # (n_outputs,)
    alpha: float


# What the skip path reads and must output for windows and targets, both in float64.
Prepare = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def _flatten(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x.flatten(1), y


def _chunks(
    windows: Windows, targets: torch.Tensor, index: torch.Tensor, prepare: Prepare
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Prepared windows and targets of samples ``index``, in float64, a chunk at a time."""
    for part in index.split(_CHUNK):
        yield prepare(windows.gather(part).double(), targets[part].double())


def fit_ridge(
    windows: Windows,
    targets: torch.Tensor,
    train_index: torch.Tensor,
    val_index: torch.Tensor,
    prepare: Prepare = _flatten,
) -> RidgeSolution:
    """Ridge regression of ``targets`` (2-D) on the flattened windows ``train_index``.

    The penalty minimises the squared error on the windows ``val_index``; without any, it
    minimises generalised cross-validation on the training windows (Golub, Heath & Wahba 1979).
    Like :class:`sklearn.linear_model.Ridge`, the intercept is not penalised. ``prepare``
    maps windows ``(n, T, F)`` and targets to the flattened inputs ``(n, T * F)`` and the
    targets of the linear model, as the network transforms its input and output around the
    skip path (by default: flattened windows and the targets unchanged).
    """
    n = len(train_index)
    d, n_outputs = windows.length * windows.n_features, targets.shape[1]
    sum_x, sum_y = torch.zeros(d, dtype=torch.float64), torch.zeros(n_outputs, dtype=torch.float64)
    gram = torch.zeros(d, d, dtype=torch.float64)
    cross = torch.zeros(d, n_outputs, dtype=torch.float64)
    square = torch.zeros((), dtype=torch.float64)
    for x, y in _chunks(windows, targets, train_index, prepare):
        sum_x += x.sum(0)
        sum_y += y.sum(0)
        gram += x.T @ x
        cross += x.T @ y
        square += (y * y).sum()
    mean_x, mean_y = sum_x / n, sum_y / n
    gram = gram - n * torch.outer(mean_x, mean_x)  # centred: the intercept is not penalised
    cross = cross - n * torch.outer(mean_x, mean_y)
    eigenvalues, vectors = torch.linalg.eigh(gram)
    eigenvalues = eigenvalues.clamp(min=0.0)
    scale = float(eigenvalues.mean()) or 1.0
    alphas = scale * _RELATIVE_ALPHAS
    projected = vectors.T @ cross  # (d, n_outputs)
    # coefs[a] = V diag(1 / (lambda + alpha_a)) V^T X^T y: (n_alphas, d, n_outputs)
    coefs = vectors @ (projected / (eigenvalues[:, None] + alphas[:, None, None]))
    intercepts = mean_y - mean_x @ coefs  # (n_alphas, n_outputs)
    if len(val_index):
        errors = torch.zeros(len(alphas), dtype=torch.float64)
        for x, y in _chunks(windows, targets, val_index, prepare):
            errors += ((x @ coefs + intercepts[:, None, :] - y) ** 2).sum(dim=(1, 2))
    else:
        centred_square = square - n * (mean_y * mean_y).sum()
        residual = (
            centred_square
            - 2 * (coefs * cross).sum(dim=(1, 2))
            + (coefs * (gram @ coefs)).sum(dim=(1, 2))
        )
        dof = (eigenvalues / (eigenvalues + alphas[:, None])).sum(dim=1)
        errors = residual / (n - dof).clamp(min=1e-12) ** 2
    best = int(torch.argmin(errors))
    return RidgeSolution(coefs[best].T.contiguous(), intercepts[best], float(alphas[best]))
