"""Noise stress test: add calibrated MIT-BIH Noise Stress Test noise to a clean ECG.

Follows the procedure of PhysioNet's ``nst`` (WFDB Applications Guide, nst(1)) and Moody,
Muldrow & Mark, "A noise stress test for arrhythmia detectors", Computers in Cardiology
11:381-384, 1984:

* signal power ``S = A**2 / 8`` where ``A`` is the mean peak-to-peak amplitude (range within
  +-50 ms of the annotation) of the first 300 normal beats, the largest and smallest 5 % of the
  measurements discarded;
* noise power ``N = n**2`` where ``n`` is the mean, again without the largest and smallest 5 %,
  of the RMS deviation from the mean in each of the 300 one-second chunks of the first 5 minutes
  of the noise;
* gain ``a`` such that ``SNR = 10 log10(S / (a**2 N))``;
* the standard protocol: no noise for the first 5 minutes (the learning period), then noise in
  alternate 2-minute periods (on 5-7 min, off 7-9 min, on 9-11 min, ...); at every gain change an
  offset is recomputed so that the output has no step. The noise record is read from its start in
  step with the clean one, and rewound when shorter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..errors import InvalidParameterError, InvalidSignalError, check_param
from ..types import _frozen

__all__ = ["NoisyECG", "noise_stress"]

_LEARN_S = 300.0
_PERIOD_S = 120.0


@dataclass(frozen=True, eq=False)
class NoisyECG:
    """A clean ECG with calibrated noise added.

    Attributes
    ----------
    signal : ndarray of float64
        The noisy signal (same length and units as the clean one).
    noisy_spans : ndarray of int64, shape (k, 2)
        ``[start, stop)`` sample spans where noise is on.
    snr_db : float
        The requested SNR.
    gain : float
        Scale factor ``a`` applied to the noise.
    signal_power, noise_power : float
        ``S`` and the unscaled ``N`` of the nst definition.
    """

    signal: np.ndarray
    noisy_spans: np.ndarray
    snr_db: float
    gain: float
    signal_power: float
    noise_power: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "signal", _frozen(np.asarray(self.signal, np.float64)))
        object.__setattr__(self, "noisy_spans", _frozen(np.asarray(self.noisy_spans, np.int64)))


def _trimmed_mean(v: np.ndarray) -> float:
    v = np.sort(np.asarray(v, dtype=np.float64))
    k = int(0.05 * v.size)
    return float(v[k : v.size - k].mean())


def qrs_signal_power(clean: np.ndarray, fs: float, normal_beats: np.ndarray) -> float:
    """nst's ``S``: (trimmed mean QRS peak-to-peak)**2 / 8 over the first 300 normal beats."""
    half = round(0.05 * fs)
    beats = np.asarray(normal_beats, dtype=np.int64)
    beats = beats[(beats - half >= 0) & (beats + half < clean.size)][:300]
    if beats.size == 0:
        raise InvalidSignalError(
            "The 'normal_beats' parameter must hold at least one beat 50 ms away from the edges."
        )
    windows = clean[beats[:, None] + np.arange(-half, half + 1)[None, :]]
    return _trimmed_mean(np.ptp(windows, axis=1)) ** 2 / 8.0


def noise_power(noise: np.ndarray, fs: float) -> float:
    """nst's ``N``: squared trimmed mean of per-second RMS deviations over the first 300 s."""
    sec = round(fs)
    n_chunks = min(300, noise.size // sec)
    if n_chunks == 0:
        raise InvalidSignalError("The 'noise' parameter must be at least one second long.")
    chunks = noise[: n_chunks * sec].reshape(n_chunks, sec)
    rms = np.sqrt(np.mean((chunks - chunks.mean(axis=1, keepdims=True)) ** 2, axis=1))
    return _trimmed_mean(rms) ** 2


def _nst_spans(n: int, fs: float) -> np.ndarray:
    starts = np.arange(_LEARN_S, n / fs, 2 * _PERIOD_S)
    spans = [(round(s * fs), min(n, round((s + _PERIOD_S) * fs))) for s in starts]
    return np.asarray([sp for sp in spans if sp[0] < sp[1]], np.int64).reshape(-1, 2)


def noise_stress(
    clean: np.ndarray,
    noise: np.ndarray,
    fs: float,
    normal_beats: np.ndarray,
    snr_db: float,
    *,
    protocol: Literal["nst", "continuous"] = "nst",
) -> NoisyECG:
    """Add noise to a clean ECG at a given SNR, the way PhysioNet's ``nst`` does.

    Parameters
    ----------
    clean : ndarray, shape (n,)
        Clean ECG (one lead, mV).
    noise : ndarray
        Noise signal at the same rate (e.g. channel 0 of nstdb ``bw`` or ``ma``).
    fs : float
        Sampling rate of both.
    normal_beats : ndarray of int
        Sample indices of normal (``N``) beats of the clean record, for ``S``.
    snr_db : float
        Target SNR in dB during noisy periods.
    protocol : {"nst", "continuous"}
        ``"nst"``: the standard protocol (5 min clean, then 2 min noisy / 2 min clean);
        ``"continuous"``: noise over the whole signal.

    Returns
    -------
    NoisyECG
    """
    x = np.asarray(clean, dtype=np.float64)
    z = np.asarray(noise, dtype=np.float64)
    if x.ndim != 1 or z.ndim != 1 or x.size == 0 or z.size == 0:
        raise InvalidSignalError(
            f"The 'clean' and 'noise' parameters must be non-empty 1-D arrays, got shapes "
            f"{x.shape} and {z.shape} instead."
        )
    check_param("fs", fs, np.isfinite(fs) and fs > 0, "a positive sampling rate")
    check_param("snr_db", snr_db, bool(np.isfinite(snr_db)), "a finite number of dB")
    if protocol not in ("nst", "continuous"):
        raise InvalidParameterError(
            f"The 'protocol' parameter must be 'nst' or 'continuous', got {protocol!r} instead."
        )
    s_pow = qrs_signal_power(x, fs, normal_beats)
    n_pow = noise_power(z, fs)
    gain = float(np.sqrt(s_pow / (n_pow * 10.0 ** (snr_db / 10.0))))
    z = np.resize(z, x.size)  # rewinds the noise when it is shorter
    spans = _nst_spans(x.size, fs) if protocol == "nst" else np.array([[0, x.size]], np.int64)
    gains = np.zeros(x.size)
    for a, b in spans:
        gains[a:b] = gain
    # offsets that keep a*noise + b continuous at every gain change (nst's step cancellation)
    change = np.flatnonzero(np.diff(gains) != 0) + 1
    offsets = np.zeros(x.size)
    level = 0.0
    for c in change:
        before = gains[c - 1] * z[c] + level
        level = before - gains[c] * z[c]
        offsets[c:] = level
    return NoisyECG(
        signal=x + gains * z + offsets,
        noisy_spans=spans,
        snr_db=float(snr_db),
        gain=gain,
        signal_power=float(s_pow),
        noise_power=float(n_pow),
    )
