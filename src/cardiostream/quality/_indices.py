"""Signal-based quality indices of one segment, and the causal filters that feed them.

The filters are causal SOS filters whose state is carried from call to call, so feeding a
signal in chunks gives bit-identical outputs to one call (``scipy.signal.sosfilt`` processes
sample by sample). Each segment's decision then reads only the filtered samples of the segment
(and, for the QRS amplitude, the preceding ``context_s``), so offline and streaming decisions are
identical by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal as _sig

from ..signal._sosfilt import sosfilt_1d
from ._params import QualityParams
from ._reasons import Reason

__all__ = ["CausalQualityFilters", "FilteredChunk", "SegmentIndices", "segment_indices"]

#: Median absolute deviation → standard deviation of a Gaussian.
_MAD_TO_SIGMA = 1.482602218505602


@dataclass(frozen=True)
class FilteredChunk:
    """Outputs of :class:`CausalQualityFilters` for one chunk (all the chunk's length)."""

    raw: np.ndarray  # input with non-finite samples replaced by the last finite value
    finite: np.ndarray  # bool, False where the input was NaN / inf
    baseline: np.ndarray  # causal low-pass (baseline estimate)
    noise_band: np.ndarray  # causal band-pass over params.noise_band_hz
    qrs_band: np.ndarray  # causal band-pass over params.qrs_band_hz

    def take(self, start: int, stop: int) -> FilteredChunk:
        """The samples ``[start, stop)`` of every array (views)."""
        s = slice(start, stop)
        return FilteredChunk(*(getattr(self, f)[s] for f in _FIELDS))

    @staticmethod
    def concat(parts: list[FilteredChunk]) -> FilteredChunk:
        """Join consecutive chunks."""
        if len(parts) == 1:
            return parts[0]
        return FilteredChunk(
            *(np.concatenate([getattr(c, f) for c in parts]) for f in _FIELDS)
        )


_FIELDS = ("raw", "finite", "baseline", "noise_band", "qrs_band")


class CausalQualityFilters:
    """Causal baseline low-pass, noise band-pass and QRS band-pass, state carried between calls.

    The filter state starts at the steady state of a constant input equal to the first sample,
    so a DC offset does not produce a start-up transient.
    """

    def __init__(self, fs: float, params: QualityParams) -> None:
        self._sos_lp = _sig.butter(2, params.baseline_hz, btype="lowpass", fs=fs, output="sos")
        self._sos_nb = _sig.butter(2, params.noise_band_hz, btype="bandpass", fs=fs, output="sos")
        self._sos_qrs = _sig.butter(2, params.qrs_band_hz, btype="bandpass", fs=fs, output="sos")
        self._zi_lp: np.ndarray | None = None
        self._zi_nb: np.ndarray | None = None
        self._zi_qrs: np.ndarray | None = None
        self._hold = 0.0

    def apply(self, x: np.ndarray) -> FilteredChunk:
        """Filter the next samples (non-finite ones are held at the last finite value)."""
        x = np.asarray(x, dtype=np.float64)
        finite = np.isfinite(x)
        if x.size == 0:
            return FilteredChunk(*(np.zeros(0, bool if f == "finite" else np.float64)
                                   for f in _FIELDS))
        if not finite.all():
            idx = np.where(finite, np.arange(x.size), -1)
            np.maximum.accumulate(idx, out=idx)
            held = np.where(idx >= 0, x[np.maximum(idx, 0)], self._hold)
            x = held
        self._hold = float(x[-1])
        if self._zi_lp is None or self._zi_nb is None or self._zi_qrs is None:
            x0 = float(x[0])
            self._zi_lp = _sig.sosfilt_zi(self._sos_lp) * x0
            self._zi_nb = _sig.sosfilt_zi(self._sos_nb) * x0
            self._zi_qrs = _sig.sosfilt_zi(self._sos_qrs) * x0
        base, self._zi_lp = sosfilt_1d(self._sos_lp, x, self._zi_lp)
        nb, self._zi_nb = sosfilt_1d(self._sos_nb, x, self._zi_nb)
        qrs, self._zi_qrs = sosfilt_1d(self._sos_qrs, x, self._zi_qrs)
        return FilteredChunk(x, finite, base, nb, qrs)


@dataclass(frozen=True)
class SegmentIndices:
    """Signal-based indices of one segment.

    Attributes
    ----------
    flags : int
        :class:`Reason` bits from the signal alone (no RR).
    snr_db : float
        Estimated SNR in dB: QRS-band peak-to-peak over noise-band level (``inf`` if noiseless).
    baseline_ratio : float
        Baseline peak-to-peak excursion over the QRS amplitude.
    amplitude_mv : float
        QRS amplitude: peak-to-peak of the QRS-band signal over segment + context.
    """

    flags: int
    snr_db: float
    baseline_ratio: float
    amplitude_mv: float


def _runs(mask: np.ndarray) -> np.ndarray:
    """Lengths of the runs of True in a boolean array."""
    if mask.size == 0:
        return np.zeros(0, dtype=np.int64)
    edges = np.diff(np.concatenate(([0], mask.view(np.int8), [0])))
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


def _samples(seconds: float, fs: float) -> int:
    return max(2, round(seconds * fs))


def _is_clipped(raw: np.ndarray, window: np.ndarray, fs: float, p: QualityParams) -> bool:
    """Plateaus at the segment's maximum or minimum, far from the median of the segment and its
    context (``window``): saturation, not a flat stretch of baseline."""
    hi, lo = float(raw.max()), float(raw.min())
    ptp = float(np.ptp(window))
    if ptp <= 0:
        return False
    med = float(np.median(window))
    long_run = _samples(p.clip_run_s, fs)
    short_run = max(3, _samples(p.clip_short_run_s, fs))
    for ext in (hi, lo):
        if abs(ext - med) < p.clip_level * ptp:
            continue
        runs = _runs(raw == ext)
        if runs.max() >= long_run or np.count_nonzero(runs >= short_run) >= p.clip_min_runs:
            return True
    return False


def _is_flat(raw: np.ndarray, fs: float, p: QualityParams) -> bool:
    if float(raw.max() - raw.min()) < p.flat_ptp_mv:
        return True
    if raw.size < 2:
        return False
    longest = _runs(np.diff(raw) == 0).max(initial=0) + 1
    return bool(longest >= _samples(p.flat_run_s, fs))


def segment_indices(
    seg: FilteredChunk, context: FilteredChunk, fs: float, p: QualityParams
) -> SegmentIndices:
    """Quality indices of one segment.

    Parameters
    ----------
    seg : FilteredChunk
        The segment's samples (raw and filtered).
    context : FilteredChunk
        The samples preceding the segment (up to ``context_s``), for the QRS amplitudes.
    """
    flags = 0 if seg.finite.all() else int(Reason.MISSING)
    amplitude = float(np.ptp(np.concatenate((context.qrs_band, seg.qrs_band))))
    sigma = _MAD_TO_SIGMA * float(np.median(np.abs(seg.noise_band)))
    base_ptp = float(np.ptp(seg.baseline))
    if _is_flat(seg.raw, fs, p):
        flags |= Reason.FLAT_LINE
    elif _is_clipped(seg.raw, np.concatenate((context.raw, seg.raw)), fs, p):
        flags |= Reason.CLIPPING
    with np.errstate(divide="ignore", invalid="ignore"):
        snr_db = float(20.0 * np.log10(amplitude / (np.sqrt(8.0) * sigma))) if sigma > 0 else (
            np.inf if amplitude > 0 else -np.inf
        )
        ratio = base_ptp / amplitude if amplitude > 0 else np.inf
    if not flags & Reason.FLAT_LINE:
        if snr_db < p.min_snr_db:
            flags |= Reason.HF_NOISE
        if ratio > p.max_baseline_ratio:
            flags |= Reason.BASELINE
    return SegmentIndices(int(flags), snr_db, float(ratio), amplitude)
