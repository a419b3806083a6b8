"""Reference architectures of the PTB-XL benchmark, so every PTB-XL number has a same-run baseline.

Strodthoff, Wagner, Schaeffter and Samek (2021), "Deep learning for ECG analysis: benchmarks
and insights from PTB-XL", IEEE JBHI 25(5):1519-1528, compare a dozen architectures on 2.5 s
random crops of PTB-XL at 100 Hz. We write two of them from the paper's description and the
hyperparameters of its published code (``fastai_model`` defaults: ``kernel_size=5``,
``lin_ftrs_head=[128]``, ``ps_head=0.5``, concat pooling):

- ``resnet1d_wang``: the residual baseline of Wang et al. (2017, IJCNN, "Time series
  classification from scratch with deep neural networks: a strong baseline") in the
  benchmark's 1-D ResNet form;
- ``inception1d``: InceptionTime (Ismail Fawaz et al. 2020, Data Min. Knowl. Disc. 34:1936).

Both end in the benchmark's head: concat pooling (max and mean over time) → BN → dropout
``p/2`` → Linear → ReLU → BN → dropout ``p`` → Linear. Here the final Linear is ``head`` and
everything before it is :meth:`forward_features` (128 features). Weights are initialised as
the benchmark does (``weight_init``): He-normal convolution and linear weights, zero biases,
batch-norm scale 1 and shift 0.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import check_param
from ._base import ECGModel, InputSpec, check_int, check_rate
from ._registry import register_model

__all__ = ["ConcatPoolHead", "Inception1d", "ResNet1dWang"]


@torch.no_grad()
def benchmark_init(module: nn.Module) -> None:
    """The benchmark's initialisation of every layer in ``module``, in place.

    Convolutions and linear layers: He-normal weights (``kaiming_normal_``, fan-in, gain √2),
    zero biases; batch normalisation: scale 1, shift 0.
    """
    for m in module.modules():
        if isinstance(m, nn.Conv1d | nn.Linear):
            nn.init.kaiming_normal_(m.weight)
            if m.bias is not None:
                m.bias.zero_()
        elif isinstance(m, nn.BatchNorm1d):
            m.weight.fill_(1.0)
            m.bias.zero_()


class ConcatPoolHead(nn.Module):
    """The benchmark's head up to its last Linear: ``(B, C, T)`` → ``(B, hidden)``.

    Max and mean over time concatenated (2C) → BN → dropout ``p/2`` → Linear 2C→hidden → ReLU
    → BN → dropout ``p`` (the benchmark's ``bn_drop_lin`` order: BN, dropout, then the layer).
    ``4C + 2C·hidden + 3·hidden`` parameters.
    """

    def __init__(self, channels: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.BatchNorm1d(2 * channels),
            nn.Dropout(dropout / 2),
            nn.Linear(2 * channels, hidden),
            nn.ReLU(),
            nn.BatchNorm1d(hidden),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.amax(dim=2), x.mean(dim=2)], dim=1)
        return self.layers(pooled)


class _BenchmarkModel(ECGModel):
    """An :class:`ECGModel` with the benchmark's initialisation of a new head."""

    def _new_head(self, num_features: int, num_classes: int) -> nn.Linear:
        head = nn.Linear(num_features, num_classes)
        benchmark_init(head)
        return head


class _WangBlock(nn.Module):
    """Basic residual block: Conv k1 → BN → ReLU → Conv k2 → BN, plus the input, → ReLU.

    Convolutions without bias; a 1×1 convolution + BN maps the input when the stride is 2.
    """

    def __init__(self, channels: int, kernels: tuple[int, int], stride: int) -> None:
        super().__init__()
        k1, k2 = kernels
        self.conv1 = nn.Conv1d(
            channels, channels, k1, stride=stride, padding=(k1 - 1) // 2, bias=False
        )
        self.bn1 = nn.BatchNorm1d(channels)
        self.conv2 = nn.Conv1d(channels, channels, k2, padding=(k2 - 1) // 2, bias=False)
        self.bn2 = nn.BatchNorm1d(channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1:
            self.shortcut = nn.Sequential(
                nn.Conv1d(channels, channels, 1, stride=stride, bias=False),
                nn.BatchNorm1d(channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


@register_model(
    "resnet1d_wang",
    paper="ptbxl-ref",
    input_kinds=("ecg12",),
    num_classes=5,
    reference="Strodthoff et al. 2021 (IEEE JBHI), PTB-XL benchmark, resnet1d_wang",
)
class ResNet1dWang(_BenchmarkModel):
    """resnet1d_wang (PTB-XL benchmark): stem k7 → 3 residual blocks of 128 → concat-pool head.

    The benchmark's form of Wang et al.'s (2017) ResNet baseline: a stem Conv1D 12→128 k7
    (stride 1, no pooling) → BN → ReLU, then three basic blocks of 128 channels with kernels
    5 then 3 (``kernel_size`` k gives k and k//2+1), the second and third with stride 2 and a
    1×1 projection shortcut; convolutions without bias. Then :class:`ConcatPoolHead`
    (256 → 128) and the linear head.

    473,349 parameters for 12 leads and 5 classes: stem 11,008, blocks 131,584 + 148,224 +
    148,224, head MLP 33,664, linear head 645; 1 lead: 463,493. 63 M multiply-accumulates
    per 250-sample 12-lead window (252 M per 1000 samples). Any length ``L >= 1``.

    Parameters
    ----------
    width : int
        Channels of the stem and every block (128, the benchmark's ``inplanes``).
    kernel_size : int
        Kernel of each block's first convolution; the second has ``kernel_size // 2 + 1`` (5).
        Must be ``1 + 4n`` so that both are odd and keep the length (the benchmark's code
        accepts e.g. 7 → 7, 4, whose even kernel shortens the branch and breaks the sum).
    stem_kernel_size : int
        Kernel of the stem convolution, odd (7).
    head_size : int
        Units of the head's hidden layer, the features (128, ``lin_ftrs_head``).
    dropout : float
        Dropout before the head; half of it before the hidden layer (0.5, ``ps_head``).
    """

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        width: int = 128,
        kernel_size: int = 5,
        stem_kernel_size: int = 7,
        head_size: int = 128,
        dropout: float = 0.5,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        width = check_int("width", width)
        kernel_size = check_int("kernel_size", kernel_size)
        ok = kernel_size % 4 == 1
        expected = "1 + 4n (1, 5, 9, ...), so that both block kernels k and k//2+1 are odd"
        check_param("kernel_size", kernel_size, ok, expected)
        stem_kernel_size = check_int("stem_kernel_size", stem_kernel_size)
        ok = stem_kernel_size % 2 == 1
        check_param("stem_kernel_size", stem_kernel_size, ok, "an odd integer")
        head_size = check_int("head_size", head_size)
        dropout = check_rate("dropout", dropout)
        self.stem = nn.Sequential(
            nn.Conv1d(
                input_spec.channels,
                width,
                stem_kernel_size,
                padding=(stem_kernel_size - 1) // 2,
                bias=False,
            ),
            nn.BatchNorm1d(width),
            nn.ReLU(),
        )
        kernels = (kernel_size, kernel_size // 2 + 1)
        self.blocks = nn.Sequential(*(_WangBlock(width, kernels, s) for s in (1, 2, 2)))
        self.pool_head = ConcatPoolHead(width, head_size, dropout)
        self.head = self._new_head(head_size, num_classes)
        benchmark_init(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool_head(self.blocks(self.stem(x)))


def inception_kernels(kernel_size: int) -> tuple[int, int, int]:
    """The three branch kernels from the benchmark's ``kernel_size`` (8 × 5 = 40 → 39, 19, 9).

    ``8·k``, ``4·k`` and ``2·k``, each made odd by subtracting 1 when even.
    """
    base = 8 * kernel_size
    long, medium, short = (k - 1 if k % 2 == 0 else k for k in (base, base // 2, base // 4))
    return long, medium, short


class _InceptionBlock(nn.Module):
    """Bottleneck 1×1 → three convolutions (long, medium, short kernels) ∥ MaxPool 3 → 1×1;
    the four outputs concatenated → BN → ReLU. Convolutions without bias."""

    def __init__(self, c_in: int, filters: int, kernels: tuple[int, ...], bottleneck: int) -> None:
        super().__init__()
        self.bottleneck = nn.Conv1d(c_in, bottleneck, 1, bias=False)
        self.convs = nn.ModuleList(
            nn.Conv1d(bottleneck, filters, k, padding=(k - 1) // 2, bias=False) for k in kernels
        )
        self.pool_conv = nn.Sequential(
            nn.MaxPool1d(3, stride=1, padding=1), nn.Conv1d(c_in, filters, 1, bias=False)
        )
        self.bn = nn.BatchNorm1d((len(kernels) + 1) * filters)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = self.bottleneck(x)
        out = torch.cat([*(conv(b) for conv in self.convs), self.pool_conv(x)], dim=1)
        return torch.relu(self.bn(out))


@register_model(
    "inception1d",
    paper="ptbxl-ref",
    input_kinds=("ecg12",),
    num_classes=5,
    reference="Strodthoff et al. 2021 (IEEE JBHI), PTB-XL benchmark, inception1d",
)
class Inception1d(_BenchmarkModel):
    """inception1d (PTB-XL benchmark): 6 InceptionTime blocks, residual every 3 → concat-pool head.

    Each block: a 1×1 bottleneck to 32 channels, then convolutions with kernels 39, 19 and 9
    (32 filters each) in parallel with MaxPool 3 → 1×1 convolution (32 filters) on the block's
    input; concatenated (128 channels) → BN → ReLU. After every third block a shortcut
    (1×1 convolution + BN of the input three blocks earlier) is added, then ReLU. Stride 1
    throughout; convolutions without bias. Then :class:`ConcatPoolHead` (256 → 128) and the
    linear head.

    507,653 parameters for 12 leads and 5 classes: blocks 69,632 + 5 × 77,056, shortcuts
    1,792 + 16,640, head MLP 33,664, linear head 645; 1 lead: 505,541. 118 M multiply-accumulates
    per 250-sample 12-lead window (471 M per 1000 samples). Any length ``L >= 1``.

    Parameters
    ----------
    depth : int
        Inception blocks, a multiple of 3 (6).
    kernel_size : int
        Benchmark kernel parameter; branch kernels from :func:`inception_kernels` (5 → 39, 19, 9).
    bottleneck_size : int
        Channels of each block's bottleneck (32).
    num_filters : int
        Filters of each of the four branches (32; blocks output ``4·num_filters``).
    use_residual : bool
        Shortcut every third block (True).
    head_size : int
        Units of the head's hidden layer, the features (128, ``lin_ftrs_head``).
    dropout : float
        Dropout before the head; half of it before the hidden layer (0.5, ``ps_head``).
    """

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        depth: int = 6,
        kernel_size: int = 5,
        bottleneck_size: int = 32,
        num_filters: int = 32,
        use_residual: bool = True,
        head_size: int = 128,
        dropout: float = 0.5,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        depth = check_int("depth", depth)
        check_param("depth", depth, depth % 3 == 0, "a positive multiple of 3")
        kernel_size = check_int("kernel_size", kernel_size)
        bottleneck_size = check_int("bottleneck_size", bottleneck_size)
        num_filters = check_int("num_filters", num_filters)
        check_param("use_residual", use_residual, isinstance(use_residual, bool), "a bool")
        head_size = check_int("head_size", head_size)
        dropout = check_rate("dropout", dropout)
        kernels = inception_kernels(kernel_size)
        width = (len(kernels) + 1) * num_filters
        c_in = input_spec.channels
        self.blocks = nn.ModuleList(
            _InceptionBlock(c_in if d == 0 else width, num_filters, kernels, bottleneck_size)
            for d in range(depth)
        )
        self.use_residual = use_residual
        self.shortcuts = nn.ModuleList()
        if use_residual:
            self.shortcuts.extend(
                nn.Sequential(
                    nn.Conv1d(c_in if i == 0 else width, width, 1, bias=False),
                    nn.BatchNorm1d(width),
                )
                for i in range(depth // 3)
            )
        self.pool_head = ConcatPoolHead(width, head_size, dropout)
        self.head = self._new_head(head_size, num_classes)
        benchmark_init(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        res = x
        for d, block in enumerate(self.blocks):
            x = block(x)
            if self.use_residual and d % 3 == 2:
                x = torch.relu(x + self.shortcuts[d // 3](res))
                res = x
        return self.pool_head(x)
