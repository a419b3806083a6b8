"""``cardiostream profile``: MACs, energy proxy, sizes, latency, memory and an MCU estimate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..errors import CardiostreamError
from ._options import fail


def profile_command(
    run: Annotated[
        Path, typer.Argument(help="Run directory (model.safetensors + run.json, any task).")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for profile.json / profile.md (default RUN)."),
    ] = None,
    batch: Annotated[
        list[int] | None, typer.Option("--batch", help="Latency batch sizes (default 1 and 256).")
    ] = None,
    repeats: Annotated[int, typer.Option("--repeats", help="Timed calls per latency.")] = 20,
    threads: Annotated[
        int, typer.Option("--threads", help="Intra-op threads (torch and ONNX Runtime).")
    ] = 1,
    clock_mhz: Annotated[
        float, typer.Option("--clock-mhz", help="Cortex-M4 clock of the MCU estimate.")
    ] = 80.0,
    cycles_per_mac: Annotated[
        float, typer.Option("--cycles-per-mac", help="Assumed Cortex-M4 cycles per int8 MAC.")
    ] = 2.0,
    memory: Annotated[
        str,
        typer.Option("--memory", help="Energy proxy memory level: sram8k, sram32k, sram1m, dram."),
    ] = "sram32k",
    tflite: Annotated[
        bool | None,
        typer.Option(
            "--tflite/--no-tflite",
            help="Convert to TFLite for its size and TFLM arena (default: if litert-torch is "
            "installed).",
        ),
    ] = None,
) -> None:
    """Profile the model of RUN and write profile.json / profile.md."""
    import torch

    from ..edge.profile import profile_run

    torch.set_num_threads(threads)
    try:
        prof = profile_run(
            run,
            out=out,
            batch_sizes=tuple(batch) if batch else (1, 256),
            repeats=repeats,
            threads=threads,
            clock_hz=clock_mhz * 1e6,
            cycles_per_mac=cycles_per_mac,
            memory=memory,
            tflite=tflite,
        )
    except (CardiostreamError, FileNotFoundError) as e:
        fail(str(e))
        return
    console = Console()
    layers = Table(title=f"{prof.name}: layers", show_lines=False)
    for col in ("layer", "kind", "params", "non-zero", "MACs", "eff. MACs", "energy µJ"):
        layers.add_column(col, justify="left" if col in ("layer", "kind") else "right")
    for c in prof.layers:
        layers.add_row(
            c.name or "(model)",
            c.kind,
            f"{c.params:,}",
            f"{c.nonzero_params:,}",
            f"{c.macs:,}",
            f"{c.effective_macs:,}",
            f"{c.energy_pj / 1e6:.4f}",
        )
    layers.add_row(
        "total",
        "",
        f"{prof.params:,}",
        f"{prof.nonzero_params:,}",
        f"{prof.macs:,}",
        f"{prof.effective_macs:,}",
        f"{prof.energy_pj_fp32 / 1e6:.4f}",
        style="bold",
    )
    console.print(layers)
    lat = Table(title="CPU latency (median)")
    for col in ("backend", "batch", "threads", "ms / call", "µs / example"):
        lat.add_column(col, justify="left" if col == "backend" else "right")
    for r in prof.latency:
        lat.add_row(
            r.backend, str(r.batch), str(r.threads), f"{r.median_ms:.3f}", f"{r.per_example_us:.1f}"
        )
    console.print(lat)
    summary = prof.to_markdown().split("\n\n")
    for block in summary[1:5]:
        if not block.startswith("|"):
            console.print(block, markup=False, highlight=False)
    console.print(f"written to {out or run}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``profile`` to ``app``."""
    app.command("profile")(profile_command)
