"""Morphology and wavelet vectors, and stored outputs of the whole beat feature chain."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import pywt

from cardiostream.beats import (
    morphology_features,
    rr_features,
    segment_beats,
    wavelet_features,
    window_samples,
)
from cardiostream.errors import InvalidParameterError, InvalidSignalError

DATA = Path(__file__).parent / "data"


def test_morphology_at_360_hz_is_the_paper_window_unchanged(rng: np.random.Generator) -> None:
    w = rng.standard_normal((4, 181))
    m = morphology_features(w, 360.0)
    assert m.shape == (4, 181)
    np.testing.assert_array_equal(m, w)


@pytest.mark.parametrize("fs", [130.0, 250.0, 500.0])
def test_morphology_resamples_a_smooth_beat_onto_the_360_hz_grid(fs: float) -> None:
    def beat(t: np.ndarray) -> np.ndarray:  # band-limited, beat-like shape (times in s)
        return np.exp(-0.5 * (t / 0.03) ** 2) - 0.3 * np.exp(-0.5 * ((t - 0.2) / 0.05) ** 2)

    b, a = window_samples(fs, (0.25, 0.25))
    w = beat(np.arange(-b, a + 1) / fs)[None, :]
    m = morphology_features(w, fs)
    expected = beat(np.arange(-90, 91) / 360.0)
    assert m.shape == (1, 181)
    # Cubic-spline interpolation error of a 30 ms Gaussian sampled at >= 130 Hz: 3e-5 measured.
    np.testing.assert_allclose(m[0], expected, rtol=0, atol=1e-4)


def test_wavelet_features_equal_pywavelets_wavedec(rng: np.random.Generator) -> None:
    v = rng.standard_normal((6, 181))
    for wavelet, level in (("db4", 3), ("db4", 4), ("sym5", 2), ("haar", 5)):
        got = wavelet_features(v, wavelet=wavelet, level=level)
        ref = np.stack([pywt.wavedec(row, wavelet, mode="symmetric", level=level)[0] for row in v])
        # Same library filters; the batched (axis=1) call may differ from the 1-D call by rounding.
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    assert wavelet_features(v).shape == (6, 28)  # db4 level 3 on 181 samples


def test_wavelet_features_reject_bad_parameters(rng: np.random.Generator) -> None:
    v = rng.standard_normal((2, 181))
    with pytest.raises(InvalidParameterError, match=r"'level'.*1 to 4"):
        wavelet_features(v, level=5)
    with pytest.raises(InvalidParameterError, match="'wavelet'"):
        wavelet_features(v, wavelet="morl")
    with pytest.raises(InvalidParameterError, match="'mode'"):
        wavelet_features(v, mode="nope")
    with pytest.raises(InvalidSignalError, match="'vectors'"):
        wavelet_features(v[0])


def test_morphology_rejects_windows_of_the_wrong_length(rng: np.random.Generator) -> None:
    with pytest.raises(InvalidSignalError, match=r"'windows'.*\(n, 67\)"):
        morphology_features(rng.standard_normal((3, 181)), 130.0)


def test_stored_outputs() -> None:
    """Recompute from the stored input; see tests/data/beats_make_expected.py."""
    ref = np.load(DATA / "beats_expected.npz")
    x = ref["signal"]
    w = segment_beats(x - np.median(x), 130.0, ref["approx_peaks"])
    np.testing.assert_array_equal(w.r_peaks, ref["refined"])
    np.testing.assert_array_equal(w.kept, ref["kept"])
    np.testing.assert_array_equal(w.r_peaks, ref["true_peaks"][w.kept])  # refinement recovers truth
    np.testing.assert_array_equal(w.windows, ref["windows"])
    # Spline solve and DWT are floating point: allow 1e-12 for other BLAS / platforms.
    m = morphology_features(w.windows, 130.0)
    np.testing.assert_allclose(m, ref["morphology"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(wavelet_features(m), ref["wavelet"], rtol=0, atol=1e-12)
    peaks = ref["true_peaks"]
    assert np.array_equal(rr_features(peaks, 130.0).values, ref["rr"], equal_nan=True)
    assert np.array_equal(
        rr_features(peaks, 130.0, causal=True).values, ref["rr_causal"], equal_nan=True
    )


def test_stored_outputs_script_reproduces_the_file() -> None:
    sys.path.insert(0, str(DATA))
    try:
        import beats_make_expected as gen
    finally:
        sys.path.remove(str(DATA))
    fresh = gen.compute()
    ref = np.load(DATA / "beats_expected.npz")
    assert sorted(fresh) == sorted(ref.files)
    for name in ref.files:
        np.testing.assert_allclose(fresh[name], ref[name], rtol=0, atol=1e-12, err_msg=name)
