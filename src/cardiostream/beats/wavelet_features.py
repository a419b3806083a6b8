"""Wavelet vectors: DWT approximation coefficients of a beat (paper 001, section 3.2.3).

Paper 001 keeps only the approximation coefficients ``A_L`` of an ``L``-level DWT of each beat
(eqs. 6-10) but does not name the wavelet or the level. We use Daubechies-4 (``db4``, PyWavelets),
level 3, symmetric extension, on the 181-sample morphology vector at 360 Hz: ``A_3`` holds the
0-22.5 Hz band that carries the P, QRS and T waves, in 28 coefficients. Computing it on the
morphology vector (fixed 360 Hz grid) keeps the bands and the length the same for every device.
"""

from __future__ import annotations

import numpy as np
import pywt

from ..errors import InvalidParameterError, InvalidSignalError

__all__ = ["DEFAULT_WAVELET", "DEFAULT_WAVELET_LEVEL", "wavelet_features"]

DEFAULT_WAVELET = "db4"
DEFAULT_WAVELET_LEVEL = 3


def wavelet_features(
    vectors: np.ndarray,
    wavelet: str = DEFAULT_WAVELET,
    level: int = DEFAULT_WAVELET_LEVEL,
    mode: str = "symmetric",
) -> np.ndarray:
    """Level-``level`` DWT approximation coefficients of each beat vector.

    Parameters
    ----------
    vectors : ndarray, shape (n, m)
        Beat vectors, normally from :func:`morphology_features` (360 Hz grid).
    wavelet : str
        A discrete PyWavelets wavelet name (default ``"db4"``).
    level : int
        Decomposition level, 1 to ``pywt.dwt_max_level(m, wavelet)`` (4 for 181 samples, db4).
    mode : str
        PyWavelets signal extension mode.

    Returns
    -------
    ndarray, shape (n, k), float64
        ``A_level``; for the defaults and m = 181, k = 28. Equal to
        ``pywt.wavedec(v, wavelet, mode, level)[0]`` for each row ``v``.
    """
    v = np.asarray(vectors, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] < 2:
        raise InvalidSignalError(
            "The 'vectors' parameter must be a 2-D array (n_beats, n_samples) with at least 2 "
            f"samples per beat, got shape {v.shape} instead."
        )
    if wavelet not in pywt.wavelist(kind="discrete"):
        raise InvalidParameterError(
            f"The 'wavelet' parameter must be a discrete PyWavelets wavelet such as 'db4', got "
            f"{wavelet!r} instead."
        )
    if mode not in pywt.Modes.modes:
        raise InvalidParameterError(
            f"The 'mode' parameter must be one of {pywt.Modes.modes}, got {mode!r} instead."
        )
    w = pywt.Wavelet(wavelet)
    max_level = pywt.dwt_max_level(v.shape[1], w.dec_len)
    if not isinstance(level, int) or not 1 <= level <= max_level:
        raise InvalidParameterError(
            f"The 'level' parameter must be an integer from 1 to {max_level} for {v.shape[1]}-"
            f"sample beats and {wavelet!r}, got {level!r} instead."
        )
    approx = v
    for _ in range(level):
        approx, _detail = pywt.dwt(approx, w, mode=mode, axis=1)
    return approx
