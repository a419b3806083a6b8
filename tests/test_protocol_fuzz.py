"""Property-based fuzzing of the frame parser (hypothesis, derandomized so runs are repeatable).

* Random bytes never make :func:`decode_frame` raise anything but :class:`ProtocolError`.
* Every valid frame survives encode → decode unchanged.
* Mutated valid frames either raise :class:`ProtocolError` or decode to a frame that is valid
  under the limits and re-encodes to exactly the mutated bytes (one encoding per frame).
"""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cardiostream.service.protocol import (
    DEFAULT_LIMITS,
    HEADER_SIZE,
    MAX_SEQ,
    MAX_T0_NS,
    Frame,
    FrameFlags,
    FrameLimits,
    ProtocolError,
    decode_frame,
    encode_frame,
    is_valid_id,
)

FUZZ = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
FUZZ_FRAMES = settings(FUZZ, max_examples=200)  # generating frames costs more
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@-"
ids = st.text(alphabet=ID_CHARS, min_size=1, max_size=64)


@st.composite
def frames(draw: st.DrawFn, limits: FrameLimits = DEFAULT_LIMITS) -> Frame:
    n = draw(st.integers(1, limits.max_samples))
    lim = limits.max_abs_uv
    samples = draw(
        arrays(np.int32, n, elements=st.integers(-lim, lim))
        | st.just(np.full(n, draw(st.sampled_from([-lim, lim, 0])), dtype=np.int32))
    )
    return Frame(
        patient_id=draw(ids),
        device_id=draw(ids),
        seq=draw(st.integers(0, MAX_SEQ)),
        t0_ns=draw(st.integers(0, MAX_T0_NS)),
        fs_mhz=draw(st.integers(limits.fs_min_mhz, limits.fs_max_mhz)),
        samples_uv=samples,
        stream_id=draw(st.integers(0, MAX_SEQ)),
        flags=FrameFlags(draw(st.integers(0, 3))),
    )


def check_accepted(data: bytes, frame: Frame, limits: FrameLimits = DEFAULT_LIMITS) -> None:
    """What any accepted message must satisfy."""
    assert encode_frame(frame) == data
    rebuilt = Frame(
        patient_id=frame.patient_id,
        device_id=frame.device_id,
        seq=frame.seq,
        t0_ns=frame.t0_ns,
        fs_mhz=frame.fs_mhz,
        samples_uv=frame.samples_uv,
        stream_id=frame.stream_id,
        flags=frame.flags,
    )  # the decoder's trusted constructor builds nothing the validating one would refuse
    assert rebuilt == frame and isinstance(frame.flags, FrameFlags)
    assert all(type(v) is int for v in (frame.seq, frame.t0_ns, frame.fs_mhz, frame.stream_id))
    assert len(data) <= limits.max_frame_bytes
    assert is_valid_id(frame.patient_id) and is_valid_id(frame.device_id)
    assert 1 <= frame.n_samples <= limits.max_samples
    assert limits.fs_min_hz <= frame.fs <= limits.fs_max_hz
    assert 0 <= frame.t0_ns <= MAX_T0_NS
    assert int(np.abs(frame.samples_uv.astype(np.int64)).max()) <= limits.max_abs_uv
    assert frame.samples_uv.dtype == np.int32 and not frame.samples_uv.flags.writeable


def decode_or_protocol_error(data: object, limits: FrameLimits = DEFAULT_LIMITS) -> None:
    try:
        frame = decode_frame(data, limits)  # type: ignore[arg-type]
    except ProtocolError as e:
        assert e.code.close_code is None or 1000 <= e.code.close_code < 5000
        return
    assert isinstance(data, bytes | bytearray | memoryview)
    check_accepted(bytes(data), frame, limits)


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    decode_or_protocol_error(data)


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes_after_a_valid_prefix(tail: bytes) -> None:
    decode_or_protocol_error(b"CS\x01" + tail)


@FUZZ
@given(
    st.tuples(
        st.integers(0, 255),
        st.integers(0, MAX_SEQ),
        st.integers(0, MAX_SEQ),
        st.integers(0, MAX_SEQ),
        st.integers(-(2**63), 2**63 - 1),
        st.integers(0, 2**16 - 1),
        st.integers(0, 255),
        st.integers(0, 255),
    ),
    st.binary(max_size=300),
    st.booleans(),
)
def test_random_headers(fields: tuple[int, ...], tail: bytes, small_limits: bool) -> None:
    """Every header field random, followed by random bytes: reaches the deep checks."""
    header = struct.pack("<2sBBIIIqHBB", b"CS", 1, *fields)
    assert len(header) == HEADER_SIZE
    limits = FrameLimits(max_samples=8, max_frame_bytes=200) if small_limits else DEFAULT_LIMITS
    decode_or_protocol_error(header + tail, limits)


@FUZZ
@given(st.one_of(st.text(max_size=50), st.integers(), st.none(), st.lists(st.integers())))
def test_non_bytes(value: object) -> None:
    decode_or_protocol_error(value)


@FUZZ_FRAMES
@given(frames())
def test_round_trip(frame: Frame) -> None:
    data = encode_frame(frame, DEFAULT_LIMITS)
    back = decode_frame(data)
    assert back == frame
    assert back.header_tuple() == frame.header_tuple()
    np.testing.assert_array_equal(back.samples_uv, frame.samples_uv)
    check_accepted(data, back)


@st.composite
def mutations(draw: st.DrawFn) -> bytes:
    frame = draw(frames(FrameLimits(max_samples=80)))
    data = bytearray(encode_frame(frame))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete", "append"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(1, 8))]
        else:
            data += draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


@FUZZ_FRAMES
@given(mutations())
def test_mutated_frames(data: bytes) -> None:
    decode_or_protocol_error(data)


@FUZZ_FRAMES
@given(frames(FrameLimits(max_samples=80)), st.integers(0, 2**16 - 1))
def test_header_field_mutations(frame: Frame, n_samples: int) -> None:
    """A wrong sample count is always a length or count error, never a misparse."""
    data = bytearray(encode_frame(frame))
    struct.pack_into("<H", data, 24, n_samples)
    try:
        back = decode_frame(bytes(data))
    except ProtocolError as e:
        assert n_samples != frame.n_samples
        assert e.code in {"length_mismatch", "too_many_samples", "empty_frame"}
    else:
        assert n_samples == frame.n_samples and back == frame
