"""Iterative compression (cardiostream.edge.compress) and ``cardiostream compress``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
import typer
from typer.testing import CliRunner

from cardiostream.cli import compress as compress_cli
from cardiostream.cli import evaluate as evaluate_cli
from cardiostream.edge import prune
from cardiostream.edge.compress import CompressConfig, compress_model
from cardiostream.errors import InvalidParameterError
from cardiostream.models import count_parameters, create_model


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture
def toy(rng: np.random.Generator) -> tuple[torch.Tensor, ...]:
    """120 synthetic 64-sample windows of three separable classes (train 80, val 40)."""
    y = rng.integers(0, 3, 120)
    t = np.linspace(0, 1, 64)
    x = np.sin(2 * np.pi * (y[:, None] + 1) * t) + 0.3 * rng.standard_normal((120, 64))
    xt = torch.tensor(x[:, None, :], dtype=torch.float32)
    yt = torch.tensor(y)
    return xt[:80], yt[:80], xt[80:], yt[80:]


def _model(name: str = "resnet1d_attn") -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model(name, input_length=64, input_fs=None)


@pytest.mark.parametrize("method", ["l1", "energy"])
def test_unstructured_compression_reaches_each_target(
    toy: tuple[torch.Tensor, ...], method: str
) -> None:
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cfg = CompressConfig(method=method, sparsity=0.4, steps=3, finetune_epochs=1, kd_alpha=0.5)
    res = compress_model(model, *toy, cfg, batch_size=32)
    assert [s.step for s in res.steps] == [1, 2, 3]
    for s, target in zip(res.steps, (0.4 / 3, 0.8 / 3, 0.4), strict=True):
        assert s.target == pytest.approx(target)
        assert s.sparsity == pytest.approx(target, abs=1e-4)  # exact up to rounding
        assert len(s.finetune.history) == 2
    energies = [s.energy_rel for s in res.steps]
    assert energies == sorted(energies, reverse=True) and energies[-1] < 1.0
    assert res.after.params == res.before.params  # unstructured: shapes unchanged
    assert res.after.nonzero_params < res.before.nonzero_params
    assert prune.weight_sparsity(res.model) == pytest.approx(0.4, abs=1e-4)
    # the source (teacher) model is left untouched
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_energy_aware_terms_against_l1(toy: tuple[torch.Tensor, ...]) -> None:
    runs = {}
    for method, term in (("l1", "layer"), ("energy", "layer"), ("energy", "marginal")):
        cfg = CompressConfig(
            method=method, sparsity=0.4, steps=1, finetune_epochs=0, energy_term=term
        )
        runs[method, term] = compress_model(_model(), *toy, cfg)
    l1, total, marginal = runs["l1", "layer"], runs["energy", "layer"], runs["energy", "marginal"]
    assert l1.sparsity == pytest.approx(total.sparsity) == pytest.approx(marginal.sparsity)
    # the paper's E_l (layer totals) prunes the layer of largest energy harder than L1 does ...
    energies = prune.layer_energies(_model(), torch.zeros(1, 1, 64))
    names = list(prune.prunable_layers(l1.model))
    top = max(names, key=lambda n: energies[n])
    sp = {k: prune.masks_from_zeros(r.model).layer_sparsity()[top] for k, r in runs.items()}
    assert sp["energy", "layer"] > sp["l1", "layer"]
    # ... while the marginal energy (per pruned weight) saves the most energy
    assert marginal.after.energy_pj < l1.after.energy_pj
    assert marginal.after.energy_pj < total.after.energy_pj
    # the product form (magnitude per pJ saved) also saves more energy than L1 at this sparsity
    cfg = CompressConfig(
        method="energy",
        sparsity=0.4,
        steps=1,
        finetune_epochs=0,
        energy_term="marginal",
        energy_combine="product",
    )
    product = compress_model(_model(), *toy, cfg)
    assert product.sparsity == pytest.approx(l1.sparsity)
    assert product.after.energy_pj < l1.after.energy_pj
    with pytest.raises(InvalidParameterError, match="'energy_combine'"):
        CompressConfig(method="energy", sparsity=0.4, energy_combine="mean")


def test_dynamic_schedule_per_layer(toy: tuple[torch.Tensor, ...]) -> None:
    cfg = CompressConfig(method="l1", sparsity=0.5, steps=4, finetune_epochs=0, schedule="dynamic")
    res = compress_model(_model("cnn1d"), *toy, cfg)
    sp = prune.masks_from_zeros(res.model).layer_sparsity()
    names = list(sp)
    betas = prune.schedule_betas(names, 4)
    for n in names:
        n_w = prune.prunable_layers(res.model)[n].weight.numel()
        expect = round(n_w * prune.dynamic_sparsity(0.5, betas[n], 4)) / n_w
        assert sp[n] == pytest.approx(expect, abs=1e-6)  # float32 mean
    assert sp[names[0]] < sp[names[-1]] < 0.5
    # the step's target is the size-weighted mean of the per-layer targets
    assert res.steps[-1].target == pytest.approx(res.steps[-1].sparsity, abs=1e-3)
    assert res.steps[0].target < res.steps[-1].target < 0.5


def test_structured_compression_shrinks_the_model(toy: tuple[torch.Tensor, ...]) -> None:
    model = _model()
    cfg = CompressConfig(method="structured", sparsity=0.5, steps=2, finetune_epochs=1)
    res = compress_model(model, *toy, cfg, batch_size=32)
    assert res.model.model_config()["name"] == "resnet1d_attn_pruned"
    assert res.steps[0].widths["stage3"] == 96 and res.steps[1].widths["stage3"] == 64
    assert count_parameters(res.model) == res.after.params < 0.35 * res.before.params
    assert res.after.macs < 0.35 * res.before.macs and res.energy_rel < 0.35
    assert res.sparsity == pytest.approx(1 - res.after.params / res.before.params)
    assert res.model(toy[2]).shape == (40, 3)


def test_config_is_validated() -> None:
    with pytest.raises(InvalidParameterError, match="'method'"):
        CompressConfig(method="magnitude", sparsity=0.5)
    with pytest.raises(InvalidParameterError, match="'sparsity'"):
        CompressConfig(method="l1", sparsity=1.0)
    with pytest.raises(InvalidParameterError, match="'schedule'"):
        CompressConfig(method="structured", sparsity=0.5, schedule="dynamic")
    with pytest.raises(InvalidParameterError, match="'kd_alpha'"):
        CompressConfig(method="l1", sparsity=0.5, kd_alpha=2)
    with pytest.raises(InvalidParameterError, match="'steps'"):
        CompressConfig(method="l1", sparsity=0.5, steps=0)
    assert CompressConfig(method="l1", sparsity=0.4).targets == pytest.approx(
        (0.08, 0.16, 0.24, 0.32, 0.4)
    )


# -- a tiny real run through the command line -----------------------------------------------

# DS1 records 106 and 119 for training / validation, DS2 record 233 to test.
TRAIN, TEST = ("106", "119"), ("233",)


def _app() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)
    compress_cli.register(app)
    evaluate_cli.register(app)
    return app


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("compress_cache")


@pytest.fixture(scope="module")
def tiny_run(mitdb_dir: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cardiostream.training import TrainConfig, train

    cfg = TrainConfig(
        model="cnn1d",
        input_kind="window",
        classes="nsv",
        protocol="inter",
        epochs=1,
        max_train_beats=300,
        train_records=TRAIN,
        test_records=TEST,
        val_fraction=0.5,
        seed=3,
    )
    out = tmp_path_factory.mktemp("runs") / "base"
    torch.set_num_threads(1)
    train(cfg, out, command="pytest tiny run", progress=False, cache_dir=cache_dir)
    return out


@pytest.mark.data
@pytest.mark.parametrize(
    ("method", "extra"),
    [("l1", ["--kd-alpha", "0.5"]), ("structured", []), ("energy", ["--schedule", "dynamic"])],
)
def test_cli_compress_writes_an_evaluable_run(
    tiny_run: Path,
    cache_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    extra: list[str],
) -> None:
    from cardiostream.training import evaluate_run, load_checkpoint

    monkeypatch.setenv("CARDIOSTREAM_CACHE", str(cache_dir))
    out = tmp_path / method
    args = [
        "compress",
        str(tiny_run),
        "--method",
        method,
        "--sparsity",
        "0.5",
        "--steps",
        "2",
        "--finetune-epochs",
        "1",
        "--max-val-beats",
        "200",
        "--seed",
        "1",
        "--out",
        str(out),
        "--no-progress",
        *extra,
    ]
    res = CliRunner().invoke(_app(), args, terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "run written to" in res.output
    model, meta = load_checkpoint(out)
    _, smeta = load_checkpoint(tiny_run)
    doc = json.loads((out / "run.json").read_text())
    comp = doc["metrics"]["compress"]
    assert comp["config"]["method"] == method and len(comp["steps"]) == 2
    assert comp["source_run"] == str(tiny_run) and comp["n_val_scored"] == 200
    assert (
        doc["metrics"]["fit"] == json.loads((tiny_run / "run.json").read_text())["metrics"]["fit"]
    )
    assert meta.split == smeta.split and meta.train_config == smeta.train_config
    if method == "structured":
        assert meta.model_config["name"] == "cnn1d_pruned"
        assert meta.n_params == count_parameters(model) < 0.35 * smeta.n_params
    else:
        assert meta.model_config == smeta.model_config
        sparsity = prune.weight_sparsity(model)
        assert sparsity == pytest.approx(comp["sparsity"])
        if "dynamic" in extra:  # per-layer s_l(t) = S(1 − exp(−β_l t)) ends below S
            assert 0.2 < sparsity < 0.5
        else:
            assert sparsity == pytest.approx(0.5, abs=1e-4)
        assert comp["after"]["effective_macs"] < comp["before"]["effective_macs"]
    ev = evaluate_run(out, n_boot=10, write=False, cache_dir=cache_dir)
    assert ev.report.n_beats == smeta.split["n_test"]


@pytest.mark.data
def test_cli_rejects_bad_settings(tiny_run: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    args = [
        "compress",
        str(tiny_run),
        "--method",
        "l1",
        "--sparsity",
        "1.5",
        "--out",
        str(tmp_path / "x"),
    ]
    res = runner.invoke(_app(), args, terminal_width=200)
    assert res.exit_code == 1 and "'sparsity'" in res.output
    args = ["compress", str(tiny_run), "--method", "l1", "--out", str(tiny_run)]
    res = runner.invoke(_app(), args, terminal_width=200)
    assert res.exit_code == 1 and "'out'" in res.output
    assert not (tmp_path / "x").exists()


def test_cli_help_lists_the_options() -> None:
    res = CliRunner(env={"COLUMNS": "200"}).invoke(_app(), ["compress", "--help"])
    assert res.exit_code == 0
    for opt in (
        "--method",
        "--sparsity",
        "--steps",
        "--finetune-epochs",
        "--kd-alpha",
        "--kd-temperature",
        "--alpha",
        "--schedule",
        "--out",
    ):
        assert opt in res.output
