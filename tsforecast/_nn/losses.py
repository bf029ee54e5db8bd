"""Training losses beyond torch's built-ins (torch only)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .window_scaling import WindowScaler


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


class WindowLoss(nn.Module):
    """A loss that also reads the windows the predictions were made from:
    ``loss(prediction, target, windows)``; see :func:`loss_of`."""


def loss_of(
    loss: nn.Module, prediction: torch.Tensor, y: torch.Tensor, x: torch.Tensor
) -> torch.Tensor:
    """``loss`` of the predictions made from windows ``x`` for targets ``y``: a
    :class:`WindowLoss` also gets the windows."""
    return loss(prediction, y, x) if isinstance(loss, WindowLoss) else loss(prediction, y)


class WindowScaledLoss(WindowLoss):
    """``base`` of predictions and targets in units of each window's own scale.

    Predictions and targets are ``(y - loc) / scale`` with the location and scale of the
    window's target feature (those the network's :class:`WindowScaler` undoes), so that every
    series weighs the same whatever its level (as neuralforecast computes its losses).
    """

    def __init__(self, base: nn.Module, scaler: WindowScaler) -> None:
        super().__init__()
        self.base = base
        self.scaler = scaler

    def forward(
        self, prediction: torch.Tensor, target: torch.Tensor, windows: torch.Tensor
    ) -> torch.Tensor:
        _, statistics = self.scaler.scale(windows)
        loc, scale = self.scaler.target_statistics(statistics)
        return self.base((prediction - loc) / scale, (target - loc) / scale)


class MASELoss(WindowLoss):
    """Mean absolute error scaled by each window's in-sample seasonal-naive error (MASE).

    The scale of a window is the mean of ``|x[t] - x[t - season]|`` over its target feature
    (the error "the same time one season ago" makes inside the window); a window without any
    (a constant one) falls back to its mean absolute value, then to 1. Errors are measured in
    the target's units: standardized targets are multiplied back by ``target_scale``.
    """

    def __init__(self, season: int, target_feature: int, target_scale: Sequence[float]) -> None:
        super().__init__()
        self.season = season
        self.target_feature = target_feature
        self.register_buffer("target_scale", torch.tensor(target_scale, dtype=torch.float32))

    def forward(
        self, prediction: torch.Tensor, target: torch.Tensor, windows: torch.Tensor
    ) -> torch.Tensor:
        # prediction, target: (B, T); windows: (B, L, F)
        history = windows[:, :, self.target_feature]
        scale = (history[:, self.season :] - history[:, : -self.season]).abs().mean(1, keepdim=True)
        for fallback in (history.abs().mean(1, keepdim=True), torch.ones_like(scale)):
            scale = torch.where(scale > 0, scale, fallback)
        return ((prediction - target).abs() * self.target_scale / scale).mean()


class SMAPELoss(nn.Module):
    """Symmetric MAPE ``2 |y - p| / (|y| + |p|)`` in the target's units, averaged.

    Standardized predictions and targets are first brought back to the target's units with
    ``target_mean`` and ``target_scale``. Scale-free, as M4's sMAPE; a pair of zeros counts 0.
    """

    def __init__(self, target_mean: Sequence[float], target_scale: Sequence[float]) -> None:
        super().__init__()
        self.register_buffer("target_mean", torch.tensor(target_mean, dtype=torch.float32))
        self.register_buffer("target_scale", torch.tensor(target_scale, dtype=torch.float32))

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        p = prediction * self.target_scale + self.target_mean
        y = target * self.target_scale + self.target_mean
        denominator = y.abs() + p.abs()
        ratio = 2 * (y - p).abs() / torch.where(denominator > 0, denominator, 1.0)
        return ratio.mean()
