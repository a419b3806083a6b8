"""Double-median baseline removal: window rounding, stream vs offline, cross-check with medfilt."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import medfilt

from cardiostream.signal import StreamingBaseline, odd_window, remove_baseline

FS = 360.0


@pytest.mark.parametrize(
    ("seconds", "fs", "expected"),
    [
        (0.2, 360.0, 71),  # de Chazal et al. 2004 / Pramukantoro et al. 2025 at MIT-BIH's rate
        (0.6, 360.0, 215),
        (0.2, 130.0, 25),
        (0.6, 130.0, 77),
        (0.2, 500.0, 99),
        (0.2, 250.0, 49),
        (73 / 360, 360.0, 73),  # already odd
        (0.21, 360.0, 75),  # 75.6 → 75
        (0.001, 360.0, 3),  # at least 3 samples
    ],
)
def test_odd_window(seconds, fs, expected):
    assert odd_window(seconds, fs) == expected


def test_window_sequences():
    x = np.sin(np.arange(1000) / 30.0)
    expected = remove_baseline(x, FS, (0.2, 0.6))
    assert np.array_equal(remove_baseline(x, FS, [0.2, 0.6]), expected)
    assert np.array_equal(remove_baseline(x, FS, np.array([0.2, 0.6])), expected)
    assert StreamingBaseline(FS, [0.2, 0.3, 0.6]).windows == (71, 107, 215)


def test_stream_at_n_is_offline_at_n_minus_delay(rng):
    # Exact everywhere, edges included: both forms pad with the nearest sample.
    for n in (1, 30, 141, 142, 143, 500, 4000):
        x = np.cumsum(rng.standard_normal(n)) + 1.0
        step = StreamingBaseline(FS)
        assert step.delay_samples == 35 + 107
        y = step.run(x)
        assert y.size == n + 142
        assert np.array_equal(y[142:], remove_baseline(x, FS))
        assert np.all(y[:142] == 0.0)


def test_offline_matches_scipy_medfilt_away_from_edges(rng):
    # Independent implementation: scipy.signal.medfilt (zero-padded edges, hence the interior).
    x = np.cumsum(rng.standard_normal(5000)) * 0.05 + rng.standard_normal(5000)
    baseline = medfilt(medfilt(x, 71), 215)
    edge = 35 + 107
    y = remove_baseline(x, FS)
    assert np.array_equal(y[edge:-edge], (x - baseline)[edge:-edge])
    assert not np.array_equal(y[:edge], (x - baseline)[:edge])  # medfilt's zero padding differs


def test_offset_and_slow_drift_are_removed_qrs_kept():
    t = np.arange(int(FS * 30)) / FS
    spikes = np.zeros_like(t)
    r_idx = np.arange(100, t.size, 300)
    spikes[r_idx] = 1.0
    qrs = np.convolve(spikes, np.hanning(25), mode="same")
    drift = 1.5 + 0.8 * np.sin(2 * np.pi * 0.2 * t)
    y = remove_baseline(qrs + drift, FS)
    between = np.ones(t.size, bool)
    for r in r_idx:
        between[max(0, r - 20) : r + 20] = False
    # The 1.5 mV offset and 0.8 mV drift are gone (left: 0.009 mV RMS, 0.05 mV at worst) ...
    assert np.sqrt(np.mean(y[between] ** 2)) < 0.02
    assert np.max(np.abs(y[between])) < 0.08
    assert np.min(y[r_idx]) > 0.9  # ... and the 70 ms QRS survives the 200 ms median


def test_running_median_stage_matches_medfilt(rng):
    # The stream's first stage alone (windows_s of one entry) is a causal medfilt.
    x = rng.standard_normal(3000)
    step = StreamingBaseline(FS, windows_s=(0.2,))
    y = step.run(x)
    assert step.delay_samples == 35
    assert np.array_equal(y[35:][35:-35], (x - medfilt(x, 71))[35:-35])


def test_stream_matches_numpy_median_of_every_window(rng):
    # Independent of scipy.ndimage (which scipy.signal.medfilt also calls): np.median of each
    # window, with the first and last sample repeated (w - 1) // 2 times as mode="nearest" does.
    x = np.round(rng.standard_normal(1500), 2)  # rounding makes ties, which medians must handle
    b = x
    for w in (71, 215):
        padded = np.pad(b, (w - 1) // 2, mode="edge")
        b = np.median(np.lib.stride_tricks.sliding_window_view(padded, w), axis=1)
    step = StreamingBaseline(FS)
    chunks = np.array_split(x, np.cumsum(rng.integers(1, 300, 20)))
    y = np.concatenate([step.push(c) for c in chunks] + [step.flush()])
    assert np.array_equal(y[142:], x - b)
