"""VisuShrink wavelet denoising: offline vs an independent formula, stream vs its block rule."""

from __future__ import annotations

import numpy as np
import pytest
import pywt

from cardiostream.signal import (
    StreamingWaveletDenoiser,
    default_block_len,
    default_level,
    wavelet_denoise,
)


def visushrink_reference(x: np.ndarray, wavelet: str, level: int) -> np.ndarray:
    """Donoho & Johnstone 1994 written out with numpy (soft threshold without pywt.threshold)."""
    coeffs = pywt.wavedec(x, wavelet, level=level)
    sigma = np.median(np.abs(coeffs[-1])) / 0.6745
    thr = sigma * np.sqrt(2 * np.log(len(x)))
    shrunk = [coeffs[0]] + [np.sign(c) * np.maximum(np.abs(c) - thr, 0.0) for c in coeffs[1:]]
    return pywt.waverec(shrunk, wavelet)[: len(x)]


@pytest.mark.parametrize(
    ("wavelet", "level", "n", "expected_level"),
    [("db8", None, 3000, 4), ("db8", 4, 1001, 4), ("sym4", 3, 512, 3), ("db8", 6, 1000, 6)],
)
def test_offline_matches_reference_formula(wavelet, level, n, expected_level, rng):
    x = np.cumsum(rng.standard_normal(n)) * 0.1 + 0.2 * rng.standard_normal(n)
    np.testing.assert_allclose(
        wavelet_denoise(x, wavelet, level, fs=360.0),
        visushrink_reference(x, wavelet, expected_level),
        rtol=0,
        atol=1e-12,
    )


def test_denoising_removes_white_noise_and_keeps_a_smooth_signal(rng):
    n = 4096
    t = np.arange(n) / 360.0
    clean = np.sin(2 * np.pi * 1.3 * t) + 0.5 * np.sin(2 * np.pi * 5.0 * t)
    noisy = clean + 0.2 * rng.standard_normal(n)
    # Level 4 (details above 11 Hz at 360 Hz): deeper levels would shrink the sines' own bands.
    stream = StreamingWaveletDenoiser(level=4)
    for y in (wavelet_denoise(noisy, level=4), stream.run(noisy)[stream.delay_samples :]):
        err_before = np.sqrt(np.mean((noisy - clean) ** 2))
        err_after = np.sqrt(np.mean((y - clean) ** 2))
        assert err_after < 0.35 * err_before
    pure_noise = wavelet_denoise(0.2 * rng.standard_normal(n), "db8", 6)
    # Detail bands of pure noise fall below the threshold; the approximation band keeps its share
    # of the noise power (1/2**6), i.e. an RMS of 0.2 / 8 = 0.025.
    assert np.sqrt(np.mean(pure_noise**2)) < 1.3 * 0.2 / 8


@pytest.mark.parametrize(
    ("fs", "level", "approx_hz"),
    [(360.0, 4, 11.25), (130.0, 2, 16.25), (250.0, 3, 15.625), (500.0, 4, 15.625),
     (1000.0, 5, 15.625), (160.0, 3, 10.0), (159.0, 2, 19.875), (30.0, 1, 7.5)],
)
def test_default_level_keeps_an_approximation_band_of_10_to_20_hz(fs, level, approx_hz):
    assert default_level(fs) == level
    assert fs / 2 ** (level + 1) == pytest.approx(approx_hz)
    assert approx_hz >= 10.0 or level == 1  # ... and one level deeper would fall below 10 Hz
    assert fs / 2 ** (level + 2) < 10.0


def test_default_level_is_lowered_for_short_signals(rng):
    # 200 samples allow 3 db8 levels (PyWavelets' maximum), fewer than the 4 of 360 Hz.
    x = rng.standard_normal(200)
    assert pywt.dwt_max_level(200, 16) == 3
    np.testing.assert_array_equal(wavelet_denoise(x, fs=360.0), wavelet_denoise(x, level=3))


@pytest.mark.parametrize(("level", "block"), [(1, 64), (2, 256), (3, 512), (4, 1024), (10, 65536)])
def test_default_block_len_guards_cover_the_wavelet_support(level, block):
    assert default_block_len(level) == block
    support = 15 * (2**level - 1) + 1  # db8: dec_len 16
    step = StreamingWaveletDenoiser(level=level)
    assert step.block_len == block
    guard = step.block_len - step.delay_samples - 1  # samples dropped at each block start
    assert guard >= support
    half = block // 2  # the next smaller power of two would not cover it
    assert half < 64 or (half - half // 4 - half // 8) // 2 < support
    assert pywt.dwt_max_level(block, 16) >= level


def blockwise_reference(
    x: np.ndarray, block_len: int, hop: int, crossfade: int, level: int
) -> np.ndarray:
    """The stream's rule written out: blocks at k*hop - g on the mirrored signal, crossfaded."""
    g = (block_len - hop - crossfade) // 2
    n = x.size
    ext = np.pad(x, (g, block_len), mode="symmetric")  # ext[i] is x[i - g]
    ramp = np.sin(0.5 * np.pi * (np.arange(crossfade) + 0.5) / crossfade) ** 2
    out = np.zeros(n + block_len)
    k = 0
    while k == 0 or k * hop < n:
        y = wavelet_denoise(ext[k * hop : k * hop + block_len], "db8", level)[g:]
        w = np.concatenate(
            (ramp, np.ones(hop - crossfade), 1 - ramp, np.zeros(block_len - g - hop - crossfade))
        )
        if k == 0:
            w[:crossfade] = 1.0
        out[k * hop : k * hop + block_len - g] += w * y
        k += 1
    return out[:n]


@pytest.mark.parametrize(
    ("block_len", "hop", "crossfade", "fs"),
    [(1024, 256, 128, 360.0), (256, 100, 30, 360.0), (128, 64, 64, 130.0)],
)
def test_stream_is_the_crossfaded_blockwise_offline_rule(block_len, hop, crossfade, fs, rng):
    # Tolerance 1e-12: the reference computes the same weights by its own float operations.
    x = np.cumsum(rng.standard_normal(3100)) * 0.05 + 0.1 * rng.standard_normal(3100)
    step = StreamingWaveletDenoiser(
        "db8", None, fs=fs, block_len=block_len, hop=hop, crossfade=crossfade
    )
    assert step.level == default_level(fs)
    g = (block_len - hop - crossfade) // 2
    assert step.delay_samples == block_len - g - 1
    y = step.run(x)
    assert np.all(y[: step.delay_samples] == 0.0)
    expected = blockwise_reference(x, block_len, hop, crossfade, step.level)
    np.testing.assert_allclose(y[step.delay_samples :], expected, rtol=0, atol=1e-12)


def test_default_geometry():
    step = StreamingWaveletDenoiser(fs=360.0)
    assert (step.block_len, step.hop, step.crossfade, step.level) == (1024, 256, 128, 4)
    assert step.delay_samples == 703
    polar = StreamingWaveletDenoiser(fs=130.0)
    assert (polar.block_len, polar.hop, polar.crossfade, polar.level) == (256, 64, 32, 2)
    assert polar.delay_samples == 175
    assert StreamingWaveletDenoiser(fs=360.0, block_len=512).delay_samples == 351
    assert StreamingWaveletDenoiser(level=6, block_len=1024).level == 6  # explicit block and depth
