"""Exceptions raised by cardiostream.

Every input problem is a :class:`CardiostreamError`, a :class:`ValueError` subclass whose message
names the offending parameter, what was expected and what was received.
"""

from __future__ import annotations


class CardiostreamError(ValueError):
    """Base class for invalid input given to cardiostream."""


class InvalidSignalError(CardiostreamError):
    """A signal array has the wrong shape, dtype, length or non-finite values."""


class InvalidParameterError(CardiostreamError):
    """A parameter is outside its valid range or of the wrong type."""


class UnknownMethodError(CardiostreamError):
    """A ``method=`` name is not in its registry; the message lists the valid names."""


class DataNotFoundError(CardiostreamError, FileNotFoundError):
    """A dataset, record or file is not where it was looked for."""


def check_param(name: str, value: object, ok: bool, expected: str) -> None:
    """Raise :class:`InvalidParameterError` in the house style when ``ok`` is false.

    The message reads: ``The 'name' parameter must be <expected>, got <value!r> instead.``
    """
    if not ok:
        raise InvalidParameterError(
            f"The {name!r} parameter must be {expected}, got {value!r} instead."
        )
