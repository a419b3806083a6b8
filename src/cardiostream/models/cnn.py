"""CNN1D of paper 002 ("Energy-Efficient AI for Wearable Health", slides): a plain 1-D CNN."""

from __future__ import annotations

import torch
from torch import nn

from ._base import ECGModel, InputSpec, check_int, check_rate
from ._registry import register_model

__all__ = ["CNN1D"]

#: Output channels of the four convolution blocks.
CNN1D_CHANNELS: tuple[int, ...] = (32, 64, 128, 128)


@register_model(
    "cnn1d",
    paper="002",
    input_kinds=("window", "morph", "wavelet"),
    num_classes=3,
    reference_params=188_035,
    reference="paper 002 architecture table (CNN1D 3Class, 256-sample windows, 3 classes)",
)
class CNN1D(ECGModel):
    """CNN1D 3Class (paper 002): 4 × (Conv1D k7 → BN → ReLU → MaxPool 2) → GAP → softmax.

    Paper 002 gives only the total, 188,035 parameters (256-sample single-lead windows, classes
    N/S/V), and calls it "lightweight, captures localized morphological features". This design
    has exactly 188,035 (difference 0) for one channel and 3 classes: convolutions 1→32→64→128→128
    with kernel 7 and bias (320 + 14,528 + 57,728 + 115,072 including BN's 2 per channel),
    global average pooling to 128 features, dropout and a linear head (387). The layout is our
    reconstruction from the count (one of two exact solutions of a search over conventional
    conv stacks; the other needs an odd 192-channel last layer). Needs ``L >= 16``.

    Parameters
    ----------
    kernel_size : int
        Kernel of every convolution (7; "same" padding).
    dropout : float
        Dropout on the pooled features (0.3, a guess).
    """

    min_length = 16

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        kernel_size: int = 7,
        dropout: float = 0.3,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        kernel_size = check_int("kernel_size", kernel_size)
        layers: list[nn.Module] = []
        c_in = input_spec.channels
        for c_out in CNN1D_CHANNELS:
            layers += [
                nn.Conv1d(c_in, c_out, kernel_size, padding="same"),
                nn.BatchNorm1d(c_out),
                nn.ReLU(),
                nn.MaxPool1d(2),
            ]
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.drop = nn.Dropout(check_rate("dropout", dropout))
        self.head = self._new_head(c_in, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.features(x).mean(dim=2))
