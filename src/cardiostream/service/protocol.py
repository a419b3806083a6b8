"""Device wire protocol v1: binary ECG frames, JSON acks and errors, sequence tracking.

A device (or a gateway such as a phone relaying a Polar H10) opens one WebSocket per session and
sends one *binary* message per frame; the server answers with *text* messages (JSON acks and
errors). The frame mirrors a Polar H10 PMD ECG notification (73 samples at 130 Hz, about 0.56 s;
Polar "Measurement Data Specification for 3rd party" / polar-ble-sdk) with the identity, sequence
number and clock that a multi-patient service needs. Layout (little-endian, 28-byte header)::

    off  size  type     field
      0     2  bytes    magic  b"CS"
      2     1  uint8    version (1)
      3     1  uint8    flags  (bit 0 RETRANSMIT, bit 1 LEAD_OFF, others must be 0)
      4     4  uint32   stream_id (device-chosen; seq restarts at 0 with a new stream)
      8     4  uint32   seq (frame number within the stream, from 0, never wraps)
     12     4  uint32   fs_mhz (sampling rate in millihertz: 130 Hz = 130000)
     16     8  int64    t0_ns (device clock time of the first sample, ns)
     24     2  uint16   n_samples
     26     1  uint8    patient_id length P (1..64)
     27     1  uint8    device_id length D (1..64)
     28     P  ascii    patient_id
   28+P     D  ascii    device_id
 28+P+D  4 n  int32    samples in microvolts

The full specification (limits, acks, errors, close codes, sequence and gap rules) is
``docs/protocol.md``; RFC 6455 defines the WebSocket close codes used here.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections import deque
from dataclasses import dataclass
from enum import IntFlag, StrEnum
from typing import Any, Generic, TypeVar

import numpy as np

from ..errors import CardiostreamError, InvalidParameterError, check_param

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_INTERNAL_ERROR",
    "CLOSE_INVALID_PAYLOAD",
    "CLOSE_MESSAGE_TOO_BIG",
    "CLOSE_NORMAL",
    "CLOSE_POLICY_VIOLATION",
    "CLOSE_PROTOCOL_ERROR",
    "CLOSE_TRY_AGAIN_LATER",
    "CLOSE_UNSUPPORTED_DATA",
    "DEFAULT_LIMITS",
    "FATAL_CLOSE_CODES",
    "HEADER_SIZE",
    "ID_MAX_BYTES",
    "MAGIC",
    "MAX_SEQ",
    "MAX_T0_NS",
    "VERSION",
    "Ack",
    "Delivery",
    "ErrorCode",
    "ErrorMessage",
    "Frame",
    "FrameFlags",
    "FrameLimits",
    "Gap",
    "ProtocolError",
    "SeqResult",
    "SeqStatus",
    "SequenceTracker",
    "decode_frame",
    "encode_frame",
    "frame_nbytes",
    "fs_to_mhz",
    "is_valid_id",
    "mv_to_uv",
    "parse_server_message",
]

MAGIC = b"CS"
VERSION = 1
_HEADER = struct.Struct("<2sBBIIIqHBB")
HEADER_SIZE = _HEADER.size  # 28
ID_MAX_BYTES = 64
MAX_SEQ = 2**32 - 1
MAX_T0_NS = 2**62  # about year 2116 in epoch ns; keeps t0 + duration far from int64 overflow
_MAX_WIRE_SAMPLES = 2**16 - 1
_ID_RE = re.compile(rb"[A-Za-z0-9._:@-]{1,64}")
_SAMPLE_DTYPE = np.dtype("<i4")
_INT32 = np.iinfo(np.int32)

# WebSocket close codes (RFC 6455 section 7.4.1; 1013 from the IANA registry).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_INVALID_PAYLOAD = 1007
CLOSE_POLICY_VIOLATION = 1008
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013
#: After these the device must not reconnect on its own: resending would fail the same way.
FATAL_CLOSE_CODES = frozenset(
    {
        CLOSE_PROTOCOL_ERROR,
        CLOSE_UNSUPPORTED_DATA,
        CLOSE_INVALID_PAYLOAD,
        CLOSE_POLICY_VIOLATION,
        CLOSE_MESSAGE_TOO_BIG,
    }
)


class FrameFlags(IntFlag):
    """Bits of the header's ``flags`` byte; the other bits are reserved and must be 0."""

    NONE = 0
    RETRANSMIT = 1  # the frame is being sent again after a reconnect (informational)
    LEAD_OFF = 2  # the device reports lost electrode contact during this frame


_KNOWN_FLAGS = int(FrameFlags.RETRANSMIT | FrameFlags.LEAD_OFF)


