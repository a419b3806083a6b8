"""Synthetic ECG generator: true peaks, heart rate, PVCs, noise and determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import signal as sps

from cardiostream.errors import InvalidParameterError
from cardiostream.synth import synthesize_ecg

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("fs", [100.0, 130.0, 360.0, 1000.0])
def test_peaks_are_at_the_stated_positions(fs: float) -> None:
    s = synthesize_ecg(30.0, fs, 75.0, ectopic_rate=0.15, seed=2)
    half = round(0.05 * fs)
    x = np.pad(s.clean, half, constant_values=-np.inf)
    idx = s.r_peaks[:, None] + np.arange(2 * half + 1)[None, :]
    np.testing.assert_array_equal(
        idx[np.arange(idx.shape[0]), np.argmax(x[idx], axis=1)] - half, s.r_peaks
    )
    assert s.record.fs == fs and s.record.n_samples == round(30.0 * fs)
    assert s.r_peaks.dtype == np.int64 and np.all(np.diff(s.r_peaks) > 0)


@pytest.mark.parametrize(("hr", "fs"), [(45.0, 250.0), (72.0, 360.0), (120.0, 130.0)])
def test_heart_rate_is_as_requested(hr: float, fs: float) -> None:
    s = synthesize_ecg(120.0, fs, hr, ectopic_rate=0.05, seed=5)
    measured = 60.0 / np.mean(np.diff(s.r_peaks) / fs)
    assert abs(measured - hr) < 1.0
    assert abs(s.r_peaks.size - hr * 2) <= 3


def test_pvcs_are_premature_with_a_compensatory_pause() -> None:
    s = synthesize_ecg(120.0, 360.0, 60.0, ectopic_rate=0.2, coupling=0.6, hrv=0.0, rsa=0.0, seed=1)
    v = np.flatnonzero(s.labels == "V")
    assert v.size > 10 and v[0] > 0 and set(np.unique(s.labels)) == {"N", "V"}
    assert not np.any(np.diff(v) == 1)  # never two PVCs in a row
    v = v[v < s.r_peaks.size - 1]
    rr = np.diff(s.r_peaks) / 360.0
    np.testing.assert_allclose(rr[v - 1], 0.6, atol=1.5 / 360)  # coupling interval
    np.testing.assert_allclose(rr[v], 1.4, atol=1.5 / 360)  # compensatory pause


def test_same_seed_same_output_and_other_seed_differs() -> None:
    kw = dict(ectopic_rate=0.1, baseline_mv=0.3, mains_mv=0.05, emg_mv=0.05)
    a = synthesize_ecg(20.0, 250.0, 70.0, seed=11, **kw)
    b = synthesize_ecg(20.0, 250.0, 70.0, seed=11, **kw)
    c = synthesize_ecg(20.0, 250.0, 70.0, seed=12, **kw)
    np.testing.assert_array_equal(a.record.signal, b.record.signal)
    np.testing.assert_array_equal(a.r_peaks, b.r_peaks)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.record.signal, c.record.signal)


def test_stored_output() -> None:
    """The signal stored by tests/data/beats_make_expected.py (seed 7, 130 Hz, noisy)."""
    ref = np.load(DATA / "beats_expected.npz")
    s = synthesize_ecg(20.0, 130.0, 80.0, ectopic_rate=0.15, baseline_mv=0.2, emg_mv=0.03, seed=7)
    np.testing.assert_array_equal(s.r_peaks, ref["true_peaks"])
    # exp/sin/filtering may differ by a few ulps between platforms.
    np.testing.assert_allclose(s.record.lead(0), ref["signal"], rtol=0, atol=1e-12)


def test_noise_components_have_the_requested_amplitude() -> None:
    fs = 500.0
    base = synthesize_ecg(60.0, fs, 70.0, seed=4)
    mains = synthesize_ecg(60.0, fs, 70.0, mains_mv=0.1, mains_hz=60.0, seed=4)
    emg = synthesize_ecg(60.0, fs, 70.0, emg_mv=0.05, seed=4)
    wander = synthesize_ecg(60.0, fs, 70.0, baseline_mv=0.5, seed=4)
    np.testing.assert_array_equal(base.clean, mains.clean)
    d = mains.record.lead(0) - mains.clean
    f, p = sps.periodogram(d, fs)
    assert abs(f[np.argmax(p)] - 60.0) < 0.1
    np.testing.assert_allclose(np.sqrt(2 * np.mean(d**2)), 0.1, rtol=1e-3)  # sine peak amplitude
    e = emg.record.lead(0) - emg.clean
    np.testing.assert_allclose(np.sqrt(np.mean(e**2)), 0.05, rtol=1e-9)
    f, p = sps.welch(e, fs, nperseg=1024)
    assert p[f < 10].max() < 0.01 * p.max()  # band-limited above ~20 Hz
    w = wander.record.lead(0) - wander.clean
    assert 0.3 < np.ptp(w) / 2 <= 0.5 and np.abs(np.diff(w)).max() < 0.01


def test_bad_parameters_raise_named_errors() -> None:
    for kw, name in (
        (dict(duration_s=0.0), "duration_s"),
        (dict(fs=20.0), "fs"),
        (dict(heart_rate=300.0), "heart_rate"),
        (dict(ectopic_rate=0.9), "ectopic_rate"),
        (dict(emg_mv=-1.0), "emg_mv"),
    ):
        with pytest.raises(InvalidParameterError, match=f"'{name}'"):
            synthesize_ecg(**kw)
