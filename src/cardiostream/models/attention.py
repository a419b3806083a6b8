"""CNN-LSTM-Attn of paper 002 ("Energy-Efficient AI for Wearable Health", slides)."""

from __future__ import annotations

import torch
from torch import nn

from ._base import ECGModel, InputSpec, check_int, check_rate
from ._layers import AttentionPooling
from ._registry import register_model

__all__ = ["CNNLSTMAttention"]


@register_model(
    "cnn_lstm_attn",
    paper="002",
    input_kinds=("window", "morph", "wavelet"),
    num_classes=3,
    reference_params=349_860,
    reference="paper 002 architecture table (CNN LSTM Attn, 256-sample windows, 3 classes)",
)
class CNNLSTMAttention(ECGModel):
    """CNN-LSTM-Attn (paper 002): 2 conv blocks → LSTM 256 → attention pooling → Dense → softmax.

    Paper 002 gives only the total, 349,860 parameters (256-sample single-lead windows, N/S/V),
    and "hybrid spatial-temporal modeling". This design has exactly 349,860 (difference 0) for
    one channel and 3 classes:

    - Conv1D 1→32 k3 → ReLU → MaxPool 2; Conv1D 32→32 k3 → ReLU → MaxPool 2 (128 + 3,104);
    - ``nn.LSTM`` 32→256 over the L/4 pooled steps, all outputs kept (296,960);
    - additive attention pooling over time, 256→128→1 (33,025);
    - Dense 256→64 ReLU → dropout (16,448), the 64 features; linear head (195).

    The layout is our reconstruction from the count (an exhaustive search over conventional
    conv/LSTM/attention sizes; this is the simplest exact solution). Needs ``L >= 4``.

    Parameters
    ----------
    filters : int
        Filters of both convolutions (32).
    lstm_size : int
        LSTM units (256).
    attn_size : int
        Hidden width of the attention scorer (128).
    dense_size : int
        Units of the fully connected layer (64).
    dropout : float
        Dropout before the head (0.3, a guess).
    """

    min_length = 4

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        filters: int = 32,
        lstm_size: int = 256,
        attn_size: int = 128,
        dense_size: int = 64,
        dropout: float = 0.3,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        filters = check_int("filters", filters)
        lstm_size = check_int("lstm_size", lstm_size)
        attn_size = check_int("attn_size", attn_size)
        dense_size = check_int("dense_size", dense_size)
        self.cnn = nn.Sequential(
            nn.Conv1d(input_spec.channels, filters, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(filters, filters, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool1d(2),
        )
        self.lstm = nn.LSTM(filters, lstm_size, batch_first=True)
        self.attn = AttentionPooling(lstm_size, attn_size)
        self.dense = nn.Sequential(
            nn.Linear(lstm_size, dense_size), nn.ReLU(), nn.Dropout(check_rate("dropout", dropout))
        )
        self.head = self._new_head(dense_size, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.cnn(x).transpose(1, 2))
        return self.dense(self.attn(out))
