"""The beat-by-beat state machines behind :func:`detect_events` and :class:`StreamingEventDetector`.

Every detector below sees one beat at a time, in order, and keeps only bounded state (the last
``rate_window_beats`` and ``af_window_beats`` RR intervals, a few counters and the start of each
open episode), so the events do not depend on how the stream is cut into chunks and memory does
not grow with the length of the stream. :func:`detect_events` is one ``push`` of the whole
recording (gaps interleaved in time) followed by ``flush``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from itertools import pairwise

import numpy as np

from ..errors import InvalidParameterError, InvalidSignalError, check_param
from ._irregularity import nrmssd, shape_stats, trimmed
from ._types import BEAT_LABELS, INCONCLUSIVE, Event, EventConfig, EventKind

__all__ = ["StreamingEventDetector", "detect_events"]

_LABELS = frozenset(BEAT_LABELS)
#: The AF window's intervals must start within this many window lengths (in beats) of the
#: current beat: at least a third of the beats must give eligible intervals.
AF_SPAN_FACTOR = 3


def _mean_rate(n_beats: int, start_s: float, end_s: float) -> float | None:
    return 60.0 * (n_beats - 1) / (end_s - start_s) if n_beats >= 2 and end_s > start_s else None


def _event(
    kind: EventKind,
    first: int,
    last: int,
    start_s: float,
    end_s: float,
    details: tuple[tuple[str, float], ...] = (),
    rate: bool = True,
) -> Event:
    n = last - first + 1
    return Event(
        kind=kind,
        start_s=start_s,
        end_s=end_s,
        beats=range(first, last + 1),
        rate_bpm=_mean_rate(n, start_s, end_s) if rate else None,
        details=details,
    )


# ----------------------------------------------------------------------------- episode trackers


class _WindowEpisodes:
    """Episodes made of sliding windows that meet a condition (rate limits, irregularity).

    Each evaluated window covers beats ``first..last``; flagged windows that share at least one
    beat with the open episode extend it, so an episode is the union of overlapping flagged
    windows (a dip shorter than one window does not split it). It closes when a window starts
    after its last beat (no later window can touch it) or the rhythm restarts (gap, poor signal,
    end of stream), and is reported when it lasted at least ``min_s``.
    """

    __slots__ = ("_acc", "first", "first_t", "kind", "last", "last_t", "min_s", "names", "open")

    def __init__(self, kind: EventKind, min_s: float, names: tuple[str, ...]) -> None:
        self.kind, self.min_s, self.names = kind, min_s, names
        self.open = False
        self.first = self.last = 0
        self.first_t = self.last_t = 0.0
        self._acc: list[list[float]] = []  # per value: [min, max, sum, count]

    def update(
        self, first: int, first_t: float, last: int, last_t: float, flagged: bool,
        values: tuple[float, ...],
    ) -> Event | None:
        out = None
        if flagged:
            if self.open and first <= self.last:
                self.last, self.last_t = last, last_t
            else:
                out = self.close()
                self.open = True
                self.first, self.first_t, self.last, self.last_t = first, first_t, last, last_t
                self._acc = [[v, v, 0.0, 0] for v in values]
            for acc, v in zip(self._acc, values, strict=True):
                acc[0], acc[1] = min(acc[0], v), max(acc[1], v)
                acc[2] += v
                acc[3] += 1
        elif self.open and first > self.last:
            out = self.close()
        return out

    def _qualifies(self) -> bool:
        return self.open and self.last_t - self.first_t >= self.min_s

    def _details(self) -> tuple[tuple[str, float], ...]:
        out: list[tuple[str, float]] = []
        for name, (lo, hi, total, count) in zip(self.names, self._acc, strict=True):
            if name.startswith("min_"):
                out.append((name, lo))
            elif name.startswith("max_"):
                out.append((name, hi))
            else:
                out.append((name, total / count))
        return tuple(out)

    def current(self) -> Event | None:
        if not self._qualifies():
            return None
        return _event(self.kind, self.first, self.last, self.first_t, self.last_t, self._details())

    def close(self) -> Event | None:
        out = self.current()
        self.open = False
        return out


class _Run:
    """A run of consecutive beats with one label (V or S), classified when it ends."""

    __slots__ = ("first", "first_t", "label", "last_t", "n")

    def __init__(self, label: str) -> None:
        self.label = label
        self.n = 0
        self.first = 0
        self.first_t = self.last_t = 0.0

    def add(self, i: int, t: float) -> None:
        if self.n == 0:
            self.first, self.first_t = i, t
        self.n += 1
        self.last_t = t

    def kind(self, cfg: EventConfig) -> EventKind | None:
        n = self.n
        if n < 2:
            return None
        rate = 60.0 * (n - 1) / (self.last_t - self.first_t)
        if self.label == "V":
            if n == 2:
                return EventKind.COUPLET
            if rate > cfg.vt_bpm:
                return EventKind.VT
            return EventKind.TRIPLET if n == 3 else EventKind.VENTRICULAR_RUN
        if n < 3:
            return None
        return EventKind.SVT if rate > cfg.svt_bpm else EventKind.SV_RUN

    def current(self, cfg: EventConfig) -> Event | None:
        kind = self.kind(cfg)
        if kind is None:
            return None
        last = self.first + self.n - 1
        return _event(kind, self.first, last, self.first_t, self.last_t)

    def close(self, cfg: EventConfig) -> Event | None:
        out = self.current(cfg)
        self.n = 0
        return out


class _Pattern:
    """Ventricular bigeminy (period 2: N-V) or trigeminy (period 3: N-N-V), cycle by cycle.

    A cycle is ``period - 1`` N beats then one V beat; a run is consecutive cycles. Any other
    label (S, F, Q, inconclusive, an unusable beat, a second V) ends the run; trailing N beats
    that may begin the next run are kept.
    """

    __slots__ = ("cycles", "first", "first_t", "kind", "last", "last_t", "min_cycles", "n_since_v",
                 "period", "prefix")

    def __init__(self, kind: EventKind, period: int, min_cycles: int) -> None:
        self.kind, self.period, self.min_cycles = kind, period, min_cycles
        self.cycles = 0
        self.n_since_v = 0
        self.prefix: deque[tuple[int, float]] = deque(maxlen=period - 1)
        self.first = self.last = 0
        self.first_t = self.last_t = 0.0

    def step(self, i: int, t: float, label: str | None) -> Event | None:
        out = None
        if label == "N":
            self.n_since_v += 1
            self.prefix.append((i, t))
            if self.n_since_v > self.period - 1:
                out = self.close()
                self.n_since_v = self.period - 1
        elif label == "V" and self.n_since_v == self.period - 1:
            if self.cycles == 0:
                self.first, self.first_t = self.prefix[0]
            self.cycles += 1
            self.last, self.last_t = i, t
            self.n_since_v = 0
            self.prefix.clear()
        else:
            out = self.reset()
        return out

    def current(self) -> Event | None:
        if self.cycles < self.min_cycles:
            return None
        return _event(self.kind, self.first, self.last, self.first_t, self.last_t,
                      (("cycles", float(self.cycles)),))

    def close(self) -> Event | None:
        out = self.current()
        self.cycles = 0
        return out

    def reset(self) -> Event | None:
        out = self.close()
        self.n_since_v = 0
        self.prefix.clear()
        return out


# ----------------------------------------------------------------------------- input checks


def _check_beats(
    times_s: object, labels: object, usable: object
) -> tuple[np.ndarray, list[str], np.ndarray]:
    t = np.asarray(times_s)
    if t.ndim != 1 or not (np.issubdtype(t.dtype, np.floating) or np.issubdtype(t.dtype,
                                                                                np.integer)):
        raise InvalidSignalError(
            "The 'times_s' parameter must be a 1-D array of beat times in seconds, got "
            f"{_describe(t)} instead."
        )
    t = t.astype(np.float64)
    if not np.all(np.isfinite(t)):
        raise InvalidSignalError(
            f"The 'times_s' parameter must hold finite times, got {int(np.sum(~np.isfinite(t)))}"
            " NaN/inf values instead."
        )
    if t.size > 1 and not np.all(np.diff(t) > 0):
        k = int(np.flatnonzero(np.diff(t) <= 0)[0])
        raise InvalidSignalError(
            "The 'times_s' parameter must be strictly increasing, got "
            f"times_s[{k}]={t[k]!r} followed by times_s[{k + 1}]={t[k + 1]!r} instead."
        )
    lab_arr = np.asarray(labels, dtype=object) if not isinstance(labels, str) else None
    if lab_arr is None or lab_arr.shape != t.shape:
        raise InvalidSignalError(
            f"The 'labels' parameter must be a sequence of {t.size} labels (one per beat), got "
            f"{_describe(labels)} instead."
        )
    lab = [str(x) if isinstance(x, str | np.str_) else x for x in lab_arr.tolist()]
    bad = [x for x in lab if x not in _LABELS]
    if bad:
        raise InvalidSignalError(
            f"The 'labels' parameter must hold only labels from {BEAT_LABELS}, got "
            f"{bad[0]!r} instead."
        )
    u = np.asarray(usable)
    ok = u.shape == t.shape and (
        u.size == 0
        or u.dtype == np.bool_
        or (np.issubdtype(u.dtype, np.integer) and bool(np.all((u == 0) | (u == 1))))
    )
    if not ok:
        raise InvalidSignalError(
            f"The 'usable' parameter must be a boolean array of {t.size} flags (one per beat), "
            f"got {_describe(usable)} instead."
        )
    return t, lab, u.astype(bool)


def _describe(x: object) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    try:
        return f"{type(x).__name__} of length {len(x)}"  # type: ignore[arg-type]
    except TypeError:
        return repr(x)


def _check_gap(start_s: object, end_s: object) -> tuple[float, float]:
    for name, v in (("start_s", start_s), ("end_s", end_s)):
        ok = isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
        check_param(name, v, ok and bool(np.isfinite(v)), "a finite time in seconds")
    a, b = float(start_s), float(end_s)  # type: ignore[arg-type]
    check_param("end_s", end_s, b > a, f"greater than start_s ({a!r})")
    return a, b


# ----------------------------------------------------------------------------- the detector


class StreamingEventDetector:
    """Rhythm events from a beat stream, chunk by chunk (same events as :func:`detect_events`).

    Parameters
    ----------
    config : EventConfig
        Thresholds for this patient.

    Notes
    -----
    :meth:`push` returns the events that became final with the new beats, in the order they
    became final; :meth:`gap` records that no data arrived between two times (every open
    episode ends, no RR interval spans it); :meth:`flush` ends the stream; :meth:`ongoing`
    lists the episodes still open that already qualify (e.g. a VT run in progress), for alerts.
    Beat indices count every beat ever pushed, from 0.
    """

    def __init__(self, config: EventConfig | None = None) -> None:
        cfg = EventConfig() if config is None else config
        check_param("config", config, isinstance(cfg, EventConfig), "an EventConfig or None")
        self.config = cfg
        self._n = 0  # beats seen
        self._last_t = -np.inf  # time of the last beat
        self._not_before = -np.inf  # next beat time must be >= this (end of the last gap)
        self._prev: tuple[float, bool, str] | None = None  # (t, usable, label) in this segment
        # poor-signal run
        self._poor_n = 0
        self._poor_first = 0
        self._poor_first_t = self._poor_last_t = 0.0
        # RR windows: (rr, first beat, time of first beat)
        self._rate_win: deque[tuple[float, int, float]] = deque(maxlen=cfg.rate_window_beats)
        # AF window: intervals and their (first beat, time of first beat), at most
        # af_window_beats of them, all starting within the last _af_span beats
        self._af_rr: deque[float] = deque()
        self._af_meta: deque[tuple[int, float]] = deque()
        self._af_span = AF_SPAN_FACTOR * cfg.af_window_beats
        self._af_skip = frozenset(cfg.af_exclude_labels)
        self._brady = _WindowEpisodes(EventKind.BRADYCARDIA, cfg.brady_min_s,
                                      ("min_rate_bpm", "max_rate_bpm"))
        self._tachy = _WindowEpisodes(EventKind.TACHYCARDIA, cfg.tachy_min_s,
                                      ("min_rate_bpm", "max_rate_bpm"))
        self._af = _WindowEpisodes(EventKind.AF, cfg.af_min_s, ("mean_nrmssd", "mean_tpr"))
        self._vrun = _Run("V")
        self._srun = _Run("S")
        self._patterns = (
            _Pattern(EventKind.BIGEMINY, 2, cfg.pattern_min_cycles),
            _Pattern(EventKind.TRIGEMINY, 3, cfg.pattern_min_cycles),
        )

    @property
    def n_beats(self) -> int:
        """Beats pushed so far."""
        return self._n

    # ------------------------------------------------------------------ public API

    def push(self, times_s: object, labels: object, usable: object) -> list[Event]:
        """Add beats (times in s, strictly after every earlier beat and gap); return new events.

        Parameters
        ----------
        times_s : array of float, shape (n,)
        labels : sequence of str, shape (n,)
            ``"N"``, ``"S"``, ``"V"``, ``"F"``, ``"Q"`` or ``"inconclusive"``.
        usable : array of bool, shape (n,)
            False where the signal-quality gate rejected the beat.

        Raises
        ------
        InvalidSignalError
            For malformed arrays, unknown labels or times not after the stream so far; the
            detector is left unchanged.
        """
        t, lab, u = _check_beats(times_s, labels, usable)
        if t.size and not t[0] > self._last_t:
            raise InvalidSignalError(
                f"The 'times_s' parameter must continue the stream: got {t[0]!r}, not after the "
                f"previous beat at {self._last_t!r}."
            )
        if t.size and t[0] < self._not_before:
            raise InvalidSignalError(
                f"The 'times_s' parameter must not fall inside a reported gap: got {t[0]!r}, "
                f"before the end of the last gap at {self._not_before!r}."
            )
        out: list[Event] = []
        for ti, li, ui in zip(t.tolist(), lab, u.tolist(), strict=True):
            self._beat(ti, li, ui, out)
        return out

    def gap(self, start_s: float, end_s: float) -> list[Event]:
        """Record that no data arrived from ``start_s`` to ``end_s``; return the events it ends.

        The gap must start at or after the last beat and the previous gap's end; the next beats
        must be at or after ``end_s``. Every open episode ends at the gap and a
        :attr:`EventKind.SIGNAL_LOSS` event is returned for it.
        """
        a, b = _check_gap(start_s, end_s)
        check_param("start_s", start_s, a >= self._last_t and a >= self._not_before,
                    f"at or after the last beat ({self._last_t!r}) and the last gap's end "
                    f"({self._not_before!r})")
        out: list[Event] = []
        self._close_all(out)
        self._not_before = b
        out.append(Event(EventKind.SIGNAL_LOSS, a, b, range(self._n, self._n)))
        return out

    def flush(self) -> list[Event]:
        """End the stream: every open episode is closed and returned if it qualifies.

        Beats pushed afterwards start a new segment (as after a gap of unknown length).
        """
        out: list[Event] = []
        self._close_all(out)
        return out

    def ongoing(self) -> tuple[Event, ...]:
        """Open episodes that already qualify, as they stand now (provisional: they may grow,
        and a run's kind may change with its rate, e.g. VT turning into a ventricular run)."""
        out: list[Event | None] = [
            self._poor_event(),
            self._brady.current(),
            self._tachy.current(),
            self._af.current(),
            self._vrun.current(self.config) if self._vrun.n >= 3 else None,
            self._srun.current(self.config),
            *(p.current() for p in self._patterns),
        ]
        return tuple(sorted((e for e in out if e is not None), key=Event.sort_key))

    # ------------------------------------------------------------------ internals

    def _beat(self, t: float, label: str, usable: bool, out: list[Event]) -> None:
        i = self._n
        self._n += 1
        self._last_t = t
        cfg = self.config
        self._age_af_window(i, out)
        eff = label if usable and label != INCONCLUSIVE else None  # label used by patterns
        # label runs and patterns (an unusable or inconclusive beat ends them all)
        for run in (self._vrun, self._srun):
            if eff == run.label:
                run.add(i, t)
            else:
                _append(out, run.close(cfg))
        for p in self._patterns:
            _append(out, p.step(i, t, eff))
        if not usable:
            if self._poor_n == 0:
                self._poor_first, self._poor_first_t = i, t
            self._poor_n += 1
            self._poor_last_t = t
            if self._poor_n == cfg.poor_min_beats:  # sustained: the rhythm restarts after it
                self._close_rhythm(out)
            self._prev = (t, False, label)
            return
        _append(out, self._close_poor())
        prev = self._prev
        self._prev = (t, True, label)
        if prev is None or not prev[1]:
            return
        rr = t - prev[0]
        if rr > cfg.pause_s:
            out.append(_event(EventKind.PAUSE, i - 1, i, prev[0], t, (("rr_s", rr),)))
        self._rate_win.append((rr, i - 1, prev[0]))
        if len(self._rate_win) == cfg.rate_window_beats:
            _, first, first_t = self._rate_win[0]
            rate = 60.0 * cfg.rate_window_beats / sum(w[0] for w in self._rate_win)
            vals = (rate, rate)
            _append(out, self._brady.update(first, first_t, i, t, rate < cfg.brady_bpm, vals))
            _append(out, self._tachy.update(first, first_t, i, t, rate > cfg.tachy_bpm, vals))
        if prev[2] in self._af_skip or label in self._af_skip:
            return
        self._af_rr.append(rr)
        self._af_meta.append((i - 1, prev[0]))
        if len(self._af_rr) > cfg.af_window_beats:
            self._af_rr.popleft()
            self._af_meta.popleft()
        if len(self._af_rr) == cfg.af_window_beats:
            first, first_t = self._af_meta[0]
            x = np.fromiter(self._af_rr, np.float64, cfg.af_window_beats)
            x, lo, hi = trimmed(x, cfg.af_trim_beats)
            nr = nrmssd(x)
            flagged, tpr = False, 0.0
            if nr > cfg.af_nrmssd:  # regular rhythm stops here (the common case)
                tpr, z, entropy = shape_stats(x, lo, hi)
                flagged = abs(z) <= cfg.af_tpr_z and entropy >= cfg.af_entropy
            _append(out, self._af.update(first, first_t, i, t, flagged, (nr, tpr)))

    def _age_af_window(self, i: int, out: list[Event]) -> None:
        """Drop AF-window intervals that start more than ``_af_span`` beats before beat ``i``
        (long stretches of excluded beats, e.g. bigeminy, must not be bridged), and close an
        AF episode that no later window can reach."""
        limit = i - self._af_span
        while self._af_meta and self._af_meta[0][0] < limit:
            self._af_meta.popleft()
            self._af_rr.popleft()
        if self._af.open and self._af.last < limit:
            _append(out, self._af.close())

    def _poor_event(self) -> Event | None:
        if self._poor_n < self.config.poor_min_beats:
            return None
        last = self._poor_first + self._poor_n - 1
        return _event(EventKind.POOR_SIGNAL, self._poor_first, last, self._poor_first_t,
                      self._poor_last_t, rate=False)

    def _close_poor(self) -> Event | None:
        out = self._poor_event()
        self._poor_n = 0
        return out

    def _close_rhythm(self, out: list[Event]) -> None:
        """Close the RR-based episodes and restart their windows (gap or poor signal)."""
        for ep in (self._brady, self._tachy, self._af):
            _append(out, ep.close())
        self._rate_win.clear()
        self._af_rr.clear()
        self._af_meta.clear()

    def _close_all(self, out: list[Event]) -> None:
        cfg = self.config
        for run in (self._vrun, self._srun):
            _append(out, run.close(cfg))
        for p in self._patterns:
            _append(out, p.reset())
        _append(out, self._close_poor())
        self._close_rhythm(out)
        self._prev = None


def _append(out: list[Event], ev: Event | None) -> None:
    if ev is not None:
        out.append(ev)


def _check_gaps(gaps: object) -> list[tuple[float, float]]:
    try:
        items = list(gaps)  # type: ignore[call-overload]
    except TypeError:
        raise InvalidParameterError(
            f"The 'gaps' parameter must be a sequence of (start_s, end_s) pairs, got {gaps!r} "
            "instead."
        ) from None
    out = []
    for g in items:
        pair = tuple(g) if isinstance(g, Sequence | np.ndarray) else ()
        check_param("gaps", g, len(pair) == 2, "a sequence of (start_s, end_s) pairs")
        out.append(_check_gap(*pair))
    out.sort()
    for (a0, b0), (a1, _) in pairwise(out):
        check_param("gaps", gaps, a1 >= b0, f"non-overlapping intervals ({a0}, {b0}) and "
                    f"the next one starting at {a1}")
    return out


def detect_events(
    times_s: object,
    labels: object,
    usable: object,
    gaps: Iterable[tuple[float, float]] = (),
    config: EventConfig | None = None,
) -> tuple[Event, ...]:
    """Rhythm events of a whole beat stream (offline).

    Parameters
    ----------
    times_s : array of float, shape (n,)
        Beat times in seconds, strictly increasing.
    labels : sequence of str, shape (n,)
        ``"N"``, ``"S"``, ``"V"``, ``"F"``, ``"Q"`` or ``"inconclusive"`` per beat.
    usable : array of bool, shape (n,)
        Per beat: accepted by the signal-quality gate.
    gaps : sequence of (start_s, end_s)
        Stretches where no data arrived; no beat may lie strictly inside one, and no event or
        RR interval is built across one.
    config : EventConfig, optional
        Thresholds (defaults: :class:`EventConfig`).

    Returns
    -------
    tuple of Event
        Sorted by start time, end time, then kind. Identical (as a set, and in this order) to
        what :class:`StreamingEventDetector` returns for the same stream cut in any chunks.
    """
    t, lab, u = _check_beats(times_s, labels, usable)
    gs = _check_gaps(gaps)
    det = StreamingEventDetector(config)
    out: list[Event] = []
    pos = 0
    for a, b in gs:
        i = int(np.searchsorted(t, a, side="right"))
        j = int(np.searchsorted(t, b, side="left"))
        if j > i:
            raise InvalidParameterError(
                f"The 'gaps' parameter must not contain beats, got the gap ({a}, {b}) with "
                f"{j - i} beat(s) inside (first at {t[i]!r} s) instead."
            )
        out += det.push(t[pos:i], lab[pos:i], u[pos:i])
        out += det.gap(a, b)
        pos = i
    out += det.push(t[pos:], lab[pos:], u[pos:])
    out += det.flush()
    return tuple(sorted(out, key=Event.sort_key))
