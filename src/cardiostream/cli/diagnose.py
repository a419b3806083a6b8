"""``cardiostream diagnose``: superdiagnostic and rhythm findings of a 12- or 1-lead record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..errors import CardiostreamError
from ._options import FsOption, fail


def diagnose_command(
    record: Annotated[Path, typer.Argument(help="WFDB record (12 leads, or one lead) or CSV.")],
    run: Annotated[
        list[Path] | None,
        typer.Option("--run", help="Diagnosis run(s) to apply (default: the shipped models)."),
    ] = None,
    lead_as: Annotated[
        str | None,
        typer.Option(
            "--lead-as",
            help="Treat a single unnamed lead as this lead (I or II), e.g. a chest strap.",
        ),
    ] = None,
    fs: FsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Diagnose RECORD with the shipped PTB-XL models (or --run): probabilities per class.

    A record holding all 12 standard leads gets the 12-lead models; a record with lead I or II
    (or one lead given --lead-as) gets the distilled single-lead students.
    """
    from ..analyze import load_input
    from ..diagnosis import Diagnoser
    from ..diagnosis.shipped import select_runs

    try:
        rec = load_input(record, fs=fs).record
        if lead_as is not None:
            rec = _rename_single_lead(rec, lead_as)
        runs = list(run) if run else select_runs(rec.leads)
        results = [Diagnoser.from_run(r).diagnose(rec) for r in runs]
    except CardiostreamError as e:
        fail(str(e))
        return
    if as_json:
        out = [
            {
                "record": d.record_id,
                "task": d.task,
                "model": d.model,
                "leads": list(d.leads),
                "findings": [
                    {
                        "label": f.label,
                        "probability": round(f.probability, 4),
                        "threshold": round(f.threshold, 4),
                        "positive": f.positive,
                    }
                    for f in d.findings
                ],
            }
            for d in results
        ]
        typer.echo(json.dumps(out, indent=2))
        return
    from ..diagnosis.shipped import describe

    console = Console()
    for d in results:
        t = Table(
            title=f"{d.record_id}: PTB-XL {d.task} — {d.model} on lead(s) {', '.join(d.leads)}"
        )
        for col in ("finding", "meaning", "probability", "threshold", ""):
            t.add_column(col)
        for f in sorted(d.findings, key=lambda f: -f.probability):
            t.add_row(
                f.label,
                describe(f.label),
                f"{f.probability:.3f}",
                f"{f.threshold:.3f}",
                "[bold red]POSITIVE[/bold red]" if f.positive else "",
            )
        console.print(t)
    console.print(
        "Decision support only: thresholds were tuned on PTB-XL fold 9; see the model cards.",
        style="dim",
    )


def _rename_single_lead(rec, lead: str):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from ..errors import InvalidParameterError

    if rec.signal.shape[1] != 1 or lead.upper() not in ("I", "II"):
        raise InvalidParameterError(
            f"The '--lead-as' option needs a single-lead record and lead I or II, got "
            f"{rec.signal.shape[1]} leads and {lead!r}."
        )
    return replace(rec, leads=(lead.upper(),))


def register(app: typer.Typer) -> None:
    """Add ``diagnose`` to ``app``."""
    app.command("diagnose")(diagnose_command)
