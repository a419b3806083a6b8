"""The single-lead student of cross-lead distillation (paper 000), sized for microcontrollers.

Paper 000 (Su, Wang & Wang, Sensors 2026; summary only) distils a 12-lead teacher into "an
ultra-lightweight single-lead student" with 123.7× fewer parameters, quantised to a 20.8 KB
INT8 TFLite model that runs in 11.6 ms on a Cortex-M4. The summary gives no layers; this design
is ours. It keeps to operators every INT8 toolchain maps directly (Conv1d with batch
normalisation folded in, ReLU, global average pooling, one linear layer), uses
depthwise-separable convolutions (Howard et al. 2017, "MobileNets") to keep the weight count
near 11 k, so the INT8 weights fit in ~11 KB, and strides early so activations stay small.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import check_param
from ._base import ECGModel, InputSpec, check_int, check_rate
from ._registry import register_model

__all__ = ["ECGStudent"]

#: (width multiplier, stride, kernel shrink) of the four depthwise-separable blocks: channels
#: ``width·m``; the last block keeps the resolution and uses a kernel two shorter.
STUDENT_BLOCKS: tuple[tuple[int, int, int], ...] = ((2, 2, 0), (3, 2, 0), (4, 2, 0), (4, 1, 2))


def conv_bn_relu(
    c_in: int, c_out: int, kernel_size: int, stride: int = 1, groups: int = 1
) -> nn.Sequential:
    """Conv1d (no bias, "same"-style padding) → BatchNorm1d → ReLU; the BN folds into the conv."""
    return nn.Sequential(
        nn.Conv1d(
            c_in,
            c_out,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            groups=groups,
            bias=False,
        ),
        nn.BatchNorm1d(c_out),
        nn.ReLU(),
    )


@register_model(
    "ecg_student",
    paper="000",
    input_kinds=("ecg12",),
    num_classes=5,
    reference="paper 000 gives no count, only the student's compression factor (123.7×)",
)
class ECGStudent(ECGModel):
    """Single-lead student (paper 000): Conv → 4 depthwise-separable blocks → GAP → linear.

    For one lead (``input_channels=1``, lead I or II) and 5 classes it has **11,413**
    parameters (BN scale and shift included; 11,029 once BN is folded into the convolutions),
    128× fewer than ``inception_transformer`` (1,463,813):

    - Conv1d 1→16, k7, stride 2 → BN → ReLU (144);
    - depthwise-separable blocks (depthwise k7 → BN → ReLU → pointwise → BN → ReLU):
      16→32 stride 2 (720), 32→48 stride 2 (1,920), 48→64 stride 2 (3,632), and 64→64 k5
      stride 1 (4,672);
    - global average pooling → the 64 features; dropout; linear head (325).

    Total stride 16 (a 2.5 s crop at 100 Hz ends as 16 steps); receptive field 155 samples
    (1.55 s, more than one beat at rest). It takes any number of leads (the first convolution
    grows by ``16·7`` weights per extra lead, so the registry's 12-lead default has 12,645);
    the distilled students use one. Only Conv1d, BatchNorm1d, ReLU, mean and Linear: it exports
    to ONNX and quantises to INT8 without custom operators. Needs ``L >= 16``.

    Parameters
    ----------
    width : int
        Channels of the first convolution (16); the blocks have 2, 3, 4 and 4 times as many.
    kernel_size : int
        Kernel of the first and the depthwise convolutions (7, odd); the last block uses
        ``kernel_size - 2``.
    dropout : float
        Dropout on the pooled features (0.1).
    """

    min_length = 16

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        width: int = 16,
        kernel_size: int = 7,
        dropout: float = 0.1,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        width = check_int("width", width)
        kernel_size = check_int("kernel_size", kernel_size, low=3)
        check_param("kernel_size", kernel_size, kernel_size % 2 == 1, "an odd integer >= 3")
        dropout = check_rate("dropout", dropout)
        layers: list[nn.Module] = [conv_bn_relu(input_spec.channels, width, kernel_size, 2)]
        c_in = width
        for mult, stride, shrink in STUDENT_BLOCKS:
            c_out = width * mult
            k = max(kernel_size - shrink, 1)
            layers += [
                conv_bn_relu(c_in, c_in, k, stride, groups=c_in),  # depthwise
                conv_bn_relu(c_in, c_out, 1),  # pointwise
            ]
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.drop = nn.Dropout(dropout)
        self.head = self._new_head(c_in, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features ``(B, 4·width)``, the target of an optional feature-hint loss."""
        return self.drop(self.features(x).mean(dim=2))
