"""Morphology vectors: beat windows on the fixed 360 Hz grid of Pramukantoro et al. 2025.

Paper 001 (section 3.2.2 and the paragraph under Table 2) uses a 500 ms window centred on the
refined R-peak, 90 samples before and after at 360 Hz (eq. 5: ``r-90 .. r+90``, 181 samples).
Beats cut at another rate are interpolated onto that time grid (cubic spline, scipy) so a model
trained on MIT-BIH at 360 Hz receives vectors of the same length and spacing from any device
(Polar H10 at 130 Hz).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.interpolate import CubicSpline

from ..errors import InvalidSignalError, check_param
from .segment import window_samples

__all__ = ["MORPHOLOGY_FS", "morphology_features"]

#: Rate of the morphology grid (MIT-BIH's native rate, as in paper 001).
MORPHOLOGY_FS = 360.0


def morphology_features(
    windows: np.ndarray,
    fs: float,
    window_s: tuple[float, float] = (0.25, 0.25),
    target_fs: float = MORPHOLOGY_FS,
) -> np.ndarray:
    """Morphology vectors of beats: their windows on a fixed ``target_fs`` time grid.

    Parameters
    ----------
    windows : ndarray, shape (n, before + 1 + after)
        Beat windows from :func:`segment_beats` at ``fs`` with the same ``window_s``.
    fs : float
        Sampling rate of ``windows``.
    window_s : (float, float)
        The window used to cut them (seconds before and after the R-peak).
    target_fs : float
        Rate of the output grid; 360 Hz gives the paper's 181-sample vector for (0.25, 0.25).

    Returns
    -------
    ndarray, shape (n, tb + 1 + ta), float64
        ``tb, ta = window_samples(target_fs, window_s)``. When ``fs == target_fs`` the windows are
        returned unchanged; otherwise each is interpolated by a not-a-knot cubic spline through
        its samples (time 0 at the R-peak); at the edges it extrapolates by less than one output
        sample period at most.
    """
    w = np.asarray(windows, dtype=np.float64)
    before, after = window_samples(fs, window_s)
    check_param("target_fs", target_fs, np.isfinite(target_fs) and target_fs > 0, "a positive rate")
    if w.ndim != 2 or w.shape[1] != before + after + 1:
        raise InvalidSignalError(
            f"The 'windows' parameter must have shape (n, {before + after + 1}) for fs={fs:g} and "
            f"window_s={tuple(window_s)}, got shape {w.shape} instead."
        )
    tb, ta = window_samples(target_fs, window_s)
    if fs == target_fs or w.shape[0] == 0:
        return w.copy() if fs == target_fs else np.zeros((0, tb + ta + 1))
    return w @ _spline_operator(float(fs), before, after, float(target_fs), tb, ta)


@lru_cache(maxsize=32)
def _spline_operator(
    fs: float, before: int, after: int, target_fs: float, tb: int, ta: int
) -> np.ndarray:
    """The not-a-knot cubic-spline resampling as a matrix, shape (n_in, n_out), read-only.

    Spline interpolation on fixed knots is linear in the samples, so the operator is the spline
    of each unit vector: ``w @ M`` equals ``CubicSpline(t_in, w, axis=1)(t_out)`` to rounding
    (a few ulp; tested), without solving the spline system again for every beat — a live
    service resamples each beat of every patient one at a time.
    """
    t_in = np.arange(-before, after + 1) / fs
    t_out = np.arange(-tb, ta + 1) / target_fs
    m = np.ascontiguousarray(CubicSpline(t_in, np.eye(t_in.size), axis=1)(t_out))
    m.flags.writeable = False
    return m
