"""Registry of R-peak detection methods: name → :class:`DetectorCore` factory."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import UnknownMethodError
from ._stream import DetectorCore

_REGISTRY: dict[str, Callable[[float], DetectorCore]] = {}


def register_detector(
    name: str,
) -> Callable[[Callable[[float], DetectorCore]], Callable[[float], DetectorCore]]:
    """Class decorator adding a detector core under ``name``."""

    def deco(factory: Callable[[float], DetectorCore]) -> Callable[[float], DetectorCore]:
        _REGISTRY[name] = factory
        return factory

    return deco


def list_detectors() -> tuple[str, ...]:
    """Names accepted by ``method=``, sorted."""
    return tuple(sorted(_REGISTRY))


def create_core(method: str, fs: float) -> DetectorCore:
    """Instantiate the core of ``method`` at ``fs`` or raise :class:`UnknownMethodError`."""
    if not isinstance(method, str) or method not in _REGISTRY:
        raise UnknownMethodError(
            f"The 'method' parameter must be one of {list(list_detectors())}, got {method!r} "
            "instead."
        )
    return _REGISTRY[method](fs)
