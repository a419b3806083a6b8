"""PTB-XL label spaces for the six benchmark tasks of Strodthoff et al. 2021.

Strodthoff N, Wagner P, Schaeffter T, Samek W. Deep learning for ECG analysis: benchmarks and
insights from PTB-XL. IEEE J Biomed Health Inform 25(5):1519-1528 (2021).

The rules follow the benchmark's reference code (github.com/helme/ecg_ptbxl_benchmarking,
``code/utils/utils.py``: ``compute_label_aggregations`` and ``select_data``, run by
``SCP_Experiment`` with ``min_samples=0``):

* every SCP code listed in a record's ``scp_codes`` counts, whatever its likelihood value
  (0-100), since the reference only looks at the dictionary keys;
* ``all``: the codes themselves; ``diagnostic``: codes with ``diagnostic == 1`` in
  ``scp_statements.csv``; ``subdiagnostic`` / ``superdiagnostic``: those codes mapped to their
  ``diagnostic_subclass`` / ``diagnostic_class`` (empty mappings skipped); ``form``: codes with
  ``form == 1``; ``rhythm``: codes with ``rhythm == 1``;
* a class is kept when it occurs in more than ``min_count`` records (``min_count=0``); classes are
  sorted by name (the order of scikit-learn's ``MultiLabelBinarizer``); records left without any
  label for a task are excluded from that task's experiments (see ``PtbxlDataset.has_label``).

On the full v1.0.3 table (21,799 records) this yields 71, 44, 23, 5, 19 and 12 classes.
"""

from __future__ import annotations

import ast
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataNotFoundError, InvalidParameterError, InvalidSignalError, check_param
from ._root import dataset_dir

__all__ = [
    "PTBXL_FULL_TABLE",
    "PTBXL_TABLE",
    "PTBXL_TASKS",
    "parse_scp_codes",
    "ptbxl_classes",
    "ptbxl_label_matrix",
    "ptbxl_label_sets",
    "read_ptbxl_table",
    "read_scp_statements",
]

#: The six benchmark tasks (Strodthoff et al. 2021, Table 1) with their number of classes on
#: the full PTB-XL v1.0.3 table.
PTBXL_TASKS: dict[str, int] = {
    "all": 71,
    "diagnostic": 44,
    "subdiagnostic": 23,
    "superdiagnostic": 5,
    "form": 19,
    "rhythm": 12,
}
#: Metadata table of the records in a PTB-XL folder (PhysioNet's download: all 21,799 rows).
PTBXL_TABLE = "ptbxl_database.csv"
#: Optional copy of the complete official table, used for the label space when present.
PTBXL_FULL_TABLE = "ptbxl_database_full_v1.0.3.csv"
_STATEMENTS = "scp_statements.csv"


def _check_task(task: str) -> str:
    check_param("task", task, task in PTBXL_TASKS, f"one of {tuple(PTBXL_TASKS)}")
    return task


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_ITEM = re.compile(r"'([^'\\]+)'\s*:\s*(" + _NUM + r")")
_PAIR = r"'[^'\\]+'\s*:\s*" + _NUM
_DICT = re.compile(r"\{\s*(?:" + _PAIR + r"(?:\s*,\s*" + _PAIR + r")*\s*,?\s*)?\}")


def parse_scp_codes(text: str) -> dict[str, float]:
    """Parse one ``scp_codes`` cell (a Python dict literal such as ``"{'NORM': 100.0}"``).

    The plain ``{'CODE': number, ...}`` form is read with a regular expression (20x faster
    than :func:`ast.literal_eval`, which is the fallback for anything else).
    """
    text = str(text).strip()
    if _DICT.fullmatch(text):
        return {k: float(v) for k, v in _ITEM.findall(text)}
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as e:
        raise InvalidSignalError(f"Malformed scp_codes entry {text!r}: {e}") from e
    if not isinstance(value, dict):
        raise InvalidSignalError(f"scp_codes entry must be a dict literal, got {text!r}.")
    return {str(k): float(v) for k, v in value.items()}


def read_scp_statements(folder: str | os.PathLike[str]) -> pd.DataFrame:
    """Read ``scp_statements.csv`` (index: SCP code)."""
    p = Path(folder) / _STATEMENTS
    if not p.is_file():
        raise DataNotFoundError(f"PTB-XL statement table {str(p)!r} not found.")
    return pd.read_csv(p, index_col=0)


