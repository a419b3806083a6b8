"""Download datasets from PhysioNet with ``wfdb`` (needs internet; never called by the tests).

Each dataset lands in ``<data_dir>/<name>`` so that ``data_root(data_dir)`` finds it afterwards:

* ``mitdb`` — ``wfdb.dl_database("mitdb", ...)``: 48 records (format 212) with ``atr`` annotations.
* ``nstdb`` — ``wfdb.dl_database("nstdb", ..., records=["bw", "ma", "em"])``: the three noise
  records only (the 12 pre-mixed test records are not needed).
* ``ptbxl`` — ``wfdb.dl_files("ptb-xl", ...)`` for ``ptbxl_database.csv`` and
  ``scp_statements.csv``, then ``wfdb.dl_database("ptb-xl", ..., records=[filename_lr ...],
  annotators=None)``: the 100 Hz records only (format 16), not ``records500``.

Arguments are validated before any network access.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import wfdb

from ..errors import InvalidParameterError, check_param
from .mitdb import MITDB_RECORDS
from .nstdb import NSTDB_NOISE

__all__ = ["DATASETS", "DatasetSource", "download_dataset"]


@dataclass(frozen=True)
class DatasetSource:
    """Where a dataset comes from and what it weighs."""

    name: str
    physionet: str
    title: str
    size: str
    licence: str
    citation: str


#: The datasets ``cardiostream data download`` knows, by local folder name.
DATASETS: dict[str, DatasetSource] = {
    "mitdb": DatasetSource(
        "mitdb", "mitdb", "MIT-BIH Arrhythmia Database 1.0.0",
        "about 94 MB (48 records x 1.95 MB + 0.25 MB of annotations)", "ODC-By 1.0",
        "Moody & Mark, IEEE EMB Mag 20(3):45-50 (2001); Goldberger et al., Circulation (2000)",
    ),
    "nstdb": DatasetSource(
        "nstdb", "nstdb", "MIT-BIH Noise Stress Test Database 1.0.0 (noise records bw, ma, em)",
        "about 6 MB (3 records x 1.95 MB)", "ODC-By 1.0",
        "Moody, Muldrow & Mark, Computers in Cardiology 11:381-384 (1984)",
    ),
    "ptbxl": DatasetSource(
        "ptbxl", "ptb-xl", "PTB-XL 1.0.3, 100 Hz records and metadata tables",
        "about 550 MB (21,799 records x 25 kB + 7 MB of tables)", "CC BY 4.0",
        "Wagner et al., Scientific Data 7:154 (2020); Strodthoff et al., IEEE JBHI 25(5) (2021)",
    ),
}  # fmt: skip


def _ptbxl_filename(ecg_id: int) -> str:
    return f"records100/{ecg_id // 1000 * 1000:05d}/{ecg_id:05d}_lr"


def _check_records(name: str, records: Sequence[str] | None) -> list[str] | None:
    if records is None:
        return None
    items = [str(r).strip() for r in records if str(r).strip()]
    if name == "mitdb":
        valid: Sequence[str] = MITDB_RECORDS
    elif name == "nstdb":
        valid = tuple(NSTDB_NOISE)
    else:
        bad = [r for r in items if not (r.isdigit() and 1 <= int(r) <= 21837)]
        check_param("records", list(records), bool(items) and not bad,
                    "PTB-XL ecg_ids (integers 1-21837)")  # fmt: skip
        return items
    bad = [r for r in items if r not in valid]
    check_param("records", list(records), bool(items) and not bad,
                f"a non-empty list of {name} records from {tuple(valid)}")  # fmt: skip
    return items


def download_dataset(
    name: str,
    data_dir: str | os.PathLike[str],
    *,
    records: Sequence[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Download a dataset from PhysioNet into ``<data_dir>/<name>`` and return that folder.

    Parameters
    ----------
    name : {"mitdb", "nstdb", "ptbxl"}
        Dataset (see :data:`DATASETS`).
    data_dir : path
        Data root; created when missing.
    records : sequence of str, optional
        A subset: MIT-BIH record ids, NSTDB noise names or PTB-XL ecg_ids.
    overwrite : bool
        Download again files that are already complete (``wfdb`` otherwise skips or resumes them).
    """
    check_param("name", name, name in DATASETS, f"one of {tuple(DATASETS)}")
    wanted = _check_records(name, records)
    root = Path(data_dir).expanduser()
    if root.exists() and not root.is_dir():
        raise InvalidParameterError(
            f"The 'data_dir' parameter must be a directory, got the file {str(root)!r} instead."
        )
    dest = root / name
    dest.mkdir(parents=True, exist_ok=True)
    slug = DATASETS[name].physionet
    if name == "mitdb":
        wfdb.dl_database(slug, os.fspath(dest), records=wanted or "all", overwrite=overwrite)
    elif name == "nstdb":
        wfdb.dl_database(
            slug, os.fspath(dest), records=wanted or list(NSTDB_NOISE), annotators=None,
            overwrite=overwrite,
        )  # fmt: skip
    else:
        tables = ["ptbxl_database.csv", "scp_statements.csv"]
        wfdb.dl_files(slug, os.fspath(dest), tables, overwrite=overwrite)
        if wanted is None:
            files = pd.read_csv(dest / "ptbxl_database.csv", usecols=["filename_lr"])
            names = [str(f) for f in files["filename_lr"]]
        else:
            names = [_ptbxl_filename(int(r)) for r in wanted]
        wfdb.dl_database(slug, os.fspath(dest), records=names, annotators=None, overwrite=overwrite)
    return dest
