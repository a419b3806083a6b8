"""InceptionTime-Transformer, the 12-lead teacher of paper 000 (Su, Wang & Wang, Sensors 2026).

Paper 000 (available to us as a summary only) distils "a 12-lead InceptionTime-Transformer
teacher" into a single-lead student with 123.7× fewer parameters. The convolutional part follows
InceptionTime (Ismail Fawaz et al. 2020, "InceptionTime: finding AlexNet for time series
classification", Data Min. Knowl. Disc. 34:1936-1962): modules of a 1×1 bottleneck, three
parallel convolutions of long, medium and short kernels and a max-pool branch, concatenated,
batch-normalised and rectified, with a residual shortcut every three modules. The transformer
part is a pre-norm encoder (Vaswani et al. 2017; Xiong et al. 2020 for pre-norm) over the
downsampled time axis.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import check_param
from ._base import ECGModel, InputSpec, check_int, check_rate
from ._registry import register_model

__all__ = ["InceptionTransformer", "sinusoidal_positions"]

#: Kernels of the three parallel convolutions of an InceptionTime module. Fawaz et al. use
#: 40/20/10 at their sampling rates; odd sizes keep "same" padding symmetric. At 100 Hz the
#: longest spans 0.39 s (a QRS complex with its ST segment).
INCEPTION_KERNELS: tuple[int, ...] = (39, 19, 9)


def sinusoidal_positions(length: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """Fixed sine/cosine position codes ``(length, dim)`` of Vaswani et al. (2017, section 3.5).

    Computed for any length, so the model takes inputs of any duration (2.5 s crops in
    training, 10 s records at test time). ``dim`` must be even.
    """
    pos = torch.arange(length, dtype=torch.float32, device=device)[:, None]
    freq = torch.exp(
        torch.arange(0, dim, 2, dtype=torch.float32, device=device) * (-math.log(10000.0) / dim)
    )
    pe = torch.zeros(length, dim, device=device)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe


class InceptionModule(nn.Module):
    """One InceptionTime module: ``(B, c_in, T) → (B, 4·filters, T)``.

    Bottleneck Conv1d(c_in → bottleneck, 1) (skipped for a single input channel, as in Fawaz
    et al.), then convolutions of :data:`INCEPTION_KERNELS` on it and a MaxPool(3) → Conv 1×1
    branch on the module input, concatenated → BN → ReLU. Convolutions have no bias (BN follows).
    """

    def __init__(self, c_in: int, filters: int, bottleneck: int) -> None:
        super().__init__()
        self.bottleneck: nn.Module = nn.Identity()
        c_b = c_in
        if c_in > 1:
            self.bottleneck = nn.Conv1d(c_in, bottleneck, 1, bias=False)
            c_b = bottleneck
        self.convs = nn.ModuleList(
            nn.Conv1d(c_b, filters, k, padding=k // 2, bias=False) for k in INCEPTION_KERNELS
        )
        self.pool_branch = nn.Sequential(
            nn.MaxPool1d(3, stride=1, padding=1), nn.Conv1d(c_in, filters, 1, bias=False)
        )
        self.bn = nn.BatchNorm1d(filters * (len(INCEPTION_KERNELS) + 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = self.bottleneck(x)
        y = torch.cat([conv(b) for conv in self.convs] + [self.pool_branch(x)], dim=1)
        return torch.relu(self.bn(y))


class InceptionBlock(nn.Module):
    """``depth`` Inception modules with one residual shortcut (Conv 1×1 → BN) around them."""

    def __init__(self, c_in: int, filters: int, bottleneck: int, depth: int) -> None:
        super().__init__()
        c_out = filters * (len(INCEPTION_KERNELS) + 1)
        self.layers = nn.Sequential(
            *(InceptionModule(c_in if i == 0 else c_out, filters, bottleneck) for i in range(depth))
        )
        self.shortcut = nn.Sequential(nn.Conv1d(c_in, c_out, 1, bias=False), nn.BatchNorm1d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.layers(x) + self.shortcut(x))


@register_model(
    "inception_transformer",
    paper="000",
    input_kinds=("ecg12",),
    num_classes=5,
    reference="paper 000 gives no count, only the student's compression factor (123.7×)",
)
class InceptionTransformer(ECGModel):
    """InceptionTime-Transformer (paper 000's 12-lead teacher): Inception blocks → Transformer.

    Paper 000's summary names the architecture and the student's 123.7× compression but no
    sizes; everything below except the InceptionTime module itself is our choice, sized so a
    ~11 k-parameter student (``ecg_student``, 11,413) is ≥ 100× smaller (128×). With 12 leads
    and 5 classes it has **1,463,813** parameters (1 lead: 1,395,205):

    - block 1 at the input rate: 3 Inception modules (bottleneck 32, 32 filters per branch,
      kernels 39/19/9, 128 channels out) + residual shortcut (225,536 with 12 leads);
    - MaxPool 2; block 2 at half rate: 3 modules + residual shortcut (247,808);
    - MaxPool 2, so a 2.5 s crop at 100 Hz becomes 62 tokens of width 128; fixed sinusoidal
      positions (any input length works);
    - 3 pre-norm Transformer encoder layers, 8 heads, feed-forward 1024, GELU (329,856 each),
      final LayerNorm (256);
    - mean over tokens → the 128 features; dropout; linear head (645).

    Downsampling by 4 before the encoder keeps the attention cheap on CPUs (Fawaz et al. keep
    the full rate; they have no transformer). Needs ``L >= 4``.

    Parameters
    ----------
    filters : int
        Filters per Inception branch (32); tokens have width ``4·filters``.
    bottleneck : int
        Width of the Inception bottleneck (32).
    depth : int
        Inception modules per residual block (3, as Fawaz et al.).
    num_layers : int
        Transformer encoder layers (3).
    num_heads : int
        Attention heads (8); must divide ``4·filters``.
    ff_size : int
        Width of the encoder's feed-forward layer (1024).
    dropout : float
        Dropout inside the encoder and before the head (0.1).
    """

    min_length = 4

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        filters: int = 32,
        bottleneck: int = 32,
        depth: int = 3,
        num_layers: int = 3,
        num_heads: int = 8,
        ff_size: int = 1024,
        dropout: float = 0.1,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        filters = check_int("filters", filters)
        bottleneck = check_int("bottleneck", bottleneck)
        depth = check_int("depth", depth)
        num_layers = check_int("num_layers", num_layers)
        num_heads = check_int("num_heads", num_heads)
        ff_size = check_int("ff_size", ff_size)
        dropout = check_rate("dropout", dropout)
        d_model = filters * (len(INCEPTION_KERNELS) + 1)
        check_param(
            "num_heads",
            num_heads,
            d_model % num_heads == 0,
            f"a divisor of the token width 4·filters = {d_model}",
        )
        self.block1 = InceptionBlock(input_spec.channels, filters, bottleneck, depth)
        self.block2 = InceptionBlock(d_model, filters, bottleneck, depth)
        self.pool = nn.MaxPool1d(2)
        layer = nn.TransformerEncoderLayer(
            d_model,
            num_heads,
            dim_feedforward=ff_size,
            dropout=dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            layer, num_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False
        )
        self.drop = nn.Dropout(dropout)
        self.head = self._new_head(d_model, num_classes)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Encoder outputs ``(B, L // 4, 4·filters)`` of inputs ``(B, C, L)``."""
        h = self.pool(self.block2(self.pool(self.block1(x)))).transpose(1, 2)  # (B, T, D)
        h = h + sinusoidal_positions(h.shape[1], h.shape[2], device=h.device).to(h.dtype)
        return self.encoder(h)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.tokens(x).mean(dim=1))
