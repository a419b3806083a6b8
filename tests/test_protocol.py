"""Device wire protocol v1: byte layout, validation, error codes, server messages."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from cardiostream.errors import CardiostreamError, InvalidParameterError
from cardiostream.service.protocol import (
    DEFAULT_LIMITS,
    FATAL_CLOSE_CODES,
    HEADER_SIZE,
    MAX_SEQ,
    Ack,
    ErrorCode,
    ErrorMessage,
    Frame,
    FrameFlags,
    FrameLimits,
    ProtocolError,
    decode_frame,
    encode_frame,
    frame_nbytes,
    fs_to_mhz,
    is_valid_id,
    mv_to_uv,
    parse_server_message,
)


def make_frame(**kw: object) -> Frame:
    args: dict[str, object] = {
        "patient_id": "pat-1",
        "device_id": "dev-1",
        "seq": 7,
        "t0_ns": 1_714_920_600_006_020_096,
        "fs_mhz": 130_000,
        "samples_uv": np.arange(-36, 37, dtype=np.int32) * 25,
        "stream_id": 0xDEADBEEF,
    }
    args.update(kw)
    return Frame(**args)  # type: ignore[arg-type]


def test_service_package_does_not_import_fastapi() -> None:
    import subprocess
    import sys

    code = (
        "import sys, cardiostream.service, cardiostream.service.protocol; "
        "print('fastapi' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_golden_bytes() -> None:
    """The layout written out by hand, independent of the encoder's struct format."""
    f = make_frame(samples_uv=np.array([1, -2, 100_000], dtype=np.int32), flags=FrameFlags.LEAD_OFF)
    expected = (
        b"CS"
        + bytes([1, 0b10])
        + (0xDEADBEEF).to_bytes(4, "little")
        + (7).to_bytes(4, "little")
        + (130_000).to_bytes(4, "little")
        + (1_714_920_600_006_020_096).to_bytes(8, "little", signed=True)
        + (3).to_bytes(2, "little")
        + bytes([5, 5])
        + b"pat-1dev-1"
        + b"".join(v.to_bytes(4, "little", signed=True) for v in (1, -2, 100_000))
    )
    assert HEADER_SIZE == 28
    assert encode_frame(f) == expected
    assert frame_nbytes(f) == len(expected) == 28 + 10 + 12
    assert decode_frame(expected) == f


def test_polar_sized_frame() -> None:
    f = make_frame()
    data = encode_frame(f)
    assert f.n_samples == 73 and len(data) == 28 + 10 + 292
    g = decode_frame(data)
    assert g == f and g.header_tuple() == f.header_tuple()
    assert g.samples_uv.dtype == np.int32 and not g.samples_uv.flags.writeable
    np.testing.assert_allclose(g.samples_mv, f.samples_uv / 1000.0)
    assert g.fs == 130.0
    assert g.duration_ns == round(73 / 130 * 1e9)
    assert g.t_end_ns == g.t0_ns + g.duration_ns
    times = g.sample_times_ns()
    assert times[0] == g.t0_ns and times.dtype == np.int64
    assert np.all(np.abs(np.diff(times) - 1e9 / 130) <= 1)


@pytest.mark.parametrize("data_type", [bytes, bytearray, memoryview])
def test_bytes_like_inputs(data_type: type) -> None:
    f = make_frame()
    buf = data_type(encode_frame(f))
    g = decode_frame(buf)
    assert g == f
    if data_type is bytearray:
        buf[-1] ^= 0xFF  # the decoded frame does not alias a mutable buffer
        assert g == f


