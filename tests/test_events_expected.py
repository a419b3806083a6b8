"""Rhythm events on hand-built beat streams: every event kind, its boundaries and edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from cardiostream.events import Event, EventConfig, EventKind, detect_events

K = EventKind


def build(labels: str | list[str], rr: float | list[float], t0: float = 0.0,
          usable: list[bool] | None = None) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Beats with the given labels (one char each, or a list) and RR intervals before beats 1..n.

    ``rr`` is one interval for all, or ``len(labels) - 1`` intervals.
    """
    lab = list(labels) if isinstance(labels, str) else labels
    n = len(lab)
    rrs = np.full(n - 1, rr, dtype=float) if np.isscalar(rr) else np.asarray(rr, float)
    t = t0 + np.concatenate([[0.0], np.cumsum(rrs)])
    u = np.ones(n, bool) if usable is None else np.asarray(usable, bool)
    return t, lab, u


def kinds(events: tuple[Event, ...]) -> list[str]:
    return [e.kind.value for e in events]


def only(events: tuple[Event, ...], kind: EventKind) -> list[Event]:
    return [e for e in events if e.kind == kind]


# --------------------------------------------------------------------------- empty / trivial


def test_empty_stream_has_no_events() -> None:
    assert detect_events(np.zeros(0), [], np.zeros(0, bool)) == ()
    assert detect_events([], [], []) == ()


def test_empty_stream_with_a_gap_reports_signal_loss_only() -> None:
    ev = detect_events([], [], [], gaps=[(3.0, 8.5)])
    assert ev == (Event(K.SIGNAL_LOSS, 3.0, 8.5, range(0, 0)),)
    assert ev[0].n_beats == 0 and ev[0].duration_s == 5.5
    assert ev[0].to_dict()["first_beat"] is None


def test_regular_sinus_rhythm_has_no_events() -> None:
    assert detect_events(*build("N" * 400, 0.8)) == ()


def test_all_inconclusive_at_normal_rate_has_no_events() -> None:
    assert detect_events(*build(["inconclusive"] * 300, 0.85)) == ()


def test_all_inconclusive_still_gives_rate_events() -> None:
    # 40 bpm for 60 s: rate events need times only, not labels
    t, lab, u = build(["inconclusive"] * 41, 1.5)
    ev = detect_events(t, lab, u)
    assert ev == (
        Event(K.BRADYCARDIA, 0.0, 60.0, range(0, 41), 40.0,
              (("min_rate_bpm", 40.0), ("max_rate_bpm", 40.0))),
    )


# --------------------------------------------------------------------------- rate


def test_bradycardia_minimum_duration() -> None:
    # 9 beats 1.5 s apart: one full 8-interval window at 40 bpm, 12 s long
    t, lab, u = build("N" * 9, 1.5)
    assert kinds(detect_events(t, lab, u)) == ["bradycardia"]
    assert detect_events(t, lab, u, config=EventConfig(brady_min_s=12.0))[0].duration_s == 12.0
    assert detect_events(t, lab, u, config=EventConfig(brady_min_s=12.5)) == ()
    # 8 beats: no full window yet
    assert detect_events(*build("N" * 8, 1.5)) == ()


def test_rate_exactly_at_the_limits_is_not_an_event() -> None:
    # intervals exact in binary, so the rates are exactly 48 and 120 bpm
    slow, fast = build("N" * 50, 1.25), build("N" * 50, 0.5)
    assert detect_events(*slow, config=EventConfig(brady_bpm=48.0)) == ()
    assert kinds(detect_events(*slow, config=EventConfig(brady_bpm=48.5))) == ["bradycardia"]
    assert detect_events(*fast, config=EventConfig(tachy_bpm=120.0)) == ()
    assert kinds(detect_events(*fast, config=EventConfig(tachy_bpm=119.5))) == ["tachycardia"]


