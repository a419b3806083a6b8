"""Read an ECG stored as CSV into a :class:`~cardiostream.types.Record`.

Accepted layouts (delimiter ``,``, ``;`` or tab; lines starting with ``#`` are ignored):

1. **Header with a time column** — a column named ``time``, ``time_s`` or ``t`` (seconds),
   ``time_ms`` (milliseconds) or ``time_ns`` (integer nanoseconds, e.g. epoch ns); every other
   column is a lead named by its header. ``fs`` defaults to 1 / median sample interval, and the
   time stamps are kept as ``Record.timestamps_ns``.
2. **Header without a time column** — every column is a lead; ``fs`` must be given.
3. **No header** (the first line is numeric) — columns are leads ``ch0``, ``ch1`` ...; ``fs``
   must be given.

Values are taken as millivolts. Empty cells become NaN (missing samples); any other non-numeric
cell is an error naming its column and line.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataNotFoundError, InvalidParameterError, InvalidSignalError, check_param
from ..types import Record

__all__ = ["CSV_TIME_COLUMNS", "load_csv_record"]

#: Recognised time-column names (case-insensitive) → factor to nanoseconds.
CSV_TIME_COLUMNS: dict[str, float] = {
    "time": 1e9,
    "time_s": 1e9,
    "t": 1e9,
    "time_ms": 1e6,
    "time_ns": 1.0,
}


def _first_data_line(path: Path) -> str:
    with path.open("r", encoding="utf-8-sig") as f:
        for line in f:
            if line.strip() and not line.lstrip().startswith("#"):
                return line.rstrip("\r\n")
    raise InvalidSignalError(f"CSV file {str(path)!r} has no data lines.")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numeric(frame: pd.DataFrame, path: Path, header_lines: int) -> pd.DataFrame:
    """Convert every column to numbers; raise on a non-numeric cell (empty cells become NaN)."""
    out = {}
    for col in frame.columns:
        raw = frame[col]
        if pd.api.types.is_numeric_dtype(raw):
            out[col] = raw
            continue
        text = raw.astype(str).str.strip()
        num = pd.to_numeric(text, errors="coerce")
        bad = num.isna() & raw.notna() & (text != "")
        if not bad.any():
            out[col] = num.astype(np.float64)
            continue
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InvalidSignalError(
            f"CSV file {str(path)!r}: column {col!r} must be numeric, got {raw.iloc[i]!r} on data "
            f"row {i + 1} (after {header_lines} header line(s)) instead."
        )
    return pd.DataFrame(out)


def load_csv_record(
    path: str | os.PathLike[str],
    fs: float | None = None,
    *,
    columns: Sequence[str] | None = None,
) -> Record:
    """Load an ECG from a CSV file (layouts in the module docstring).

    Parameters
    ----------
    path : path
        The CSV file.
    fs : float, optional
        Sampling rate in Hz. Required when there is no time column; when given together with a
        time column it overrides the rate estimated from the time stamps (which are still kept).
    columns : sequence of str, optional
        Lead columns to keep, by header name (default: every non-time column).

    Returns
    -------
    Record
        ``record_id`` is the file stem, ``source`` the path.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise DataNotFoundError(
            f"The 'path' parameter must be an existing CSV file, got {str(p)!r}."
        )
    if fs is not None:
        check_param(
            "fs",
            fs,
            isinstance(fs, int | float) and math.isfinite(fs) and fs > 0,
            "a positive sampling rate in Hz",
        )
    first = _first_data_line(p)
    sep = next((d for d in (",", ";", "\t") if d in first), ",")
    has_header = not all(_is_number(x.strip()) for x in first.split(sep) if x.strip())
    frame = pd.read_csv(
        p,
        sep=sep,
        header=0 if has_header else None,
        comment="#",
        skipinitialspace=True,
        float_precision="round_trip",
    )
    if frame.shape[0] == 0:
        raise InvalidSignalError(f"CSV file {str(p)!r} has a header but no data rows.")
    if not has_header:
        frame.columns = [f"ch{i}" for i in range(frame.shape[1])]
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = _numeric(frame, p, int(has_header))

    time_col = next((c for c in frame.columns if c.lower() in CSV_TIME_COLUMNS), None)
    leads = [c for c in frame.columns if c != time_col]
    if columns is not None:
        wanted = [str(c) for c in columns]
        unknown = [c for c in wanted if c not in leads]
        check_param(
            "columns",
            list(columns),
            bool(wanted) and not unknown,
            f"a non-empty list of lead columns from {leads}",
        )
        leads = wanted
    if not leads:
        raise InvalidSignalError(f"CSV file {str(p)!r} has no signal column besides {time_col!r}.")

    timestamps = None
    if time_col is not None:
        raw_t = frame[time_col]
        if raw_t.isna().any():
            raise InvalidSignalError(
                f"CSV file {str(p)!r}: time column {time_col!r} has empty cells."
            )
        factor = CSV_TIME_COLUMNS[time_col.lower()]
        if factor == 1.0:  # integer ns: exact differences
            timestamps = raw_t.to_numpy().astype(np.int64)
            dt = np.diff(timestamps).astype(np.float64)
        else:  # seconds or ms: estimate the rate before rounding to ns
            t = raw_t.to_numpy(dtype=np.float64) * factor
            timestamps = np.round(t).astype(np.int64)
            dt = np.diff(t)
        if np.any(dt <= 0):
            i = int(np.flatnonzero(dt <= 0)[0])
            raise InvalidSignalError(
                f"CSV file {str(p)!r}: time column {time_col!r} must increase strictly, but data "
                f"row {i + 2} is not after row {i + 1}."
            )
        if fs is None:
            if dt.size == 0:
                raise InvalidParameterError(
                    "The 'fs' parameter must be given for a one-row CSV, got None instead."
                )
            fs = 1e9 / float(np.median(dt))
    elif fs is None:
        raise InvalidParameterError(
            f"The 'fs' parameter must be given (sampling rate in Hz) because {str(p)!r} has no "
            f"time column (one of {sorted(CSV_TIME_COLUMNS)}), got None instead."
        )
    signal = frame[leads].to_numpy(dtype=np.float64)
    return Record(
        signal=signal,
        fs=float(fs),
        leads=tuple(leads),
        record_id=p.stem,
        timestamps_ns=timestamps,
        source=os.fspath(p),
    )
