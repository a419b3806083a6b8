"""CSV records: the three accepted layouts, sampling-rate rules and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardiostream.datasets import load_csv_record, load_mitdb_record
from cardiostream.errors import DataNotFoundError, InvalidParameterError, InvalidSignalError


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_time_column_in_seconds(tmp_path: Path, rng: np.random.Generator) -> None:
    x = rng.normal(size=(500, 2))
    t = np.arange(500) / 250.0
    f = tmp_path / "ecg.csv"
    np.savetxt(f, np.column_stack([t, x]), delimiter=",", header="time,I,II", comments="")
    rec = load_csv_record(f)
    assert rec.fs == pytest.approx(250.0, rel=1e-9)
    assert rec.leads == ("I", "II") and rec.record_id == "ecg"
    np.testing.assert_array_equal(rec.signal, np.loadtxt(f, delimiter=",", skiprows=1)[:, 1:])
    np.testing.assert_array_equal(rec.timestamps_ns, np.round(t * 1e9).astype(np.int64))
    # An explicit fs wins over the estimate; the time stamps are kept.
    assert load_csv_record(f, fs=256).fs == 256.0


def test_time_ns_column_keeps_exact_integers(tmp_path: Path) -> None:
    t0 = 1714920600006020096  # beyond float64 precision
    lines = ["time_ns;ecg"] + [f"{t0 + i * 7682816};{i * 0.001:.3f}" for i in range(10)]
    rec = load_csv_record(_write(tmp_path / "p.csv", "\n".join(lines) + "\n"))
    assert rec.timestamps_ns[0] == t0 and rec.timestamps_ns.dtype == np.int64
    assert rec.fs == pytest.approx(1e9 / 7682816)


def test_header_without_time_needs_fs(tmp_path: Path) -> None:
    f = _write(tmp_path / "h.csv", "MLII\tV5\n0.1\t0.2\n0.3\t0.4\n")
    with pytest.raises(InvalidParameterError, match="'fs' parameter must be given") as err:
        load_csv_record(f)
    assert "no time column" in str(err.value)
    rec = load_csv_record(f, fs=360)
    assert rec.leads == ("MLII", "V5") and rec.timestamps_ns is None
    np.testing.assert_array_equal(rec.signal, [[0.1, 0.2], [0.3, 0.4]])


def test_headerless_numeric_file(tmp_path: Path) -> None:
    f = _write(tmp_path / "n.csv", "# exported by a device\n1,2,3\n4,5,6\n")
    rec = load_csv_record(f, fs=100.0)
    assert rec.leads == ("ch0", "ch1", "ch2")
    np.testing.assert_array_equal(rec.signal, [[1, 2, 3], [4, 5, 6]])


def test_single_column_and_column_selection(tmp_path: Path) -> None:
    rec = load_csv_record(_write(tmp_path / "one.csv", "0.5\n0.25\n-1\n"), fs=130)
    assert rec.signal.shape == (3, 1) and rec.leads == ("ch0",)
    f = _write(tmp_path / "sel.csv", "t,a,b\n0,1,2\n0.01,3,4\n")
    rec = load_csv_record(f, columns=["b"])
    assert rec.leads == ("b",) and rec.signal[:, 0].tolist() == [2, 4]
    with pytest.raises(InvalidParameterError, match="'columns' parameter"):
        load_csv_record(f, columns=["c"])


def test_empty_cells_are_nan(tmp_path: Path) -> None:
    rec = load_csv_record(_write(tmp_path / "e.csv", "a,b\n1,\n2,3\n"), fs=10)
    assert np.isnan(rec.signal[0, 1]) and rec.signal[1, 1] == 3


@pytest.mark.parametrize(
    ("text", "fs", "error", "match"),
    [
        ("a,b\n1,2\n3,oops\n", 10, InvalidSignalError, r"column 'b' must be numeric, got 'oops'"),
        ("a\n", 10, InvalidSignalError, "no data rows"),
        ("", 10, InvalidSignalError, "no data lines"),
        ("time,a\n0,1\n0,2\n", None, InvalidSignalError, "must increase strictly"),
        ("time,a\n0,1\n,2\n", None, InvalidSignalError, "empty cells"),
        ("time\n0\n1\n", None, InvalidSignalError, "no signal column"),
        ("a\n1\n", -5, InvalidParameterError, "'fs' parameter must be a positive"),
        ("a\n1\n", float("nan"), InvalidParameterError, "'fs' parameter"),
    ],
)
def test_bad_files_raise_clear_errors(
    tmp_path: Path, text: str, fs: float | None, error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        load_csv_record(_write(tmp_path / "bad.csv", text), fs=fs)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="existing CSV file"):
        load_csv_record(tmp_path / "absent.csv", fs=1)


@pytest.mark.data
def test_round_trip_of_a_mitdb_excerpt(mitdb_dir: Path, tmp_path: Path) -> None:
    rec = load_mitdb_record(100, data_dir=mitdb_dir.parent)
    x = rec.signal[:3600]
    t = np.arange(3600) / rec.fs
    f = tmp_path / "mitdb100.csv"
    np.savetxt(f, np.column_stack([t, x]), delimiter=",", header="time,MLII,V5", comments="",
               fmt="%.17g")  # fmt: skip
    back = load_csv_record(f)
    np.testing.assert_array_equal(back.signal, x)
    assert back.fs == pytest.approx(360.0, rel=1e-9) and back.leads == rec.leads