def read_ptbxl_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a PTB-XL metadata table (index ``ecg_id``) with ``scp_codes`` parsed to dicts."""
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"PTB-XL metadata table {str(p)!r} not found.")
    table = pd.read_csv(p, index_col="ecg_id")
    for col in ("scp_codes", "strat_fold", "filename_lr"):
        if col not in table.columns:
            raise InvalidSignalError(f"PTB-XL table {str(p)!r} has no {col!r} column.")
    table["scp_codes"] = table["scp_codes"].map(parse_scp_codes)
    return table


def ptbxl_label_sets(
    scp_codes: Iterable[Mapping[str, float]], task: str, statements: pd.DataFrame
) -> list[frozenset[str]]:
    """Labels of each record for ``task`` before class filtering (rules in the module docstring)."""
    _check_task(task)
    if task == "all":
        return [frozenset(codes) for codes in scp_codes]
    if task in ("diagnostic", "subdiagnostic", "superdiagnostic"):
        chosen = statements[statements["diagnostic"] == 1.0]
        column = {"subdiagnostic": "diagnostic_subclass", "superdiagnostic": "diagnostic_class"}
        if task == "diagnostic":
            mapping = {code: code for code in chosen.index}
        else:
            mapping = {code: str(v) for code, v in chosen[column[task]].items() if not pd.isna(v)}
    else:
        chosen = statements[statements[task] == 1.0]
        mapping = {code: code for code in chosen.index}
    return [frozenset(mapping[c] for c in codes if c in mapping) for codes in scp_codes]


def _label_table(folder: Path, label_space: str) -> Path:
    check_param(
        "label_space", label_space, label_space in ("full", "database"), "'full' or 'database'"
    )
    if label_space == "full" and (folder / PTBXL_FULL_TABLE).is_file():
        return folder / PTBXL_FULL_TABLE
    return folder / PTBXL_TABLE


def ptbxl_classes(
    task: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    label_space: str = "full",
    min_count: int = 0,
) -> tuple[str, ...]:
    """Class names of a PTB-XL task, sorted, as in the benchmark's reference code.

    Parameters
    ----------
    task : str
        One of :data:`PTBXL_TASKS`.
    data_dir : path, optional
        Data root (the PTB-XL folder is ``<root>/ptbxl``).
    label_space : {"full", "database"}
        ``"full"`` (default) counts classes over :data:`PTBXL_FULL_TABLE` when that file exists,
        so the label space does not depend on which records are on disk; otherwise, and with
        ``"database"``, over :data:`PTBXL_TABLE`.
    min_count : int
        Keep classes occurring in more than this many records (the reference uses 0).
    """
    _check_task(task)
    check_param(
        "min_count", min_count, isinstance(min_count, int) and min_count >= 0, "a non-negative int"
    )
    folder = dataset_dir("ptbxl", data_dir)
    table_path = _label_table(folder, label_space)
    stamps = tuple(_stamp(p) for p in (table_path, folder / _STATEMENTS))
    return dict(_classes(table_path, folder, min_count, stamps))[task]


def _stamp(path: Path) -> tuple[str, int, int]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return (os.fspath(path), -1, -1)  # the reader raises the proper error
    return (os.fspath(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=8)
def _classes(
    table_path: Path, folder: Path, min_count: int, stamps: tuple[object, ...]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Class lists of every task from one table read, memoised on the files' size and mtime."""
    table = read_ptbxl_table(table_path)
    statements = read_scp_statements(folder)
    out = []
    for task in PTBXL_TASKS:
        counts = Counter(
            c for s in ptbxl_label_sets(table["scp_codes"], task, statements) for c in s
        )
        out.append((task, tuple(sorted(c for c, n in counts.items() if n > min_count))))
    return tuple(out)


def ptbxl_label_matrix(label_sets: Sequence[frozenset[str]], classes: Sequence[str]) -> np.ndarray:
    """Multi-hot matrix (n_records, n_classes) of uint8; labels outside ``classes`` are ignored."""
    if len(set(classes)) != len(classes):
        raise InvalidParameterError(
            f"The 'classes' parameter must not repeat names, got {list(classes)} instead."
        )
    col = {c: j for j, c in enumerate(classes)}
    y = np.zeros((len(label_sets), len(classes)), dtype=np.uint8)
    for i, labels in enumerate(label_sets):
        for label in labels:
            j = col.get(label)
            if j is not None:
                y[i, j] = 1
    return y
