"""cardiostream: ECG arrhythmia monitoring from the wearable to the cloud."""

from __future__ import annotations

from .errors import (
    CardiostreamError,
    DataNotFoundError,
    InvalidParameterError,
    InvalidSignalError,
    UnknownMethodError,
)
from .types import AAMI_CLASSES, BeatAnnotations, Beats, Record

__version__ = "0.1.0"


def load_default_model():
    """The shipped beat classifier (:func:`cardiostream.classify.load_default_model`)."""
    from .classify import load_default_model as _load

    return _load()


__all__ = [
    "AAMI_CLASSES",
    "BeatAnnotations",
    "Beats",
    "CardiostreamError",
    "DataNotFoundError",
    "InvalidParameterError",
    "InvalidSignalError",
    "Record",
    "UnknownMethodError",
    "__version__",
    "load_default_model",
]
