"""Offline signal-quality assessment of a whole signal, and peak gating."""

from __future__ import annotations

import numpy as np

from ..errors import check_param
from ._decide import check_peaks, check_signal, decide_segment, segment_lengths
from ._indices import CausalQualityFilters, segment_indices
from ._params import QualityParams
from ._report import QualityReport, SegmentQuality
from ._rr import rr_implausible

__all__ = ["assess_quality", "gate_peaks"]


def assess_quality(
    signal: np.ndarray,
    fs: float,
    r_peaks: np.ndarray | None = None,
    *,
    params: QualityParams | None = None,
) -> QualityReport:
    """Assess the quality of a single-lead ECG per segment and per beat.

    The signal is cut into consecutive ``params.segment_s`` segments (2 s; the last may be
    shorter). A segment is unusable for any of these reasons (:class:`Reason`), after the
    signal-quality indices of Clifford et al., "Signal quality indices and data fusion for
    determining clinical acceptability of electrocardiograms", Physiol. Meas. 33:1419-1433, 2012
    and Li, Mark & Clifford, "Robust heart rate estimation from multiple asynchronous noisy
    sources using signal quality indices and a Kalman filter", Physiol. Meas. 29:15-32, 2008:

    * ``FLAT_LINE``: peak-to-peak below ``flat_ptp_mv`` or a run of identical samples of at
      least ``flat_run_s`` (their flat-line index);
    * ``CLIPPING``: plateaus at the segment's extreme (saturation);
    * ``HF_NOISE``: estimated SNR below ``min_snr_db``, where the noise is the robust level of
      the 20-45 Hz band (median-based, so QRS complexes barely count; compare their
      high-frequency / QRS-band power ratios) and the signal is the QRS peak-to-peak amplitude
      ``A`` as ``A**2 / 8``, the definition of the MIT-BIH noise stress test;
    * ``BASELINE``: the baseline (0.7 Hz low-pass) moves more than ``max_baseline_ratio`` QRS
      amplitudes within the segment (their baseline-power index, made relative to the QRS);
    * ``IMPLAUSIBLE_RR`` (only with ``r_peaks``): at least ``rr_bad_beats`` beats of implausible
      RR (see :func:`~cardiostream.quality._rr.rr_implausible`, after Orphanidou et al. 2015), or
      no beat for more than ``rr_max_s``;
    * ``MISSING``: NaN / inf samples.

    All filters are causal, so :class:`StreamingQuality` gives exactly the same result.

    Parameters
    ----------
    signal : ndarray, shape (n,)
        One ECG lead in mV.
    fs : float
        Sampling rate in Hz (>= 100).
    r_peaks : ndarray of int, optional
        Detected R-peaks (increasing sample indices) whose RR plausibility is assessed.
    params : QualityParams, optional
        Thresholds (the calibrated defaults when omitted).

    Returns
    -------
    QualityReport
        Per-segment flags and indices, per-beat flags, unusable spans, fraction usable.
    """
    p = params if params is not None else QualityParams()
    check_param("params", params, isinstance(p, QualityParams), "a QualityParams instance or None")
    fs = p.check_fs(fs)
    x = check_signal(signal)
    peaks = check_peaks(r_peaks, x.size) if r_peaks is not None else None
    rr_bad = rr_implausible(peaks, fs, p) if peaks is not None else None
    seg_len, ctx_len = segment_lengths(fs, p)
    filt = CausalQualityFilters(fs, p).apply(x)
    decisions: list[SegmentQuality] = []
    for a in range(0, x.size, seg_len):
        b = min(a + seg_len, x.size)
        idx = segment_indices(filt.take(a, b), filt.take(max(0, a - ctx_len), a), fs, p)
        if peaks is None or rr_bad is None:
            decisions.append(decide_segment(a, b, idx, None, None, None, fs, p))
            continue
        i, j = np.searchsorted(peaks, (a, b))
        last = int(peaks[i - 1]) if i > 0 else None
        decisions.append(decide_segment(a, b, idx, peaks[i:j], rr_bad[i:j], last, fs, p))
    return QualityReport.from_segments(decisions, fs, p, has_peaks=peaks is not None)


def gate_peaks(r_peaks: np.ndarray, report: QualityReport) -> np.ndarray:
    """Drop the R-peaks that lie inside the report's unusable spans.

    No beat is added: a stretch judged unusable simply has no beats afterwards.

    Parameters
    ----------
    r_peaks : ndarray of int
        Increasing R-peak samples (of the same signal and rate as the report).
    report : QualityReport

    Returns
    -------
    ndarray of int64
        The peaks outside every unusable ``[start, stop)`` span.
    """
    check_param("report", report, isinstance(report, QualityReport), "a QualityReport")
    peaks = check_peaks(r_peaks, None)
    spans = report.unusable_spans
    if spans.size == 0 or peaks.size == 0:
        return peaks
    k = np.searchsorted(spans[:, 0], peaks, side="right") - 1
    inside = (k >= 0) & (peaks < spans[np.maximum(k, 0), 1])
    return peaks[~inside]
