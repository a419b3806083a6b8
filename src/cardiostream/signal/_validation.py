"""Input checks shared by the signal steps: every problem becomes a :class:`CardiostreamError`."""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidSignalError, check_param

#: Sampling rates accepted by every step, in Hz (ECG devices use roughly 50 Hz to 10 kHz).
FS_RANGE: tuple[float, float] = (1.0, 20_000.0)


def as_signal(x: object, name: str = "x", *, min_len: int = 1) -> np.ndarray:
    """Return ``x`` as a 1-D float64 array of finite values (lists accepted).

    Parameters
    ----------
    x : array_like
        The samples.
    name : str
        Parameter name used in error messages.
    min_len : int
        Fewest samples accepted (0 allows an empty chunk).

    Raises
    ------
    InvalidSignalError
        When ``x`` is not 1-D real numbers, is too short, or holds NaN/inf (the message names the
        index of the first bad sample).
    """
    try:
        a = np.asarray(x)
    except (ValueError, TypeError) as e:  # ragged nested sequences
        raise InvalidSignalError(
            f"The {name!r} signal must be a 1-D sequence of numbers, got {type(x).__name__} "
            f"that numpy cannot read as an array ({e})."
        ) from None
    if a.dtype.kind not in "biuf":
        raise InvalidSignalError(
            f"The {name!r} signal must hold real numbers, got dtype {a.dtype} instead."
        )
    if a.ndim != 1:
        raise InvalidSignalError(
            f"The {name!r} signal must be 1-D, got shape {a.shape} instead "
            "(pass one lead, e.g. record.lead(0))."
        )
    if a.size < min_len:
        raise InvalidSignalError(
            f"The {name!r} signal must have at least {min_len} samples, got {a.size} instead."
        )
    a = a.astype(np.float64, copy=False)
    finite = np.isfinite(a)
    if not finite.all():
        i = int(np.argmin(finite))
        raise InvalidSignalError(
            f"The {name!r} signal must be finite, got {a[i]!r} at sample {i} instead."
        )
    return a


def check_fs(fs: object, name: str = "fs") -> float:
    """Return ``fs`` as a float after checking it is a sampling rate within :data:`FS_RANGE`."""
    lo, hi = FS_RANGE
    ok = _is_real(fs) and lo <= float(fs) <= hi  # type: ignore[arg-type]
    check_param(name, fs, ok, f"a sampling rate in Hz between {lo:g} and {hi:g}")
    return float(fs)  # type: ignore[arg-type]


def check_int(name: str, value: object, lo: int, hi: int | None = None) -> int:
    """Return ``value`` as an int after checking ``lo <= value (<= hi)``; bools are rejected."""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
    ok = ok and value >= lo and (hi is None or value <= hi)  # type: ignore[operator]
    expected = f"an integer >= {lo}" if hi is None else f"an integer from {lo} to {hi}"
    check_param(name, value, ok, expected)
    return int(value)  # type: ignore[arg-type]


def check_float(
    name: str, value: object, lo: float, hi: float, *, lo_open: bool = True, hi_open: bool = True
) -> float:
    """Return ``value`` as a float after checking it lies in the interval from ``lo`` to ``hi``."""
    ok = _is_real(value)
    if ok:
        v = float(value)  # type: ignore[arg-type]
        ok = (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    left, right = ("(" if lo_open else "["), (")" if hi_open else "]")
    check_param(name, value, ok, f"a number in {left}{lo:g}, {hi:g}{right}")
    return float(value)  # type: ignore[arg-type]


def _is_real(value: object) -> bool:
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, int | float | np.integer | np.floating
    ):
        return False
    return isinstance(value, int | np.integer) or math.isfinite(float(value))  # type: ignore[arg-type]
