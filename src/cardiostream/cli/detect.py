"""``cardiostream detect``: R-peaks of one recording, printed as a summary and saved as CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console

from ..analyze import load_input
from ..detect import StreamingDetector, detect_rpeaks
from ..errors import CardiostreamError
from ..signal import fill_missing
from ..types import Record
from ._options import (
    DEFAULT_DETECTOR,
    FsOption,
    LeadOption,
    MethodOption,
    fail,
    parse_lead,
)


def _streamed(x: np.ndarray, fs: float, method: str, chunk: int) -> np.ndarray:
    det = StreamingDetector(fs, method)
    out = [det.push(x[i : i + chunk]) for i in range(0, x.size, chunk)]
    out.append(det.flush())
    return np.concatenate(out)


def write_peaks_csv(path: Path, peaks: np.ndarray, fs: float, record: Record) -> None:
    """CSV with ``sample`` and ``time_s`` (and ``timestamp_ns`` when the record has them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ts = record.timestamps_ns
    with path.open("w", encoding="utf-8") as f:
        f.write("sample,time_s" + (",timestamp_ns" if ts is not None else "") + "\n")
        for p in peaks.tolist():
            row = f"{p},{p / fs:.6f}"
            f.write(row + (f",{int(ts[p])}" if ts is not None else "") + "\n")


def detect(
    path: Annotated[
        Path, typer.Argument(help="WFDB record (with or without .hea/.dat) or CSV file.")
    ],
    fs: FsOption = None,
    lead: LeadOption = "0",
    method: MethodOption = DEFAULT_DETECTOR,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="CSV file for the peaks (sample, time_s[, timestamp_ns])."),
    ] = None,
    stream: Annotated[
        int,
        typer.Option(
            "--stream",
            help="Feed the detector in chunks of this many samples (StreamingDetector) instead "
            "of one call; 0 = offline. The peaks are identical.",
            min=0,
        ),
    ] = 0,
) -> None:
    """Detect R-peaks in one lead of a recording; print the count and heart rate."""
    console = Console()
    try:
        record = load_input(path, fs).record
        x, filled = fill_missing(record.lead(parse_lead(lead)))
        peaks = (
            _streamed(x, record.fs, method, stream)
            if stream
            else detect_rpeaks(x, record.fs, method)
        )
    except CardiostreamError as e:
        fail(str(e))
        return
    which = parse_lead(lead)
    lead_name = record.leads[which] if isinstance(which, int) else which
    console.print(
        f"[bold]{record.record_id}[/bold]: {record.duration_s:.1f} s at {record.fs:g} Hz, "
        f"lead {lead_name}, method {method}"
        + (f", streamed in {stream}-sample chunks" if stream else ""),
        highlight=False,
    )
    if filled:
        console.print(f"{filled} non-finite samples were linearly interpolated.", highlight=False)
    console.print(f"R-peaks: {peaks.size}", highlight=False)
    if peaks.size >= 2:
        rr = np.diff(peaks) / record.fs
        console.print(
            f"Heart rate: mean {60.0 / rr.mean():.1f} bpm (median RR {1000 * np.median(rr):.0f} "
            f"ms, {rr.size} intervals)",
            highlight=False,
        )
    else:
        console.print("Heart rate: n/a (fewer than two R-peaks)", highlight=False)
    if out is not None:
        write_peaks_csv(out, peaks, record.fs, record)
        console.print(f"Peaks written to {out}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``detect`` to ``app``."""
    app.command("detect")(detect)
