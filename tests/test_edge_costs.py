"""Per-layer cost model: MAC counts by hand, against torch's FlopCounterMode, sparsity, energy."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import prune
from torch.utils.flop_counter import FlopCounterMode

from cardiostream.edge.costs import (
    MAC_ENERGY_PJ,
    MEMORY_ENERGY_PJ_PER_BYTE,
    LayerCost,
    example_input,
    layer_costs,
    total_energy_pj,
)
from cardiostream.errors import InvalidParameterError
from cardiostream.models import create_model
from cardiostream.models._layers import KerasLSTM

torch.set_num_threads(1)


def _flops_macs(model: nn.Module, x: torch.Tensor) -> int:
    """Half of torch's FlopCounterMode total: it counts 2 FLOPs per multiply-accumulate of
    convolutions, matrix products (mm/addmm/bmm) and attention; not norms or fused RNNs."""
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model.eval()(x)
    return counter.get_total_flops() // 2


def _by_name(rows: tuple[LayerCost, ...]) -> dict[str, LayerCost]:
    return {r.name: r for r in rows}


def test_conv_linear_by_hand_grouped_and_depthwise() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv1d(4, 8, 5, padding=2),  # 8·4·5 MACs per output position, 32 positions
        nn.Conv1d(8, 8, 3, padding=1, groups=8),  # depthwise: 8·1·3 per position
        nn.Conv1d(8, 16, 3, stride=2, groups=2),  # 16·4·3 per position, 15 positions
        nn.Flatten(),
        nn.Linear(16 * 15, 10),
    )
    x = torch.randn(1, 4, 32)
    rows = _by_name(layer_costs(model, x))
    assert rows["0"].macs == 32 * 8 * 4 * 5
    assert rows["1"].macs == 32 * 8 * 1 * 3
    assert rows["2"].macs == 15 * 16 * 4 * 3
    assert rows["4"].macs == 240 * 10
    assert rows["0"].params == 8 * 4 * 5 + 8
    assert set(rows) == {"0", "1", "2", "4"}  # Flatten has no row
    assert rows["0"].input_bytes == 4 * 32 * 4 and rows["0"].output_bytes == 8 * 32 * 4


@pytest.mark.parametrize("name", ["cnn1d", "beatnet", "resnet1d_attn"])
def test_conv_linear_macs_equal_flop_counter(name: str) -> None:
    """For conv/linear layers our MACs equal FlopCounterMode's FLOPs / 2 exactly."""
    torch.manual_seed(0)
    model = create_model(name)
    x = example_input(model)
    rows = layer_costs(model, x)
    counted = sum(
        r.macs for r in rows if isinstance(model.get_submodule(r.name), nn.Conv1d | nn.Linear)
    )
    assert counted == _flops_macs(model, x)
    assert sum(r.params for r in rows) == sum(p.numel() for p in model.parameters())


def test_pure_conv_linear_model_total_equals_flop_counter() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(1, 6, 7), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 58, 3))
    x = torch.randn(1, 1, 64)
    assert sum(r.macs for r in layer_costs(model, x)) == _flops_macs(model, x)


def test_batchnorm_counts_one_mac_per_element() -> None:
    model = nn.Sequential(nn.Conv1d(1, 4, 3, padding=1), nn.BatchNorm1d(4))
    rows = _by_name(layer_costs(model, torch.randn(1, 1, 20)))
    assert rows["1"].kind == "BatchNorm1d"
    assert rows["1"].macs == 4 * 20


def test_lstm_gru_and_keras_lstm_by_hand() -> None:
    t, d, h = 12, 3, 5
    x = torch.randn(1, t, d)
    lstm = nn.LSTM(d, h, batch_first=True, num_layers=2, bidirectional=True)
    expected = 0
    for layer_in in (d, 2 * h):
        expected += 2 * t * (4 * h * layer_in + 4 * h * h + 3 * h)
    assert layer_costs(lstm, x)[0].macs == expected
    gru = nn.GRU(d, h, batch_first=True)
    assert layer_costs(gru, x)[0].macs == t * (3 * h * d + 3 * h * h + 3 * h)
    keras = KerasLSTM(d, h, bidirectional=True)
    row = layer_costs(keras, x)[0]
    assert row.kind == "KerasLSTM"
    assert row.macs == 2 * t * (4 * h * d + 4 * h * h + 3 * h)
    assert row.params == 2 * 4 * h * (d + h + 1)


