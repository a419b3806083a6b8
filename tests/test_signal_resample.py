"""Polyphase resampling: rational ratios, offline vs scipy/wfdb, streaming vs resample_poly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly
from wfdb.processing import resample_sig

from cardiostream.signal import StreamingResampler, resample, resample_ratio


@pytest.mark.parametrize(
    ("fs_in", "fs_out", "max_den", "up", "down"),
    [
        (130.0, 360.0, 1000, 36, 13),  # Polar H10 → MIT-BIH rate
        (360.0, 130.0, 1000, 13, 36),
        (500.0, 100.0, 1000, 1, 5),
        (360.0, 360.0, 1000, 1, 1),
        (130.16, 360.0, 1000, 2752, 995),
        (130.16, 360.0, 100, 130, 47),
        (250, 360, 1000, 36, 25),
    ],
)
def test_rational_ratio(fs_in, fs_out, max_den, up, down):
    r = resample_ratio(fs_in, fs_out, max_den)
    assert (r.up, r.down) == (up, down)
    assert r.fs_out == pytest.approx(fs_in * up / down)
    exact = (fs_in, fs_out) != (130.16, 360.0)
    assert (r.relative_error == 0.0) == exact
    assert abs(r.relative_error) < (1e-6 if max_den == 1000 else 1e-4)


def test_offline_is_resample_poly_with_default_filter(rng):
    x = rng.standard_normal(1000)
    assert np.array_equal(resample(x, 130.0, 360.0), resample_poly(x, 36, 13))
    y = resample(x, 130.16, 360.0)
    assert np.array_equal(y, resample_poly(x, 2752, 995))
    assert y.size == int(np.ceil(1000 * 2752 / 995))


@pytest.mark.parametrize(
    ("fs_in", "fs_out", "delay"),
    [(130.0, 360.0, 28), (360.0, 130.0, 11), (500.0, 100.0, 11), (130.16, 360.0, 28)],
)
def test_stream_equals_resample_poly_after_delay(fs_in, fs_out, delay, rng):
    # Same taps, different summation order: equal to 1e-12 of the signal scale.
    x = np.cumsum(rng.standard_normal(4000)) * 0.05 + 1.0
    step = StreamingResampler(fs_in, fs_out)
    assert step.delay_samples == delay
    y = step.run(x)
    expected = resample(x, fs_in, fs_out)
    assert y.size == expected.size + delay
    assert np.all(y[:delay] == 0.0)
    np.testing.assert_allclose(y[delay:], expected, rtol=0, atol=1e-12 * np.abs(x).max())


def test_identity_rate_is_a_copy(rng):
    x = rng.standard_normal(100)
    step = StreamingResampler(360.0, 360.0)
    assert step.delay_samples == 0
    y = step.push(x)
    assert np.array_equal(y, x) and y is not x
    assert np.array_equal(resample(x, 360.0, 360.0), x)


def test_band_limited_signal_is_preserved_and_cross_checks_fft_resampling():
    # Independent implementation: wfdb.processing.resample_sig (FFT method, scipy.signal.resample).
    fs_in, fs_out = 130.0, 360.0
    t = np.arange(1300) / fs_in
    freqs, amps = (1.1, 7.3, 23.0, 41.0), (1.0, 0.5, 0.3, 0.2)

    def tone(tt):
        return sum(a * np.sin(2 * np.pi * f * tt + f) for f, a in zip(freqs, amps, strict=True))

    y = resample(tone(t), fs_in, fs_out)
    y_fft, _ = resample_sig(tone(t), fs_in, fs_out)
    t_out = np.arange(y.size) / fs_out
    interior = slice(200, y.size - 200)  # away from the zero-padded edges
    assert np.max(np.abs(y[interior] - tone(t_out[interior]))) < 2e-3
    assert np.max(np.abs(y[interior] - y_fft[interior])) < 2e-3


def test_anti_aliasing_removes_content_above_new_nyquist():
    fs_in, fs_out = 360.0, 130.0
    t = np.arange(3600) / fs_in
    x = np.sin(2 * np.pi * 10 * t) + np.sin(2 * np.pi * 100 * t)  # 100 Hz > 65 Hz Nyquist
    y = resample(x, fs_in, fs_out)
    ys = StreamingResampler(fs_in, fs_out).run(x)[11:]
    t_out = np.arange(y.size) / fs_out
    interior = slice(100, y.size - 100)
    for out in (y, ys):
        assert np.max(np.abs(out[interior] - np.sin(2 * np.pi * 10 * t_out[interior]))) < 2e-3
