"""LSTM-FCN of paper 001 (Pramukantoro et al. 2025, section 3.3.3 and Table 5).

Two branches read the same input: an 8-unit LSTM with dropout 0.8, and a fully convolutional
branch (Conv1D 128/k8 → 256/k5 → 128/k3, each with batch normalisation and ReLU, then global
average pooling); their outputs are concatenated (8 + 128 = 136 features) into the softmax layer.

Table 5 shows a ``Permute`` before the convolutions: the ``(L, 1)`` input becomes ``(1, L)``, so
Keras's channels-last ``Conv1D`` sees **one timestep with L channels** — the first convolution has
``8·L·128 + 128`` parameters (102,528 for the table's L = 100) and, with ``padding="same"`` on a
single timestep, only its centre tap ever meets data. ``permute=True`` (default) reproduces that
exactly; ``permute=False`` convolves over time instead (1 input channel), the usual LSTM-FCN
reading, with far fewer parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import check_param
from ._base import InputSpec, check_int, check_rate
from ._layers import KerasLSTM, KerasModel
from ._registry import register_model

__all__ = ["LSTMFCN"]

#: Filters and kernel sizes of the three convolution blocks (Table 5 / section 3.3.3).
FCN_BLOCKS: tuple[tuple[int, int], ...] = ((128, 8), (256, 5), (128, 3))


def _conv_block(c_in: int, c_out: int, k: int) -> nn.Sequential:
    """Keras ``Conv1D(padding="same", kernel_initializer="he_uniform")`` → BN → ReLU.

    Batch normalisation uses Keras's defaults (momentum 0.99, i.e. torch 0.01; epsilon 1e-3).
    """
    conv = nn.Conv1d(c_in, c_out, k)
    nn.init.kaiming_uniform_(conv.weight, nonlinearity="relu")  # he_uniform: sqrt(6 / fan_in)
    nn.init.zeros_(conv.bias)
    left = (k - 1) // 2  # TensorFlow's "same": the extra zero of an even kernel goes right
    return nn.Sequential(
        nn.ConstantPad1d((left, k - 1 - left), 0.0),
        conv,
        nn.BatchNorm1d(c_out, eps=1e-3, momentum=0.01),
        nn.ReLU(),
    )


@register_model(
    "lstm_fcn",
    paper="001",
    input_kinds=("wavelet", "rr", "morph", "window"),
    reference_params=368_109,
    reference="paper 001 Table 5, input (100, 1), Keras count incl. BN moving statistics",
)
class LSTMFCN(KerasModel):
    """LSTM-FCN (paper 001, Table 5): LSTM 8 + dropout 0.8 ‖ 3 conv blocks + GAP → softmax.

    Keras parameter counts (``count_parameters(..., keras=True)``) for input length L and 1
    channel, ``permute=True``:

    ==========================  =====================  ================
    layer                       formula                Table 5 (L=100)
    ==========================  =====================  ================
    ``conv.0`` Conv1D 128/k8    8·L·128 + 128          102,528
    ``conv.0`` BatchNorm        4·128                  512
    ``conv.1`` Conv1D 256/k5    5·128·256 + 256        164,096
    ``conv.1`` BatchNorm        4·256                  1,024
    ``conv.2`` Conv1D 128/k3    3·256·128 + 128        98,432
    ``conv.2`` BatchNorm        4·128                  512
    ``lstm`` LSTM 8             4·8·(1 + 8 + 1)        320
    ``head`` Dense 5            136·5 + 5              685
    total                                              368,109
    ==========================  =====================  ================

    Table 5 is for sequences of length 100, which is none of the paper's stated inputs (9 RR
    features, 181-sample beats); our inputs give L = 9, 181 or 28 and the first convolution
    scales with L. Torch itself counts 2 (not 4) parameters per BN channel: 367,085 at L = 100.

    Parameters
    ----------
    lstm_size : int
        LSTM units (8).
    lstm_dropout : float
        Dropout after the LSTM (0.8).
    permute : bool
        Reproduce the paper's ``Permute`` (convolutions over the L input values as channels).
    """

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        lstm_size: int = 8,
        lstm_dropout: float = 0.8,
        permute: bool = True,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        lstm_size = check_int("lstm_size", lstm_size)
        check_param("permute", permute, isinstance(permute, bool), "a bool")
        self.permute = permute
        self.lstm = KerasLSTM(input_spec.channels, lstm_size)
        self.lstm_drop = nn.Dropout(check_rate("lstm_dropout", lstm_dropout))
        c_in = input_spec.length if permute else input_spec.channels
        blocks = []
        for c_out, k in FCN_BLOCKS:
            blocks.append(_conv_block(c_in, c_out, k))
            c_in = c_out
        self.conv = nn.Sequential(*blocks)
        self.head = self._new_head(lstm_size + c_in, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        seq = x.transpose(1, 2)  # (B, L, C): L timesteps of C features
        h = self.lstm_drop(self.lstm(seq))
        g = self.conv(seq if self.permute else x).mean(dim=2)
        return torch.cat([h, g], dim=1)
