"""Synthetic ECG with known R-peaks: a sum-of-Gaussians beat model with RR variability and noise.

Each beat is a sum of Gaussian waves (P, Q, R, S, T) placed in *time* around an R-peak at an
exact sample index, in the spirit of the dynamical model of McSharry et al., "A dynamical model for
generating synthetic electrocardiogram signals", IEEE TBME 50(3):289-294, 2003, which places the
same five Gaussian events in phase around a limit cycle. Placing them in time lets the generator
state the true R-peak sample of every beat exactly. Premature ventricular beats (PVC-like: no P
wave, wide QRS, discordant T, short coupling interval and full compensatory pause) can be mixed in,
and baseline wander, mains interference and EMG-like noise added. Everything is drawn from one
seeded generator, so equal arguments give identical output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal as _sig

from .errors import check_param
from .types import Record, _frozen

__all__ = ["SyntheticECG", "synthesize_ecg"]

# (offset s, amplitude mV, width sigma s); T offset and width scale with sqrt(RR) (Bazett).
_NORMAL_WAVES = (
    (-0.200, 0.12, 0.025),  # P
    (-0.030, -0.12, 0.007),  # Q
    (0.000, 1.20, 0.010),  # R
    (0.030, -0.25, 0.008),  # S
    (0.300, 0.30, 0.055),  # T (scaled)
)
_PVC_WAVES = (
    (0.000, 1.50, 0.022),  # wide R
    (0.070, -0.50, 0.020),  # deep S
    (0.320, -0.35, 0.070),  # discordant T (scaled)
)
_SPAN_SIGMAS = 5.0  # each Gaussian is evaluated over +-5 sigma (truncation < 4e-6 of its peak)


@dataclass(frozen=True, eq=False)
class SyntheticECG:
    """A synthetic recording with its ground truth.

    Attributes
    ----------
    record : Record
        One lead (``"synthetic"``), signal in mV.
    r_peaks : ndarray of int64
        True R-peak sample indices (the maximum of the noiseless beat), increasing.
    labels : ndarray of str
        AAMI class of each beat: ``"N"`` (sinus) or ``"V"`` (PVC-like).
    clean : ndarray of float64
        The noiseless ECG (before baseline wander, mains and EMG noise).
    """

    record: Record
    r_peaks: np.ndarray
    labels: np.ndarray
    clean: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "r_peaks", _frozen(np.asarray(self.r_peaks, dtype=np.int64)))
        object.__setattr__(self, "labels", _frozen(np.asarray(self.labels, dtype="<U1")))
        object.__setattr__(self, "clean", _frozen(np.asarray(self.clean, dtype=np.float64)))


def synthesize_ecg(
    duration_s: float = 60.0,
    fs: float = 360.0,
    heart_rate: float = 72.0,
    *,
    hrv: float = 0.03,
    rsa: float = 0.03,
    resp_hz: float = 0.25,
    ectopic_rate: float = 0.0,
    coupling: float = 0.65,
    baseline_mv: float = 0.0,
    mains_mv: float = 0.0,
    mains_hz: float = 50.0,
    emg_mv: float = 0.0,
    seed: int = 0,
    record_id: str = "synthetic",
) -> SyntheticECG:
    """Generate a seeded synthetic ECG with known R-peak positions and beat labels.

    Parameters
    ----------
    duration_s : float
        Length in seconds (> 0).
    fs : float
        Sampling rate in Hz, 50 to 10000.
    heart_rate : float
        Mean heart rate in beats per minute, 30 to 220. The mean RR interval is ``60 / heart_rate``
        in expectation; PVCs keep it (full compensatory pause).
    hrv : float
        Standard deviation of the random beat-to-beat RR fluctuation, as a fraction of the mean RR.
    rsa : float
        Amplitude of the respiratory sinus arrhythmia (RR modulation at ``resp_hz``), a fraction.
    resp_hz : float
        Respiration frequency in Hz (RSA and the main baseline-wander component).
    ectopic_rate : float
        Probability that a beat is a PVC (never two in a row), 0 to 0.5.
    coupling : float
        PVC coupling interval as a fraction of the mean RR (0.3 to 0.95); the following interval
        is ``2 - coupling`` times the mean RR.
    baseline_mv, mains_mv, emg_mv : float
        Amplitudes (mV) of baseline wander (peak), mains interference (peak) and EMG-like
        noise (RMS, white noise band-limited to 20-150 Hz or 0.45 fs).
    mains_hz : float
        Mains frequency (50 or 60 Hz usually).
    seed : int
        Seed of the random generator; equal arguments give identical output.
    record_id : str
        Identifier stored in the returned record.

    Returns
    -------
    SyntheticECG
        The record, the true R-peaks, their labels and the noiseless signal.
    """
    check_param("duration_s", duration_s, np.isfinite(duration_s) and duration_s > 0, "positive")
    check_param("fs", fs, np.isfinite(fs) and 50 <= fs <= 10000, "between 50 and 10000 Hz")
    check_param("heart_rate", heart_rate, 30 <= heart_rate <= 220, "between 30 and 220 bpm")
    check_param("hrv", hrv, 0 <= hrv <= 0.2, "between 0 and 0.2")
    check_param("rsa", rsa, 0 <= rsa <= 0.2, "between 0 and 0.2")
    check_param("resp_hz", resp_hz, 0 < resp_hz <= 1, "in (0, 1] Hz")
    check_param("ectopic_rate", ectopic_rate, 0 <= ectopic_rate <= 0.5, "between 0 and 0.5")
    check_param("coupling", coupling, 0.3 <= coupling <= 0.95, "between 0.3 and 0.95")
    for name, v in (("baseline_mv", baseline_mv), ("mains_mv", mains_mv), ("emg_mv", emg_mv)):
        check_param(name, v, np.isfinite(v) and v >= 0, "a non-negative amplitude in mV")
    check_param("mains_hz", mains_hz, mains_hz > 0, "a positive frequency in Hz")

    rng = np.random.default_rng(seed)
    n = round(duration_s * fs)
    mean_rr = 60.0 / heart_rate
    beat_times, labels = _beat_times(
        n / fs, mean_rr, hrv, rsa, resp_hz, ectopic_rate, coupling, rng
    )
    r_peaks = np.round(beat_times * fs).astype(np.int64)
    keep = r_peaks < n
    r_peaks, labels = r_peaks[keep], labels[keep]

    clean = _render_beats(n, fs, r_peaks, labels)
    t = np.arange(n) / fs
    phases = rng.uniform(0, 2 * np.pi, size=3)
    noise = np.zeros(n)
    if baseline_mv > 0:
        noise += baseline_mv * (
            0.7 * np.sin(2 * np.pi * resp_hz * t + phases[0])
            + 0.3 * np.sin(2 * np.pi * 0.05 * t + phases[1])
        )
    if mains_mv > 0:
        noise += mains_mv * np.sin(2 * np.pi * mains_hz * t + phases[2])
    if emg_mv > 0:
        white = rng.standard_normal(n)
        sos = _sig.butter(4, [20.0, min(150.0, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
        emg = _sig.sosfiltfilt(sos, white)
        noise += emg_mv * emg / np.sqrt(np.mean(emg**2))
    record = Record(
        signal=(clean + noise)[:, None],
        fs=fs,
        leads=("synthetic",),
        record_id=record_id,
        source=f"cardiostream.synth(seed={seed}, heart_rate={heart_rate:g}, fs={fs:g})",
    )
    return SyntheticECG(record=record, r_peaks=r_peaks, labels=labels, clean=clean)


def _beat_times(
    duration: float,
    mean_rr: float,
    hrv: float,
    rsa: float,
    resp_hz: float,
    ectopic_rate: float,
    coupling: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """R-peak times (s) and labels; the loop is over beats (a few thousand at most)."""
    max_beats = int(duration / (0.3 * mean_rr)) + 2
    jitter = np.clip(rng.standard_normal(max_beats), -3, 3) * hrv
    ectopic_draw = rng.uniform(size=max_beats)
    resp_phase = rng.uniform(0, 2 * np.pi)
    labels = np.full(max_beats, "N", dtype="<U1")
    for k in range(1, max_beats):  # a PVC never follows a PVC
        if ectopic_draw[k] < ectopic_rate and labels[k - 1] == "N":
            labels[k] = "V"
    times = np.empty(max_beats)
    t = 0.75 * mean_rr
    times[0] = t
    for k in range(1, max_beats):
        if labels[k] == "V":  # short coupling interval before the PVC
            rr = coupling * mean_rr
        elif labels[k - 1] == "V":  # full compensatory pause after it
            rr = (2 - coupling) * mean_rr
        else:  # sinus: RSA modulation plus random beat-to-beat jitter
            rr = mean_rr * (1 + rsa * np.sin(2 * np.pi * resp_hz * t + resp_phase) + jitter[k])
        t += rr
        times[k] = t
    n_beats = int(np.searchsorted(times, duration))
    return times[:n_beats], labels[:n_beats]


def _render_beats(n: int, fs: float, r_peaks: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Sum the Gaussian waves of every beat into an ``n``-sample signal (vectorised per wave)."""
    out = np.zeros(n)
    if r_peaks.size == 0:
        return out
    # The T wave follows the preceding RR interval (QT ~ sqrt(RR), Bazett); beat 0 uses the median.
    rr = np.diff(r_peaks) / fs
    first = float(np.median(rr)) if rr.size else 1.0
    rr = np.clip(np.concatenate([[first], rr]), 0.25, 2.5)
    for label, waves in (("N", _NORMAL_WAVES), ("V", _PVC_WAVES)):
        sel = labels == label
        if not np.any(sel):
            continue
        t_index = 4 if label == "N" else 2
        for i, (offset, amp, sigma) in enumerate(waves):
            scale = np.sqrt(rr[sel]) if i == t_index else np.ones(int(sel.sum()))
            centres = r_peaks[sel] / fs + offset * scale
            sigmas = sigma * scale
            half = int(np.ceil(_SPAN_SIGMAS * sigmas.max() * fs))
            base = np.round(centres * fs).astype(np.int64)
            idx = base[:, None] + np.arange(-half, half + 1)[None, :]
            tt = idx / fs - centres[:, None]
            vals = amp * np.exp(-0.5 * (tt / sigmas[:, None]) ** 2)
            inside = (idx >= 0) & (idx < n)
            np.add.at(out, idx[inside], vals[inside])
    return out
