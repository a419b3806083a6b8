"""The live per-patient pipeline builds exactly the offline model inputs, for any chunking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from beat_models import untrained_beatnet
from cardiostream.classify import RR_WARMUP, BeatClassifier
from cardiostream.datasets import load_mitdb_record
from cardiostream.detect import detect_rpeaks
from cardiostream.errors import CardiostreamError
from cardiostream.live import LiveBeatPipeline
from cardiostream.quality import assess_quality
from cardiostream.signal import resample
from cardiostream.synth import synthesize_ecg


def _classifier(seed: int = 0) -> BeatClassifier:
    return untrained_beatnet(seed)


def _offline(clf: BeatClassifier, x: np.ndarray, fs: float):
    peaks = np.asarray(detect_rpeaks(x, fs), np.int64)
    beats, rows = clf.beats(x, fs, peaks)
    raw = clf.preprocessing.raw_features(beats)
    inputs: list[np.ndarray | None] = [None] * peaks.size
    for i, r in enumerate(rows):
        if r >= 0 and np.all(np.isfinite(raw[r])):
            inputs[i] = clf.preprocessing.transform_features(raw[r : r + 1])[0]
    usable = assess_quality(x, fs, peaks).beat_usable
    return peaks, inputs, usable


def _live(clf: BeatClassifier, x: np.ndarray, fs: float, chunks: list[int]):
    pipe = LiveBeatPipeline(fs, clf.preprocessing, rr_warmup=RR_WARMUP)
    out, i = [], 0
    for n in chunks:
        out += pipe.push(x[i : i + n])
        i += n
    assert i == x.size
    return out + pipe.flush()


def _chunkings(n: int, seed: int) -> dict[str, list[int]]:
    rng = np.random.default_rng(seed)
    rand = []
    while sum(rand) < n:
        rand.append(int(rng.integers(1, 400)))
    rand[-1] -= sum(rand) - n
    return {"one": [n], "polar73": [73] * (n // 73) + [n % 73], "random": rand}


def _check_equal(clf: BeatClassifier, x: np.ndarray, fs: float, seed: int = 0) -> None:
    peaks, inputs, usable = _offline(clf, x, fs)
    for name, chunks in _chunkings(x.size, seed).items():
        live = _live(clf, x, fs, [c for c in chunks if c > 0])
        assert [b.sample for b in live] == peaks.tolist(), name
        for b, want, u in zip(live, inputs, usable, strict=True):
            assert b.usable == bool(u), name
            if want is None:
                assert b.x is None, name
            else:
                assert b.x is not None and np.array_equal(b.x, want), name


def test_live_equals_offline_on_synthetic_ectopy() -> None:
    rec = synthesize_ecg(duration_s=90.0, fs=250.0, ectopic_rate=0.15, seed=4).record
    _check_equal(_classifier(), rec.lead(0), rec.fs)


@pytest.mark.data
@pytest.mark.parametrize("fs", [360.0, 130.0])
def test_live_equals_offline_on_mitdb_119(fs: float, mitdb_dir: Path) -> None:
    rec = load_mitdb_record("119")
    x = rec.lead(0)[: int(240 * rec.fs)]
    if fs != rec.fs:
        x = resample(x, rec.fs, fs)
    _check_equal(_classifier(), x, fs, seed=1)


def test_live_labels_equal_offline_labels() -> None:
    clf = _classifier(3)
    rec = synthesize_ecg(duration_s=60.0, fs=130.0, ectopic_rate=0.2, seed=2).record
    x = rec.lead(0)
    peaks = np.asarray(detect_rpeaks(x, rec.fs), np.int64)
    offline = clf.classify(x, rec.fs, peaks)
    live = _live(clf, x, rec.fs, [73] * (x.size // 73) + [x.size % 73])
    xs = np.stack([b.x for b in live if b.x is not None])
    probs = clf.predict_inputs(xs)
    defined = np.array([b.x is not None for b in live])
    np.testing.assert_allclose(probs, offline.probabilities[defined], rtol=1e-5, atol=1e-6)
    assert np.all(np.isnan(offline.probabilities[~defined]))


def test_bad_chunks_and_settings_raise() -> None:
    clf = _classifier()
    pipe = LiveBeatPipeline(130.0, clf.preprocessing)
    with pytest.raises(CardiostreamError, match="chunk"):
        pipe.push(np.array([0.0, np.nan]))
    with pytest.raises(CardiostreamError, match="fs"):
        LiveBeatPipeline(50.0, clf.preprocessing)
    pipe.flush()
    with pytest.raises(CardiostreamError, match="flushed"):
        pipe.push(np.zeros(10))
