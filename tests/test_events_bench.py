"""The rhythm-event benchmark (benchmarks/events.py): episode matching and a short real run."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

_BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load():
    sys.path.insert(0, str(_BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_events", _BENCH / "events.py")
        if spec is None or spec.loader is None:
            raise ImportError("benchmarks/events.py not found")
        mod = importlib.util.module_from_spec(spec)
        sys.modules["bench_events"] = mod
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(_BENCH))


bench = _load()


def test_union_and_coverage() -> None:
    assert bench.union([(5.0, 6.0), (0.0, 2.0), (1.0, 3.0), (3.0, 4.0)]) == [(0.0, 4.0),
                                                                             (5.0, 6.0)]
    assert bench.union([]) == []
    assert bench.covered((1.0, 5.5), [(0.0, 2.0), (5.0, 6.0)]) == 1.5
    assert bench.covered((2.0, 3.0), [(3.0, 4.0)]) == 0.0


def test_episode_scores_by_rule() -> None:
    ref = [(0.0, 10.0), (20.0, 30.0), (40.0, 41.0)]
    det = [(9.0, 12.0), (21.0, 29.0), (50.0, 55.0)]
    s = bench.score(ref, det)
    assert (s.n_ref, s.n_det) == (3, 3)
    # any overlap: refs 1 and 2 found; dets 1 and 2 true
    assert s.ref_hit == {"any_overlap": 2, "half_overlap": 1}
    # 50 %: ref 1 is covered 1 s of 10, ref 2 8 of 10; det 1 is 1 of 3 inside, det 2 all
    assert s.det_hit == {"any_overlap": 2, "half_overlap": 1}
    assert (s.ref_s, s.det_s, s.overlap_s) == (21.0, 16.0, 9.0)
    j = s.as_json()
    assert j["any_overlap"]["Se"] == pytest.approx(66.67)
    assert j["duration"]["Se"] == pytest.approx(100 * 9 / 21, abs=0.01)
    assert j["duration"]["PPV"] == pytest.approx(100 * 9 / 16, abs=0.01)


def test_touching_is_not_overlap_and_empty_sides_are_undefined() -> None:
    s = bench.score([(0.0, 1.0)], [(1.0, 2.0)])
    assert s.ref_hit["any_overlap"] == 0 and s.det_hit["any_overlap"] == 0
    j = bench.score([], []).as_json()
    assert j["any_overlap"]["Se"] is None and j["duration"]["PPV"] is None


def test_scores_add_up() -> None:
    a = bench.score([(0.0, 1.0)], [(0.5, 2.0)])
    b = bench.score([(0.0, 1.0)], [])
    total = bench.Score()
    total.add(a)
    total.add(b)
    assert (total.n_ref, total.n_det, total.ref_hit["any_overlap"]) == (2, 1, 1)


@pytest.mark.data
def test_benchmark_on_two_records(mitdb_dir: Path, tmp_path: Path) -> None:
    rc = bench.main(["--records", "119,232", "--out", str(tmp_path), "--name", "ev",
                     "--data-dir", str(mitdb_dir.parent)])
    assert rc == 0
    data = json.loads((tmp_path / "ev.json").read_text())
    assert {"provenance", "config", "results"} <= set(data)
    ref = data["results"]["reference"]
    assert ref["n_records"] == 2
    # 119 is the textbook bigeminy/trigeminy record: every reference episode is found
    big = ref["scores"]["bigeminy"]
    assert big["n_ref"] == 37 and big["any_overlap"]["Se"] == 100.0
    assert ref["per_record"]["232"]["bradycardia"]["ref_detected"] == 1
    assert "# Rhythm events" in (tmp_path / "ev.md").read_text()


@pytest.mark.data
def test_model_run_is_skipped_without_a_model(mitdb_dir: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import cardiostream
    from cardiostream.errors import DataNotFoundError

    def missing():
        raise DataNotFoundError("no shipped model here")

    monkeypatch.setattr(cardiostream, "load_default_model", missing)
    bench.main(["--records", "100", "--model", "--out", str(tmp_path), "--name", "ev",
                "--data-dir", str(mitdb_dir.parent)])
    data = json.loads((tmp_path / "ev.json").read_text())
    assert data["results"]["model"] == {"skipped": "no shipped model here"}
    assert "Skipped: no shipped model here" in (tmp_path / "ev.md").read_text()


class _AllNormal:
    """Stand-in for the shipped classifier: every beat N except the first (inconclusive)."""

    name = "all-normal"

    def classify(self, signal, fs, r_peaks):
        import numpy as np

        from cardiostream.classify import BeatPredictions

        labels = np.array(["N"] * len(r_peaks), dtype=object)
        if len(labels):
            labels[0] = "inconclusive"
        probs = np.zeros((len(r_peaks), 5))
        return BeatPredictions(r_peaks, fs, labels.astype(str), probs, ("N", "S", "V", "F", "Q"))


@pytest.mark.data
def test_model_run_uses_detected_beats(mitdb_dir: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import cardiostream

    monkeypatch.setattr(cardiostream, "load_default_model", _AllNormal)
    bench.main(["--records", "232", "--model", "--out", str(tmp_path), "--name", "ev",
                "--data-dir", str(mitdb_dir.parent)])
    model = json.loads((tmp_path / "ev.json").read_text())["results"]["model"]
    # detected beats, all N: no label-based events, but the slow rhythm of 232 is still found
    assert abs(model["n_beats"] - 1780) < 60
    counts = model["event_counts"]
    assert counts["bigeminy"] == counts["vt"] == counts["couplet"] == 0
    assert model["scores"]["bradycardia"]["any_overlap"]["Se"] == 100.0
