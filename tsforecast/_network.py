"""The torch module behind the estimators: a stacked recurrent network with a dense head.

This module knows torch only; it never sees numpy, pandas, sklearn or Lightning.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

import torch
from torch import nn


def group_layers(units: Sequence[int]) -> list[tuple[int, int]]:
    """Group consecutive layers of equal width as ``(width, count)`` pairs.

    Each group becomes one multi-layer ``nn.LSTM``, which cuDNN runs as a single fused kernel.
    """
    return [(width, len(list(run))) for width, run in groupby(units)]


class StackedLSTM(nn.Module):
    """Stacked LSTM reading a sequence and returning one output vector per sequence.

    Parameters
    ----------
    n_features : int
        Number of features at each time step.
    units : sequence of int
        Hidden size of each layer, first layer first.
    n_outputs : int
        Size of the dense head's output (targets for regression, classes for classification).
    dropout : float, default=0.0
        Dropout applied between stacked layers and to the last hidden state before the head.
    bidirectional : bool, default=False
        Read each sequence in both directions. The head then sees the last forward state and the
        last backward state (which summarises the window read from its end to its start).
    """

    def __init__(
        self,
        n_features: int,
        units: Sequence[int],
        n_outputs: int,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        directions = 2 if bidirectional else 1
        groups: list[nn.LSTM] = []
        in_size = n_features
        for width, count in group_layers(units):
            groups.append(
                nn.LSTM(
                    in_size,
                    width,
                    num_layers=count,
                    batch_first=True,
                    dropout=dropout if count > 1 else 0.0,
                    bidirectional=bidirectional,
                )
            )
            in_size = width * directions
        self.groups = nn.ModuleList(groups)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(in_size, n_outputs)
        self.bidirectional = bidirectional

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, T, F) -> (B, n_outputs)
        for i, lstm in enumerate(self.groups):
            if i:
                x = self.dropout(x)
            x, (h_n, _) = lstm(x)
        # h_n: (num_layers * directions, B, H); the last layer's states come last.
        last = torch.cat([h_n[-2], h_n[-1]], dim=1) if self.bidirectional else h_n[-1]
        return self.head(self.dropout(last))
