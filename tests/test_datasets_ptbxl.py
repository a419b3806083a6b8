"""PTB-XL: benchmark label spaces, folds, missing records, signals and their cache."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb

from cardiostream.datasets import (
    PTBXL_SPLITS,
    PTBXL_TASKS,
    PtbxlDataset,
    load_ptbxl,
    load_ptbxl_record,
    ptbxl_classes,
    ptbxl_label_matrix,
    ptbxl_label_sets,
)
from cardiostream.datasets import ptbxl as ptbxl_module
from cardiostream.datasets.ptbxl_labels import parse_scp_codes
from cardiostream.errors import DataNotFoundError, InvalidParameterError

# Class names published with the benchmark (Strodthoff et al. 2021; Wagner et al. 2020, Table 3).
SUPERDIAGNOSTIC = ("CD", "HYP", "MI", "NORM", "STTC")
SUBDIAGNOSTIC = (
    "AMI", "CLBBB", "CRBBB", "ILBBB", "IMI", "IRBBB", "ISCA", "ISCI", "ISC_", "IVCD",
    "LAFB/LPFB", "LAO/LAE", "LMI", "LVH", "NORM", "NST_", "PMI", "RAO/RAE", "RVH", "SEHYP",
    "STTC", "WPW", "_AVB",
)  # fmt: skip
RHYTHM = (
    "AFIB", "AFLT", "BIGU", "PACE", "PSVT", "SARRH", "SBRAD", "SR", "STACH", "SVARR", "SVTAC",
    "TRIGU",
)  # fmt: skip


# --- label rules on a hand-made table (no data needed) --------------------------------------

STATEMENTS = pd.DataFrame(
    {
        "diagnostic": [1.0, 1.0, 1.0, np.nan, np.nan, 1.0],
        "form": [np.nan, np.nan, np.nan, 1.0, np.nan, 1.0],
        "rhythm": [np.nan, np.nan, np.nan, np.nan, 1.0, np.nan],
        "diagnostic_class": ["NORM", "MI", "MI", np.nan, np.nan, "STTC"],
        "diagnostic_subclass": ["NORM", "IMI", np.nan, np.nan, np.nan, "NST_"],
    },
    index=["NORM", "IMI", "XMI", "LVOLT", "SR", "NDT"],
)


def test_label_rules_follow_the_reference_code() -> None:
    codes = [
        {"NORM": 100.0, "SR": 0.0, "LVOLT": 0.0},  # likelihood 0 still counts
        {"IMI": 15.0, "XMI": 50.0, "NDT": 100.0},
        {"SR": 0.0},
        {},
    ]
    sets = {task: ptbxl_label_sets(codes, task, STATEMENTS) for task in PTBXL_TASKS}
    assert sets["all"] == [
        {"NORM", "SR", "LVOLT"}, {"IMI", "XMI", "NDT"}, {"SR"}, set(),
    ]  # fmt: skip
    assert sets["diagnostic"] == [{"NORM"}, {"IMI", "XMI", "NDT"}, set(), set()]
    # XMI has no subclass: skipped; IMI and NDT map to theirs.
    assert sets["subdiagnostic"] == [{"NORM"}, {"IMI", "NST_"}, set(), set()]
    assert sets["superdiagnostic"] == [{"NORM"}, {"MI", "STTC"}, set(), set()]
    assert sets["form"] == [{"LVOLT"}, {"NDT"}, set(), set()]  # NDT is diagnostic and form
    assert sets["rhythm"] == [{"SR"}, set(), {"SR"}, set()]
    y = ptbxl_label_matrix(sets["superdiagnostic"], ("MI", "NORM", "STTC"))
    assert y.dtype == np.uint8
    assert y.tolist() == [[0, 1, 0], [1, 0, 1], [0, 0, 0], [0, 0, 0]]
    assert ptbxl_label_matrix([{"unknown"}], ("A",)).tolist() == [[0]]
    with pytest.raises(InvalidParameterError, match="'task' parameter must be one of"):
        ptbxl_label_sets(codes, "beats", STATEMENTS)


def test_parse_scp_codes() -> None:
    assert parse_scp_codes("{'NORM': 100.0, 'LVOLT': 0.0, 'SR': 0.0}") == {
        "NORM": 100.0, "LVOLT": 0.0, "SR": 0.0,
    }  # fmt: skip
    assert parse_scp_codes("{}") == {}
    assert parse_scp_codes('{"A": 1}') == {"A": 1.0}  # non-canonical form: ast fallback


# --- real data ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def meta(ptbxl_dir: Path) -> PtbxlDataset:
    return load_ptbxl("superdiagnostic", signals=False, data_dir=ptbxl_dir.parent)


@pytest.mark.data
def test_class_counts_on_the_full_table(ptbxl_dir: Path) -> None:
    assert (ptbxl_dir / "ptbxl_database_full_v1.0.3.csv").is_file()
    counts = {task: len(ptbxl_classes(task, ptbxl_dir.parent)) for task in PTBXL_TASKS}
    assert counts == {
        "all": 71, "diagnostic": 44, "subdiagnostic": 23, "superdiagnostic": 5,
        "form": 19, "rhythm": 12,
    }  # fmt: skip
    assert counts == PTBXL_TASKS
    assert ptbxl_classes("superdiagnostic", ptbxl_dir.parent) == SUPERDIAGNOSTIC
    assert ptbxl_classes("subdiagnostic", ptbxl_dir.parent) == SUBDIAGNOSTIC
    assert ptbxl_classes("rhythm", ptbxl_dir.parent) == RHYTHM


@pytest.mark.data
def test_metadata_folds_and_labels_of_present_records(meta: PtbxlDataset) -> None:
    assert len(meta) == 12833 and meta.missing == () and meta.signals is None
    sizes = {f: int(np.sum(meta.folds == f)) for f in range(1, 11)}
    assert sizes[9] == 2183 and sizes[10] == 2198
    assert sum(sizes[f] for f in range(1, 9)) == 8452
    assert len(meta.split_indices("val")) == 2183 and len(meta.split_indices("test")) == 2198
    assert len(meta.split_indices("train")) == 8452
    assert PTBXL_SPLITS["train"] == tuple(range(1, 9))
    # Per-class counts published in the data folder's SOURCE.md (computed independently).
    assert meta.classes == SUPERDIAGNOSTIC
    counts = dict(zip(meta.classes, meta.labels.sum(axis=0).tolist(), strict=True))
    assert counts == {"NORM": 5604, "MI": 3215, "STTC": 3083, "CD": 2889, "HYP": 1561}
    assert int((~meta.has_label).sum()) == 237
    assert meta.metadata.index.name == "ecg_id" and meta.ecg_ids[0] == 1


@pytest.mark.data
def test_one_record_matches_wfdb(ptbxl_dir: Path) -> None:
    rec = load_ptbxl_record(1, data_dir=ptbxl_dir.parent)
    ref = wfdb.rdrecord(str(ptbxl_dir / "records100" / "00000" / "00001_lr"))
    np.testing.assert_array_equal(rec.signal, ref.p_signal)
    assert rec.fs == 100.0 and rec.record_id == "1" and rec.signal.shape == (1000, 12)
    assert rec.leads[:3] == ("I", "II", "III") and rec.leads[-1] == "V6"
    with pytest.raises(InvalidParameterError, match="'ecg_id' parameter"):
        load_ptbxl_record(10**7, data_dir=ptbxl_dir.parent)


@pytest.mark.data
def test_subset_of_fold_10_with_cache(
    ptbxl_dir: Path,
    meta: PtbxlDataset,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ids = meta.ecg_ids[meta.folds == 10][:50][::-1]  # any order is kept
    reads = []
    real = ptbxl_module._read_signals

    def counting(paths, progress):  # type: ignore[no-untyped-def]
        reads.append(len(paths))
        return real(paths, progress)

    monkeypatch.setattr(ptbxl_module, "_read_signals", counting)
    kw = {"ecg_ids": ids, "data_dir": ptbxl_dir.parent, "cache_dir": tmp_path, "progress": False}
    with caplog.at_level(logging.INFO, logger="cardiostream.cache"):
        ds = load_ptbxl("rhythm", **kw)
        again = load_ptbxl("rhythm", **kw)
    assert reads == [50]
    assert "cache miss" in caplog.text and "cache hit" in caplog.text
    assert ds.signals.shape == (50, 1000, 12) and ds.signals.dtype == np.float32
    np.testing.assert_array_equal(again.signals, ds.signals)
    np.testing.assert_array_equal(ds.ecg_ids, ids)
    assert np.all(ds.folds == 10) and ds.classes == RHYTHM
    assert ds.leads == ("I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6")
    k = 7
    ref = wfdb.rdrecord(str(ptbxl_dir / ds.metadata["filename_lr"].iloc[k]))
    np.testing.assert_array_equal(ds.signals[k], ref.p_signal.astype(np.float32))
    # Labels equal those of the metadata-only load for the same records.
    rhythm_meta = load_ptbxl("rhythm", signals=False, folds=[10], data_dir=ptbxl_dir.parent)
    pos = {int(e): i for i, e in enumerate(rhythm_meta.ecg_ids)}
    np.testing.assert_array_equal(ds.labels, rhythm_meta.labels[[pos[int(e)] for e in ids]])
    # Another selection is another cache entry.
    load_ptbxl("rhythm", **{**kw, "ecg_ids": ids[:3]})
    assert reads == [50, 3]
    sub = ds.subset(ds.has_label)
    assert len(sub) == int(ds.has_label.sum()) and sub.signals.shape[0] == len(sub)
    with pytest.raises(ValueError, match="read-only"):
        ds.signals[0, 0, 0] = 1.0


def _mini_ptbxl(ptbxl_dir: Path, root: Path, present: list[int], absent: list[int]) -> Path:
    """A PTB-XL folder in ``root`` with links to a few real records and extra table rows."""
    folder = root / "ptbxl"
    (folder / "records100" / "00000").mkdir(parents=True)
    (folder / "scp_statements.csv").symlink_to(ptbxl_dir / "scp_statements.csv")
    table = pd.read_csv(ptbxl_dir / "ptbxl_database_full_v1.0.3.csv", index_col="ecg_id")
    table.loc[present + absent].to_csv(folder / "ptbxl_database.csv")
    for e in present:
        stem = ptbxl_dir / table.loc[e, "filename_lr"]
        for f in stem.parent.glob(stem.name + "*"):
            (folder / "records100" / "00000" / f.name).symlink_to(f)
    return root


@pytest.mark.data
def test_missing_records_are_reported_not_raised(
    ptbxl_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    full = pd.read_csv(ptbxl_dir / "ptbxl_database_full_v1.0.3.csv", index_col="ecg_id")
    on_disk = [
        e for e in full.index[:40] if (ptbxl_dir / (full.loc[e, "filename_lr"] + ".hea")).is_file()
    ]
    not_on_disk = [e for e in full.index[:40] if e not in on_disk]
    assert on_disk and not_on_disk
    root = _mini_ptbxl(ptbxl_dir, tmp_path, on_disk[:3], not_on_disk[:2])
    with caplog.at_level(logging.WARNING, logger="cardiostream.datasets.ptbxl"):
        ds = load_ptbxl("superdiagnostic", data_dir=root, cache=False, progress=False)
    assert ds.missing == tuple(not_on_disk[:2])
    assert list(ds.ecg_ids) == on_disk[:3] and ds.signals.shape == (3, 1000, 12)
    assert "2 of 5 selected records" in caplog.text and "missing on disk" in caplog.text
    # Without the full table the label space comes from the folder's own table.
    assert set(ds.classes) <= set(SUPERDIAGNOSTIC)
    with pytest.raises(DataNotFoundError, match="No PTB-XL record"):
        load_ptbxl(ecg_ids=not_on_disk[:2], data_dir=root, cache=False, progress=False)


@pytest.mark.data
def test_bad_arguments(ptbxl_dir: Path) -> None:
    root = ptbxl_dir.parent
    with pytest.raises(InvalidParameterError, match="'task' parameter"):
        load_ptbxl("beats", data_dir=root)
    with pytest.raises(InvalidParameterError, match="'folds' parameter"):
        load_ptbxl(folds=[0, 11], signals=False, data_dir=root)
    with pytest.raises(InvalidParameterError, match="'ecg_ids' parameter"):
        load_ptbxl(ecg_ids=[10**7], signals=False, data_dir=root)
    with pytest.raises(InvalidParameterError, match="'label_space' parameter"):
        ptbxl_classes("rhythm", root, label_space="subset")