def test_frame_is_frozen_and_copies_input() -> None:
    s = np.arange(10, dtype=np.int32)
    f = make_frame(samples_uv=s)
    s[0] = 99
    assert f.samples_uv[0] == 0
    with pytest.raises(ValueError, match="read-only"):
        f.samples_uv[0] = 1
    with pytest.raises(AttributeError):
        f.seq = 3  # type: ignore[misc]
    assert make_frame(samples_uv=np.arange(10, dtype=np.int64)).samples_uv.dtype == np.int32
    assert f != make_frame(samples_uv=s) and f != "frame"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("patient_id", ""),
        ("patient_id", "a" * 65),
        ("patient_id", "with space"),
        ("device_id", "é"),
        ("device_id", "a/b"),
        ("seq", -1),
        ("seq", MAX_SEQ + 1),
        ("seq", 1.5),
        ("seq", True),
        ("stream_id", -1),
        ("t0_ns", -1),
        ("t0_ns", 2**62 + 1),
        ("fs_mhz", 0),
        ("flags", 4),
        ("samples_uv", np.zeros(0, dtype=np.int32)),
        ("samples_uv", np.zeros((2, 2), dtype=np.int32)),
        ("samples_uv", np.zeros(3)),
        ("samples_uv", np.array([2**31], dtype=np.int64)),
        ("samples_uv", np.zeros(65536, dtype=np.int32)),
    ],
)
def test_frame_rejects_invalid_fields(field: str, value: object) -> None:
    with pytest.raises(InvalidParameterError, match=field):
        make_frame(**{field: value})


def test_ids() -> None:
    for ok in ("a", "A-z_0.9:@", "x" * 64, "550e8400-e29b-41d4-a716-446655440000"):
        assert is_valid_id(ok)
    for bad in ("", "x" * 65, "a b", "ä", "a\n", "a/b", None, 5):
        assert not is_valid_id(bad)


def test_helpers() -> None:
    assert fs_to_mhz(130.0) == 130_000 and fs_to_mhz(130.16) == 130_160
    np.testing.assert_array_equal(mv_to_uv([1.0, -0.0004, 0.0006]), [1000, 0, 1])
    assert mv_to_uv([1.0]).dtype == np.int32
    with pytest.raises(InvalidParameterError):
        mv_to_uv([np.nan])
    with pytest.raises(InvalidParameterError):
        mv_to_uv([3e6])
    with pytest.raises(InvalidParameterError):
        fs_to_mhz(float("inf"))


def _header(**kw: int | bytes) -> bytes:
    v: dict[str, int | bytes] = {
        "magic": b"CS",
        "version": 1,
        "flags": 0,
        "stream_id": 1,
        "seq": 2,
        "fs_mhz": 130_000,
        "t0_ns": 0,
        "n": 2,
        "plen": 1,
        "dlen": 1,
    }
    v.update(kw)
    return struct.pack(
        "<2sBBIIIqHBB",
        v["magic"],
        v["version"],
        v["flags"],
        v["stream_id"],
        v["seq"],
        v["fs_mhz"],
        v["t0_ns"],
        v["n"],
        v["plen"],
        v["dlen"],
    )


