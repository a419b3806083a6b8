"""One-to-one matching of detected beats to reference beats (EC57 / bxb style, via wfdb)."""

from __future__ import annotations

import math

import numpy as np
from wfdb.processing import Comparitor

#: Match window of ANSI/AAMI EC57 (150 ms).
MATCH_WINDOW_S = 0.15


def match_window_samples(fs: float, window_s: float = MATCH_WINDOW_S) -> int:
    """Exclusive sample window for wfdb's matchers so that pairs are at most ``window_s`` apart.

    wfdb's ``Comparitor`` / ``compare_annotations`` accept a pair when ``|dt| < window``; EC57's
    150 ms is inclusive, hence ``floor(window_s * fs) + 1`` (55 samples at 360 Hz, i.e. up to 54).
    """
    return math.floor(window_s * fs + 1e-9) + 1


def match_beats(
    reference: np.ndarray, detected: np.ndarray, fs: float, window_s: float = MATCH_WINDOW_S
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(ref_idx, det_idx)`` of matched pairs at most ``window_s`` apart (inclusive).

    Uses :class:`wfdb.processing.Comparitor` (closest-sample matching with contested samples given
    to the nearer reference, as in bxb). Unmatched beats are the complements of the two arrays.
    """
    ref = np.asarray(reference, dtype=np.int64)
    det = np.asarray(detected, dtype=np.int64)
    if ref.size == 0 or det.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cmp = Comparitor(ref, det, match_window_samples(fs, window_s))
    cmp.compare()
    return (
        np.asarray(cmp.matched_ref_inds, dtype=np.int64),
        np.asarray(cmp.matched_test_inds, dtype=np.int64),
    )
