"""The beat-classification benchmark script (benchmarks/beats.py): plan, budgets, papers' numbers,
inference timing, and one tiny real row end to end (keys, ranges, resume)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from cardiostream.models import create_model, list_models

_BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load_beats():
    sys.path.insert(0, str(_BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_beats", _BENCH / "beats.py")
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules["bench_beats"] = mod
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(_BENCH))


beats = _load_beats()

ROW_KEYS = {"model", "input", "protocol", "params", "accuracy", "macro_f1", "S_se", "S_ppv",
            "V_se", "V_ppv", "jk", "us_per_beat_b1"}


def test_full_plan_covers_the_zoo() -> None:
    plan = beats.full_plan()
    keys = [s.key for s in plan]
    assert len(keys) == len(set(keys))
    for m in (*beats.PAPER_001_MODELS, *beats.PAPER_003_MODELS):
        for i in ("rr", "morph", "wavelet"):
            for p in ("intra", "inter"):
                assert f"{m}-{i}-aami5-{p}" in keys
    for m in (*beats.PAPER_002_MODELS, "cnn1d_rr"):
        assert sum(s.model == m for s in plan) == 2
        assert all(s.classes == "nsv" for s in plan if s.model == m)
    assert ("beatnet" in list_models()) == any(s.model == "beatnet" for s in plan)
    # every planned model is registered, so no row is dropped as "missing"
    assert {s.model for s in plan} <= set(list_models())


def test_budgets_are_stated_and_bounded() -> None:
    for spec in beats.full_plan():
        b = beats.full_budget(spec)
        assert b.epochs <= 50
        assert b.max_train_beats is None or b.max_train_beats <= 20000
        if spec.model in list_models(framework="sklearn"):
            assert b.max_minutes is None and "one fit" in b.label(fit_once=True)
        elif (spec.model, spec.input_kind, spec.protocol) in beats.REPRODUCTION_ROWS:
            assert b.max_minutes == 15  # the per-configuration training limit
        else:
            assert b.max_minutes is not None and b.max_minutes <= 5
    slow = beats.RowSpec("lstm512", "morph", "aami5", "inter")
    assert beats.full_budget(slow).max_train_beats < beats.DEFAULT_BUDGET.max_train_beats
    assert "≤20000 beats" in beats.DEFAULT_BUDGET.label()


def test_select_patterns() -> None:
    plan = beats.full_plan()
    got = beats.select(plan, "lstm256-*-intra")
    assert [s.key for s in got] == [f"lstm256-{i}-aami5-intra" for i in ("rr", "morph", "wavelet")]
    assert {s.model for s in beats.select(plan, "svm,gru-rr")} == {"svm", "gru"}
    assert beats.select(plan, None) == plan


def test_paper_numbers_match_rows() -> None:
    def row(model: str, inp: str, classes: str, protocol: str) -> dict:
        return {"model": model, "input": inp, "classes": classes, "protocol": protocol}

    hits = beats.paper_matches(row("lstm256", "wavelet", "aami5", "intra"))
    assert [(p["paper"], p["model"], p["accuracy"]) for p in hits] == [
        ("001", "LSTM-Sequential", 99.0)
    ]
    assert hits[0]["per_class"] == {"N": 99, "S": 84, "V": 96, "F": 77, "Q": 20}
    assert beats.paper_matches(row("lstm512", "wavelet", "aami5", "intra")) == hits
    assert beats.paper_matches(row("lstm256", "wavelet", "aami5", "inter")) == []
    (cnn,) = beats.paper_matches(row("cnn1d", "window", "nsv", "inter"))
    assert (cnn["accuracy"], cnn["macro_f1"]) == (91.5, 60.5)
    (svm,) = beats.paper_matches(row("svm", "morph", "aami5", "intra"))
    assert svm["accuracy"] == 89.0 and svm["source"].startswith("Table 2")
    assert beats.paper_matches(row("cnn1d_rr", "window_rr", "nsv", "inter")) == []


def test_shipped_entry_takes_the_twins_ds2_row() -> None:
    rows = [
        {"status": "ok", "model": "beatnet", "protocol": "intra", "key": "a"},
        {"status": "failed", "model": "beatnet", "protocol": "inter", "key": "b"},
        {"status": "ok", "model": "beatnet", "protocol": "inter", "key": "c", "accuracy": 95.0},
    ]
    entry = beats.shipped_entry(rows)
    assert set(entry) == {
        "name", "bytes", "package_bytes", "us_per_beat_b1", "reason", "ds2_row", "twin_ds2"
    }
    assert entry["ds2_row"]["key"] == "c"
    # measured, or null with a reason
    assert (entry["name"] is not None) or (entry["reason"] and entry["us_per_beat_b1"] is None)
    assert beats.shipped_entry([])["ds2_row"] is None


@pytest.mark.slow
def test_inference_costs_torch_and_onnx(rng: np.random.Generator) -> None:
    torch.manual_seed(0)
    model = create_model("lstm_fcn", input_kind="rr", num_classes=5).eval()
    x = rng.standard_normal((8, *model.input_spec.shape)).astype(np.float32)
    costs = beats.inference_costs(model, x, min_seconds=0.01)
    assert costs["runtime"] == "torch" and costs["onnx_error"] is None
    assert costs["onnx_exporter"] in ("dynamo", "torchscript")
    for k in ("us_per_beat_b1", "us_per_beat_b256", "onnx_us_per_beat_b1", "onnx_us_per_beat_b256"):
        assert costs[k] > 0
    assert costs["onnx_max_abs_diff"] < 1e-4


def test_inference_costs_sklearn(rng: np.random.Generator) -> None:
    model = create_model("decision_tree", input_kind="rr", num_classes=5)
    x = rng.standard_normal((40, *model.input_spec.shape)).astype(np.float32)
    model.fit(x, np.arange(40) % 5)
    costs = beats.inference_costs(model, x, min_seconds=0.01)
    assert costs["runtime"] == "sklearn" and costs["us_per_beat_b1"] > 0
    assert costs["onnx_us_per_beat_b1"] is None and "scikit-learn" in costs["onnx_error"]


@pytest.mark.data
def test_one_tiny_row_end_to_end(mitdb_dir: Path, tmp_path: Path) -> None:
    spec = beats.RowSpec("random_forest", "rr", "aami5", "intra")
    budget = beats.Budget(300, None, 1, 0, train_records=("106", "119", "208", "209"))
    out, work = tmp_path / "res", tmp_path / "work"
    kwargs = dict(mode="quick", n_boot=20, timing_seconds=0.02, data_dir=mitdb_dir.parent,
                  cache_dir=tmp_path / "cache", argv=["benchmarks/beats.py", "--test"])
    data = beats.run_benchmark([(spec, budget)], out, work, **kwargs)
    on_disk = json.loads((out / "beats.json").read_text())
    assert on_disk["rows"] == data["rows"]
    for key in ("rows", "shipped", "machine", "versions", "date", "command", "budget", "papers"):
        assert key in on_disk
    assert set(on_disk["shipped"]) >= {"name", "bytes", "us_per_beat_b1", "ds2_row"}
    (row,) = on_disk["rows"]
    assert set(row) >= ROW_KEYS and row["status"] == "ok"
    assert (row["model"], row["input"], row["protocol"]) == ("random_forest", "rr", "intra")
    assert row["params"] is None and row["runtime"] == "sklearn"  # classical: no torch params
    for k in ("accuracy", "macro_f1", "S_se", "V_se", "V_ppv"):
        assert 0.0 <= row[k] <= 100.0
    assert row["accuracy"] > 50.0  # N dominates these records
    assert 0.0 <= row["jk"] <= 1.0
    assert row["us_per_beat_b1"] > 0 and row["onnx_us_per_beat_b1"] is None
    assert row["n_train"] <= 300 < row["n_train_uncapped"]
    assert row["budget"]["max_train_beats"] == 300
    assert set(row["per_class_se"]) == {"N", "S", "V", "F", "Q"}
    # the metrics are evaluate_run's, written next to the run as `cardiostream evaluate` does
    metrics = json.loads((tmp_path / "work" / "runs" / spec.key / "eval" / "metrics.json")
                         .read_text())
    assert row["accuracy"] == pytest.approx(100 * metrics["report"]["accuracy"], abs=1e-3)
    md = (out / "beats.md").read_text()
    assert "random_forest" in md and "92.5 (003 Table 2)" in md and "Budget" in md
    # a second run resumes: the finished row is kept, not recomputed
    again = beats.run_benchmark([(spec, budget)], out, work, **kwargs)
    assert again["rows"][0]["finished"] == row["finished"]
