"""The live pipeline's fast paths give the results of the general functions they stand in for.

Each fast path replaces a general function on the per-frame or per-beat path of the service
(where numpy's and scipy's per-call overhead dominated); each is checked here against an
independent reference: the public scipy function, the whole-matrix computation, the previous
nan-median formulation, or scipy's CubicSpline.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from scipy.interpolate import CubicSpline
from scipy.signal import butter, sosfilt, sosfilt_zi

from cardiostream.beats import morphology_features, running_templates, window_samples
from cardiostream.beats.context import StreamingTemplate
from cardiostream.beats.rr import _feature_row, _features
from cardiostream.quality._params import QualityParams
from cardiostream.quality._rr import _median, rr_implausible
from cardiostream.signal._sosfilt import sosfilt_1d


@pytest.mark.parametrize("order,band", [(2, [0.5, 40.0]), (4, [5.0, 15.0]), (3, [1.0, 45.0])])
def test_sosfilt_1d_is_bit_identical_to_scipy(order: int, band: list[float]) -> None:
    rng = np.random.default_rng(order)
    sos = butter(order, band, btype="bandpass", fs=130.0, output="sos")
    x = rng.standard_normal(6000).cumsum()
    zi_a = zi_b = sosfilt_zi(sos) * x[0]
    i = 0
    for n in rng.integers(1, 150, 40):
        chunk = x[i : i + n]
        ya, zi_a = sosfilt(sos, chunk, zi=zi_a)
        yb, zi_b = sosfilt_1d(sos, chunk, zi_b)
        assert np.array_equal(ya, yb) and np.array_equal(zi_a, zi_b)
        i += n


def test_sosfilt_1d_leaves_its_inputs_alone() -> None:
    sos = butter(2, [0.5, 40.0], btype="bandpass", fs=130.0, output="sos")
    x, zi = np.arange(10.0), sosfilt_zi(sos)
    x0, zi0 = x.copy(), zi.copy()
    sosfilt_1d(sos, x, zi)
    assert np.array_equal(x, x0) and np.array_equal(zi, zi0)


def test_rr_feature_row_equals_the_matrix_row() -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(0, 70))
        r = np.cumsum(rng.integers(30, 500, n)).astype(np.int64)
        causal = bool(rng.integers(0, 2))
        n_avg = int(rng.integers(2, 45))
        min_avg = None if rng.random() < 0.3 else int(rng.integers(2, n_avg + 1))
        full = _features(r, 130.0, causal, n_avg, min_avg)
        for i in range(n):
            row = _feature_row(r, 130.0, i, causal, n_avg, min_avg)
            assert np.array_equal(row, full[i], equal_nan=True), (i, n, causal, n_avg, min_avg)


def _rr_implausible_reference(peaks, fs, p, n_history=0):
    """The nan-median formulation the fast path replaced (padded sliding windows)."""
    peaks = np.asarray(peaks, dtype=np.int64)
    n = peaks.size
    out = np.zeros(n, dtype=bool)
    if n >= 2:
        rr = np.diff(peaks).astype(np.float64)
        bad = (rr < p.rr_min_s * fs) | (rr > p.rr_max_s * fs)
        h = p.rr_history
        if rr.size >= 2:
            padded = np.concatenate((np.full(h, np.nan), rr))
            med = np.nanmedian(sliding_window_view(padded, h)[1 : rr.size], axis=1)
            ratio = rr[1:] / med
            bad[1:] |= (ratio < p.rr_jump_low) | (ratio > p.rr_jump_high)
        out[1:] = bad
    return out[n_history:]


def test_rr_implausible_equals_the_nanmedian_formulation() -> None:
    rng = np.random.default_rng(1)
    for _ in range(3000):
        n = int(rng.integers(0, 40))
        rr = rng.integers(20, 400, n) if rng.random() < 0.5 else rng.integers(50, 60, n)
        peaks = np.cumsum(rr)
        p = QualityParams(
            rr_history=int(rng.integers(1, 12)),
            rr_jump_low=float(rng.choice([0.4, 0.9, 0.95])),  # tight ratios expose any
            rr_jump_high=float(rng.choice([np.inf, 1.1, 1.05])),  # difference in the median
        )
        nh = int(rng.integers(0, n + 2))
        got = rr_implausible(peaks, 130.0, p, nh)
        assert np.array_equal(got, _rr_implausible_reference(peaks, 130.0, p, nh))


def test_small_median_is_numpys() -> None:
    rng = np.random.default_rng(2)
    for _ in range(5000):
        v = (rng.random(int(rng.integers(1, 12))) * rng.choice([1.0, 300.0, 1e-3])).tolist()
        assert _median(v) == np.median(v)


@pytest.mark.parametrize("fs", [100.0, 128.0, 130.0, 250.0, 500.0, 1000.0])
def test_morphology_resampling_matches_cubic_spline(fs: float) -> None:
    window_s = (0.35555555555555557, 0.3527777777777778)
    before, after = window_samples(fs, window_s)
    tb, ta = window_samples(360.0, window_s)
    w = np.random.default_rng(3).standard_normal((20, before + after + 1))
    ref = CubicSpline(np.arange(-before, after + 1) / fs, w, axis=1)(np.arange(-tb, ta + 1) / 360.0)
    got = morphology_features(w, fs, window_s)
    # one matrix product instead of a spline solve per call: equal to rounding
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


def test_streaming_template_ring_equals_running_templates() -> None:
    rng = np.random.default_rng(4)
    w = rng.standard_normal((100, 50))
    ids = np.zeros(100, dtype=np.int64)
    ref = running_templates(w, ids, k=8)
    st = StreamingTemplate(8)
    got = np.stack([st.push(row) for row in w])
    assert np.array_equal(got, ref)
    st.reset()
    assert np.array_equal(st.push(w[5]), w[5])  # forgets every beat


def test_row_median_is_numpys() -> None:
    from cardiostream._rowstats import row_median

    rng = np.random.default_rng(5)
    for _ in range(2000):
        a = rng.standard_normal((int(rng.integers(1, 300)), int(rng.integers(1, 40))))
        if rng.random() < 0.3:
            a = np.round(a, 1)  # ties
        assert np.array_equal(row_median(a), np.median(a, axis=1))
