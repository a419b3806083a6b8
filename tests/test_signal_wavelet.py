"""VisuShrink wavelet denoising: offline vs an independent formula, stream vs its block rule."""

from __future__ import annotations

import numpy as np
import pytest
import pywt

from cardiostream.signal import StreamingWaveletDenoiser, wavelet_denoise


def visushrink_reference(x: np.ndarray, wavelet: str, level: int) -> np.ndarray:
    """Donoho & Johnstone 1994 written out with numpy (soft threshold without pywt.threshold)."""
    coeffs = pywt.wavedec(x, wavelet, level=level)
    sigma = np.median(np.abs(coeffs[-1])) / 0.6745
    thr = sigma * np.sqrt(2 * np.log(len(x)))
    shrunk = [coeffs[0]] + [np.sign(c) * np.maximum(np.abs(c) - thr, 0.0) for c in coeffs[1:]]
    return pywt.waverec(shrunk, wavelet)[: len(x)]


@pytest.mark.parametrize(
    ("wavelet", "level", "n"), [("db8", None, 3000), ("db8", 4, 1001), ("sym4", 3, 512)]
)
def test_offline_matches_reference_formula(wavelet, level, n, rng):
    x = np.cumsum(rng.standard_normal(n)) * 0.1 + 0.2 * rng.standard_normal(n)
    lvl = pywt.dwt_max_level(n, pywt.Wavelet(wavelet).dec_len) if level is None else level
    np.testing.assert_allclose(
        wavelet_denoise(x, wavelet, level),
        visushrink_reference(x, wavelet, lvl),
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
    ("block_len", "hop", "crossfade"), [(1024, 256, 128), (256, 100, 30), (128, 64, 64)]
)
def test_stream_is_the_crossfaded_blockwise_offline_rule(block_len, hop, crossfade, rng):
    # Tolerance 1e-12: the reference computes the same weights by its own float operations.
    x = np.cumsum(rng.standard_normal(3100)) * 0.05 + 0.1 * rng.standard_normal(3100)
    step = StreamingWaveletDenoiser("db8", None, block_len=block_len, hop=hop, crossfade=crossfade)
    g = (block_len - hop - crossfade) // 2
    assert step.delay_samples == block_len - g - 1
    y = step.run(x)
    assert np.all(y[: step.delay_samples] == 0.0)
    expected = blockwise_reference(x, block_len, hop, crossfade, step.level)
    np.testing.assert_allclose(y[step.delay_samples :], expected, rtol=0, atol=1e-12)


def test_default_geometry():
    step = StreamingWaveletDenoiser()
    assert (step.block_len, step.hop, step.crossfade, step.level) == (1024, 256, 128, 6)
    assert step.delay_samples == 703
    assert StreamingWaveletDenoiser(block_len=512).delay_samples == 351
