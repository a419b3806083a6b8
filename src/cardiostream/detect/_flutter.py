"""Recognising ventricular flutter / fibrillation, so that its waves are not counted as beats.

During ventricular flutter the ECG is a sustained, nearly sinusoidal oscillation of 3–5 Hz with
no isoelectric line; QRS detectors fire on every wave. AAMI EC57 excludes such episodes from QRS
statistics; the ``"cardiostream"`` detector instead declines to report beats there. A candidate
gets a *flutter vote* when at least two of three sinusoidality indicators hold:

- VF-filter leakage below ``LEAKAGE_MAX`` (Kuo S, Dillman R. Computer detection of ventricular
  fibrillation. Computers in Cardiology 1978:347–349; as described in Amann A, Tratnig R,
  Unterkofler K. Reliability of old and new ventricular fibrillation detection algorithms for
  automated external defibrillators. BioMed Eng OnLine 4:60, 2005): the signal shifted by half
  its mean period cancels itself when it is a sinusoid;
- little high-frequency content: RMS of the 15–45 Hz band below ``HF_RATIO_MAX`` of the 1–15 Hz
  band over ``±ENERGY_WINDOW_S`` (a QRS has sharp edges, flutter waves do not);
- slope not concentrated at the candidate: the 1–15 Hz absolute slope within ±60 ms of the
  candidate, per sample, is below ``CONCENTRATION_MAX`` times its mean over
  ``±ENERGY_WINDOW_S``.

The leakage is computed over ``±LEAKAGE_WINDOW_S`` of the 1–15 Hz signal taken at about 60 Hz.
A voting candidate is then treated as flutter (not a beat) when, among the candidates within
``±WINDOW_S`` at least ``NEIGHBOUR_HEIGHT`` times as high as it, at least half vote, the voting
ones span at least ``SPAN_MIN_S`` and the median spacing is below ``RATE_INTERVAL_MAX_S`` (faster
than 133 per minute): a sustained, fast, sinusoidal rhythm. Short runs of fast ventricular
tachycardia (record 205) are kept as beats by the span condition. The thresholds were chosen on
MIT-BIH Arrhythmia, where flutter occurs only in record 207.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from itertools import pairwise

import numpy as np

from ._features import AbsDiff, CausalSOS, RunningSum
from ._refine import _iclip

_TINY = float(np.finfo(np.float64).tiny)  # smallest normal double, a safe divisor
LEAKAGE_MAX = 0.5
HF_RATIO_MAX = 0.15
CONCENTRATION_MAX = 1.7
WINDOW_S = 1.5
RATE_INTERVAL_MAX_S = 0.45
NEIGHBOUR_HEIGHT = 0.5
SPAN_MIN_S = 1.5
ENERGY_WINDOW_S = 1.0
LEAKAGE_WINDOW_S = 1.0
SLOPE_WINDOW_S = 0.060
_LEAKAGE_RATE_HZ = 60.0
FILTER_ORDER = 2


class FlutterFeatures:
    """Per-sample rows and per-candidate votes for flutter recognition at rate ``fs``."""

    n_rows = 4

    def __init__(self, fs: float) -> None:
        self.fs = fs
        self._lo = CausalSOS(fs, 1.0, 15.0, order=FILTER_ORDER)
        self._hi = CausalSOS(fs, 15.0, min(45.0, 0.45 * fs), order=FILTER_ORDER)
        self._sum_lo2, self._sum_hi2, self._sum_dlo = RunningSum(), RunningSum(), RunningSum()
        self._dlo = AbsDiff()
        self.w_energy = round(ENERGY_WINDOW_S * fs)
        self.dec = max(1, int(fs // _LEAKAGE_RATE_HZ))
        self.w_leak = round(LEAKAGE_WINDOW_S * fs) // self.dec * self.dec
        self.w_slope = max(1, round(SLOPE_WINDOW_S * fs))
        #: samples needed after / before a candidate
        self.lookahead = max(self.w_energy, self.w_leak)
        self.history = max(self.w_energy, self.w_leak) + self.dec

    def rows(self, x: np.ndarray) -> list[np.ndarray]:
        """Running sums of 1–15 Hz power, 15–45 Hz power and 1–15 Hz |slope|; the 1–15 Hz signal."""
        lo = self._lo(x)
        hi = self._hi(x)
        return [
            self._sum_lo2(lo * lo),
            self._sum_hi2(hi * hi),
            self._sum_dlo(self._dlo(lo)),
            lo,
        ]

    def votes(
        self, rows: list[np.ndarray], pos: np.ndarray, qrs: np.ndarray, start: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Flutter votes of candidates at columns ``pos`` (QRS estimate at columns ``qrs``).

        Returns ``(vote, concentration)``; the slope concentration is also used by the decision
        logic as a QRS-shape measure.
        """
        sum_lo2, sum_hi2, sum_dlo, lo = rows
        n = lo.size
        if pos.size == 1:  # the streaming case: the same arithmetic on Python floats
            return self._vote_one(rows, int(pos[0]), int(qrs[0]), start)
        a = _iclip(pos - self.w_energy, 0, n - 1)
        b = _iclip(pos + self.w_energy, 0, n - 1)
        tiny = _TINY
        ratio = np.sqrt((sum_hi2[b] - sum_hi2[a]) / np.maximum(sum_lo2[b] - sum_lo2[a], tiny))
        qa = _iclip(qrs - self.w_slope, 0, n - 1)
        qb = _iclip(qrs + self.w_slope, 0, n - 1)
        local = (sum_dlo[qb] - sum_dlo[qa]) / np.maximum(qb - qa, 1)
        mean = (sum_dlo[b] - sum_dlo[a]) / np.maximum(b - a, 1)
        conc = local / np.maximum(mean, tiny)
        v_ratio = ratio < HF_RATIO_MAX
        v_conc = conc < CONCENTRATION_MAX
        vote = v_ratio & v_conc
        undecided = np.flatnonzero(v_ratio ^ v_conc)  # the leakage breaks the tie
        if undecided.size:
            vote[undecided] = self._leakage(lo, pos[undecided], start) < LEAKAGE_MAX
        return vote, conc

    def _vote_one(
        self, rows: list[np.ndarray], p: int, q: int, start: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`votes` of one candidate: each operation is the array version's on one
        element (IEEE double arithmetic, correctly rounded square root), so values are equal."""
        sum_lo2, sum_hi2, sum_dlo, lo = rows
        top = lo.size - 1
        a, b = min(max(p - self.w_energy, 0), top), min(max(p + self.w_energy, 0), top)
        qa, qb = min(max(q - self.w_slope, 0), top), min(max(q + self.w_slope, 0), top)
        num = float(sum_hi2[b]) - float(sum_hi2[a])
        den = max(float(sum_lo2[b]) - float(sum_lo2[a]), _TINY)
        ratio = math.sqrt(num / den) if num >= 0 else math.nan
        local = (float(sum_dlo[qb]) - float(sum_dlo[qa])) / max(qb - qa, 1)
        mean = (float(sum_dlo[b]) - float(sum_dlo[a])) / max(b - a, 1)
        conc = local / max(mean, _TINY)
        v_ratio, v_conc = ratio < HF_RATIO_MAX, conc < CONCENTRATION_MAX
        vote = v_ratio and v_conc
        if v_ratio != v_conc:  # the leakage breaks the tie
            vote = bool(self._leakage(lo, np.array([p]), start)[0] < LEAKAGE_MAX)
        return np.array([vote]), np.array([conc])

    def _leakage(self, lo: np.ndarray, pos: np.ndarray, start: int) -> np.ndarray:
        """VF-filter leakage over ``±LEAKAGE_WINDOW_S`` of the 1–15 Hz signal at about 60 Hz."""
        d = self.dec
        m = self.w_leak // d
        base = (pos + start) // d * d - start  # samples on absolute multiples of d: chunk-proof
        idx = base[:, None] + d * np.arange(-m, m + 1)[None, :]
        v = np.where((idx >= 0) & (idx < lo.size), lo[_iclip(idx, 0, lo.size - 1)], 0.0)
        tiny = _TINY
        travel = np.abs(np.diff(v, axis=1)).sum(axis=1)
        half = np.pi * np.abs(v).sum(axis=1) / np.maximum(travel, tiny)
        shift = _iclip(np.floor(half + 0.5).astype(np.int64), 1, v.shape[1] - 1)
        out = np.empty(pos.size)
        for s in np.unique(shift):
            sel = shift == s
            a, b = v[sel, s:], v[sel, :-s]
            total = (np.abs(a) + np.abs(b)).sum(axis=1)
            out[sel] = np.abs(a + b).sum(axis=1) / np.maximum(total, tiny)
        return out


def is_flutter(neighbours: Iterable[tuple[int, bool]], fs: float) -> bool:
    """Majority, duration and rate rule over ``(index, vote)`` of the candidates around one.

    Flutter when at least half of the neighbours vote, the voting ones span at least
    ``SPAN_MIN_S`` and the median spacing of all of them is below ``RATE_INTERVAL_MAX_S``.
    """
    pos: list[int] = []
    voting: list[int] = []
    for i, v in neighbours:
        pos.append(i)
        if v:
            voting.append(i)
    if len(pos) < 3 or 2 * len(voting) < len(pos) or voting[-1] - voting[0] < SPAN_MIN_S * fs:
        return False
    gaps = sorted(b - a for a, b in pairwise(pos))
    m = len(gaps)
    med = gaps[m // 2] if m % 2 else 0.5 * (gaps[m // 2 - 1] + gaps[m // 2])
    return med < RATE_INTERVAL_MAX_S * fs
