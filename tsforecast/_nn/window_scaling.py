"""Scaling of each window by its own statistics, inside the network (torch only).

A global network reads windows of many series whose levels differ by orders of magnitude.
:class:`WindowScaler` divides each window by statistics of that window alone (as RevIN and
neuralforecast's ``scaler_type`` do), and multiplies the network's outputs back by the
statistics of the target feature: a window's forecast reads nothing but the window, and
multiplying a series by ``c`` multiplies its forecast by ``c``.

Statistics are per feature (the last axis), so that several networks' features laid side by
side are each scaled by their own statistics; the outputs are unscaled by the statistics of
one input feature, the target's own history.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

WINDOW_SCALINGS = ("mean", "standard", "robust", "last")


class WindowStatistics(NamedTuple):
    """A window's location and scale per feature ``(B, 1, F)``, and the seasonal-naive
    forecast of each output in scaled units ``(B, n_outputs)`` (``None`` without)."""

    loc: torch.Tensor
    scale: torch.Tensor
    seasonal: torch.Tensor | None


def _median(x: torch.Tensor) -> torch.Tensor:
    """Median over the time axis of ``(B, T, F)``, the mean of the two middle values when ``T``
    is even (sorting, which ONNX exports, unlike ``torch.median``)."""
    ordered = x.sort(dim=1).values
    n = x.shape[1]
    return (ordered[:, (n - 1) // 2 : (n - 1) // 2 + 1] + ordered[:, n // 2 : n // 2 + 1]) / 2


def window_statistics(x: torch.Tensor, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Location and scale of each window ``(B, T, F)`` and feature, both ``(B, 1, F)``.

    ``"mean"``: 0 and the mean absolute value; ``"standard"``: the mean and the standard
    deviation; ``"robust"``: the median and the median absolute deviation from it; ``"last"``:
    0 and the absolute last value. A zero scale (a constant window) falls back to the absolute
    location, then to the mean absolute value, then to 1, so that the scale is always positive
    and scaling a window by ``c`` scales it by ``|c|``.
    """
    zero = torch.zeros_like(x[:, :1])
    if kind == "mean":
        loc, scale = zero, x.abs().mean(dim=1, keepdim=True)
    elif kind == "standard":
        loc = x.mean(dim=1, keepdim=True)
        scale = (x - loc).square().mean(dim=1, keepdim=True).sqrt()
    elif kind == "robust":
        loc = _median(x)
        scale = _median((x - loc).abs())
    elif kind == "last":
        loc, scale = zero, x[:, -1:].abs()
    else:
        raise ValueError(f"window scaling must be one of {WINDOW_SCALINGS}; got {kind!r}.")
    for fallback in (loc.abs(), x.abs().mean(dim=1, keepdim=True), torch.ones_like(scale)):
        scale = torch.where(scale > 0, scale, fallback)
    return loc, scale


class WindowScaler(nn.Module):
    """Scale a network's input windows by their own statistics and unscale its outputs.

    Parameters
    ----------
    kind : {"mean", "standard", "robust", "last"}
        The statistics, see :func:`window_statistics`.
    target_feature : int
        The input feature holding the target's own history: the outputs are in its units.
    season : int or None, default=None
        With a season, the outputs are the seasonal-naive forecast plus the network's output:
        output ``j`` (the forecast ``j + 1`` steps ahead) adds the target feature's value
        ``season - j % season`` steps before the window's end, so the network learns the
        difference to "the same time one season ago". Windows need at least ``season`` steps.
    n_quantiles : int, default=1
        Columns per target in the output (a quantile network's), each given the same
        seasonal-naive forecast.
    n_outputs : int or None, default=None
        Number of forecast steps (targets), needed with ``season``.
    """

    def __init__(
        self,
        kind: str,
        target_feature: int,
        season: int | None = None,
        n_quantiles: int = 1,
        n_outputs: int | None = None,
    ) -> None:
        super().__init__()
        if kind not in WINDOW_SCALINGS:
            raise ValueError(f"window scaling must be one of {WINDOW_SCALINGS}; got {kind!r}.")
        self.kind = kind
        self.target_feature = target_feature
        self.season = season
        self.n_quantiles = n_quantiles
        index = None
        if season is not None:
            steps = torch.arange(n_outputs if n_outputs is not None else 1) % season
            index = steps.repeat_interleave(n_quantiles)
        # Positions in the window's last season: a function of the shapes, not a weight.
        self.register_buffer("seasonal_index", index, persistent=False)

    def scale(self, x: torch.Tensor) -> tuple[torch.Tensor, WindowStatistics]:
        """``(x - loc) / scale`` of windows ``(B, T, F)``, and the statistics to unscale."""
        loc, scale = window_statistics(x, self.kind)
        scaled = (x - loc) / scale
        seasonal = None
        if self.seasonal_index is not None:
            seasonal = scaled[:, -self.season :, self.target_feature][:, self.seasonal_index]
        return scaled, WindowStatistics(loc, scale, seasonal)

    def target_statistics(self, stats: WindowStatistics) -> tuple[torch.Tensor, torch.Tensor]:
        """The target feature's location and scale, ``(B, 1)`` each (broadcast over outputs)."""
        feature = self.target_feature
        return stats.loc[:, 0, feature, None], stats.scale[:, 0, feature, None]

    def unscale(self, out: torch.Tensor, stats: WindowStatistics) -> torch.Tensor:
        """The network's outputs ``(B, n_outputs)`` in the target feature's units."""
        if stats.seasonal is not None:
            out = out + stats.seasonal
        loc, scale = self.target_statistics(stats)
        return out * scale + loc

    def network_targets(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """What the network before :meth:`unscale` must output for targets ``y``
        ``(B, n_outputs)`` of windows ``x`` (one column per target, not per quantile): ``y``
        scaled, less the seasonal-naive forecast."""
        _, stats = self.scale(x)
        loc, scale = self.target_statistics(stats)
        core = (y - loc) / scale
        return core if stats.seasonal is None else core - stats.seasonal[:, :: self.n_quantiles]