def test_tachycardia_episode_bounds_and_rates() -> None:
    # beats 0..19 at 1 s, 20..79 at 0.5 s (120 bpm), 80..99 at 1 s.
    rr = [1.0] * 19 + [0.5] * 60 + [1.0] * 20
    t, lab, u = build("N" * 100, rr)
    ev = detect_events(t, lab, u)
    assert kinds(ev) == ["tachycardia"]
    e = ev[0]
    # The rate window (8 intervals) is above 100 bpm once it holds >= 7 short intervals: first
    # at beat 26 (window beats 18..26), last at beat 80 (window 72..80).
    assert e.beats == range(18, 81)
    assert (e.start_s, e.end_s) == (t[18], t[80]) == (18.0, 50.0)
    assert e.rate_bpm == pytest.approx(60 * 62 / 32)
    assert e.detail("max_rate_bpm") == pytest.approx(120.0)
    assert e.detail("min_rate_bpm") == pytest.approx(60 * 8 / 4.5)  # 7 x 0.5 s + 1 x 1 s
    assert e.detail("nothing") is None


def test_rate_thresholds_are_per_patient() -> None:
    t, lab, u = build("N" * 60, 0.55)  # 109 bpm
    assert kinds(detect_events(t, lab, u)) == ["tachycardia"]
    assert detect_events(t, lab, u, config=EventConfig(tachy_bpm=120.0)) == ()
    t, lab, u = build("N" * 60, 1.1)  # 54.5 bpm
    assert detect_events(t, lab, u) == ()
    assert kinds(detect_events(t, lab, u, config=EventConfig(brady_bpm=55.0))) == ["bradycardia"]


def test_one_premature_beat_does_not_break_a_bradycardia_episode() -> None:
    rr = [1.5] * 20 + [0.7, 2.3] + [1.5] * 20  # a PVC with its compensatory pause
    lab = "N" * 21 + "V" + "N" * 21
    ev = detect_events(*build(lab, rr))
    assert kinds(ev) == ["bradycardia", "pause"]
    assert only(ev, K.BRADYCARDIA)[0].beats == range(0, 43)


# --------------------------------------------------------------------------- pause


def test_pause() -> None:
    rr = [0.75] * 10 + [2.5] + [0.75] * 10
    t, lab, u = build("N" * 22, rr)
    ev = detect_events(t, lab, u)
    assert ev == (Event(K.PAUSE, 7.5, 10.0, range(10, 12), 24.0, (("rr_s", 2.5),)),)
    assert ev[0].detail("rr_s") == 2.5


def test_pause_limit_is_strict_and_configurable() -> None:
    t, lab, u = build("N" * 22, [0.75] * 10 + [2.0] + [0.75] * 10)
    assert detect_events(t, lab, u) == ()
    assert kinds(detect_events(t, lab, u, config=EventConfig(pause_s=1.5))) == ["pause"]


def test_no_pause_across_a_gap_or_an_unusable_beat() -> None:
    t, lab, u = build("N" * 22, [0.8] * 10 + [5.0] + [0.8] * 10)
    assert kinds(detect_events(t, lab, u, gaps=[(t[10] + 0.5, t[11] - 0.5)])) == ["signal_loss"]
    u[11] = False  # the beat ending the long interval is unusable
    assert detect_events(t, lab, u) == ()


# --------------------------------------------------------------------------- ventricular runs


@pytest.mark.parametrize(
    ("labels", "rr", "expected"),
    [
        ("NNVVNN", 0.5, [(K.COUPLET, 2, 4)]),
        ("NNVVVNN", 0.5, [(K.VT, 2, 5)]),  # 120 bpm: VT wins over triplet
        ("NNVVVNN", 0.7, [(K.TRIPLET, 2, 5)]),  # 86 bpm
        ("NNVVVNN", 0.6, [(K.TRIPLET, 2, 5)]),  # exactly 100 bpm is not > 100
        ("NNVVVVNN", 0.7, [(K.VENTRICULAR_RUN, 2, 6)]),
        ("NNVVVVVVNN", 0.4, [(K.VT, 2, 8)]),
        ("VVNVVV", 0.5, [(K.COUPLET, 0, 2), (K.VT, 3, 6)]),  # run at the end of the stream
        ("NVNNVN", 0.5, []),  # isolated PVCs
    ],
)
def test_ventricular_runs(labels: str, rr: float, expected: list) -> None:
    ev = detect_events(*build(labels, rr))
    got = [(e.kind, e.beats.start, e.beats.stop) for e in ev]
    assert got == expected


