"""The QRS benchmark script (benchmarks/qrs.py) on short excerpts: keys, consistency, matcher."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching
from wfdb.processing import compare_annotations

_BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load_qrs():
    sys.path.insert(0, str(_BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_qrs", _BENCH / "qrs.py")
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules["bench_qrs"] = mod
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(_BENCH))


qrs = _load_qrs()


def _max_matching(ref: np.ndarray, test: np.ndarray, max_lag: int) -> int:
    """Size of a maximum one-to-one matching with |ref - test| <= max_lag (scipy, independent)."""
    if ref.size == 0 or test.size == 0:
        return 0
    rows, cols = [], []
    for i, r in enumerate(ref):
        lo, hi = np.searchsorted(test, (r - max_lag, r + max_lag + 1))
        rows += [i] * (hi - lo)
        cols += list(range(lo, hi))
    graph = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(ref.size, test.size))
    return int(np.count_nonzero(maximum_bipartite_matching(graph, perm_type="column") >= 0))


def test_match_window_is_150_ms_inclusive() -> None:
    # 0.15 s at 360 Hz is 54 samples: 54 apart matches, 55 does not.
    assert qrs.match_window(360.0) == 55
    assert qrs.match(np.array([1000]), np.array([1054]), 360.0) == qrs.Counts(1, 0, 0)
    assert qrs.match(np.array([1000]), np.array([1055]), 360.0) == qrs.Counts(0, 1, 1)
    # 130 Hz: 19.5 samples -> at most 19 apart
    assert qrs.match(np.array([500]), np.array([519]), 130.0).tp == 1
    assert qrs.match(np.array([500]), np.array([520]), 130.0).tp == 0


def test_match_empty_inputs() -> None:
    assert qrs.match(np.array([], np.int64), np.array([5, 9]), 360.0) == qrs.Counts(0, 2, 0)
    assert qrs.match(np.array([5, 9]), np.array([], np.int64), 360.0) == qrs.Counts(0, 0, 2)


def test_matcher_against_maximum_matching(rng: np.random.Generator) -> None:
    """compare_annotations (greedy nearest) vs an optimal bipartite matching on jittered beats."""
    fs = 360.0
    ref = np.cumsum(rng.integers(150, 400, size=400))
    for _ in range(5):
        test = ref + rng.integers(-70, 71, size=ref.size)  # some beyond the 54-sample window
        test = np.concatenate((test, rng.integers(0, ref[-1], size=40)))  # false detections
        test = np.unique(test[rng.random(test.size) > 0.05])  # and misses
        c = qrs.match(ref, test, fs)
        assert c.tp + c.fn == ref.size and c.tp + c.fp == test.size
        optimal = _max_matching(ref, test, 54)
        assert c.tp <= optimal
        assert optimal - c.tp <= 0.01 * ref.size  # greedy is within 1 % of optimal here
        direct = compare_annotations(ref, test, qrs.match_window(fs))
        assert (c.tp, c.fp, c.fn) == (direct.tp, direct.fp, direct.fn)


def test_metrics_and_gross() -> None:
    m = qrs.metrics(qrs.Counts(90, 10, 5))
    assert m["Se"] == pytest.approx(100 * 90 / 95, abs=1e-4)
    assert m["PPV"] == pytest.approx(90.0)
    assert m["F1"] == pytest.approx(100 * 180 / 195, abs=1e-4)
    assert qrs.metrics(qrs.Counts(0, 0, 0)) == {"Se": 0.0, "PPV": 0.0, "F1": 0.0}


def test_outside_spans_is_inclusive() -> None:
    s = np.array([1, 5, 10, 11, 20])
    assert qrs.outside_spans(s, np.array([[5, 10]])).tolist() == [1, 11, 20]


@pytest.mark.data
def test_load_case_130_hz(mitdb_dir: Path) -> None:
    case = qrs.load_case("100", "130", data_dir=str(mitdb_dir.parent), max_seconds=60)
    native = qrs.load_case("100", "360", data_dir=str(mitdb_dir.parent), max_seconds=60)
    assert case.fs == 130.0 and native.fs == 360.0
    assert case.signal.size == 60 * 130 and native.signal.size == 60 * 360
    assert np.array_equal(case.ref, np.round(native.ref * 130 / 360).astype(np.int64))
    assert case.ref.size == native.ref.size > 60


@pytest.mark.data
@pytest.mark.slow
def test_benchmark_writes_consistent_results(mitdb_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    argv = ["--records", "100,207", "--max-seconds", "120", "--out", str(out),
            "--data-dir", str(mitdb_dir.parent)]
    assert qrs.main(argv) == 0
    data = json.loads((out / "qrs.json").read_text())
    md = (out / "qrs.md").read_text()
    for key in ("gross", "per_record", "machine", "versions", "date", "command",
                "gross_44_no_paced", "ec57_vf_excluded"):
        assert key in data
    keys = {f"{d}@{f}" for d in qrs.DETECTORS for f in ("360", "130")}
    assert set(data["gross"]) == keys
    assert set(data["per_record"]) == {"100", "207"}
    assert data["machine"]["cores"] >= 1 and data["machine"]["cpu"]
    assert set(data["versions"]) >= {"cardiostream", "numpy", "scipy", "wfdb", "neurokit2",
                                     "py-ecg-detectors"}
    assert "--records 100,207" in data["command"]
    n_ref = data["n_reference_beats"]
    for key, g in data["gross"].items():
        assert set(g) == {"Se", "PPV", "F1", "sec_per_record"}
        tp = sum(data["per_record"][r][key]["TP"] for r in ("100", "207"))
        fp = sum(data["per_record"][r][key]["FP"] for r in ("100", "207"))
        fn = sum(data["per_record"][r][key]["FN"] for r in ("100", "207"))
        assert tp + fn == n_ref[key.split("@")[1]]
        assert g["Se"] == pytest.approx(100 * tp / (tp + fn), abs=1e-3)
        assert g["PPV"] == pytest.approx(100 * tp / (tp + fp), abs=1e-3)
        assert g["F1"] == pytest.approx(100 * 2 * tp / (2 * tp + fp + fn), abs=1e-3)
        assert g["sec_per_record"] > 0
        assert key in md
    # record 100 is easy for everyone; VF exclusion only changes record 207
    for key in keys:
        c = data["per_record"]["100"][key]
        assert c["TP"] >= 0.98 * (c["TP"] + c["FN"])
    assert set(data["ec57_vf_excluded"]["per_record"]) <= {"207"}
    assert data["gross_44_no_paced"]["records"] == ["100", "207"]
