"""StreamingEventDetector gives exactly the offline events for any chunking, in bounded memory."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardiostream.errors import CardiostreamError
from cardiostream.events import (
    Event,
    EventConfig,
    EventKind,
    StreamingEventDetector,
    detect_events,
)

Stream = tuple[np.ndarray, list[str], np.ndarray, list[tuple[int, float, float]]]


def composite(rng: np.random.Generator, n_segments: int = 60) -> Stream:
    """A long stream that visits every regime: sinus with ectopy, brady, tachy, pauses, runs,
    bigeminy, trigeminy, SVT, AF, poor signal, inconclusive beats, and gaps between segments.

    Gaps are ``(position, start_s, end_s)``: reported after the first ``position`` beats.
    """
    times: list[float] = []
    labels: list[str] = []
    usable: list[bool] = []
    gaps: list[tuple[int, float, float]] = []
    t = 0.0

    def add(rr: float, label: str, ok: bool = True) -> None:
        nonlocal t
        t += rr
        times.append(t)
        labels.append(label)
        usable.append(ok)

    for _ in range(n_segments):
        kind = rng.choice(["sinus", "brady", "tachy", "bigem", "trigem", "vrun", "triplet", "svt",
                           "af", "poor", "pause", "inconclusive"])
        n = int(rng.integers(5, 80))
        if kind == "sinus":
            for _ in range(n):
                lab = rng.choice(["N", "N", "N", "N", "N", "N", "N", "S", "V", "F", "Q"])
                add(0.8 + 0.03 * rng.standard_normal(), str(lab))
        elif kind == "brady":
            for _ in range(n):
                add(1.4 + 0.05 * rng.standard_normal(), "N")
        elif kind == "tachy":
            for _ in range(n):
                add(0.45 + 0.02 * rng.standard_normal(), "N")
        elif kind in ("bigem", "trigem"):
            period = 2 if kind == "bigem" else 3
            for k in range(n):
                v = k % period == period - 1
                add(0.5 if v else 0.9, "V" if v else "N")
        elif kind == "vrun":
            add(0.8, "N")
            rr = float(rng.choice([0.35, 0.5, 0.7]))
            for _ in range(int(rng.integers(2, 9))):
                add(rr, "V")
            add(0.9, "N")
        elif kind == "triplet":
            add(0.8, "N")
            for _ in range(3):
                add(0.7, "V")
            add(0.9, "N")
        elif kind == "svt":
            rr = float(rng.choice([0.4, 0.75]))
            for _ in range(int(rng.integers(3, 20))):
                add(rr, "S")
            add(0.8, "N")
        elif kind == "af":
            for _ in range(n + 60):
                add(float(rng.uniform(0.45, 1.15)), "N")
        elif kind == "poor":
            for _ in range(int(rng.integers(1, 8))):
                add(float(rng.uniform(0.2, 1.0)), str(rng.choice(["N", "V", "inconclusive"])),
                    ok=False)
        elif kind == "pause":
            add(float(rng.uniform(2.1, 4.0)), "N")
        else:
            for _ in range(n):
                add(0.8, "inconclusive" if rng.random() < 0.7 else "N")
        if rng.random() < 0.15:
            start = t + float(rng.uniform(0.0, 1.0))
            end = start + float(rng.uniform(0.5, 20.0))
            gaps.append((len(times), start, end))
            t = end
    return np.asarray(times), labels, np.asarray(usable), gaps


def boundaries(n: int, rng: np.random.Generator, max_size: int) -> list[int]:
    """Random chunk ends: mostly small chunks, sometimes single beats or large ones."""
    out, i = [], 0
    while i < n:
        i += int(rng.choice([1, int(rng.integers(1, 12)), int(rng.integers(1, max_size + 1))]))
        out.append(min(i, n))
    return out


def run_stream(stream: Stream, ends: list[int], config: EventConfig | None = None,
               check: bool = True) -> list[Event]:
    """Push the stream cut at ``ends`` (and at every gap), then flush; all emitted events."""
    t, lab, u, gaps = stream
    det = StreamingEventDetector(config)
    cuts = sorted(set(ends) | {g[0] for g in gaps} | {len(t)})
    pending = list(gaps)
    out: list[Event] = []
    a = 0
    for b in cuts:
        while pending and pending[0][0] == a:
            _, s, e = pending.pop(0)
            out += det.gap(s, e)
        new = det.push(t[a:b], lab[a:b], u[a:b])
        if check and b > a:
            # only final events: they end at or before the newest beat, within the stream so far
            assert all(ev.end_s <= t[b - 1] and ev.beats.stop <= b for ev in new)
        out += new
        a = b
    for _, s, e in pending:  # gaps after the last beat
        out += det.gap(s, e)
    return out + det.flush()


def offline(stream: Stream, config: EventConfig | None = None) -> tuple[Event, ...]:
    t, lab, u, gaps = stream
    return detect_events(t, lab, u, gaps=[(s, e) for _, s, e in gaps], config=config)


@pytest.fixture(scope="module")
def stream() -> Stream:
    return composite(np.random.default_rng(7), n_segments=120)


def test_composite_stream_has_every_event_kind(stream: Stream) -> None:
    assert {e.kind for e in offline(stream)} == set(EventKind)


def test_one_push_equals_offline(stream: Stream) -> None:
    got = run_stream(stream, [len(stream[0])])
    assert sorted(got, key=Event.sort_key) == list(offline(stream))


def test_single_beat_chunks_equal_offline(stream: Stream) -> None:
    n = len(stream[0])
    one = run_stream(stream, list(range(1, n + 1)))
    assert one == run_stream(stream, [n], check=False)  # same events in the same order
    assert sorted(one, key=Event.sort_key) == list(offline(stream))


@pytest.mark.parametrize("seed", range(5))
def test_random_chunks_equal_offline(stream: Stream, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = len(stream[0])
    got = run_stream(stream, boundaries(n, rng, n // 3))
    assert got == run_stream(stream, [n], check=False)
    assert sorted(got, key=Event.sort_key) == list(offline(stream))


@pytest.mark.parametrize("seed", range(3))
def test_other_streams_and_configs(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    s = composite(rng, n_segments=40)
    cfg = EventConfig(brady_bpm=55.0, tachy_bpm=110.0, rate_window_beats=4, af_window_beats=32,
                      af_trim_beats=2, af_min_s=10.0, poor_min_beats=2, pattern_min_cycles=2)
    got = run_stream(s, boundaries(len(s[0]), rng, 50), cfg)
    assert sorted(got, key=Event.sort_key) == list(offline(s, cfg))


# a small config makes every kind of event likely in short random streams
_SMALL = EventConfig(rate_window_beats=3, brady_min_s=0.0, tachy_min_s=0.0, af_window_beats=12,
                     af_trim_beats=1, af_min_s=0.0, af_entropy=0.0, poor_min_beats=2,
                     pattern_min_cycles=2)


@st.composite
def small_streams(draw: st.DrawFn) -> tuple[Stream, list[int]]:
    n = draw(st.integers(0, 120))
    rr = draw(st.lists(st.sampled_from([0.3, 0.45, 0.6, 0.8, 1.0, 1.3, 1.7, 2.5]),
                       min_size=n, max_size=n))
    lab = draw(st.lists(st.sampled_from(["N", "N", "V", "S", "F", "Q", "inconclusive"]),
                        min_size=n, max_size=n))
    u = draw(st.lists(st.sampled_from([True, True, True, False]), min_size=n, max_size=n))
    t = np.cumsum(np.asarray(rr, float)) + 0.1
    gap_pos = sorted(set(draw(st.lists(st.integers(0, n), max_size=4))))
    shift = np.zeros(n)
    gaps = []
    for p in gap_pos:  # open a 3 s gap before beat p
        start = (t[p - 1] + shift[p - 1] if p else 0.0) + 0.05
        shift[p:] += 3.2
        gaps.append((p, start, start + 3.0))
    t = t + shift
    ends = draw(st.lists(st.integers(0, n), max_size=10))
    return (t, lab, np.asarray(u, bool), gaps), sorted(set(ends))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(small_streams())
def test_property_any_chunking_equals_offline(case: tuple[Stream, list[int]]) -> None:
    s, ends = case
    whole = run_stream(s, [len(s[0])], _SMALL, check=False)
    chunked = run_stream(s, [e for e in ends if e > 0], _SMALL)
    assert chunked == whole
    assert sorted(chunked, key=Event.sort_key) == list(offline(s, _SMALL))


# --------------------------------------------------------------------------- bounded memory


def _af_chunk(rng: np.random.Generator, n: int, t0: float) -> tuple[np.ndarray, list[str],
                                                                    np.ndarray]:
    t = t0 + np.cumsum(rng.uniform(0.45, 1.15, n))
    lab = ["V" if rng.random() < 0.02 else "N" for _ in range(n)]
    return t, lab, np.ones(n, bool)


def test_state_does_not_grow_with_the_stream(rng: np.random.Generator) -> None:
    # One AF episode (plus bigeminy-free ectopy) that never ends: open episodes hold a range,
    # windows are bounded deques, so the pickled state stays the same size.
    det = StreamingEventDetector()
    sizes = []
    t0 = 0.0
    for _ in range(30):
        t, lab, u = _af_chunk(rng, 1000, t0)
        det.push(t, lab, u)
        t0 = float(t[-1])
        sizes.append(len(pickle.dumps(det)))
    assert det.n_beats == 30_000
    assert max(sizes[1:]) - min(sizes[1:]) <= 16  # a few bytes of int/float encodings
    (af,) = [e for e in det.ongoing() if e.kind == EventKind.AF]
    assert af.n_beats > 25_000
    assert det._rate_win.maxlen == 8 and len(det._af_rr) == len(det._af_meta) == 64


def test_long_runs_keep_constant_state() -> None:
    det = StreamingEventDetector()
    n = 20_000
    t = 0.4 * np.arange(1, n + 1)
    det.push(t[:1000], ["V"] * 1000, np.ones(1000, bool))
    size = len(pickle.dumps(det))
    det.push(t[1000:], ["V"] * (n - 1000), np.ones(n - 1000, bool))
    assert abs(len(pickle.dumps(det)) - size) <= 16
    (vt,) = [e for e in det.ongoing() if e.kind == EventKind.VT]
    assert vt.beats == range(0, n)
    (ev,) = [e for e in det.flush() if e.kind == EventKind.VT]
    assert ev == vt


# --------------------------------------------------------------------------- ongoing / alerts


def test_ongoing_vt_is_visible_before_it_ends() -> None:
    det = StreamingEventDetector()
    assert det.push([0.0, 0.8, 1.6], ["N", "N", "V"], [True] * 3) == []
    assert det.ongoing() == ()
    assert det.push([2.0], ["V"], [True]) == []
    assert det.ongoing() == ()  # a couplet is not an open episode worth an alert yet
    assert det.push([2.4], ["V"], [True]) == []
    (vt,) = det.ongoing()
    assert vt.kind == EventKind.VT and vt.beats == range(2, 5)
    assert vt.rate_bpm == pytest.approx(150.0)
    det.push([2.8], ["V"], [True])
    assert det.ongoing()[0].beats == range(2, 6)
    (done,) = det.push([3.6], ["N"], [True])
    assert done.kind == EventKind.VT and done.beats == range(2, 6)
    assert det.ongoing() == ()


def test_ongoing_lists_rate_and_signal_episodes() -> None:
    det = StreamingEventDetector()
    t = 1.5 * np.arange(20)
    det.push(t, ["N"] * 20, np.ones(20, bool))
    assert [e.kind for e in det.ongoing()] == [EventKind.BRADYCARDIA]
    det.push(t[-1] + 0.5 * np.arange(1, 5), ["N"] * 4, np.zeros(4, bool))
    assert {e.kind for e in det.ongoing()} == {EventKind.POOR_SIGNAL}


def test_flush_then_continue_starts_a_new_segment() -> None:
    det = StreamingEventDetector()
    det.push([0.0, 0.5], ["N", "N"], [True, True])
    assert det.flush() == []
    # the 3 s between 0.5 and 3.5 is not a pause: flush ended the segment
    assert det.push([3.5, 4.0], ["N", "N"], [True, True]) == []
    assert det.n_beats == 4


# --------------------------------------------------------------------------- bad input


def test_bad_push_leaves_the_detector_unchanged(stream: Stream) -> None:
    t, lab, u, _ = stream
    plain = (t[:300], lab[:300], u[:300], [])
    det = StreamingEventDetector()
    out = det.push(t[:100], lab[:100], u[:100])
    with pytest.raises(CardiostreamError, match="times_s"):
        det.push(t[50:120], lab[50:120], u[50:120])  # goes back in time
    with pytest.raises(CardiostreamError, match="labels"):
        det.push(t[100:120], ["X"] * 20, u[100:120])
    with pytest.raises(CardiostreamError, match="start_s"):
        det.gap(float(t[50]), float(t[60]))  # before the last beat
    out += det.push(t[100:300], lab[100:300], u[100:300]) + det.flush()
    assert out == run_stream(plain, [300], check=False)


def test_beats_inside_a_reported_gap_are_refused() -> None:
    det = StreamingEventDetector()
    det.push([0.0, 1.0], ["N", "N"], [True, True])
    det.gap(1.5, 10.0)
    with pytest.raises(CardiostreamError, match="gap"):
        det.push([9.0], ["N"], [True])
    with pytest.raises(CardiostreamError, match="start_s"):
        det.gap(5.0, 12.0)  # overlaps the previous gap
    assert det.push([10.0], ["N"], [True]) == []
