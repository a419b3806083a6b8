"""Record-level inputs: lead selection, standardisation, random crops and sliding windows.

As in the PTB-XL benchmark (Strodthoff et al. 2021) every training epoch draws one random
2.5 s crop of each training record, and a record is scored on 2.5 s windows with a 1.25 s
stride (seven windows of a 10 s record) whose outputs are aggregated. Signals are standardised
per lead with the mean and standard deviation of the training records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidParameterError, InvalidSignalError, check_param
from .config import PTBXL_LEADS

__all__ = [
    "LeadNormalizer",
    "lead_indices",
    "random_crops",
    "sliding_windows",
    "window_starts",
]


def lead_indices(leads: Sequence[str], available: Sequence[str] = PTBXL_LEADS) -> np.ndarray:
    """Column indices of ``leads`` in ``available`` (case-insensitive lead names)."""
    avail = [str(x).upper() for x in available]
    missing = [x for x in leads if str(x).upper() not in avail]
    if missing:
        raise InvalidSignalError(
            f"The record must contain leads {list(leads)}; it has {list(available)} "
            f"(missing {missing})."
        )
    return np.array([avail.index(str(x).upper()) for x in leads], dtype=np.int64)


@dataclass(frozen=True)
class LeadNormalizer:
    """Per-lead standardisation ``(x - mean) / std`` with statistics of the training records.

    Attributes
    ----------
    mean, std : tuple of float
        One value per input lead (mV).
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __post_init__(self) -> None:
        mean = tuple(float(v) for v in self.mean)
        std = tuple(float(v) for v in self.std)
        ok = len(mean) == len(std) >= 1 and all(np.isfinite(mean)) and all(s > 0 for s in std)
        check_param("std", self.std, ok, "positive values, one per lead, as many as 'mean'")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    @classmethod
    def fit(cls, signals: np.ndarray) -> LeadNormalizer:
        """Statistics of ``signals`` ``(n, samples, leads)`` over records and samples."""
        x = np.asarray(signals, dtype=np.float64)
        if x.ndim != 3 or x.shape[0] == 0:
            raise InvalidSignalError(
                f"The 'signals' parameter must have shape (n, samples, leads), got {x.shape}."
            )
        mean = x.mean(axis=(0, 1))
        std = x.std(axis=(0, 1))
        return cls(tuple(mean), tuple(np.maximum(std, 1e-6)))

    def __call__(self, signals: np.ndarray) -> np.ndarray:
        """Standardised float32 copy of ``signals`` ``(..., samples, leads)``."""
        x = np.asarray(signals, dtype=np.float32)
        if x.shape[-1] != len(self.mean):
            raise InvalidSignalError(
                f"The signal must have {len(self.mean)} leads in its last axis, got {x.shape}."
            )
        return (x - np.float32(self.mean)) / np.float32(self.std)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LeadNormalizer:
        return cls(tuple(data["mean"]), tuple(data["std"]))


def window_starts(n_samples: int, window: int, stride: int) -> np.ndarray:
    """Start indices of windows of ``window`` samples every ``stride`` samples.

    The last window is aligned to the end of the signal so every sample is covered; a signal
    shorter than one window raises :class:`InvalidSignalError`.
    """
    for name, v in (("window", window), ("stride", stride)):
        check_param(name, v, isinstance(v, int | np.integer) and v >= 1, "a positive integer")
    if n_samples < window:
        raise InvalidSignalError(
            f"The signal must be at least one window long ({window} samples), got {n_samples}."
        )
    starts = list(range(0, n_samples - window + 1, stride))
    if starts[-1] != n_samples - window:
        starts.append(n_samples - window)
    return np.asarray(starts, dtype=np.int64)


def sliding_windows(signals: np.ndarray, window: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows of records ``(n, samples, leads)`` as model inputs ``(n * w, leads, window)``.

    Returns
    -------
    (windows, record_index)
        float32 windows (channels first) and, for each, the row of its record.
    """
    x = np.asarray(signals, dtype=np.float32)
    if x.ndim != 3:
        raise InvalidSignalError(
            f"The 'signals' parameter must have shape (n, samples, leads), got {x.shape}."
        )
    starts = window_starts(x.shape[1], window, stride)
    idx = starts[:, None] + np.arange(window)[None, :]  # (w, window)
    out = x[:, idx, :]  # (n, w, window, leads)
    out = np.ascontiguousarray(out.transpose(0, 1, 3, 2)).reshape(-1, x.shape[2], window)
    return out, np.repeat(np.arange(x.shape[0]), len(starts))


def random_crops(signals: np.ndarray, window: int, rng: np.random.Generator) -> np.ndarray:
    """One random crop of ``window`` samples per record, as ``(n, leads, window)`` float32."""
    x = np.asarray(signals, dtype=np.float32)
    if x.ndim != 3 or x.shape[1] < window:
        raise InvalidSignalError(
            f"The 'signals' parameter must have shape (n, samples >= {window}, leads), got "
            f"{x.shape}."
        )
    if not isinstance(rng, np.random.Generator):
        raise InvalidParameterError(f"The 'rng' parameter must be a numpy Generator, got {rng!r}.")
    starts = rng.integers(0, x.shape[1] - window + 1, size=x.shape[0])
    idx = starts[:, None] + np.arange(window)[None, :]
    out = np.take_along_axis(x, idx[:, :, None], axis=1)  # (n, window, leads)
    return np.ascontiguousarray(out.transpose(0, 2, 1))
