"""Service model runners: ONNX Runtime gives torch's calibrated probabilities; fallbacks work."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from beat_models import untrained_beatnet
from cardiostream.classify import BeatClassifier
from cardiostream.errors import CardiostreamError, InvalidParameterError, InvalidSignalError
from cardiostream.service import inference
from cardiostream.service.inference import OnnxRunner, TorchRunner, make_runner

pytest.importorskip("onnxruntime", reason="the onnx extra (onnxruntime) is not installed")


def _classifier(seed: int = 0, temperature: float = 1.7) -> BeatClassifier:
    return untrained_beatnet(seed, temperature)


def _inputs(clf: BeatClassifier, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, clf.preprocessing.length)).astype(np.float32)


def test_onnx_runner_gives_torchs_calibrated_probabilities(tmp_path) -> None:
    clf = _classifier()
    runner = make_runner(clf, "onnx", cache_dir=tmp_path)
    assert isinstance(runner, OnnxRunner) and runner.backend == "onnx"
    for n in (1, 4, 37):
        x = _inputs(clf, n, seed=n)
        got, ref = runner.predict_inputs(x), clf.predict_inputs(x)
        assert got.shape == ref.shape == (n, 3)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-5)  # fp32 kernels, same graph
        assert np.array_equal(got.argmax(1), ref.argmax(1))
    assert runner.predict_inputs(_inputs(clf, 0)).shape == (0, 3)


def test_export_is_cached_by_weights(tmp_path) -> None:
    clf = _classifier()
    a = make_runner(clf, "onnx", cache_dir=tmp_path)
    mtime = a.path.stat().st_mtime_ns
    b = make_runner(clf, "onnx", cache_dir=tmp_path)
    assert b.path == a.path and b.path.stat().st_mtime_ns == mtime
    other = make_runner(_classifier(seed=1), "onnx", cache_dir=tmp_path)
    assert other.path != a.path  # other weights, other file
    assert len(list((tmp_path / "onnx").glob("*.onnx"))) == 2


def test_torch_backend_never_exports(tmp_path) -> None:
    runner = make_runner(_classifier(), "torch", cache_dir=tmp_path)
    assert isinstance(runner, TorchRunner)
    assert not (tmp_path / "onnx").exists()


def test_auto_falls_back_to_torch_and_onnx_raises(tmp_path, monkeypatch, caplog) -> None:
    def broken(*a, **k):
        raise RuntimeError("no exporter here")

    monkeypatch.setattr("cardiostream.edge.onnx_io.export_onnx", broken)
    with caplog.at_level(logging.WARNING, logger=inference.__name__):
        runner = make_runner(_classifier(), "auto", cache_dir=tmp_path)
    assert isinstance(runner, TorchRunner)
    assert "no exporter here" in caplog.text
    with pytest.raises(RuntimeError, match="no exporter"):
        make_runner(_classifier(), "onnx", cache_dir=tmp_path)


def test_parity_failure_is_refused(tmp_path, monkeypatch) -> None:
    from cardiostream.edge.onnx_io import ParityResult

    bad = ParityResult(n=64, max_abs_diff=3.0, argmax_agreement=0.5, atol=1e-4, rtol=1e-3,
                       ok=False)
    monkeypatch.setattr("cardiostream.edge.onnx_io.onnx_parity", lambda *a, **k: bad)
    with pytest.raises(CardiostreamError, match="disagrees with torch"):
        make_runner(_classifier(), "onnx", cache_dir=tmp_path)
    assert isinstance(make_runner(_classifier(), "auto", cache_dir=tmp_path), TorchRunner)


def test_bad_arguments_are_named(tmp_path) -> None:
    with pytest.raises(InvalidParameterError, match="backend"):
        make_runner(_classifier(), "tensorrt", cache_dir=tmp_path)
    runner = make_runner(_classifier(), "onnx", cache_dir=tmp_path)
    with pytest.raises(InvalidSignalError, match=r"shape \(n, 1, "):
        runner.predict_inputs(np.zeros((2, 5), np.float32))


def test_settings_reject_unknown_inference() -> None:
    from cardiostream.service.config import ServiceSettings

    assert ServiceSettings().inference == "auto"
    with pytest.raises(InvalidParameterError, match="inference"):
        ServiceSettings(inference="gpu")
