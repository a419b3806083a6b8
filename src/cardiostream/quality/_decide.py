"""Combine a segment's signal indices with the RR plausibility of its beats (both forms)."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidSignalError
from ._indices import SegmentIndices
from ._params import QualityParams
from ._reasons import Reason
from ._report import SegmentQuality

__all__ = ["check_peaks", "check_signal", "decide_segment", "segment_lengths"]


def segment_lengths(fs: float, p: QualityParams) -> tuple[int, int]:
    """Segment and context lengths in samples."""
    return max(1, round(p.segment_s * fs)), round(p.context_s * fs)


def decide_segment(
    start: int,
    stop: int,
    idx: SegmentIndices,
    peaks: np.ndarray | None,
    rr_bad: np.ndarray | None,
    last_peak_before: int | None,
    fs: float,
    p: QualityParams,
) -> SegmentQuality:
    """Final decision on segment ``[start, stop)``.

    ``peaks`` / ``rr_bad`` are the beats inside the segment and their RR flags (``None`` when no
    peaks are assessed). The segment is ``IMPLAUSIBLE_RR`` when at least ``p.rr_bad_beats`` of its
    beats are, or when it holds no beat and more than ``p.rr_max_s`` passed since the last beat
    (or since the start of the signal) at its end.
    """
    flags = idx.flags
    if peaks is None or rr_bad is None:
        peaks = np.zeros(0, np.int64)
        beat_flags = np.zeros(0, np.uint8)
    else:
        gap_from = last_peak_before if last_peak_before is not None else 0
        if int(np.count_nonzero(rr_bad)) >= p.rr_bad_beats or (
            peaks.size == 0 and stop - gap_from > p.rr_max_s * fs
        ):
            flags |= Reason.IMPLAUSIBLE_RR
        beat_flags = np.where(rr_bad, flags | Reason.IMPLAUSIBLE_RR, flags).astype(np.uint8)
    return SegmentQuality(
        start=int(start),
        stop=int(stop),
        flags=int(flags),
        snr_db=idx.snr_db,
        baseline_ratio=idx.baseline_ratio,
        amplitude_mv=idx.amplitude_mv,
        r_peaks=peaks,
        beat_flags=beat_flags,
    )


def check_signal(signal: object, name: str = "signal") -> np.ndarray:
    """A 1-D float64 copy-free view of ``signal`` or :class:`InvalidSignalError`."""
    try:
        x = np.asarray(signal, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidSignalError(
            f"The {name!r} parameter must be a 1-D numeric array, got {type(signal).__name__}."
        ) from e
    if x.ndim != 1:
        raise InvalidSignalError(
            f"The {name!r} parameter must be a 1-D array (one lead), got shape {x.shape} instead; "
            "pass a single lead such as record.lead(0)."
        )
    return x


def check_peaks(r_peaks: object, n_samples: int | None, after: int | None = None) -> np.ndarray:
    """Validate R-peak sample indices: 1-D integers, strictly increasing, inside the signal."""
    a = np.asarray(r_peaks)
    if a.size == 0:
        return np.zeros(0, np.int64)
    if a.ndim != 1 or not (np.issubdtype(a.dtype, np.integer) or _integral_floats(a)):
        raise InvalidSignalError(
            "The 'r_peaks' parameter must be a 1-D array of integer sample indices, got "
            f"shape {a.shape} and dtype {a.dtype} instead."
        )
    a = a.astype(np.int64)
    if np.any(np.diff(a) <= 0):
        raise InvalidSignalError("The 'r_peaks' parameter must be strictly increasing.")
    lo = 0 if after is None else after + 1
    if a[0] < lo or (n_samples is not None and a[-1] >= n_samples):
        hi = "the signal length" if n_samples is None else str(n_samples)
        raise InvalidSignalError(
            f"The 'r_peaks' parameter must hold samples in [{lo}, {hi}), got values from "
            f"{int(a[0])} to {int(a[-1])} instead."
        )
    return a


def _integral_floats(a: np.ndarray) -> bool:
    return bool(np.issubdtype(a.dtype, np.floating) and np.all(np.isfinite(a))
                and np.all(a == np.round(a)))
