"""``cardiostream data``: download datasets from PhysioNet and show what is present."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..cache import default_cache_dir
from ..datasets._root import ENV_VAR, data_root
from ..datasets.download import DATASETS, download_dataset
from ..datasets.inventory import dataset_inventory
from ..errors import CardiostreamError
from ._options import fail

data_app = typer.Typer(
    name="data",
    help="Datasets: download them from PhysioNet, show what is present.",
    no_args_is_help=True,
)


class DatasetName(StrEnum):
    """Datasets that can be downloaded."""

    mitdb = "mitdb"
    ptbxl = "ptbxl"
    nstdb = "nstdb"


@data_app.command("download")
def download(
    dataset: Annotated[DatasetName, typer.Argument(help="Dataset to download.")],
    data_dir: Annotated[
        Path,
        typer.Option("--data-dir", help="Data root; the dataset goes to DATA_DIR/<dataset>."),
    ],
    records: Annotated[
        str | None,
        typer.Option(
            "--records",
            help="Comma-separated subset: MIT-BIH ids (100,101), NSTDB names (bw,ma) or "
            "PTB-XL ecg_ids (1,2,3). Default: everything.",
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Download complete files again.")] = False,
) -> None:
    """Download DATASET from PhysioNet with wfdb (needs internet; see docs/datasets.md)."""
    src = DATASETS[dataset.value]
    wanted = None if records is None else records.split(",")
    console = Console()
    console.print(f"{src.title} → {data_dir / dataset.value} ({src.size}, licence {src.licence})")
    try:
        dest = download_dataset(dataset.value, data_dir, records=wanted, overwrite=overwrite)
    except CardiostreamError as e:
        fail(str(e))
    except OSError as e:  # network or disk trouble from wfdb
        fail(f"download failed: {e}")
    console.print(f"done: {dest}")


@data_app.command("info")
def info(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help=f"Data root (default: ${ENV_VAR}, then ../shared/data)."),
    ] = None,
) -> None:
    """Show the resolved data root and which datasets and records are present."""
    try:
        root = data_root(data_dir)
        statuses = dataset_inventory(root)
    except CardiostreamError as e:
        fail(str(e))
    console = Console()
    console.print(f"data root: {root}", highlight=False)
    console.print(f"cache:     {default_cache_dir()}", highlight=False)
    table = Table(title="datasets")
    for col in ("dataset", "present", "expected", "status", "detail"):
        table.add_column(col)
    for s in statuses:
        if s.n_present == 0:
            state = "[red]absent[/red]"
        elif s.complete:
            state = "[green]complete[/green]"
        else:
            state = "[yellow]partial[/yellow]"
        expected = str(s.n_expected) if s.n_expected else "?"
        table.add_row(s.name, str(s.n_present), expected, state, s.detail)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``data`` command group to ``app``."""
    app.add_typer(data_app, name="data")
