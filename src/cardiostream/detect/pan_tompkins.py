"""Pan–Tompkins QRS detector, offline and streaming.

Pan J, Tompkins WJ. A real-time QRS detection algorithm. IEEE Trans Biomed Eng
32(3):230–236, 1985.

Implemented from the paper: band-pass, five-point derivative, squaring, 150 ms moving-window
integration (MWI); peaks of the MWI are classified with the paper's dual adaptive thresholds on
the integrated signal (SPKI, NPKI, THRESHOLD I1/I2) and on the band-passed signal (SPKF, NPKF,
THRESHOLD F1/F2); a 200 ms refractory period; T-wave discrimination by slope (a peak within
360 ms of the previous QRS whose maximal slope is below half of that QRS's is a T wave); the two
RR averages (RR AVERAGE1 over the last eight beats, RR AVERAGE2 over the last eight beats within
92–116 % of it); halved first thresholds while the rhythm is irregular; and search-back for the
largest peak between the two thresholds when no QRS is found within 166 % of RR AVERAGE2
(weights 0.25 instead of 0.125 for a beat found that way).

Differences from the paper, all forced by supporting any rate from 100 to 1000 Hz or by the
paper leaving a detail open:

- The integer 200 Hz low-pass/high-pass pair is replaced by a Butterworth band-pass 5–15 Hz
  (order 2, second-order sections) designed at the signal's rate; the paper's pass band is
  about 5–11 Hz.
- The five-point derivative keeps its five taps at every rate, so it spans ``4 / fs`` s (20 ms
  at 200 Hz). Its gain at the 15 Hz band edge is 3 % below an ideal differentiator's at 360 Hz,
  9 % at 200 Hz (as in the paper) and 32 % at 100 Hz; the thresholds are relative, so this only
  reweights the band slightly.
- Window lengths are in seconds (150 ms MWI, 200 ms refractory, 360 ms T-wave window).
- A "peak" of the MWI is a local maximum within ±100 ms (the paper: "the signal changes
  direction within a certain time interval") above 1e-10 (the rounding noise of a flat line).
- Learning phase 1 (2 s): SPKI/SPKF start at a third of the largest peak in the first 2 s,
  NPKI/NPKF at half of the mean peak; learning phase 2 starts the RR averages at the first RR.
- The RR average that sets the 166 % search-back horizon is capped at 2 s, so search-back for a
  missed beat happens at most 3.32 s after the previous QRS (this bounds the streaming delay).
- Peaks inside the refractory period are ignored (neither QRS nor noise); peaks rejected as T
  waves count as noise but are not kept for search-back.
- The R-peak is refined on the ECG: the sample of largest ``|x - median(x)|`` within ±60 ms of
  the band-passed peak moved back by the band-pass group delay at 10 Hz (median over ±150 ms).
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache

import numpy as np
from scipy.signal import group_delay, sos2tf

from ._features import CausalSOS, FivePointDerivative, MovingAverage
from ._refine import refine_on_ecg, window_index
from ._registry import register_detector
from ._stream import DetectorCore

# Fields of a candidate tuple: MWI peak index, height, band-passed peak, max slope, R-peak.
IX, H, F, S, R = range(5)
# Verdicts on a peak above THRESHOLD1.
ACCEPT, NOISE, RESERVE = range(3)


@lru_cache(maxsize=64)
def _group_delay(sos_bytes: bytes, fs: float, freq: float) -> int:
    sos = np.frombuffer(sos_bytes).reshape(-1, 6)
    b, a = sos2tf(sos)
    return round(float(group_delay((b, a), w=[freq], fs=fs)[1][0]))


def bandpass_group_delay(sos: np.ndarray, fs: float, freq: float = 10.0) -> int:
    """Group delay (samples, rounded) of a SOS filter at ``freq`` Hz (cached)."""
    return _group_delay(np.ascontiguousarray(sos, dtype=np.float64).tobytes(), float(fs), freq)


@register_detector("pan_tompkins")
class PanTompkinsCore(DetectorCore):
    """Pan & Tompkins (1985) on the streaming engine; see the module docstring."""

    MWI_S = 0.150
    REFRACTORY_S = 0.200
    T_WAVE_S = 0.360
    LEARN_S = 2.0
    PEAK_RADIUS_S = 0.100
    RR_LOW, RR_HIGH, RR_MISSED = 0.92, 1.16, 1.66
    RR_CAP_S = 2.0
    REFINE_S = 0.060
    BASELINE_S = 0.150
    #: THRESHOLD1 = NPK + K_SIGNAL * (SPK - NPK); THRESHOLD2 = K_SEARCH * THRESHOLD1.
    K_SIGNAL_I = 0.25
    K_SIGNAL_F = 0.25
    K_SEARCH = 0.5
    #: Factor on THRESHOLD1 while the rhythm is irregular.
    K_IRREGULAR = 0.5
    #: MWI peaks at or below this (signal units² / s²) are rounding noise of a flat line: a QRS
    #: of 1 µV/ms slope already scores 1e-6 (mV units).
    cand_floor = 1e-10

    def __init__(self, fs: float) -> None:
        super().__init__(fs)
        self._bp = CausalSOS(fs, 5.0, 15.0, order=2)
        self._der = FivePointDerivative(fs)
        self.n_mwi = max(1, round(self.MWI_S * fs))
        self._mwi = MovingAverage(self.n_mwi)
        self.gd = bandpass_group_delay(self._bp.sos, fs)
        self.radius = max(1, round(self.PEAK_RADIUS_S * fs))
        self.h_ref = max(1, round(self.REFINE_S * fs))
        self.h_base = max(1, round(self.BASELINE_S * fs))
        self.lookahead = max(self.radius, self.h_base - self.gd)
        self.history = self.n_mwi + self.gd + self.h_base + 1
        self._refractory = self.REFRACTORY_S * fs
        self._twave = self.T_WAVE_S * fs
        self._learn_end = self.LEARN_S * fs
        self._rr_cap = self.RR_CAP_S * fs
        # decision state
        self._learning: list[tuple] | None = []
        self._spki = self._npki = self._spkf = self._npkf = 0.0
        self._last_qrs: int | None = None
        self._last_slope = 0.0
        self._rr1: deque[float] = deque(maxlen=8)
        self._rr2: deque[float] = deque(maxlen=8)
        self._rr_avg2: float | None = None
        self._regular = True
        self._pending: list[tuple] = []  # peaks between the thresholds, for search-back
        self._searched = False

    # -- features and attributes -------------------------------------------------------------
    def features(self, x: np.ndarray) -> list[np.ndarray]:
        bp = self._bp(x)
        d = self._der(bp)
        return [self._mwi(d * d), bp, d]

    def _pt_attributes(
        self, buf: list[np.ndarray], pos: np.ndarray, start: int
    ) -> list[np.ndarray]:
        """MWI height, band-passed peak, maximal slope and refined R-peak (absolute index)."""
        n = buf[0].size
        rows = np.arange(pos.size)
        idx = window_index(pos, -self.n_mwi, 0, n)
        bp_abs = np.abs(buf[2][idx])
        k = np.argmax(bp_abs, axis=1)
        peak_f = bp_abs[rows, k]
        slope = np.abs(buf[3][idx]).max(axis=1)
        r = refine_on_ecg(buf[0], idx[rows, k] - self.gd, self.h_ref, self.h_base)
        return [buf[1][pos], peak_f, slope, r + start]

    def attributes(self, buf: list[np.ndarray], pos: np.ndarray, start: int) -> list[np.ndarray]:
        return self._pt_attributes(buf, pos, start)

    @property
    def delay_s(self) -> float:
        search = self.RR_MISSED * self.RR_CAP_S - self.REFRACTORY_S
        # a candidate is confirmed `lookahead` samples after its MWI peak, which trails the
        # refined R-peak by at most the MWI window, the band-pass delay and the search window
        trail = self.lookahead + self.n_mwi + self.gd + self.h_ref + 1
        return max(self.LEARN_S, search) + trail / self.fs

    # -- decision logic ----------------------------------------------------------------------
    def _make(self, cand: np.ndarray, attrs: list[np.ndarray]) -> list[tuple]:
        if not cand.size:
            return []
        i, h, f, s, r = cand.tolist(), *(a.tolist() for a in attrs[:4])
        return list(zip(i, h, f, s, (int(v) for v in r), strict=True))

    def decide(
        self, cand: np.ndarray, attrs: list[np.ndarray], frontier: int, final: bool
    ) -> list[int]:
        new = self._make(cand, attrs)
        out: list[int] = []
        if self._learning is not None:
            self._learning.extend(new)
            if frontier <= self._learn_end and not final:
                return out
            new = self._start()
        for c in new:
            self._step(c, (), out)
        self._search_until(frontier, final, out)
        return out

    def _search_until(self, frontier: int, final: bool, out: list[int]) -> None:
        """Search-back events whose horizon is passed although no later candidate came."""
        limit = self._missed_limit()
        while limit is not None and frontier > limit:
            self._search_back(limit, out)
            limit = self._missed_limit()

    def _start(self) -> list[tuple]:
        """End of learning phase 1: initialise the four peak estimates from the first 2 s."""
        learn = self._learning or []
        self._learning = None
        first = [c for c in learn if c[IX] < self._learn_end] or learn
        if first:
            hs = [c[H] for c in first]
            fs_ = [c[F] for c in first]
            self._spki, self._npki = max(hs) / 3.0, 0.5 * sum(hs) / len(hs)
            self._spkf, self._npkf = max(fs_) / 3.0, 0.5 * sum(fs_) / len(fs_)
        return learn

    def _full_thresholds(self) -> tuple[float, float]:
        """THRESHOLD I1 and F1 before the irregular-rhythm reduction."""
        ti1 = self._npki + self.K_SIGNAL_I * (self._spki - self._npki)
        tf1 = self._npkf + self.K_SIGNAL_F * (self._spkf - self._npkf)
        return ti1, tf1

    def _thresholds(self) -> tuple[float, float, float, float]:
        ti1, tf1 = self._full_thresholds()
        ti2, tf2 = self.K_SEARCH * ti1, self.K_SEARCH * tf1
        if not self._regular:
            ti1, tf1 = self.K_IRREGULAR * ti1, self.K_IRREGULAR * tf1
        return ti1, ti2, tf1, tf2

    def _missed_limit(self) -> float | None:
        if self._last_qrs is None or self._rr_avg2 is None or self._searched:
            return None
        return self._last_qrs + self.RR_MISSED * min(self._rr_avg2, self._rr_cap)

    def _accept(self, c: tuple, search_back: bool) -> int:
        w = 0.25 if search_back else 0.125
        self._spki = w * c[H] + (1 - w) * self._spki
        self._spkf = w * c[F] + (1 - w) * self._spkf
        if self._last_qrs is not None:
            self._add_rr(float(c[IX] - self._last_qrs))
        self._last_qrs = c[IX]
        self._last_slope = c[S]
        self._pending = []
        self._searched = False
        return c[R]

    def _add_rr(self, rr: float) -> None:
        self._rr1.append(rr)
        if self._rr_avg2 is None:
            self._rr_avg2 = rr
            self._rr2.append(rr)
            return
        lo, hi = self.RR_LOW * self._rr_avg2, self.RR_HIGH * self._rr_avg2
        if lo <= rr <= hi:
            self._rr2.append(rr)
            self._rr_avg2 = sum(self._rr2) / len(self._rr2)
        # regular when each of the (up to) eight most recent intervals is within the limits
        self._regular = lo <= min(self._rr1) and max(self._rr1) <= hi
        if self._regular:
            self._rr_avg2 = sum(self._rr1) / len(self._rr1)

    def _noise(self, c: tuple) -> None:
        self._npki = 0.125 * c[H] + 0.875 * self._npki
        self._npkf = 0.125 * c[F] + 0.875 * self._npkf

    def _search_back(self, limit: float, out: list[int]) -> None:
        self._searched = True
        _, ti2, _, tf2 = self._thresholds()
        best = None
        for c in self._pending:
            if c[IX] > limit:
                break
            if c[H] > ti2 and c[F] > tf2 and (best is None or c[H] > best[H]):
                best = c
        if best is not None:
            later = [c for c in self._pending if c[IX] > best[IX]]
            out.append(self._accept(best, search_back=True))
            # peaks after the recovered beat stay available to the next search-back
            self._pending = [c for c in later if c[IX] - best[IX] >= self._refractory]

    def _is_t_wave(self, c: tuple) -> bool:
        return (
            self._last_qrs is not None
            and c[IX] - self._last_qrs < self._twave
            and c[S] < 0.5 * self._last_slope
        )

    def _reject(self, c: tuple, future: tuple | list) -> int:
        """Why a peak above THRESHOLD1 is not a QRS (hook for subclasses).

        Returns ``ACCEPT``; ``NOISE`` (a noise peak, e.g. a T wave); or ``RESERVE`` (a noise peak
        kept for search-back).
        """
        return NOISE if self._is_t_wave(c) else ACCEPT

    def _skip(self, c: tuple, future: tuple | list) -> bool:
        """Peaks that are neither QRS nor noise (refractory period; hook for subclasses)."""
        return self._last_qrs is not None and c[IX] - self._last_qrs < self._refractory

    def _step(self, c: tuple, future: tuple | list, out: list[int]) -> None:
        limit = self._missed_limit()
        while limit is not None and c[IX] > limit:
            self._search_back(limit, out)
            limit = self._missed_limit()
        if self._skip(c, future):
            return
        ti1, ti2, tf1, _ = self._thresholds()
        verdict = RESERVE
        if c[H] > ti1 and c[F] > tf1:
            verdict = self._reject(c, future)
            if verdict == ACCEPT:
                out.append(self._accept(c, search_back=False))
                return
        self._noise(c)
        if verdict == RESERVE and c[H] > ti2:
            self._pending.append(c)
