"""A peephole LSTM layer stack (Gers & Schmidhuber, 2000) with ``nn.LSTM``'s calling convention.

For each time step ``t``, with ``*`` the element-wise product and ``W``/``U``/``b`` full input,
recurrent and bias weights, the gates read the cell state through diagonal peephole weights
``p_i``, ``p_f``, ``p_o``::

    i_t = sigmoid(W_i x_t + U_i h_{t-1} + p_i * c_{t-1} + b_i)   # input gate: previous cell
    f_t = sigmoid(W_f x_t + U_f h_{t-1} + p_f * c_{t-1} + b_f)   # forget gate: previous cell
    g_t = tanh(W_g x_t + U_g h_{t-1} + b_g)                      # candidate, no peephole
    c_t = f_t * c_{t-1} + i_t * g_t
    o_t = sigmoid(W_o x_t + U_o h_{t-1} + p_o * c_t + b_o)       # output gate: current cell
    h_t = o_t * tanh(c_t)

The input projections of all time steps are one matrix product before the recurrence; the
recurrence itself is a TorchScript function, so that each step costs one ``addmm`` and a few
element-wise kernels without the Python interpreter in between. It runs unoptimized (the
interpreter, with autograd's own gradients), so that every call computes alike.
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import nn


def _recurrence(
    projected: torch.Tensor,
    recurrent: torch.Tensor,
    peepholes: torch.Tensor,
    mask: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Run the peephole recurrence over ``projected = W x_t + b`` of shape ``(T, B, 4H)``.

    ``mask`` ``(T, B, 1)`` marks the real steps of each sequence: past its end a sequence keeps
    its state and outputs zeros. Returns the outputs ``(T, B, H)`` and the last ``h`` and ``c``.
    """
    steps, batch = projected.shape[0], projected.shape[1]
    hidden = recurrent.shape[1]
    h = projected.new_zeros(batch, hidden)
    c = projected.new_zeros(batch, hidden)
    recurrent_t = recurrent.t()
    outputs: list[torch.Tensor] = []
    for t in range(steps):
        gates = torch.addmm(projected[t], h, recurrent_t)
        i, f, g, o = gates.chunk(4, 1)
        i = torch.sigmoid(i + peepholes[0] * c)
        f = torch.sigmoid(f + peepholes[1] * c)
        c_next = f * c + i * torch.tanh(g)
        o = torch.sigmoid(o + peepholes[2] * c_next)
        h_next = o * torch.tanh(c_next)
        if mask is None:
            h, c = h_next, c_next
            outputs.append(h_next)
        else:
            real = mask[t]
            h = torch.where(real, h_next, h)
            c = torch.where(real, c_next, c)
            outputs.append(h_next * real)
    return torch.stack(outputs), h, c


with warnings.catch_warnings():
    # torch 2.13 deprecates TorchScript in favour of torch.compile, whose first call compiles
    # for seconds to minutes: too slow for models fitted by the hundred in a search.
    warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*torch.jit.*")
    _scripted_recurrence = torch.jit.script(_recurrence)


def reverse_within_lengths(x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """Reverse each sequence of ``x`` ``(B, T, ...)`` over its first ``lengths[b]`` steps.

    Padding after the end stays where it is. Applying the function twice is the identity.
    """
    if lengths is None:
        return x.flip(1)
    steps = torch.arange(x.shape[1], device=x.device)
    last = (lengths.to(x.device) - 1).unsqueeze(1)
    index = torch.where(steps < last + 1, last - steps, steps)
    index = index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)


class PeepholeLayer(nn.Module):
    """One direction of one peephole LSTM layer; weights initialised as ``nn.LSTM``'s."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias = nn.Parameter(torch.empty(4 * hidden_size))
        # Rows: input gate, forget gate, output gate.
        self.peepholes = nn.Parameter(torch.empty(3, hidden_size))
        bound = 1.0 / math.sqrt(hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # x: (B, T, F) -> outputs (B, T, H), last hidden state (B, H)
        projected = torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight_ih.t())
        projected = projected.view(x.shape[0], x.shape[1], -1).transpose(0, 1)
        # Unoptimized: the profiling executor otherwise replaces the graph after its first
        # calls with one whose symbolic gradients round differently (7e-8), so that the
        # first fit in a process would not repeat, nor a checkpoint resume exactly.
        with torch.jit.optimized_execution(False):
            outputs, h, _ = _scripted_recurrence(projected, self.weight_hh, self.peepholes, mask)
        return outputs.transpose(0, 1), h


class PeepholeLSTM(nn.Module):
    """Stacked (optionally bidirectional) peephole LSTM, called like ``nn.LSTM(batch_first=True)``.

    ``forward(x, lengths)`` returns ``(output, h_n)``: ``output`` ``(B, T, directions * H)`` and
    ``h_n`` ``(num_layers * directions, B, H)``, the last real step's hidden state of each layer
    and direction (for the backward direction: its state after reading back to the first step).
    ``lengths`` (``None``: every sequence fills ``T``) gives each sequence's real steps; the
    steps after them are padding and do not change the result.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        directions = 2 if bidirectional else 1
        self.num_layers = num_layers
        self.layers = nn.ModuleList(
            nn.ModuleList(
                PeepholeLayer(input_size if k == 0 else hidden_size * directions, hidden_size)
                for _ in range(directions)
            )
            for k in range(num_layers)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mask = None
        if lengths is not None:
            steps = torch.arange(x.shape[1], device=x.device)
            mask = (steps.unsqueeze(1) < lengths.to(x.device)).unsqueeze(2)  # (T, B, 1)
        last_states: list[torch.Tensor] = []
        for k, directions in enumerate(self.layers):
            if k:
                x = self.dropout(x)
            outputs = []
            for d, layer in enumerate(directions):
                seq = reverse_within_lengths(x, lengths) if d else x
                out, h = layer(seq, mask)
                outputs.append(reverse_within_lengths(out, lengths) if d else out)
                last_states.append(h)
            x = torch.cat(outputs, dim=2) if len(outputs) > 1 else outputs[0]
        return x, torch.stack(last_states)
