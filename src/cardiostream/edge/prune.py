"""Unstructured weight pruning: global L1 magnitude, paper 002's energy-aware score, schedules.

Pruning here zeroes individual weights of ``Conv1d`` and ``Linear`` layers through boolean
masks kept next to the model (:class:`Masks`, ``True`` = kept). Applying a mask writes zeros
into the weight tensor itself, so a pruned model is an ordinary model whose state dict holds
zeros (the masks are "permanent" as soon as they are applied; there is no ``weight_orig`` /
``weight_mask`` re-parametrisation as in ``torch.nn.utils.prune`` to remove afterwards).
During fine-tuning :func:`cardiostream.edge.distill.finetune` keeps pruned weights at zero.

What is pruned (:func:`prunable_layers`): the ``weight`` of every ``nn.Conv1d`` and
``nn.Linear`` (including the linear layers of attention pooling and subclasses such as
BeatNet's ``MaskedLinear``). Excluded: biases, batch-normalisation parameters (one scale and
shift per channel, negligible in count and cost), recurrent weights (``KerasLSTM``, ``nn.LSTM``,
``nn.GRU``: their gates share one tensor, so unstructured masks there are left for later), and
by default the classifier ``head`` (3 × F weights whose loss costs accuracy for nothing).

Criteria (paper 002, ../shared/papers/002):

* **Global L1 magnitude** (Han et al. 2015, "Learning both weights and connections"): the
  fraction ``s`` of all prunable weights with the smallest ``|w|``, ranked across layers.
* **Energy-aware importance** ``I = α·|w|/max|w| + (1 − α)·(1 − E_l / max E)``
  (:func:`energy_aware_scores`). Paper 002 writes the second term as ``+ (1 − α)·E_l/max(E)``
  and says the score lets the framework "prune computationally expensive layers more
  aggressively". Weights with the *lowest* importance are pruned, so with the sign as written a
  high-energy layer would score higher and be protected, the opposite of the stated intent. We
  follow the intent: the energy term is ``1 − E_l/max E``, which ranks weights exactly as
  ``α·|w|/max|w| − (1 − α)·E_l/max E`` (a constant shift). ``|w|`` is divided by the largest
  magnitude over all prunable weights, so both terms lie in [0, 1] and ``α = 1`` ranks exactly
  as global L1 pruning; ``α = 0`` prunes whole layers in order of energy. ``E_l`` is the layer's
  energy proxy from :func:`cardiostream.edge.costs.layer_costs` (MAC energy of its non-zero
  weights plus memory-access energy), recomputed before every pruning step, so a layer pruned
  at one step gets less pressure at the next. A layer's *total* energy is largest for the
  layers with the most weights, which are not the layers where a weight costs most: in
  ResNet1D-Attn the 128-channel stage-3 convolutions hold the most energy, but each of their
  weights is applied at 64 positions, a stage-1 weight at 256. Pruning by total energy can
  therefore save *less* energy than plain L1 at the same sparsity. ``E_l`` may instead be the
  **marginal** energy of the layer, the energy one more pruned weight saves (its MACs per
  weight times the MAC energy plus its bytes per weight times the memory energy,
  :func:`layer_energies` with ``term="marginal"``); the paper's total is the default.
  The sum mixes two scales (normalised magnitudes mostly lie near 0.05-0.3, the energy term
  spans [0, 1]), so at ``α = 0.5`` the energy term decides almost alone and whole cheap or
  expensive layers go first. ``combine="product"`` is the scale-free counterpart, the weighted
  *geometric* mean ``I = |w|^α · (1 / E_l)^(1 − α)``: at ``α = 0.5`` with the marginal term it
  ranks weights by magnitude per picojoule saved (the greedy answer to "least magnitude lost
  per unit energy removed"), ``α = 1`` is again global L1. It is our variant, not the paper's,
  and is reported as such.
* **Iterative pruning over K steps** with fine-tuning after each (Han et al. 2015; paper 002):
  :func:`linear_schedule` gives the global sparsity ``S·t/K`` after step ``t`` (paper 002's
  Table V: 8, 16, 24, 32, 40 % for ``S = 0.4``, ``K = 5``); weights pruned at one step stay
  pruned.
* **Dynamic per-layer schedule** ``s_l(t) = S_target·(1 − exp(−β_l t))`` (paper 002), applied
  layer by layer (:func:`layerwise_masks`). ``β_l`` (:func:`schedule_betas`) grows linearly
  from ``β_lo/K`` to ``β_hi/K`` (defaults 1 and 3) with the layer's depth (its position among
  the prunable layers in module order), or with its share of the energy (``E_l / max E``), so
  shallow (or cheap) layers approach the target slowly and end below it — about 63 % of it
  at ``t = K`` for ``β = 1/K`` — while deep (or expensive) layers reach 95 % of it ("preserving
  critical shallow layers while more aggressively pruning redundant deeper layers"). The
  overall sparsity therefore ends below ``S_target``; the achieved value is always reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import torch
from torch import nn

from ..errors import InvalidParameterError, UnknownMethodError, check_param

__all__ = [
    "ENERGY_COMBINES",
    "ENERGY_TERMS",
    "PRUNABLE_TYPES",
    "SCHEDULES",
    "Masks",
    "dynamic_sparsity",
    "energy_aware_scores",
    "global_masks",
    "layer_energies",
    "layerwise_masks",
    "linear_schedule",
    "magnitude_scores",
    "masks_from_zeros",
    "prunable_layers",
    "schedule_betas",
    "weight_sparsity",
]

#: Layer types whose ``weight`` is pruned.
PRUNABLE_TYPES: tuple[type[nn.Module], ...] = (nn.Conv1d, nn.Linear)
#: ``linear``: global sparsity ``S·t/K``; ``dynamic``: per-layer ``S(1 − exp(−β_l t))``.
SCHEDULES: tuple[str, ...] = ("linear", "dynamic")


def _check_fraction(name: str, value: object, *, closed: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (0 <= value <= 1 if closed else 0 <= value < 1)  # type: ignore[operator]
    check_param(name, value, ok, "a fraction in [0, 1]" if closed else "a fraction in [0, 1)")
    return float(value)  # type: ignore[arg-type]


def prunable_layers(model: nn.Module, *, include_head: bool = False) -> dict[str, nn.Module]:
    """The layers whose weights are pruned, by qualified module name (module order).

    Every ``nn.Conv1d`` and ``nn.Linear`` (module docstring); the module named ``head`` and
    everything under it only with ``include_head``.
    """
    out: dict[str, nn.Module] = {}
    for name, m in model.named_modules():
        if not isinstance(m, PRUNABLE_TYPES):
            continue
        if not include_head and (name == "head" or name.startswith("head.")):
            continue
        out[name] = m
    if not out:
        raise InvalidParameterError(
            f"The 'model' parameter must hold Conv1d or Linear layers to prune, got "
            f"{type(model).__name__} without any (include_head={include_head})."
        )
    return out


@dataclass(frozen=True, eq=False)
class Masks:
    """Boolean keep-masks of pruned weights, by qualified module name (``True`` = kept).

    Attributes
    ----------
    masks : Mapping of str to torch.Tensor
        One ``bool`` tensor per layer, shaped like its weight.
    """

    masks: Mapping[str, torch.Tensor]

    def __post_init__(self) -> None:
        for name, m in self.masks.items():
            if not isinstance(m, torch.Tensor) or m.dtype != torch.bool:
                raise InvalidParameterError(
                    f"The 'masks' parameter must map layer names to bool tensors, got "
                    f"{type(m).__name__} for {name!r}."
                )
        object.__setattr__(self, "masks", MappingProxyType(dict(self.masks)))

    @property
    def n_total(self) -> int:
        """Weights covered by the masks."""
        return int(sum(m.numel() for m in self.masks.values()))

    @property
    def n_pruned(self) -> int:
        """Weights set to zero."""
        return int(sum((~m).sum().item() for m in self.masks.values()))

    @property
    def sparsity(self) -> float:
        """``n_pruned / n_total`` over the masked layers."""
        return self.n_pruned / self.n_total if self.n_total else 0.0

    def layer_sparsity(self) -> dict[str, float]:
        """Fraction of zeroed weights in each layer."""
        return {n: float((~m).float().mean().item()) for n, m in self.masks.items()}

    @torch.no_grad()
    def apply(self, model: nn.Module) -> None:
        """Zero the pruned weights of ``model`` in place (and their gradients, if any)."""
        modules = dict(model.named_modules())
        for name, mask in self.masks.items():
            m = modules.get(name)
            w = getattr(m, "weight", None)
            if not isinstance(w, torch.Tensor) or w.shape != mask.shape:
                got = None if not isinstance(w, torch.Tensor) else tuple(w.shape)
                raise InvalidParameterError(
                    f"The 'model' parameter must have a weight of shape {tuple(mask.shape)} at "
                    f"{name!r} to apply its mask, got {got}."
                )
            keep = mask.to(device=w.device)
            w.mul_(keep)
            if w.grad is not None:
                w.grad.mul_(keep)

    @torch.no_grad()
    def mask_gradients(self, model: nn.Module) -> None:
        """Zero the gradients of pruned weights (call between ``backward`` and ``step``)."""
        modules = dict(model.named_modules())
        for name, mask in self.masks.items():
            w = modules[name].weight
            if w.grad is not None:
                w.grad.mul_(mask.to(device=w.device))


def masks_from_zeros(model: nn.Module, *, include_head: bool = False) -> Masks:
    """Masks that keep exactly the non-zero weights of the prunable layers of ``model``."""
    layers = prunable_layers(model, include_head=include_head)
    return Masks({n: (m.weight.detach() != 0).cpu() for n, m in layers.items()})


def weight_sparsity(model: nn.Module, *, include_head: bool = False) -> float:
    """Fraction of exactly-zero weights over the prunable layers of ``model``."""
    return masks_from_zeros(model, include_head=include_head).sparsity


def magnitude_scores(model: nn.Module, *, include_head: bool = False) -> dict[str, torch.Tensor]:
    """``|w|`` of every prunable weight (the global L1 criterion), by layer name."""
    layers = prunable_layers(model, include_head=include_head)
    return {n: m.weight.detach().abs().float().cpu() for n, m in layers.items()}


#: What ``E_l`` of the energy-aware score is: the layer's whole energy proxy (paper 002), or the
#: energy one more pruned weight of the layer saves (``marginal``).
ENERGY_TERMS: tuple[str, ...] = ("layer", "marginal")
#: How the energy-aware score mixes magnitude and energy: paper 002's weighted sum or the
#: weighted geometric mean (``product``, scale-free; module docstring).
ENERGY_COMBINES: tuple[str, ...] = ("sum", "product")


def layer_energies(
    model: nn.Module, example: torch.Tensor, *, term: str = "layer"
) -> dict[str, float]:
    """Energy proxy ``E_l`` (pJ per inference) of each layer of ``model`` on ``example``.

    From :func:`cardiostream.edge.costs.layer_costs` (the energy model and its constants are
    documented there), keyed by qualified module name.

    ``term="layer"`` (paper 002's ``E_l``): the layer's total energy — MACs of its non-zero
    weights plus its weight, input and output memory traffic — so a partly pruned layer has
    less. ``term="marginal"``: the energy that zeroing one more of the layer's weights saves,
    ``(MACs per weight)·E_mac + (bytes per weight)·E_byte``, i.e. the output positions a
    convolution weight is applied at (tokens for a linear layer); activations' traffic does not
    shrink with unstructured sparsity and is left out. Both are per example, fp32, on-chip SRAM.
    """
    from .costs import (
        DEFAULT_MEMORY,
        DTYPE_BYTES,
        MAC_ENERGY_PJ,
        MEMORY_ENERGY_PJ_PER_BYTE,
        layer_costs,
    )

    check_param("energy_term", term, term in ENERGY_TERMS, f"one of {list(ENERGY_TERMS)}")
    costs = layer_costs(model, example)
    if term == "layer":
        return {c.name: float(c.energy_pj) for c in costs}
    modules = dict(model.named_modules())
    e_w = DTYPE_BYTES["fp32"] * MEMORY_ENERGY_PJ_PER_BYTE[DEFAULT_MEMORY]
    out = {}
    for c in costs:
        w = getattr(modules.get(c.name), "weight", None)
        if isinstance(modules.get(c.name), PRUNABLE_TYPES) and isinstance(w, torch.Tensor):
            out[c.name] = c.macs / w.numel() * MAC_ENERGY_PJ["fp32"] + e_w
    return out


def energy_aware_scores(
    model: nn.Module,
    energies: Mapping[str, float],
    alpha: float = 0.5,
    *,
    include_head: bool = False,
    combine: str = "sum",
) -> dict[str, torch.Tensor]:
    """Paper 002's energy-aware importance, sign chosen so expensive layers are pruned first.

    ``combine="sum"`` (paper 002): ``I_{l,i} = α·|w_{l,i}| / max|w| + (1 − α)·(1 − E_l /
    max_l E_l)`` (module docstring for the sign and the normalisation): ``max|w|`` over all
    prunable weights, ``max E`` over the prunable layers. ``combine="product"``: ``I_{l,i} =
    |w_{l,i}|^α · (max_l E_l / E_l)^(1 − α)``, the weighted geometric mean (``E_l = 0`` counts
    as free, never pruned for energy). Low scores are pruned first.

    Parameters
    ----------
    model : nn.Module
    energies : Mapping of str to float
        ``E_l`` of each prunable layer (:func:`layer_energies`); every prunable layer needs one.
    alpha : float
        Weight of the magnitude term in [0, 1] (paper 002's ``α``); 1 is global L1 pruning.
    include_head : bool
        Also score the classifier head.
    combine : {"sum", "product"}
        :data:`ENERGY_COMBINES`.
    """
    alpha = _check_fraction("alpha", alpha, closed=True)
    check_param("combine", combine, combine in ENERGY_COMBINES, f"one of {list(ENERGY_COMBINES)}")
    mags = magnitude_scores(model, include_head=include_head)
    missing = [n for n in mags if n not in energies]
    if missing:
        raise InvalidParameterError(
            f"The 'energies' parameter must give an energy for every prunable layer, missing "
            f"{missing}."
        )
    e = {n: float(energies[n]) for n in mags}
    if any(not math.isfinite(v) or v < 0 for v in e.values()):
        raise InvalidParameterError(
            f"The 'energies' parameter must hold finite energies >= 0, got {e}."
        )
    w_max = max(float(s.max().item()) for s in mags.values() if s.numel())
    e_max = max(e.values())
    out: dict[str, torch.Tensor] = {}
    if combine == "product":
        for n, s in mags.items():
            if alpha == 1:  # (1/E)^0: global L1, whatever the energy
                out[n] = s.clone()
            elif e[n] > 0:
                out[n] = s.pow(alpha) * (e_max / e[n]) ** (1.0 - alpha)
            else:  # free layer: never pruned for energy (and no 0·inf for zeroed weights)
                out[n] = torch.full_like(s, math.inf)
        return out
    for n, s in mags.items():
        w_term = s / w_max if w_max > 0 else torch.zeros_like(s)
        e_term = 1.0 - (e[n] / e_max if e_max > 0 else 0.0)
        out[n] = alpha * w_term + (1.0 - alpha) * e_term
    return out


def _check_previous(scores: Mapping[str, torch.Tensor], previous: Masks | None) -> None:
    if previous is None:
        return
    for n, s in scores.items():
        if n not in previous.masks or previous.masks[n].shape != s.shape:
            raise InvalidParameterError(
                f"The 'previous' masks must cover layer {n!r} with shape {tuple(s.shape)}."
            )


def global_masks(
    scores: Mapping[str, torch.Tensor], sparsity: float, *, previous: Masks | None = None
) -> Masks:
    """Prune the ``round(sparsity·N)`` lowest-scoring of all ``N`` scored weights, globally.

    Weights pruned in ``previous`` stay pruned and count towards the target (when they already
    exceed it, ``previous`` is returned unchanged in effect). Ties are broken by position
    (stable sort), so the result is deterministic.
    """
    sparsity = _check_fraction("sparsity", sparsity)
    if not scores:
        raise InvalidParameterError("The 'scores' parameter must score at least one layer.")
    _check_previous(scores, previous)
    names = list(scores)
    flat = torch.cat([scores[n].reshape(-1).float() for n in names])
    if previous is not None:
        kept = torch.cat([previous.masks[n].reshape(-1) for n in names])
        flat = torch.where(kept, flat, torch.full_like(flat, -math.inf))
    k = round(sparsity * flat.numel())
    if previous is not None:
        k = max(k, int((flat == -math.inf).sum().item()))
    keep = torch.ones(flat.numel(), dtype=torch.bool)
    if k:
        order = torch.argsort(flat, stable=True)
        keep[order[:k]] = False
    out: dict[str, torch.Tensor] = {}
    i = 0
    for n in names:
        size = scores[n].numel()
        out[n] = keep[i : i + size].reshape(scores[n].shape)
        i += size
    return Masks(out)


def layerwise_masks(
    scores: Mapping[str, torch.Tensor],
    layer_sparsity: Mapping[str, float],
    *,
    previous: Masks | None = None,
) -> Masks:
    """Prune ``round(s_l·n_l)`` lowest-scoring weights within each layer ``l``.

    ``layer_sparsity`` gives ``s_l`` for every scored layer; pruned weights of ``previous``
    stay pruned (a layer never gets denser).
    """
    _check_previous(scores, previous)
    out: dict[str, torch.Tensor] = {}
    for n, s in scores.items():
        if n not in layer_sparsity:
            raise InvalidParameterError(
                f"The 'layer_sparsity' parameter must give a sparsity for layer {n!r}."
            )
        sub = {n: s}
        prev = None if previous is None else Masks({n: previous.masks[n]})
        out[n] = global_masks(
            sub, _check_fraction("layer_sparsity", layer_sparsity[n]), previous=prev
        ).masks[n]
    return Masks(out)


def linear_schedule(target: float, steps: int) -> tuple[float, ...]:
    """Global sparsity after each of ``steps`` pruning steps: ``target·t/steps``, t = 1..K."""
    target = _check_fraction("sparsity", target)
    ok = isinstance(steps, int) and not isinstance(steps, bool) and steps >= 1
    check_param("steps", steps, ok, "an int >= 1")
    return tuple(target * t / steps for t in range(1, steps + 1))


def dynamic_sparsity(target: float, beta: float, t: float) -> float:
    """Paper 002's schedule ``s(t) = target·(1 − exp(−beta·t))``."""
    target = _check_fraction("sparsity", target)
    ok = isinstance(beta, int | float) and math.isfinite(beta) and beta > 0
    check_param("beta", beta, ok, "a positive rate")
    check_param("t", t, isinstance(t, int | float) and t >= 0, "a step >= 0")
    return target * (1.0 - math.exp(-beta * t))


def schedule_betas(
    names: Sequence[str],
    steps: int,
    *,
    by: str = "depth",
    energies: Mapping[str, float] | None = None,
    beta_range: tuple[float, float] = (1.0, 3.0),
) -> dict[str, float]:
    """Per-layer rates ``β_l`` of the dynamic schedule (module docstring).

    ``β_l = (lo + (hi − lo)·r_l) / steps`` with ``r_l`` the layer's depth rank in [0, 1]
    (``by="depth"``: position in ``names``, the module order) or its energy share
    ``E_l / max E`` (``by="energy"``, needs ``energies``).
    """
    ok = isinstance(steps, int) and not isinstance(steps, bool) and steps >= 1
    check_param("steps", steps, ok, "an int >= 1")
    lo, hi = beta_range
    check_param("beta_range", beta_range, 0 < lo <= hi, "(lo, hi) with 0 < lo <= hi")
    names = list(names)
    check_param("names", names, bool(names), "a non-empty sequence of layer names")
    if by == "depth":
        n = len(names)
        r = {name: (i / (n - 1) if n > 1 else 1.0) for i, name in enumerate(names)}
    elif by == "energy":
        if energies is None or any(name not in energies for name in names):
            raise InvalidParameterError(
                "The 'energies' parameter must give every layer's energy for by='energy'."
            )
        e_max = max(float(energies[name]) for name in names)
        r = {name: (float(energies[name]) / e_max if e_max > 0 else 1.0) for name in names}
    else:
        raise UnknownMethodError(
            f"The 'by' parameter must be one of ['depth', 'energy'], got {by!r} instead."
        )
    return {name: (lo + (hi - lo) * r[name]) / steps for name in names}
