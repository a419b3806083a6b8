"""``cardiostream compress``: prune (and distil) a trained run into a new, smaller run."""

from __future__ import annotations

import shlex
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..errors import CardiostreamError
from ._options import fail


class Method(StrEnum):
    """Compression methods (cardiostream.edge.compress.METHODS)."""

    l1 = "l1"
    energy = "energy"
    structured = "structured"


class EnergyTerm(StrEnum):
    """E_l of the energy-aware score (cardiostream.edge.prune.ENERGY_TERMS)."""

    layer = "layer"
    marginal = "marginal"


class EnergyCombine(StrEnum):
    """How the energy-aware score mixes |w| and E_l (cardiostream.edge.prune.ENERGY_COMBINES)."""

    sum = "sum"
    product = "product"


class Schedule(StrEnum):
    """Sparsity schedules (cardiostream.edge.prune.SCHEDULES)."""

    linear = "linear"
    dynamic = "dynamic"


def compress_command(
    run: Annotated[Path, typer.Argument(help="Run directory written by `cardiostream train`.")],
    out: Annotated[Path, typer.Option("--out", help="New run directory to write.")],
    method: Annotated[
        Method,
        typer.Option(
            "--method",
            help="l1: global magnitude; energy: paper 002's energy-aware score; structured: "
            "remove channels (smaller dense model).",
        ),
    ],
    sparsity: Annotated[
        float,
        typer.Option(
            "--sparsity",
            help="Final target: fraction of Conv1d/Linear weights zeroed (l1, energy) or of "
            "channels removed per group (structured).",
        ),
    ] = 0.4,
    steps: Annotated[int, typer.Option("--steps", help="Pruning steps K.")] = 5,
    finetune_epochs: Annotated[
        int, typer.Option("--finetune-epochs", help="Fine-tuning epochs after each step.")
    ] = 1,
    kd_alpha: Annotated[
        float,
        typer.Option("--kd-alpha", help="Weight of logit distillation from the source (0: off)."),
    ] = 0.0,
    kd_temperature: Annotated[
        float, typer.Option("--kd-temperature", help="Distillation temperature T.")
    ] = 4.0,
    alpha: Annotated[
        float,
        typer.Option("--alpha", help="Energy-aware score: weight of |w| against layer energy."),
    ] = 0.5,
    energy_term: Annotated[
        EnergyTerm,
        typer.Option(
            "--energy-term",
            help="E_l of the energy-aware score: the layer's total energy (paper 002) or the "
            "energy one pruned weight of it saves (marginal).",
        ),
    ] = EnergyTerm.layer,
    energy_combine: Annotated[
        EnergyCombine,
        typer.Option(
            "--energy-combine",
            help="sum: paper 002's α|w|/max|w| + (1−α)(1 − E_l/max E); product: the scale-free "
            "|w|^α (max E/E_l)^(1−α).",
        ),
    ] = EnergyCombine.sum,
    schedule: Annotated[
        Schedule,
        typer.Option("--schedule", help="linear: S·t/K; dynamic: S(1 − exp(−β_l t)) per layer."),
    ] = Schedule.linear,
    include_head: Annotated[
        bool, typer.Option("--include-head", help="Also prune the classifier head.")
    ] = False,
    lr: Annotated[float, typer.Option("--lr", help="Fine-tuning learning rate (Adam).")] = 3e-4,
    max_train_beats: Annotated[
        int | None,
        typer.Option("--max-train-beats", help="Cap the fine-tuning beats (largest classes)."),
    ] = None,
    max_val_beats: Annotated[
        int | None, typer.Option("--max-val-beats", help="Score a random subset of validation.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed.")] = 0,
    threads: Annotated[int, typer.Option("--threads", help="torch.set_num_threads.")] = 1,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Data root.")] = None,
) -> None:
    """Compress RUN by iterative pruning with fine-tuning (paper 002) into a new run."""
    from ..edge.compress import CompressConfig, compress_run

    console = Console(stderr=True)
    try:
        cfg = CompressConfig(
            method=method.value,
            sparsity=sparsity,
            steps=steps,
            finetune_epochs=finetune_epochs,
            kd_alpha=kd_alpha,
            kd_temperature=kd_temperature,
            alpha=alpha,
            energy_term=energy_term.value,
            energy_combine=energy_combine.value,
            schedule=schedule.value,
            include_head=include_head,
            lr=lr,
            seed=seed,
            max_train_beats=max_train_beats,
            max_val_beats=max_val_beats,
            num_threads=threads,
        )
        command = shlex.join(["cardiostream", *sys.argv[1:]])
        res = compress_run(run, out, cfg, command=command, progress=progress, data_dir=data_dir)
    except CardiostreamError as e:
        fail(str(e))
        return
    b, a = res.before, res.after
    for s in res.steps:
        pruned_f1 = s.finetune.history[0].val_macro_f1
        console.print(
            f"step {s.step}: target {100 * s.target:.1f} %, sparsity {100 * s.sparsity:.1f} %, "
            f"energy {s.energy_rel:.3f}×, val macro-F1 {100 * pruned_f1:.2f}"
            f" → {100 * s.finetune.val_macro_f1:.2f} % (epoch {s.finetune.best_epoch} kept)",
            highlight=False,
        )
    console.print(
        f"{method.value}: parameters {b.params:,} → {a.params:,} (non-zero {b.nonzero_params:,} "
        f"→ {a.nonzero_params:,}), MACs {b.effective_macs:,} → {a.effective_macs:,}, energy "
        f"proxy {res.energy_rel:.3f}× (source val macro-F1 "
        f"{100 * res.teacher_val.val_macro_f1:.2f} %)",
        highlight=False,
    )
    console.print(f"run written to {res.run_dir}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``compress`` to ``app``."""
    app.command("compress")(compress_command)
