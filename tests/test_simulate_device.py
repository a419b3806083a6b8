"""Simulated device: framing, impairments (jitter, drops, reorder, disconnects), resend buffer."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from cardiostream.errors import InvalidParameterError
from cardiostream.service.protocol import FrameFlags, decode_frame, encode_frame
from cardiostream.simulate import (
    Disconnect,
    Dropped,
    Impairments,
    ResendBuffer,
    Send,
    SourceSignal,
    device_frames,
    impair,
    load_source,
)

T0 = 1_700_000_000_000_000_000


@pytest.fixture(scope="module")
def src() -> SourceSignal:
    return load_source("synthetic:pvc=0.1", 130.0, duration_s=60.0, seed=3)


def test_framing(src: SourceSignal) -> None:
    tfs = list(device_frames(src, "p-1", "d-1", stream_id=9, t_start_ns=T0, first_seq=5))
    n = src.n_samples
    assert len(tfs) == -(-n // 73)
    assert [tf.frame.seq for tf in tfs] == list(range(5, 5 + len(tfs)))
    assert all(tf.frame.n_samples == 73 for tf in tfs[:-1])
    assert tfs[-1].frame.n_samples == n - 73 * (len(tfs) - 1)
    np.testing.assert_array_equal(
        np.concatenate([tf.frame.samples_uv for tf in tfs]), src.samples_uv
    )
    for k, tf in enumerate(tfs):
        f = tf.frame
        assert (f.patient_id, f.device_id, f.stream_id, f.fs_mhz) == ("p-1", "d-1", 9, 130_000)
        assert f.t0_ns == T0 + round(k * 73 * 1e9 / 130)
        assert tf.due_s == pytest.approx((k * 73 + f.n_samples) / 130)
        assert decode_frame(encode_frame(f)) == f
    # consecutive frames are contiguous on the device clock (to a nanosecond of rounding)
    ends = np.array([tf.frame.t_end_ns for tf in tfs[:-1]])
    starts = np.array([tf.frame.t0_ns for tf in tfs[1:]])
    assert np.abs(ends - starts).max() <= 1


def test_framing_keeps_device_timestamps() -> None:
    rng = np.random.default_rng(0)
    ts = 5_000_000_000 + np.cumsum(rng.integers(7_600_000, 7_800_000, size=300))
    s = SourceSignal(np.arange(300, dtype=np.int32), 130.16, "polar:x", timestamps_ns=ts)
    tfs = list(device_frames(s, "p", "d", samples_per_frame=100, t_start_ns=T0))
    assert [tf.frame.t0_ns for tf in tfs] == [T0 + int(ts[i] - ts[0]) for i in (0, 100, 200)]
    assert tfs[0].frame.fs_mhz == 130_160
    assert tfs[-1].due_s == pytest.approx((ts[-1] - ts[0]) / 1e9 + 1 / 130.16)


@pytest.mark.parametrize(
    "kw",
    [
        {"samples_per_frame": 0},
        {"samples_per_frame": 70_000},
        {"first_seq": -1},
        {"first_seq": 2**32 - 2},
        {"t_start_ns": -5},
        {"t_start_ns": 2**62},
    ],
)
def test_framing_validation(src: SourceSignal, kw: dict[str, int]) -> None:
    with pytest.raises(InvalidParameterError):
        next(device_frames(src, "p", "d", **kw))  # type: ignore[arg-type]


def test_no_impairment_is_identity(src: SourceSignal) -> None:
    tfs = list(device_frames(src, "p", "d"))
    events = list(impair(iter(tfs)))
    assert events == [Send(tf.frame, tf.due_s) for tf in tfs]
    assert not Impairments().active and Impairments(drop_rate=0.1).active


def account(events: list[object], n: int) -> None:
    """Every frame appears exactly once (sent or dropped); stream time never goes back."""
    seqs = [
        e.frame.seq if isinstance(e, Send) else e.seq
        for e in events
        if not isinstance(e, Disconnect)
    ]
    assert sorted(seqs) == list(range(n))
    dues = [e.due_s for e in events]  # type: ignore[attr-defined]
    assert all(b >= a for a, b in itertools.pairwise(dues))


def test_drops(src: SourceSignal) -> None:
    tfs = list(device_frames(src, "p", "d"))
    events = list(impair(tfs, Impairments(drop_rate=0.2, seed=1)))
    account(events, len(tfs))
    dropped = [e for e in events if isinstance(e, Dropped)]
    assert 0.1 * len(tfs) < len(dropped) < 0.3 * len(tfs)
    assert events == list(impair(tfs, Impairments(drop_rate=0.2, seed=1)))  # seeded
    assert events != list(impair(tfs, Impairments(drop_rate=0.2, seed=2)))


def test_jitter(src: SourceSignal) -> None:
    tfs = list(device_frames(src, "p", "d", t_start_ns=T0))
    events = list(impair(tfs, Impairments(jitter_ms=2.0, seed=0)))
    dt = np.array([e.frame.t0_ns - tf.frame.t0_ns for e, tf in zip(events, tfs, strict=True)])
    assert np.abs(dt).max() <= 6_000_000  # clipped at 3 sigma
    assert 1_000_000 < dt.std() < 3_000_000
    for e, tf in zip(events, tfs, strict=True):  # only the time stamp changes
        np.testing.assert_array_equal(e.frame.samples_uv, tf.frame.samples_uv)
        assert e.frame.seq == tf.frame.seq


def test_reorder(src: SourceSignal) -> None:
    tfs = list(device_frames(src, "p", "d"))
    events = list(impair(tfs, Impairments(reorder_rate=0.2, seed=5)))
    account(events, len(tfs))
    seqs = [e.frame.seq for e in events]
    swaps = [i for i in range(len(seqs) - 1) if seqs[i] > seqs[i + 1]]
    assert swaps and all(seqs[i] == seqs[i + 1] + 1 for i in swaps)  # adjacent swaps only


def test_disconnects_and_lost_in_flight(src: SourceSignal) -> None:
    tfs = list(device_frames(src, "p", "d"))
    imp = Impairments(disconnect_every_s=8.0, offline_s=1.5, lost_in_flight=2, seed=3)
    events = list(impair(tfs, imp))
    account(events, len(tfs))
    discs = [i for i, e in enumerate(events) if isinstance(e, Disconnect)]
    assert len(discs) >= 3
    for i in discs:
        assert events[i].offline_s == 1.5  # type: ignore[union-attr]
        before = [e for e in events[max(0, i - 2) : i] if isinstance(e, Send)]
        assert before and all(e.lost for e in before)
    lost = [e for e in events if isinstance(e, Send) and e.lost]
    assert len(lost) <= 2 * len(discs)
    gaps = np.diff([events[i].due_s for i in discs])
    assert np.all(gaps >= 1.5)  # the next drop comes after reconnecting


def test_all_impairments_together(src: SourceSignal) -> None:
    tfs = list(device_frames(src, "p", "d"))
    imp = Impairments(
        jitter_ms=1.0,
        drop_rate=0.05,
        reorder_rate=0.05,
        disconnect_every_s=5.0,
        offline_s=0.5,
        lost_in_flight=3,
        seed=11,
    )
    account(list(impair(tfs, imp)), len(tfs))


@pytest.mark.parametrize(
    "kw",
    [
        {"jitter_ms": -1.0},
        {"drop_rate": 1.0},
        {"reorder_rate": float("nan")},
        {"disconnect_every_s": 0.0},
        {"offline_s": -1.0},
        {"lost_in_flight": -1},
    ],
)
def test_impairment_validation(kw: dict[str, float]) -> None:
    with pytest.raises(InvalidParameterError):
        Impairments(**kw)  # type: ignore[arg-type]


def test_resend_buffer(src: SourceSignal) -> None:
    frames = [tf.frame for tf in device_frames(src, "p", "d")][:10]
    buf = ResendBuffer(capacity=4)
    for f in frames[:4]:
        assert buf.add(f) is None
    assert buf.unacked() == [0, 1, 2, 3] and len(buf) == 4 and 2 in buf
    assert buf.add(frames[4]) == frames[0] and buf.n_evicted == 1
    assert buf.frame_to_send(1) == frames[1]
    assert buf.mark_sent(1) == 0 and buf.mark_sent(1) == 1
    resend = buf.frame_to_send(1)
    assert resend is not None and resend.flags & FrameFlags.RETRANSMIT
    assert replace(resend, flags=FrameFlags.NONE) == frames[1]
    assert buf.ack(2) == 2 and buf.unacked() == [3, 4] and buf.acked == 2
    assert buf.ack(1) == 0 and buf.acked == 2  # acks never go back
    assert buf.add(frames[2]) is None and 2 not in buf  # already acked
    assert buf.frame_to_send(0) is None and buf.mark_sent(0) == 0
    assert buf.ack(100) == 2 and len(buf) == 0
    with pytest.raises(InvalidParameterError):
        ResendBuffer(0)
