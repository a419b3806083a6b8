"""``cardiostream export``: ONNX / TFLite files of a run, verified; INT8 judged per class."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..errors import CardiostreamError
from ._options import fail


class Format(StrEnum):
    """Export formats."""

    onnx = "onnx"
    tflite = "tflite"


class Calibration(StrEnum):
    """INT8 activation calibration."""

    minmax = "minmax"
    percentile = "percentile"
    entropy = "entropy"


def export_command(
    run: Annotated[Path, typer.Argument(help="Run directory (model.safetensors + run.json).")],
    format: Annotated[Format, typer.Option("--format", help="onnx, or tflite (extra).")] = (
        Format.onnx
    ),
    int8: Annotated[
        bool,
        typer.Option("--int8", help="INT8 post-training static quantisation + C header."),
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default RUN/export).")
    ] = None,
    calibration_examples: Annotated[
        int,
        typer.Option("--calibration-examples", help="Training examples to calibrate on."),
    ] = 4000,
    calibration_record: Annotated[
        list[str] | None,
        typer.Option("--calibration-record", help="Training record to calibrate on (repeat)."),
    ] = None,
    calibration_npy: Annotated[
        Path | None,
        typer.Option(
            "--calibration", help="(n, channels, length) .npy of training inputs (non-beat runs)."
        ),
    ] = None,
    method: Annotated[
        Calibration, typer.Option("--method", help="Activation calibration.")
    ] = Calibration.percentile,
    eval_record: Annotated[
        list[str] | None,
        typer.Option("--eval-record", help="Held-out record to score INT8 on (repeat)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Calibration sampling seed.")] = 0,
    threads: Annotated[int, typer.Option("--threads", help="torch.set_num_threads.")] = 1,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Data root.")] = None,
) -> None:
    """Export RUN to ONNX (parity-checked) or TFLite; --int8 quantises and compares per class."""
    import numpy as np
    import torch

    from ..edge.export import export_run

    torch.set_num_threads(threads)
    try:
        calib = np.load(calibration_npy) if calibration_npy is not None else None
        res = export_run(
            run,
            format=format.value,
            int8=int8,
            out=out,
            calibration=calib,
            calibration_records=calibration_record,
            calibration_examples=calibration_examples,
            method=method.value,
            eval_records=eval_record,
            seed=seed,
            data_dir=data_dir,
        )
    except (CardiostreamError, FileNotFoundError) as e:
        fail(str(e))
        return
    Console().print(res.to_markdown(), markup=False, highlight=False)
    Console().print(f"written to {res.out_dir}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``export`` to ``app``."""
    app.command("export")(export_command)
