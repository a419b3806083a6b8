"""``cardiostream analyze``: heart rate, beats, signal quality and a strip plot of one recording."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..analyze import AnalysisResult, analyze_record, default_input, load_input, write_outputs
from ..classify import BeatClassifier, load_default_model
from ..errors import CardiostreamError
from ._options import (
    DEFAULT_DETECTOR,
    FsOption,
    LeadOption,
    MethodOption,
    fail,
    parse_lead,
)


def analyze(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="WFDB record (with or without .hea/.dat) or CSV file. Omit with --default.",
            show_default=False,
        ),
    ] = None,
    default: Annotated[
        bool,
        typer.Option(
            "--default",
            help="Analyse the embedded default: MIT-BIH record 100 from the data directory when "
            "present, otherwise a synthetic ECG from cardiostream.synth.",
        ),
    ] = False,
    fs: FsOption = None,
    lead: LeadOption = "0",
    method: MethodOption = DEFAULT_DETECTOR,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Data root (for --default); else $CARDIOSTREAM_DATA."),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Directory for the PNG plot and the JSON summary.")
    ] = Path("out/analyze"),
    classify: Annotated[
        bool,
        typer.Option(
            "--classify/--no-classify",
            help="Label every beat N/S/V with the shipped model (needs torch).",
        ),
    ] = True,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Run directory of another beat model to label beats with."),
    ] = None,
) -> None:
    """Detect R-peaks, label beats, assess signal quality and summarise heart rate."""
    if default == (path is not None):
        fail("Give either PATH or --default (exactly one of them).")
    console = Console()
    try:
        given = default_input(data_dir) if default else load_input(path, fs=fs)  # type: ignore[arg-type]
        console.print(f"[bold]Input:[/bold] {given.description}", highlight=False)
        classifier = None
        if model is not None:
            classifier = BeatClassifier.from_run(model)
        elif classify:
            classifier = load_default_model()
        result = analyze_record(
            given.record,
            lead=parse_lead(lead),
            method=method,
            reference=given.reference,
            reference_description=given.reference_description,
            input_description=given.description,
            classifier=classifier,
        )
        png, js = write_outputs(result, given.record, out)
    except CardiostreamError as e:
        fail(str(e))
        return
    console.print(_summary_table(result))
    console.print(f"Plot:    {png}", highlight=False)
    console.print(f"Summary: {js}", highlight=False)


def _pct(v: float) -> str:
    return "n/a" if math.isnan(v) else f"{100 * v:.2f} %"


def _summary_table(r: AnalysisResult) -> Table:
    t = Table(
        title=f"cardiostream analyze — {r.record_id}", show_header=False, title_justify="left"
    )
    t.add_column(style="bold")
    t.add_column()
    t.add_row("source", r.source)
    t.add_row("duration", f"{r.duration_s:.1f} s ({r.duration_s / 60:.1f} min)")
    t.add_row("sampling rate", f"{r.fs:g} Hz, lead {r.lead}")
    t.add_row("detector", f"{r.method} (plot preprocessing: {r.preprocess})")
    t.add_row("beats", f"{r.n_beats} detected, {int(r.beat_usable.sum())} usable")
    hr = r.heart_rate
    if hr is None:
        t.add_row("heart rate", "n/a (fewer than two usable RR intervals)")
    else:
        t.add_row(
            "heart rate",
            f"mean {hr.mean_bpm:.1f} bpm, min {hr.min_bpm:.1f}, "
            f"max {hr.max_bpm:.1f} (5-beat median)",
        )
        t.add_row(
            "RR variability",
            f"SDNN {hr.sdnn_ms:.1f} ms, RMSSD {hr.rmssd_ms:.1f} ms "
            f"({hr.n_intervals} usable intervals)",
        )
    q = r.quality
    reasons = ", ".join(f"{k} {100 * v:.1f} %" for k, v in r.reason_fractions().items()) or "none"
    t.add_row(
        "quality",
        f"{100 * r.fraction_unusable:.1f} % unusable "
        f"({int((~q.segment_usable).sum())} of {q.segment_flags.size} "
        f"{q.params.segment_s:g}-s segments)",
    )
    t.add_row("unusable because", reasons)
    if r.beats is not None:
        counts = ", ".join(f"{k} {v}" for k, v in r.beats.counts().items())
        t.add_row("beat classes", f"{counts} ({r.classifier})")
    if r.label_agreement is not None:
        a = r.label_agreement
        t.add_row(
            "vs reference labels",
            f"accuracy {_pct(a['accuracy'])} on {a['n_conclusive']} conclusive of "
            f"{a['n_modelled']} matched N/S/V beats",
        )
    if r.reference is not None:
        s = r.reference
        t.add_row(
            "vs reference",
            f"Se {_pct(s.se)}, +P {_pct(s.ppv)} (TP {s.tp}, FP {s.fp}, "
            f"FN {s.fn}; {s.reference}, {1000 * s.window_s:.0f} ms window)",
        )
    return t


def register(app: typer.Typer) -> None:
    """Add ``analyze`` to ``app``."""
    app.command("analyze")(analyze)
