"""``cardiostream train``: train a heartbeat classifier and write a self-describing run."""

from __future__ import annotations

import shlex
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ..errors import CardiostreamError
from ._options import fail


class InputKind(StrEnum):
    """Model inputs (see cardiostream.training.data)."""

    rr = "rr"
    morph = "morph"
    wavelet = "wavelet"
    window = "window"
    window_rr = "window_rr"
    beat_ctx = "beat_ctx"


class ClassSet(StrEnum):
    """Label sets."""

    aami5 = "aami5"
    nsv = "nsv"


class Protocol(StrEnum):
    """Evaluation protocols."""

    intra = "intra"
    inter = "inter"
    full = "full"


def train_command(
    out: Annotated[Path, typer.Option("--out", help="Run directory to write (e.g. runs/NAME).")],
    model: Annotated[
        str | None, typer.Option("--model", help="Registry name (cardiostream.models).")
    ] = None,
    input_kind: Annotated[InputKind | None, typer.Option("--input", help="Model input.")] = None,
    classes: Annotated[
        ClassSet | None, typer.Option("--classes", help="aami5 (N/S/V/F/Q) or nsv (F, Q dropped).")
    ] = None,
    protocol: Annotated[
        Protocol | None,
        typer.Option("--protocol", help="intra: random 70/30 beats; inter: DS1 → DS2."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="JSON (or YAML with PyYAML) file of TrainConfig fields."),
    ] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", help="Maximum epochs (50).")] = None,
    max_train_beats: Annotated[
        int | None,
        typer.Option("--max-train-beats", help="Cap training beats (largest classes first)."),
    ] = None,
    max_minutes: Annotated[
        float | None, typer.Option("--max-minutes", help="Stop after the epoch passing this.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed (0).")] = None,
    threads: Annotated[
        int | None, typer.Option("--threads", help="torch.set_num_threads (1).")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Data root.")] = None,
) -> None:
    """Train a model (Adam 1e-3, batch 256, ≤ 50 epochs, early stopping on validation)."""
    from ..training import TrainConfig, load_config, train

    overrides: dict[str, Any] = {
        "model": model,
        "input_kind": input_kind.value if input_kind else None,
        "classes": classes.value if classes else None,
        "protocol": protocol.value if protocol else None,
        "epochs": epochs,
        "max_train_beats": max_train_beats,
        "max_minutes": max_minutes,
        "seed": seed,
        "num_threads": threads,
    }
    console = Console(stderr=True)
    try:
        base = load_config(config) if config is not None else {}
        cfg = TrainConfig.from_dict(
            {**base, **{k: v for k, v in overrides.items() if v is not None}}
        )
        command = shlex.join(["cardiostream", *sys.argv[1:]])
        t0 = time.perf_counter()
        run = train(cfg, out, command=command, progress=progress, data_dir=data_dir)
    except CardiostreamError as e:
        fail(str(e))
        return
    fit = run.fit
    console.print(
        f"{cfg.model} on {cfg.input_kind} ({cfg.classes}, {cfg.protocol}): "
        f"{run.meta.split['n_train']} training beats, best epoch {fit.best_epoch} "
        f"({fit.stop_reason}), validation accuracy {100 * fit.val_accuracy:.2f} %, "
        f"macro-F1 {100 * fit.val_macro_f1:.2f} %, {time.perf_counter() - t0:.0f} s."
    )
    console.print(f"run written to {run.run_dir}")


def register(app: typer.Typer) -> None:
    """Add ``train`` to ``app``."""
    app.command("train")(train_command)
