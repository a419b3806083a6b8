"""Paper 003's hybrid CNN-LSTM and its GRU baseline.

Paper 003 ("A hybrid CNN-LSTM for ECG classification in edge-intelligence IoT devices") describes
the hybrid only in words: convolution layers with ReLU and 2-wide max pooling extract local
features (P wave, QRS complex, T wave), LSTM layers model their sequence, fully connected layers
and a softmax classify. It gives no layer sizes, kernel sizes, depths or parameter counts, and
nothing at all about its GRU baseline. Every size below is therefore our guess, chosen small
enough to train on CPU; they are hyperparameters so the benchmark can vary them.
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import ECGModel, InputSpec, check_int, check_rate
from ._registry import register_model

__all__ = ["CNNLSTM", "GRUClassifier"]

_P003_INPUTS = ("morph", "wavelet", "rr", "window")


@register_model("cnn_lstm", paper="003", input_kinds=_P003_INPUTS)
class CNNLSTM(ECGModel):
    """Hybrid CNN-LSTM (paper 003): 2 × (Conv1D → ReLU → MaxPool 2) → LSTM → Dense → softmax.

    Sizes are guesses (paper 003 states none): Conv1D ``filters``/k ``kernel_size`` and
    ``2·filters``/k3 with "same" padding, an ``nn.LSTM`` of ``lstm_size`` units over the pooled
    sequence (length ``L // 4``), its final state → Dense ``dense_size`` ReLU → dropout → head.
    With the defaults on one channel and 5 classes: 165,765 parameters. Needs ``L >= 4``.

    Parameters
    ----------
    filters : int
        Filters of the first convolution (64); the second has twice as many.
    kernel_size : int
        Kernel of the first convolution (5).
    lstm_size : int
        LSTM units (128).
    dense_size : int
        Units of the fully connected layer (64); its output is the feature vector.
    dropout : float
        Dropout before the head (0.3).
    """

    min_length = 4

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        filters: int = 64,
        kernel_size: int = 5,
        lstm_size: int = 128,
        dense_size: int = 64,
        dropout: float = 0.3,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        filters = check_int("filters", filters)
        kernel_size = check_int("kernel_size", kernel_size)
        lstm_size = check_int("lstm_size", lstm_size)
        dense_size = check_int("dense_size", dense_size)
        self.cnn = nn.Sequential(
            nn.Conv1d(input_spec.channels, filters, kernel_size, padding="same"),
            nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(filters, 2 * filters, 3, padding="same"),
            nn.ReLU(),
            nn.MaxPool1d(2),
        )
        self.lstm = nn.LSTM(2 * filters, lstm_size, batch_first=True)
        self.dense = nn.Sequential(
            nn.Linear(lstm_size, dense_size), nn.ReLU(), nn.Dropout(check_rate("dropout", dropout))
        )
        self.head = self._new_head(dense_size, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        seq = self.cnn(x).transpose(1, 2)  # (B, L // 4, 2·filters)
        _, (h_n, _) = self.lstm(seq)
        return self.dense(h_n[-1])


@register_model("gru", paper="003", input_kinds=_P003_INPUTS)
class GRUClassifier(ECGModel):
    """GRU baseline (paper 003, Table 2): GRU → Dense → softmax.

    Paper 003 reports the GRU's scores only; sizes are guesses mirroring the hybrid's recurrent
    part: an ``nn.GRU`` of ``hidden_size`` units reading ``L`` timesteps of ``channels``
    features, its final state → Dense ``dense_size`` ReLU → dropout → head. With the defaults on
    one channel and 5 classes: 58,885 parameters.

    Parameters
    ----------
    hidden_size : int
        GRU units (128).
    dense_size : int
        Units of the fully connected layer (64); its output is the feature vector.
    dropout : float
        Dropout before the head (0.3).
    """

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        hidden_size: int = 128,
        dense_size: int = 64,
        dropout: float = 0.3,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        hidden_size = check_int("hidden_size", hidden_size)
        dense_size = check_int("dense_size", dense_size)
        self.gru = nn.GRU(input_spec.channels, hidden_size, batch_first=True)
        self.dense = nn.Sequential(
            nn.Linear(hidden_size, dense_size),
            nn.ReLU(),
            nn.Dropout(check_rate("dropout", dropout)),
        )
        self.head = self._new_head(dense_size, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        _, h_n = self.gru(x.transpose(1, 2))
        return self.dense(h_n[-1])
