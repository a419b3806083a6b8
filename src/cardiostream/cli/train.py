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
    task: Annotated[
        str | None,
        typer.Option(
            "--task",
            help="PTB-XL task (superdiagnostic, rhythm, ...): train a record-level 12-lead model.",
        ),
    ] = None,
    leads: Annotated[
        str | None, typer.Option("--leads", help="PTB-XL: comma-separated input leads (all 12).")
    ] = None,
    teacher: Annotated[
        Path | None, typer.Option("--teacher", help="PTB-XL: teacher run to distil from.")
    ] = None,
    kd_alpha: Annotated[
        float | None, typer.Option("--kd-alpha", help="PTB-XL: distillation weight (0.5).")
    ] = None,
    kd_temperature: Annotated[
        float | None, typer.Option("--kd-temperature", help="PTB-XL: temperature (2).")
    ] = None,
    hint_weight: Annotated[
        float | None, typer.Option("--hint-weight", help="PTB-XL: feature-hint weight (0).")
    ] = None,
    max_train_records: Annotated[
        int | None, typer.Option("--max-train-records", help="PTB-XL: cap training records.")
    ] = None,
) -> None:
    """Train a model (Adam 1e-3, batch 256, ≤ 50 epochs, early stopping on validation).

    With --task (or a config holding "task") it trains a record-level PTB-XL model instead:
    folds 1-8 / 9 / 10, random 2.5 s crops, optional distillation from --teacher.
    """
    from ..training import TrainConfig, load_config, train

    base = {}
    try:
        base = load_config(config) if config is not None else {}
    except CardiostreamError as e:
        fail(str(e))
    if task is not None or "task" in base:
        kd = {
            "task": task,
            "leads": leads.split(",") if leads else None,
            "teacher": str(teacher) if teacher is not None else None,
            "kd_alpha": kd_alpha,
            "kd_temperature": kd_temperature,
            "hint_weight": hint_weight,
            "max_train_records": max_train_records,
            "model": model,
            "epochs": epochs,
            "max_minutes": max_minutes,
            "seed": seed,
            "num_threads": threads,
        }
        _train_diagnosis(base, kd, out, progress, data_dir)
        return

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


def _train_diagnosis(
    base: dict[str, Any],
    overrides: dict[str, Any],
    out: Path,
    progress: bool,
    data_dir: Path | None,
) -> None:
    from ..diagnosis import DiagnosisConfig, train_diagnosis

    try:
        cfg = DiagnosisConfig.from_dict(
            {**base, **{k: v for k, v in overrides.items() if v is not None}}
        )
        command = shlex.join(["cardiostream", *sys.argv[1:]])
        run = train_diagnosis(cfg, out, data_dir=data_dir, progress=progress, command=command)
    except CardiostreamError as e:
        fail(str(e))
        return
    fit = run.meta.metrics["fit"]
    val = run.meta.metrics["val"]
    Console(stderr=True).print(
        f"{cfg.model} on PTB-XL {cfg.task} (leads {','.join(cfg.leads)}): "
        f"{run.meta.split['n_train']} training records, best epoch {fit['best_epoch']} "
        f"({fit['stop_reason']}), fold-9 macro-AUROC {val['macro_auroc']:.4f}, "
        f"{fit['train_seconds']:.0f} s; run written to {run.run_dir}"
    )


def register(app: typer.Typer) -> None:
    """Add ``train`` to ``app``."""
    app.command("train")(train_command)