GOOD = _header() + b"pd" + struct.pack("<2i", 5, -5)
SAMPLES2 = struct.pack("<2i", 5, -5)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("text frame", "not_binary"),
        (12345, "not_binary"),
        (None, "not_binary"),
        (b"", "truncated"),
        (b"C", "truncated"),
        (b"XS", "bad_magic"),
        (b'{"type": "frame"}', "bad_magic"),
        (b"CS\x00", "unsupported_version"),
        (b"CS\x02" + GOOD[3:], "unsupported_version"),
        (GOOD[:27], "truncated"),
        (_header(flags=4) + b"pd" + SAMPLES2, "bad_flags"),
        (_header(flags=0x80) + b"pd" + SAMPLES2, "bad_flags"),
        (_header(plen=0) + b"d" + SAMPLES2, "bad_id"),
        (_header(dlen=65) + b"p" + b"d" * 65 + SAMPLES2, "bad_id"),
        (_header(plen=1) + b" d" + SAMPLES2, "bad_id"),
        (_header(plen=1) + b"\xffd" + SAMPLES2, "bad_id"),
        (_header(plen=10) + b"pd", "truncated"),
        (_header(n=0) + b"pd", "empty_frame"),
        (_header(n=1025) + b"pd" + b"\0" * 4100, "too_many_samples"),
        (_header(n=3) + b"pd" + SAMPLES2, "length_mismatch"),
        (_header(n=1) + b"pd" + SAMPLES2, "length_mismatch"),
        (GOOD + b"\0", "length_mismatch"),
        (GOOD[:-1], "length_mismatch"),
        (_header(fs_mhz=99_999) + b"pd" + SAMPLES2, "fs_out_of_range"),
        (_header(fs_mhz=1_000_001) + b"pd" + SAMPLES2, "fs_out_of_range"),
        (_header(fs_mhz=0) + b"pd" + SAMPLES2, "fs_out_of_range"),
        (_header(t0_ns=-1) + b"pd" + SAMPLES2, "bad_timestamp"),
        (_header(t0_ns=2**62 + 1) + b"pd" + SAMPLES2, "bad_timestamp"),
        (_header() + b"pd" + struct.pack("<2i", 100_001, 0), "value_out_of_range"),
        (_header() + b"pd" + struct.pack("<2i", 0, -(2**31)), "value_out_of_range"),
        (GOOD + b"\0" * 8192, "frame_too_large"),
    ],
)
def test_malformed_inputs(data: object, code: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_frame(data)  # type: ignore[arg-type]
    e = info.value
    assert e.code == code and isinstance(e.code, ErrorCode)
    assert isinstance(e, CardiostreamError) and isinstance(e, ValueError)
    assert f"[{code}]" in str(e) and len(e.detail) > 10
    header_read = isinstance(data, bytes) and len(data) >= HEADER_SIZE and data[:3] == b"CS\x01"
    if header_read and code != "frame_too_large":
        assert (e.seq, e.stream_id) == (2, 1)  # the server can count the frame as a gap
    else:
        assert e.seq is None
    after_ids = {
        "empty_frame",
        "too_many_samples",
        "length_mismatch",
        "fs_out_of_range",
        "bad_timestamp",
        "value_out_of_range",
    }
    assert (e.patient_id, e.device_id) == (("p", "d") if code in after_ids else (None, None))


def test_good_reference_frame_decodes() -> None:
    f = decode_frame(GOOD)
    assert (f.patient_id, f.device_id, f.seq, f.stream_id, f.fs) == ("p", "d", 2, 1, 130.0)
    np.testing.assert_array_equal(f.samples_uv, [5, -5])


def test_limits_boundaries() -> None:
    lim = FrameLimits(max_samples=4, fs_min_hz=100, fs_max_hz=1000, max_abs_uv=10)
    ok = make_frame(samples_uv=np.array([-10, 10, 0, 0]), fs_mhz=100_000)
    assert decode_frame(encode_frame(ok), lim) == ok
    assert decode_frame(
        encode_frame(make_frame(samples_uv=np.ones(4, dtype=np.int32), fs_mhz=1_000_000)), lim
    )
    for frame, code in (
        (make_frame(samples_uv=np.ones(5, dtype=np.int32)), "too_many_samples"),
        (make_frame(samples_uv=np.array([11])), "value_out_of_range"),
        (make_frame(samples_uv=np.array([1]), fs_mhz=99_999), "fs_out_of_range"),
    ):
        with pytest.raises(ProtocolError, match=code):
            encode_frame(frame, lim)  # a device can check before sending
        decode_frame(encode_frame(frame), FrameLimits(fs_min_hz=1, max_abs_uv=10**6))
    small = FrameLimits(max_frame_bytes=40)
    with pytest.raises(ProtocolError, match="frame_too_large"):
        decode_frame(encode_frame(make_frame()), small)


@pytest.mark.parametrize(
    "kw",
    [
        {"max_samples": 0},
        {"max_samples": 70_000},
        {"fs_min_hz": float("nan")},
        {"fs_min_hz": 500, "fs_max_hz": 400},
        {"max_abs_uv": 0},
        {"max_frame_bytes": 10},
    ],
)
def test_limits_validation(kw: dict[str, float]) -> None:
    with pytest.raises(InvalidParameterError):
        FrameLimits(**kw)  # type: ignore[arg-type]


def test_default_limits_admit_every_valid_fs_and_a_full_frame() -> None:
    lim = DEFAULT_LIMITS
    big = make_frame(
        patient_id="p" * 64,
        device_id="d" * 64,
        samples_uv=np.full(1024, -100_000),
        fs_mhz=1_000_000,
    )
    assert len(encode_frame(big)) <= lim.max_frame_bytes
    assert decode_frame(encode_frame(big), lim) == big
    assert (lim.fs_min_mhz, lim.fs_max_mhz) == (100_000, 1_000_000)


def test_error_code_table() -> None:
    for code in ErrorCode:
        assert code.close_code is None or 1000 <= code.close_code <= 4999
        assert code.retry == (code.close_code not in FATAL_CLOSE_CODES)
    assert ErrorCode.VALUE_OUT_OF_RANGE.close_code is None
    assert ErrorCode.BAD_MAGIC.close_code == 1002 and not ErrorCode.BAD_MAGIC.retry
    assert ErrorCode.FRAME_TOO_LARGE.close_code == 1009
    assert ErrorCode.FORBIDDEN.close_code == 1008
    assert ErrorCode.RATE_LIMITED.close_code == 1013 and ErrorCode.RATE_LIMITED.retry
    assert all(len(str(c).encode()) <= 123 for c in ErrorCode)  # fits a close reason


def test_every_error_code_is_documented() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "protocol.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", doc, flags=re.MULTILINE))
    assert {str(c) for c in ErrorCode} <= documented


