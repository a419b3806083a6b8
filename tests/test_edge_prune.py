"""Pruning primitives: masks, global L1, the energy-aware score, schedules, structured pruning,
and the distillation loss (cardiostream.edge.prune / structured / distill)."""

from __future__ import annotations

import copy
import itertools
import json
import math
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from torch import nn

from cardiostream.edge import prune, structured
from cardiostream.edge.costs import example_input, layer_costs
from cardiostream.edge.distill import finetune, kd_loss
from cardiostream.errors import InvalidParameterError, UnknownMethodError
from cardiostream.models import count_parameters, create_model, list_models


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _randomise_bn(model: nn.Module, seed: int) -> None:
    """Non-trivial batch-norm statistics and affine parameters (fresh ones are 0/1)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.randn(n, generator=g) * 0.2)


# -- masks and global L1 -------------------------------------------------------------------


def test_prunable_layers_are_conv_and_linear_weights_without_head() -> None:
    model = create_model("resnet1d_attn")
    names = prune.prunable_layers(model)
    assert "head" not in names and "attn.proj" in names and "dense.0" in names
    assert all(isinstance(m, nn.Conv1d | nn.Linear) for m in names.values())
    assert not any(isinstance(m, nn.BatchNorm1d) for m in names.values())
    assert "head" in prune.prunable_layers(model, include_head=True)
    with pytest.raises(InvalidParameterError, match="'model'"):
        prune.prunable_layers(nn.Sequential(nn.ReLU()))


@pytest.mark.parametrize("sparsity", [0.0, 0.08, 0.4, 0.795])
def test_global_masks_prune_exactly_the_requested_fraction(
    rng: np.random.Generator, sparsity: float
) -> None:
    scores = {
        "a": torch.tensor(rng.random((7, 3, 5)), dtype=torch.float32),
        "b": torch.tensor(rng.random((11, 13)), dtype=torch.float32),
    }
    n = 7 * 3 * 5 + 11 * 13
    masks = prune.global_masks(scores, sparsity)
    assert masks.n_total == n
    assert masks.n_pruned == round(sparsity * n)
    assert masks.sparsity == pytest.approx(round(sparsity * n) / n)
    assert set(masks.masks) == {"a", "b"} and masks.masks["a"].shape == (7, 3, 5)


def test_global_l1_removes_the_smallest_weights_across_layers() -> None:
    torch.manual_seed(3)
    model = create_model("cnn1d")
    scores = prune.magnitude_scores(model)
    masks = prune.global_masks(scores, 0.6)
    masks.apply(model)
    pruned = torch.cat([scores[n][~m] for n, m in masks.masks.items()])
    kept = torch.cat([scores[n][m] for n, m in masks.masks.items()])
    assert pruned.max() <= kept.min()
    # layers differ in scale (He init ∝ 1/sqrt(fan_in)), so the global cut is not uniform
    per_layer = masks.layer_sparsity()
    assert max(per_layer.values()) - min(per_layer.values()) > 0.2
    # the weights are zero exactly where the masks say
    for name, m in prune.prunable_layers(model).items():
        assert torch.equal(m.weight != 0, masks.masks[name])
    assert prune.weight_sparsity(model) == pytest.approx(masks.sparsity)
    assert prune.masks_from_zeros(model).n_pruned == masks.n_pruned


def test_previous_masks_stay_pruned_and_count_towards_the_target(
    rng: np.random.Generator,
) -> None:
    scores = {"w": torch.tensor(rng.random(100), dtype=torch.float32)}
    first = prune.global_masks(scores, 0.2)
    # new scores that would keep the previously pruned weights: they must stay pruned
    flipped = {"w": 1.0 - scores["w"]}
    second = prune.global_masks(flipped, 0.3, previous=first)
    assert second.n_pruned == 30
    assert not (second.masks["w"] & ~first.masks["w"]).any()
    # a lower target never revives weights
    third = prune.global_masks(scores, 0.1, previous=second)
    assert third.n_pruned == 30


def test_masks_reject_wrong_shapes_and_types() -> None:
    model = create_model("cnn1d")
    bad = prune.Masks({"features.0": torch.ones(3, 3, dtype=torch.bool)})
    with pytest.raises(InvalidParameterError, match=r"features\.0"):
        bad.apply(model)
    with pytest.raises(InvalidParameterError, match="'masks'"):
        prune.Masks({"x": torch.ones(3)})
    with pytest.raises(InvalidParameterError, match="'sparsity'"):
        prune.global_masks({"x": torch.ones(3)}, 1.0)


# -- energy-aware score ----------------------------------------------------------------------


def test_energy_aware_score_prunes_expensive_layers_first() -> None:
    model = nn.Sequential(nn.Linear(4, 4, bias=False), nn.Linear(4, 4, bias=False))
    with torch.no_grad():
        model[0].weight.fill_(0.5)
        model[1].weight.fill_(0.5)
        model[1].weight[0, 0] = 1.0  # global max |w|
    energies = {"0": 10.0, "1": 40.0}
    s = prune.energy_aware_scores(model, energies, alpha=0.5)
    # equal |w|: the layer with 4× the energy scores lower, so it is pruned first
    assert s["1"][1, 1] < s["0"][1, 1]
    assert s["0"][1, 1].item() == pytest.approx(0.5 * 0.5 + 0.5 * (1 - 10 / 40))
    assert s["1"][1, 1].item() == pytest.approx(0.5 * 0.5 + 0.5 * 0.0)
    masks = prune.global_masks(s, 0.25)  # 8 of 32 weights, all from the expensive layer
    assert masks.masks["0"].all() and (~masks.masks["1"]).sum() == 8
    assert masks.masks["1"][0, 0]  # its largest weight survives
    # alpha = 1: exactly the global L1 ranking; alpha = 0: whole layers in energy order
    l1 = prune.global_masks(prune.magnitude_scores(model), 0.25)
    ea1 = prune.global_masks(prune.energy_aware_scores(model, energies, 1.0), 0.25)
    assert all(torch.equal(l1.masks[n], ea1.masks[n]) for n in l1.masks)
    ea0 = prune.global_masks(prune.energy_aware_scores(model, energies, 0.0), 0.5)
    assert (~ea0.masks["1"]).all() and ea0.masks["0"].all()


def test_energy_aware_product_form_ranks_magnitude_per_energy() -> None:
    model = nn.Sequential(nn.Linear(4, 4, bias=False), nn.Linear(4, 4, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.arange(1, 17, dtype=torch.float32).reshape(4, 4) / 16)
        model[1].weight.copy_(torch.arange(1, 17, dtype=torch.float32).reshape(4, 4) / 16)
    energies = {"0": 1.0, "1": 4.0}
    s = prune.energy_aware_scores(model, energies, alpha=0.5, combine="product")
    # |w|^0.5 · (4 / E_l)^0.5: stored value and ranking by |w| / E_l
    w = model[1].weight[2, 3].item()
    assert s["1"][2, 3].item() == pytest.approx(w**0.5 * 1.0)
    assert s["0"][2, 3].item() == pytest.approx(w**0.5 * 2.0)
    flat = {n: (model[int(n)].weight.abs() / energies[n]).flatten() for n in energies}
    order = torch.cat([flat["0"], flat["1"]]).argsort()[:8]  # the 8 lowest |w| / E_l
    masks = prune.global_masks(s, 0.25)
    pruned = torch.cat([~masks.masks["0"].flatten(), ~masks.masks["1"].flatten()])
    assert pruned.nonzero().flatten().sort().values.tolist() == order.sort().values.tolist()
    # alpha = 1: global L1 again; a free layer (E_l = 0) is never pruned for energy
    l1 = prune.global_masks(prune.magnitude_scores(model), 0.25)
    p1 = prune.global_masks(
        prune.energy_aware_scores(model, energies, 1.0, combine="product"), 0.25
    )
    assert all(torch.equal(l1.masks[n], p1.masks[n]) for n in l1.masks)
    free = prune.energy_aware_scores(model, {"0": 0.0, "1": 4.0}, 0.5, combine="product")
    assert prune.global_masks(free, 0.5).masks["0"].all()
    with pytest.raises(InvalidParameterError, match="'combine'"):
        prune.energy_aware_scores(model, energies, 0.5, combine="mean")


def test_energy_aware_score_validates_its_inputs() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4))
    with pytest.raises(InvalidParameterError, match="'energies'"):
        prune.energy_aware_scores(model, {"0": 1.0})
    with pytest.raises(InvalidParameterError, match="'alpha'"):
        prune.energy_aware_scores(model, {"0": 1.0, "1": 1.0}, alpha=1.5)
    with pytest.raises(InvalidParameterError, match="'energies'"):
        prune.energy_aware_scores(model, {"0": -1.0, "1": 1.0})


def test_layer_energies_cover_every_prunable_layer_and_drop_with_pruning() -> None:
    torch.manual_seed(0)
    model = create_model("resnet1d_attn")
    x = example_input(model)
    e = prune.layer_energies(model, x)
    assert set(prune.prunable_layers(model)) <= set(e)
    names = list(prune.prunable_layers(model))
    masks = prune.global_masks(prune.magnitude_scores(model), 0.5)
    masks.apply(model)
    e2 = prune.layer_energies(model, x)
    assert sum(e2[n] for n in names) < sum(e[n] for n in names)


# -- schedules ------------------------------------------------------------------------------


def test_linear_schedule_matches_paper_002_table_v() -> None:
    np.testing.assert_allclose(prune.linear_schedule(0.4, 5), [0.08, 0.16, 0.24, 0.32, 0.40])
    assert prune.linear_schedule(0.5, 1) == (0.5,)
    with pytest.raises(InvalidParameterError, match="'steps'"):
        prune.linear_schedule(0.5, 0)


def test_dynamic_schedule_values_and_betas() -> None:
    assert prune.dynamic_sparsity(0.4, 0.5, 0) == 0.0
    assert prune.dynamic_sparsity(0.4, 0.5, 2) == pytest.approx(0.4 * (1 - math.exp(-1.0)))
    values = [prune.dynamic_sparsity(0.6, 0.3, t) for t in range(1, 30)]
    assert all(b > a for a, b in itertools.pairwise(values)) and values[-1] < 0.6
    names = ["a", "b", "c"]
    betas = prune.schedule_betas(names, 5)
    assert betas == pytest.approx({"a": 1 / 5, "b": 2 / 5, "c": 3 / 5})
    eb = prune.schedule_betas(names, 4, by="energy", energies={"a": 2, "b": 8, "c": 4})
    assert eb == pytest.approx({"a": (1 + 2 * 0.25) / 4, "b": 3 / 4, "c": (1 + 2 * 0.5) / 4})
    with pytest.raises(UnknownMethodError, match="'by'"):
        prune.schedule_betas(names, 4, by="width")
    with pytest.raises(InvalidParameterError, match="'energies'"):
        prune.schedule_betas(names, 4, by="energy")


def test_layerwise_masks_follow_the_per_layer_schedule(rng: np.random.Generator) -> None:
    scores = {n: torch.tensor(rng.random(200), dtype=torch.float32) for n in ("a", "b", "c")}
    betas = prune.schedule_betas(list(scores), 5)
    previous = None
    for t in range(1, 6):
        s = {n: prune.dynamic_sparsity(0.5, betas[n], t) for n in scores}
        masks = prune.layerwise_masks(scores, s, previous=previous)
        for n in scores:
            assert (~masks.masks[n]).sum().item() == round(200 * s[n])
        previous = masks
    sp = previous.layer_sparsity()
    assert sp["a"] < sp["b"] < sp["c"] <= 0.5  # shallow layers keep more


# -- structured pruning ---------------------------------------------------------------------


def _zero_pruned_channels(model: nn.Module, keep: dict[str, torch.Tensor]) -> nn.Module:
    """A copy of ``model`` whose removed channels output exactly zero (filters, bias and the
    BN scale and shift of those channels set to 0): equivalent to removing them."""
    masked = copy.deepcopy(model)
    with torch.no_grad():
        for g in structured.channel_groups(masked):
            drop = torch.ones(g.size, dtype=torch.bool)
            drop[keep[g.name]] = False
            for name in (*g.producers, *g.passthrough):
                conv = masked.get_submodule(name)
                conv.weight[drop] = 0
                if conv.bias is not None:
                    conv.bias[drop] = 0
            for name in g.norms:
                bn = masked.get_submodule(name)
                bn.weight[drop] = 0
                bn.bias[drop] = 0
    return masked


@pytest.mark.parametrize(
    ("name", "cfg"),
    [
        ("cnn1d", {}),
        ("resnet1d_attn", {}),
        ("resnet1d_attn", {"blocks_per_stage": 1, "input_length": 64}),
        ("ecg_student", {"input_channels": 1}),
    ],
)
def test_structured_pruning_equals_the_masked_original(name: str, cfg: dict) -> None:
    torch.manual_seed(11)
    model = create_model(name, **cfg).eval()
    _randomise_bn(model, 5)
    widths = structured.target_widths(structured.group_widths(model), 0.5)
    keep = structured.select_channels(model, widths)
    small = structured.prune_channels(model, widths).eval()
    assert type(small).__name__.endswith("Pruned") and isinstance(small, type(model))
    assert count_parameters(small) < 0.4 * count_parameters(model)
    assert structured.group_widths(small) == widths
    x = torch.randn(5, *model.input_spec.shape, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ref = _zero_pruned_channels(model, keep)(x)
        got = small(x)
    torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-5)
    # a genuinely smaller dense model: fewer MACs, no zeros needed
    macs = [sum(c.macs for c in layer_costs(m, example_input(m))) for m in (model, small)]
    assert macs[1] < 0.4 * macs[0]
    # its configuration rebuilds it (through JSON), as load_checkpoint does
    config = json.loads(json.dumps(small.model_config()))
    assert config["name"] == f"{name}_pruned" and config["widths"] == widths
    again = create_model(**config).eval()
    again.load_state_dict(small.state_dict(), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(again(x), got, rtol=0, atol=0)


def test_channels_are_ranked_by_filter_l1_norm() -> None:
    torch.manual_seed(0)
    model = create_model("cnn1d").eval()
    with torch.no_grad():
        w = model.features[0].weight
        w.mul_(0.01)
        w[[3, 17, 30]] *= 1000.0  # three dominant filters in the first block
    keep = structured.select_channels(model, {"features.0": 3})
    assert keep["features.0"].tolist() == [3, 17, 30]
    assert keep["features.4"].numel() == 64  # groups not named keep every channel


def test_resnet_residual_streams_are_single_groups() -> None:
    groups = {g.name: g for g in structured.channel_groups(create_model("resnet1d_attn"))}
    assert set(groups) == {"stage1", "stage2", "stage3"} | {f"blocks.{i}.conv1" for i in range(6)}
    s1 = groups["stage1"]
    assert s1.producers == ("stem.0", "blocks.0.conv2", "blocks.1.conv2")
    assert "blocks.2.shortcut.0" in s1.consumers
    assert groups["stage3"].consumers[-2:] == ("attn.proj", "dense.0")
    assert groups["stage2"].producers == ("blocks.2.conv2", "blocks.2.shortcut.0", "blocks.3.conv2")


def test_iterated_structured_pruning_and_errors() -> None:
    torch.manual_seed(1)
    model = create_model("cnn1d")
    ref = structured.group_widths(model)
    a = structured.prune_channels(model, structured.target_widths(ref, 0.25))
    b = structured.prune_channels(a, structured.target_widths(ref, 0.5))
    assert structured.group_widths(b) == {k: v // 2 for k, v in ref.items()}
    assert structured.base_name(b) == "cnn1d"
    with pytest.raises(InvalidParameterError, match="'widths'"):
        structured.prune_channels(b, {"features.0": 17})  # more than it has
    with pytest.raises(InvalidParameterError, match="'widths'"):
        structured.prune_channels(b, {"nope": 1})
    with pytest.raises(InvalidParameterError, match="Structured pruning supports"):
        structured.channel_groups(create_model("lstm256"))
    assert {f"{n}_pruned" for n in structured.SUPPORTED_MODELS} <= set(list_models())


# -- distillation ---------------------------------------------------------------------------


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_kd_loss_equals_the_hand_computed_value() -> None:
    zs = np.array([[1.0, -0.5, 0.2], [0.3, 0.8, -1.2]])
    zt = np.array([[2.0, 0.0, -1.0], [-0.4, 1.5, 0.1]])
    y = np.array([0, 2])
    alpha, t = 0.7, 3.0
    ce = -np.mean(np.log(_softmax(zs)[np.arange(2), y]))
    pt, ps = _softmax(zt / t), _softmax(zs / t)
    kl = np.mean(np.sum(pt * (np.log(pt) - np.log(ps)), axis=1))
    expected = (1 - alpha) * ce + alpha * t**2 * kl
    got = kd_loss(torch.tensor(zs), torch.tensor(zt), torch.tensor(y), alpha=alpha, temperature=t)
    assert got.item() == pytest.approx(expected, rel=1e-10)
    # alpha = 0 is cross-entropy alone (no teacher needed); equal logits add nothing
    ce_only = kd_loss(torch.tensor(zs), None, torch.tensor(y), alpha=0.0)
    assert ce_only.item() == pytest.approx(ce, rel=1e-10)
    same = kd_loss(torch.tensor(zs), torch.tensor(zs), torch.tensor(y), alpha=0.4)
    assert same.item() == pytest.approx(0.6 * ce, rel=1e-10)
    with pytest.raises(InvalidParameterError, match="'teacher_logits'"):
        kd_loss(torch.tensor(zs), None, torch.tensor(y), alpha=0.5)
    with pytest.raises(InvalidParameterError, match="'kd_temperature'"):
        kd_loss(torch.tensor(zs), torch.tensor(zt), torch.tensor(y), temperature=0.0)


def test_finetuning_keeps_pruned_weights_at_zero(rng: np.random.Generator) -> None:
    torch.manual_seed(4)
    model = create_model("cnn1d", input_length=32)
    x = torch.tensor(rng.standard_normal((96, 1, 32)), dtype=torch.float32)
    y = torch.tensor(rng.integers(0, 3, 96))
    masks = prune.global_masks(prune.magnitude_scores(model), 0.5)
    teacher = model(x).detach()
    res = finetune(
        model,
        x[:64],
        y[:64],
        x[64:],
        y[64:],
        epochs=2,
        num_classes=3,
        lr=1e-2,
        masks=masks,
        teacher_logits=teacher[:64],
        kd_alpha=0.5,
        seed=1,
    )
    assert len(res.history) == 3 and res.history[0].train_loss is None
    assert res.best_epoch in (0, 1, 2)
    for name, m in prune.prunable_layers(model).items():
        assert not m.weight[~masks.masks[name]].any()
    assert prune.weight_sparsity(model) == pytest.approx(0.5, abs=1e-3)
