"""Typed, frozen records passed between cardiostream stages.

Stages hand these to each other: :class:`Record` (signal in mV) → :class:`BeatAnnotations`
(reference beats) / R-peaks → :class:`Beats` (segmented windows and features).
Arrays are stored read-only so a frozen dataclass really is immutable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import InvalidParameterError, InvalidSignalError

#: AAMI EC57 heartbeat classes, in the order used for label indices everywhere.
AAMI_CLASSES: tuple[str, ...] = ("N", "S", "V", "F", "Q")
#: Label of a beat that was detected but not classified (undefined input, poor signal, abstention).
INCONCLUSIVE = "inconclusive"
#: Every label a beat may carry: the AAMI EC57 classes and :data:`INCONCLUSIVE`.
BEAT_LABELS: tuple[str, ...] = (*AAMI_CLASSES, INCONCLUSIVE)


def _frozen(a: np.ndarray) -> np.ndarray:
    """Return ``a`` as a read-only array, copying it when it is writeable (no caller aliasing)."""
    a = np.asarray(a)
    if a.flags.writeable:
        a = a.copy()
        a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class Record:
    """A multi-lead ECG recording.

    Attributes
    ----------
    signal : ndarray, shape (n_samples, n_leads), float64
        Samples in millivolts. NaN marks samples the source declared missing.
    fs : float
        Sampling rate in Hz (nominal).
    leads : tuple of str
        Lead names, one per column.
    record_id : str
        Identifier of the recording (e.g. ``"100"`` for MIT-BIH record 100).
    timestamps_ns : ndarray of int64, shape (n_samples,), optional
        True per-sample time stamps (epoch ns) when the device provides them (Polar H10).
    source : str
        Where the record came from (path or dataset name).
    """

    signal: np.ndarray
    fs: float
    leads: tuple[str, ...]
    record_id: str
    timestamps_ns: np.ndarray | None = None
    source: str = ""

    def __post_init__(self) -> None:
        sig = np.asarray(self.signal, dtype=np.float64)
        if sig.ndim == 1:
            sig = sig[:, None]
        if sig.ndim != 2 or sig.shape[0] == 0:
            raise InvalidSignalError(
                "Record.signal must be a non-empty array of shape (n_samples, n_leads), "
                f"got shape {np.shape(self.signal)} instead."
            )
        if not (np.isfinite(self.fs) and self.fs > 0):
            raise InvalidParameterError(f"Record.fs must be a positive number, got {self.fs!r}.")
        leads = tuple(str(x) for x in self.leads)
        if len(leads) != sig.shape[1]:
            raise InvalidSignalError(
                f"Record has {sig.shape[1]} signal columns but {len(leads)} lead names {leads}."
            )
        object.__setattr__(self, "signal", _frozen(sig))
        object.__setattr__(self, "leads", leads)
        object.__setattr__(self, "fs", float(self.fs))
        if self.timestamps_ns is not None:
            ts = np.asarray(self.timestamps_ns, dtype=np.int64)
            if ts.shape != (sig.shape[0],):
                raise InvalidSignalError(
                    f"Record.timestamps_ns must have shape ({sig.shape[0]},), got {ts.shape}."
                )
            object.__setattr__(self, "timestamps_ns", _frozen(ts))

    @property
    def n_samples(self) -> int:
        return int(self.signal.shape[0])

    @property
    def n_leads(self) -> int:
        return int(self.signal.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs

    def lead(self, which: int | str = 0) -> np.ndarray:
        """Return one lead as a 1-D array, by index or by name."""
        if isinstance(which, str):
            if which not in self.leads:
                raise InvalidParameterError(
                    f"Lead {which!r} is not in record {self.record_id!r}; leads are {self.leads}."
                )
            return self.signal[:, self.leads.index(which)]
        if not -self.n_leads <= which < self.n_leads:
            raise InvalidParameterError(
                f"Lead index {which} is out of range for record {self.record_id!r} "
                f"with {self.n_leads} leads."
            )
        return self.signal[:, which]


@dataclass(frozen=True, eq=False)
class BeatAnnotations:
    """Reference beat annotations of one record (non-beat symbols already dropped).

    Attributes
    ----------
    samples : ndarray of int64
        Annotated R-peak sample indices, increasing.
    symbols : tuple of str
        Original annotation symbols (e.g. MIT-BIH ``N``, ``V``, ``/``).
    aami : ndarray of str
        AAMI class of each beat, one of :data:`AAMI_CLASSES`.
    fs : float
        Sampling rate the indices refer to.
    record_id : str
    """

    samples: np.ndarray
    symbols: tuple[str, ...]
    aami: np.ndarray
    fs: float
    record_id: str = ""

    def __post_init__(self) -> None:
        s = np.asarray(self.samples, dtype=np.int64)
        a = np.asarray(self.aami, dtype="<U1")
        if s.ndim != 1 or a.shape != s.shape or len(self.symbols) != s.size:
            raise InvalidSignalError(
                "BeatAnnotations.samples, symbols and aami must be 1-D and of equal length, got "
                f"{s.shape}, {len(self.symbols)}, {a.shape}."
            )
        object.__setattr__(self, "samples", _frozen(s))
        object.__setattr__(self, "aami", _frozen(a))
        object.__setattr__(self, "symbols", tuple(self.symbols))

    def __len__(self) -> int:
        return int(self.samples.size)

    def counts(self) -> dict[str, int]:
        """Number of beats per AAMI class (all classes present as keys)."""
        return {c: int(np.sum(self.aami == c)) for c in AAMI_CLASSES}


@dataclass(frozen=True, eq=False)
class Beats:
    """Beats segmented around R-peaks of one or more records.

    Attributes
    ----------
    r_peaks : ndarray of int64, shape (n,)
        R-peak sample index of each beat within its record.
    record_ids : ndarray of str, shape (n,)
        Record each beat belongs to (for patient-wise splits).
    fs : float
        Sampling rate of ``windows`` and ``r_peaks``.
    windows : ndarray, shape (n, window_len)
        Signal around each R-peak (mV, after the stated preprocessing).
    labels : ndarray of str, shape (n,), optional
        AAMI class of each beat when known.
    rr_features : ndarray, shape (n, 9), optional
        The nine RR features of Pramukantoro et al. 2025 (Table 1).
    params : dict
        Parameters that produced the beats (window, preprocessing, detector); used for cache keys
        and saved next to every derived output.
    """

    r_peaks: np.ndarray
    record_ids: np.ndarray
    fs: float
    windows: np.ndarray
    labels: np.ndarray | None = None
    rr_features: np.ndarray | None = None
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        r = np.asarray(self.r_peaks, dtype=np.int64)
        n = r.size
        object.__setattr__(self, "r_peaks", _frozen(r))
        object.__setattr__(self, "record_ids", _frozen(np.asarray(self.record_ids, dtype=str)))
        w = np.asarray(self.windows, dtype=np.float32)
        if w.ndim != 2 or w.shape[0] != n or self.record_ids.shape != (n,):
            raise InvalidSignalError(
                f"Beats arrays disagree: r_peaks {r.shape}, record_ids {self.record_ids.shape}, "
                f"windows {w.shape}; expected (n,), (n,), (n, window_len)."
            )
        object.__setattr__(self, "windows", _frozen(w))
        if self.labels is not None:
            lab = np.asarray(self.labels, dtype="<U1")
            if lab.shape != (n,):
                raise InvalidSignalError(f"Beats.labels must have shape ({n},), got {lab.shape}.")
            object.__setattr__(self, "labels", _frozen(lab))
        if self.rr_features is not None:
            rr = np.asarray(self.rr_features, dtype=np.float32)
            if rr.shape != (n, 9):
                raise InvalidSignalError(
                    f"Beats.rr_features must have shape ({n}, 9), got {rr.shape}."
                )
            object.__setattr__(self, "rr_features", _frozen(rr))

    def __len__(self) -> int:
        return int(self.r_peaks.size)
