"""The streaming engine shared by every R-peak detector.

A detector (a :class:`DetectorCore`) is split in three parts that the engine drives chunk by
chunk:

1. *features*: causal, stateful per-sample signals (band-pass, slope, energy...) computed for a
   whole chunk at once with carried state (``scipy.signal.sosfilt`` with ``zi``, carried history
   for FIR stages, carried running sums). Their values do not depend on how the input is chunked.
2. *candidates*: local maxima of one feature row within ``±radius`` samples, found vectorised. A
   sample is confirmed as a candidate only once ``lookahead`` samples after it exist, so the set
   of candidates and their attributes (computed from a bounded window around each candidate) do
   not depend on chunk boundaries either.
3. *decisions*: the method's adaptive-threshold logic, run in Python once per candidate (a few
   thousand per half hour of ECG), never per sample. A decision may only use candidates up to a
   fixed horizon after the one it decides, and the core is told ``frontier`` (every candidate
   before it is known), so decisions are the same for any chunking.

:func:`cardiostream.detect.detect_rpeaks` is one ``push`` of the whole signal followed by
``flush``; :class:`cardiostream.detect.StreamingDetector` makes the same calls chunk by chunk, so
both return exactly the same peaks (tested with random chunkings).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from scipy.ndimage import maximum_filter1d

_EMPTY = np.zeros(0, dtype=np.int64)
#: History beyond what the core needs is dropped once it exceeds this many samples: every push
#: copies the buffer, so it stays short (the cut itself copies once per ~this many samples).
_TRIM_AT = 256


class DetectorCore(ABC):
    """One detection method: per-sample features, candidate attributes and decision logic.

    Subclasses set ``radius``, ``lookahead`` and ``history`` (samples) in ``__init__``.
    The buffer handed to :meth:`attributes` is a list of 1-D arrays: item 0 is the raw input,
    items ``1..`` are the rows returned by :meth:`features`; item ``cand_row`` is searched for
    candidates.
    """

    #: Half-width (samples) of the local-maximum test that makes a sample a candidate.
    radius: int
    #: Samples needed after a candidate before its attributes can be computed (>= radius).
    lookahead: int
    #: Samples needed before a candidate by :meth:`attributes` (>= radius).
    history: int
    #: Buffer row searched for candidates.
    cand_row: int = 1
    #: Candidates must exceed this value (keeps the rounding noise of a flat line out).
    cand_floor: float = 0.0

    def __init__(self, fs: float) -> None:
        self.fs = float(fs)

    @abstractmethod
    def features(self, x: np.ndarray) -> list[np.ndarray]:
        """Causal per-sample features of a chunk (rows of ``len(x)``); carries state."""

    @abstractmethod
    def attributes(self, buf: list[np.ndarray], pos: np.ndarray, start: int) -> list[np.ndarray]:
        """Attributes of the candidates at buffer columns ``pos`` (absolute ``start + pos``).

        Windows reaching past the buffer's end (only at ``flush``) or before the signal's start
        are clipped. Returns one array of ``len(pos)`` values per attribute.
        """

    @abstractmethod
    def decide(
        self, cand: np.ndarray, attrs: list[np.ndarray], frontier: int, final: bool
    ) -> list[int]:
        """Consume new candidates (absolute indices ``cand``); return newly accepted R-peaks.

        Every candidate with index < ``frontier`` is known; ``final`` means the stream ended.
        """

    @property
    @abstractmethod
    def delay_s(self) -> float:
        """Worst-case seconds between a peak's sample and the push that reports it."""


class StreamEngine:
    """Run a :class:`DetectorCore` over a stream of chunks; see the module docstring."""

    def __init__(self, core: DetectorCore) -> None:
        self.core = core
        self._buf: list[np.ndarray] | None = None  # raw, features...
        self._start = 0  # absolute index of buffer column 0
        self._n = 0  # samples received so far
        self._next = 0  # first absolute index not yet tested as a candidate
        self._last_peak = -1
        self._finished = False

    @property
    def n_samples(self) -> int:
        return self._n

    def push(self, x: np.ndarray) -> np.ndarray:
        if x.size == 0:
            return _EMPTY.copy()
        rows = [x, *self.core.features(x)]
        if self._buf is None:
            self._buf = rows
        else:
            self._buf = [np.concatenate([a, b]) for a, b in zip(self._buf, rows, strict=True)]
        self._n += x.size
        return self._advance(final=False)

    def flush(self) -> np.ndarray:
        if self._finished or self._buf is None:
            self._finished = True
            return _EMPTY.copy()
        self._finished = True
        return self._advance(final=True)

    def _advance(self, final: bool) -> np.ndarray:
        core = self.core
        stop = self._n if final else self._n - core.lookahead
        cand = _EMPTY
        attrs: list[np.ndarray] = []
        if stop > self._next:
            rel = _local_maxima(
                core.cand_row, self._buf, self._next, stop, self._start, core.radius,
                core.cand_floor,
            )
            if rel.size:
                cand = rel + self._start
                attrs = core.attributes(self._buf, rel, self._start)
            self._next = stop
        peaks = core.decide(cand, attrs, stop, final)
        out = []
        for p in peaks:  # refinement can reorder or merge peaks in rare cases; keep increasing
            if p > self._last_peak:
                out.append(p)
                self._last_peak = p
        self._trim()
        return np.asarray(out, dtype=np.int64)

    def _trim(self) -> None:
        cut = self._next - max(self.core.history, self.core.radius) - 1 - self._start
        if cut > _TRIM_AT:
            self._buf = [a[cut:].copy() for a in self._buf]
            self._start += cut


def _local_maxima(
    row: int, buf: list[np.ndarray], lo: int, hi: int, start: int, r: int, floor: float = 0.0
) -> np.ndarray:
    """Buffer columns ``j`` (absolute ``lo <= start + j < hi``) of strict local maxima.

    ``y[j]`` must exceed ``floor``, be the maximum of ``y[j - r : j + r + 1]`` and be greater
    than every sample before it in that window (the first sample of a plateau wins). Samples
    outside the signal count as ``-inf``.
    """
    y = buf[row]
    n = y.size
    a = lo - start - r  # negative only at the signal start
    b = min(hi - start + r, n)
    seg = y[max(a, 0) : b]
    off = min(r, lo - start)  # samples of left margin actually present in seg
    m = hi - lo
    centre = seg[off : off + m]
    # samples outside the signal count as -inf (mode="constant"); elsewhere the margins exist
    cmax = maximum_filter1d(seg, size=2 * r + 1, mode="constant", cval=-np.inf)[off : off + m]
    k = np.flatnonzero((centre >= cmax) & (centre > floor))
    if k.size and r:
        # strictly above the r samples before it (ties on a plateau go to the first sample)
        idx = k[:, None] + (off + np.arange(-r, 0))[None, :]
        left = np.where(idx >= 0, seg[np.maximum(idx, 0)], -np.inf).max(axis=1)
        k = k[centre[k] > left]
    return (k + lo - start).astype(np.int64)