def test_vt_rate_is_the_runs_own_rate() -> None:
    # coupling interval 0.3 s, then 0.4 s inside the run: 150 bpm
    t, lab, u = build("NNVVVVN", [0.8, 0.3, 0.4, 0.4, 0.4, 0.9])
    (e,) = detect_events(t, lab, u)
    assert e.kind == K.VT and e.rate_bpm == pytest.approx(150.0)
    assert (e.start_s, e.end_s) == (t[2], t[5])
    assert detect_events(t, lab, u, config=EventConfig(vt_bpm=160.0))[0].kind == K.VENTRICULAR_RUN


def test_unknown_beats_break_ventricular_runs() -> None:
    lab = ["N", "V", "V", "inconclusive", "V", "V", "V", "N"]
    ev = detect_events(*build(lab, 0.5))
    assert [(e.kind, e.beats) for e in ev] == [(K.COUPLET, range(1, 3)), (K.VT, range(4, 7))]
    t, lab2, u = build("NVVVVN", 0.5)
    u[3] = False  # an unusable beat is unknown, whatever its label
    ev = detect_events(t, lab2, u)
    assert [(e.kind, e.beats) for e in ev] == [(K.COUPLET, range(1, 3))]


def test_runs_never_span_a_gap() -> None:
    t, lab, u = build("NVVVVN", 0.5)
    ev = detect_events(t, lab, u, gaps=[(t[2], t[3])])  # gap between beats 2 and 3
    assert [(e.kind, e.beats) for e in ev] == [
        (K.COUPLET, range(1, 3)), (K.SIGNAL_LOSS, range(3, 3)), (K.COUPLET, range(3, 5))
    ]


# --------------------------------------------------------------------------- patterns


def test_bigeminy() -> None:
    t, lab, u = build("NVNVNVNN", 0.75)
    ev = detect_events(t, lab, u)
    assert ev == (Event(K.BIGEMINY, 0.0, 3.75, range(0, 6), 80.0, (("cycles", 3.0),)),)


def test_bigeminy_needs_the_minimum_cycles() -> None:
    assert detect_events(*build("NVNVNN", 0.7)) == ()
    assert kinds(detect_events(*build("NVNVNN", 0.7), config=EventConfig(pattern_min_cycles=2))) \
        == ["bigeminy"]


def test_bigeminy_ended_by_a_couplet_and_by_other_labels() -> None:
    ev = detect_events(*build("NVNVNVVNVNVNV", 0.7))
    assert [(e.kind, e.beats) for e in ev] == [
        (K.BIGEMINY, range(0, 6)), (K.COUPLET, range(5, 7)), (K.BIGEMINY, range(7, 13))
    ]
    ev = detect_events(*build("NVNVNVSNVNVNV", 0.7))
    assert [(e.kind, e.beats) for e in ev] == [(K.BIGEMINY, range(0, 6)),
                                               (K.BIGEMINY, range(7, 13))]
    assert detect_events(*build("NVNVSVNV", 0.7)) == ()


def test_trigeminy() -> None:
    ev = detect_events(*build("NNVNNVNNVN", 0.7))
    assert [(e.kind, e.beats, e.detail("cycles")) for e in ev] == [(K.TRIGEMINY, range(0, 9), 3.0)]
    # extra leading N beats: the pattern starts two beats before the first V
    ev = detect_events(*build("NNNNVNNVNNVNNVN", 0.7))
    assert [(e.kind, e.beats, e.detail("cycles")) for e in ev] == [(K.TRIGEMINY, range(2, 14), 4.0)]


def test_trigeminy_is_not_bigeminy_and_vice_versa() -> None:
    assert kinds(detect_events(*build("NNVNVNNVNNV", 0.7))) == []
    assert kinds(detect_events(*build("NVNNVNNVNNV", 0.7))) == ["trigeminy"]


# --------------------------------------------------------------------------- supraventricular


@pytest.mark.parametrize(
    ("labels", "rr", "expected"),
    [
        ("NNSSSNN", 0.5, [(K.SVT, 2, 5)]),
        ("NNSSSSNN", 0.8, [(K.SV_RUN, 2, 6)]),
        ("NNSSNN", 0.4, []),
        ("SSSS", 0.5, [(K.SVT, 0, 4)]),
    ],
)
def test_supraventricular_runs(labels: str, rr: float, expected: list) -> None:
    ev = detect_events(*build(labels, rr))
    assert [(e.kind, e.beats.start, e.beats.stop) for e in ev] == expected


