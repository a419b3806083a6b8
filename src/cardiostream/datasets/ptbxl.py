"""PTB-XL: metadata, benchmark labels, ``strat_fold`` splits and 100 Hz signals.

Wagner P, Strodthoff N, Bousseljot R-D et al. PTB-XL, a large publicly available
electrocardiography dataset. Scientific Data 7:154 (2020). Benchmark tasks and split:
Strodthoff et al., IEEE JBHI 25(5):1519-1528 (2021) — folds 1-8 train, 9 validation, 10 test.

Only the records present on disk are loaded; rows of ``ptbxl_database.csv`` whose files are
absent are counted in ``PtbxlDataset.missing`` and logged, never an error. The label space comes
from the full table by default (see :mod:`.ptbxl_labels`). Signals (``filename_lr``, 10 s at
100 Hz, 12 leads, mV) are read through :func:`~cardiostream.datasets.load_wfdb_record`, so WFDB
formats 16 (PhysioNet) and 516 (FLAC copies) give the same arrays, and the stacked float32 array
is cached with :func:`cardiostream.cache.cached_arrays`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rich.progress import track

from ..cache import cached_arrays, files_fingerprint
from ..errors import DataNotFoundError, InvalidParameterError, InvalidSignalError, check_param
from ..types import Record
from ._root import dataset_dir
from .ptbxl_labels import (
    PTBXL_TABLE,
    PTBXL_TASKS,
    ptbxl_classes,
    ptbxl_label_matrix,
    ptbxl_label_sets,
    read_ptbxl_table,
    read_scp_statements,
)
from .wfdb_io import load_wfdb_record, wfdb_record_path

__all__ = ["PTBXL_FS", "PTBXL_SPLITS", "PtbxlDataset", "load_ptbxl", "load_ptbxl_record"]

PTBXL_FS = 100.0
_N_SAMPLES = 1000
#: ``strat_fold`` values of the standard split (Strodthoff et al. 2021).
PTBXL_SPLITS: dict[str, tuple[int, ...]] = {
    "train": (1, 2, 3, 4, 5, 6, 7, 8),
    "val": (9,),
    "test": (10,),
}

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PtbxlDataset:
    """PTB-XL records present on disk with the labels of one benchmark task.

    Attributes
    ----------
    task : str
        One of :data:`~cardiostream.datasets.PTBXL_TASKS`.
    metadata : pandas.DataFrame
        Rows of ``ptbxl_database.csv`` (index ``ecg_id``) in the order of every array below;
        ``scp_codes`` parsed to dicts. Treat as read-only.
    classes : tuple of str
        Label names, sorted; columns of ``labels``.
    labels : ndarray of uint8, shape (n, n_classes)
        Multi-hot labels. Rows may be all zero: the reference excludes such records from the
        task (use :attr:`has_label`).
    folds : ndarray of int64, shape (n,)
        ``strat_fold`` (1-10).
    signals : ndarray of float32, shape (n, 1000, 12), or None
        100 Hz signals in mV, columns in the order of ``leads``; None when loaded without signals.
    leads : tuple of str
        Lead names from the WFDB headers (``I``, ``II``, ``III``, ``AVR``, ``AVL``, ``AVF``,
        ``V1`` ... ``V6``).
    missing : tuple of int
        ``ecg_id`` of the selected table rows whose record files are not on disk.
    fs : float
        Sampling rate, 100 Hz.
    """

    task: str
    metadata: pd.DataFrame
    classes: tuple[str, ...]
    labels: np.ndarray
    folds: np.ndarray
    signals: np.ndarray | None
    leads: tuple[str, ...]
    missing: tuple[int, ...] = ()
    fs: float = PTBXL_FS

    def __post_init__(self) -> None:
        n = len(self.metadata)
        arrays = {"labels": (self.labels, np.uint8), "folds": (self.folds, np.int64)}
        if self.signals is not None:
            arrays["signals"] = (self.signals, np.float32)
        for name, (value, dtype) in arrays.items():
            a = np.asarray(value, dtype=dtype)
            if a.shape[:1] != (n,):
                raise InvalidSignalError(
                    f"PtbxlDataset.{name} must have {n} rows (one per metadata row), got {a.shape}."
                )
            if a.flags.writeable:
                a = a.copy()
                a.flags.writeable = False
            object.__setattr__(self, name, a)
        if self.labels.shape[1:] != (len(self.classes),):
            raise InvalidSignalError(
                f"PtbxlDataset.labels has {self.labels.shape[1:]} columns for "
                f"{len(self.classes)} classes."
            )
        if self.signals is not None and self.signals.shape[1:] != (_N_SAMPLES, len(self.leads)):
            raise InvalidSignalError(
                f"PtbxlDataset.signals must have shape (n, {_N_SAMPLES}, {len(self.leads)}), "
                f"got {self.signals.shape}."
            )
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "leads", tuple(self.leads))
        object.__setattr__(self, "missing", tuple(int(i) for i in self.missing))

    def __len__(self) -> int:
        return len(self.metadata)

    @property
    def ecg_ids(self) -> np.ndarray:
        """``ecg_id`` of each row (int64)."""
        return self.metadata.index.to_numpy(dtype=np.int64)

    @property
    def has_label(self) -> np.ndarray:
        """Rows with at least one label for this task (the reference keeps only these)."""
        return self.labels.any(axis=1)

    def split_indices(self, split: str) -> np.ndarray:
        """Row indices of ``"train"`` (folds 1-8), ``"val"`` (9) or ``"test"`` (10)."""
        check_param("split", split, split in PTBXL_SPLITS, f"one of {tuple(PTBXL_SPLITS)}")
        return np.flatnonzero(np.isin(self.folds, PTBXL_SPLITS[split]))

    def subset(self, rows: np.ndarray | Sequence[int]) -> PtbxlDataset:
        """A dataset of the given row indices or boolean mask (``missing`` is kept)."""
        idx = np.arange(len(self))[np.asarray(rows)]
        return PtbxlDataset(
            task=self.task,
            metadata=self.metadata.iloc[idx],
            classes=self.classes,
            labels=self.labels[idx],
            folds=self.folds[idx],
            signals=None if self.signals is None else self.signals[idx],
            leads=self.leads,
            missing=self.missing,
            fs=self.fs,
        )


def load_ptbxl_record(ecg_id: int, data_dir: str | os.PathLike[str] | None = None) -> Record:
    """One PTB-XL record at 100 Hz (12 leads, mV), ``record_id`` = the ecg_id as text."""
    folder = dataset_dir("ptbxl", data_dir)
    table = pd.read_csv(folder / PTBXL_TABLE, index_col="ecg_id", usecols=["ecg_id", "filename_lr"])
    check_param(
        "ecg_id",
        ecg_id,
        isinstance(ecg_id, int | np.integer) and ecg_id in table.index,
        f"an ecg_id of {PTBXL_TABLE} (1 … {table.index.max()})",
    )
    path = wfdb_record_path(folder / table.loc[int(ecg_id), "filename_lr"])
    return load_wfdb_record(path, record_id=str(int(ecg_id)))


def _int_list(name: str, values: Sequence[int], expected: str) -> list[int]:
    ok = not isinstance(values, str | bytes)
    out: list[int] = []
    if ok:
        try:
            out = [int(v) for v in values]
        except (TypeError, ValueError):
            ok = False
    check_param(name, values, ok and bool(out), expected)
    return out


def _select(
    table: pd.DataFrame, folds: Sequence[int] | None, ecg_ids: Sequence[int] | None
) -> pd.DataFrame:
    if folds is not None:
        expected = "a non-empty sequence of strat_fold values 1-10"
        fold_list = _int_list("folds", folds, expected)
        check_param("folds", folds, all(1 <= f <= 10 for f in fold_list), expected)
        table = table[table["strat_fold"].isin(fold_list)]
    if ecg_ids is not None:
        ids = _int_list("ecg_ids", ecg_ids, "a non-empty sequence of integer ecg_ids")
        unknown = sorted(set(ids) - set(table.index))
        if unknown:
            raise InvalidParameterError(
                f"The 'ecg_ids' parameter must list ecg_ids of {PTBXL_TABLE} (within the chosen "
                f"folds), got {len(unknown)} unknown, e.g. {unknown[:5]} instead."
            )
        table = table.loc[ids]
    return table


def _header_files(header: Path) -> list[Path]:
    """The header and the signal files it names (``name.hea`` + ``.dat`` files)."""
    names: list[str] = []
    with header.open("r", encoding="latin-1") as f:
        lines = [ln for ln in f if ln.strip() and not ln.startswith("#")]
    n_sig = int(lines[0].split()[1])
    for ln in lines[1 : 1 + n_sig]:
        name = ln.split()[0]
        if name not in names:
            names.append(name)
    return [header, *(header.parent / n for n in names)]


def _read_signals(paths: Sequence[Path], progress: bool) -> tuple[np.ndarray, tuple[str, ...]]:
    out = np.empty((len(paths), _N_SAMPLES, 12), dtype=np.float32)
    leads: tuple[str, ...] | None = None
    for i, p in enumerate(
        track(paths, description="PTB-XL 100 Hz", disable=not progress, transient=True)
    ):
        rec = load_wfdb_record(p)
        if rec.signal.shape != (_N_SAMPLES, 12) or rec.fs != PTBXL_FS:
            raise InvalidSignalError(
                f"PTB-XL record {str(p)!r} has shape {rec.signal.shape} at {rec.fs} Hz; expected "
                f"({_N_SAMPLES}, 12) at {PTBXL_FS} Hz."
            )
        if leads is None:
            leads = rec.leads
        elif rec.leads != leads:
            raise InvalidSignalError(
                f"PTB-XL record {str(p)!r} has leads {rec.leads}, not {leads}."
            )
        out[i] = rec.signal
    return out, leads or ()


def load_ptbxl(
    task: str = "superdiagnostic",
    *,
    folds: Sequence[int] | None = None,
    ecg_ids: Sequence[int] | None = None,
    signals: bool = True,
    label_space: str = "full",
    data_dir: str | os.PathLike[str] | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> PtbxlDataset:
    """Load PTB-XL records present on disk with the labels of one benchmark task.

    Parameters
    ----------
    task : str
        ``"all"``, ``"diagnostic"``, ``"subdiagnostic"``, ``"superdiagnostic"``, ``"form"`` or
        ``"rhythm"`` (Strodthoff et al. 2021; rules in :mod:`.ptbxl_labels`).
    folds : sequence of int, optional
        Keep only these ``strat_fold`` values (e.g. ``(10,)`` for the test set).
    ecg_ids : sequence of int, optional
        Keep only these records, in this order.
    signals : bool
        Load the 100 Hz signals (float32, mV); False gives metadata and labels only.
    label_space : {"full", "database"}
        Where the class list is counted (see :func:`~cardiostream.datasets.ptbxl_classes`).
    data_dir : path, optional
        Data root; PTB-XL lives in ``<root>/ptbxl``.
    cache : bool
        Cache the signal array on disk, keyed by the record files' fingerprints.
    cache_dir : path, optional
        Cache root (default ``$CARDIOSTREAM_CACHE`` or ``~/.cache/cardiostream``).
    progress : bool
        Show a progress bar while reading signals.
    """
    check_param("task", task, task in PTBXL_TASKS, f"one of {tuple(PTBXL_TASKS)}")
    folder = dataset_dir("ptbxl", data_dir)
    table = _select(read_ptbxl_table(folder / PTBXL_TABLE), folds, ecg_ids)
    headers = [folder / (str(f) + ".hea") for f in table["filename_lr"]]
    present = np.array([h.is_file() for h in headers], dtype=bool)
    missing = tuple(int(i) for i in table.index[~present])
    if missing:
        log.warning(
            "PTB-XL: %d of %d selected records in %s are missing on disk (e.g. ecg_id %s)",
            len(missing),
            len(table),
            PTBXL_TABLE,
            list(missing[:5]),
        )
    table = table[present]
    headers = [h for h, ok in zip(headers, present, strict=True) if ok]
    if not headers:
        raise DataNotFoundError(f"No PTB-XL record of the selection is present in {str(folder)!r}.")

    classes = ptbxl_classes(task, data_dir, label_space=label_space)
    sets = ptbxl_label_sets(table["scp_codes"], task, read_scp_statements(folder))
    labels = ptbxl_label_matrix(sets, classes)

    sig, leads = None, ()
    if signals:
        records = [h.with_suffix("") for h in headers]
        if cache:
            key = {
                "dataset": "ptbxl",
                "fs": PTBXL_FS,
                "dtype": "float32",
                "version": 1,
                "ecg_ids": [int(i) for i in table.index],
                "files": files_fingerprint(f for h in headers for f in _header_files(h)),
            }

            def compute() -> dict[str, np.ndarray]:
                x, names = _read_signals(records, progress)
                return {"signals": x, "leads": np.array(names, dtype=str)}

            arrays = cached_arrays("ptbxl_signals", key, compute, cache_dir=cache_dir)
            sig, leads = arrays["signals"], tuple(str(x) for x in arrays["leads"])
        else:
            sig, leads = _read_signals(records, progress)

    return PtbxlDataset(
        task=task,
        metadata=table,
        classes=classes,
        labels=labels,
        folds=table["strat_fold"].to_numpy(dtype=np.int64),
        signals=sig,
        leads=leads,
        missing=missing,
    )
