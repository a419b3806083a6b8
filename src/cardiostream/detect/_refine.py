"""Vectorised helpers that read bounded windows of the engine's buffer around candidates."""

from __future__ import annotations

import numpy as np

from .._rowstats import row_median


def window_index(pos: np.ndarray, lo: int, hi: int, n: int) -> np.ndarray:
    """Index matrix ``pos[:, None] + arange(lo, hi + 1)`` clipped to ``[0, n - 1]``."""
    idx = pos[:, None] + np.arange(lo, hi + 1)[None, :]
    return _iclip(idx, 0, n - 1)


def _iclip(a: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``np.clip`` for integer arrays and ``lo <= hi`` without its per-call dtype checks."""
    return np.minimum(np.maximum(a, lo), hi)


def refine_on_ecg(
    raw: np.ndarray, centre: np.ndarray, half_search: int, half_base: int
) -> np.ndarray:
    """R-peak position on the ECG itself: argmax of ``|x - baseline|`` near ``centre``.

    The baseline is the median of ``x`` over ``centre ± half_base`` samples (wide enough that
    the QRS occupies less than half of it); the peak is searched within ``centre ±
    half_search``. Returns buffer columns. Ties go to the earliest sample.
    """
    n = raw.size
    base = row_median(raw[window_index(centre, -half_base, half_base, n)])
    idx = window_index(centre, -half_search, half_search, n)
    dev = np.abs(raw[idx] - base[:, None])
    return idx[np.arange(idx.shape[0]), np.argmax(dev, axis=1)]
