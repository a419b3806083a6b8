"""A tiny real training run on three MIT-BIH records: checkpoint, reload, evaluation."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from cardiostream.datasets import load_mitdb_annotations
from cardiostream.errors import CardiostreamError, InvalidParameterError
from cardiostream.training import (
    TensorSet,
    TrainConfig,
    TrainedRun,
    evaluate_run,
    load_checkpoint,
    predict_logits,
    prepare_data,
    train,
)
from cardiostream.training.checkpoint import META_FILE, SKLEARN_FILE, WEIGHTS_FILE

pytestmark = pytest.mark.data

# DS1 records 106 (many V) and 119 (V bigeminy) for training/validation; DS2 record 233 to test.
TRAIN, TEST = ("106", "119"), ("233",)


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("training_cache")


@pytest.fixture(scope="module")
def run(mitdb_dir: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainedRun:
    cfg = TrainConfig(
        model="cnn1d",
        input_kind="window",
        classes="nsv",
        protocol="inter",
        epochs=1,
        max_train_beats=400,
        train_records=TRAIN,
        test_records=TEST,
        val_fraction=0.5,
        seed=7,
    )
    out = tmp_path_factory.mktemp("runs") / "cnn1d"
    torch.set_num_threads(1)
    return train(cfg, out, command="pytest tiny run", progress=False, cache_dir=cache_dir)


def test_checkpoint_is_complete(run: TrainedRun) -> None:
    assert (run.run_dir / WEIGHTS_FILE).is_file()
    meta = json.loads((run.run_dir / META_FILE).read_text())
    assert meta["model_config"]["name"] == "cnn1d" and meta["n_params"] == 188_035
    prep = meta["preprocessing"]
    assert prep["fs"] == 360.0 and prep["lead"] == 0 and prep["classes"] == ["N", "S", "V"]
    assert prep["window_s"] == [128 / 360, 127 / 360] and prep["normalize"] == "none"
    assert meta["train_config"]["epochs"] == 1 and meta["command"] == "pytest tiny run"
    assert len(meta["metrics"]["fit"]["history"]) == 1
    assert {"torch", "numpy", "cardiostream"} <= set(meta["versions"]) and meta["created"]
    assert meta["split"]["n_train"] <= 400 and meta["split"]["n_train_uncapped"] > 400


def test_validation_records_are_training_records_never_test(run: TrainedRun) -> None:
    s = run.meta.split
    assert set(s["val_records"]) < set(TRAIN) and set(s["train_records"]) < set(TRAIN)
    assert not set(s["val_records"]) & set(s["train_records"])
    assert s["test_records"] == list(TEST)
    beats = run.data.dataset.beats
    assert set(beats.record_ids[run.data.split.val]) == set(s["val_records"])
    assert set(beats.record_ids[run.data.split.test]) == set(TEST)


def test_reloaded_checkpoint_predicts_identically(run: TrainedRun) -> None:
    model, meta = load_checkpoint(run.run_dir)
    assert meta.preprocessing == run.meta.preprocessing
    assert meta.train_config == run.meta.train_config
    beats = run.data.dataset.beats
    xs = TensorSet.from_beats(beats, meta.preprocessing, run.data.split.test).x
    np.testing.assert_array_equal(predict_logits(model, xs), predict_logits(run.model, xs))


def test_evaluation_writes_report_and_calibrates(run: TrainedRun, cache_dir: Path) -> None:
    ev = evaluate_run(run.run_dir, n_boot=50, abstain_threshold=0.5, cache_dir=cache_dir)
    assert ev.report.n_beats == run.meta.split["n_test"] and ev.report.classes == ("N", "S", "V")
    assert ev.calibration.val_nll_after <= ev.calibration.val_nll_before
    pred = np.load(run.run_dir / "eval" / "predictions.npz")
    assert ev.abstain_report is not None
    assert ev.abstain_report.coverage == pytest.approx(np.mean(pred["confidence"] >= 0.5))
    assert np.sum(pred["y_pred"] == pred["y_true"]) == np.trace(ev.report.confusion)
    files = {p.name for p in (run.run_dir / "eval").iterdir()}
    assert {"metrics.json", "report.md", "confusion.png", "coverage.png"} <= files
    doc = json.loads((run.run_dir / "eval" / "metrics.json").read_text())
    assert doc["report"]["confusion_matrix"] == ev.report.confusion.tolist()
    assert set(doc["ci"]) >= {"accuracy", "macro_f1", "V_se", "V_ppv", "jk"}


def test_end_to_end_counts_missed_beats(run: TrainedRun, cache_dir: Path) -> None:
    ev = evaluate_run(run.run_dir, protocol_c=True, n_boot=20, write=False, cache_dir=cache_dir)
    e = ev.end_to_end
    assert e is not None and ev.protocol == "end_to_end"
    ref = load_mitdb_annotations("233").counts()
    np.testing.assert_array_equal(e.reference, [ref[c] for c in "NSV"])
    np.testing.assert_array_equal(e.confusion.sum(axis=1), e.reference)  # every beat counted
    np.testing.assert_array_equal(e.confusion[:, -1], e.undetected + e.unclassified)
    assert e.accuracy == pytest.approx(np.trace(e.confusion[:, :3]) / e.reference.sum())


def test_tampered_split_is_detected(run: TrainedRun, tmp_path: Path, cache_dir: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run.run_dir, copy)
    meta = json.loads((copy / META_FILE).read_text())
    meta["split"]["n_test"] += 1
    (copy / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(CardiostreamError, match="differs"):
        evaluate_run(copy, n_boot=10, write=False, cache_dir=cache_dir)


def test_classical_intra_run_round_trips(
    mitdb_dir: Path, tmp_path: Path, cache_dir: Path
) -> None:
    cfg = TrainConfig(
        model="decision_tree", input_kind="rr", protocol="intra", train_records=TRAIN, seed=1
    )
    data = prepare_data(cfg, cache_dir=cache_dir)
    n = data.split.train.size + data.split.val.size + data.split.test.size
    assert abs(data.split.test.size / n - 0.3) < 0.002
    assert np.isfinite(data.dataset.beats.rr_features[data.split.train]).all()
    trained = train(cfg, tmp_path / "dt", progress=False, cache_dir=cache_dir)
    assert (tmp_path / "dt" / SKLEARN_FILE).is_file()
    model, _ = load_checkpoint(tmp_path / "dt")
    x = TensorSet.from_beats(data.dataset.beats, trained.meta.preprocessing, data.split.test).x
    np.testing.assert_array_equal(model.predict_proba(x), trained.model.predict_proba(x))
    with pytest.raises(InvalidParameterError, match="protocol_c"):
        evaluate_run(tmp_path / "dt", protocol_c=True, write=False, cache_dir=cache_dir)