# --------------------------------------------------------------------------- AF


def _af_stream(rng: np.random.Generator, n: int, t0: float = 0.0) -> np.ndarray:
    return t0 + np.concatenate([[0.0], np.cumsum(rng.uniform(0.45, 1.15, n - 1))])


def test_irregularly_irregular_rhythm_is_af(rng: np.random.Generator) -> None:
    t = _af_stream(rng, 400)
    ev = detect_events(t, ["N"] * 400, np.ones(400, bool))
    assert kinds(ev) == ["af"] * len(ev) and ev
    # the turning-point test rejects about 5 % of random windows, in runs (they overlap), so
    # the episode may start late or split; most of the stream is covered
    assert sum(e.n_beats for e in ev) >= 0.6 * 400
    assert all(e.detail("mean_nrmssd") > 0.1 for e in ev)
    assert all(0.5 < e.detail("mean_tpr") < 0.8 for e in ev)


def test_regular_rhythms_with_variability_are_not_af(rng: np.random.Generator) -> None:
    n = 400
    # sinus rhythm with 2 % jitter
    t = np.cumsum(0.8 + 0.016 * rng.standard_normal(n))
    assert only(detect_events(t, ["N"] * n, np.ones(n, bool)), K.AF) == []
    # strong but smooth respiratory sinus arrhythmia (too few turning points)
    k = np.arange(n)
    t = np.cumsum(0.8 + 0.15 * np.sin(2 * np.pi * k / 5.0))
    assert only(detect_events(t, ["N"] * n, np.ones(n, bool)), K.AF) == []
    # alternating long/short intervals (too many turning points)
    t = np.cumsum(np.where(k % 2, 0.6, 1.0))
    assert only(detect_events(t, ["N"] * n, np.ones(n, bool)), K.AF) == []
    # intermittent 2:1 block: two clusters of intervals (low entropy)
    rr = np.where(rng.random(n) < 0.3, 1.6, 0.8) + 0.01 * rng.standard_normal(n)
    assert only(detect_events(np.cumsum(rr), ["N"] * n, np.ones(n, bool)), K.AF) == []


def test_af_ignores_intervals_around_excluded_labels(rng: np.random.Generator) -> None:
    n = 400
    t = np.cumsum(0.8 + 0.01 * rng.standard_normal(n))
    lab = ["N"] * n
    for i in range(5, n, 4):  # frequent premature S beats with a pause after each
        t[i:] -= 0.3
        t[i + 1:] += 0.3
        lab[i] = "S"
    u = np.ones(n, bool)
    assert only(detect_events(t, lab, u), K.AF) == []
    lab_n = ["N"] * n  # the same times without labels look irregular
    assert len(only(detect_events(t, lab_n, u, config=EventConfig(af_entropy=0.0)), K.AF)) >= 1


def test_af_with_some_premature_labels_is_still_af(rng: np.random.Generator) -> None:
    # a classifier may call some AF beats S: their intervals are skipped, the rest suffice
    n = 400
    t = _af_stream(rng, n)
    lab = ["S" if rng.random() < 0.2 else "N" for _ in range(n)]
    af = only(detect_events(t, lab, np.ones(n, bool)), K.AF)
    assert sum(e.n_beats for e in af) >= 0.6 * n


def test_af_episodes_do_not_bridge_long_excluded_stretches(rng: np.random.Generator) -> None:
    # AF, then 300 beats of bigeminy (every interval touches a V beat), then AF again
    a = _af_stream(rng, 200)
    mid = a[-1] + np.cumsum(np.tile([0.5, 0.9], 150))
    b = _af_stream(rng, 200, t0=mid[-1] + 0.8)
    t = np.concatenate([a, mid, b])
    lab = ["N"] * 200 + ["V", "N"] * 150 + ["N"] * 200
    ev = detect_events(t, lab, np.ones(t.size, bool))
    af = only(ev, K.AF)
    assert af and all(e.beats.stop <= 201 or e.beats.start >= 499 for e in af)
    assert any(e.beats.stop <= 201 for e in af) and any(e.beats.start >= 499 for e in af)
    assert len(only(ev, K.BIGEMINY)) == 1


