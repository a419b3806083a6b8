"""Streaming == offline, exactly, for every detector and any chunking; the stated delay holds."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import resample_poly

from cardiostream.detect import StreamingDetector, detect_rpeaks, list_detectors
from cardiostream.detect._features import (
    AbsDiff,
    CausalSOS,
    FivePointDerivative,
    MovingAverage,
    RunningSum,
)
from cardiostream.detect._stream import _local_maxima
from cardiostream.synth import synthesize_ecg

METHODS = list_detectors()


def _stream(x: np.ndarray, fs: float, method: str, sizes: list[int]) -> tuple[np.ndarray, list]:
    """Push ``x`` in chunks of ``sizes`` (cycled); return the peaks and (n_after_push, peaks)."""
    det = StreamingDetector(fs, method)
    out, log, i, k = [], [], 0, 0
    while i < x.size:
        n = sizes[k % len(sizes)]
        p = det.push(x[i : i + n])
        i = min(i + n, x.size)
        k += 1
        out.append(p)
        log.append((i, p))
    out.append(det.flush())
    return np.concatenate(out), log


def _random_sizes(rng: np.random.Generator, hi: int, count: int = 4000) -> list[int]:
    return [int(v) for v in rng.integers(1, hi + 1, size=count)]


@pytest.fixture(scope="module")
def noisy_synthetic() -> np.ndarray:
    syn = synthesize_ecg(
        duration_s=25.0, fs=250.0, heart_rate=95.0, ectopic_rate=0.15, baseline_mv=0.2,
        emg_mv=0.05, seed=5,
    )
    return np.asarray(syn.record.lead(0))


@pytest.mark.parametrize("method", METHODS)
def test_one_sample_pushes_equal_offline(noisy_synthetic: np.ndarray, method: str) -> None:
    offline = detect_rpeaks(noisy_synthetic, 250.0, method)
    assert offline.size > 30
    streamed, _ = _stream(noisy_synthetic, 250.0, method, [1])
    assert np.array_equal(streamed, offline)


@pytest.mark.parametrize("method", METHODS)
def test_random_chunks_equal_offline_and_delay_holds(
    noisy_synthetic: np.ndarray, method: str, rng: np.random.Generator
) -> None:
    fs = 250.0
    offline = detect_rpeaks(noisy_synthetic, fs, method)
    delay = math.ceil(StreamingDetector(fs, method).delay_s * fs)
    for hi in (7, 300, noisy_synthetic.size):
        streamed, log = _stream(noisy_synthetic, fs, method, _random_sizes(rng, hi))
        assert np.array_equal(streamed, offline)
        reported = 0
        for n, p in log:
            reported += p.size
            # every peak at least `delay` samples old has been reported
            assert reported >= np.searchsorted(offline, n - delay, side="right")


@pytest.mark.data
@pytest.mark.parametrize("method", METHODS)
def test_real_record_random_chunks(mitdb_dir: Path, method: str, rng: np.random.Generator) -> None:
    """Record 207, 30–150 s: flutter episodes, block, PVCs; chunks of 1 to 5000 samples."""
    from cardiostream.datasets import load_mitdb_record

    x = load_mitdb_record("207", mitdb_dir.parent).lead(0)[30 * 360 : 150 * 360]
    offline = detect_rpeaks(x, 360.0, method)
    for hi in (50, 5000):
        streamed, _ = _stream(x, 360.0, method, _random_sizes(rng, hi))
        assert np.array_equal(streamed, offline)


@pytest.mark.data
@pytest.mark.parametrize("method", METHODS)
def test_polar_like_frames_at_130_hz(mitdb_dir: Path, method: str) -> None:
    """Polar H10 delivers 73-sample frames at 130 Hz; MIT-BIH 208 resampled to 130 Hz."""
    from cardiostream.datasets import load_mitdb_record

    x = resample_poly(load_mitdb_record("208", mitdb_dir.parent).lead(0)[: 180 * 360], 13, 36)
    offline = detect_rpeaks(x, 130.0, method)
    streamed, _ = _stream(x, 130.0, method, [73])
    assert offline.size > 150
    assert np.array_equal(streamed, offline)


def test_polar_recording_frames(polar_dir: Path) -> None:
    """The real Polar H10 recording (≈130.16 Hz), streamed in 73-sample frames."""
    from cardiostream.datasets import load_polar_h10

    rec = load_polar_h10(data_dir=polar_dir.parent)
    x = np.nan_to_num(np.asarray(rec.lead(0)))
    offline = detect_rpeaks(x, rec.fs)
    streamed, _ = _stream(x, rec.fs, "cardiostream", [73])
    assert np.array_equal(streamed, offline)
    assert 780 <= offline.size <= 820  # the device itself reports 798 RR intervals


# -- the building blocks -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda: CausalSOS(360.0, 5.0, 15.0, 2),
        lambda: FivePointDerivative(360.0),
        lambda: MovingAverage(54),
        RunningSum,
        AbsDiff,
    ],
    ids=["sos", "derivative", "moving_average", "running_sum", "abs_diff"],
)
def test_feature_stages_are_chunk_invariant(make, rng: np.random.Generator) -> None:  # type: ignore[no-untyped-def]
    x = rng.standard_normal(3000) + 2.0
    whole = make()(x)
    for sizes in ([1], _random_sizes(rng, 100), _random_sizes(rng, 2999)):
        stage, out, i, k = make(), [], 0, 0
        while i < x.size:
            out.append(stage(x[i : i + sizes[k % len(sizes)]]))
            i += sizes[k % len(sizes)]
            k += 1
        assert np.array_equal(np.concatenate(out), whole)


def test_moving_average_and_derivative_values() -> None:
    x = np.arange(10.0) ** 2
    want = [(x[i - 2] + x[i - 1] + x[i]) / 3 for i in range(2, 10)]
    assert np.allclose(MovingAverage(3)(x)[2:], want)
    # five-point derivative of Pan & Tompkins: exact for a ramp (slope 1 per sample -> fs)
    d = FivePointDerivative(200.0)(np.arange(20.0))
    assert np.allclose(d[4:], 200.0)
    # ... and its gain at 10 Hz, 200 Hz, is that of the paper's filter: |sin(wT) + sin(2wT)/2|/(2T)
    fs, f = 200.0, 10.0
    w = 2 * np.pi * f / fs
    y = FivePointDerivative(fs)(np.sin(w * np.arange(400)))
    paper = fs * abs(2 * np.sin(w) + np.sin(2 * w)) / 4
    assert np.isclose(np.abs(y[100:]).max(), paper, rtol=1e-3)


def test_local_maxima_definition(rng: np.random.Generator) -> None:
    """Strict maximum within ±r, first sample of a plateau, above the floor, any sub-range."""
    for _ in range(200):
        n, r = int(rng.integers(5, 120)), int(rng.integers(0, 6))
        y = np.round(rng.standard_normal(n), 1)
        lo = int(rng.integers(0, n))
        hi = int(rng.integers(lo, n + 1))
        got = _local_maxima(0, [y], lo, hi, 0, r, 0.0).tolist()
        want = [
            i for i in range(lo, hi)
            if y[i] > 0
            and all(y[i] >= y[j] for j in range(max(0, i - r), min(n, i + r + 1)))
            and all(y[i] > y[j] for j in range(max(0, i - r), i))
        ]
        assert got == want
