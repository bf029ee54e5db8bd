"""Training losses beyond torch's built-ins (torch only)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class QuantileLoss(nn.Module):
    """Mean pinball loss of several quantiles of each target.

    The network's output ``(B, n_targets * n_quantiles)`` holds, for each target, one column
    per quantile; the loss of quantile ``q`` is ``max(q * e, (q - 1) * e)`` with
    ``e = y - prediction``, which is minimised by the ``q``-quantile of ``y``.
    """

    def __init__(self, quantiles: Sequence[float]) -> None:
        super().__init__()
        self.register_buffer("quantiles", torch.tensor(list(quantiles), dtype=torch.float32))

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # prediction: (B, T * Q); target: (B, T)
        q = self.quantiles
        error = target.unsqueeze(2) - prediction.view(*target.shape, len(q))
        return torch.maximum(q * error, (q - 1) * error).mean()


class QLikeLoss(nn.Module):
    """QLIKE of a variance forecast made as a log-variance: ``y exp(-s) + s``, averaged.

    The network's output ``s`` is the log of the forecast variance, so the variance
    ``exp(s)`` is positive whatever the weights. This is ``y / h + log(h)``, which differs from
    the normalised QLIKE ``y / h - log(y / h) - 1`` by a term in ``y`` alone: the gradients are
    the same, and unlike the normalised form it is finite at ``y = 0``. It is minimised by
    ``exp(s) = E[y]``.
    """

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # prediction, target: (B, T)
        return (target * torch.exp(-prediction) + prediction).mean()
