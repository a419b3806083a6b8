"""Structured (filter / channel) pruning that builds a genuinely smaller dense model.

Unstructured sparsity (:mod:`.prune`) leaves tensor shapes, and so CPU latency, unchanged.
Here whole output channels of ``Conv1d`` layers are removed: the filters, their bias, the
batch-normalisation entries of those channels, the matching input channels of every layer that
reads them (and the channels of depthwise convolutions in between), so the result is a smaller
ordinary model with fewer MACs and a lower latency.

Channels are ranked by the L1 norm of their filters, ``Σ|W_{o,:,:}|`` (Li, Kadav, Durdanovic,
Samet & Graf, "Pruning filters for efficient ConvNets", ICLR 2017). Channels that must be
removed together form a :class:`ChannelGroup`; in a residual stage the block outputs, the
projection shortcut and the stage input are added channel by channel, so the whole stream is
one group, ranked by the sum of its producers' filter norms (the coupled-channel rule of
structured pruning tools such as torch-pruning's dependency graph, Fang et al., CVPR 2023).

Topologies described (:func:`channel_groups`; any other model raises
:class:`~cardiostream.errors.InvalidParameterError` naming the supported ones):

* ``cnn1d`` (:class:`~cardiostream.models.cnn.CNN1D`): one group per convolution block,
  ``features.0``, ``features.4``, ``features.8``, ``features.12``; the last feeds the head.
* ``resnet1d_attn`` (:class:`~cardiostream.models.resnet.ResNet1DAttention`): the inner
  channels of every basic block (``blocks.<i>.conv1``) and one group per residual stream
  (``stage1`` = stem and identity blocks, ``stage2``, ``stage3`` start at each projection
  shortcut); the last stream feeds the attention pooling and the dense layer.
* ``ecg_student`` (:class:`~cardiostream.models.student.ECGStudent`): the stem and each
  pointwise convolution (``features.<i>``); the following depthwise convolution keeps one
  filter per surviving channel.

**How a smaller architecture is rebuilt.** A checkpoint must rebuild its model with
``create_model(**model_config)``. Each supported model ``<name>`` therefore has a registered
variant ``<name>_pruned`` (``cnn1d_pruned``, ``resnet1d_attn_pruned``, ``ecg_student_pruned``)
that takes the base model's hyperparameters plus ``widths``, a mapping from group name to the
number of channels kept (None: the base widths). The variant is a subclass of the base class
whose constructor builds the base layers and then narrows the listed groups, so its state-dict
keys are the base model's and ``cardiostream evaluate`` / ``load_checkpoint`` work unchanged.
We chose this over adding a width hyperparameter to every model class: it touches no model
file, works for any topology described here, and a stored per-group width list is exactly what
a pruned model needs. ``cardiostream.models`` imports this module (last) so the variants are
registered wherever models are; it imports only submodules of ``cardiostream.models``.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..errors import InvalidParameterError, check_param
from ..models._base import ECGModel
from ..models._factory import create_model
from ..models._registry import model_info, register_model
from ..models.cnn import CNN1D
from ..models.resnet import BasicBlock1d, ResNet1DAttention
from ..models.student import ECGStudent

__all__ = [
    "PRUNED_SUFFIX",
    "SUPPORTED_MODELS",
    "ChannelGroup",
    "base_name",
    "channel_groups",
    "filter_importance",
    "group_widths",
    "prune_channels",
    "select_channels",
    "target_widths",
]

#: Registry suffix of the structurally pruned variants.
PRUNED_SUFFIX = "_pruned"
#: Registry names whose topology is described (each has a ``<name>_pruned`` variant).
SUPPORTED_MODELS: tuple[str, ...] = ("cnn1d", "resnet1d_attn", "ecg_student")


@dataclass(frozen=True)
class ChannelGroup:
    """Channels that are kept or removed together.

    Attributes
    ----------
    name : str
        Key of the group in ``widths``.
    producers : tuple of str
        ``Conv1d`` layers whose output channels are the group's (their filters are ranked).
    norms : tuple of str
        ``BatchNorm1d`` layers normalising those channels.
    passthrough : tuple of str
        Depthwise ``Conv1d`` layers (``groups == channels``) mapping the group's channels one to
        one; they keep one filter per surviving channel.
    consumers : tuple of str
        ``Conv1d`` / ``Linear`` layers reading the group's channels as input.
    size : int
        Current number of channels.
    """

    name: str
    producers: tuple[str, ...]
    norms: tuple[str, ...]
    passthrough: tuple[str, ...]
    consumers: tuple[str, ...]
    size: int


def _conv(model: nn.Module, name: str) -> nn.Conv1d:
    m = model.get_submodule(name)
    if type(m) is not nn.Conv1d:
        raise InvalidParameterError(f"Expected a Conv1d at {name!r}, found {type(m).__name__}.")
    return m


def _cnn1d_groups(model: CNN1D) -> list[ChannelGroup]:
    convs = [f"features.{i}" for i, m in enumerate(model.features) if isinstance(m, nn.Conv1d)]
    out = []
    for j, name in enumerate(convs):
        i = int(name.split(".")[1])
        nxt = convs[j + 1] if j + 1 < len(convs) else "head"
        out.append(
            ChannelGroup(
                name, (name,), (f"features.{i + 1}",), (), (nxt,), _conv(model, name).out_channels
            )
        )
    return out


def _resnet_groups(model: ResNet1DAttention) -> list[ChannelGroup]:
    streams: list[dict[str, list[str]]] = [
        {"producers": ["stem.0"], "norms": ["stem.1"], "consumers": []}
    ]
    inner: list[ChannelGroup] = []
    for i, block in enumerate(model.blocks):
        if not isinstance(block, BasicBlock1d):
            raise InvalidParameterError(f"Expected a BasicBlock1d at 'blocks.{i}'.")
        p = f"blocks.{i}"
        inner.append(
            ChannelGroup(
                f"{p}.conv1",
                (f"{p}.conv1",),
                (f"{p}.bn1",),
                (),
                (f"{p}.conv2",),
                block.conv1.out_channels,
            )
        )
        streams[-1]["consumers"].append(f"{p}.conv1")
        if isinstance(block.shortcut, nn.Identity):
            streams[-1]["producers"].append(f"{p}.conv2")
            streams[-1]["norms"].append(f"{p}.bn2")
        else:
            streams[-1]["consumers"].append(f"{p}.shortcut.0")
            streams.append(
                {
                    "producers": [f"{p}.conv2", f"{p}.shortcut.0"],
                    "norms": [f"{p}.bn2", f"{p}.shortcut.1"],
                    "consumers": [],
                }
            )
    streams[-1]["consumers"] += ["attn.proj", "dense.0"]
    out = [
        ChannelGroup(
            f"stage{k + 1}",
            tuple(s["producers"]),
            tuple(s["norms"]),
            (),
            tuple(s["consumers"]),
            _conv(model, s["producers"][0]).out_channels,
        )
        for k, s in enumerate(streams)
    ]
    return out + inner


def _student_groups(model: ECGStudent) -> list[ChannelGroup]:
    seq = [f"features.{i}" for i in range(len(model.features))]
    dense = [n for n in seq if _conv(model, f"{n}.0").groups == 1]
    out = []
    for n in dense:
        i = int(n.split(".")[1])
        dw = f"features.{i + 1}" if i + 1 < len(seq) else None
        if dw is not None and _conv(model, f"{dw}.0").groups == 1:
            raise InvalidParameterError(f"Expected a depthwise convolution at {dw!r}.")
        consumer = f"features.{i + 2}.0" if i + 2 < len(seq) else "head"
        out.append(
            ChannelGroup(
                n,
                (f"{n}.0",),
                (f"{n}.1",),
                (f"{dw}.0",) if dw else (),
                (consumer,),
                _conv(model, f"{n}.0").out_channels,
            )
        )
    # the depthwise convolutions' own BN follows them channel by channel
    return [
        ChannelGroup(
            g.name,
            g.producers,
            g.norms + tuple(p[:-2] + ".1" for p in g.passthrough),
            g.passthrough,
            g.consumers,
            g.size,
        )
        for g in out
    ]


def channel_groups(model: nn.Module) -> tuple[ChannelGroup, ...]:
    """The channel groups of ``model`` (module docstring); unsupported models raise."""
    if isinstance(model, ResNet1DAttention):
        return tuple(_resnet_groups(model))
    if isinstance(model, ECGStudent):
        return tuple(_student_groups(model))
    if isinstance(model, CNN1D):
        return tuple(_cnn1d_groups(model))
    raise InvalidParameterError(
        f"Structured pruning supports the models {list(SUPPORTED_MODELS)} (and their "
        f"'{PRUNED_SUFFIX}' variants); the 'model' parameter is a {type(model).__name__}, "
        "whose channel dependencies are not described. Use unstructured pruning (method 'l1' "
        "or 'energy') for it."
    )


def group_widths(model: nn.Module) -> dict[str, int]:
    """Current channels of every group of ``model``."""
    return {g.name: g.size for g in channel_groups(model)}


@torch.no_grad()
def filter_importance(model: nn.Module) -> dict[str, torch.Tensor]:
    """L1 norm of each channel's filters (Li et al. 2017), summed over the group's producers."""
    out = {}
    for g in channel_groups(model):
        score = torch.zeros(g.size)
        for name in g.producers:
            w = _conv(model, name).weight.detach().float().cpu()
            score += w.abs().sum(dim=(1, 2))
        out[g.name] = score
    return out


def target_widths(
    widths: Mapping[str, int], ratio: float, *, min_channels: int = 1
) -> dict[str, int]:
    """``max(min_channels, round(w·(1 − ratio)))`` channels of every group (``ratio`` removed)."""
    ok = isinstance(ratio, int | float) and not isinstance(ratio, bool) and 0 <= ratio < 1
    check_param("sparsity", ratio, ok, "a fraction of channels in [0, 1)")
    check_param(
        "min_channels",
        min_channels,
        isinstance(min_channels, int) and min_channels >= 1,
        "an int >= 1",
    )
    return {g: min(w, max(min_channels, round(w * (1.0 - ratio)))) for g, w in widths.items()}


def select_channels(model: nn.Module, widths: Mapping[str, int]) -> dict[str, torch.Tensor]:
    """Indices (ascending) of the ``widths[g]`` channels of largest filter L1 norm per group.

    Groups not in ``widths`` keep every channel; ties go to the lower index.
    """
    groups = {g.name: g for g in channel_groups(model)}
    _check_widths(widths, groups)
    scores = filter_importance(model)
    keep = {}
    for name, g in groups.items():
        n = int(widths.get(name, g.size))
        order = torch.argsort(-scores[name], stable=True)[:n]
        keep[name] = torch.sort(order).values
    return keep


def _check_widths(widths: object, groups: Mapping[str, ChannelGroup]) -> None:
    ok = isinstance(widths, Mapping) and all(
        isinstance(k, str)
        and k in groups
        and isinstance(v, int)
        and not isinstance(v, bool)
        and 1 <= v <= groups[k].size
        for k, v in widths.items()
    )
    sizes = {k: g.size for k, g in groups.items()}
    check_param("widths", widths, ok, f"a mapping from channel groups to 1..size, sizes {sizes}")


def _index_maps(
    groups: Sequence[ChannelGroup], keep: Mapping[str, torch.Tensor]
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    out_idx: dict[str, torch.Tensor] = {}
    in_idx: dict[str, torch.Tensor] = {}
    for g in groups:
        idx = keep[g.name]
        for n in (*g.producers, *g.norms, *g.passthrough):
            out_idx[n] = idx
        for n in (*g.passthrough, *g.consumers):
            in_idx[n] = idx
    return out_idx, in_idx


def _sliced(m: nn.Module, out_idx: torch.Tensor | None, in_idx: torch.Tensor | None) -> nn.Module:
    """A new module like ``m`` keeping output channels ``out_idx`` and inputs ``in_idx``."""
    if type(m) is nn.Conv1d:
        depthwise = m.groups > 1
        if depthwise and (m.groups != m.in_channels or m.groups != m.out_channels):
            raise InvalidParameterError("Only plain and depthwise Conv1d layers can be narrowed.")
        c_out = len(out_idx) if out_idx is not None else m.out_channels
        c_in = len(in_idx) if in_idx is not None else m.in_channels
        new = nn.Conv1d(
            c_in,
            c_out,
            m.kernel_size,
            stride=m.stride,
            padding=m.padding,
            dilation=m.dilation,
            groups=c_out if depthwise else 1,
            bias=m.bias is not None,
            padding_mode=m.padding_mode,
        )
        w = m.weight.detach()
        if out_idx is not None:
            w = w[out_idx]
        if in_idx is not None and not depthwise:
            w = w[:, in_idx]
        new.weight.data.copy_(w)
        if m.bias is not None:
            b = m.bias.detach()
            new.bias.data.copy_(b[out_idx] if out_idx is not None else b)  # type: ignore[union-attr]
        return new.to(device=m.weight.device, dtype=m.weight.dtype)
    if type(m) is nn.BatchNorm1d:
        idx = out_idx if out_idx is not None else torch.arange(m.num_features)
        new = nn.BatchNorm1d(
            len(idx),
            eps=m.eps,
            momentum=m.momentum,
            affine=m.affine,
            track_running_stats=m.track_running_stats,
        )
        for pname in ("weight", "bias", "running_mean", "running_var"):
            src = getattr(m, pname)
            if src is not None:
                getattr(new, pname).data.copy_(src.detach()[idx])
        if m.num_batches_tracked is not None:
            new.num_batches_tracked.data.copy_(m.num_batches_tracked)
        ref = next(iter(m.buffers()), None) if m.weight is None else m.weight
        return new.to(device=ref.device) if ref is not None else new
    if type(m) is nn.Linear:
        c_in = len(in_idx) if in_idx is not None else m.in_features
        new = nn.Linear(c_in, m.out_features, bias=m.bias is not None)
        w = m.weight.detach()
        new.weight.data.copy_(w[:, in_idx] if in_idx is not None else w)
        if m.bias is not None:
            new.bias.data.copy_(m.bias.detach())  # type: ignore[union-attr]
        return new.to(device=m.weight.device, dtype=m.weight.dtype)
    raise InvalidParameterError(
        f"Structured pruning cannot narrow a {type(m).__name__} layer (Conv1d, BatchNorm1d and "
        "Linear only)."
    )


@torch.no_grad()
def _narrow_in_place(model: nn.Module, keep: Mapping[str, torch.Tensor]) -> None:
    """Replace the layers of every group in ``keep`` by narrowed copies keeping those indices."""
    groups = [g for g in channel_groups(model) if g.name in keep]
    out_idx, in_idx = _index_maps(groups, keep)
    for name in dict.fromkeys([*out_idx, *in_idx]):
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        old = model.get_submodule(name)
        setattr(parent, child, _sliced(old, out_idx.get(name), in_idx.get(name)))


def base_name(model: ECGModel) -> str:
    """Registry name of the unpruned architecture of ``model`` (``_pruned`` stripped)."""
    name = str(model.model_config()["name"])
    return name[: -len(PRUNED_SUFFIX)] if name.endswith(PRUNED_SUFFIX) else name


def prune_channels(model: ECGModel, widths: Mapping[str, int]) -> ECGModel:
    """A new, smaller ``<base>_pruned`` model keeping the strongest channels of each group.

    Parameters
    ----------
    model : ECGModel
        A supported model or a ``_pruned`` variant built by ``create_model`` (left unchanged).
    widths : Mapping of str to int
        Channels to keep per group (:func:`group_widths` names them); absent groups keep all.
        Channels are chosen by :func:`select_channels` (filter L1 norm).

    Returns
    -------
    ECGModel
        Built by ``create_model("<base>_pruned", widths=...)`` (so its ``model_config``
        rebuilds it) and holding the kept weights, batch-norm statistics included; in the
        train/eval mode of ``model``.
    """
    keep = select_channels(model, widths)
    work = copy.deepcopy(model)
    _narrow_in_place(work, keep)
    config = dict(model.model_config())
    config.pop("name")
    config["widths"] = {k: int(v.numel()) for k, v in keep.items()}
    new = create_model(base_name(model) + PRUNED_SUFFIX, **config)
    if not isinstance(new, ECGModel):  # the variants registered here are torch models
        raise InvalidParameterError(f"{base_name(model)!r} has no torch pruned variant.")
    new.load_state_dict(work.state_dict(), strict=True)
    p = next(model.parameters())
    return new.to(device=p.device, dtype=p.dtype).train(model.training)


def _pruned_variant(name: str) -> type:
    """Create and register ``<name>_pruned`` (module docstring)."""
    info = model_info(name)
    base_cls = info.cls

    def __init__(self: Any, *, widths: Mapping[str, int] | None = None, **kwargs: Any) -> None:
        base_cls.__init__(self, **kwargs)
        if widths is not None:
            groups = {g.name: g for g in channel_groups(self)}
            _check_widths(widths, groups)
            _narrow_in_place(self, {k: torch.arange(int(v)) for k, v in widths.items()})

    sig = inspect.signature(base_cls.__init__)
    widths_param = inspect.Parameter(
        "widths", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="Mapping | None"
    )
    __init__.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=[*sig.parameters.values(), widths_param]
    )
    doc = (
        f"{base_cls.__name__} with channels removed by structured pruning (``{name}`` with "
        "``widths``: channels kept per group, cardiostream.edge.structured).\n\n"
        "Parameters\n----------\nwidths : Mapping of str to int or None\n"
        f"    Channels kept in each group of :func:`channel_groups`; None: ``{name}``'s widths.\n"
    )
    cls = type(
        f"{base_cls.__name__}Pruned",
        (base_cls,),
        {"__init__": __init__, "__doc__": doc, "__module__": __name__},
    )
    register_model(
        name + PRUNED_SUFFIX,
        paper="ours",
        input_kinds=info.input_kinds,
        num_classes=info.default_num_classes,
        fixed=dict(info.fixed),
        reference=f"{name} after structured channel pruning",
    )(cls)
    return cls


for _name in SUPPORTED_MODELS:
    _pruned_variant(_name)
