"""Polar H10 chest-strap recordings exported as CSV (ECGLogger → ``detectPVC_polar_h10.csv``).

Columns: ``time_ns`` (int64 epoch ns per sample), ``ecg_mV``, ``hr_bpm`` (device heart rate, about
once per second) and ``rr_ms`` (device RR intervals), the last two empty on most rows. The example
recording is Broman KW, detectPVC (R package v0.3.2, https://github.com/kbroman/detectPVC, MIT).

The strap samples at a nominal 130 Hz; the true rate (≈130.16 Hz for the example) is the median
rate of the time stamps. No sample is ever dropped or re-timed: irregularities stay visible through
``Record.timestamps_ns`` and :func:`timestamp_gaps`. The example file has one "bad segment" of
about 7 s with wild values (noted by the package author); it is kept, and left to the
signal-quality index to flag.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataNotFoundError, InvalidParameterError, InvalidSignalError, check_param
from ..types import Record
from ._root import dataset_dir

__all__ = [
    "POLAR_H10_FILE",
    "PolarDeviceRR",
    "load_polar_h10",
    "load_polar_h10_device_rr",
    "median_sampling_rate",
    "timestamp_gaps",
]

#: File name of the example recording inside ``<data root>/polar_h10``.
POLAR_H10_FILE = "detectPVC_polar_h10.csv"
_REQUIRED = ("time_ns", "ecg_mV")

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PolarDeviceRR:
    """Heart rate and RR intervals computed by the strap itself (not from our R-peaks).

    Attributes
    ----------
    hr_timestamps_ns, hr_bpm : ndarray (int64), ndarray (float64)
        Time stamp of the sample row that carried each HR value, and the value in beats/min.
    rr_timestamps_ns, rr_ms : ndarray (int64), ndarray (float64)
        Time stamp of the row that carried each RR interval, and the interval in ms. Several
        intervals can arrive in one packet, so successive rows may carry them.
    """

    hr_timestamps_ns: np.ndarray
    hr_bpm: np.ndarray
    rr_timestamps_ns: np.ndarray
    rr_ms: np.ndarray

    def __post_init__(self) -> None:
        for name, dtype in (
            ("hr_timestamps_ns", np.int64),
            ("rr_timestamps_ns", np.int64),
            ("hr_bpm", np.float64),
            ("rr_ms", np.float64),
        ):
            a = np.array(getattr(self, name), dtype=dtype)  # a private, read-only copy
            a.flags.writeable = False
            object.__setattr__(self, name, a)
        if self.hr_bpm.shape != self.hr_timestamps_ns.shape or self.rr_ms.shape != (
            self.rr_timestamps_ns.shape
        ):
            raise InvalidSignalError("PolarDeviceRR values and time stamps must have equal shapes.")


def _csv_path(path: str | os.PathLike[str] | None, data_dir: str | os.PathLike[str] | None) -> Path:
    if path is not None:
        p = Path(path).expanduser()
        if p.is_dir():
            p = p / POLAR_H10_FILE
    else:
        p = dataset_dir("polar_h10", data_dir) / POLAR_H10_FILE
    if not p.is_file():
        raise DataNotFoundError(f"Polar H10 CSV {str(p)!r} not found.")
    return p


def _read(p: Path) -> pd.DataFrame:
    frame = pd.read_csv(p, float_precision="round_trip")
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise InvalidSignalError(
            f"Polar H10 CSV {str(p)!r} must have the columns {_REQUIRED}, but {missing} are "
            f"missing (columns: {list(frame.columns)})."
        )
    if not pd.api.types.is_integer_dtype(frame["time_ns"]):
        raise InvalidSignalError(
            f"Polar H10 CSV {str(p)!r}: 'time_ns' must hold integer nanoseconds, got dtype "
            f"{frame['time_ns'].dtype} instead."
        )
    return frame


def median_sampling_rate(timestamps_ns: np.ndarray) -> float:
    """Sampling rate in Hz from time stamps: 1e9 / median interval (robust to a few gaps)."""
    ts = np.asarray(timestamps_ns, dtype=np.int64)
    if ts.ndim != 1 or ts.size < 2:
        raise InvalidParameterError(
            "The 'timestamps_ns' parameter must be a 1-D array of at least 2 time stamps, got "
            f"shape {ts.shape} instead."
        )
    med = float(np.median(np.diff(ts)))
    if med <= 0:
        raise InvalidSignalError(f"Time stamps do not increase (median interval {med} ns).")
    return 1e9 / med


def timestamp_gaps(timestamps_ns: np.ndarray, fs: float) -> np.ndarray:
    """Find where the time stamps jump by more than two nominal sample periods or go backwards.

    Parameters
    ----------
    timestamps_ns : ndarray of int64, shape (n,)
        Per-sample time stamps in ns.
    fs : float
        Nominal sampling rate in Hz (e.g. :func:`median_sampling_rate`).

    Returns
    -------
    ndarray of int64, shape (k, 2)
        ``[i, i + 1]`` for every pair of consecutive samples whose interval exceeds ``2 / fs`` or
        is not positive; the gap lasts ``timestamps_ns[i + 1] - timestamps_ns[i]`` ns.
    """
    check_param(
        "fs",
        fs,
        isinstance(fs, int | float) and math.isfinite(fs) and fs > 0,
        "a positive sampling rate in Hz",
    )
    ts = np.asarray(timestamps_ns, dtype=np.int64)
    if ts.ndim != 1:
        raise InvalidParameterError(
            f"The 'timestamps_ns' parameter must be 1-D, got shape {ts.shape} instead."
        )
    dt = np.diff(ts)
    idx = np.flatnonzero((dt > 2e9 / fs) | (dt <= 0)).astype(np.int64)
    return np.stack([idx, idx + 1], axis=1)


def load_polar_h10(
    path: str | os.PathLike[str] | None = None, data_dir: str | os.PathLike[str] | None = None
) -> Record:
    """Load a Polar H10 ECG CSV: samples in mV with their true per-sample time stamps.

    Parameters
    ----------
    path : path, optional
        The CSV (or a folder holding :data:`POLAR_H10_FILE`). Default: the example recording in
        ``<data root>/polar_h10``.
    data_dir : path, optional
        Data root, used when ``path`` is not given.

    Returns
    -------
    Record
        One lead ``"ECG"``; ``fs`` is the median rate of the time stamps (not the nominal 130 Hz);
        ``timestamps_ns`` the device stamps. Time-stamp gaps are logged as a warning, never
        removed.
    """
    p = _csv_path(path, data_dir)
    frame = _read(p)
    ts = frame["time_ns"].to_numpy(dtype=np.int64)
    fs = median_sampling_rate(ts)
    gaps = timestamp_gaps(ts, fs)
    if gaps.size:
        worst = float(np.max(np.diff(ts)[gaps[:, 0]])) / 1e9
        log.warning("%s: %d time-stamp gap(s) > 2/fs (longest %.3f s)", p.name, len(gaps), worst)
    return Record(
        signal=frame["ecg_mV"].to_numpy(dtype=np.float64),
        fs=fs,
        leads=("ECG",),
        record_id=p.stem,
        timestamps_ns=ts,
        source=os.fspath(p),
    )


def load_polar_h10_device_rr(
    path: str | os.PathLike[str] | None = None, data_dir: str | os.PathLike[str] | None = None
) -> PolarDeviceRR:
    """The strap's own HR (bpm) and RR (ms) columns, with the time stamps of the rows carrying them.

    Parameters are those of :func:`load_polar_h10`.
    """
    frame = _read(_csv_path(path, data_dir))
    ts = frame["time_ns"].to_numpy(dtype=np.int64)
    out = {}
    for col in ("hr_bpm", "rr_ms"):
        if col not in frame.columns:
            raise InvalidSignalError(f"Polar H10 CSV has no {col!r} column.")
        v = frame[col].to_numpy(dtype=np.float64)
        keep = ~np.isnan(v)
        out[col] = (ts[keep], v[keep])
    return PolarDeviceRR(
        hr_timestamps_ns=out["hr_bpm"][0],
        hr_bpm=out["hr_bpm"][1],
        rr_timestamps_ns=out["rr_ms"][0],
        rr_ms=out["rr_ms"][1],
    )
