"""``cardiostream evaluate``: test metrics of a trained run on its protocol's test set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..errors import CardiostreamError
from ._options import fail


def evaluate_command(
    run: Annotated[Path, typer.Argument(help="Run directory written by `cardiostream train`.")],
    protocol_c: Annotated[
        bool,
        typer.Option(
            "--protocol-c",
            help="End to end: detector beats on the test records, missed beats count as misses.",
        ),
    ] = False,
    abstain: Annotated[
        float | None,
        typer.Option(
            "--abstain", help="Label beats below this calibrated confidence inconclusive."
        ),
    ] = None,
    quality_gate: Annotated[
        bool, typer.Option("--quality-gate", help="Also abstain on poor-quality beats.")
    ] = False,
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap replicates.")] = 1000,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default RUN/eval[_end_to_end]).")
    ] = None,
    threads: Annotated[int, typer.Option("--threads", help="torch.set_num_threads.")] = 1,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Data root.")] = None,
) -> None:
    """Evaluate RUN: metrics, EC57, jκ, bootstrap CIs, confusion PNG, calibration, abstention.

    A PTB-XL run is scored on fold 10 with its fold-9 thresholds: macro AUROC / AUPRC / F1,
    per-class AUROC, bootstrap CIs (evaluation.json / .md in the run directory).
    """
    from ..diagnosis import evaluate_diagnosis, is_diagnosis_run
    from ..training import evaluate_run

    if is_diagnosis_run(run):
        try:
            from ..training.loop import num_threads

            with num_threads(threads):
                evaluate_diagnosis(run, data_dir=data_dir, n_boot=n_boot)
        except CardiostreamError as e:
            fail(str(e))
            return
        Console().print((run / "evaluation.md").read_text(), markup=False, highlight=False)
        Console().print(f"written to {run / 'evaluation.json'}", highlight=False)
        return

    try:
        ev = evaluate_run(
            run,
            protocol_c=protocol_c,
            abstain_threshold=abstain,
            quality_gate=quality_gate,
            n_boot=n_boot,
            out_dir=out,
            threads=threads,
            data_dir=data_dir,
        )
    except CardiostreamError as e:
        fail(str(e))
        return
    console = Console()
    console.print(ev.report.to_markdown(), markup=False, highlight=False)
    acc = ev.cis["accuracy"]
    console.print(
        f"accuracy {100 * float(acc.estimate):.2f} % (95 % CI {100 * float(acc.low):.2f}–"
        f"{100 * float(acc.high):.2f}, records resampled); temperature "
        f"{ev.calibration.temperature:.3f}",
        highlight=False,
    )
    if ev.end_to_end is not None:
        e = ev.end_to_end
        console.print(
            f"end to end: accuracy {100 * e.accuracy:.2f} % over every reference beat, "
            f"detection Se {100 * e.detection_se:.2f} %, +P {100 * e.detection_ppv:.2f} %",
            highlight=False,
        )
    console.print(f"written to {ev.out_dir}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``evaluate`` to ``app``."""
    app.command("evaluate")(evaluate_command)
