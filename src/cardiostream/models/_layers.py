"""Layers shared by the model families: a Keras-layout LSTM, Keras initialisers, attention pooling.

Paper 001 built its models in Keras. A Keras ``LSTM(units)`` layer has one bias per gate
(``4·units·(input_dim + units + 1)`` parameters) where ``torch.nn.LSTM`` has two (``bias_ih`` and
``bias_hh``); :class:`KerasLSTM` holds exactly Keras's parameters and runs torch's fused LSTM
kernel with a zero second bias, so counts match the paper's tables and a Keras checkpoint maps
1:1 (both use gate order input, forget, cell, output; torch weights are the transposed kernels).
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import ECGModel

__all__ = ["AttentionPooling", "KerasLSTM", "KerasModel", "keras_dense", "keras_dense_init"]


class KerasLSTM(nn.Module):
    """Single-layer LSTM with Keras's parameters, initialisation and ``return_sequences=False``.

    Parameters
    ----------
    input_size : int
        Features per timestep (Keras ``input_dim``).
    hidden_size : int
        Units.
    bidirectional : bool
        Also run a reversed copy and concatenate the two final states (Keras
        ``Bidirectional(LSTM(units))``, ``merge_mode="concat"``).

    Notes
    -----
    Per direction: ``weight_ih`` (4H, D), ``weight_hh`` (4H, H), ``bias`` (4H); Keras
    defaults: Glorot-uniform input kernel, orthogonal recurrent kernel, zero bias with the forget
    gate's set to 1 (``unit_forget_bias=True``); activations tanh and sigmoid.
    """

    def __init__(self, input_size: int, hidden_size: int, *, bidirectional: bool = False) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bidirectional = bidirectional
        h4 = 4 * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(h4, input_size))
        self.weight_hh = nn.Parameter(torch.empty(h4, hidden_size))
        self.bias = nn.Parameter(torch.empty(h4))
        if bidirectional:
            self.weight_ih_reverse = nn.Parameter(torch.empty(h4, input_size))
            self.weight_hh_reverse = nn.Parameter(torch.empty(h4, hidden_size))
            self.bias_reverse = nn.Parameter(torch.empty(h4))
        self.reset_parameters()

    def _directions(self) -> list[tuple[nn.Parameter, nn.Parameter, nn.Parameter]]:
        d = [(self.weight_ih, self.weight_hh, self.bias)]
        if self.bidirectional:
            d.append((self.weight_ih_reverse, self.weight_hh_reverse, self.bias_reverse))
        return d

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Keras's default initialisation (see class notes)."""
        h = self.hidden_size
        for w_ih, w_hh, b in self._directions():
            nn.init.xavier_uniform_(w_ih)
            nn.init.orthogonal_(w_hh)
            b.zero_()
            b[h : 2 * h] = 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Final hidden state ``(B, H)`` (``(B, 2H)`` bidirectional) of ``x`` ``(B, T, D)``."""
        nd = 2 if self.bidirectional else 1
        zeros = x.new_zeros(nd, x.shape[0], self.hidden_size)
        flat: list[torch.Tensor] = []
        for w_ih, w_hh, b in self._directions():
            flat += [w_ih, w_hh, b, torch.zeros_like(b)]
        _, h_n, _ = torch.lstm(x, (zeros, zeros), flat, True, 1, 0.0, self.training, nd == 2, True)
        if nd == 1:
            return h_n[0]
        return torch.cat([h_n[0], h_n[1]], dim=1)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bidirectional={self.bidirectional}"


@torch.no_grad()
def keras_dense_init(layer: nn.Linear) -> nn.Linear:
    """Keras ``Dense`` defaults: Glorot-uniform kernel, zero bias. Returns ``layer``."""
    nn.init.xavier_uniform_(layer.weight)
    if layer.bias is not None:
        layer.bias.zero_()
    return layer


def keras_dense(in_features: int, out_features: int) -> nn.Linear:
    """A linear layer initialised as Keras's ``Dense``."""
    return keras_dense_init(nn.Linear(in_features, out_features))


class KerasModel(ECGModel):
    """An :class:`ECGModel` whose softmax head is initialised as a Keras ``Dense``."""

    def _new_head(self, num_features: int, num_classes: int) -> nn.Linear:
        return keras_dense(num_features, num_classes)


class AttentionPooling(nn.Module):
    """Additive (Bahdanau-style) attention pooling over time.

    ``score_t = v · tanh(W h_t + b) + c``, ``alpha = softmax_t(score)``, output
    ``sum_t alpha_t h_t``. Input ``(B, T, F)``, output ``(B, F)``; ``F·A + 2A + 1`` parameters.
    """

    def __init__(self, features: int, attn_size: int) -> None:
        super().__init__()
        self.proj = nn.Linear(features, attn_size)
        self.score = nn.Linear(attn_size, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        alpha = torch.softmax(self.score(torch.tanh(self.proj(h))), dim=1)  # (B, T, 1)
        return (alpha * h).sum(dim=1)
