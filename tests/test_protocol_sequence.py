"""SequenceTracker: in-order delivery, duplicates, gaps, reorder window, hold time, memory bound."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardiostream.errors import InvalidParameterError
from cardiostream.service.protocol import MAX_SEQ, Delivery, Gap, SeqStatus, SequenceTracker


def seqs_of(events: tuple[Delivery[str] | Gap, ...]) -> list[object]:
    out: list[object] = []
    for e in events:
        if isinstance(e, Delivery):
            out.append(e.seq)
        else:
            out.append((e.first, e.last, e.reason))
    return out


def test_in_order() -> None:
    t: SequenceTracker[str] = SequenceTracker()
    assert t.ack == -1 and t.next_seq == 0
    for s in range(5):
        r = t.push(s, f"f{s}")
        assert r.status == SeqStatus.NEXT and r.ack == s
        assert r.deliveries == (Delivery(s, f"f{s}"),) and r.gaps == ()
    assert t.n_delivered == 5 and t.held == ()


def test_duplicates_are_ignored() -> None:
    t: SequenceTracker[str] = SequenceTracker(window=4)
    t.push(0, "a")
    t.push(2, "c")  # held
    for s in (0, 2):
        r = t.push(s, "again")
        assert r.status == SeqStatus.DUPLICATE and r.released == () and r.ack == 0
    r = t.push(1, "b")
    assert r.status == SeqStatus.FILL
    assert [(d.seq, d.item) for d in r.deliveries] == [(1, "b"), (2, "c")]  # first copy wins
    assert t.n_duplicate == 2


def test_reorder_within_window_is_filled_in_order() -> None:
    t: SequenceTracker[int] = SequenceTracker(window=4, max_hold_s=None)
    t.push(0, 0)
    assert t.push(3, 3).status == SeqStatus.GAP
    assert t.push(2, 2).status == SeqStatus.FILL
    assert t.held == (2, 3) and t.ack == 0
    r = t.push(1, 1)
    assert seqs_of(r.released) == [1, 2, 3] and r.ack == 3 and t.held == ()


def test_jump_beyond_window_declares_gaps() -> None:
    t: SequenceTracker[int] = SequenceTracker(window=2, max_hold_s=None)
    t.push(0, 0)
    t.push(2, 2)
    r = t.push(9, 9)
    assert r.status == SeqStatus.GAP
    # slots up to 9 - 2 - 1 = 6 must settle: gap 1, deliver 2, gap 3..6; 7, 8 stay open
    assert seqs_of(r.released) == [(1, 1, "missing"), 2, (3, 6, "missing")]
    assert t.ack == 6 and t.held == (9,)
    assert t.push(4, 4).status == SeqStatus.TOO_OLD and t.n_too_old == 1
    assert t.push(2, 2).status == SeqStatus.DUPLICATE
    r = t.push(8, 8)
    assert r.status == SeqStatus.FILL and r.released == ()
    r = t.push(7, 7)
    assert seqs_of(r.released) == [7, 8, 9]
    assert t.n_missing == 5 and t.n_delivered == 5  # 0, 2, 7, 8, 9


def test_window_zero_never_holds() -> None:
    t: SequenceTracker[int] = SequenceTracker(window=0)
    r = t.push(3, 3)
    assert r.status == SeqStatus.GAP and seqs_of(r.released) == [(0, 2, "missing"), 3]
    assert t.push(1, 1).status == SeqStatus.TOO_OLD
    assert t.held == ()


def test_hold_time_expiry() -> None:
    t: SequenceTracker[int] = SequenceTracker(window=16, max_hold_s=1.0)
    t.push(0, 0, now=10.0)
    assert t.push(2, 2, now=10.2).released == ()
    assert t.push(3, 3, now=10.9).released == ()
    assert t.expire(11.1) == ()  # 2 has waited 0.9 s
    r = t.push(5, 5, now=11.25)  # the push itself checks the clock: 2 has waited 1.05 s
    assert seqs_of(r.released) == [(1, 1, "missing"), 2, 3] and t.held == (5,)
    assert seqs_of(t.expire(12.25)) == [(4, 4, "missing"), 5]
    assert t.ack == 5 and t.expire(100.0) == ()


def test_expire_without_time_limit_or_times() -> None:
    t: SequenceTracker[int] = SequenceTracker(window=4, max_hold_s=None)
    t.push(1, 1, now=0.0)
    assert t.expire(1e9) == ()
    t2: SequenceTracker[int] = SequenceTracker(window=4, max_hold_s=0.5)
    t2.push(1, 1)  # no arrival time: only the window or flush can release it
    assert t2.expire(1e9) == ()
    assert seqs_of(t2.flush()) == [(0, 0, "missing"), 1]


def test_flush() -> None:
    t: SequenceTracker[int] = SequenceTracker(window=8)
    t.push(0, 0)
    t.push(3, 3)
    t.push(5, 5)
    assert seqs_of(t.flush()) == [(1, 2, "missing"), 3, (4, 4, "missing"), 5]
    assert t.ack == 5 and t.held == () and t.flush() == ()


def test_reject_counts_as_a_gap_in_order() -> None:
    t: SequenceTracker[int] = SequenceTracker(window=4)
    t.push(0, 0)
    r = t.reject(1)
    assert r.status == SeqStatus.NEXT and seqs_of(r.released) == [(1, 1, "rejected")]
    assert r.ack == 1 and t.n_rejected == 1
    assert t.reject(3).released == ()  # held like a frame
    r = t.push(2, 2)
    assert seqs_of(r.released) == [2, (3, 3, "rejected")]
    # a retransmission of a rejected frame is a duplicate, not "too old"
    assert t.push(1, 1).status == SeqStatus.DUPLICATE
    r = t.push(4, 4)
    assert seqs_of(r.released) == [4]


def test_adjacent_gaps_merge_within_one_call() -> None:
    t: SequenceTracker[int] = SequenceTracker(window=0)
    t.reject(0)
    r = t.reject(1)
    assert seqs_of(r.released) == [(1, 1, "rejected")]  # separate calls: separate gaps
    r = t.push(5, 5)
    assert seqs_of(r.released) == [(2, 4, "missing"), 5]


def test_resume_after_restart() -> None:
    t: SequenceTracker[int] = SequenceTracker(next_seq=100)
    assert t.ack == 99
    assert t.push(50, 50).status == SeqStatus.DUPLICATE
    assert t.push(100, 100).status == SeqStatus.NEXT


def test_last_sequence_number() -> None:
    t: SequenceTracker[int] = SequenceTracker(next_seq=MAX_SEQ)
    assert t.push(MAX_SEQ, 1).ack == MAX_SEQ
    assert t.push(MAX_SEQ, 1).status == SeqStatus.DUPLICATE


@pytest.mark.parametrize(
    "kw",
    [
        {"window": -1},
        {"window": 1.5},
        {"max_hold_s": -1.0},
        {"max_hold_s": float("nan")},
        {"next_seq": -1},
        {"gap_memory": -1},
    ],
)
def test_parameter_validation(kw: dict[str, object]) -> None:
    with pytest.raises(InvalidParameterError):
        SequenceTracker(**kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("seq", [-1, MAX_SEQ + 1, 1.0, "3"])
def test_bad_seq(seq: object) -> None:
    with pytest.raises(InvalidParameterError):
        SequenceTracker().push(seq, None)  # type: ignore[arg-type]


def test_gap_memory_is_bounded() -> None:
    t: SequenceTracker[int] = SequenceTracker(window=0, gap_memory=3)
    for k in range(10):
        t.push(2 * k + 1, k)  # every even slot becomes a one-frame gap
    assert len(t._gaps) == 3
    assert t.push(18, 0).status == SeqStatus.TOO_OLD  # remembered
    assert t.push(0, 0).status == SeqStatus.DUPLICATE  # forgotten: still ignored


def test_device_with_drops_and_resends(rng: np.random.Generator) -> None:
    """The traffic our simulator produces: in order, dropped frames never sent, and after each
    reconnect everything unacknowledged re-sent. Every sent frame is delivered once; the gaps
    are exactly the dropped frames."""
    n = 400
    dropped = set(np.flatnonzero(rng.uniform(size=n) < 0.05).tolist())
    t: SequenceTracker[int] = SequenceTracker(window=0)
    delivered: list[int] = []
    gaps: list[int] = []
    last_acked = -1
    unacked: list[int] = []
    for s in range(n):
        if s in dropped:
            continue
        unacked.append(s)
        wire = [s]
        if rng.uniform() < 0.05:  # reconnect: resend the buffer (some may have arrived)
            wire = list(unacked)
        for w in wire:
            r = t.push(w, w)
            delivered += [d.seq for d in r.deliveries]
            for g in r.gaps:
                gaps += range(g.first, g.last + 1)
            if rng.uniform() < 0.7:  # acks get through most of the time
                last_acked = r.ack
                unacked = [u for u in unacked if u > last_acked]
    assert delivered == sorted(set(range(n)) - dropped)
    assert set(gaps) == {d for d in dropped if d < max(delivered)}


ops = st.lists(
    st.tuples(
        st.sampled_from(["push", "push", "push", "reject", "expire"]),
        st.integers(0, 40),
        st.floats(0, 0.5),
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(ops, st.integers(0, 6), st.sampled_from([None, 0.0, 0.3, 1.0]))
def test_properties(
    operations: list[tuple[str, int, float]], window: int, hold: float | None
) -> None:
    t: SequenceTracker[int] = SequenceTracker(window=window, max_hold_s=hold, gap_memory=8)
    stream: list[Delivery[int] | Gap] = []
    now = 0.0
    first_item: dict[int, int] = {}
    rejected: set[int] = set()
    last_ack = -1
    for i, (op, seq, dt) in enumerate(operations):
        now += dt
        before = t.ack
        fresh = seq > before and seq not in t.held
        if op == "expire":
            stream += t.expire(now)
        elif op == "reject":
            r = t.reject(seq, now)
            stream += r.released
            if fresh:
                rejected.add(seq)
        else:
            r = t.push(seq, i, now)
            stream += r.released
            if fresh:
                first_item[seq] = i
            if seq <= before:
                assert r.status in (SeqStatus.DUPLICATE, SeqStatus.TOO_OLD)
        assert len(t.held) <= window
        assert t.ack >= last_ack
        last_ack = t.ack
    stream += t.flush()
    assert t.held == ()
    # Released events tile 0..ack exactly once, in order.
    pos = 0
    for e in stream:
        if isinstance(e, Delivery):
            assert e.seq == pos and first_item[e.seq] == e.item
            pos += 1
        else:
            assert e.first == pos and e.last >= e.first
            if e.reason == "rejected":
                assert all(s in rejected for s in range(e.first, e.last + 1))
            pos = e.last + 1
    assert pos == t.ack + 1
    # Every frame that arrived while its slot was open is delivered (held frames never vanish).
    delivered = {e.seq for e in stream if isinstance(e, Delivery)}
    assert delivered == set(first_item)
    assert t.n_delivered == len(delivered)
