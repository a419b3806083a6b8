"""The 12-lead PTB-XL models: paper 002's two and the benchmark's two reference architectures.

Counts against paper 002 (within 2 %) and the exact counts the docstrings state; shapes for the
2.5 s training crops and whole 10 s records, 12 leads and one; configuration and state-dict
round trips; gradients; the building blocks against independent computations.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from cardiostream.errors import InvalidParameterError
from cardiostream.models import ECGModel, count_parameters, create_model, list_models, model_info
from cardiostream.models.ptbxl_paper002 import SqueezeExcitation1d, sinusoidal_positions
from cardiostream.models.ptbxl_reference import ConcatPoolHead, inception_kernels

PAPER_002 = ("resnet1d_se_attn", "conv_transformer")
REFERENCE = ("resnet1d_wang", "inception1d")
MODELS = PAPER_002 + REFERENCE

#: Our counts for 12 leads / 5 classes and for 1 lead / 5 classes, as the docstrings state.
COUNTS = {
    "resnet1d_se_attn": (1_661_110, 1_657_590),
    "conv_transformer": (1_711_430, 1_703_686),
    "resnet1d_wang": (473_349, 463_493),
    "inception1d": (507_653, 505_541),
}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """One intra-op thread: the machine's cores are shared."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _x(batch: int, channels: int, length: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, channels, length, generator=g)


def test_registry_entries() -> None:
    assert set(PAPER_002) <= set(list_models(paper="002"))
    assert list_models(paper="ptbxl-ref") == sorted(REFERENCE)
    for name in MODELS:
        info = model_info(name)
        assert info.input_kinds == ("ecg12",) and info.default_num_classes == 5
        assert info.framework == "torch"


@pytest.mark.parametrize("name", PAPER_002)
def test_paper_002_counts_within_two_percent(name: str) -> None:
    info = model_info(name)
    m = create_model(name)
    assert (m.input_spec.channels, m.num_classes) == (12, 5)
    n = count_parameters(m)
    assert abs(n - info.reference_params) <= 0.02 * info.reference_params
    assert abs(n - info.reference_params) <= 0.001 * info.reference_params  # our aim
    assert n == COUNTS[name][0]


@pytest.mark.parametrize("name", MODELS)
def test_counts_as_documented_for_12_leads_and_one(name: str) -> None:
    assert count_parameters(create_model(name)) == COUNTS[name][0]
    assert count_parameters(create_model(name, input_channels=1)) == COUNTS[name][1]


def test_reference_counts_from_the_layer_formulas() -> None:
    """The benchmark layouts counted by hand: bias-free convolutions, BN 2 per channel."""
    head = (2 * 256) + (256 * 128 + 128) + 2 * 128 + (128 * 5 + 5)  # BN, Linear, BN, Linear
    block = 128 * 128 * 5 + 128 * 128 * 3 + 2 * 2 * 128
    wang = (12 * 128 * 7 + 2 * 128) + block + 2 * (block + 128 * 128 + 2 * 128) + head
    assert count_parameters(create_model("resnet1d_wang")) == wang

    def inception_block(c_in: int) -> int:
        return c_in * 32 + 32 * 32 * (39 + 19 + 9) + c_in * 32 + 2 * 128

    shortcuts = (12 * 128 + 2 * 128) + (128 * 128 + 2 * 128)
    inception = inception_block(12) + 5 * inception_block(128) + shortcuts + head
    assert count_parameters(create_model("inception1d")) == inception


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("length", [250, 1000])
@pytest.mark.parametrize("channels", [12, 1])
def test_output_shapes(name: str, length: int, channels: int) -> None:
    m = create_model(name, input_length=length, input_channels=channels).eval()
    with torch.no_grad():
        feats = m.forward_features(_x(2, channels, length))
        logits = m(_x(2, channels, length))
    assert feats.shape == (2, m.num_features)
    assert logits.shape == (2, 5)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", MODELS)
def test_default_input_is_the_training_crop(name: str) -> None:
    spec = create_model(name).input_spec
    assert (spec.kind, spec.channels, spec.length, spec.fs) == ("ecg12", 12, 250, 100.0)


@pytest.mark.parametrize("name", MODELS)
def test_shortest_input_runs_and_shorter_is_rejected(name: str) -> None:
    low = model_info(name).cls.min_length
    m = create_model(name, input_length=low).eval()
    with torch.no_grad():
        assert m(_x(2, 12, low)).shape == (2, 5)
    if low > 1:
        with pytest.raises(InvalidParameterError, match="'input_length'"):
            create_model(name, input_length=low - 1)


CONFIGS = {
    "resnet1d_se_attn": {"width": 16, "se_reduction": 4, "blocks_per_stage": 1},
    "conv_transformer": {"d_model": 32, "num_heads": 4, "num_layers": 2, "ff_size": 64},
    "resnet1d_wang": {"width": 32, "kernel_size": 9, "head_size": 16},
    "inception1d": {"depth": 3, "kernel_size": 6, "num_filters": 8, "use_residual": False},
}


@pytest.mark.parametrize("name", MODELS)
def test_config_and_state_dict_round_trip(name: str) -> None:
    torch.manual_seed(3)
    cfg = {"input_length": 300, "input_channels": 1, "num_classes": 3, **CONFIGS[name]}
    model = create_model(name, **cfg)
    config = json.loads(json.dumps(model.model_config()))
    for k, v in cfg.items():
        assert config[k] == v
    again = create_model(**config)
    assert type(again) is type(model) and again.model_config() == config
    assert count_parameters(again) == count_parameters(model)
    again.load_state_dict(model.state_dict(), strict=True)
    x = _x(4, 1, 300)
    with torch.no_grad():
        torch.testing.assert_close(again.eval()(x), model.eval()(x), rtol=0, atol=0)


