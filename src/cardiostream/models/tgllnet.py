"""TGLLNet of paper 004 (Yuan et al., IEEE Internet of Things Journal 12(12), 2025).

"Enhancing Multilabel ECG Classification via Task-Guided Lead Correlations": the leads of a
12-lead ECG are the nodes of a graph at every time step (temporal graph construction), graph
convolutions with independently learnable adjacency matrices embed each step's graph at several
levels (residual pyramid graph convolution), and a convolutional network over the sequence of
graph embeddings (temporal context convolution) classifies. Only the abstract is available to
us; the structure of the authors' public code (github.com/rosemary333/TGLLnet) informed the
choices listed in :class:`TGLLNet`. The graph convolution is Chebyshev's (Defferrard et al.
2016, "Convolutional neural networks on graphs with fast localized spectral filtering").
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import check_param
from ._base import ECGModel, InputSpec, check_int, check_rate
from ._registry import register_model

__all__ = ["LearnableChebConv", "TGLLNet"]

#: (channels, stride, dilation) of the residual blocks of the temporal context convolution.
TCC_STAGES: tuple[tuple[int, int, int], ...] = ((64, 1, 1), (128, 2, 2), (128, 1, 4), (256, 2, 1))


class LearnableChebConv(nn.Module):
    """Chebyshev graph convolution (order ``order``) on a graph whose adjacency it learns.

    The layer owns a ``(nodes, nodes)`` weight ``W``; its adjacency is
    ``A = ReLU((W + Wᵀ) / 2)`` with a zero diagonal (symmetric, non-negative edge strengths, as
    in the authors' code), and the graph operator is the rescaled normalised Laplacian with
    ``λ_max ≈ 2``: ``L̃ = -D^{-1/2} A D^{-1/2}``. The output is
    ``ReLU(Σ_k T_k(L̃) X Θ_k + b)`` with ``T_0 = I``, ``T_1 = L̃``, ``T_k = 2 L̃ T_{k-1} - T_{k-2}``.
    ``W`` starts uniform (0.5 plus ±0.05 noise), i.e. every lead connected to every other with
    equal strength, and training reshapes it.

    Input ``(N, nodes, in_features)``, output ``(N, nodes, out_features)``.
    """

    def __init__(self, nodes: int, in_features: int, out_features: int, order: int) -> None:
        super().__init__()
        self.order = order
        self.adj_weight = nn.Parameter(torch.empty(nodes, nodes))
        self.theta = nn.Linear(order * in_features, out_features)
        with torch.no_grad():
            self.adj_weight.uniform_(0.45, 0.55)

    def adjacency(self) -> torch.Tensor:
        """The learnt adjacency ``A`` (``(nodes, nodes)``, symmetric, >= 0, zero diagonal)."""
        w = self.adj_weight
        a = torch.relu(0.5 * (w + w.T))
        return a * (1.0 - torch.eye(w.shape[0], dtype=w.dtype, device=w.device))

    def laplacian(self) -> torch.Tensor:
        """The rescaled normalised Laplacian ``-D^{-1/2} A D^{-1/2}``."""
        a = self.adjacency()
        d = torch.rsqrt(a.sum(dim=1) + 1e-6)
        return -(d[:, None] * a * d[None, :])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lap = self.laplacian()
        terms = [x]
        if self.order > 1:
            terms.append(torch.matmul(lap, x))
        for _ in range(2, self.order):
            terms.append(2.0 * torch.matmul(lap, terms[-1]) - terms[-2])
        return torch.relu(self.theta(torch.cat(terms, dim=-1)))


class TemporalContextBlock(nn.Module):
    """Conv k (stride) → BN → ReLU → Conv k (dilation) → BN → squeeze-excitation, + shortcut, ReLU.

    Squeeze-excitation (Hu et al. 2018) with reduction 4, as in the authors' temporal network.
    """

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int, dilation: int) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.conv1 = nn.Conv1d(c_in, c_out, kernel_size, stride=stride, padding=pad, bias=False)
        self.bn1 = nn.BatchNorm1d(c_out)
        self.conv2 = nn.Conv1d(
            c_out, c_out, kernel_size, padding=pad * dilation, dilation=dilation, bias=False
        )
        self.bn2 = nn.BatchNorm1d(c_out)
        self.se = nn.Sequential(
            nn.Linear(c_out, c_out // 4), nn.ReLU(), nn.Linear(c_out // 4, c_out), nn.Sigmoid()
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv1d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm1d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        y = y * self.se(y.mean(dim=2))[:, :, None]
        return torch.relu(y + self.shortcut(x))


@register_model(
    "tgllnet",
    paper="004",
    input_kinds=("ecg12",),
    num_classes=5,
    reference="paper 004's abstract gives no parameter count",
)
class TGLLNet(ECGModel):
    """TGLLNet (paper 004): temporal lead graphs → residual pyramid GCN → temporal context conv.

    From the paper (abstract): leads are graph nodes and the signal becomes a sequence of graphs
    (temporal graph construction); a residual pyramid of graph convolutions gives multi-level
    graph embeddings, each level with its own independently learnable adjacency matrix; a
    temporal context convolution captures the dependencies between steps.

    From the authors' code, followed here: Chebyshev graph convolutions (order 3) on a learnt,
    symmetrised, ReLU-rectified adjacency without self-loops and the ``λ_max ≈ 2`` Laplacian;
    each graph flattened and mapped by a linear layer to a token; the residual path, a bias-free
    linear map of the raw node features, averaged with the graph embedding; squeeze-excitation
    in the temporal network; LayerNorm on the pooled features before the linear head.

    Our choices. The released configuration (``Mymodel``) builds a graph at every sample with
    the raw value as the only node feature, stacks four Chebyshev layers that share one
    adjacency, and follows them with a large multi-branch CNN; we instead embed each lead's
    5-sample segment into 16 node features (one filter bank shared by all leads, stride 2, so a
    2.5 s crop gives 125 graphs and the graph stage costs half as much), and read "pyramid with
    independently learnable adjacency matrices" as three levels of width 32, each with its own
    adjacency and its own token readout, the step's token being the mean of the level tokens
    and the residual token. The temporal context network is four residual blocks (64, 128
    dilated 2, 128 dilated 4, 256 channels; kernel 5; two with stride 2), then global average
    pooling. With 12 leads and 5 classes it has **1,011,493** parameters:

    - node embedding Conv1d 1→16 k5 stride 2 + BN (128);
    - pyramid levels: Chebyshev convolutions 16→32, 32→32, 32→32, each with its 12×12
      adjacency (1,712 + 3,248 + 3,248), and readouts Linear(12·32 → 64) (3 × 24,640);
      residual Linear(12·16 → 64) (12,288);
    - temporal context blocks (43,344 + 140,192 + 172,704 + 558,912 including SE);
      LayerNorm (512); the 256 features; dropout; linear head (1,285).

    Needs at least 2 leads (the graph's nodes) and ``L >= 16``.

    Parameters
    ----------
    node_features : int
        Features per node (lead) and step (16).
    segment : int
        Samples per lead embedded into one step's node features (5, odd).
    graph_stride : int
        Samples between successive graphs (2).
    graph_hidden : int
        Width of the graph convolutions (32).
    graph_levels : int
        Pyramid levels, each a graph convolution with its own adjacency (3).
    cheb_order : int
        Chebyshev polynomial terms per graph convolution (3).
    token_size : int
        Width of each step's graph embedding, the temporal network's input channels (64).
    kernel_size : int
        Kernel of the temporal context convolutions (5, odd).
    dropout : float
        Dropout before the head (0.2, a guess).
    """

    min_length = 16

    def __init__(
        self,
        *,
        num_classes: int,
        input_spec: InputSpec,
        node_features: int = 16,
        segment: int = 5,
        graph_stride: int = 2,
        graph_hidden: int = 32,
        graph_levels: int = 3,
        cheb_order: int = 3,
        token_size: int = 64,
        kernel_size: int = 5,
        dropout: float = 0.2,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=input_spec)
        nodes = input_spec.channels
        check_param(
            "input_channels", nodes, nodes >= 2, "at least 2 for TGLLNet (leads are graph nodes)"
        )
        node_features = check_int("node_features", node_features)
        segment = check_int("segment", segment)
        check_param("segment", segment, segment % 2 == 1, "an odd number of samples")
        graph_stride = check_int("graph_stride", graph_stride)
        graph_hidden = check_int("graph_hidden", graph_hidden)
        graph_levels = check_int("graph_levels", graph_levels)
        cheb_order = check_int("cheb_order", cheb_order)
        token_size = check_int("token_size", token_size)
        kernel_size = check_int("kernel_size", kernel_size)
        check_param("kernel_size", kernel_size, kernel_size % 2 == 1, "an odd integer")
        dropout = check_rate("dropout", dropout)

        self.embed = nn.Sequential(
            nn.Conv1d(1, node_features, segment, stride=graph_stride, padding=segment // 2),
            nn.BatchNorm1d(node_features),
        )
        self.levels = nn.ModuleList(
            LearnableChebConv(
                nodes, node_features if i == 0 else graph_hidden, graph_hidden, cheb_order
            )
            for i in range(graph_levels)
        )
        self.readouts = nn.ModuleList(
            nn.Linear(nodes * graph_hidden, token_size) for _ in range(graph_levels)
        )
        self.residual = nn.Linear(nodes * node_features, token_size, bias=False)
        blocks: list[nn.Module] = []
        c_in = token_size
        for c_out, stride, dilation in TCC_STAGES:
            blocks.append(TemporalContextBlock(c_in, c_out, kernel_size, stride, dilation))
            c_in = c_out
        self.temporal = nn.Sequential(*blocks)
        self.norm = nn.LayerNorm(c_in)
        self.drop = nn.Dropout(dropout)
        self.head = self._new_head(c_in, num_classes)

    def graphs(self, x: torch.Tensor) -> torch.Tensor:
        """Temporal graph construction: ``(B, C, L)`` → node features ``(B, T, C, F)``."""
        b, c, n = x.shape
        h = self.embed(x.reshape(b * c, 1, n))  # (B·C, F, T)
        return h.reshape(b, c, h.shape[1], h.shape[2]).permute(0, 3, 1, 2)

    def graph_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Residual pyramid graph convolution: ``(B, C, L)`` → step tokens ``(B, token_size, T)``.

        The token of each step is the mean of the residual projection of its node features and
        the readouts of every pyramid level.
        """
        g = self.graphs(x)
        b, t, c, f = g.shape
        h = g.reshape(b * t, c, f)
        tokens = [self.residual(h.reshape(b * t, c * f))]
        for conv, readout in zip(self.levels, self.readouts, strict=True):
            h = conv(h)
            tokens.append(readout(h.reshape(b * t, -1)))
        tok = torch.stack(tokens).mean(dim=0)  # (B·T, D)
        return tok.reshape(b, t, -1).transpose(1, 2)

    def adjacencies(self) -> torch.Tensor:
        """The learnt adjacency of every level, ``(graph_levels, C, C)`` (for inspection)."""
        return torch.stack([conv.adjacency() for conv in self.levels])

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.temporal(self.graph_tokens(x))
        return self.drop(self.norm(h.mean(dim=2)))