def test_af_minimum_duration(rng: np.random.Generator) -> None:
    t = _af_stream(rng, 150)  # about 2 minutes
    u = np.ones(150, bool)
    assert len(only(detect_events(t, ["N"] * 150, u), K.AF)) >= 1
    long = EventConfig(af_min_s=float(t[-1] - t[0]) + 1.0)
    assert only(detect_events(t, ["N"] * 150, u, config=long), K.AF) == []


def test_af_is_split_by_a_gap(rng: np.random.Generator) -> None:
    a = _af_stream(rng, 200)
    b = _af_stream(rng, 200, t0=a[-1] + 30.0)
    t = np.concatenate([a, b])
    ev = detect_events(t, ["N"] * 400, np.ones(400, bool), gaps=[(a[-1] + 1.0, b[0] - 1.0)])
    af = only(ev, K.AF)
    before = [e for e in af if e.end_s <= a[-1] and e.beats.stop <= 200]
    after = [e for e in af if e.start_s >= b[0] and e.beats.start >= 200]
    assert before and after and len(before) + len(after) == len(af)


# --------------------------------------------------------------------------- signal


def test_poor_signal() -> None:
    t, lab, u = build("N" * 30, 0.8)
    u[10:15] = False
    ev = detect_events(t, lab, u)
    assert ev == (Event(K.POOR_SIGNAL, t[10], t[14], range(10, 15)),)
    u[10:15] = True
    u[10:12] = False  # 2 beats: below poor_min_beats
    assert detect_events(t, lab, u) == ()
    assert kinds(detect_events(t, lab, u, config=EventConfig(poor_min_beats=2))) == ["poor_signal"]


def test_all_unusable_is_one_poor_signal_event() -> None:
    t, lab, u = build("V" * 100, 0.3)  # a VT-like label stream, but nothing usable
    u[:] = False
    ev = detect_events(t, lab, u)
    assert ev == (Event(K.POOR_SIGNAL, t[0], t[-1], range(0, 100)),)


def test_poor_signal_restarts_rate_windows() -> None:
    # 45 bpm throughout, but a 3-beat unusable stretch in the middle splits the episode
    t, lab, u = build("N" * 60, 60 / 45)
    u[30:33] = False
    ev = detect_events(t, lab, u)
    assert [(e.kind, e.beats) for e in ev] == [
        (K.BRADYCARDIA, range(0, 30)), (K.POOR_SIGNAL, range(30, 33)),
        (K.BRADYCARDIA, range(33, 60)),
    ]


def test_gaps_split_episodes_and_are_reported() -> None:
    t1, lab, u = build("N" * 30, 1.5)
    t2 = t1 + t1[-1] + 20.0
    t = np.concatenate([t1, t2])
    ev = detect_events(t, lab * 2, np.concatenate([u, u]), gaps=[(t1[-1] + 5.0, t2[0] - 5.0)])
    assert [(e.kind, e.beats) for e in ev] == [
        (K.BRADYCARDIA, range(0, 30)), (K.SIGNAL_LOSS, range(30, 30)),
        (K.BRADYCARDIA, range(30, 60)),
    ]


def test_beats_on_gap_edges_are_allowed() -> None:
    t, lab, u = build("N" * 6, 1.0)
    ev = detect_events(t, lab, u, gaps=[(t[2], t[3])])
    assert kinds(ev) == ["signal_loss"]


def test_events_are_sorted() -> None:
    t, lab, u = build("NVVNNSSSNN" * 3 + "N" * 5, 0.5)
    ev = detect_events(t, lab, u, gaps=[(t[-1] + 1, t[-1] + 2)])
    assert list(ev) == sorted(ev, key=Event.sort_key)
    assert [e.kind for e in ev][-1] == K.SIGNAL_LOSS


def test_event_to_dict() -> None:
    e = Event(K.VT, 1.0, 2.0, range(3, 6), 120.0, (("x", 1.5),))
    assert e.to_dict() == {"kind": "vt", "start_s": 1.0, "end_s": 2.0, "first_beat": 3,
                           "last_beat": 5, "rate_bpm": 120.0, "details": {"x": 1.5}}
    assert hash(e) == hash(Event(K.VT, 1.0, 2.0, range(3, 6), 120.0, (("x", 1.5),)))