class ErrorCode(StrEnum):
    """Machine-readable error codes: ``ProtocolError.code``, error messages and close reasons.

    :attr:`close_code` is the WebSocket close code the server closes with, or ``None`` when the
    server only answers with an error message and keeps the connection (the frame is rejected
    and its sequence number counts as a gap, so acks move on).
    """

    NOT_BINARY = "not_binary"
    FRAME_TOO_LARGE = "frame_too_large"
    BAD_MAGIC = "bad_magic"
    UNSUPPORTED_VERSION = "unsupported_version"
    TRUNCATED = "truncated"
    LENGTH_MISMATCH = "length_mismatch"
    BAD_FLAGS = "bad_flags"
    BAD_ID = "bad_id"
    EMPTY_FRAME = "empty_frame"
    TOO_MANY_SAMPLES = "too_many_samples"
    FS_OUT_OF_RANGE = "fs_out_of_range"
    BAD_TIMESTAMP = "bad_timestamp"
    VALUE_OUT_OF_RANGE = "value_out_of_range"
    SEQ_TOO_OLD = "seq_too_old"
    BAD_MESSAGE = "bad_message"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    OVERLOADED = "overloaded"
    INTERNAL_ERROR = "internal_error"
    SHUTTING_DOWN = "shutting_down"

    @property
    def close_code(self) -> int | None:
        """WebSocket close code for this error, ``None`` when the connection stays open."""
        return _CLOSE_CODE[self]

    @property
    def retry(self) -> bool:
        """Whether a device may reconnect (with backoff) and resend after this error."""
        c = self.close_code
        return c is None or c not in FATAL_CLOSE_CODES


_CODE_VALUES = frozenset(c.value for c in ErrorCode)
_CLOSE_CODE: dict[ErrorCode, int | None] = {
    ErrorCode.NOT_BINARY: CLOSE_UNSUPPORTED_DATA,
    ErrorCode.FRAME_TOO_LARGE: CLOSE_MESSAGE_TOO_BIG,
    ErrorCode.BAD_MAGIC: CLOSE_PROTOCOL_ERROR,
    ErrorCode.UNSUPPORTED_VERSION: CLOSE_PROTOCOL_ERROR,
    ErrorCode.TRUNCATED: CLOSE_PROTOCOL_ERROR,
    ErrorCode.LENGTH_MISMATCH: CLOSE_PROTOCOL_ERROR,
    ErrorCode.BAD_FLAGS: CLOSE_PROTOCOL_ERROR,
    ErrorCode.BAD_ID: CLOSE_INVALID_PAYLOAD,
    ErrorCode.EMPTY_FRAME: CLOSE_INVALID_PAYLOAD,
    ErrorCode.TOO_MANY_SAMPLES: CLOSE_INVALID_PAYLOAD,
    ErrorCode.FS_OUT_OF_RANGE: CLOSE_INVALID_PAYLOAD,
    ErrorCode.BAD_TIMESTAMP: CLOSE_INVALID_PAYLOAD,
    ErrorCode.VALUE_OUT_OF_RANGE: None,
    ErrorCode.SEQ_TOO_OLD: None,
    ErrorCode.BAD_MESSAGE: CLOSE_UNSUPPORTED_DATA,
    ErrorCode.UNAUTHORIZED: CLOSE_POLICY_VIOLATION,
    ErrorCode.FORBIDDEN: CLOSE_POLICY_VIOLATION,
    ErrorCode.RATE_LIMITED: CLOSE_TRY_AGAIN_LATER,
    ErrorCode.OVERLOADED: CLOSE_TRY_AGAIN_LATER,
    ErrorCode.INTERNAL_ERROR: CLOSE_INTERNAL_ERROR,
    ErrorCode.SHUTTING_DOWN: CLOSE_GOING_AWAY,
}


class ProtocolError(CardiostreamError):
    """A malformed frame or message; ``code`` is an :class:`ErrorCode`.

    Attributes
    ----------
    code : ErrorCode
        What is wrong, for the close reason or the error message.
    seq, stream_id : int or None
        Sequence number and stream of the offending frame when its header could be read
        (the server needs them to count a rejected frame as a gap).
    patient_id, device_id : str or None
        The frame's ids when they were read and valid.
    """

    def __init__(
        self,
        code: ErrorCode | str,
        message: str,
        *,
        seq: int | None = None,
        stream_id: int | None = None,
        patient_id: str | None = None,
        device_id: str | None = None,
    ) -> None:
        super().__init__(f"[{ErrorCode(code)}] {message}")
        self.code = ErrorCode(code)
        self.detail = message
        self.seq = seq
        self.stream_id = stream_id
        self.patient_id = patient_id
        self.device_id = device_id

    def __reduce__(self) -> tuple[Any, ...]:  # picklable despite the keyword arguments
        return (ProtocolError, (self.code, self.detail), self.__dict__.copy())

    @property
    def close_code(self) -> int | None:
        return self.code.close_code

    def to_message(self) -> ErrorMessage:
        """The error message the server sends for this error."""
        return ErrorMessage(self.code, self.detail, seq=self.seq, stream_id=self.stream_id)


