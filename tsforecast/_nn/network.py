"""The torch module behind the estimators: a stacked recurrent network with a dense head.

Optionally a fixed linear skip path (as LSTNet's "highway") adds a linear map of the whole window
to the head's output, so that the recurrent part learns only what a linear model misses.

This module knows torch only; it never sees numpy, pandas, sklearn or Lightning.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

from .peephole import PeepholeLSTM
from .window_scaling import WindowScaler

CELLS: dict[str, type[nn.Module]] = {"lstm": nn.LSTM, "gru": nn.GRU, "peephole": PeepholeLSTM}


class Embedding(NamedTuple):
    """Token input: ids below ``vocab_size``, ``padding_idx`` marking the end of a sequence."""

    vocab_size: int
    dim: int
    padding_idx: int


def _float_buffer(values: Any) -> torch.Tensor | None:
    return None if values is None else torch.tensor(values, dtype=torch.float32)


def group_layers(units: Sequence[int]) -> list[tuple[int, int]]:
    """Group consecutive layers of equal width as ``(width, count)`` pairs.

    Each group becomes one multi-layer recurrent module, which cuDNN runs as a single fused
    kernel.
    """
    return [(width, len(list(run))) for width, run in groupby(units)]


def sequence_lengths(tokens: torch.Tensor, padding_idx: int) -> torch.Tensor:
    """Length of each token sequence ``(B, T)``: up to and including its last non-padding id."""
    positions = torch.arange(1, tokens.shape[1] + 1, device=tokens.device)
    return ((tokens != padding_idx) * positions).amax(dim=1)


class StackedRNN(nn.Module):
    """Stacked recurrent network reading a sequence and returning one output vector per sequence.

    Parameters
    ----------
    n_features : int
        Number of features at each time step (1 for token input: the token id).
    units : sequence of int
        Hidden size of each layer, first layer first.
    n_outputs : int
        Size of the dense head's output (targets for regression, classes for classification).
    dropout : float, default=0.0
        Dropout applied between stacked layers and to the last hidden state before the head.
    bidirectional : bool, default=False
        Read each sequence in both directions. The head then sees the last forward state and the
        last backward state (which summarises the window read from its end to its start).
    cell : {"lstm", "gru", "peephole"}, default="lstm"
        Recurrent cell: ``nn.LSTM``, ``nn.GRU`` or :class:`~tsforecast._nn.peephole.PeepholeLSTM`.
    embedding : Embedding or None, default=None
        Read the single input feature as token ids through an ``nn.Embedding``. Sequences end at
        their last non-padding token: they are packed, so that the padding after it changes
        nothing.
    skip_timesteps : int or None, default=None
        Add a linear skip path: ``forward`` then returns ``head(last state) + window.flatten(1)
        @ skip_weight.T + skip_bias``, the window flattened to ``skip_timesteps * n_features``
        values, so windows must have exactly ``skip_timesteps`` steps. The skip's weights are
        buffers, set by :meth:`start_linear` and never trained. Not for token input (a linear
        map of token ids means nothing).
    input_scaling : pair of array-like of shape (n_features,), default=None
        A mean and a scale per input feature: ``forward`` standardizes its input first,
        ``(x - input_mean) / input_scale``, with these as buffers (never trained), so that the
        data need no scaled copy. Not for token input.
    window_scaler : WindowScaler or None, default=None
        Scale each window by its own statistics before anything else reads it, and the outputs
        (the linear skip path's included) back to the target feature's units at the end.
        Not for token input.
    """

    def __init__(
        self,
        n_features: int,
        units: Sequence[int],
        n_outputs: int,
        dropout: float = 0.0,
        bidirectional: bool = False,
        cell: str = "lstm",
        embedding: Embedding | None = None,
        skip_timesteps: int | None = None,
        input_scaling: tuple[Any, Any] | None = None,
        window_scaler: WindowScaler | None = None,
    ) -> None:
        super().__init__()
        if skip_timesteps is not None and embedding is not None:
            raise ValueError("A linear skip path cannot read token ids.")
        if (input_scaling is not None or window_scaler is not None) and embedding is not None:
            raise ValueError("Token ids cannot be standardized.")
        self.window_scaler = window_scaler
        directions = 2 if bidirectional else 1
        self.embedding = None
        in_size = n_features
        if embedding is not None:
            self.embedding = nn.Embedding(
                embedding.vocab_size, embedding.dim, padding_idx=embedding.padding_idx
            )
            in_size = embedding.dim
        groups: list[nn.Module] = []
        for width, count in group_layers(units):
            groups.append(
                CELLS[cell](
                    in_size,
                    width,
                    num_layers=count,
                    dropout=dropout if count > 1 else 0.0,
                    bidirectional=bidirectional,
                    **({} if cell == "peephole" else {"batch_first": True}),
                )
            )
            in_size = width * directions
        self.groups = nn.ModuleList(groups)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(in_size, n_outputs)
        self.bidirectional = bidirectional
        skip = skip_timesteps is not None
        self.register_buffer(
            "skip_weight", torch.zeros(n_outputs, skip_timesteps * n_features) if skip else None
        )
        self.register_buffer("skip_bias", torch.zeros(n_outputs) if skip else None)
        mean, scale = (None, None) if input_scaling is None else input_scaling
        self.register_buffer("input_mean", _float_buffer(mean))
        self.register_buffer("input_scale", _float_buffer(scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, T, F) -> (B, n_outputs)
        if self.input_mean is not None:
            x = (x - self.input_mean) / self.input_scale
        if self.window_scaler is not None:
            x, statistics = self.window_scaler.scale(x)
        skip = None
        if self.skip_weight is not None:
            flat = x.flatten(1)  # (B, T * F), time-major: step t's features together
            if flat.shape[1] != self.skip_weight.shape[1]:
                raise ValueError(
                    f"The linear skip path reads windows of {self.skip_weight.shape[1]} values "
                    f"(time steps x features) as in fit; got windows of shape "
                    f"{tuple(x.shape[1:])}."
                )
            skip = nn.functional.linear(flat, self.skip_weight, self.skip_bias)
        lengths = None
        if self.embedding is not None:
            tokens = x[..., 0].long()
            lengths = sequence_lengths(tokens, self.embedding.padding_idx)
            if bool((lengths == tokens.shape[1]).all()):
                lengths = None  # nothing to pack
            x = self.embedding(tokens)
        h_n = self._run_groups(x, lengths)
        # h_n: (num_layers * directions, B, H); the last layer's states come last.
        last = torch.cat([h_n[-2], h_n[-1]], dim=1) if self.bidirectional else h_n[-1]
        out = self.head(self.dropout(last))
        out = out if skip is None else out + skip
        return out if self.window_scaler is None else self.window_scaler.unscale(out, statistics)

    @torch.no_grad()
    def start_linear(self, coef: torch.Tensor, intercept: torch.Tensor) -> None:
        """Make the network the linear model ``window.flatten(1) @ coef.T + intercept``: the
        skip path takes those weights and the head starts at zero, so that training learns
        only what the linear model misses."""
        self.skip_weight.copy_(coef)
        self.skip_bias.copy_(intercept)
        self.head.weight.zero_()
        self.head.bias.zero_()

    def _run_groups(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """Run the stacked groups; return the last group's final hidden states."""
        packed = lengths is not None and not isinstance(self.groups[0], PeepholeLSTM)
        seq: torch.Tensor | PackedSequence = x
        if packed:
            seq = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        for i, rnn in enumerate(self.groups):
            if i:
                seq = self._drop(seq)
            if isinstance(rnn, PeepholeLSTM):
                seq, h_n = rnn(seq, lengths)
            else:
                seq, state = rnn(seq)
                h_n = state[0] if isinstance(state, tuple) else state  # LSTM: (h_n, c_n)
        return h_n

    def _drop(self, seq: torch.Tensor | PackedSequence) -> torch.Tensor | PackedSequence:
        if isinstance(seq, PackedSequence):
            return seq._replace(data=self.dropout(seq.data))
        return self.dropout(seq)
