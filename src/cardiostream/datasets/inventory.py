"""What is under a data root (``cardiostream data info``): cheap file checks, no decoding."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ._root import data_root
from .mitdb import MITDB_RECORDS
from .nstdb import NSTDB_NOISE
from .polar import POLAR_H10_FILE
from .ptbxl_labels import PTBXL_FULL_TABLE, PTBXL_TABLE

__all__ = ["DatasetStatus", "dataset_inventory"]


@dataclass(frozen=True)
class DatasetStatus:
    """Presence of one dataset under the data root.

    Attributes
    ----------
    name : str
        Folder name (``mitdb``, ``nstdb``, ``ptbxl``, ``polar_h10``).
    path : Path
        Where it was looked for.
    n_present : int
        Records (or files) found.
    n_expected : int
        Records the dataset (or its metadata table) lists; 0 when unknown.
    detail : str
        One human-readable line (missing records, tables found ...).
    """

    name: str
    path: Path
    n_present: int
    n_expected: int
    detail: str

    @property
    def complete(self) -> bool:
        return self.n_expected > 0 and self.n_present >= self.n_expected


def _mitdb(d: Path) -> DatasetStatus:
    ok = [r for r in MITDB_RECORDS if (d / f"{r}.hea").is_file() and (d / f"{r}.atr").is_file()]
    absent = [r for r in MITDB_RECORDS if r not in ok]
    detail = "all records with atr annotations" if not absent else f"missing: {', '.join(absent)}"
    return DatasetStatus("mitdb", d, len(ok), len(MITDB_RECORDS), detail)


def _nstdb(d: Path) -> DatasetStatus:
    ok = [n for n in NSTDB_NOISE if (d / f"{n}.hea").is_file()]
    absent = [n for n in NSTDB_NOISE if n not in ok]
    detail = f"noise records: {', '.join(ok) or 'none'}" + (
        f"; not present: {', '.join(absent)}" if absent else ""
    )
    return DatasetStatus("nstdb", d, len(ok), len(NSTDB_NOISE), detail)


def _ptbxl(d: Path) -> DatasetStatus:
    n_hea = 0
    rec_dir = d / "records100"
    if rec_dir.is_dir():
        for sub in os.scandir(rec_dir):
            if sub.is_dir():
                n_hea += sum(1 for e in os.scandir(sub.path) if e.name.endswith("_lr.hea"))
    parts = [f"{n_hea} records100 headers"]
    n_rows = 0
    if (d / PTBXL_TABLE).is_file():
        n_rows = len(pd.read_csv(d / PTBXL_TABLE, usecols=["ecg_id"]))
        parts.append(f"{PTBXL_TABLE}: {n_rows} rows")
    else:
        parts.append(f"{PTBXL_TABLE} missing")
    if (d / PTBXL_FULL_TABLE).is_file():
        parts.append(f"{PTBXL_FULL_TABLE} present (label space)")
    if not (d / "scp_statements.csv").is_file():
        parts.append("scp_statements.csv missing")
    return DatasetStatus("ptbxl", d, n_hea, n_rows, "; ".join(parts))


def _polar(d: Path) -> DatasetStatus:
    f = d / POLAR_H10_FILE
    ok = f.is_file()
    detail = f"{POLAR_H10_FILE} ({f.stat().st_size / 1e6:.1f} MB)" if ok else "CSV missing"
    return DatasetStatus("polar_h10", d, int(ok), 1, detail)


def dataset_inventory(data_dir: str | os.PathLike[str] | None = None) -> tuple[DatasetStatus, ...]:
    """Check which datasets and records are under the data root (see ``data_root``).

    Datasets whose folder is absent are reported with ``n_present == 0`` and detail "not found".
    """
    root = data_root(data_dir)
    checks = {"mitdb": _mitdb, "nstdb": _nstdb, "ptbxl": _ptbxl, "polar_h10": _polar}
    expected = {"mitdb": len(MITDB_RECORDS), "nstdb": len(NSTDB_NOISE), "ptbxl": 0, "polar_h10": 1}
    out = []
    for name, check in checks.items():
        d = root / name
        if d.is_dir():
            out.append(check(d))
        else:
            out.append(DatasetStatus(name, d, 0, expected[name], "not found"))
    return tuple(out)
