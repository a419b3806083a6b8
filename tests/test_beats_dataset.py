"""MIT-BIH beat dataset builder on real DS1 / DS2 records (skipped without the data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cardiostream.beats.dataset as ds
from cardiostream.beats import build_mitdb_beats, build_mitdb_dataset
from cardiostream.datasets import MITDB_DS1, MITDB_DS2, load_mitdb_annotations
from cardiostream.errors import InvalidParameterError
from cardiostream.types import AAMI_CLASSES

pytestmark = pytest.mark.data

# Small subsets: 106 (DS1, many V beats), 100 and 232 (DS2; 232 has long pauses and S beats).
RECORDS = ("106", "100", "232")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("beats_cache")


@pytest.fixture(scope="module")
def annotated(mitdb_dir: Path, cache_dir: Path) -> ds.BeatDataset:
    return build_mitdb_dataset(RECORDS, source="annotations", cache_dir=cache_dir)


def test_subsets_are_from_both_inter_patient_sets() -> None:
    assert "106" in MITDB_DS1 and {"100", "232"} <= set(MITDB_DS2)


def test_class_counts_match_the_annotations(annotated: ds.BeatDataset) -> None:
    b = annotated.beats
    for s in annotated.summaries:
        ref = load_mitdb_annotations(s.record_id).counts()
        got = {c: s.kept_counts[c] + s.dropped_counts[c] for c in AAMI_CLASSES}
        assert got == ref, s.record_id
        assert s.n_kept == int(np.sum(b.record_ids == s.record_id))
        assert s.n_dropped_edge <= 2  # only beats within 0.25 s of either end
        assert s.n_missed == s.n_unmatched_detections == 0
    assert annotated.counts()["V"] > 500  # record 106 alone has 520 V beats


def test_beats_carry_labels_windows_rr_and_record_ids(annotated: ds.BeatDataset) -> None:
    b = annotated.beats
    assert b.windows.shape == (len(b), 181) and b.fs == 360.0
    assert list(dict.fromkeys(b.record_ids)) == list(RECORDS)
    for rid in RECORDS:
        ann = load_mitdb_annotations(rid)
        sel = b.record_ids == rid
        # Each beat keeps its annotation's label; refined peaks stay within 20 samples of it.
        nearest = np.searchsorted(ann.samples, b.r_peaks[sel] - 20)
        assert np.all(np.abs(ann.samples[nearest] - b.r_peaks[sel]) <= 20)
        np.testing.assert_array_equal(ann.aami[nearest], b.labels[sel])
        # RR0 is the interval ending at the (unrefined) annotated beat.
        rr0 = np.diff(ann.samples)[nearest[1:] - 1] / 360.0
        np.testing.assert_allclose(b.rr_features[sel][1:, 0], rr0, rtol=1e-6)  # float32 storage
        # The first 43 beats of each record and its last have incomplete RR features.
        expected = (nearest >= 43) & (nearest < len(ann) - 1)
        np.testing.assert_array_equal(annotated.rr_valid[sel], expected)
    # Windows are centred on the refined R-peak: |x| is largest there in most beats.
    centred = np.argmax(np.abs(b.windows), axis=1) == 90
    assert centred.mean() > 0.95
    assert b.params["source"] == "annotations" and b.params["window_s"] == [0.25, 0.25]


def test_second_build_reuses_the_cache(
    mitdb_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = ds.load_mitdb_record

    def counting(record_id: str, data_dir: object = None) -> object:
        calls.append(str(record_id))
        return real(record_id, data_dir)

    monkeypatch.setattr(ds, "load_mitdb_record", counting)
    first = build_mitdb_beats(["100"], preprocess="baseline", cache_dir=tmp_path)
    assert calls == ["100"]
    again = build_mitdb_beats(["100"], preprocess="baseline", cache_dir=tmp_path)
    assert calls == ["100"]  # served from disk
    np.testing.assert_array_equal(first.windows, again.windows)
    np.testing.assert_array_equal(first.labels, again.labels)
    assert np.array_equal(first.rr_features, again.rr_features, equal_nan=True)
    other = build_mitdb_beats(
        ["100"], preprocess="baseline", window_s=(0.2, 0.3), cache_dir=tmp_path
    )
    assert calls == ["100", "100"]  # another parameter, another entry
    assert other.windows.shape[1] == 72 + 108 + 1
    assert len(list((tmp_path / "mitdb_beats").glob("*.npz"))) == 2


def test_detector_source_labels_matched_beats_and_counts_the_rest(
    mitdb_dir: Path, cache_dir: Path
) -> None:
    d = build_mitdb_dataset(["100"], source="detector", cache_dir=cache_dir)
    (s,) = d.summaries
    ann = load_mitdb_annotations("100")
    matched = s.n_kept + s.n_dropped_edge
    assert s.n_reference == len(ann)
    assert matched + s.n_missed == s.n_reference
    assert matched + s.n_unmatched_detections == s.n_positions
    assert s.n_missed <= 5 and s.n_unmatched_detections <= 5  # record 100 is clean
    b = d.beats
    nearest = np.abs(ann.samples[None, :] - b.r_peaks[:, None]).argmin(axis=1)
    assert np.all(np.abs(ann.samples[nearest] - b.r_peaks) <= 54)  # 150 ms at 360 Hz
    assert np.mean(ann.aami[nearest] == b.labels) > 0.999
    assert b.params["detector_method"] is not None and b.params["match_window_s"] == 0.15


def test_bad_arguments_raise_named_errors(mitdb_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="'records'"):
        build_mitdb_beats(["999"], cache_dir=tmp_path)
    with pytest.raises(InvalidParameterError, match="'source'"):
        build_mitdb_beats(["100"], source="magic", cache_dir=tmp_path)
    with pytest.raises(InvalidParameterError, match="'preprocess'"):
        build_mitdb_beats(["100"], preprocess="fancy", cache_dir=tmp_path)
