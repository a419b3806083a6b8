"""Generic WFDB reading: format independence (212 / 16 / 516) and the NSTDB noise records."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import wfdb

from cardiostream.datasets import NSTDB_NOISE, load_nstdb_noise, load_wfdb_record
from cardiostream.errors import DataNotFoundError, InvalidParameterError


def _reencode(src: Path, dst_dir: Path, fmt: str) -> Path:
    """Write ``src`` again with ``wfdb.wrsamp`` in format ``fmt`` (same digital samples)."""
    rec = wfdb.rdrecord(str(src), physical=False)
    wfdb.wrsamp(
        rec.record_name,
        fs=rec.fs,
        units=rec.units,
        sig_name=rec.sig_name,
        d_signal=rec.d_signal,
        fmt=[fmt] * rec.n_sig,
        adc_gain=rec.adc_gain,
        baseline=rec.baseline,
        comments=rec.comments,
        write_dir=str(dst_dir),
    )
    return dst_dir / rec.record_name


def _physionet_sha256(mitdb_dir: Path, name: str) -> str | None:
    sums = mitdb_dir / "SHA256SUMS.physionet.txt"
    if not sums.is_file():
        return None
    for line in sums.read_text().splitlines():
        digest, _, fname = line.partition(" ")
        if fname.strip() == name:
            return digest
    return None


@pytest.mark.data
def test_mitdb_format_212_gives_identical_arrays(mitdb_dir: Path, tmp_path: Path) -> None:
    original = load_wfdb_record(mitdb_dir / "100")
    assert wfdb.rdheader(str(mitdb_dir / "100")).fmt == ["516", "516"]
    path = _reencode(mitdb_dir / "100", tmp_path, "212")
    assert wfdb.rdheader(str(path)).fmt == ["212", "212"]
    # The re-encoded file is PhysioNet's own 100.dat, byte for byte.
    expected = _physionet_sha256(mitdb_dir, "100.dat")
    if expected is not None:
        assert hashlib.sha256((tmp_path / "100.dat").read_bytes()).hexdigest() == expected
    again = load_wfdb_record(path)
    np.testing.assert_array_equal(again.signal, original.signal)
    assert (again.fs, again.leads, again.record_id) == (360.0, ("MLII", "V5"), "100")


@pytest.mark.data
def test_ptbxl_format_16_gives_identical_arrays(ptbxl_dir: Path, tmp_path: Path) -> None:
    src = ptbxl_dir / "records100" / "00000" / "00001_lr"
    original = load_wfdb_record(src)
    path = _reencode(src, tmp_path, "16")
    assert wfdb.rdheader(str(path)).fmt == ["16"] * 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00001_lr.dat", "00001_lr.hea"]
    assert (tmp_path / "00001_lr.dat").stat().st_size == 1000 * 12 * 2
    again = load_wfdb_record(path)
    np.testing.assert_array_equal(again.signal, original.signal)
    assert again.leads == original.leads and again.fs == 100.0
    assert again.signal.shape == (1000, 12)


@pytest.mark.data
def test_path_with_extension_is_accepted(mitdb_dir: Path) -> None:
    a = load_wfdb_record(mitdb_dir / "101.hea")
    b = load_wfdb_record(str(mitdb_dir / "101"), record_id="x101")
    np.testing.assert_array_equal(a.signal, b.signal)
    assert a.record_id == "101" and b.record_id == "x101"


def test_missing_header_is_data_not_found(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="'path' parameter must name a WFDB record"):
        load_wfdb_record(tmp_path / "nope")


def test_units_are_converted_to_millivolts(tmp_path: Path, rng: np.random.Generator) -> None:
    d = rng.integers(-500, 500, size=(200, 2)).astype(np.int64)
    wfdb.wrsamp(
        "uv",
        fs=250,
        units=["uV", "mV"],
        sig_name=["a", "b"],
        d_signal=d,
        fmt=["16", "16"],
        adc_gain=[2.0, 200.0],
        baseline=[0, 0],
        write_dir=str(tmp_path),
    )
    rec = load_wfdb_record(tmp_path / "uv")
    np.testing.assert_allclose(rec.signal[:, 0], d[:, 0] / 2.0 * 1e-3, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rec.signal[:, 1], d[:, 1] / 200.0, rtol=0, atol=1e-12)
    assert rec.fs == 250.0


@pytest.mark.data
@pytest.mark.parametrize("name", ["bw", "ma"])
def test_nstdb_noise(nstdb_dir: Path, name: str) -> None:
    rec = load_nstdb_noise(name, data_dir=nstdb_dir.parent)
    ref = wfdb.rdrecord(str(nstdb_dir / name))
    assert rec.record_id == name and rec.fs == 360.0 and rec.signal.shape == (650000, 2)
    assert rec.leads == ("noise1", "noise2")
    np.testing.assert_array_equal(rec.signal, ref.p_signal)
    # Header ADC gain 0 → WFDB's default 200 adu/mV, as for the MIT-BIH signals.
    assert ref.adc_gain == [200.0, 200.0]
    digital = wfdb.rdrecord(str(nstdb_dir / name), physical=False, sampto=100).d_signal
    np.testing.assert_allclose(rec.signal[:100], (digital - ref.baseline) / 200.0, atol=1e-12)


def test_nstdb_name_validated() -> None:
    with pytest.raises(InvalidParameterError, match=r"'name' parameter must be one of \('bw'"):
        load_nstdb_noise("xx")
    assert set(NSTDB_NOISE) == {"bw", "ma", "em"}
