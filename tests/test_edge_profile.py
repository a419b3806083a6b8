"""Model profile: sizes, latency rows, memory, MCU estimate, files and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from cardiostream.classify import DEFAULT_MODEL_DIR
from cardiostream.cli import app
from cardiostream.edge.costs import layer_costs
from cardiostream.edge.mcu import (
    CYCLES_PER_MAC,
    PEAK_CYCLES_PER_MAC,
    RUNTIME_FLASH_BYTES,
    activation_peak_bytes,
    cmsis_scratch_bytes,
    mcu_estimate,
)
from cardiostream.edge.onnx_io import export_onnx
from cardiostream.edge.profile import profile_model, write_profile
from cardiostream.errors import InvalidParameterError
from cardiostream.models import InputSpec, create_model

torch.set_num_threads(1)

SHIPPED = Path(__file__).resolve().parents[1] / "src/cardiostream/data/models" / DEFAULT_MODEL_DIR


class _Chain(nn.Module):
    """Conv(1→4) → ReLU → Conv(4→2) on 10 samples, with the input_spec the exporter reads."""

    input_spec = InputSpec("rr", 10)

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv1d(1, 4, 3, padding=1)
        self.c2 = nn.Conv1d(4, 2, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c2(torch.relu(self.c1(x)))


def test_activation_peak_by_hand(tmp_path: Path) -> None:
    path = export_onnx(_Chain(), tmp_path / "chain.onnx")
    # INT8, batch 1: at the ReLU both the conv output and its result (40 + 40 bytes) are
    # alive; the input (10) is dead after c1; at c2: 40 + 20.
    assert activation_peak_bytes(path) == 80
    assert activation_peak_bytes(path, bytes_per_element=4, batch=2) == 640
    assert cmsis_scratch_bytes(_Chain()) == 2 * 4 * 3 * 2  # c2: 2 × in_ch × kernel × int16


def test_mcu_estimate_arithmetic() -> None:
    model = create_model("cnn1d")
    costs = layer_costs(model, torch.randn(1, 1, 256))
    est = mcu_estimate(
        costs,
        model_bytes=1000,
        model_format="int8-weights",
        sram_bytes=500,
        sram_method="test",
        clock_hz=80e6,
    )
    conv_lin = sum(c.macs for c in costs if not c.kind.startswith("BatchNorm"))
    assert est.macs == conv_lin  # BatchNorm folded
    assert est.flash_bytes == 1000 + RUNTIME_FLASH_BYTES
    assert est.latency_ms == pytest.approx(1e3 * conv_lin * CYCLES_PER_MAC / 80e6)
    assert est.latency_peak_ms == pytest.approx(
        est.latency_ms * PEAK_CYCLES_PER_MAC / CYCLES_PER_MAC
    )
    with pytest.raises(InvalidParameterError, match="'clock_hz'"):
        mcu_estimate(
            costs, model_bytes=1, model_format="x", sram_bytes=1, sram_method="x", clock_hz=0
        )


def test_profile_model_beatnet(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model("beatnet")
    prof = profile_model(model, batch_sizes=(1, 8), repeats=2, tflite=False, workdir=tmp_path)
    assert prof.params == 39_445 == sum(c.params for c in prof.layers)
    assert prof.macs == sum(c.macs for c in prof.layers)
    assert prof.input_shape == (1, 518)
    assert prof.energy_pj_int8 < prof.energy_pj_fp32
    assert prof.size_int8_onnx_bytes < prof.size_fp32_bytes
    assert {(lat.backend, lat.batch) for lat in prof.latency} == {
        (b, n) for b in ("torch", "onnxruntime", "onnxruntime-int8") for n in (1, 8)
    }
    assert all(lat.median_ms > 0 and lat.threads == 1 for lat in prof.latency)
    assert prof.peak_batch == 8
    m = prof.mcu
    assert m.model_format == "int8-weights" and 39_000 < m.model_bytes < 60_000
    assert m.flash_bytes == m.model_bytes + RUNTIME_FLASH_BYTES
    assert 1_000 < m.sram_bytes < 64 * 1024 and "live" in m.sram_method
    assert model.training  # mode restored
    pj, pm = write_profile(prof, tmp_path / "out")
    data = json.loads(pj.read_text())
    assert data["macs"] == prof.macs and len(data["layers"]) == len(prof.layers)
    text = pm.read_text()
    assert "| body.1.0 | Conv1d |" in text and "Cortex-M4" in text


def test_profile_rejects_bad_arguments() -> None:
    model = create_model("cnn1d")
    with pytest.raises(InvalidParameterError, match="'repeats'"):
        profile_model(model, repeats=0)
    with pytest.raises(InvalidParameterError, match="'threads'"):
        profile_model(model, threads=0)


def test_cli_profile_shipped_model(tmp_path: Path) -> None:
    args = [
        "profile",
        str(SHIPPED),
        "--out",
        str(tmp_path),
        "--repeats",
        "2",
        "--batch",
        "1",
        "--batch",
        "4",
        "--no-tflite",
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "profile.json").read_text())
    assert data["params"] == 39_445
    assert data["size_fp32_bytes"] == (SHIPPED / "model.safetensors").stat().st_size
    assert (tmp_path / "profile.md").is_file()
    assert "body.1.0" in res.output
    res = CliRunner().invoke(app, ["profile", str(tmp_path / "missing")])
    assert res.exit_code == 1 and "run.json" in res.output


def test_load_run_model_reads_any_run_directory(tmp_path: Path) -> None:
    """A run that is not a beat run (e.g. PTB-XL diagnosis) loads through its model_config."""
    from safetensors.torch import save_model

    from cardiostream.edge.run_data import load_run_model

    torch.manual_seed(0)
    model = create_model("cnn1d", input_kind="morph", num_classes=5)
    save_model(model, str(tmp_path / "model.safetensors"))
    meta = {"format_version": 1, "dataset": "other", "model_config": model.model_config()}
    (tmp_path / "run.json").write_text(json.dumps(meta))
    loaded = load_run_model(tmp_path)
    assert not loaded.training and loaded.input_spec == model.input_spec
    x = torch.randn(3, *model.input_spec.shape)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model.eval()(x))
