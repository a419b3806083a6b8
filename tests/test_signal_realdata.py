"""cardiostream.signal on real ECG: MIT-BIH record 100, lead MLII, first 5 minutes, with its
reference beat annotations (read with wfdb directly)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import wfdb
from scipy.signal import welch

from cardiostream import signal as cs

pytestmark = pytest.mark.data

FS = 360.0
N = int(5 * 60 * FS)
BEAT_SYMBOLS = set("NLRBAaJSVEFjen/fQ?")


@dataclass(frozen=True)
class Excerpt:
    x: np.ndarray
    r_peaks: np.ndarray


@pytest.fixture(scope="module")
def rec100(mitdb_dir) -> Excerpt:
    path = str(mitdb_dir / "100")
    x = wfdb.rdrecord(path, sampto=N, channels=[0]).p_signal[:, 0].astype(np.float64)
    ann = wfdb.rdann(path, "atr", sampto=N)
    r = np.array([s for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym in BEAT_SYMBOLS])
    return Excerpt(x, r[(r > 100) & (r < N - 100)])


def band_power(y: np.ndarray, lo: float, hi: float) -> float:
    f, p = welch(y, fs=FS, nperseg=2**14)
    return float(p[(f > lo) & (f < hi)].sum())


def test_baseline_removal_cuts_low_frequency_power(rec100):
    y = cs.remove_baseline(rec100.x, FS)
    # Below 0.5 Hz: 92x less power on this excerpt; the median offset goes from -0.35 to 0 mV.
    assert band_power(y, 0, 0.5) < band_power(rec100.x, 0, 0.5) / 20
    assert abs(np.median(y)) < 0.02 < abs(np.median(rec100.x))
    assert band_power(y, 5, 40) == pytest.approx(band_power(rec100.x, 5, 40), rel=0.1)


def test_baseline_stream_equals_offline_on_real_data(rec100):
    step = cs.StreamingBaseline(FS)
    x = rec100.x
    chunks = [step.push(x[i : i + 73]) for i in range(0, x.size, 73)]
    y = np.concatenate([*chunks, step.flush()])
    assert np.array_equal(y[step.delay_samples :], cs.remove_baseline(x, FS))


def test_bandpass_cuts_both_ends_of_the_spectrum(rec100):
    x = rec100.x
    offline = cs.bandpass(x, FS, 0.5, 40.0)
    stream = cs.StreamingBandpass(FS, 0.5, 40.0).run(x)
    # Offline (|H|^2) removes more than the single causal pass (|H|).
    assert band_power(offline, 0, 0.5) < band_power(x, 0, 0.5) / 300
    assert band_power(stream, 0, 0.5) < band_power(x, 0, 0.5) / 30
    assert band_power(offline, 45, 180) < band_power(x, 45, 180) / 10
    assert band_power(stream, 45, 180) < band_power(x, 45, 180) / 3


def r_offsets(y: np.ndarray, r_peaks: np.ndarray, half: int = 36) -> np.ndarray:
    """Position of the maximum within +-100 ms of each annotated beat, relative to it."""
    return np.array([np.argmax(y[r - half : r + half + 1]) - half for r in r_peaks])


def test_preprocessing_keeps_r_peaks_in_place(rec100):
    # Zero-phase offline chain: the R-peak stays at the raw signal's maximum (+-2 samples) for
    # every annotated beat; the causal stream shifts it by the band-pass group delay (~4 samples)
    # after delay_samples is compensated, the same for every beat (+-2 samples).
    x, r = rec100.x, rec100.r_peaks
    raw = r_offsets(x, r)
    offline = r_offsets(cs.preprocess(x, FS), r)
    assert np.all(np.abs(offline - raw) <= 2)
    pipe = cs.streaming_preprocessor(FS)
    streamed = r_offsets(pipe.run(x)[pipe.delay_samples :], r)
    shift = np.median(streamed - raw)
    assert 0 < shift <= 8
    assert np.mean(np.abs(streamed - raw - shift) <= 2) > 0.99


def test_resampling_round_trip_through_polar_rate(rec100):
    x = cs.remove_baseline(rec100.x, FS)
    back = cs.resample(cs.resample(x, FS, 130.0), 130.0, FS)[: x.size]
    inner = slice(1000, -1000)
    rel = np.sqrt(np.mean((back[inner] - x[inner]) ** 2)) / np.std(x[inner])
    assert rel < 0.06  # 3.7 %: what 130 Hz sampling loses of this ECG above 65 Hz


def test_wavelet_stream_close_to_whole_signal_result(rec100):
    x = rec100.x
    step = cs.StreamingWaveletDenoiser(fs=FS)
    stream = step.run(x)[step.delay_samples :]
    offline = cs.wavelet_denoise(x, "db8", step.level)
    removed = np.sqrt(np.mean((x - offline) ** 2))
    gap = np.sqrt(np.mean((stream - offline) ** 2))
    assert 0.005 < removed < 0.05  # mV of noise removed
    assert gap < 0.35 * removed  # 0.0020 vs 0.0119 mV: per-block sigma and N explain the rest


def test_running_zscore_on_ecg(rec100):
    y = cs.RunningZScore(window=10_800).run(cs.remove_baseline(rec100.x, FS))[10_800:]
    assert abs(np.mean(y)) < 0.05
    assert np.std(y) == pytest.approx(1.0, abs=0.05)
