"""Parameters of the signal-quality index, validated once, shared by offline and streaming."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import check_param

__all__ = ["MIN_FS", "QualityParams"]

#: Lowest sampling rate supported: the noise band (20-45 Hz) must lie below Nyquist.
MIN_FS = 100.0


@dataclass(frozen=True)
class QualityParams:
    """Thresholds and windows of :func:`~cardiostream.quality.assess_quality`.

    The defaults were calibrated once on MIT-BIH Arrhythmia records mixed with MIT-BIH Noise
    Stress Test noise, against the segments where a reference detector (NeuroKit2) erred
    (``tests/data/quality_calibrate.py``; records 118 and 119 held out), not tuned per record.
    All durations are in seconds and amplitudes in mV, so any sampling rate works.

    Attributes
    ----------
    segment_s : float
        Length of the non-overlapping segments that get a usable / unusable decision (2 s).
    context_s : float
        The QRS amplitude of a segment is measured over the segment plus this much preceding
        signal (2 s), so a 4 s window always holds a QRS for heart rates down to 20 bpm.
    baseline_hz : float
        Cut-off of the causal 2nd-order Butterworth low-pass that tracks the baseline (0.7 Hz).
    noise_band_hz : tuple of float
        Band of the causal 2nd-order Butterworth band-pass whose median absolute value (scaled to
        a Gaussian standard deviation ``sigma``) estimates the noise level between QRS complexes.
        20-45 Hz holds muscle noise but little P/T-wave energy, and stays below 50/60 Hz mains and
        the Nyquist frequency of 100 Hz sampling.
    qrs_band_hz : tuple of float
        Band of the causal 2nd-order Butterworth band-pass where the QRS amplitude ``A`` is
        measured (peak to peak over segment + context); 5-15 Hz holds most QRS energy and
        little muscle noise (Pan & Tompkins 1985).
    min_snr_db : float
        A segment whose estimated SNR ``20 log10(A / (sqrt(8) sigma))`` (the form of the noise
        stress test's ``S = A**2 / 8``, Moody et al. 1984, on these bands) is below this is
        flagged ``HF_NOISE``. At 10 dB, on the calibration set (13 records x 11 conditions,
        119,000 segments), 71 % of flagged segments held a reference-detector error against
        7.6 % of the others; 0.02 % of clean-record segments, 41 % of ``ma`` 0 dB and 0.04 % of
        ``ma`` 24 dB segments were flagged.
    max_baseline_ratio : float
        A segment whose baseline moves (peak to peak) more than this many QRS amplitudes ``A``
        is flagged ``BASELINE``. At 2: 0.06 % of clean-record segments, 42 % of ``bw`` 0 dB and
        13 % of ``bw`` 6 dB segments.
    flat_ptp_mv : float
        A segment whose peak-to-peak amplitude is below this (mV) is flagged ``FLAT_LINE``.
    flat_run_s : float
        A segment holding a run of identical samples at least this long is flagged ``FLAT_LINE``.
        (The longest run in the 48 MIT-BIH records is 28 ms.)
    clip_run_s : float
        A segment that stays at its maximum or its minimum for a run at least this long, far from
        its median (see ``clip_level``), is flagged ``CLIPPING``.
    clip_min_runs : int
        ... or that reaches that same extreme value ``clip_min_runs`` times in runs of at least
        ``clip_short_run_s`` (and 3 samples): repeated flat-topped QRS complexes of an amplifier
        at its rail. On the 48 MIT-BIH records clipping flags 4 of 43,344 segments, 3 of them
        the ADC saturation episodes of record 116.
    clip_short_run_s : float
    clip_level : float
        A plateau counts only when its level is at least this fraction of the peak-to-peak
        amplitude away from the median, both over the segment and its context (flat baselines
        are not clipping).
    rr_min_s, rr_max_s : float
        Plausible RR range. ``rr_min_s`` is 0.2 s (300 bpm): shorter intervals are noise, not
        beats. ``rr_max_s`` defaults to infinity: a long interval is a pause (a rhythm event the
        monitor must report, e.g. the sinus pauses of MIT-BIH record 232), not bad signal, so it
        must not turn the strip "unusable" and hide the pause. Set it (e.g. 3 s) to also flag
        long gaps without beats.
    rr_jump_low, rr_jump_high : float
        A beat whose RR interval is below ``rr_jump_low`` or above ``rr_jump_high`` times the
        median of the (up to) ``rr_history`` preceding intervals is an abrupt change
        (in the spirit of the RR-ratio rule of Orphanidou et al. 2015, loosened for arrhythmia).
    rr_history : int
    rr_bad_beats : int
        A segment with at least this many beats of implausible RR is flagged ``IMPLAUSIBLE_RR``.
    """

    segment_s: float = 2.0
    context_s: float = 2.0
    baseline_hz: float = 0.7
    noise_band_hz: tuple[float, float] = (20.0, 45.0)
    qrs_band_hz: tuple[float, float] = (5.0, 15.0)
    min_snr_db: float = 10.0
    max_baseline_ratio: float = 2.0
    flat_ptp_mv: float = 0.05
    flat_run_s: float = 1.0
    clip_run_s: float = 0.05
    clip_min_runs: int = 2
    clip_short_run_s: float = 0.008
    clip_level: float = 0.3
    rr_min_s: float = 0.2
    rr_max_s: float = float("inf")
    rr_jump_low: float = 0.4
    rr_jump_high: float = float("inf")
    rr_history: int = 8
    rr_bad_beats: int = 2

    def __post_init__(self) -> None:
        def pos(name: str) -> None:
            v = getattr(self, name)
            check_param(name, v, _is_num(v) and v > 0, "a positive number")

        for name in ("segment_s", "baseline_hz", "flat_run_s", "clip_run_s", "clip_short_run_s",
                     "rr_min_s", "max_baseline_ratio"):
            pos(name)
        check_param("context_s", self.context_s, _is_num(self.context_s) and self.context_s >= 0,
                    "a non-negative number of seconds")
        check_param("flat_ptp_mv", self.flat_ptp_mv,
                    _is_num(self.flat_ptp_mv) and self.flat_ptp_mv >= 0, "a non-negative mV value")
        check_param("min_snr_db", self.min_snr_db, _is_num(self.min_snr_db), "a finite number")
        for name in ("noise_band_hz", "qrs_band_hz"):
            lo, hi = _pair(getattr(self, name))
            check_param(name, getattr(self, name), bool(0 < lo < hi),
                        "a (low, high) pair of frequencies with 0 < low < high")
            object.__setattr__(self, name, (lo, hi))
        check_param("clip_level", self.clip_level, _is_num(self.clip_level)
                    and 0 <= self.clip_level < 1, "a fraction in [0, 1)")
        check_param("clip_min_runs", self.clip_min_runs,
                    isinstance(self.clip_min_runs, int) and self.clip_min_runs >= 1,
                    "an integer >= 1")
        check_param("rr_max_s", self.rr_max_s,
                    isinstance(self.rr_max_s, int | float) and self.rr_max_s > self.rr_min_s,
                    f"greater than rr_min_s={self.rr_min_s}")
        check_param("rr_jump_low", self.rr_jump_low, _is_num(self.rr_jump_low)
                    and 0 <= self.rr_jump_low < 1, "a ratio in [0, 1)")
        check_param("rr_jump_high", self.rr_jump_high,
                    isinstance(self.rr_jump_high, int | float) and self.rr_jump_high > 1,
                    "a ratio > 1 (inf disables it)")
        for name in ("rr_history", "rr_bad_beats"):
            v = getattr(self, name)
            check_param(name, v, isinstance(v, int) and v >= 1, "an integer >= 1")

    def check_fs(self, fs: float) -> float:
        """Validate a sampling rate against these parameters and return it as a float."""
        top = max(self.noise_band_hz[1], self.qrs_band_hz[1])
        ok = _is_num(fs) and fs >= MIN_FS and top < 0.5 * fs
        check_param("fs", fs, ok, f"a sampling rate >= {MIN_FS:g} Hz whose Nyquist frequency "
                    f"exceeds the filter bands' upper edge {top:g} Hz")
        seg = round(self.segment_s * fs)
        check_param("segment_s", self.segment_s, seg >= 1, f"at least one sample at fs={fs:g} Hz")
        return float(fs)


def _is_num(v: object) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and bool(np.isfinite(v))


def _pair(v: object) -> tuple[float, float]:
    try:
        lo, hi = v  # type: ignore[misc]
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError):
        return (np.nan, np.nan)
    return lo, hi