def test_ack_message() -> None:
    a = Ack(stream_id=3141592653, seq=41)
    assert json.loads(a.to_json()) == {"type": "ack", "stream_id": 3141592653, "seq": 41}
    assert parse_server_message(a.to_json()) == a
    assert parse_server_message(a.to_json().encode()) == a
    with pytest.raises(InvalidParameterError):
        Ack(stream_id=1, seq=-1)


def test_error_message() -> None:
    e = ErrorMessage(ErrorCode.VALUE_OUT_OF_RANGE, "too big", seq=3, stream_id=4)
    obj = json.loads(e.to_json())
    assert obj == {
        "type": "error",
        "code": "value_out_of_range",
        "message": "too big",
        "seq": 3,
        "stream_id": 4,
        "close": False,
    }
    assert parse_server_message(e.to_json()) == e
    fatal = ProtocolError("bad_magic", "nope").to_message()
    assert fatal.close and json.loads(fatal.to_json())["seq"] is None
    assert parse_server_message(fatal.to_json()) == fatal


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        "null",
        '{"type": "hello"}',
        '{"type": "ack", "stream_id": 1}',
        '{"type": "ack", "stream_id": 1, "seq": -1}',
        '{"type": "ack", "stream_id": 1, "seq": 1.5}',
        '{"type": "ack", "stream_id": 1, "seq": true}',
        '{"type": "ack", "stream_id": 1, "seq": 4294967296}',
        '{"type": "error", "code": "no_such_code", "message": ""}',
        '{"type": "error", "code": ["bad_magic"], "message": ""}',
        '{"type": "error", "code": "bad_magic", "message": 5}',
        '{"type": "error", "code": "bad_magic", "seq": "1"}',
        b"\xff\xfe",
        "[" * 100_000,
        "x" * 70_000,
    ],
)
def test_bad_server_messages(text: str | bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_server_message(text)
    assert info.value.code == "bad_message"


def test_protocol_error_pickles() -> None:
    import pickle

    try:
        decode_frame(_header() + b"pd" + struct.pack("<2i", 100_001, 0))
    except ProtocolError as e:
        back = pickle.loads(pickle.dumps(e))
        assert (back.code, back.seq, back.patient_id, str(back)) == (e.code, 2, "p", str(e))
