"""Options and helpers shared by the sub-commands that read one recording."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from rich.console import Console

from ..detect import DEFAULT_METHOD, list_detectors

FsOption = Annotated[
    float | None,
    typer.Option("--fs", help="Sampling rate in Hz (CSV files without a time column)."),
]
LeadOption = Annotated[str, typer.Option("--lead", help="Lead index or name.")]
MethodOption = Annotated[
    str, typer.Option("--method", help=f"R-peak detector: {', '.join(list_detectors())}.")
]
DEFAULT_DETECTOR = DEFAULT_METHOD


def parse_lead(text: str) -> int | str:
    """``"0"`` → 0 (an index), anything else is a lead name."""
    return int(text) if text.lstrip("-").isdigit() else text


def fail(message: str) -> NoReturn:
    """Print ``message`` as an error on stderr and exit with status 1."""
    Console(stderr=True).print(f"[red]Error:[/red] {message}", highlight=False)
    raise typer.Exit(code=1)
