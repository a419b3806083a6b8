"""``cardiostream data``: help, argument validation and the calls made — never the network."""

from __future__ import annotations

from pathlib import Path

import pytest
import wfdb
from typer.testing import CliRunner

from cardiostream.cli import app
from cardiostream.datasets.download import DATASETS, download_dataset
from cardiostream.datasets.inventory import dataset_inventory
from cardiostream.errors import InvalidParameterError

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Replace wfdb's download functions by recorders (a test must never reach PhysioNet)."""
    calls: list[tuple] = []

    def dl_database(db_dir, dl_dir, records="all", annotators="all", overwrite=False, **kw):  # type: ignore[no-untyped-def]
        calls.append(("dl_database", db_dir, Path(dl_dir), records, annotators, overwrite))

    def dl_files(db, dl_dir, files, keep_subdirs=True, overwrite=False):  # type: ignore[no-untyped-def]
        calls.append(("dl_files", db, Path(dl_dir), list(files), overwrite))
        (Path(dl_dir) / "ptbxl_database.csv").write_text(
            "ecg_id,filename_lr\n1,records100/00000/00001_lr\n21837,records100/21000/21837_lr\n"
        )

    monkeypatch.setattr(wfdb, "dl_database", dl_database)
    monkeypatch.setattr(wfdb, "dl_files", dl_files)
    return calls


def test_help_of_every_data_command() -> None:
    for args in (["data", "--help"], ["data", "download", "--help"], ["data", "info", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "Usage" in result.output
    result = runner.invoke(app, ["data", "download", "--help"])
    for word in ("mitdb", "ptbxl", "nstdb", "--data-dir", "--records"):
        assert word in result.output


def test_unknown_dataset_fails_clearly(tmp_path: Path, no_network: list[tuple]) -> None:
    result = runner.invoke(app, ["data", "download", "mimic", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "'mimic' is not one of" in result.output
    assert no_network == []


def test_data_dir_is_required(no_network: list[tuple]) -> None:
    result = runner.invoke(app, ["data", "download", "mitdb"])
    assert result.exit_code == 2 and "--data-dir" in result.output
    assert no_network == []


@pytest.mark.parametrize(
    ("dataset", "records", "match"),
    [("mitdb", "100,110", "mitdb records"), ("nstdb", "bw,xx", "nstdb records"),
     ("ptbxl", "1,abc", "PTB-XL ecg_ids"), ("ptbxl", "0", "PTB-XL ecg_ids")],
)  # fmt: skip
def test_bad_records_fail_before_any_download(
    tmp_path: Path, no_network: list[tuple], dataset: str, records: str, match: str
) -> None:
    args = ["data", "download", dataset, "--data-dir", str(tmp_path), "--records", records]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "'records' parameter must be" in result.output and match in result.output
    assert no_network == []
    assert not (tmp_path / dataset).exists()


def test_data_dir_that_is_a_file(tmp_path: Path, no_network: list[tuple]) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    result = runner.invoke(app, ["data", "download", "nstdb", "--data-dir", str(f)])
    assert result.exit_code == 1 and "must be a directory" in result.output
    assert no_network == []


def test_mitdb_and_nstdb_calls(tmp_path: Path, no_network: list[tuple]) -> None:
    result = runner.invoke(app, ["data", "download", "mitdb", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert no_network == [("dl_database", "mitdb", tmp_path / "mitdb", "all", "all", False)]
    no_network.clear()
    download_dataset("nstdb", tmp_path, records=["ma"], overwrite=True)
    assert no_network == [("dl_database", "nstdb", tmp_path / "nstdb", ["ma"], None, True)]
    no_network.clear()
    download_dataset("nstdb", tmp_path)
    assert no_network[0][3] == ["bw", "ma", "em"]


def test_ptbxl_downloads_tables_then_100hz_records(tmp_path: Path, no_network: list[tuple]) -> None:
    download_dataset("ptbxl", tmp_path)
    tables = ["ptbxl_database.csv", "scp_statements.csv"]
    records = ["records100/00000/00001_lr", "records100/21000/21837_lr"]
    assert no_network == [
        ("dl_files", "ptb-xl", tmp_path / "ptbxl", tables, False),
        ("dl_database", "ptb-xl", tmp_path / "ptbxl", records, None, False),
    ]
    no_network.clear()
    download_dataset("ptbxl", tmp_path, records=["9", "10001"])
    assert no_network[1][3] == ["records100/00000/00009_lr", "records100/10000/10001_lr"]


def test_download_dataset_validates_name(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="'name' parameter must be one of"):
        download_dataset("mimic", tmp_path)
    assert set(DATASETS) == {"mitdb", "nstdb", "ptbxl"}
    assert all(src.licence and src.size for src in DATASETS.values())


def test_info_on_an_empty_root(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "info", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert str(tmp_path) in result.output.replace("\n", "")
    assert result.output.count("absent") == 4
    assert [s.n_present for s in dataset_inventory(tmp_path)] == [0, 0, 0, 0]


def test_info_on_a_missing_root(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "info", "--data-dir", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "does not exist" in result.output


def test_info_counts_partial_datasets(tmp_path: Path) -> None:
    (tmp_path / "mitdb").mkdir()
    for rid in ("100", "101"):
        (tmp_path / "mitdb" / f"{rid}.hea").write_text("")
        (tmp_path / "mitdb" / f"{rid}.atr").write_text("")
    (tmp_path / "mitdb" / "102.hea").write_text("")  # no annotations: not counted
    mitdb = dataset_inventory(tmp_path)[0]
    assert (mitdb.name, mitdb.n_present, mitdb.n_expected, mitdb.complete) == (
        "mitdb", 2, 48, False,
    )  # fmt: skip
    assert "102" in mitdb.detail


@pytest.mark.data
def test_info_on_the_real_data(mitdb_dir: Path) -> None:
    statuses = {s.name: s for s in dataset_inventory(mitdb_dir.parent)}
    assert statuses["mitdb"].complete and statuses["mitdb"].n_present == 48
    result = runner.invoke(app, ["data", "info", "--data-dir", str(mitdb_dir.parent)])
    assert result.exit_code == 0, result.output
    assert "mitdb" in result.output and "48" in result.output and "complete" in result.output