def test_gru_weight_macs_equal_flop_counter() -> None:
    """FlopCounterMode sees the GRU's matrix products (not its gate products)."""
    gru = nn.GRU(3, 5, batch_first=True)
    x = torch.randn(1, 12, 3)
    row = layer_costs(gru, x)[0]
    assert row.macs - 12 * 3 * 5 == _flops_macs(gru, x)


def test_multihead_attention_and_functional_sdpa() -> None:
    e, heads, lq = 16, 4, 10
    mha = nn.MultiheadAttention(e, heads, batch_first=True)
    x = torch.randn(1, lq, e)

    class Wrap(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attn = mha

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return self.attn(z, z, z, need_weights=False)[0]

    rows = layer_costs(Wrap(), x)
    assert len(rows) == 1 and rows[0].kind == "MultiheadAttention"  # out_proj is inside the row
    assert rows[0].macs == 4 * lq * e * e + 2 * lq * lq * e
    assert rows[0].params == sum(p.numel() for p in mha.parameters())

    class Hand(nn.Module):  # hand-written attention: products in the module's own forward
        def __init__(self) -> None:
            super().__init__()
            self.qkv = nn.Linear(e, 3 * e)

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            q, k, v = self.qkv(z).chunk(3, dim=-1)
            return (
                nn.functional.scaled_dot_product_attention(q, k, v) + (q @ k.transpose(1, 2)).sum()
            )

    rows = _by_name(layer_costs(Hand(), x))
    assert rows[""].kind == "Hand:functional"
    assert rows[""].macs == lq * lq * (e + e) + lq * lq * e
    assert rows["qkv"].macs == lq * e * 3 * e


def test_sparsity_effective_macs_and_energy() -> None:
    torch.manual_seed(0)
    conv = nn.Conv1d(2, 4, 3)
    x = torch.randn(1, 2, 10)
    dense = layer_costs(conv, x)[0]
    prune.l1_unstructured(conv, "weight", amount=0.5)  # weight_orig × weight_mask
    sparse = layer_costs(conv, x)[0]
    n_w = 4 * 2 * 3
    assert sparse.params == dense.params == n_w + 4
    assert sparse.nonzero_params == dense.nonzero_params - n_w // 2
    assert sparse.macs == dense.macs
    assert sparse.effective_macs == dense.macs // 2
    e_mac, e_byte = MAC_ENERGY_PJ["fp32"], MEMORY_ENERGY_PJ_PER_BYTE["sram32k"]
    expected = (
        sparse.effective_macs * e_mac
        + (4 * sparse.nonzero_params + sparse.input_bytes + sparse.output_bytes) * e_byte
    )
    assert sparse.energy_pj == pytest.approx(expected)
    assert sparse.energy_pj < dense.energy_pj
    assert total_energy_pj([dense, sparse]) == pytest.approx(dense.energy_pj + sparse.energy_pj)


def test_int8_is_cheaper_and_masked_head_counts_its_zeros() -> None:
    torch.manual_seed(0)
    model = create_model("beatnet")
    x = example_input(model)
    fp32, int8 = layer_costs(model, x), layer_costs(model, x, dtype="int8")
    assert [r.macs for r in fp32] == [r.macs for r in int8]
    assert [r.weight_bytes for r in int8] == [r.params for r in fp32]
    assert total_energy_pj(int8) < total_energy_pj(fp32) / 5
    head = _by_name(fp32)["head"]  # N and S rows read only the 6 context features
    assert head.nonzero_params < head.params
    assert head.effective_macs < head.macs


def test_batch_and_mode_handling() -> None:
    model = create_model("cnn1d")
    model.train()
    x = example_input(model).repeat(4, 1, 1)
    rows = layer_costs(model, x)
    assert rows == layer_costs(model, x[:1])  # per example
    assert model.training  # mode restored


def test_invalid_arguments() -> None:
    model = create_model("cnn1d")
    x = example_input(model)
    with pytest.raises(InvalidParameterError, match="'dtype'"):
        layer_costs(model, x, dtype="fp16")
    with pytest.raises(InvalidParameterError, match="'memory'"):
        layer_costs(model, x, memory="hbm")
    with pytest.raises(InvalidParameterError, match="'example'"):
        layer_costs(model, x.numpy())  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'model'"):
        layer_costs("cnn1d", x)  # type: ignore[arg-type]
