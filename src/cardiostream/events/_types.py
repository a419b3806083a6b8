"""Event kinds, the :class:`Event` record and the per-patient :class:`EventConfig`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from ..errors import check_param
from ..types import BEAT_LABELS, INCONCLUSIVE

__all__ = ["BEAT_LABELS", "INCONCLUSIVE", "Event", "EventConfig", "EventKind"]




class EventKind(StrEnum):
    """What an :class:`Event` is (the string value is what gets stored and sent)."""

    #: Mean rate of the last ``rate_window_beats`` RR intervals below ``brady_bpm``, sustained.
    BRADYCARDIA = "bradycardia"
    #: Mean rate of the last ``rate_window_beats`` RR intervals above ``tachy_bpm``, sustained.
    TACHYCARDIA = "tachycardia"
    #: One RR interval longer than ``pause_s``.
    PAUSE = "pause"
    #: Exactly 2 consecutive V beats.
    COUPLET = "couplet"
    #: Exactly 3 consecutive V beats at a mean rate of at most ``vt_bpm``.
    TRIPLET = "triplet"
    #: 3 or more consecutive V beats at a mean rate above ``vt_bpm`` (wins over triplet).
    VT = "vt"
    #: 4 or more consecutive V beats at a mean rate of at most ``vt_bpm`` (slow VT / AIVR).
    VENTRICULAR_RUN = "ventricular_run"
    #: At least ``pattern_min_cycles`` cycles of N-V in a row.
    BIGEMINY = "bigeminy"
    #: At least ``pattern_min_cycles`` cycles of N-N-V in a row.
    TRIGEMINY = "trigeminy"
    #: 3 or more consecutive S beats at a mean rate above ``svt_bpm``.
    SVT = "svt"
    #: 3 or more consecutive S beats at a mean rate of at most ``svt_bpm``.
    SV_RUN = "sv_run"
    #: Irregularly irregular RR intervals (atrial-fibrillation suspicion), sustained.
    AF = "af"
    #: ``poor_min_beats`` or more consecutive beats the signal-quality gate rejected.
    POOR_SIGNAL = "poor_signal"
    #: A reported gap: no data arrived (lead off, dropped frames, disconnection).
    SIGNAL_LOSS = "signal_loss"


_KIND_ORDER = {k: i for i, k in enumerate(EventKind)}


@dataclass(frozen=True)
class Event:
    """One rhythm event.

    Attributes
    ----------
    kind : EventKind
    start_s, end_s : float
        Time of its first and last evidence beat (for :attr:`EventKind.SIGNAL_LOSS`: the gap).
    beats : range
        Indices of the evidence beats in the stream (0 = the first beat ever given). Every event
        covers consecutive beats, so a ``range`` holds them in constant memory however long the
        episode; it is empty for a signal loss.
    rate_bpm : float or None
        Mean heart rate over the evidence beats, ``60 (n - 1) / (end_s - start_s)``; None for
        poor-signal and signal-loss events.
    details : tuple of (str, float)
        Kind-specific numbers, e.g. ``("rr_s", 2.4)`` for a pause, ``("cycles", 4.0)`` for
        bigeminy, the irregularity statistics for AF. Read them with :meth:`detail`.
    """

    kind: EventKind
    start_s: float
    end_s: float
    beats: range
    rate_bpm: float | None = None
    details: tuple[tuple[str, float], ...] = ()

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def n_beats(self) -> int:
        return len(self.beats)

    def detail(self, name: str, default: float | None = None) -> float | None:
        """The value of detail ``name`` (``default`` when the event has none)."""
        for key, value in self.details:
            if key == name:
                return value
        return default

    def sort_key(self) -> tuple[float, float, int]:
        """Order of :func:`~cardiostream.events.detect_events`: start, end, then kind."""
        return (self.start_s, self.end_s, _KIND_ORDER[self.kind])

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (``first_beat``/``last_beat`` are None for an empty ``beats``)."""
        return {
            "kind": self.kind.value,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "first_beat": self.beats.start if len(self.beats) else None,
            "last_beat": self.beats[-1] if len(self.beats) else None,
            "rate_bpm": self.rate_bpm,
            "details": dict(self.details),
        }


def _number(name: str, value: object, low: float, high: float = math.inf) -> None:
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low < value < high
    )
    rng = f"in ({low:g}, {high:g})" if math.isfinite(high) else f"greater than {low:g}"
    check_param(name, value, ok, f"a finite number {rng}")


def _count(name: str, value: object, low: int, high: int | None = None) -> None:
    ok = (
        isinstance(value, int)
        and not isinstance(value, bool)
        and low <= value <= (high if high is not None else value)
    )
    rng = f"between {low} and {high}" if high is not None else f"at least {low}"
    check_param(name, value, ok, f"an integer {rng}")


