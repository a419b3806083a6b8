"""Typed results of the quality index: one segment's decision and the report of a whole signal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..types import _frozen
from ._params import QualityParams
from ._reasons import Reason, reason_names

__all__ = ["QualityReport", "SegmentQuality"]


@dataclass(frozen=True, eq=False)
class SegmentQuality:
    """The decision on one segment, as :class:`StreamingQuality` emits it.

    Attributes
    ----------
    start, stop : int
        Sample span ``[start, stop)`` of the segment.
    flags : int
        :class:`Reason` bits; 0 means usable.
    snr_db, baseline_ratio, amplitude_mv : float
        The indices behind the decision (see :class:`QualityParams`).
    r_peaks : ndarray of int64
        The given R-peaks inside the segment (empty without peaks).
    beat_flags : ndarray of uint8
        :class:`Reason` bits of each of those beats: the segment's flags plus ``IMPLAUSIBLE_RR``
        when the beat's own RR interval is implausible.
    """

    start: int
    stop: int
    flags: int
    snr_db: float
    baseline_ratio: float
    amplitude_mv: float
    r_peaks: np.ndarray
    beat_flags: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "r_peaks", _frozen(np.asarray(self.r_peaks, dtype=np.int64)))
        object.__setattr__(self, "beat_flags", _frozen(np.asarray(self.beat_flags, np.uint8)))

    @property
    def usable(self) -> bool:
        return self.flags == 0

    @property
    def reasons(self) -> tuple[str, ...]:
        return reason_names(self.flags)


@dataclass(frozen=True, eq=False)
class QualityReport:
    """Signal quality of a whole signal, per segment and per beat.

    Attributes
    ----------
    fs : float
    n_samples : int
    params : QualityParams
    segments : ndarray of int64, shape (m, 2)
        ``[start, stop)`` of each segment (``params.segment_s`` long; the last may be shorter).
    segment_flags : ndarray of uint8, shape (m,)
        :class:`Reason` bits per segment; 0 means usable.
    snr_db, baseline_ratio, amplitude_mv : ndarray of float64, shape (m,)
        Indices per segment.
    r_peaks : ndarray of int64, shape (n,)
        The R-peaks given to the assessment (empty when none were given).
    beat_flags : ndarray of uint8, shape (n,)
        :class:`Reason` bits per beat.
    has_peaks : bool
        Whether R-peaks were given (RR plausibility assessed).
    """

    fs: float
    n_samples: int
    params: QualityParams
    segments: np.ndarray
    segment_flags: np.ndarray
    snr_db: np.ndarray
    baseline_ratio: np.ndarray
    amplitude_mv: np.ndarray
    r_peaks: np.ndarray
    beat_flags: np.ndarray
    has_peaks: bool

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", _frozen(np.asarray(self.segments, np.int64)))
        for name in ("snr_db", "baseline_ratio", "amplitude_mv"):
            object.__setattr__(self, name, _frozen(np.asarray(getattr(self, name), np.float64)))
        object.__setattr__(self, "segment_flags", _frozen(np.asarray(self.segment_flags, np.uint8)))
        object.__setattr__(self, "r_peaks", _frozen(np.asarray(self.r_peaks, np.int64)))
        object.__setattr__(self, "beat_flags", _frozen(np.asarray(self.beat_flags, np.uint8)))

    @classmethod
    def from_segments(
        cls,
        decisions: Sequence[SegmentQuality],
        fs: float,
        params: QualityParams,
        has_peaks: bool,
    ) -> QualityReport:
        """Assemble a report from consecutive segment decisions (offline or streamed)."""
        d = list(decisions)
        empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0, np.float64)
        return cls(
            fs=float(fs),
            n_samples=int(d[-1].stop) if d else 0,
            params=params,
            segments=np.array([(s.start, s.stop) for s in d], np.int64).reshape(-1, 2),
            segment_flags=np.array([s.flags for s in d], np.uint8),
            snr_db=np.array([s.snr_db for s in d], np.float64) if d else empty_f,
            baseline_ratio=np.array([s.baseline_ratio for s in d], np.float64) if d else empty_f,
            amplitude_mv=np.array([s.amplitude_mv for s in d], np.float64) if d else empty_f,
            r_peaks=np.concatenate([s.r_peaks for s in d]) if d else empty_i,
            beat_flags=np.concatenate([s.beat_flags for s in d]) if d else np.zeros(0, np.uint8),
            has_peaks=has_peaks,
        )

    @property
    def segment_usable(self) -> np.ndarray:
        """Bool per segment."""
        return self.segment_flags == 0

    @property
    def beat_usable(self) -> np.ndarray:
        """Bool per given R-peak: in a usable segment and with a plausible RR interval."""
        return self.beat_flags == 0

    @property
    def unusable_spans(self) -> np.ndarray:
        """Merged ``[start, stop)`` sample spans of unusable segments, int64 shape (k, 2)."""
        bad = ~self.segment_usable
        if not bad.any():
            return np.zeros((0, 2), np.int64)
        edges = np.diff(np.concatenate(([0], bad.view(np.int8), [0])))
        first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
        return np.stack((self.segments[first, 0], self.segments[last, 1]), axis=1)

    @property
    def fraction_usable(self) -> float:
        """Fraction of the samples that lie in usable segments (1.0 for an empty signal)."""
        if self.n_samples == 0:
            return 1.0
        lengths = self.segments[:, 1] - self.segments[:, 0]
        return float(lengths[self.segment_usable].sum() / self.n_samples)

    def segment_reasons(self, i: int) -> tuple[str, ...]:
        """Names of the reasons segment ``i`` is unusable (empty when usable)."""
        return reason_names(int(self.segment_flags[i]))

    def reason_fractions(self) -> dict[Reason, float]:
        """Fraction of the samples in segments flagged for each reason (several may apply)."""
        lengths = self.segments[:, 1] - self.segments[:, 0]
        total = max(self.n_samples, 1)
        return {
            r: float(lengths[(self.segment_flags & int(r)) != 0].sum() / total) for r in Reason
        }
