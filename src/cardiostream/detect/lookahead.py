"""The ``"cardiostream"`` detector (the default): Pan–Tompkins with look-ahead decisions.

It keeps the structure of Pan & Tompkins (1985; :mod:`cardiostream.detect.pan_tompkins`) —
band-pass, five-point derivative, squaring, 150 ms moving-window integration (MWI), dual adaptive
thresholds on the integrated and band-passed signals, RR averages, search-back, slope-based
T-wave discrimination, 200 ms refractory period — and changes four things:

1. **RMS scale.** The integrated-signal thresholds act on the square root of the MWI (the RMS
   slope over 150 ms), with THRESHOLD I1 half-way between the noise and signal estimates
   (THRESHOLD F1 on the band-passed signal keeps the paper's 25 %). On the squared scale a QRS
   half as tall scores a quarter, so beats were lost after sudden amplitude drops and next to
   large ectopic beats (first 10 min of record 228 at 130 Hz: Se 94.7 % → 100 %).
2. **Bounded look-ahead.** A candidate is decided only once every candidate up to
   ``HORIZON_S`` (1.5 s) later is known. Two candidates less than 250 ms apart cannot both be
   beats: a candidate followed that closely by one at least as high whose distance to the last
   beat is closer to the RR average is a P wave or an artefact before the QRS, not a beat (the
   tall, sharp P waves of record 108: +P 95.9 % with Pan–Tompkins, 99.2 % here).
3. **Weak candidates must look like a QRS.** Pan & Tompkins halve THRESHOLD I1/F1 while the
   rhythm is irregular. A candidate that passes only thanks to that halving is refused (and kept
   for search-back) when its slope is not concentrated around it (1–15 Hz |slope| within
   ±60 ms below 1.3 times its mean over ±1 s), when it comes within 35 % of the RR average after
   the last beat with less than 70 % of its slope (a late T wave), or when a candidate above the
   full thresholds follows within 30 % of the RR average.
4. **Ventricular flutter is not counted as beats.** Sustained, fast, sinusoidal activity is
   recognised (:mod:`cardiostream.detect._flutter`, after the VF filter of Kuo & Dillman 1978)
   and its waves are skipped, as AAMI EC57 keeps ventricular flutter/fibrillation out of QRS
   detection statistics.

The rules and their constants were designed on MIT-BIH Arrhythmia (the only annotated database
at hand), which ``benchmarks/qrs.py`` also evaluates; no record-specific setting exists and no
annotation is used. Streaming and offline give identical peaks; the price of the look-ahead is
delay: a peak is typically reported 2.6 s after it happened (``StreamingDetector.delay_s``
bounds it at about 5.9 s, the worst case being a beat recovered by search-back after a pause).
"""

from __future__ import annotations

import numpy as np

from . import _flutter
from ._registry import register_detector
from .pan_tompkins import ACCEPT, IX, NOISE, RESERVE, F, H, PanTompkinsCore, S

# Extra candidate fields: slope concentration and flutter vote.
CONC, VOTE = 5, 6


