"""``analyze_record`` and ``cardiostream analyze`` on synthetic, CSV, WFDB and MIT-BIH input."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import wfdb
from typer.testing import CliRunner

from cardiostream.analyze import (
    AnalysisResult,
    analyze_record,
    default_input,
    load_input,
    write_outputs,
)
from cardiostream.cli import app
from cardiostream.errors import InvalidParameterError
from cardiostream.plotting import choose_strips
from cardiostream.synth import SyntheticECG, synthesize_ecg
from cardiostream.types import BeatAnnotations

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _truth(s: SyntheticECG) -> BeatAnnotations:
    return BeatAnnotations(s.r_peaks, tuple(s.labels), s.labels, s.record.fs, "truth")


@pytest.fixture(scope="module")
def synthetic() -> SyntheticECG:
    return synthesize_ecg(
        120.0, 360.0, 72.0, ectopic_rate=0.03, baseline_mv=0.1, emg_mv=0.02, mains_mv=0.02, seed=1
    )


@pytest.fixture(scope="module")
def result(synthetic: SyntheticECG) -> AnalysisResult:
    return analyze_record(synthetic.record, reference=_truth(synthetic))


def test_synthetic_beats_and_heart_rate(synthetic: SyntheticECG, result: AnalysisResult) -> None:
    assert result.reference is not None
    assert result.reference.se == 1.0 and result.reference.ppv == 1.0
    assert result.n_beats == synthetic.r_peaks.size
    assert np.all(np.abs(result.r_peaks - synthetic.r_peaks) <= round(0.01 * 360))
    true_hr = 60.0 / np.mean(np.diff(synthetic.r_peaks) / 360.0)
    assert result.heart_rate is not None
    assert abs(result.heart_rate.mean_bpm - 72.0) < 1.0
    assert abs(result.heart_rate.mean_bpm - true_hr) < 0.2
    assert result.heart_rate.min_bpm <= result.heart_rate.mean_bpm <= result.heart_rate.max_bpm
    assert result.fraction_unusable == 0.0 and result.beat_usable.all()
    assert result.rr_s.size == result.n_beats - 1


def test_hrv_matches_neurokit2(synthetic: SyntheticECG, result: AnalysisResult) -> None:
    nk = pytest.importorskip("neurokit2")
    ref = nk.hrv_time(result.r_peaks, sampling_rate=360)
    hr = result.heart_rate
    assert hr is not None
    # Same definitions (SDNN with ddof=1, RMSSD over successive intervals): rounding only.
    np.testing.assert_allclose(hr.sdnn_ms, ref["HRV_SDNN"].iloc[0], rtol=1e-9)
    np.testing.assert_allclose(hr.rmssd_ms, ref["HRV_RMSSD"].iloc[0], rtol=1e-9)
    np.testing.assert_allclose(60000.0 / hr.mean_bpm, ref["HRV_MeanNN"].iloc[0], rtol=1e-9)


def test_unusable_stretch_has_no_beats_and_no_intervals(synthetic: SyntheticECG) -> None:
    sig = synthetic.record.signal.copy()
    sig[40 * 360 : 52 * 360, 0] = 0.0  # lead off for 12 s
    rec = replace(synthetic.record, signal=sig)
    r = analyze_record(rec)
    spans = r.quality.unusable_spans / 360.0
    assert spans.shape[0] >= 1 and r.fraction_unusable > 0.05
    assert "FLAT_LINE" in r.reason_fractions()
    usable_peaks = r.r_peaks[r.beat_usable] / 360.0
    for s0, s1 in spans:
        assert not np.any((usable_peaks >= s0) & (usable_peaks < s1))
        assert not np.any((r.rr_end_s - r.rr_s < s1) & (r.rr_end_s > s0))  # no RR bridges it
    assert r.heart_rate is not None and abs(r.heart_rate.mean_bpm - 72.0) < 1.5


def test_outputs_are_written(
    tmp_path: Path, synthetic: SyntheticECG, result: AnalysisResult
) -> None:
    png, js = write_outputs(result, synthetic.record, tmp_path / "out")
    assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 20_000
    data = json.loads(js.read_text())
    assert data["n_beats"] == result.n_beats and data["r_peaks"] == result.r_peaks.tolist()
    assert abs(data["heart_rate"]["mean_bpm"] - 72.0) < 1.0
    assert data["quality"]["fraction_unusable"] == 0.0
    assert data["reference"]["se"] == 1.0 and data["outputs"]["png"] == str(png)


def test_choose_strips_spreads_and_shows_the_first_unusable_stretch() -> None:
    assert choose_strips(100.0, np.zeros((0, 2))) == [(0.0, 10.0), (45.0, 55.0), (90.0, 100.0)]
    assert choose_strips(100.0, np.array([[20.0, 24.0]]))[1] == (17.0, 27.0)
    assert choose_strips(6.0, np.zeros((0, 2))) == [(0.0, 6.0)]


def test_wfdb_record_with_annotations(tmp_path: Path, synthetic: SyntheticECG) -> None:
    x = synthetic.record.lead(0)
    wfdb.wrsamp(
        "syn",
        fs=360,
        units=["mV"],
        sig_name=["II"],
        p_signal=x[:, None],
        fmt=["16"],
        adc_gain=[1000.0],
        baseline=[0],
        write_dir=str(tmp_path),
    )
    wfdb.wrann(
        "syn", "atr", synthetic.r_peaks, symbol=list(synthetic.labels), write_dir=str(tmp_path)
    )
    for name in ("syn", "syn.hea", "syn.dat"):
        given = load_input(tmp_path / name)
        assert given.reference is not None and len(given.reference) == synthetic.r_peaks.size
        assert given.record.fs == 360.0 and given.record.leads == ("II",)
    r = analyze_record(given.record, reference=given.reference)
    assert r.reference is not None and r.reference.se == 1.0 and r.reference.ppv == 1.0
    with pytest.raises(InvalidParameterError, match="'fs'"):
        load_input(tmp_path / "syn", fs=250.0)


def test_default_input_falls_back_to_synthetic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARDIOSTREAM_DATA", str(tmp_path))  # exists, holds no mitdb
    given = default_input()
    assert "synthetic" in given.description and given.reference is not None
    assert given.record.fs == 360.0 and given.record.duration_s == 300.0


runner = CliRunner()


def test_cli_help() -> None:
    res = runner.invoke(app, ["analyze", "--help"])
    assert res.exit_code == 0
    for opt in ("--default", "--fs", "--lead", "--method", "--data-dir", "--out"):
        assert opt in res.output


def test_cli_on_csv(tmp_path: Path) -> None:
    s = synthesize_ecg(60.0, 250.0, 90.0, seed=9)
    csv = tmp_path / "ecg.csv"
    np.savetxt(csv, s.record.lead(0), fmt="%.6f", header="ecg", comments="")
    out = tmp_path / "out"
    args = ["analyze", str(csv), "--fs", "250", "--lead", "ecg", "--out", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "CSV file" in res.output and "lead ecg" in res.output
    data = json.loads((out / "ecg_analysis.json").read_text())
    assert abs(data["heart_rate"]["mean_bpm"] - 90.0) < 1.0 and data["reference"] is None
    assert (out / "ecg_analysis.png").read_bytes()[:8] == PNG_MAGIC
    assert str(out / "ecg_analysis.png") in res.output.replace("\n", "")


def test_cli_default_without_data_uses_synthetic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARDIOSTREAM_DATA", str(tmp_path))
    res = runner.invoke(app, ["analyze", "--default", "--out", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    assert "synthetic ECG" in res.output and "Se 100.00 %" in res.output
    assert (tmp_path / "demo" / "synthetic_analysis.png").is_file()


@pytest.mark.data
def test_cli_default_with_mitdb_uses_record_100(mitdb_dir: Path, tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["analyze", "--default", "--data-dir", str(mitdb_dir.parent), "--out", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    assert "MIT-BIH record 100" in res.output
    data = json.loads((tmp_path / "100_analysis.json").read_text())
    assert data["reference"]["se"] > 0.995 and data["reference"]["ppv"] > 0.995
    assert 70 < data["heart_rate"]["mean_bpm"] < 80  # 2273 beats in 30.1 min
    assert (tmp_path / "100_analysis.png").is_file()


def test_cli_errors_exit_nonzero(tmp_path: Path) -> None:
    res = runner.invoke(app, ["analyze"])
    assert res.exit_code == 1 and "exactly one" in res.output
    res = runner.invoke(app, ["analyze", str(tmp_path / "missing.csv")])
    assert res.exit_code == 1 and "missing.csv" in res.output
