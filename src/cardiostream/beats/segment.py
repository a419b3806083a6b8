"""Beat segmentation: refine R-peaks on the ECG, then cut a fixed window (in seconds) around each.

Follows Pramukantoro et al. 2025 (../shared/papers/001), section 3.2.2: the R-peak is moved to the
largest sample within a small symmetric search window (eq. 4, +-20 samples at 360 Hz = +-55 ms)
and the beat is the samples ``[r - W_left, ..., r, ..., r + W_right]`` (eq. 5; 90 + 1 + 90 samples
at 360 Hz, a 500 ms window). Windows are given in seconds so any sampling rate works.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidSignalError, check_param
from ..types import _frozen

__all__ = ["BeatWindows", "refine_rpeaks", "segment_beats", "window_samples"]

#: Paper 001 eq. 4 searches +-20 samples at 360 Hz.
DEFAULT_REFINE_S = 20 / 360
_POLARITIES = ("abs", "max")


@dataclass(frozen=True, eq=False)
class BeatWindows:
    """Beat windows cut around refined R-peaks.

    Attributes
    ----------
    windows : ndarray, shape (n_kept, before + 1 + after), float64
        Signal samples ``r - before .. r + after`` of each kept beat.
    r_peaks : ndarray of int64, shape (n_kept,)
        Refined R-peak of each kept beat.
    kept : ndarray of int64, shape (n_kept,)
        Index of each kept beat in the input ``r_peaks``.
    dropped : ndarray of int64
        Indices of input beats whose window leaves the signal or holds non-finite samples.
    before, after : int
        Window extent in samples on each side of the R-peak.
    fs : float
    """

    windows: np.ndarray
    r_peaks: np.ndarray
    kept: np.ndarray
    dropped: np.ndarray
    before: int
    after: int
    fs: float

    def __post_init__(self) -> None:
        for name in ("windows", "r_peaks", "kept", "dropped"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def __len__(self) -> int:
        return int(self.r_peaks.size)


def window_samples(fs: float, window_s: tuple[float, float]) -> tuple[int, int]:
    """Samples before and after the R-peak covering at least ``window_s`` seconds each side.

    Rounded up (with a 1e-9 tolerance for floating point), so 0.25 s at 360 Hz is exactly 90.
    """
    check_param("fs", fs, np.isfinite(fs) and fs > 0, "a positive sampling rate in Hz")
    ok = len(window_s) == 2 and all(np.isfinite(w) and w >= 0 for w in window_s)
    check_param("window_s", window_s, ok, "a pair (before, after) of non-negative seconds")
    before, after = (int(np.ceil(w * fs - 1e-9)) for w in window_s)
    return before, after


def refine_rpeaks(
    signal: np.ndarray,
    fs: float,
    r_peaks: np.ndarray,
    refine_s: float = DEFAULT_REFINE_S,
    polarity: str = "abs",
) -> np.ndarray:
    """Move each R-peak to the extreme sample within ``+-refine_s`` seconds (paper 001, eq. 4).

    Parameters
    ----------
    signal : ndarray, shape (n,)
        One ECG lead, baseline removed (``polarity="abs"`` compares magnitudes to zero).
    fs : float
        Sampling rate in Hz.
    r_peaks : array of int
        Approximate R-peak sample indices (annotations or detections), inside the signal.
    refine_s : float
        Half-width of the search window in seconds; ``round(refine_s * fs)`` samples (20 at 360 Hz
        by default). 0 disables refinement.
    polarity : {"abs", "max"}
        ``"max"`` is eq. 4 of the paper (largest signed amplitude). ``"abs"`` (default) takes the
        largest magnitude, so beats whose dominant deflection is negative (many PVCs in MLII, an
        inverted lead, a chest strap worn upside down) stay on their QRS instead of jumping to a
        small positive wave.

    Returns
    -------
    ndarray of int64
        Refined indices (search windows are clipped to the signal; ties take the earliest sample).
    """
    x = _as_signal(signal)
    r = _as_peaks(r_peaks, x.size)
    ok = np.isfinite(refine_s) and 0 <= refine_s <= 0.5
    check_param("refine_s", refine_s, ok, "a half-width in [0, 0.5] seconds")
    check_param("polarity", polarity, polarity in _POLARITIES, f"one of {_POLARITIES}")
    half = round(refine_s * fs)
    if half == 0 or r.size == 0:
        return r.copy()
    idx = np.clip(r[:, None] + np.arange(-half, half + 1)[None, :], 0, x.size - 1)
    vals = x[idx]
    if polarity == "abs":
        vals = np.abs(vals)
    vals = np.where(np.isfinite(vals), vals, -np.inf)
    return idx[np.arange(r.size), np.argmax(vals, axis=1)].astype(np.int64)


def segment_beats(
    signal: np.ndarray,
    fs: float,
    r_peaks: np.ndarray,
    window_s: tuple[float, float] = (0.25, 0.25),
    refine_s: float = DEFAULT_REFINE_S,
    polarity: str = "abs",
) -> BeatWindows:
    """Cut a window around each refined R-peak (paper 001, eqs. 4-5).

    Parameters
    ----------
    signal : ndarray, shape (n,)
        One preprocessed ECG lead.
    fs : float
        Sampling rate in Hz.
    r_peaks : array of int
        R-peak sample indices (need not be refined).
    window_s : (float, float)
        Seconds kept before and after the R-peak; ``ceil(w * fs)`` samples each side, so the
        default (0.25, 0.25) is the paper's 90 + 1 + 90 samples at 360 Hz.
    refine_s, polarity
        See :func:`refine_rpeaks`.

    Returns
    -------
    BeatWindows
        Windows of the kept beats; beats whose window leaves the signal or holds non-finite
        samples are listed in ``dropped`` (indices into ``r_peaks``), never silently lost.
    """
    x = _as_signal(signal)
    before, after = window_samples(fs, window_s)
    refined = refine_rpeaks(x, fs, r_peaks, refine_s, polarity)
    inside = (refined - before >= 0) & (refined + after < x.size)
    offsets = np.arange(-before, after + 1)
    cand = np.flatnonzero(inside)
    windows = x[refined[cand, None] + offsets[None, :]]
    finite = np.all(np.isfinite(windows), axis=1)
    kept = cand[finite]
    dropped = np.setdiff1d(np.arange(refined.size), kept)
    return BeatWindows(
        windows=windows[finite],
        r_peaks=refined[kept],
        kept=kept.astype(np.int64),
        dropped=dropped.astype(np.int64),
        before=before,
        after=after,
        fs=float(fs),
    )


def _as_signal(signal: np.ndarray) -> np.ndarray:
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise InvalidSignalError(
            f"The 'signal' parameter must be a non-empty 1-D array (one lead), got shape "
            f"{x.shape} instead."
        )
    return x


def _as_peaks(r_peaks: np.ndarray, n: int) -> np.ndarray:
    r = np.asarray(r_peaks)
    if r.ndim != 1 or (r.size and not np.issubdtype(r.dtype, np.integer)):
        raise InvalidSignalError(
            "The 'r_peaks' parameter must be a 1-D array of integer sample indices, got "
            f"dtype {r.dtype} and shape {r.shape} instead."
        )
    r = r.astype(np.int64)
    if r.size and (r.min() < 0 or r.max() >= n):
        raise InvalidSignalError(
            f"The 'r_peaks' parameter must hold indices in [0, {n - 1}], got values from "
            f"{r.min()} to {r.max()} instead."
        )
    return r
