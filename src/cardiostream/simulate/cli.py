"""``cardiostream simulate``: stream simulated patients to a running service.

Wire it into the main CLI with ``register(app)`` (as the other sub-command modules do).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..errors import CardiostreamError
from .device import POLAR_H10_SAMPLES_PER_FRAME, Impairments
from .run import SimulationConfig, load_tokens, run_simulation

__all__ = ["register", "simulate_command"]


def simulate_command(
    url: Annotated[
        str, typer.Option("--url", help="Ingest WebSocket URL, e.g. ws://127.0.0.1:8000/ingest.")
    ],
    patients: Annotated[int, typer.Option("--patients", help="Simulated patients.")] = 1,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            help="mitdb:RECORD, polar[:FILE] or synthetic[:hr=72,pvc=0.1,emg=0.02,...]; "
            "repeat to mix (assigned round-robin). Default: synthetic.",
        ),
    ] = None,
    fs: Annotated[float, typer.Option("--fs", help="Sampling rate in Hz (100-1000).")] = 130.0,
    samples_per_frame: Annotated[
        int, typer.Option("--samples-per-frame", help="Samples per frame (Polar H10: 73).")
    ] = POLAR_H10_SAMPLES_PER_FRAME,
    duration: Annotated[
        float | None,
        typer.Option("--duration", help="Seconds per patient (default: whole recording)."),
    ] = None,
    speed: Annotated[
        float, typer.Option("--speed", help="Pacing factor; 0 = as fast as possible.")
    ] = 1.0,
    heart_rate: Annotated[
        float, typer.Option("--heart-rate", help="Synthetic heart rate (bpm).")
    ] = 72.0,
    pvc_rate: Annotated[
        float, typer.Option("--pvc-rate", help="Synthetic PVC probability per beat (0-0.5).")
    ] = 0.0,
    jitter_ms: Annotated[
        float, typer.Option("--jitter-ms", help="Frame time-stamp jitter (SD, ms).")
    ] = 0.0,
    drop_rate: Annotated[
        float, typer.Option("--drop-rate", help="Fraction of frames never sent.")
    ] = 0.0,
    reorder_rate: Annotated[
        float, typer.Option("--reorder-rate", help="Fraction of frames sent after the next.")
    ] = 0.0,
    disconnect_every: Annotated[
        float | None,
        typer.Option("--disconnect-every", help="Mean seconds (stream time) between drops."),
    ] = None,
    offline: Annotated[
        float, typer.Option("--offline", help="Seconds offline after each drop.")
    ] = 2.0,
    lost_in_flight: Annotated[
        int,
        typer.Option("--lost-in-flight", help="Frames lost in flight before each drop (resent)."),
    ] = 0,
    token: Annotated[
        str | None,
        typer.Option("--token", help="Device token for all patients ('{patient}' expands)."),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option("--token-file", help='JSON {"patient id": "token"} (wins over --token).'),
    ] = None,
    prefix: Annotated[str, typer.Option("--prefix", help="Patient id prefix.")] = "sim",
    seed: Annotated[int, typer.Option("--seed", help="Base random seed.")] = 0,
    ramp: Annotated[
        float, typer.Option("--ramp", help="Spread device start-up over this many seconds.")
    ] = 1.0,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the per-device report here.")
    ] = None,
) -> None:
    """Stream simulated patients (MIT-BIH, the Polar H10 recording or synthetic ECG)."""
    console = Console(stderr=True)
    try:
        config = SimulationConfig(
            url=url,
            patients=patients,
            sources=tuple(source or ("synthetic",)),
            fs=fs,
            samples_per_frame=samples_per_frame,
            duration_s=duration,
            speed=math.inf if speed == 0 else speed,
            heart_rate=heart_rate,
            pvc_rate=pvc_rate,
            impairments=Impairments(
                jitter_ms=jitter_ms,
                drop_rate=drop_rate,
                reorder_rate=reorder_rate,
                disconnect_every_s=disconnect_every,
                offline_s=offline,
                lost_in_flight=lost_in_flight,
                seed=seed,
            ),
            token=token,
            tokens=load_tokens(token_file) if token_file is not None else None,
            prefix=prefix,
            seed=seed,
            ramp_s=ramp,
        )
        report = run_simulation(config)
    except (CardiostreamError, OSError) as e:
        console.print(f"[red]Error:[/red] {e}", highlight=False)
        raise typer.Exit(code=1) from None
    console.print(report.summary(), highlight=False)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
    if not report.ok:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to ``app``."""
    app.command("simulate")(simulate_command)