@register_detector("cardiostream")
class LookaheadCore(PanTompkinsCore):
    """Pan–Tompkins with the look-ahead rules of the module docstring.

    Candidate tuples extend those of :class:`PanTompkinsCore` with the slope concentration and
    the flutter vote; heights are RMS slopes (square root of the MWI).
    """

    K_SIGNAL_I = 0.5
    HORIZON_S = _flutter.WINDOW_S
    SHADOW_S = 0.25
    SHADOW_HEIGHT = 1.0
    WEAK_MIN_CONCENTRATION = 1.3
    WEAK_T_WAVE_RR = 0.35
    WEAK_T_WAVE_SLOPE = 0.7
    WEAK_NEXT_RR = 0.3

    def __init__(self, fs: float) -> None:
        super().__init__(fs)
        self._fl = _flutter.FlutterFeatures(fs)
        self.lookahead = max(self.lookahead, self._fl.lookahead)
        self.history = max(self.history, self._fl.history + self.radius)
        self.horizon = round(self.HORIZON_S * fs)
        self._cands: list[tuple] = []
        self._head = self._ahead = self._back = 0
        self._back_view = (0, 0)

    def features(self, x: np.ndarray) -> list[np.ndarray]:
        return [*super().features(x), *self._fl.rows(x)]

    def attributes(self, buf: list[np.ndarray], pos: np.ndarray, start: int) -> list[np.ndarray]:
        h, f, s, r = self._pt_attributes(buf, pos, start)
        vote, conc = self._fl.votes(buf[4:8], pos, r - start, start)
        return [np.sqrt(h), f, s, r, conc, vote]

    @property
    def delay_s(self) -> float:
        return super().delay_s + self.HORIZON_S

    def _make(self, cand: np.ndarray, attrs: list[np.ndarray]) -> list[tuple]:
        if not cand.size:
            return []
        i = cand.tolist()
        h, f, s, r, conc, vote = (a.tolist() for a in attrs)
        return list(zip(i, h, f, s, (int(v) for v in r), conc, vote, strict=True))

    def decide(
        self, cand: np.ndarray, attrs: list[np.ndarray], frontier: int, final: bool
    ) -> list[int]:
        new = self._make(cand, attrs)
        out: list[int] = []
        if self._learning is not None:
            self._learning.extend(new)
            if frontier <= self._learn_end + self.horizon and not final:
                return out
            new = self._start()
        # self._cands holds decided candidates still inside the flutter window, then the
        # undecided ones from index self._head on; self._ahead is the end of the horizon.
        cands = self._cands
        cands.extend(new)
        n = len(cands)
        window = _flutter.WINDOW_S * self.fs
        head, ahead, back = self._head, self._ahead, self._back
        while head < n and (final or cands[head][IX] + self.horizon < frontier):
            c = cands[head]
            lim = c[IX] + self.horizon
            ahead = max(ahead, head + 1)
            while ahead < n and cands[ahead][IX] <= lim:
                ahead += 1
            while cands[back][IX] < c[IX] - window:
                back += 1
            self._back_view = (back, head)
            self._step(c, cands[head + 1 : ahead], out)
            head += 1
        if back > 4096:  # forget candidates that left the flutter window
            del cands[:back]
            head, ahead, back = head - back, ahead - back, 0
        self._head, self._ahead, self._back = head, ahead, back
        # search-back horizons passed with no candidate after them
        limit = self._missed_limit()
        while (
            limit is not None
            and (head == n or cands[head][IX] > limit)
            and (frontier > limit + self.horizon or (final and frontier > limit))
        ):
            self._search_back(limit, out)
            limit = self._missed_limit()
        return out

    # -- rules -----------------------------------------------------------------------------
    def _skip(self, c: tuple, future: tuple | list) -> bool:
        return super()._skip(c, future) or (c[VOTE] and self._in_flutter(c, future))

    def _in_flutter(self, c: tuple, future: tuple | list) -> bool:
        w = _flutter.WINDOW_S * self.fs
        h = _flutter.NEIGHBOUR_HEIGHT * c[H]
        back, head = self._back_view
        around = [q for q in self._cands[back:head] if q[H] >= h]
        around.append(c)
        around.extend(q for q in future if q[IX] <= c[IX] + w and q[H] >= h)
        return _flutter.is_flutter(((q[IX], q[VOTE]) for q in around), self.fs)

    def _reject(self, c: tuple, future: tuple | list) -> int:
        if self._is_t_wave(c) or self._shadowed(c, future):
            return NOISE
        ti1, tf1 = self._full_thresholds()
        if (c[H] <= ti1 or c[F] <= tf1) and self._weak_not_qrs(c, future, ti1, tf1):
            return RESERVE
        return ACCEPT

    def _shadowed(self, c: tuple, future: tuple | list) -> bool:
        """Followed within SHADOW_S by a peak at least as high that fits the rhythm better."""
        if self._last_qrs is None or self._rr_avg2 is None:
            return False
        rr = self._rr_avg2
        off = abs(c[IX] - self._last_qrs - rr)
        lim = c[IX] + self.SHADOW_S * self.fs
        for n in future:
            if n[IX] > lim:
                break
            if n[H] >= self.SHADOW_HEIGHT * c[H] and abs(n[IX] - self._last_qrs - rr) < off:
                return True
        return False

    def _weak_not_qrs(self, c: tuple, future: tuple | list, ti1: float, tf1: float) -> bool:
        """A peak above only the halved thresholds that does not look like a QRS."""
        if c[CONC] < self.WEAK_MIN_CONCENTRATION:
            return True
        rr = self._rr_avg2
        if rr is None:
            return False
        if (
            self._last_qrs is not None
            and c[IX] - self._last_qrs < self.WEAK_T_WAVE_RR * rr
            and c[S] < self.WEAK_T_WAVE_SLOPE * self._last_slope
        ):
            return True
        lim = c[IX] + self.WEAK_NEXT_RR * rr
        for q in future:
            if q[IX] > lim:
                break
            if q[IX] - c[IX] > self._refractory and q[H] > ti1 and q[F] > tf1:
                return True
        return False
