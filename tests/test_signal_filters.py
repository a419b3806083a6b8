"""SOS band-pass and notch: designs, offline (filtfilt) and streaming (sosfilt) forms."""

from __future__ import annotations

import neurokit2 as nk
import numpy as np
import pytest
from scipy.signal import butter, sosfilt, sosfilt_zi, sosfiltfilt, sosfreqz

from cardiostream.signal import (
    StreamingBandpass,
    StreamingNotch,
    bandpass,
    bandpass_sos,
    notch,
    notch_sos,
)

FS = 360.0


def test_offline_is_sosfiltfilt_and_matches_neurokit2(rng):
    # NeuroKit2's butterworth filter designs the same SOS filter by its own call path.
    x = np.cumsum(rng.standard_normal(5000)) * 0.01 + rng.standard_normal(5000) * 0.1
    y = bandpass(x, FS, 0.5, 40.0, order=4)
    sos = butter(4, (0.5, 40.0), btype="bandpass", output="sos", fs=FS)
    assert np.array_equal(bandpass_sos(FS, 0.5, 40.0, 4), sos)
    assert np.array_equal(y, sosfiltfilt(sos, x))
    y_nk = nk.signal_filter(
        x, sampling_rate=FS, lowcut=0.5, highcut=40.0, method="butterworth", order=4
    )
    np.testing.assert_allclose(y, y_nk, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "make", [lambda: StreamingBandpass(FS, 0.5, 40.0), lambda: StreamingNotch(FS)]
)
def test_stream_is_one_causal_pass_from_steady_state(make, rng):
    x = rng.standard_normal(3000) + 2.5  # a DC offset: no start-up transient from it
    step = make()
    y = step.run(x)
    assert step.delay_samples == 0 and y.size == x.size
    expected, _ = sosfilt(step.sos, x, zi=sosfilt_zi(step.sos) * x[0])
    assert np.array_equal(y, expected)
    if isinstance(step, StreamingBandpass):
        const = step.run(np.full(500, 2.5))
        assert np.max(np.abs(const)) < 1e-10  # steady state of a constant is 0 (rounding ~1e-12)


def steady_amplitude(y: np.ndarray, f: float) -> float:
    """Amplitude of the f-Hz component in the middle half of y (least squares)."""
    n = y.size
    mid = slice(n // 4, 3 * n // 4)
    t = np.arange(n)[mid] / FS
    basis = np.column_stack((np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t)))
    coef, *_ = np.linalg.lstsq(basis, y[mid], rcond=None)
    return float(np.hypot(*coef))


@pytest.mark.parametrize("f", [0.1, 0.3, 0.5, 1.0, 10.0, 40.0, 60.0, 100.0])
def test_offline_gain_is_squared_stream_gain(f):
    # Relation of the two forms: stream |H(f)|, offline |H(f)|**2, H from scipy.signal.sosfreqz.
    sos = bandpass_sos(FS, 0.5, 40.0, 4)
    _, h = sosfreqz(sos, worN=[f], fs=FS)
    gain = float(np.abs(h[0]))
    x = np.sin(2 * np.pi * f * np.arange(int(FS * max(60, 40 / f))) / FS)
    stream = steady_amplitude(StreamingBandpass(FS, 0.5, 40.0, 4).run(x), f)
    offline = steady_amplitude(bandpass(x, FS, 0.5, 40.0, 4), f)
    assert stream == pytest.approx(gain, abs=2e-3)
    assert offline == pytest.approx(gain**2, abs=2e-3)


@pytest.mark.parametrize("mains", [50.0, 60.0])
def test_notch_removes_mains_and_keeps_ecg_band(mains, rng):
    t = np.arange(int(FS * 20)) / FS
    ecg_band = np.sin(2 * np.pi * 8.0 * t)
    x = ecg_band + 0.5 * np.sin(2 * np.pi * mains * t)
    for y in (notch(x, FS, mains), StreamingNotch(FS, mains).run(x)):
        assert steady_amplitude(y, mains) < 0.5 * 10 ** (-30 / 20)  # at least 30 dB down
        assert steady_amplitude(y, 8.0) == pytest.approx(1.0, abs=2e-3)
    _, h = sosfreqz(
        notch_sos(FS, mains, 30.0), worN=[mains - mains / 60, mains + mains / 60], fs=FS
    )
    np.testing.assert_allclose(np.abs(h), 2**-0.5, atol=0.02)  # -3 dB width is freq / q
