"""Per-layer cost model: parameters, MACs, memory traffic and an energy proxy.

One forward pass of a batch-1 example, with hooks on the model's leaf modules, gives one
:class:`LayerCost` per leaf module that has parameters or multiply-accumulates (MACs). Profiling
(:mod:`cardiostream.edge.profile`) reports them; energy-aware pruning (paper 002's importance
``I = α|w| + (1 − α) E_l / max(E)``) reads ``energy_pj`` per layer.

What is counted as a MAC (one multiply and one add):

* ``Conv1d/2d/3d``: ``output positions × out_channels × in_channels / groups × kernel`` (grouped
  and depthwise convolutions included, bias adds not); transposed convolutions
  ``input positions × weight size``.
* ``Linear`` (and subclasses such as BeatNet's masked head): ``tokens × in × out``.
* ``LSTM`` / ``GRU`` / ``RNN`` (torch's, and the Keras-layout :class:`KerasLSTM` of
  ``models/_layers.py``): per time step, direction and layer, one MAC per element of every
  weight matrix (``weight_ih``: gates·H × input, ``weight_hh``: gates·H × H, ``weight_hr`` when
  projected), plus the gates' element-wise products (LSTM: f⊙c, i⊙g, o⊙tanh c; GRU:
  r⊙(W h), (1 − z)⊙n, z⊙h; 3·H per step). Non-linearities are not counted.
* ``MultiheadAttention`` (one row for the whole module, its ``out_proj`` included): the Q, K, V
  and output projections, and the two attention products ``QKᵀ`` and ``AV``
  (``2 · L_q · L_k · E``). A call of :func:`torch.nn.functional.scaled_dot_product_attention`,
  :func:`torch.matmul`, ``@`` or :func:`torch.bmm` inside a module that is not a leaf is
  counted on that module's row (kind ``<class>:functional``), so hand-written attention is seen.
* Our additive :class:`~cardiostream.models._layers.AttentionPooling`: its two ``Linear``
  layers are rows of their own; the weighted sum ``Σ_t α_t h_t`` (``T · F`` MACs) is the row of
  the pooling module itself.
* Normalisation layers (``BatchNorm``, ``LayerNorm``, ``GroupNorm``): **one MAC per output
  element**, the scale-and-shift left once the statistics are folded. (At inference a
  ``BatchNorm`` after a convolution folds into it entirely; ONNX Runtime and the TFLite
  converter do so, and the microcontroller estimate of :mod:`.profile` leaves these MACs out.)
* Activations, pooling, residual additions, reshapes and concatenations: no MACs, no row.

``effective_macs`` assumes unstructured sparsity is exploited, as paper 002's energy proxy does:
each weight's MACs count only when the weight is non-zero (for a convolution this is
``macs × nonzero / params`` of its weight). Attention products and element-wise terms are
activation-by-activation, so sparsity leaves them unchanged. Weights read through
``torch.nn.utils.prune`` (``weight_orig × weight_mask``) or a ``mask`` buffer (BeatNet's head)
are counted as the model uses them.

Energy proxy (Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC
2014, table of energies at 45 nm and 0.9 V):

    ``energy = effective_macs × E_mac + (nonzero weight bytes + activation bytes) × E_byte``

where the activation bytes are the layer's input and output.

* ``E_mac``: fp32 multiply 3.7 pJ + fp32 add 0.9 pJ = 4.6 pJ; int8 multiply 0.2 pJ + int8
  add 0.03 pJ = 0.23 pJ (:data:`MAC_ENERGY_PJ`).
* ``E_byte``: a 64-bit (8-byte) SRAM cache read costs 10 pJ (8 KB array), 20 pJ (32 KB) or
  100 pJ (1 MB); DRAM 1.3–2.6 nJ (:data:`MEMORY_ENERGY_PJ_PER_BYTE` divides by 8 bytes, DRAM at
  the midpoint 1.95 nJ). The default ``"sram32k"`` (2.5 pJ per byte) models a wearable
  microcontroller reading weights and activations from on-chip memory of tens to hundreds of
  KB, which has no DRAM; the 8 KB and 1 MB entries bracket it.
* bytes are counted at the element size of ``dtype`` (4 for fp32, 1 for int8); sparse weights
  are charged their non-zero values only (index overhead ignored); each layer reads its input
  and writes its output once. Memory traffic of layers without a row (activations, pooling)
  is not counted.

The proxy ranks layers and compares compressed variants of one model; it is not a measurement
of any device.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ..errors import InvalidParameterError, check_param

__all__ = [
    "DTYPE_BYTES",
    "MAC_ENERGY_PJ",
    "MEMORY_ENERGY_PJ_PER_BYTE",
    "LayerCost",
    "example_input",
    "layer_costs",
    "total_energy_pj",
]

#: Energy of one multiply-accumulate in pJ (Horowitz 2014, 45 nm): multiply + add.
MAC_ENERGY_PJ: dict[str, float] = {"fp32": 3.7 + 0.9, "int8": 0.2 + 0.03}
#: Bytes per element of weights and activations.
DTYPE_BYTES: dict[str, int] = {"fp32": 4, "int8": 1}
#: Energy of reading one byte, pJ: Horowitz 2014's 64-bit access energies divided by 8 bytes.
MEMORY_ENERGY_PJ_PER_BYTE: dict[str, float] = {
    "sram8k": 10.0 / 8,
    "sram32k": 20.0 / 8,
    "sram1m": 100.0 / 8,
    "dram": 1950.0 / 8,
}
DEFAULT_MEMORY = "sram32k"

_NORMS = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm, nn.InstanceNorm1d)


@dataclass(frozen=True)
class LayerCost:
    """Costs of one module for one example (batch 1).

    Attributes
    ----------
    name : str
        Qualified name as in ``model.named_modules()`` (``""`` for the model itself).
    kind : str
        The module's class name (``"<class>:functional"`` for matrix products in the module's
        own ``forward``).
    params : int
        Parameters of the module (its own; a ``MultiheadAttention`` row includes ``out_proj``).
    nonzero_params : int
        Of those, non-zero as the model uses them (pruning masks applied).
    macs : int
        Dense multiply-accumulates for this example.
    effective_macs : int
        MACs whose weight is non-zero (unstructured sparsity exploited, as in paper 002).
    input_bytes, output_bytes : int
        Activations read and written, at the element size of ``dtype``.
    weight_bytes : int
        ``params`` at the element size of ``dtype`` (4 bytes each for the default fp32).
    energy_pj : float
        The energy proxy of the module docstring, pJ.
    """

    name: str
    kind: str
    params: int
    nonzero_params: int
    macs: int
    effective_macs: int
    input_bytes: int
    output_bytes: int
    weight_bytes: int
    energy_pj: float

    @property
    def sparsity(self) -> float:
        """Fraction of zero parameters (0 for a layer without parameters)."""
        return 1.0 - self.nonzero_params / self.params if self.params else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return dict(self.__dict__)


def total_energy_pj(costs: Sequence[LayerCost]) -> float:
    """Sum of the layers' energy proxies, pJ."""
    return float(sum(c.energy_pj for c in costs))


