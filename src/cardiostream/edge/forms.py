"""Export forms: mathematically identical rewrites of zoo models that quantise well.

INT8 quantisation gives every activation tensor one scale. A model that concatenates features
of very different ranges and feeds them to one linear layer loses the small ones: BeatNet's
head reads ``[CNN features (0…1.2) | RR branch (0…8) | 10 × context (±83)]``, so one scale
for the concatenation leaves the CNN features two or three INT8 levels and the INT8 model
disagreed with fp32 on 11 % of held-out beats. Its export form computes the same logits as
three linear maps summed, ``W_cnn f_cnn + W_rr f_rr + (10 W_ctx) ctx + b``, so each part keeps
its own scale (agreement > 99 %, ``docs/edge.md``). The rewrite is checked against the original
by the ONNX parity test.

:func:`export_form` returns the model itself for every model without such a rewrite.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..models import ECGModel, InputSpec

__all__ = ["BeatNetExportForm", "export_form"]


class BeatNetExportForm(nn.Module):
    """BeatNet with its masked head split by feature group (module docstring); eval only.

    Shares the CNN body and RR branch with ``net`` (no copy); the three head blocks are new
    tensors holding ``net.head.weight × mask`` (context columns times ``rhythm_gain``).
    """

    def __init__(self, net: ECGModel) -> None:
        super().__init__()
        from ..models._base import CTX_LENGTH

        self._spec = net.input_spec
        self._n_window = int(net._n_window)  # type: ignore[attr-defined]
        self.body = net.body  # type: ignore[attr-defined]
        self.rr = net.rr  # type: ignore[attr-defined]
        head = net.head
        with torch.no_grad():
            w = (head.weight * head.mask).detach().clone()  # type: ignore[attr-defined]
            b = head.bias.detach().clone()
        n_rr = int(net.rr[0].out_features)  # type: ignore[attr-defined, index]
        n_cnn = w.shape[1] - n_rr - CTX_LENGTH
        k = w.shape[0]
        self.head_cnn = nn.Linear(n_cnn, k)
        self.head_rr = nn.Linear(n_rr, k, bias=False)
        self.head_ctx = nn.Linear(CTX_LENGTH, k, bias=False)
        gain = float(net._rhythm_gain)  # type: ignore[attr-defined]
        with torch.no_grad():
            self.head_cnn.weight.copy_(w[:, :n_cnn])
            self.head_cnn.bias.copy_(b)
            self.head_rr.weight.copy_(w[:, n_cnn : n_cnn + n_rr])
            self.head_ctx.weight.copy_(gain * w[:, n_cnn + n_rr :])
        self.eval()

    @property
    def input_spec(self) -> InputSpec:
        return self._spec

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = 2 * self._n_window
        signal = x[:, 0, :n].reshape(x.shape[0], 2, self._n_window)
        ctx = x[:, 0, n:]
        return self.head_cnn(self.body(signal)) + self.head_rr(self.rr(ctx)) + self.head_ctx(ctx)


def _explicit_same_padding(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose ``padding="same"`` convolutions have numeric padding.

    With stride 1 and an odd effective kernel, ``"same"`` pads ``dilation·(k − 1)/2`` on both
    sides: the same function. litert-torch 0.10 rejects the string form; even kernels (an
    asymmetric pad) keep it.
    """
    convs = [
        m
        for m in model.modules()
        if isinstance(m, nn.modules.conv._ConvNd) and isinstance(m.padding, str)
    ]
    ok = [
        all((d * (k - 1)) % 2 == 0 for k, d in zip(m.kernel_size, m.dilation, strict=True))
        for m in convs
        if m.padding == "same"
    ]
    if not convs or not all(ok):
        return model
    clone = copy.deepcopy(model)
    for m in clone.modules():
        if isinstance(m, nn.modules.conv._ConvNd) and m.padding == "same":
            m.padding = tuple(
                d * (k - 1) // 2 for k, d in zip(m.kernel_size, m.dilation, strict=True)
            )
        elif isinstance(m, nn.modules.conv._ConvNd) and m.padding == "valid":
            m.padding = tuple(0 for _ in m.kernel_size)
    return clone


def export_form(model: ECGModel) -> nn.Module:
    """The module to export for ``model``: its rewrite where one exists, else ``model``.

    BeatNet gets :class:`BeatNetExportForm`; convolutions with ``padding="same"`` get numeric
    padding (same function) so every converter accepts them.
    """
    from ..models.beatnet import BeatNet

    if isinstance(model, BeatNet):
        return BeatNetExportForm(model)
    return _explicit_same_padding(model)
