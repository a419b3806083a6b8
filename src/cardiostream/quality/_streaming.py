"""Streaming signal-quality index: chunks in, one decision per completed segment out."""

from __future__ import annotations

import math

import numpy as np

from ..errors import CardiostreamError, check_param
from ._decide import check_peaks, check_signal, decide_segment, segment_lengths
from ._indices import CausalQualityFilters, FilteredChunk, segment_indices
from ._params import QualityParams
from ._report import SegmentQuality
from ._rr import rr_implausible

__all__ = ["StreamingQuality"]


class StreamingQuality:
    """Causal, stateful form of :func:`~cardiostream.quality.assess_quality`.

    Feed the signal chunk by chunk with :meth:`push` (and, optionally, the R-peaks a streaming
    detector confirmed with that chunk); each call returns the decisions of the segments it
    completed. :meth:`flush` decides the rest, including a last partial segment. For any chunking
    the decisions equal, field for field, the segments of the offline report.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz (>= 100).
    params : QualityParams, optional
        Thresholds (the defaults when omitted).
    peak_delay_s : float, optional
        Give this to assess RR plausibility: the worst-case delay between an R-peak's sample and
        the push that reports it (``StreamingDetector.delay_s``). A segment is then decided once
        ``peak_delay_s`` of signal past its end has been pushed, so all its beats are known.
        Without it the stream is signal-only and passing peaks raises.
    """

    def __init__(
        self, fs: float, params: QualityParams | None = None, *, peak_delay_s: float | None = None
    ) -> None:
        self.params = params if params is not None else QualityParams()
        check_param("params", params, isinstance(self.params, QualityParams),
                    "a QualityParams instance or None")
        self.fs = self.params.check_fs(fs)
        if peak_delay_s is not None:
            check_param("peak_delay_s", peak_delay_s,
                        isinstance(peak_delay_s, int | float) and math.isfinite(peak_delay_s)
                        and peak_delay_s >= 0, "a non-negative number of seconds or None")
        self._with_peaks = peak_delay_s is not None
        self._delay = math.ceil(peak_delay_s * self.fs) if peak_delay_s is not None else 0
        self._seg, self._ctx = segment_lengths(self.fs, self.params)
        self._filters = CausalQualityFilters(self.fs, self.params)
        self._parts: list[FilteredChunk] = []
        self._buf_start = 0  # sample index of the first buffered sample
        self._n = 0  # samples pushed so far
        self._next = 0  # start of the next segment to decide
        self._peaks = np.zeros(0, np.int64)  # peaks not yet assigned to a segment
        self._rr_bad = np.zeros(0, bool)
        self._history = np.zeros(0, np.int64)  # last rr_history + 1 peaks received
        self._last_peak: int | None = None  # last peak assigned to a decided segment
        self._flushed = False

    @property
    def delay_samples(self) -> int:
        """Samples between a segment's end and the push that decides it (the peak delay)."""
        return self._delay

    @property
    def n_samples(self) -> int:
        """Samples pushed so far."""
        return self._n

    def push(
        self, chunk: np.ndarray, r_peaks: np.ndarray | None = None
    ) -> tuple[SegmentQuality, ...]:
        """Add a chunk of signal (and the R-peaks confirmed with it); return completed decisions.

        Parameters
        ----------
        chunk : ndarray, shape (k,)
            Next samples (mV). NaN / inf mark missing samples.
        r_peaks : ndarray of int, optional
            New absolute R-peak samples, increasing, after every peak given before and before
            the end of the signal pushed so far (only with ``peak_delay_s``).
        """
        if self._flushed:
            raise CardiostreamError("This StreamingQuality was flushed; create a new one.")
        x = check_signal(chunk, "chunk")
        if x.size:
            self._parts.append(self._filters.apply(x))
            self._n += x.size
        self._add_peaks(r_peaks)
        return self._decide(final=False)

    def flush(self, r_peaks: np.ndarray | None = None) -> tuple[SegmentQuality, ...]:
        """Decide every remaining segment, the last (possibly partial) one included."""
        if self._flushed:
            return ()
        self._add_peaks(r_peaks)
        out = self._decide(final=True)
        self._flushed = True
        return out

    def _add_peaks(self, r_peaks: np.ndarray | None) -> None:
        if r_peaks is None:
            return
        if not self._with_peaks:
            raise CardiostreamError(
                "The 'r_peaks' parameter needs a stream created with peak_delay_s "
                "(the detector's delay); got peaks for a signal-only StreamingQuality."
            )
        last = int(self._history[-1]) if self._history.size else None
        new = check_peaks(r_peaks, self._n, after=last)
        if new.size == 0:
            return
        if new[0] < self._next:
            raise CardiostreamError(
                f"R-peak {int(new[0])} arrived after its segment was decided (segments up to "
                f"sample {self._next} are done); peak_delay_s is too small for this detector."
            )
        both = np.concatenate((self._history, new))
        bad = rr_implausible(both, self.fs, self.params, n_history=self._history.size)
        self._history = both[-(self.params.rr_history + 1) :]
        self._peaks = np.concatenate((self._peaks, new))
        self._rr_bad = np.concatenate((self._rr_bad, bad))

    def _decide(self, final: bool) -> tuple[SegmentQuality, ...]:
        out: list[SegmentQuality] = []
        while self._next < self._n:
            a = self._next
            b = a + self._seg
            if b > self._n and not final:
                break
            if not final and self._with_peaks and self._n - self._delay < b:
                break
            b = min(b, self._n)
            buf = FilteredChunk.concat(self._parts)
            self._parts = [buf]
            seg = buf.take(a - self._buf_start, b - self._buf_start)
            ctx = buf.take(max(0, a - self._ctx - self._buf_start), a - self._buf_start)
            idx = segment_indices(seg, ctx, self.fs, self.params)
            if self._with_peaks:
                k = int(np.searchsorted(self._peaks, b))
                peaks, bad = self._peaks[:k], self._rr_bad[:k]
                out.append(decide_segment(a, b, idx, peaks, bad, self._last_peak, self.fs,
                                          self.params))
                if k:
                    self._last_peak = int(peaks[-1])
                self._peaks, self._rr_bad = self._peaks[k:], self._rr_bad[k:]
            else:
                out.append(decide_segment(a, b, idx, None, None, None, self.fs, self.params))
            self._next = b
            keep_from = max(0, b - self._ctx)
            if keep_from > self._buf_start:
                self._parts = [buf.take(keep_from - self._buf_start, buf.raw.size)]
                self._buf_start = keep_from
        return tuple(out)