@pytest.mark.parametrize("name", MODELS)
def test_a_bce_step_reaches_every_parameter(name: str) -> None:
    torch.manual_seed(4)
    m = create_model(name).train()
    y = (torch.rand(4, 5) > 0.5).float()
    loss = torch.nn.functional.binary_cross_entropy_with_logits(m(_x(4, 12, 250)), y)
    loss.backward()
    for n, p in m.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), n
    first = next(p for n, p in m.named_parameters() if "weight" in n)
    assert first.grad.abs().sum() > 0  # the gradient flows back to the input layer


@pytest.mark.parametrize("name", MODELS)
def test_seeded_training_forward_is_reproducible(name: str) -> None:
    def run(seed: int) -> torch.Tensor:
        torch.manual_seed(seed)
        m = create_model(name).train()  # dropout active: the seed fixes it too
        return m(_x(3, 12, 250)).detach()

    torch.testing.assert_close(run(5), run(5), rtol=0, atol=0)
    assert not torch.equal(run(5), run(6))


@pytest.mark.parametrize("name", MODELS)
def test_reset_classifier_for_a_new_task(name: str) -> None:
    m = create_model(name)
    assert isinstance(m, ECGModel) and m.num_features == 128
    m.reset_classifier(71)  # e.g. PTB-XL "all" statements
    with torch.no_grad():
        assert m.eval()(_x(2, 12, 250)).shape == (2, 71)


def test_invalid_hyperparameters_are_rejected() -> None:
    with pytest.raises(InvalidParameterError, match="'num_heads'"):
        create_model("conv_transformer", d_model=128, num_heads=3)
    with pytest.raises(InvalidParameterError, match="'depth'"):
        create_model("inception1d", depth=4)
    with pytest.raises(InvalidParameterError, match="'use_residual'"):
        create_model("inception1d", use_residual=1)
    with pytest.raises(InvalidParameterError, match="'dropout'"):
        create_model("resnet1d_wang", dropout=1.0)
    with pytest.raises(InvalidParameterError, match="'kernel_size'"):
        create_model("resnet1d_wang", kernel_size=7)  # 7, 4: an even kernel
    with pytest.raises(InvalidParameterError, match="'stem_kernel_size'"):
        create_model("resnet1d_wang", stem_kernel_size=8)
    with pytest.raises(InvalidParameterError, match="'kernel_size'"):
        create_model("resnet1d_se_attn", kernel_size=4)
    with pytest.raises(InvalidParameterError, match="'se_reduction'"):
        create_model("resnet1d_se_attn", se_reduction=0)


# -- building blocks ------------------------------------------------------------------------------


def test_sinusoidal_positions_match_the_formula() -> None:
    pe = sinusoidal_positions(50, 16, like=torch.zeros((), dtype=torch.float64)).numpy()
    t = np.arange(50)[:, None]
    i = np.arange(8)[None, :]
    angle = t / 10000.0 ** (2 * i / 16)
    np.testing.assert_allclose(pe[:, 0::2], np.sin(angle), atol=1e-6)
    np.testing.assert_allclose(pe[:, 1::2], np.cos(angle), atol=1e-6)


def test_conv_transformer_layers_start_independent_and_positions_matter() -> None:
    torch.manual_seed(7)
    m = create_model("conv_transformer").eval()
    w = [layer.self_attn.in_proj_weight for layer in m.layers]
    assert not torch.equal(w[0], w[1])
    x = _x(1, 12, 250)
    with torch.no_grad():
        a = m(x)
        b = m(torch.roll(x, 80, dims=2))  # same content, tokens at other positions
    assert not torch.allclose(a, b, atol=1e-4)


def test_squeeze_excitation_rescales_each_channel() -> None:
    torch.manual_seed(8)
    se = SqueezeExcitation1d(16, 4).double()
    x = torch.randn(3, 16, 20, dtype=torch.float64)
    with torch.no_grad():
        out = se(x)
        z = x.mean(dim=2)
        s = torch.sigmoid(se.fc2(torch.relu(se.fc1(z))))
    torch.testing.assert_close(out, x * s[:, :, None])
    assert count_parameters(se) == 2 * 16 * 16 // 4 + 16 // 4 + 16


def test_concat_pool_head_pools_max_then_mean() -> None:
    torch.manual_seed(9)
    head = ConcatPoolHead(4, 6, 0.5).eval()
    x = torch.randn(2, 4, 30)
    with torch.no_grad():
        got = head(x)
        pooled = torch.cat([x.max(dim=2).values, x.mean(dim=2)], dim=1)
        want = head.layers(pooled)
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    assert count_parameters(head) == 4 * 4 + 8 * 6 + 6 + 2 * 6


def test_inception_kernels_as_the_benchmark() -> None:
    assert inception_kernels(5) == (39, 19, 9)  # the benchmark's default, 8 × 5 = 40
    assert inception_kernels(6) == (47, 23, 11)


def test_reference_models_use_the_benchmark_initialisation() -> None:
    torch.manual_seed(10)
    m = create_model("resnet1d_wang")
    conv = m.blocks[0].conv1.weight.detach()  # 128 × 128 × 5, fan-in 640
    assert conv.std().item() == pytest.approx(math.sqrt(2 / 640), rel=0.05)
    assert torch.equal(m.head.bias.detach(), torch.zeros(5))
    m.reset_classifier(9)
    assert torch.equal(m.head.bias.detach(), torch.zeros(9))
    bn = m.stem[1]
    assert torch.equal(bn.weight.detach(), torch.ones(128))
