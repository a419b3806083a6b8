"""The shipped beat classifier and the inference path (cardiostream.classify)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import cardiostream
from cardiostream.classify import (
    INCONCLUSIVE,
    RR_WARMUP,
    BeatClassifier,
    BeatPredictions,
    default_model_path,
)
from cardiostream.datasets import load_mitdb_annotations, load_mitdb_record
from cardiostream.errors import CardiostreamError
from cardiostream.signal import resample
from cardiostream.synth import synthesize_ecg


@pytest.fixture(scope="module")
def clf() -> BeatClassifier:
    return cardiostream.load_default_model()


def test_shipped_model_is_small_and_self_describing(clf: BeatClassifier) -> None:
    path = default_model_path()
    weights = (path / "model.safetensors").stat().st_size
    assert weights + (path / "run.json").stat().st_size <= 1_000_000
    assert (path / "MODEL_CARD.md").is_file()
    meta = json.loads((path / "run.json").read_text())
    assert meta["train_config"]["protocol"] == "full"
    assert len(meta["split"]["train_records"]) + len(meta["split"]["val_records"]) == 44
    assert clf.classes == ("N", "S", "V")
    assert clf.preprocessing.input_kind == "beat_ctx"
    assert 0.2 < clf.temperature < 5


def test_synthetic_normal_rhythm_is_normal(clf: BeatClassifier) -> None:
    rec = synthesize_ecg(duration_s=120.0, fs=360.0, heart_rate=70.0, seed=1)
    pred = clf.classify(rec.record.lead(0), rec.record.fs, rec.r_peaks)
    assert isinstance(pred, BeatPredictions)
    assert np.all(pred.labels[: RR_WARMUP + 1] == INCONCLUSIVE)
    conclusive = pred.labels != INCONCLUSIVE
    assert np.mean(pred.labels[conclusive] == "N") > 0.95
    np.testing.assert_allclose(pred.probabilities[conclusive].sum(axis=1), 1.0)


@pytest.mark.data
@pytest.mark.parametrize("fs", [360.0, 130.0])
def test_record_119_bigeminy_found_at_both_rates(
    clf: BeatClassifier, fs: float, mitdb_dir: Path
) -> None:
    """Accuracy against an annotated record the shipped model saw in training (119: PVCs in
    bigeminy); held-out numbers are the twin's, in the model card."""
    rec = load_mitdb_record("119")
    ann = load_mitdb_annotations("119")
    x, peaks, labels = rec.lead(0), ann.samples, ann.aami
    if fs != rec.fs:
        x = resample(x, rec.fs, fs)
        peaks = np.round(peaks * fs / rec.fs).astype(np.int64)
    pred = clf.classify(x, fs, peaks)
    ok = pred.labels != INCONCLUSIVE
    assert ok.mean() > 0.99
    v = labels == "V"
    se = np.mean(pred.labels[ok & v] == "V")
    ppv = np.mean(labels[ok & (pred.labels == "V")] == "V")
    acc = np.mean(pred.labels[ok] == labels[ok])
    assert se > 0.97 and ppv > 0.97 and acc > 0.97


@pytest.mark.data
def test_130_hz_agrees_with_360_hz(clf: BeatClassifier, mitdb_dir: Path) -> None:
    """The same beats at the strap's rate get the same labels almost everywhere."""
    rec = load_mitdb_record("208")
    ann = load_mitdb_annotations("208")
    a = clf.classify(rec.lead(0), rec.fs, ann.samples)
    x = resample(rec.lead(0), rec.fs, 130.0)
    b = clf.classify(x, 130.0, np.round(ann.samples * 130.0 / rec.fs).astype(np.int64))
    both = (a.labels != INCONCLUSIVE) & (b.labels != INCONCLUSIVE)
    assert np.mean(a.labels[both] == b.labels[both]) > 0.95


def test_bad_input_raises(clf: BeatClassifier) -> None:
    with pytest.raises(CardiostreamError, match="signal"):
        clf.classify(np.zeros((10, 2)), 360.0, np.array([1, 2]))
    with pytest.raises(CardiostreamError, match="fs"):
        clf.classify(np.zeros(1000), -1.0, np.array([100, 400]))
    with pytest.raises(CardiostreamError, match="r_peaks"):
        clf.classify(np.zeros(1000), 360.0, np.array([400, 100]))


def test_no_beats_gives_empty_predictions(clf: BeatClassifier) -> None:
    pred = clf.classify(np.zeros(3600), 360.0, np.zeros(0, dtype=np.int64))
    assert len(pred) == 0 and pred.probabilities.shape == (0, 3)