def example_input(model: nn.Module, *, seed: int = 0) -> torch.Tensor:
    """A seeded standard-normal example ``(1, channels, length)`` from ``model.input_spec``.

    Works for every registered torch model (the shape comes from the declared input, not from
    any dataset's metadata); on the device and dtype of the model's parameters.
    """
    spec = getattr(model, "input_spec", None)
    if spec is None:
        raise InvalidParameterError(
            "The 'model' parameter must have an input_spec (a cardiostream ECGModel), got "
            f"{type(model).__name__} instead."
        )
    p = next(model.parameters(), None)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, *spec.shape, generator=g)
    if p is not None:
        x = x.to(device=p.device, dtype=p.dtype)
    return x


# -- counting ------------------------------------------------------------------------------


@dataclass
class _Acc:
    """Accumulated counts of one row (a module may run more than once)."""

    kind: str
    weight_uses: list[tuple[torch.Tensor, int]] = field(default_factory=list)
    other_macs: int = 0
    in_elems: int = 0
    out_elems: int = 0


def _tensors(obj: object) -> Iterator[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, list | tuple):
        for o in obj:
            yield from _tensors(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors(o)


def _numel(obj: object) -> int:
    return sum(t.numel() for t in _tensors(obj))


def _effective(module: nn.Module, pname: str) -> torch.Tensor:
    """The weight as the forward pass uses it: pruning re-parametrisation and masks applied."""
    base = pname[: -len("_orig")] if pname.endswith("_orig") else pname
    t = getattr(module, base, None)
    if not isinstance(t, torch.Tensor):
        t = getattr(module, pname)
    mask = getattr(module, "mask", None)
    if base == "weight" and isinstance(mask, torch.Tensor) and mask.shape == t.shape:
        t = t * mask
    return t.detach()


def _conv(m: nn.Module, args: tuple, out: torch.Tensor, acc: _Acc) -> None:
    w = _effective(m, "weight")
    if isinstance(m, nn.modules.conv._ConvTransposeNd):
        x = args[0]
        positions = x.numel() // m.in_channels
    else:
        positions = out.numel() // m.out_channels
    acc.weight_uses.append((w, positions))


def _linear(m: nn.Module, args: tuple, out: torch.Tensor, acc: _Acc) -> None:
    w = _effective(m, "weight")
    acc.weight_uses.append((w, args[0].numel() // w.shape[1]))


def _norm(m: nn.Module, args: tuple, out: torch.Tensor, acc: _Acc) -> None:
    acc.other_macs += out.numel()


def _rnn_steps(m: nn.Module, x: torch.Tensor) -> int:
    """Time steps × batch of an RNN input."""
    if isinstance(x, nn.utils.rnn.PackedSequence):
        return int(x.data.shape[0])
    if x.dim() == 2:  # unbatched (T, D)
        return int(x.shape[0])
    return int(x.shape[0] * x.shape[1])


def _rnn(m: nn.Module, args: tuple, out: object, acc: _Acc) -> None:
    steps = _rnn_steps(m, args[0])
    hidden = int(m.hidden_size)
    n_cells = 0
    for pname, _ in m.named_parameters(recurse=False):
        base = pname[: -len("_orig")] if pname.endswith("_orig") else pname
        if base.startswith(("weight_ih", "weight_hh", "weight_hr")):
            acc.weight_uses.append((_effective(m, pname), steps))
            n_cells += base.startswith("weight_ih")
    gates_products = {"LSTM": 3, "GRU": 3}.get(getattr(m, "mode", "LSTM"), 0)
    if not isinstance(m, nn.RNNBase):  # KerasLSTM
        gates_products = 3
    acc.other_macs += gates_products * hidden * steps * n_cells


def _mha(m: nn.Module, args: tuple, kwargs: dict, out: object, acc: _Acc) -> None:
    names = ("query", "key", "value")
    q, k = (args[i] if len(args) > i else kwargs[n] for i, n in enumerate(names[:2]))
    if q.dim() == 2:  # unbatched (L, E)
        n, lq, lk = 1, q.shape[0], k.shape[0]
    elif m.batch_first:
        n, lq, lk = q.shape[0], q.shape[1], k.shape[1]
    else:
        n, lq, lk = q.shape[1], q.shape[0], k.shape[0]
    e = m.embed_dim
    if m.in_proj_weight is not None:
        w = _effective(m, "in_proj_weight")
        acc.weight_uses += [(w[:e], n * lq), (w[e : 2 * e], n * lk), (w[2 * e :], n * lk)]
    else:
        acc.weight_uses += [
            (_effective(m, "q_proj_weight"), n * lq),
            (_effective(m, "k_proj_weight"), n * lk),
            (_effective(m, "v_proj_weight"), n * lk),
        ]
    acc.weight_uses.append((_effective(m.out_proj, "weight"), n * lq))
    acc.other_macs += 2 * n * lq * lk * e


def _attention_pooling(m: nn.Module, args: tuple, out: torch.Tensor, acc: _Acc) -> None:
    acc.other_macs += args[0].numel()  # Σ_t α_t h_t: one MAC per element of h


def _handler(m: nn.Module) -> Callable[..., None] | None:
    from ..models._layers import AttentionPooling, KerasLSTM

    if isinstance(m, nn.modules.conv._ConvNd):
        return _conv
    if isinstance(m, nn.Linear):
        return _linear
    if isinstance(m, _NORMS):
        return _norm
    if isinstance(m, nn.RNNBase | KerasLSTM):
        return _rnn
    if isinstance(m, AttentionPooling):
        return _attention_pooling
    return None


def _matmul_macs(func: Callable[..., Any], args: tuple, kwargs: dict, out: object) -> int:
    """MACs of a functional matrix product (0 for anything else)."""
    f = torch.nn.functional
    if func is f.scaled_dot_product_attention:
        q, k, v = (args + (None,) * 3)[:3]
        q = q if q is not None else kwargs["query"]
        k = k if k is not None else kwargs["key"]
        v = v if v is not None else kwargs["value"]
        lead = math.prod(q.shape[:-2])
        return int(lead * q.shape[-2] * k.shape[-2] * (q.shape[-1] + v.shape[-1]))
    products = (torch.matmul, torch.Tensor.matmul, torch.Tensor.__matmul__, torch.bmm, torch.mm)
    if func in products and isinstance(out, torch.Tensor) and isinstance(args[0], torch.Tensor):
        return int(out.numel() * args[0].shape[-1])
    if func in (torch.baddbmm, torch.addmm) and isinstance(out, torch.Tensor):
        return int(out.numel() * args[1].shape[-1])
    return 0


class _FunctionalCounter(TorchFunctionMode):
    """Counts matrix products called from a non-leaf module's own ``forward``."""

    def __init__(
        self, stack: list[str], units: set[str], record: Callable[[str, int], None]
    ) -> None:
        super().__init__()
        self.stack, self.units, self.record = stack, units, record

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[override]
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if self.stack and not (set(self.stack) & self.units):
            macs = _matmul_macs(func, args, kwargs, out)
            if macs:
                self.record(self.stack[-1], macs)
        return out


def _check_choice(name: str, value: object, choices: dict[str, Any]) -> None:
    check_param(name, value, isinstance(value, str) and value in choices, f"one of {list(choices)}")


def layer_costs(
    model: nn.Module,
    example: torch.Tensor,
    *,
    dtype: str = "fp32",
    memory: str = DEFAULT_MEMORY,
) -> tuple[LayerCost, ...]:
    """Per-layer costs of ``model`` on one example (module docstring for what is counted).

    Parameters
    ----------
    model : nn.Module
        Run in eval mode without gradients; its train/eval mode is restored afterwards.
    example : Tensor
        An input batch; only its first example is used (counts are per example).
    dtype : {"fp32", "int8"}
        Element size of weights and activations and the MAC energy.
    memory : {"sram8k", "sram32k", "sram1m", "dram"}
        Memory level of :data:`MEMORY_ENERGY_PJ_PER_BYTE` every byte is read from.

    Returns
    -------
    tuple of LayerCost
        One row per leaf module with parameters or MACs (a ``MultiheadAttention`` is one row;
        a non-leaf module with MACs of its own, e.g. attention pooling, has its own row), in
        the order the forward pass first reaches them; modules never called come last.
    """
    if not isinstance(model, nn.Module):
        raise InvalidParameterError(
            f"The 'model' parameter must be a torch nn.Module, got {type(model).__name__} instead."
        )
    ok = isinstance(example, torch.Tensor) and example.dim() >= 1 and example.shape[0] >= 1
    check_param("example", getattr(example, "shape", example), ok, "a tensor with a batch axis")
    _check_choice("dtype", dtype, DTYPE_BYTES)
    _check_choice("memory", memory, MEMORY_ENERGY_PJ_PER_BYTE)

    modules = dict(model.named_modules())
    kinds = {name: type(m).__name__ for name, m in modules.items()}
    units: set[str] = set()  # rows whose submodules are not counted separately
    skip: set[str] = set()
    for name, m in modules.items():
        if any(name.startswith(u + ".") for u in units):
            skip.add(name)
        elif isinstance(m, nn.MultiheadAttention) or not any(True for _ in m.children()):
            units.add(name)
    accs: dict[str, _Acc] = {}
    order: list[str] = []
    stack: list[str] = []
    handles = []

    def pre_hook(name: str) -> Callable[..., None]:
        def hook(mod: nn.Module, args: tuple) -> None:
            stack.append(name)

        return hook

    def post_hook(name: str) -> Callable[..., None]:
        def hook(mod: nn.Module, args: tuple, kwargs: dict, out: object) -> None:
            stack.pop()
            handler = _handler(mod)
            is_mha = isinstance(mod, nn.MultiheadAttention)
            if name in skip or (handler is None and not is_mha and name not in units):
                return
            acc = accs.setdefault(name, _Acc(kinds[name]))
            if name not in order:
                order.append(name)
            if name in units:
                acc.in_elems += _numel(args) + _numel(kwargs)
                acc.out_elems += _numel(out)
            if is_mha:
                _mha(mod, args, kwargs, out, acc)
            elif handler is not None:
                handler(mod, args, out, acc)

        return hook

    def record_functional(name: str, macs: int) -> None:
        acc = accs.setdefault(name, _Acc(f"{kinds[name]}:functional"))
        acc.other_macs += macs
        if name not in order:
            order.append(name)

    for name, m in modules.items():
        handles.append(m.register_forward_pre_hook(pre_hook(name)))
        handles.append(m.register_forward_hook(post_hook(name), with_kwargs=True))
    was_training = model.training
    p = next(model.parameters(), None)
    x = example[:1]
    if p is not None:
        x = x.to(device=p.device, dtype=p.dtype)
    try:
        model.eval()
        with torch.no_grad(), _FunctionalCounter(stack, units, record_functional):
            model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)

    nbytes = DTYPE_BYTES[dtype]
    e_mac, e_byte = MAC_ENERGY_PJ[dtype], MEMORY_ENERGY_PJ_PER_BYTE[memory]
    rows: list[LayerCost] = []
    rest = [n for n, m in modules.items() if n not in accs and n not in skip]
    for name in order + rest:
        m = modules[name]
        acc = accs.get(name) or _Acc(kinds[name])
        # a row's parameters are the module's own (a MultiheadAttention's include out_proj)
        params_list = list(m.named_parameters(recurse=isinstance(m, nn.MultiheadAttention)))
        params = sum(t.numel() for _, t in params_list)
        nonzero = 0
        for pname, _ in params_list:
            owner, leaf = m, pname
            if "." in pname:
                prefix, leaf = pname.rsplit(".", 1)
                owner = m.get_submodule(prefix)
            nonzero += int(torch.count_nonzero(_effective(owner, leaf)))
        dense = sum(t.numel() * uses for t, uses in acc.weight_uses) + acc.other_macs
        eff = sum(int(torch.count_nonzero(t)) * uses for t, uses in acc.weight_uses)
        eff += acc.other_macs
        if params == 0 and dense == 0:
            continue
        in_b, out_b = acc.in_elems * nbytes, acc.out_elems * nbytes
        energy = eff * e_mac + (nonzero * nbytes + in_b + out_b) * e_byte
        rows.append(
            LayerCost(
                name=name,
                kind=acc.kind,
                params=int(params),
                nonzero_params=int(nonzero),
                macs=int(dense),
                effective_macs=int(eff),
                input_bytes=int(in_b),
                output_bytes=int(out_b),
                weight_bytes=int(params * nbytes),
                energy_pj=float(energy),
            )
        )
    return tuple(rows)