@dataclass(frozen=True)
class FrameLimits:
    """What a server accepts; every violation is a :class:`ProtocolError`.

    Attributes
    ----------
    max_samples : int
        Most samples in one frame (1024: 1 s at 1000 Hz, 7.9 s at 130 Hz; a Polar H10 frame
        has 73).
    fs_min_hz, fs_max_hz : float
        Accepted sampling rates (100 to 1000 Hz).
    max_abs_uv : int
        Largest accepted ``|sample|`` in µV (100 mV; surface ECG is a few mV and common
        front ends saturate well below, so larger values are corrupt data).
    max_frame_bytes : int
        Largest accepted message; checked before anything else is parsed.
    """

    max_samples: int = 1024
    fs_min_hz: float = 100.0
    fs_max_hz: float = 1000.0
    max_abs_uv: int = 100_000
    max_frame_bytes: int = 8192

    def __post_init__(self) -> None:
        check_param(
            "max_samples",
            self.max_samples,
            isinstance(self.max_samples, int) and 1 <= self.max_samples <= _MAX_WIRE_SAMPLES,
            f"an int between 1 and {_MAX_WIRE_SAMPLES}",
        )
        for name in ("fs_min_hz", "fs_max_hz"):
            v = getattr(self, name)
            check_param(
                name,
                v,
                isinstance(v, int | float) and math.isfinite(v) and 0.001 <= v <= 4.29e6,
                "a finite rate in Hz between 0.001 and 4.29e6 (the uint32 mHz range)",
            )
        check_param(
            "fs_max_hz", self.fs_max_hz, self.fs_max_hz >= self.fs_min_hz, "at least fs_min_hz"
        )
        check_param(
            "max_abs_uv",
            self.max_abs_uv,
            isinstance(self.max_abs_uv, int) and 1 <= self.max_abs_uv <= _INT32.max,
            "a positive int that fits int32",
        )
        smallest = HEADER_SIZE + 2 + 4  # one-byte ids, one sample
        check_param(
            "max_frame_bytes",
            self.max_frame_bytes,
            isinstance(self.max_frame_bytes, int) and self.max_frame_bytes >= smallest,
            f"an int of at least {smallest} (the smallest valid frame)",
        )

    @property
    def fs_min_mhz(self) -> int:
        return math.ceil(self.fs_min_hz * 1000 - 1e-6)

    @property
    def fs_max_mhz(self) -> int:
        return math.floor(self.fs_max_hz * 1000 + 1e-6)


DEFAULT_LIMITS = FrameLimits()


def is_valid_id(value: object) -> bool:
    """Whether ``value`` is a valid patient or device id: 1-64 chars of ``A-Za-z0-9._:@-``."""
    return (
        isinstance(value, str) and value.isascii() and _ID_RE.fullmatch(value.encode()) is not None
    )


def fs_to_mhz(fs_hz: float) -> int:
    """Sampling rate in Hz → the header's integer millihertz (130.16 Hz → 130160)."""
    check_param(
        "fs_hz",
        fs_hz,
        isinstance(fs_hz, int | float) and math.isfinite(fs_hz) and 0.0005 <= fs_hz <= 4.29e6,
        "a finite positive rate in Hz that fits uint32 millihertz",
    )
    return round(fs_hz * 1000)


