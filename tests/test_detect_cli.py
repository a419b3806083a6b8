"""``cardiostream detect``: WFDB and CSV input, summary, CSV output, streaming, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import wfdb
from typer.testing import CliRunner

from cardiostream.cli import app
from cardiostream.detect import detect_rpeaks
from cardiostream.synth import synthesize_ecg

runner = CliRunner()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray]:
    """A 60 s synthetic ECG at 250 Hz written as a WFDB record (format 16) and a CSV."""
    syn = synthesize_ecg(duration_s=60.0, fs=250.0, heart_rate=72.0, seed=9)
    x = np.asarray(syn.record.lead(0))
    d = tmp_path_factory.mktemp("detect_cli")
    wfdb.wrsamp("syn", fs=250, units=["mV"], sig_name=["II"], p_signal=x[:, None],
                fmt=["16"], adc_gain=[1000.0], baseline=[0], write_dir=str(d))
    csv = d / "syn.csv"
    csv.write_text("ecg_mv\n" + "\n".join(f"{v:.6f}" for v in x) + "\n")
    return d / "syn", csv, syn.r_peaks


def test_help() -> None:
    result = runner.invoke(app, ["detect", "--help"])
    assert result.exit_code == 0
    for opt in ("--fs", "--lead", "--method", "--out", "--stream"):
        assert opt in result.output


def test_wfdb_record_summary_and_csv(synthetic: tuple[Path, Path, np.ndarray],
                                     tmp_path: Path) -> None:
    rec, _, truth = synthetic
    out = tmp_path / "peaks.csv"
    result = runner.invoke(app, ["detect", str(rec) + ".hea", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"R-peaks: {truth.size}" in result.output
    assert "Heart rate: mean 7" in result.output  # 72 bpm by construction
    rows = np.loadtxt(out, delimiter=",", skiprows=1)
    assert out.read_text().splitlines()[0] == "sample,time_s"
    assert np.abs(rows[:, 0] - truth).max() <= 5  # within 20 ms at 250 Hz
    assert np.allclose(rows[:, 1], rows[:, 0] / 250.0, atol=1e-6)


def test_csv_needs_fs_and_stream_gives_the_same_peaks(
    synthetic: tuple[Path, Path, np.ndarray], tmp_path: Path
) -> None:
    _, csv, _ = synthetic
    assert runner.invoke(app, ["detect", str(csv)]).exit_code == 1  # no time column, no --fs
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for out, extra in ((a, []), (b, ["--stream", "73"])):
        args = ["detect", str(csv), "--fs", "250", "--method", "pan_tompkins", "--out", str(out)]
        result = runner.invoke(app, args + extra)
        assert result.exit_code == 0, result.output
    assert a.read_text() == b.read_text()


def test_errors_are_reported_not_raised(synthetic: tuple[Path, Path, np.ndarray]) -> None:
    rec, _, _ = synthetic
    for args, text in (
        (["detect", str(rec), "--method", "nope"], "'method'"),
        (["detect", str(rec), "--lead", "V9"], "V9"),
        (["detect", str(rec), "--fs", "360"], "'fs'"),
        (["detect", str(rec.with_name("missing"))], "missing"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 1
        assert text in result.output.replace("\n", "")


@pytest.mark.data
def test_mitdb_record_100(mitdb_dir: Path, tmp_path: Path) -> None:
    from cardiostream.datasets import load_mitdb_record

    out = tmp_path / "p.csv"
    result = runner.invoke(app, ["detect", str(mitdb_dir / "100"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "R-peaks: 2273" in result.output
    want = detect_rpeaks(load_mitdb_record("100", mitdb_dir.parent).lead(0), 360.0)
    assert np.array_equal(np.loadtxt(out, delimiter=",", skiprows=1)[:, 0].astype(int), want)
