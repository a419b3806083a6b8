"""One-to-one matching of detected beats to reference beats (EC57 / bxb style, via wfdb)."""

from __future__ import annotations

import numpy as np
from wfdb.processing import Comparitor

#: Match window of ANSI/AAMI EC57 (150 ms).
MATCH_WINDOW_S = 0.15


def match_beats(
    reference: np.ndarray, detected: np.ndarray, fs: float, window_s: float = MATCH_WINDOW_S
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(ref_idx, det_idx)`` of matched pairs, within ``round(window_s * fs)`` samples.

    Uses :class:`wfdb.processing.Comparitor` (closest-sample matching with contested samples given
    to the nearer reference, as in bxb). Unmatched beats are the complements of the two arrays.
    """
    ref = np.asarray(reference, dtype=np.int64)
    det = np.asarray(detected, dtype=np.int64)
    if ref.size == 0 or det.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cmp = Comparitor(ref, det, round(window_s * fs))
    cmp.compare()
    return (
        np.asarray(cmp.matched_ref_inds, dtype=np.int64),
        np.asarray(cmp.matched_test_inds, dtype=np.int64),
    )
