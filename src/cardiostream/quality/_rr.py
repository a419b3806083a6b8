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

#: Up to this many beats, medians are taken in plain Python (numpy's per-call cost dominates).
_FEW = 4


def _median(v: list[float]) -> float:
    """``np.median`` of a short list, bit for bit (middle value, or the mean of the two)."""
    s = sorted(v)
    m = len(s)
    return s[m // 2] if m % 2 else (s[m // 2 - 1] + s[m // 2]) / 2


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
    first = max(0, min(n_history, n))
    out = np.zeros(n - first, dtype=bool)
    if n < 2:
        return out
    rr = np.diff(peaks).astype(np.float64)  # rr[k] ends at beat k + 1
    bad = (rr < p.rr_min_s * fs) | (rr > p.rr_max_s * fs)
    # beat i >= 2 is compared with the median of the up to h intervals before its own,
    # rr[max(0, i - 1 - h) : i - 1]; only the beats from `first` on are computed
    h = p.rr_history
    lo = max(first, 2)
    if lo < n:
        if n - lo <= _FEW:  # a streaming call: one or two new beats
            vals = rr.tolist()
            med = np.array([_median(vals[max(0, i - 1 - h) : i - 1]) for i in range(lo, n)])
        else:
            med = np.empty(n - lo)
            full = max(lo, h + 1)  # from here on the window holds h intervals
            for i in range(lo, min(full, n)):
                med[i - lo] = np.median(rr[: i - 1])
            if full < n:
                windows = sliding_window_view(rr, h)[full - 1 - h : n - 1 - h]
                med[full - lo :] = np.median(windows, axis=1)
        ratio = rr[lo - 1 :] / med
        bad[lo - 1 :] |= (ratio < p.rr_jump_low) | (ratio > p.rr_jump_high)
    flags = np.zeros(n, dtype=bool)
    flags[1:] = bad
    return flags[first:]
