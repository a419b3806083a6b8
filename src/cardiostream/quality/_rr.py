"""Causal RR-interval plausibility of each beat (no future beat is used).

A beat is implausible when the interval ending at it is shorter than ``rr_min_s`` (0.2 s,
300 bpm: a second "beat" that close is noise) or longer than ``rr_max_s``, or when it departs
abruptly from the median of the preceding intervals (below ``rr_jump_low`` or above
``rr_jump_high`` times that median). This follows the RR plausibility rules of Orphanidou et al.,
"Signal-quality indices for the electrocardiogram and photoplethysmogram: derivation and
applications to wireless monitoring", IEEE JBHI 19(3):832-838, 2015 (HR 40-180 bpm, max RR 3 s,
max/min RR ratio < 2.2 over 10 s), loosened for arrhythmia monitoring: by default only the
too-short side is used (``rr_max_s`` and ``rr_jump_high`` are infinite), because a long interval
is a pause, a rhythm event to report rather than bad signal to hide (on the 48 MIT-BIH reference
annotations 0.28 % of beats lie above 2.5 times the median of their 8 preceding intervals, most
of them the sinus pauses of record 232; 0.05 % lie below 0.4 times it).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._params import QualityParams

__all__ = ["rr_implausible"]


def rr_implausible(
    peaks: np.ndarray, fs: float, p: QualityParams, n_history: int = 0
) -> np.ndarray:
    """Flag beats whose RR interval is implausible.

    Parameters
    ----------
    peaks : ndarray of int64
        Increasing R-peak samples; the first ``n_history`` are earlier beats given only as
        context (a streaming caller keeps the last ``p.rr_history + 1`` beats).
    fs : float
    p : QualityParams
    n_history : int

    Returns
    -------
    ndarray of bool, shape (len(peaks) - n_history,)
        True for each beat from ``peaks[n_history]`` on whose RR is implausible. The very first
        beat of a stream (no preceding beat) is plausible.
    """
    peaks = np.asarray(peaks, dtype=np.int64)
    n = peaks.size
    out = np.zeros(n, dtype=bool)
    if n >= 2:
        rr = np.diff(peaks).astype(np.float64)  # rr[k] ends at beat k + 1
        bad = (rr < p.rr_min_s * fs) | (rr > p.rr_max_s * fs)
        h = p.rr_history
        if rr.size >= 2:
            padded = np.concatenate((np.full(h, np.nan), rr))
            # previous-h window of rr[k] is padded[k : k + h]; skip k = 0 (no previous interval)
            windows = sliding_window_view(padded, h)[1 : rr.size]
            med = np.nanmedian(windows, axis=1)
            ratio = rr[1:] / med
            bad[1:] |= (ratio < p.rr_jump_low) | (ratio > p.rr_jump_high)
        out[1:] = bad
    return out[n_history:]