def mv_to_uv(x_mv: object) -> np.ndarray:
    """Millivolts → int32 microvolts (rounded); non-finite or out-of-int32 values raise."""
    x = np.asarray(x_mv, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise InvalidParameterError("mv_to_uv needs finite samples; fill missing ones first.")
    uv = np.rint(x * 1000.0)
    if uv.size and (uv.min() < _INT32.min or uv.max() > _INT32.max):
        raise InvalidParameterError("mv_to_uv: a sample does not fit int32 microvolts.")
    return uv.astype(np.int32)


def _check_uint(name: str, v: object, hi: int, lo: int = 0) -> None:
    ok = isinstance(v, int | np.integer) and not isinstance(v, bool) and lo <= v <= hi
    if not ok:  # the message is only built when needed (this runs per frame)
        check_param(name, v, False, f"an int between {lo} and {hi}")


@dataclass(frozen=True, eq=False)
class Frame:
    """One device frame: consecutive samples of one lead with identity, sequence and clock.

    Attributes
    ----------
    patient_id, device_id : str
        1-64 characters of ``A-Za-z0-9._:@-`` (see :func:`is_valid_id`).
    seq : int
        Frame number within the stream, 0 to 2**32 - 1, +1 per frame produced.
    t0_ns : int
        Device-clock time of the first sample in ns (0 to 2**62; epoch ns for real devices).
    fs_mhz : int
        Sampling rate in millihertz (:func:`fs_to_mhz`); :attr:`fs` is it in Hz.
    samples_uv : ndarray of int32, read-only
        1 to 65535 samples in µV (:attr:`samples_mv` converts).
    stream_id : int
        Device-chosen id of the run of sequence numbers (new after a reboot), uint32.
    flags : FrameFlags
        ``RETRANSMIT`` and/or ``LEAD_OFF``.
    """

    patient_id: str
    device_id: str
    seq: int
    t0_ns: int
    fs_mhz: int
    samples_uv: np.ndarray
    stream_id: int = 0
    flags: FrameFlags = FrameFlags.NONE

    def __post_init__(self) -> None:
        for name in ("patient_id", "device_id"):
            v = getattr(self, name)
            check_param(name, v, is_valid_id(v), "1-64 characters of A-Z a-z 0-9 . _ : @ -")
        _check_uint("seq", self.seq, MAX_SEQ)
        _check_uint("stream_id", self.stream_id, MAX_SEQ)
        _check_uint("t0_ns", self.t0_ns, MAX_T0_NS)
        _check_uint("fs_mhz", self.fs_mhz, MAX_SEQ, lo=1)
        _check_uint("flags", int(self.flags), _KNOWN_FLAGS)
        s = np.asarray(self.samples_uv)
        if not (
            s.ndim == 1 and 1 <= s.size <= _MAX_WIRE_SAMPLES and np.issubdtype(s.dtype, np.integer)
        ):
            check_param(
                "samples_uv",
                f"array of dtype {s.dtype} and shape {s.shape}",
                False,
                f"a 1-D integer array of 1 to {_MAX_WIRE_SAMPLES} samples",
            )
        if s.dtype != np.int32:
            check_param(
                "samples_uv",
                "values outside int32",
                int(s.min()) >= _INT32.min and int(s.max()) <= _INT32.max,
                "values that fit int32",
            )
            s = s.astype(np.int32)
        if s.flags.writeable:
            s = s.copy()
            s.flags.writeable = False
        for name in ("seq", "stream_id", "t0_ns", "fs_mhz"):
            object.__setattr__(self, name, int(getattr(self, name)))
        object.__setattr__(self, "flags", FrameFlags(int(self.flags)))
        object.__setattr__(self, "samples_uv", s)

    @classmethod
    def _trusted(
        cls,
        patient_id: str,
        device_id: str,
        seq: int,
        t0_ns: int,
        fs_mhz: int,
        samples_uv: np.ndarray,
        stream_id: int,
        flags: int,
    ) -> Frame:
        """Build a frame from fields :func:`decode_frame` has already validated (no checks)."""
        f = object.__new__(cls)
        for name, value in (
            ("patient_id", patient_id),
            ("device_id", device_id),
            ("seq", seq),
            ("t0_ns", t0_ns),
            ("fs_mhz", fs_mhz),
            ("samples_uv", samples_uv),
            ("stream_id", stream_id),
            ("flags", FrameFlags(flags)),
        ):
            object.__setattr__(f, name, value)
        return f

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return self.header_tuple() == other.header_tuple() and np.array_equal(
            self.samples_uv, other.samples_uv
        )

    __hash__ = None  # type: ignore[assignment]

    def header_tuple(self) -> tuple[str, str, int, int, int, int, int]:
        """Every field but the samples, for comparisons and logging."""
        return (
            self.patient_id,
            self.device_id,
            self.stream_id,
            self.seq,
            self.t0_ns,
            self.fs_mhz,
            int(self.flags),
        )

    @property
    def fs(self) -> float:
        """Sampling rate in Hz."""
        return self.fs_mhz / 1000.0

    @property
    def n_samples(self) -> int:
        return int(self.samples_uv.size)

    @property
    def samples_mv(self) -> np.ndarray:
        """The samples in millivolts (a new float64 array)."""
        return self.samples_uv.astype(np.float64) / 1000.0

    @property
    def duration_ns(self) -> int:
        """Nominal span covered: ``n_samples / fs`` in ns (rounded)."""
        return round(self.n_samples * 1e12 / self.fs_mhz)

    @property
    def t_end_ns(self) -> int:
        """Nominal time of the sample after the last one: where the next frame should start."""
        return self.t0_ns + self.duration_ns

    def sample_times_ns(self) -> np.ndarray:
        """Nominal device time of every sample (int64 ns), ``t0_ns + i / fs``."""
        return self.t0_ns + np.rint(np.arange(self.n_samples) * (1e12 / self.fs_mhz)).astype(
            np.int64
        )


def frame_nbytes(frame: Frame) -> int:
    """Size of the encoded frame in bytes."""
    return HEADER_SIZE + len(frame.patient_id) + len(frame.device_id) + 4 * frame.n_samples


def encode_frame(frame: Frame, limits: FrameLimits | None = None) -> bytes:
    """Serialise ``frame`` (layout in the module docstring and ``docs/protocol.md``).

    Parameters
    ----------
    frame : Frame
    limits : FrameLimits, optional
        When given, raise the :class:`ProtocolError` a server with these limits would raise,
        so a device can refuse to send what would be rejected.
    """
    pid = frame.patient_id.encode("ascii")
    did = frame.device_id.encode("ascii")
    header = _HEADER.pack(
        MAGIC,
        VERSION,
        int(frame.flags),
        frame.stream_id,
        frame.seq,
        frame.fs_mhz,
        frame.t0_ns,
        frame.n_samples,
        len(pid),
        len(did),
    )
    data = b"".join(
        (header, pid, did, frame.samples_uv.astype(_SAMPLE_DTYPE, copy=False).tobytes())
    )
    if limits is not None:
        decode_frame(data, limits)
    return data


def decode_frame(
    data: bytes | bytearray | memoryview, limits: FrameLimits = DEFAULT_LIMITS
) -> Frame:
    """Parse and validate one binary message.

    Parameters
    ----------
    data : bytes-like
        The WebSocket message. A ``str`` (a text message) is ``not_binary``.
    limits : FrameLimits
        Size, rate and value limits.

    Returns
    -------
    Frame
        With ``samples_uv`` a read-only int32 array (a view of ``data`` when it is ``bytes``).

    Raises
    ------
    ProtocolError
        For any malformed input, and only that. Checks run cheapest first: type, size, magic,
        version, header length, flags, ids, sample count, payload length, fs, t0, values.
    """
    if isinstance(data, memoryview | bytearray):
        data = bytes(data)
    elif not isinstance(data, bytes):
        raise ProtocolError(
            ErrorCode.NOT_BINARY, f"a frame must be a binary message, got {type(data).__name__}"
        )
    n = len(data)
    if n > limits.max_frame_bytes:
        raise ProtocolError(
            ErrorCode.FRAME_TOO_LARGE, f"{n} bytes exceeds the limit of {limits.max_frame_bytes}"
        )
    if n >= 2 and data[:2] != MAGIC:
        raise ProtocolError(ErrorCode.BAD_MAGIC, f"magic must be {MAGIC!r}, got {data[:2]!r}")
    if n >= 3 and data[2] != VERSION:
        raise ProtocolError(
            ErrorCode.UNSUPPORTED_VERSION,
            f"protocol version {data[2]} is not supported (this server speaks {VERSION})",
        )
    if n < HEADER_SIZE:
        raise ProtocolError(
            ErrorCode.TRUNCATED, f"{n} bytes is shorter than the {HEADER_SIZE}-byte header"
        )
    _, _, flags, stream_id, seq, fs_mhz, t0_ns, n_samples, pid_len, did_len = _HEADER.unpack_from(
        data
    )

    ids: dict[str, str] = {}

    def fail(code: ErrorCode, message: str) -> ProtocolError:
        return ProtocolError(code, message, seq=seq, stream_id=stream_id, **ids)

    if flags & ~_KNOWN_FLAGS:
        raise fail(ErrorCode.BAD_FLAGS, f"reserved flag bits set (flags=0x{flags:02x})")
    if not (1 <= pid_len <= ID_MAX_BYTES and 1 <= did_len <= ID_MAX_BYTES):
        raise fail(
            ErrorCode.BAD_ID,
            f"id lengths must be 1 to {ID_MAX_BYTES} bytes, got patient {pid_len}, "
            f"device {did_len}",
        )
    ids_end = HEADER_SIZE + pid_len + did_len
    if n < ids_end:
        raise fail(ErrorCode.TRUNCATED, f"{n} bytes ends inside the ids (need {ids_end})")
    pid = data[HEADER_SIZE : HEADER_SIZE + pid_len]
    did = data[HEADER_SIZE + pid_len : ids_end]
    if _ID_RE.fullmatch(pid) is None or _ID_RE.fullmatch(did) is None:
        raise fail(
            ErrorCode.BAD_ID,
            f"ids must be 1-{ID_MAX_BYTES} chars of A-Za-z0-9._:@-, got {pid!r} and {did!r}",
        )
    ids["patient_id"] = pid.decode("ascii")
    ids["device_id"] = did.decode("ascii")
    if n_samples == 0:
        raise fail(ErrorCode.EMPTY_FRAME, "a frame must carry at least one sample")
    if n_samples > limits.max_samples:
        raise fail(
            ErrorCode.TOO_MANY_SAMPLES,
            f"{n_samples} samples exceeds the limit of {limits.max_samples} per frame",
        )
    if n - ids_end != 4 * n_samples:
        raise fail(
            ErrorCode.LENGTH_MISMATCH,
            f"header declares {n_samples} samples ({4 * n_samples} bytes) but "
            f"{n - ids_end} bytes follow the ids",
        )
    if not limits.fs_min_mhz <= fs_mhz <= limits.fs_max_mhz:
        raise fail(
            ErrorCode.FS_OUT_OF_RANGE,
            f"fs {fs_mhz / 1000:g} Hz is outside {limits.fs_min_hz:g}-{limits.fs_max_hz:g} Hz",
        )
    if not 0 <= t0_ns <= MAX_T0_NS:
        raise fail(ErrorCode.BAD_TIMESTAMP, f"t0_ns {t0_ns} is outside 0..2**62")
    samples = np.frombuffer(data, dtype=_SAMPLE_DTYPE, count=n_samples, offset=ids_end)
    lo, hi = int(samples.min()), int(samples.max())
    if lo < -limits.max_abs_uv or hi > limits.max_abs_uv:
        raise fail(
            ErrorCode.VALUE_OUT_OF_RANGE,
            f"samples span {lo}..{hi} µV, beyond ±{limits.max_abs_uv} µV",
        )
    if samples.dtype != np.int32:  # big-endian host: convert to native order
        samples = samples.astype(np.int32)
        samples.flags.writeable = False
    # Every field is validated above (the fuzz tests check that Frame() accepts them all).
    return Frame._trusted(
        ids["patient_id"], ids["device_id"], seq, t0_ns, fs_mhz, samples, stream_id, flags
    )


# --------------------------------------------------------------------------- server messages


@dataclass(frozen=True)
class Ack:
    """Cumulative acknowledgement (server → device, JSON text message).

    ``{"type": "ack", "stream_id": 7, "seq": 41}``: every frame of the stream with
    ``seq <= 41`` is stored or settled as a gap; the device may drop them from its resend
    buffer. ``seq`` never decreases within a stream.
    """

    stream_id: int
    seq: int

    def __post_init__(self) -> None:
        _check_uint("stream_id", self.stream_id, MAX_SEQ)
        _check_uint("seq", self.seq, MAX_SEQ)

    def to_json(self) -> str:
        return json.dumps({"type": "ack", "stream_id": self.stream_id, "seq": self.seq})


@dataclass(frozen=True)
class ErrorMessage:
    """An error report (server → device, JSON text message).

    ``{"type": "error", "code": "value_out_of_range", "message": "...", "seq": 12,
    "stream_id": 7, "close": false}``. ``close`` tells whether the server closes the
    connection next (with ``code.close_code`` and the code as the close reason).
    """

    code: ErrorCode
    message: str
    seq: int | None = None
    stream_id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", ErrorCode(self.code))
        check_param("message", self.message, isinstance(self.message, str), "a string")
        for name in ("seq", "stream_id"):
            v = getattr(self, name)
            if v is not None:
                _check_uint(name, v, MAX_SEQ)

    @property
    def close(self) -> bool:
        return self.code.close_code is not None

    def to_json(self) -> str:
        return json.dumps(
            {
                "type": "error",
                "code": str(self.code),
                "message": self.message,
                "seq": self.seq,
                "stream_id": self.stream_id,
                "close": self.close,
            }
        )


def _bad(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.BAD_MESSAGE, message)


def _get_uint(obj: dict[str, Any], key: str, optional: bool = False) -> int | None:
    v = obj.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_SEQ:
        raise _bad(f"{key!r} must be an integer between 0 and {MAX_SEQ}, got {v!r}")
    return v


def parse_server_message(text: str | bytes) -> Ack | ErrorMessage:
    """Parse a server text message (what a device client receives).

    Raises
    ------
    ProtocolError
        ``bad_message`` for anything but a well-formed ack or error message.
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise _bad(f"not UTF-8: {e}") from None
    if not isinstance(text, str) or len(text) > 65536:
        raise _bad("a server message must be a JSON text of at most 64 KiB")
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise _bad(f"not JSON: {e}") from None
    if not isinstance(obj, dict):
        raise _bad(f"expected a JSON object, got {type(obj).__name__}")
    kind = obj.get("type")
    if kind == "ack":
        return Ack(stream_id=_get_uint(obj, "stream_id"), seq=_get_uint(obj, "seq"))  # type: ignore[arg-type]
    if kind == "error":
        code, message = obj.get("code"), obj.get("message", "")
        if not (isinstance(code, str) and code in _CODE_VALUES and isinstance(message, str)):
            raise _bad(f"unknown error code {code!r} or non-string message")
        return ErrorMessage(
            ErrorCode(code),
            message,
            seq=_get_uint(obj, "seq", optional=True),
            stream_id=_get_uint(obj, "stream_id", optional=True),
        )
    raise _bad(f"unknown message type {kind!r}")


# --------------------------------------------------------------------------- sequence tracking

T = TypeVar("T")


class SeqStatus(StrEnum):
    """How :meth:`SequenceTracker.push` classified an incoming sequence number."""

    NEXT = "next"  # the expected one: delivered now (with any held successors)
    GAP = "gap"  # ahead of the expected one: held in the reorder window, or gaps declared
    FILL = "fill"  # a late frame that fills a hole still open in the reorder window
    DUPLICATE = "duplicate"  # already delivered, held or rejected: ignore, re-ack
    TOO_OLD = "too_old"  # its slot was already declared a gap: rejected, re-ack


@dataclass(frozen=True)
class Delivery(Generic[T]):
    """Frame ``seq`` goes to the pipeline now (deliveries come in increasing ``seq`` order)."""

    seq: int
    item: T


@dataclass(frozen=True)
class Gap:
    """Frames ``first`` to ``last`` (inclusive) will never be delivered.

    ``reason`` is ``"missing"`` (not received within the reorder window or hold time) or
    ``"rejected"`` (received but invalid, see :meth:`SequenceTracker.reject`).
    """

    first: int
    last: int
    reason: str = "missing"

    @property
    def n_frames(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class SeqResult(Generic[T]):
    """Outcome of one :meth:`SequenceTracker.push`.

    Attributes
    ----------
    status : SeqStatus
    released : tuple of Delivery and Gap
        In sequence order: what the pipeline must process now (gaps reset its filters).
    ack : int
        The cumulative ack after this push (-1 while nothing is settled).
    """

    status: SeqStatus
    released: tuple[Delivery[T] | Gap, ...] = ()
    ack: int = -1

    @property
    def deliveries(self) -> tuple[Delivery[T], ...]:
        return tuple(e for e in self.released if isinstance(e, Delivery))

    @property
    def gaps(self) -> tuple[Gap, ...]:
        return tuple(e for e in self.released if isinstance(e, Gap))


_REJECTED = object()


@dataclass
class _Held:
    item: object
    arrived: float | None


class SequenceTracker(Generic[T]):
    """Per-stream reorder buffer: in-order delivery, duplicates, gaps, bounded memory.

    Frames are released to the pipeline strictly in sequence order. A frame ahead of the
    expected one waits in a reorder window so that a late (retransmitted or reordered) frame
    can still fill the hole; a hole is declared a :class:`Gap` when a frame arrives more than
    ``window`` sequence numbers past it, or when a held frame has waited ``max_hold_s``
    (checked when ``now`` is given). A frame whose slot is already a gap is ``too_old``.

    Parameters
    ----------
    window : int
        Most frames held ahead of a hole (0: every hole is a gap at once). Memory is
        ``O(window + gap_memory)``.
    max_hold_s : float or None
        Longest a frame is held, in the caller's clock (``now`` arguments, e.g.
        ``time.monotonic()``); ``None`` disables the time limit.
    next_seq : int
        The sequence number expected first (0 for a new stream; the stored ack + 1 when a
        restarted server resumes a stream).
    gap_memory : int
        How many recent gap ranges are remembered to tell ``too_old`` from ``duplicate``
        (older late frames count as duplicates; both are ignored and re-acked).

    Notes
    -----
    The ack (:attr:`ack`) is cumulative: every ``seq <= ack`` has been delivered or declared
    a gap. Held frames are not acked, so a device resends them after a reconnect and they
    then count as duplicates.
    """

    def __init__(
        self,
        window: int = 16,
        max_hold_s: float | None = 1.0,
        *,
        next_seq: int = 0,
        gap_memory: int = 64,
    ) -> None:
        _check_uint("window", window, 65536)
        check_param(
            "max_hold_s",
            max_hold_s,
            max_hold_s is None
            or (
                isinstance(max_hold_s, int | float)
                and math.isfinite(max_hold_s)
                and max_hold_s >= 0
            ),
            "None or a non-negative number of seconds",
        )
        _check_uint("next_seq", next_seq, MAX_SEQ + 1)
        _check_uint("gap_memory", gap_memory, 1_000_000)
        self.window = int(window)
        self.max_hold_s = None if max_hold_s is None else float(max_hold_s)
        self._next = int(next_seq)
        self._held: dict[int, _Held] = {}
        self._gaps: deque[Gap] = deque(maxlen=int(gap_memory))
        self.n_delivered = 0
        self.n_duplicate = 0
        self.n_too_old = 0
        self.n_missing = 0
        self.n_rejected = 0

    def __repr__(self) -> str:
        return (
            f"SequenceTracker(ack={self.ack}, held={len(self._held)}, window={self.window}, "
            f"max_hold_s={self.max_hold_s})"
        )

    @property
    def ack(self) -> int:
        """Highest ``seq`` such that every frame up to it is delivered or a gap (-1: none)."""
        return self._next - 1

    @property
    def next_seq(self) -> int:
        return self._next

    @property
    def held(self) -> tuple[int, ...]:
        """Sequence numbers waiting in the reorder window, increasing."""
        return tuple(sorted(self._held))

    def push(self, seq: int, item: T, now: float | None = None) -> SeqResult[T]:
        """Classify frame ``seq`` carrying ``item`` and release what can go to the pipeline."""
        return self._push(seq, item, now)

    def reject(self, seq: int, now: float | None = None) -> SeqResult[T]:
        """Record that frame ``seq`` arrived but was invalid: its slot becomes a one-frame
        ``"rejected"`` gap (in order, like a delivery), so the ack can move past it."""
        return self._push(seq, _REJECTED, now)

    def expire(self, now: float) -> tuple[Delivery[T] | Gap, ...]:
        """Declare gaps for holes blocking a frame held since ``now - max_hold_s`` or earlier.

        Call it periodically (e.g. every 100 ms) so that frames are not held while the device
        is silent.
        """
        if self.max_hold_s is None or not self._held:
            return ()
        deadline = now - self.max_hold_s
        expired = [
            s for s, h in self._held.items() if h.arrived is not None and h.arrived <= deadline
        ]
        if not expired:
            return ()
        out: list[Delivery[T] | Gap] = []
        self._settle_through(max(expired), out)
        return tuple(out)

    def flush(self) -> tuple[Delivery[T] | Gap, ...]:
        """Release every held frame, declaring all holes below them gaps (end of a stream)."""
        out: list[Delivery[T] | Gap] = []
        if self._held:
            self._settle_through(max(self._held), out)
        return tuple(out)

    # -- internals

    def _push(self, seq: int, item: object, now: float | None) -> SeqResult[T]:
        _check_uint("seq", seq, MAX_SEQ)
        out: list[Delivery[T] | Gap] = []
        if seq < self._next:
            status = SeqStatus.TOO_OLD if self._in_missing_gap(seq) else SeqStatus.DUPLICATE
            if status is SeqStatus.TOO_OLD:
                self.n_too_old += 1
            else:
                self.n_duplicate += 1
        elif seq in self._held:
            status = SeqStatus.DUPLICATE
            self.n_duplicate += 1
        elif seq == self._next:
            status = SeqStatus.FILL if self._held else SeqStatus.NEXT
            self._release(seq, item, out)
            self._next = seq + 1
            self._drain(out)
        else:
            status = SeqStatus.FILL if seq < max(self._held, default=-1) else SeqStatus.GAP
            limit = seq - self.window  # everything below it must be settled first
            if limit > self._next:
                self._settle_through(limit - 1, out)
            if seq == self._next:
                self._release(seq, item, out)
                self._next = seq + 1
                self._drain(out)
            else:
                self._held[seq] = _Held(item, now)
        if now is not None:
            out.extend(self.expire(now))
        return SeqResult(status, tuple(out), self.ack)

    def _release(self, seq: int, item: object, out: list[Delivery[T] | Gap]) -> None:
        if item is _REJECTED:
            self.n_rejected += 1
            self._gap(seq, seq, "rejected", out)
        else:
            self.n_delivered += 1
            out.append(Delivery(seq, item))  # type: ignore[arg-type]

    def _gap(self, first: int, last: int, reason: str, out: list[Delivery[T] | Gap]) -> None:
        prev = out[-1] if out else None
        if isinstance(prev, Gap) and prev.reason == reason and prev.last == first - 1:
            g = Gap(prev.first, last, reason)  # merge adjacent gaps of one reason
            out[-1] = g
            if self._gaps and self._gaps[-1] == prev:
                self._gaps[-1] = g
            else:
                self._gaps.append(g)
        else:
            g = Gap(first, last, reason)
            out.append(g)
            self._gaps.append(g)

    def _drain(self, out: list[Delivery[T] | Gap]) -> None:
        """Release held frames that are now contiguous with the delivered ones."""
        while self._next in self._held:
            h = self._held.pop(self._next)
            self._release(self._next, h.item, out)
            self._next += 1

    def _settle_through(self, last: int, out: list[Delivery[T] | Gap]) -> None:
        """Settle every slot up to ``last``: held frames are released, holes become gaps."""
        for s in sorted(k for k in self._held if k <= last):
            if s > self._next:
                self.n_missing += s - self._next
                self._gap(self._next, s - 1, "missing", out)
            self._release(s, self._held.pop(s).item, out)
            self._next = s + 1
        if last >= self._next:
            self.n_missing += last - self._next + 1
            self._gap(self._next, last, "missing", out)
            self._next = last + 1
        self._drain(out)

    def _in_missing_gap(self, seq: int) -> bool:
        return any(g.reason == "missing" and g.first <= seq <= g.last for g in self._gaps)
