"""Beat segmentation around refined R-peaks (paper 001 eqs. 4-5)."""

from __future__ import annotations

import numpy as np
import pytest

from cardiostream.beats import refine_rpeaks, segment_beats, window_samples
from cardiostream.errors import InvalidParameterError, InvalidSignalError
from cardiostream.synth import synthesize_ecg


def test_window_samples_match_the_paper_at_360_hz_and_cover_the_window_elsewhere() -> None:
    assert window_samples(360.0, (0.25, 0.25)) == (90, 90)
    for fs in (100.0, 128.0, 130.0, 250.0, 500.0, 1000.0):
        b, a = window_samples(fs, (0.25, 0.4))
        assert b / fs >= 0.25 > (b - 1) / fs and a / fs >= 0.4 > (a - 1) / fs


def test_refinement_finds_the_local_extreme_within_the_search_window() -> None:
    x = np.zeros(1000)
    x[300], x[520], x[800] = 1.0, -2.0, 0.5
    x[512] = 0.4  # small positive wave near the negative QRS at 520
    r = np.array([310, 515, 790])
    np.testing.assert_array_equal(refine_rpeaks(x, 360.0, r), [300, 520, 800])
    # Paper eq. 4 (signed maximum) stays on the small positive wave.
    np.testing.assert_array_equal(refine_rpeaks(x, 360.0, r, polarity="max"), [300, 512, 800])
    # +-20 samples at 360 Hz: the peak 21 samples away is out of reach; on a flat stretch the
    # earliest sample of the search window wins.
    np.testing.assert_array_equal(refine_rpeaks(x, 360.0, np.array([321])), [301])
    np.testing.assert_array_equal(refine_rpeaks(x, 360.0, r, refine_s=0.0), r)


def test_refined_synthetic_peaks_return_to_the_true_ones(rng: np.random.Generator) -> None:
    for fs in (130.0, 360.0, 500.0):
        s = synthesize_ecg(30.0, fs, 75.0, ectopic_rate=0.1, seed=3)
        jitter = rng.integers(-round(0.04 * fs), round(0.04 * fs) + 1, size=s.r_peaks.size)
        approx = np.clip(s.r_peaks + jitter, 0, s.clean.size - 1)
        np.testing.assert_array_equal(refine_rpeaks(s.clean, fs, approx), s.r_peaks)


def test_segment_windows_equal_slices_and_edge_beats_are_reported() -> None:
    x = np.arange(1000, dtype=float) % 97
    r = np.array([5, 89, 90, 500, 909, 910, 999])
    w = segment_beats(x, 360.0, r, refine_s=0.0)
    assert (w.before, w.after) == (90, 90) and w.windows.shape == (3, 181)
    np.testing.assert_array_equal(w.kept, [2, 3, 4])
    np.testing.assert_array_equal(w.dropped, [0, 1, 5, 6])
    for row, k in zip(w.windows, w.kept, strict=True):
        np.testing.assert_array_equal(row, x[r[k] - 90 : r[k] + 91])
    assert len(w) == 3 and not w.windows.flags.writeable


def test_windows_with_missing_samples_are_dropped() -> None:
    x = np.sin(np.arange(2000) / 10.0)
    x[700] = np.nan
    w = segment_beats(x, 360.0, np.array([400, 650, 1200]), refine_s=0.0)
    np.testing.assert_array_equal(w.kept, [0, 2])
    np.testing.assert_array_equal(w.dropped, [1])


def test_any_sampling_rate_gives_the_same_time_span() -> None:
    s = synthesize_ecg(20.0, 130.0, 70.0, seed=1)
    w = segment_beats(s.clean, 130.0, s.r_peaks)
    assert w.windows.shape[1] == 2 * 33 + 1
    np.testing.assert_array_equal(w.r_peaks, s.r_peaks[w.kept])
    assert np.all(np.argmax(w.windows, axis=1) == 33)  # the R-peak sits at the window centre


def test_bad_inputs_raise_named_errors() -> None:
    x = np.zeros(100)
    with pytest.raises(InvalidSignalError, match="'signal'"):
        segment_beats(np.zeros((10, 2)), 360.0, np.array([5]))
    with pytest.raises(InvalidSignalError, match=r"'r_peaks'.*\[0, 99\]"):
        segment_beats(x, 360.0, np.array([100]))
    with pytest.raises(InvalidSignalError, match=r"'r_peaks'.*integer"):
        segment_beats(x, 360.0, np.array([5.5]))
    with pytest.raises(InvalidParameterError, match="'window_s'"):
        segment_beats(x, 360.0, np.array([5]), window_s=(0.25,))
    with pytest.raises(InvalidParameterError, match="'polarity'"):
        segment_beats(x, 360.0, np.array([5]), polarity="min")
    with pytest.raises(InvalidParameterError, match="'fs'"):
        segment_beats(x, -1.0, np.array([5]))
