"""Read any WFDB record into a :class:`~cardiostream.types.Record` (signals in physical units).

``wfdb.rdrecord`` decodes every storage format the datasets use — 212 (MIT-BIH as PhysioNet ships
it), 16 (PTB-XL as PhysioNet ships it) and 516 (FLAC, the copies in ``../shared/data``) — into the
same digital samples and converts them with the header's gain and baseline, so the arrays do not
depend on the encoding (tested by re-encoding records with ``wfdb.wrsamp``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import wfdb

from ..errors import DataNotFoundError, InvalidSignalError
from ..types import Record

__all__ = ["load_wfdb_record", "wfdb_record_path"]

#: Factors that bring a channel in these units to millivolts; other units are kept as they are.
_TO_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "v": 1e3}


def wfdb_record_path(path: str | os.PathLike[str]) -> Path:
    """Normalise a record path: accept ``name``, ``name.hea`` or ``name.dat``; check the header.

    Raises
    ------
    DataNotFoundError
        When ``<path>.hea`` does not exist.
    """
    p = Path(path).expanduser()
    if p.suffix in {".hea", ".dat"}:
        p = p.with_suffix("")
    header = p.with_name(p.name + ".hea")
    if not header.is_file():
        raise DataNotFoundError(
            f"The 'path' parameter must name a WFDB record (a '<name>.hea' header must exist), "
            f"got {os.fspath(path)!r} instead: {str(header)!r} not found."
        )
    return p


def load_wfdb_record(path: str | os.PathLike[str], *, record_id: str | None = None) -> Record:
    """Load a single-segment WFDB record with all its channels in physical units.

    Parameters
    ----------
    path : path
        Record path without extension (``.../mitdb/100``); a ``.hea``/``.dat`` suffix is allowed.
    record_id : str, optional
        Identifier to store; defaults to the record name from the header.

    Returns
    -------
    Record
        ``signal`` (n_samples, n_leads) float64 in the header's units (mV for ECG databases),
        ``fs`` from the header, ``leads`` = the header's signal names. Channels in µV or V are
        scaled to mV; other units are kept. Samples WFDB marks invalid are NaN.
    """
    p = wfdb_record_path(path)
    try:
        rec = wfdb.rdrecord(os.fspath(p), physical=True)
    except (ValueError, OSError, IndexError) as e:
        raise InvalidSignalError(f"WFDB record {str(p)!r} could not be read: {e}") from e
    if not isinstance(rec, wfdb.Record) or rec.p_signal is None or rec.p_signal.size == 0:
        raise InvalidSignalError(
            f"WFDB record {str(p)!r} has no single-segment signal data (multi-segment records "
            "are not supported)."
        )
    scale = np.array([_TO_MV.get(str(u).strip().lower(), 1.0) for u in rec.units or []])
    signal = rec.p_signal if np.all(scale == 1.0) else rec.p_signal * scale
    return Record(
        signal=signal,
        fs=float(rec.fs),
        leads=tuple(rec.sig_name),
        record_id=record_id if record_id is not None else str(rec.record_name),
        source=os.fspath(p),
    )