@dataclass(frozen=True)
class EventConfig:
    """Thresholds of the rhythm-event detector, configurable per patient.

    Rates are in beats per minute, durations in seconds. Defaults follow the usual clinical
    definitions (bradycardia < 50 bpm, tachycardia > 100 bpm, pause > 2 s, VT = 3 or more
    ventricular beats above 100 bpm, AF episodes of at least 30 s as in the 2020 ESC AF
    guidelines, Hindricks et al., Eur Heart J 42:373-498); the episode rules are in
    :mod:`cardiostream.events`.

    Attributes
    ----------
    brady_bpm, tachy_bpm : float
        Rate limits; the rate is ``60 / mean`` of the last ``rate_window_beats`` usable RR
        intervals (premature beats and their compensatory pauses average out).
    brady_min_s, tachy_min_s : float
        Shortest episode reported (first to last beat of the episode).
    rate_window_beats : int
        RR intervals averaged for the rate.
    pause_s : float
        An RR interval longer than this is a pause.
    vt_bpm : float
        A run of 3 or more V beats faster than this is VT (slower: triplet / ventricular run).
    svt_bpm : float
        A run of 3 or more S beats faster than this is SVT (slower: supraventricular run).
    pattern_min_cycles : int
        Cycles (N-V for bigeminy, N-N-V for trigeminy) needed in a row.
    af_window_beats : int
        RR intervals in the sliding irregularity window (Dash et al. 2009 use 128).
    af_trim_beats : int
        Largest and smallest intervals dropped from each window before the statistics (Dash et
        al. drop 8 + 8 of 128; here 4 + 4 of 64 by default).
    af_nrmssd : float
        Minimum RMSSD / mean RR of a window (Dash et al. 2009: 0.1).
    af_tpr_z : float
        Largest |z| of the window's turning-point count against its expectation for a random
        sequence (two-sided; 1.96 = 95 %).
    af_entropy : float
        Minimum normalised Shannon entropy of the window's 16-bin RR histogram (0 to 1).
    af_min_s : float
        Shortest AF episode reported.
    af_exclude_labels : tuple of str
        Intervals that begin or end on a beat with one of these labels are left out of the
        irregularity window: premature ventricular, fusion and supraventricular beats make sinus
        rhythm irregular without AF (in AF the beats are conducted normally, labelled N).
    poor_min_beats : int
        Consecutive unusable beats that make a poor-signal event; such a run also restarts the
        rate and AF windows, as a gap does.
    """

    brady_bpm: float = 50.0
    brady_min_s: float = 10.0
    tachy_bpm: float = 100.0
    tachy_min_s: float = 10.0
    rate_window_beats: int = 8
    pause_s: float = 2.0
    vt_bpm: float = 100.0
    svt_bpm: float = 100.0
    pattern_min_cycles: int = 3
    af_window_beats: int = 64
    af_trim_beats: int = 4
    af_nrmssd: float = 0.1
    af_tpr_z: float = 1.96
    af_entropy: float = 0.7
    af_min_s: float = 30.0
    af_exclude_labels: tuple[str, ...] = ("F", "S", "V")
    poor_min_beats: int = 3

    def __post_init__(self) -> None:
        _number("brady_bpm", self.brady_bpm, 0.0, 400.0)
        _number("tachy_bpm", self.tachy_bpm, 0.0, 400.0)
        check_param(
            "tachy_bpm",
            self.tachy_bpm,
            self.tachy_bpm > self.brady_bpm,
            f"greater than brady_bpm ({self.brady_bpm!r})",
        )
        for name in ("brady_min_s", "tachy_min_s", "af_min_s"):
            v = getattr(self, name)
            ok = isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < math.inf
            check_param(name, v, ok, "a finite number of seconds >= 0")
        _number("pause_s", self.pause_s, 0.0)
        _number("vt_bpm", self.vt_bpm, 0.0, 400.0)
        _number("svt_bpm", self.svt_bpm, 0.0, 400.0)
        _number("af_nrmssd", self.af_nrmssd, 0.0)
        _number("af_tpr_z", self.af_tpr_z, 0.0)
        v = self.af_entropy
        ok = isinstance(v, int | float) and not isinstance(v, bool) and 0.0 <= v <= 1.0
        check_param("af_entropy", v, ok, "a number between 0 and 1")
        _count("rate_window_beats", self.rate_window_beats, 1, 1000)
        _count("pattern_min_cycles", self.pattern_min_cycles, 1)
        _count("af_window_beats", self.af_window_beats, 12, 1000)
        _count("af_trim_beats", self.af_trim_beats, 0)
        check_param(
            "af_trim_beats",
            self.af_trim_beats,
            self.af_window_beats - 2 * self.af_trim_beats >= 10,
            f"small enough to keep at least 10 of the af_window_beats={self.af_window_beats} "
            "intervals (2 * af_trim_beats <= af_window_beats - 10)",
        )
        _count("poor_min_beats", self.poor_min_beats, 1)
        labels = self.af_exclude_labels
        ok = isinstance(labels, tuple | list | frozenset | set) and all(
            isinstance(x, str) and x in BEAT_LABELS for x in labels
        )
        check_param("af_exclude_labels", labels, ok, f"a tuple of labels from {BEAT_LABELS}")
        object.__setattr__(self, "af_exclude_labels", tuple(sorted(set(labels))))
        for name in ("brady_bpm", "tachy_bpm", "brady_min_s", "tachy_min_s", "pause_s", "vt_bpm",
                     "svt_bpm", "af_nrmssd", "af_tpr_z", "af_entropy", "af_min_s"):
            object.__setattr__(self, name, float(getattr(self, name)))
