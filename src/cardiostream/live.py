"""One patient's live pipeline: samples in, labelled beats out — the same labels as offline.

:class:`LiveBeatPipeline` chains, causally and chunk by chunk, everything
:func:`cardiostream.analyze.analyze_record` does with a
:class:`~cardiostream.classify.BeatClassifier`
on a whole recording:

* R-peaks from :class:`cardiostream.detect.StreamingDetector` (equal to the offline detector);
* the model's filter chain as a streaming pipeline, realigned by its structural delay (for a model
  trained with the ``"causal"`` chain these are exactly the offline samples);
* beat windows cut around refined peaks, RR features (with the inference warm-up), the running
  template and the rhythm context — each computed on the same samples, in the same order, as the
  offline path, so a beat's model input is identical;
* the signal-quality decision of the beat (:class:`cardiostream.quality.StreamingQuality`).

It does no inference: :meth:`LiveBeatPipeline.push` returns :class:`ReadyBeat` s (model input row,
or None where the input is undefined, and the quality verdict), so a service can classify the
ready beats of many patients in one micro-batch (:meth:`BeatClassifier.predict_inputs`). A beat is
ready once the next R-peak is known (its RR+1 feature), its window has been filtered and its
quality segment decided; the latency is therefore about one RR interval plus the detector's
look-ahead. Memory is bounded: only the last few seconds of filtered signal and the last
``max(43, template)`` beats are kept.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from .beats import (
    N_AVG_BEATS,
    StreamingTemplate,
    window_samples,
)
from .beats.context import _QRS_HALF_S, _SCALE_FLOOR_MV
from .beats.morphology import _spline_operator
from .beats.preprocess import PREPROCESS_CONFIGS
from .beats.rr import _feature_row
from .beats.segment import DEFAULT_REFINE_S
from .detect import DEFAULT_METHOD, StreamingDetector
from .errors import CardiostreamError, InvalidSignalError, check_param
from .quality import StreamingQuality
from .signal import streaming_preprocessor

__all__ = ["LiveBeatPipeline", "ReadyBeat"]


@dataclass(frozen=True, eq=False)
class ReadyBeat:
    """A beat whose model input and quality are final.

    Attributes
    ----------
    sample : int
        R-peak as detected (samples since the stream started).
    x : ndarray of float32, shape (1, length), or None
        Model input; None where it is undefined (first beats, window leaving the signal).
    usable : bool
        The quality index accepts the beat (label it ``inconclusive`` otherwise).
    """

    sample: int
    x: np.ndarray | None
    usable: bool


class LiveBeatPipeline:
    """Causal per-patient pipeline producing model inputs identical to the offline path.

    Parameters
    ----------
    fs : float
        Sampling rate of the stream (Hz).
    preprocessing : Preprocessing
        The classifier's (:attr:`BeatClassifier.preprocessing`); must use the ``beat_ctx`` input.
    method : str
        R-peak detector.
    rr_warmup : int
        ``min_avg`` of the RR features (:data:`cardiostream.classify.RR_WARMUP`).
    """

    def __init__(self, fs: float, preprocessing, *, method: str = DEFAULT_METHOD,
                 rr_warmup: int = 8) -> None:
        ok = isinstance(fs, int | float) and np.isfinite(fs) and 100 <= fs <= 1000
        check_param("fs", fs, ok, "a sampling rate in [100, 1000] Hz")
        check_param("input_kind", preprocessing.input_kind,
                    preprocessing.input_kind == "beat_ctx", "'beat_ctx' (live inputs)")
        config = PREPROCESS_CONFIGS.get(preprocessing.preprocess)
        check_param("preprocess", preprocessing.preprocess, config is not None,
                    "a filter chain (not 'none')")
        self.fs = float(fs)
        self.prep = preprocessing
        self._detector = StreamingDetector(self.fs, method=method)
        self._quality = StreamingQuality(self.fs, peak_delay_s=self._detector.delay_s)
        self._filter = streaming_preprocessor(self.fs, config)
        self._delay = int(self._filter.delay_samples)
        self._max_delay = math.ceil(self._detector.delay_s * self.fs)
        self._template = StreamingTemplate()
        self._row = _InputRow(self.fs, preprocessing)
        self._rr_warmup = rr_warmup
        self._before, self._after = window_samples(self.fs, preprocessing.window_s)
        self._half = round(DEFAULT_REFINE_S * self.fs)
        # filtered signal aligned to input indices: self._buf[k] is sample self._buf0 + k
        self._buf = np.zeros(0)
        self._buf0 = 0
        self._n_in = 0
        self._n_out = 0
        self._flushed = False
        # enough history for the full RR average of a beat even with a few beats waiting
        self._peaks: deque[int] = deque(maxlen=N_AVG_BEATS + 16)
        self._waiting: deque[int] = deque()  # peaks whose input is not built yet
        self._built: deque[tuple[int, np.ndarray | None]] = deque()  # awaiting quality
        self._verdicts: dict[int, bool] = {}

    @property
    def n_samples(self) -> int:
        """Samples pushed so far."""
        return self._n_in

    def push(self, chunk: np.ndarray) -> list[ReadyBeat]:
        """Feed the next samples (mV, finite); return the beats that became ready, in order."""
        if self._flushed:
            raise CardiostreamError("This LiveBeatPipeline was flushed; create a new one.")
        x = np.asarray(chunk, dtype=np.float64)
        if x.ndim != 1 or not np.all(np.isfinite(x)):
            raise InvalidSignalError(
                f"The 'chunk' parameter must be a 1-D array of finite mV samples, got shape "
                f"{x.shape}{'' if x.ndim != 1 else ' with non-finite values'}."
            )
        self._n_in += x.size
        peaks = np.asarray(self._detector.push(x), dtype=np.int64)
        self._take_filtered(self._filter.push(x))
        self._add_peaks(peaks)
        decisions = self._quality.push(x, peaks)
        return self._advance(decisions, final=False)

    def flush(self) -> list[ReadyBeat]:
        """End of stream: every remaining beat (the last has no RR+1, so no input)."""
        if self._flushed:
            return []
        peaks = np.asarray(self._detector.flush(), dtype=np.int64)
        self._take_filtered(self._filter.flush())
        self._add_peaks(peaks)
        decisions = self._quality.flush(peaks)
        self._flushed = True
        return self._advance(decisions, final=True)

    # -- internals ---------------------------------------------------------------------------
    def _take_filtered(self, y: np.ndarray) -> None:
        """Append filter outputs; output ``j`` is input sample ``j - delay`` (the first
        ``delay`` outputs are pre-roll and dropped), as in the offline ``causal`` chain."""
        skip = min(y.size, max(0, self._delay - self._n_out))
        self._n_out += y.size
        if y.size > skip:
            self._buf = np.concatenate([self._buf, y[skip:]])

    def _add_peaks(self, peaks: np.ndarray) -> None:
        # build as peaks arrive so few beats wait and the RR history always covers them
        for p in peaks.tolist():
            self._peaks.append(int(p))
            self._waiting.append(int(p))
            self._build(final=False)

    def _aligned_end(self) -> int:
        """One past the last aligned filtered sample available."""
        return self._buf0 + self._buf.size

    def _build(self, final: bool) -> None:
        """Build inputs of waiting beats whose next peak and window are known."""
        peaks = np.fromiter(self._peaks, dtype=np.int64)
        while self._waiting:
            p = self._waiting[0]
            pos = len(peaks) - len(self._waiting)
            has_next = pos + 1 < len(peaks)
            hi = p + self._half + self._after + 1
            if not final and (not has_next or self._aligned_end() < hi):
                break
            self._waiting.popleft()
            self._built.append((p, self._input(p, peaks, pos)))
        self._trim()

    def _input(self, p: int, peaks: np.ndarray, pos: int) -> np.ndarray | None:
        # RR features: the buffer is the whole history while it is short, and long enough
        # afterwards for the full 42-interval average, so values equal the offline ones.
        # Beats stores windows and RR features as float32: round the same way
        rr = _feature_row(peaks, self.fs, pos, False, N_AVG_BEATS, self._rr_warmup)
        rr = rr.astype(np.float32)
        lo = max(0, p - self._half - self._before - 1)
        hi = min(p + self._half + self._after + 1, self._aligned_end())
        if lo < self._buf0:  # pragma: no cover - the trim keeps enough history
            raise CardiostreamError("live pipeline lost signal history it still needed")
        seg = self._buf[lo - self._buf0 : hi - self._buf0]
        win = self._window(seg, p - lo)
        if win is None:
            return None
        return self._row.build(win, rr, self._template)

    def _window(self, seg: np.ndarray, r: int) -> np.ndarray | None:
        """The window of the peak at ``seg[r]`` exactly as :func:`segment_beats` cuts it (R-peak
        refined to the largest magnitude within ``±half``, earliest on ties, search clipped to
        the segment), or None where it leaves the segment or holds non-finite samples."""
        a, b = max(0, r - self._half), min(seg.size - 1, r + self._half)
        v = np.abs(seg[a : b + 1])
        if not np.all(np.isfinite(v)):
            v = np.where(np.isfinite(v), v, -np.inf)
        q = a + int(np.argmax(v))
        if q - self._before < 0 or q + self._after >= seg.size:
            return None
        win = seg[q - self._before : q + self._after + 1]
        return win if np.all(np.isfinite(win)) else None

    def _trim(self) -> None:
        """Drop filtered samples no waiting beat can need."""
        if self._waiting:
            keep_from = self._waiting[0]
        else:  # a future peak follows the last one and is at most the detector's delay old
            last = self._peaks[-1] + 1 if self._peaks else 0
            keep_from = max(last, self._n_in - self._max_delay - 1)
        keep_from -= self._half + self._before + 2
        cut = max(0, keep_from - self._buf0)
        if cut > 0:
            self._buf = self._buf[cut:]
            self._buf0 += cut

    def _advance(self, decisions, final: bool) -> list[ReadyBeat]:
        self._build(final)
        for d in decisions:
            for p, f in zip(d.r_peaks.tolist(), d.beat_flags.tolist(), strict=True):
                self._verdicts[int(p)] = f == 0
        out: list[ReadyBeat] = []
        while self._built and self._built[0][0] in self._verdicts:
            p, x = self._built.popleft()
            out.append(ReadyBeat(sample=p, x=x, usable=self._verdicts.pop(p)))
        return out


class _InputRow:
    """One beat's ``beat_ctx`` model input, with the offline path's arithmetic step for step.

    The offline path (:meth:`Preprocessing.raw_features` then ``transform_features``) runs
    :func:`~cardiostream.beats.morphology_features`, the running template,
    :func:`~cardiostream.beats.template_scale` and :func:`~cardiostream.beats.context_features`
    on arrays of beats; for one beat their argument checks cost more than their arithmetic, so
    the same operations run here on the beat's row with the constants prepared once. Equality
    with the offline inputs is tested bit for bit (tests/test_live.py).
    """

    def __init__(self, fs: float, prep) -> None:
        before, after = window_samples(fs, prep.window_s)
        tb, ta = window_samples(prep.fs, prep.window_s)
        self.resample = (
            None if fs == prep.fs
            else _spline_operator(float(fs), before, after, float(prep.fs), tb, ta)
        )
        n = tb + ta + 1
        centre, half = n // 2, max(1, round(_QRS_HALF_S * prep.fs))
        self.span = slice(max(0, centre - half), centre + half + 1)
        self.n_signal = 2 * n
        self.rr_mean = np.asarray(prep.rr_mean, dtype=np.float64)
        self.rr_std = np.asarray(prep.rr_std, dtype=np.float64)

    def build(self, win: np.ndarray, rr: np.ndarray,
              template: StreamingTemplate) -> np.ndarray | None:
        """Input ``(1, length)`` float32 of the window ``win`` (at the stream's rate) and its
        float32 RR row; pushes the window into ``template``; None where the RR row is not finite
        (the template still learns the beat, as offline)."""
        w = win.astype(np.float32).astype(np.float64)[None, :]  # Beats stores float32 windows
        if self.resample is not None:
            w = w @ self.resample
        tmpl = template.push(w[0])[None, :]
        if not np.all(np.isfinite(rr)):
            return None
        scale = np.maximum(np.ptp(tmpl[:, self.span], axis=1, keepdims=True), _SCALE_FLOOR_MV)
        f = rr.astype(np.float64)[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.log(f[:, [3, 5, 6, 7, 8]])
        ctx_t = np.clip(f[:, 4:5], -10.0, 10.0) / 3.0
        raw = np.concatenate([w / scale, (w - tmpl) / scale, ratios, ctx_t], axis=1)
        n = self.n_signal
        ctx = (raw[:, n:] - self.rr_mean) / self.rr_std
        return np.concatenate([raw[:, :n].astype(np.float32), ctx.astype(np.float32)], axis=1)
