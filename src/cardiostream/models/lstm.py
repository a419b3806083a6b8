"""Recurrent classifiers: paper 001's LSTM-Sequential and Bi-LSTM, paper 002's BiLSTM.

Paper 001 (Pramukantoro et al., Sensors 25:6116, 2025, section 3.3 and Tables 3-4) feeds each
feature vector as a sequence of scalars: "the input shape (9, 1) specifies ... 9 time steps, each
containing a single feature", which the LSTM counts confirm (``4·256·(1 + 256 + 1) = 264,192``).
Our ``(B, 1, L)`` input is therefore read as ``L`` timesteps of ``channels`` features, and the
LSTM counts do not depend on ``L``. Layers are Keras-exact (:class:`KerasLSTM`, Keras
initialisers), so the per-layer counts equal the tables for every input kind.
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import ECGModel, InputSpec, check_int, check_rate
from ._layers import KerasLSTM, KerasModel, keras_dense
from ._registry import register_model

__all__ = ["BiLSTM", "LSTMSequential", "StackedBiLSTM"]

_P001_INPUTS = ("wavelet", "rr", "morph", "window")
_P002_INPUTS = ("window", "morph", "wavelet")


@register_model(
    "lstm256",
    paper="001",
    input_kinds=_P001_INPUTS,
    fixed={"hidden_size": 256},
    reference_params=297_733,
    reference="paper 001 Table 3: 264,192 + 32,896 + 645 (any input length, 1 feature/step)",
)
@register_model(
    "lstm512",
    paper="001",
    input_kinds=_P001_INPUTS,
    fixed={"hidden_size": 512},
    reference_params=1_118_981,
    reference="paper 001 sections 3.3.1/4 (LSTM-512; Table 3 layout): 1,052,672 + 65,664 + 645",
)
class LSTMSequential(KerasModel):
    """LSTM-Sequential (paper 001, Table 3): LSTM → Dense 128 tanh → softmax.

    Layers and Keras parameter counts for 1 feature per timestep (any length):

    ======================  ===================  =====================
    layer                   lstm256              lstm512
    ======================  ===================  =====================
    ``lstm`` (H units)      264,192              1,052,672
    ``dense`` (128, tanh)   32,896               65,664
    ``head`` (5, softmax)   645                  645
    total                   297,733              1,118,981
    ======================  ===================  =====================

    Table 3 prints the 256 variant; the 512 variant is named in the text (LSTM-512) with the same
    layout, its counts follow from Keras's formulas. Features: the Dense-128 output.

    Parameters
    ----------
    hidden_size : int
        LSTM units (fixed by the variant: 256 or 512).
    dense_size : int
        Units of the tanh layer (128 in the paper).
    dropout : float
        Dropout on the LSTM's final state. The paper lists "dropout (0.2) for regularization"
        (section 3.4) without placing it; Table 3 shows no Dropout layer, so it is param-free
        wherever it sits. Our guess: after the LSTM.
    """

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        hidden_size: int = 256,
        dense_size: int = 128,
        dropout: float = 0.2,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        hidden_size = check_int("hidden_size", hidden_size)
        dense_size = check_int("dense_size", dense_size)
        self.lstm = KerasLSTM(input_spec.channels, hidden_size)
        self.drop = nn.Dropout(check_rate("dropout", dropout))
        self.dense = keras_dense(hidden_size, dense_size)
        self.head = self._new_head(dense_size, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.lstm(x.transpose(1, 2))
        return torch.tanh(self.dense(self.drop(h)))


@register_model(
    "bilstm256",
    paper="001",
    input_kinds=_P001_INPUTS,
    reference_params=660_997,
    reference="paper 001 Table 4: 528,384 + 131,328 + 1,285 (any input length, 1 feature/step)",
)
class BiLSTM(KerasModel):
    """Bi-LSTM (paper 001, Table 4): Bidirectional LSTM 256 → Dense 256 tanh → softmax.

    Keras counts for 1 feature per timestep (any length): ``bilstm`` 528,384 (2 × 264,192,
    final states concatenated to 512), ``dense`` 131,328, ``head`` 1,285; total 660,997.
    Features: the Dense-256 output.

    Parameters
    ----------
    hidden_size : int
        Units per direction (256).
    dense_size : int
        Units of the tanh layer (256).
    dropout : float
        Dropout on the concatenated final states (placement guessed as for
        :class:`LSTMSequential`).
    """

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        hidden_size: int = 256,
        dense_size: int = 256,
        dropout: float = 0.2,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        hidden_size = check_int("hidden_size", hidden_size)
        dense_size = check_int("dense_size", dense_size)
        self.bilstm = KerasLSTM(input_spec.channels, hidden_size, bidirectional=True)
        self.drop = nn.Dropout(check_rate("dropout", dropout))
        self.dense = keras_dense(2 * hidden_size, dense_size)
        self.head = self._new_head(dense_size, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.bilstm(x.transpose(1, 2))
        return torch.tanh(self.dense(self.drop(h)))


@register_model(
    "bilstm2x128",
    paper="002",
    input_kinds=_P002_INPUTS,
    num_classes=3,
    reference_params=530_947,
    reference="paper 002 architecture table (BiLSTM ECG, 256-sample windows, 3 classes)",
)
class StackedBiLSTM(ECGModel):
    """BiLSTM ECG (paper 002): 2-layer bidirectional LSTM 128 → mean‖max pooling → softmax.

    Paper 002 (slides) gives only the total, 530,947 parameters, for 256-sample single-lead
    windows and 3 classes (N/S/V). This design has exactly 530,947 (difference 0): a
    ``torch.nn.LSTM`` (two biases per gate, as in PyTorch) with 1 input feature per timestep,
    2 layers of 128 units per direction (layer 1: 134,144; layer 2: 395,264), the time-mean and
    time-max of the top layer's 256-wide outputs concatenated (512 features) and a linear head
    (1,539). The count fixes the 512-wide head input; the pooling is our choice.

    Parameters
    ----------
    hidden_size : int
        Units per direction (128).
    num_layers : int
        Stacked bidirectional layers (2).
    dropout : float
        Dropout between LSTM layers and on the pooled features (a guess; param-free).
    """

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        hidden_size: int = 128,
        num_layers: int = 2,
        dropout: float = 0.2,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        hidden_size = check_int("hidden_size", hidden_size)
        num_layers = check_int("num_layers", num_layers)
        dropout = check_rate("dropout", dropout)
        self.lstm = nn.LSTM(
            input_spec.channels,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(dropout)
        self.head = self._new_head(4 * hidden_size, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x.transpose(1, 2))
        return self.drop(torch.cat([out.mean(dim=1), out.amax(dim=1)], dim=1))
