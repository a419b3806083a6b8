"""Missing samples: linear interpolation over NaN/inf so detectors and filters can run."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidSignalError

__all__ = ["fill_missing"]


def fill_missing(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Linearly interpolate non-finite samples (edges hold the nearest finite value).

    Parameters
    ----------
    x : array_like, 1-D
        Signal that may contain NaN (WFDB's missing-sample marker) or inf.

    Returns
    -------
    filled : ndarray of float64
        ``x`` itself (as float64) when every sample is finite, else an interpolated copy.
    n_filled : int
        How many samples were interpolated.

    Raises
    ------
    InvalidSignalError
        When no sample is finite (there is nothing to interpolate from).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise InvalidSignalError(f"fill_missing expects a 1-D signal, got shape {x.shape}.")
    ok = np.isfinite(x)
    if ok.all():
        return x, 0
    if not ok.any():
        raise InvalidSignalError("The signal has no finite sample to interpolate from.")
    i = np.arange(x.size)
    return np.interp(i, i[ok], x[ok]), int(x.size - np.count_nonzero(ok))
