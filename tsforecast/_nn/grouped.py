"""Several networks of one architecture run as one block-diagonal network.

``k`` fold models of the same :class:`~tsforecast._nn.network.StackedRNN` (one configuration,
different training rows) are trained together: their inputs are laid side by side along the
feature axis, and each weight matrix of the grouped network holds the folds' matrices on its
block diagonal, zeros elsewhere. A fold's units then see only its own inputs and its own
hidden state, so the ``k`` forward and backward passes are one pass of a ``k`` times wider
network: the same arithmetic, one fused recurrent kernel instead of ``k``.

Each fold's parameters stay one leaf tensor of their own (its parameters flattened, in
``network.parameters()`` order), scattered into the grouped weights at every step. The
optimizer therefore keeps a separate state per fold, and a fold that has no minibatch at a
step (its epoch is shorter, or it stopped early) simply has no gradient: it is not updated,
exactly as if it were trained alone.

This module knows torch only.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .network import CELLS, StackedRNN

# Gates per recurrent cell, stacked along the rows of its weight matrices (torch's layout).
_GATES = {nn.LSTM: 4, nn.GRU: 3}
_RNN_PARAMETER = re.compile(r"groups\.(\d+)\.(weight|bias)_(ih|hh)_l(\d+)(_reverse)?$")


def groupable(networks: Sequence[nn.Module]) -> str | None:
    """Why ``networks`` cannot run as one grouped network, or ``None`` if they can."""
    first = networks[0]
    if not all(isinstance(n, StackedRNN) for n in networks):
        return "not a stacked recurrent network"
    if first.embedding is not None:
        return "token input (an embedding)"
    if first.window_scaler is not None:
        return "per-window scaling"
    if not all(type(rnn) in _GATES for rnn in first.groups):
        return "a cell other than nn.LSTM or nn.GRU"
    shapes = {name: p.shape for name, p in first.state_dict().items() if p is not None}
    for other in networks[1:]:
        if {n: p.shape for n, p in other.state_dict().items() if p is not None} != shapes:
            return "fold networks of different shapes (e.g. a class missing from one fold)"
    return None


def _widened(network: StackedRNN, k: int) -> StackedRNN:
    """A new :class:`StackedRNN` of ``network``'s architecture with every width ``k`` times
    larger: the module whose forward the grouped network runs."""
    units = [rnn.hidden_size for rnn in network.groups for _ in range(rnn.num_layers)]
    n_features = network.groups[0].input_size
    skip = network.skip_weight
    return StackedRNN(
        k * n_features,
        [k * u for u in units],
        k * network.head.out_features,
        dropout=network.dropout.p,
        bidirectional=network.bidirectional,
        cell=next(name for name, cls in CELLS.items() if type(network.groups[0]) is cls),
        skip_timesteps=None if skip is None else skip.shape[1] // n_features,
    )


def _block(rows: torch.Tensor, cols: torch.Tensor, n_cols: int) -> torch.Tensor:
    """Flat positions of the block ``rows x cols`` in a matrix of ``n_cols`` columns."""
    return (rows[:, None] * n_cols + cols[None, :]).reshape(-1)


def _spread(width: int, copies: int, k: int, j: int) -> torch.Tensor:
    """Grouped positions of fold ``j``'s vector of ``copies`` consecutive blocks of
    ``width`` (gates or directions): block ``q`` sits at ``q * k * width + j * width``."""
    return torch.cat([torch.arange(width) + q * k * width + j * width for q in range(copies)])


class GroupedNetwork(nn.Module):
    """``k`` :class:`StackedRNN` of one shape, computed as one wider network.

    Parameters
    ----------
    networks : sequence of StackedRNN
        The fold networks (see :func:`groupable`); they are not modified until
        :meth:`write_back`.
    leaves : sequence of torch.Tensor, default=None
        The folds' flat parameters, when this group computes with those of a larger one
        (see :meth:`subgroup`); by default new leaves holding the networks' weights.

    Attributes
    ----------
    leaves : list of torch.Tensor
        One flat parameter tensor per fold, the tensors to optimize.
    """

    def __init__(
        self, networks: Sequence[StackedRNN], leaves: Sequence[torch.Tensor] | None = None
    ) -> None:
        super().__init__()
        why = groupable(networks)
        if why is not None:
            raise ValueError(f"The networks cannot be trained together: {why}.")
        self.networks = list(networks)
        first = self.networks[0]
        self.k = k = len(self.networks)
        self.n_outputs = first.head.out_features
        self.dropout = first.dropout.p
        self.bidirectional = first.bidirectional
        self.rnns = list(first.groups)
        self.leaves = (
            list(leaves)
            if leaves is not None
            else [
                torch.cat([p.detach().reshape(-1) for p in n.parameters()]).requires_grad_()
                for n in self.networks
            ]
        )
        named = [(name, p.shape) for name, p in first.named_parameters()]
        # Every dimension of a grouped tensor is k times the fold's (block diagonal).
        self.shapes = [torch.Size(size * k for size in shape) for _, shape in named]
        self.offsets = [0]
        for shape in self.shapes:
            self.offsets.append(self.offsets[-1] + shape.numel())
        positions = [
            self._positions(name, shape, j) + offset
            for j in range(k)
            for (name, shape), offset in zip(named, self.offsets, strict=False)
        ]
        self.register_buffer("index", torch.cat(positions))
        self.names = [name for name, _ in named]
        # The one forward: a StackedRNN k times as wide, called with the grouped tensors in
        # place of its own parameters (which are never trained).
        self.wide = _widened(first, k).requires_grad_(False)
        if first.input_mean is not None:  # fold j's features are j*F .. (j+1)*F
            self.wide.input_mean = torch.cat([n.input_mean for n in self.networks])
            self.wide.input_scale = torch.cat([n.input_scale for n in self.networks])
        if first.skip_weight is not None:
            self._group_skip(
                [n.skip_weight for n in self.networks], [n.skip_bias for n in self.networks]
            )

    # ------------------------------------------------------------------ layout
    def _input_width(self, group: int, layer: int) -> tuple[int, int]:
        """``(width, copies)`` of one fold's input to layer ``layer`` of group ``group``."""
        directions = 2 if self.bidirectional else 1
        if layer > 0:
            return self.rnns[group].hidden_size, directions
        if group > 0:
            return self.rnns[group - 1].hidden_size, directions
        return self.rnns[0].input_size, 1

    def _positions(self, name: str, shape: torch.Size, j: int) -> torch.Tensor:
        """Flat positions, in the grouped tensor, of fold ``j``'s tensor ``name``."""
        k = self.k
        if name.startswith("head."):
            rows = torch.arange(self.n_outputs) + j * self.n_outputs
            if name == "head.bias":
                return rows
            width = self.rnns[-1].hidden_size
            copies = 2 if self.bidirectional else 1
            return _block(rows, _spread(width, copies, k, j), k * shape[1])
        match = _RNN_PARAMETER.match(name)
        group, kind, which, layer = (
            int(match.group(1)),
            match.group(2),
            match.group(3),
            int(match.group(4)),
        )
        rnn = self.rnns[group]
        rows = _spread(rnn.hidden_size, _GATES[type(rnn)], k, j)
        if kind == "bias":
            return rows
        if which == "hh":
            cols = _spread(rnn.hidden_size, 1, k, j)
        else:
            cols = _spread(*self._input_width(group, layer), k, j)
        return _block(rows, cols, k * shape[1])

    def _group_skip(self, weights: list[torch.Tensor], biases: list[torch.Tensor]) -> None:
        """The fixed linear skip paths as one block matrix over the side-by-side windows."""
        n_out, n_flat = weights[0].shape
        n_features = self.rnns[0].input_size
        steps = n_flat // n_features
        weight = weights[0].new_zeros(self.k * n_out, self.k * n_flat)
        for j, w in enumerate(weights):
            # Fold j's flat position t * F + f is t * kF + jF + f in the grouped window.
            cols = (
                torch.arange(steps)[:, None] * self.k * n_features
                + j * n_features
                + torch.arange(n_features)[None, :]
            ).reshape(-1)
            weight[j * n_out : (j + 1) * n_out, cols] = w
        self.wide.skip_weight = weight
        self.wide.skip_bias = torch.cat(biases)

    def subgroup(self, members: Sequence[int]) -> GroupedNetwork:
        """The folds ``members`` as a narrower group computing with the same leaves: when
        some folds have no minibatch at a step, the others need not carry their width."""
        if len(members) == self.k:
            return self
        group = GroupedNetwork(
            [self.networks[j] for j in members], [self.leaves[j] for j in members]
        )
        return group.to(self.index.device).train(self.training)

    # ------------------------------------------------------------------ compute
    def parameters_now(self) -> list[torch.Tensor]:
        """The grouped tensors, built from the folds' leaves (differentiable)."""
        flat = torch.zeros(
            self.offsets[-1], dtype=self.leaves[0].dtype, device=self.leaves[0].device
        ).scatter(0, self.index, torch.cat(self.leaves))
        return [
            flat[start:stop].view(shape)
            for start, stop, shape in zip(
                self.offsets[:-1], self.offsets[1:], self.shapes, strict=True
            )
        ]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, k * F)`` windows side by side -> ``(B, k * n_outputs)``."""
        weights = dict(zip(self.names, self.parameters_now(), strict=True))
        with warnings.catch_warnings():
            # cuDNN would rather have the weights in its own flat buffer: they are built
            # anew at every step here (a copy cuDNN makes is the scatter's cost again).
            warnings.filterwarnings("ignore", message="RNN module weights are not part")
            return torch.func.functional_call(self.wide, weights, (x,))

    def fold_outputs(self, out: torch.Tensor, j: int) -> torch.Tensor:
        return out[:, j * self.n_outputs : (j + 1) * self.n_outputs]

    # ------------------------------------------------------------------ per-fold state
    @torch.no_grad()
    def write_back(self, j: int) -> nn.Module:
        """Fold ``j``'s network holding its current weights."""
        network = self.networks[j]
        nn.utils.vector_to_parameters(self.leaves[j].detach(), network.parameters())
        return network

    def optimizer_state(self, optimizer: torch.optim.Optimizer, j: int) -> dict[str, Any]:
        """Fold ``j``'s optimizer state as its own optimizer over ``parameters()`` has it."""
        leaf = self.leaves[j]
        state = optimizer.state.get(leaf, {})
        per_parameter = {}
        start = 0
        for i, p in enumerate(self.networks[j].parameters()):
            stop = start + p.numel()
            per_parameter[i] = {
                key: value[start:stop].view(p.shape)
                if torch.is_tensor(value) and value.shape == leaf.shape
                else value
                for key, value in state.items()
            }
            start = stop
        group = {key: v for key, v in optimizer.param_groups[0].items() if key != "params"}
        group["params"] = list(range(len(list(self.networks[j].parameters()))))
        return {"state": per_parameter if state else {}, "param_groups": [group]}
