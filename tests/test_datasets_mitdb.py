"""MIT-BIH Arrhythmia: record groups, AAMI mapping, real-data counts and samples."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import wfdb

from cardiostream.datasets import (
    AAMI_SYMBOL_MAP,
    MITDB_DS1,
    MITDB_DS2,
    MITDB_GROUP_CITATIONS,
    MITDB_PACED,
    MITDB_RECORDS,
    RhythmEpisode,
    load_mitdb_annotations,
    load_mitdb_record,
    load_mitdb_rhythm,
    mitdb_record_group,
    mitdb_vf_episodes,
)
from cardiostream.errors import CardiostreamError, DataNotFoundError, InvalidParameterError
from cardiostream.types import AAMI_CLASSES

EXPECTED = json.loads(
    (Path(__file__).parent / "data" / "datasets_mitdb_aami_counts.json").read_text()
)


# --- groups and mapping (no data needed) ---------------------------------------------------


def test_record_groups_partition_the_database() -> None:
    assert len(MITDB_RECORDS) == len(set(MITDB_RECORDS)) == 48
    assert len(MITDB_DS1) == len(set(MITDB_DS1)) == 22
    assert len(MITDB_DS2) == len(set(MITDB_DS2)) == 22
    assert set(MITDB_PACED) == {"102", "104", "107", "217"}
    assert not set(MITDB_DS1) & set(MITDB_DS2)
    assert not (set(MITDB_DS1) | set(MITDB_DS2)) & set(MITDB_PACED)
    assert set(MITDB_DS1) | set(MITDB_DS2) | set(MITDB_PACED) == set(MITDB_RECORDS)
    assert list(MITDB_RECORDS) == sorted(MITDB_RECORDS)


def test_record_group_names() -> None:
    assert mitdb_record_group("all") == tuple(r for r in MITDB_RECORDS if r not in MITDB_PACED)
    assert len(mitdb_record_group("all")) == 44
    assert mitdb_record_group("all", include_paced=True) == MITDB_RECORDS
    assert mitdb_record_group("DS1") == MITDB_DS1
    assert mitdb_record_group("ds2") == MITDB_DS2
    assert mitdb_record_group("paced") == MITDB_PACED
    assert "1196-1206" in MITDB_GROUP_CITATIONS["ds1"]
    assert set(MITDB_GROUP_CITATIONS) == {"all", "ds1", "ds2", "paced"}
    with pytest.raises(InvalidParameterError, match="'name' parameter must be one of"):
        mitdb_record_group("ds3")


def test_aami_mapping_is_exactly_the_standard_one() -> None:
    expected = {"N": "NLRej", "S": "AaJS", "V": "VE", "F": "F", "Q": "/fQ"}
    assert {c: "".join(s for s, k in AAMI_SYMBOL_MAP.items() if k == c) for c in AAMI_CLASSES} == (
        expected
    )
    for non_beat in ["+", "~", "!", '"', "x", "|", "[", "]", "B", "r", "n", "?"]:
        assert non_beat not in AAMI_SYMBOL_MAP


@pytest.mark.parametrize("bad", ["110", 110, "abc", None, 100.0, True, "1000"])
def test_unknown_record_id_lists_where_valid_ids_are(bad: object) -> None:
    with pytest.raises(InvalidParameterError) as err:
        load_mitdb_record(bad)  # type: ignore[arg-type]
    msg = str(err.value)
    assert "'record_id' parameter" in msg and "MITDB_RECORDS" in msg and repr(bad) in msg


def test_missing_record_files_raise_data_not_found(tmp_path: Path) -> None:
    (tmp_path / "mitdb").mkdir()
    with pytest.raises(DataNotFoundError, match="record 100 not found"):
        load_mitdb_record(100, data_dir=tmp_path)
    assert issubclass(DataNotFoundError, CardiostreamError)


# --- real data ------------------------------------------------------------------------------


@pytest.mark.data
def test_aami_counts_of_all_48_records(mitdb_dir: Path) -> None:
    totals = dict.fromkeys(AAMI_CLASSES, 0)
    for rid in MITDB_RECORDS:
        ann = load_mitdb_annotations(rid, data_dir=mitdb_dir.parent)
        assert ann.counts() == EXPECTED["records"][rid]["aami"], rid
        assert len(ann) == EXPECTED["records"][rid]["beats"]
        assert ann.fs == 360.0 and ann.record_id == rid
        assert np.all(np.diff(ann.samples) > 0)
        for c, n in ann.counts().items():
            totals[c] += n
    assert totals == {"N": 90631, "S": 2781, "V": 7236, "F": 803, "Q": 8043}
    assert sum(totals.values()) == 109494


@pytest.mark.data
def test_annotations_match_wfdb_rdann(mitdb_dir: Path) -> None:
    ref = wfdb.rdann(str(mitdb_dir / "208"), "atr")
    ann = load_mitdb_annotations("208", data_dir=mitdb_dir.parent)
    beat = np.isin(ref.symbol, list(AAMI_SYMBOL_MAP))
    np.testing.assert_array_equal(ann.samples, ref.sample[beat])
    assert ann.symbols == tuple(np.asarray(ref.symbol)[beat])
    assert ann.aami.tolist() == [AAMI_SYMBOL_MAP[s] for s in ann.symbols]
    assert beat.sum() < len(ref.symbol)  # 208 has non-beat annotations that were dropped


@pytest.mark.data
def test_record_100_matches_wfdb(mitdb_dir: Path) -> None:
    rec = load_mitdb_record(100, data_dir=mitdb_dir.parent)
    ref = wfdb.rdrecord(str(mitdb_dir / "100"))
    assert rec.record_id == "100" and rec.fs == 360.0 and rec.leads == ("MLII", "V5")
    assert rec.signal.shape == (650000, 2) and rec.signal.dtype == np.float64
    np.testing.assert_array_equal(rec.signal, ref.p_signal)
    # Physical units: (digital - baseline) / gain, with gain 200 adu/mV and baseline 1024.
    digital = wfdb.rdrecord(str(mitdb_dir / "100"), physical=False, sampto=5).d_signal
    np.testing.assert_allclose(rec.signal[:5], (digital - 1024) / 200.0, rtol=0, atol=1e-12)
    assert rec.signal[0].tolist() == [-0.145, -0.065]


@pytest.mark.data
@pytest.mark.parametrize("rid", ["114", "102", "124"])
def test_lead_names_come_from_the_header(mitdb_dir: Path, rid: str) -> None:
    rec = load_mitdb_record(rid, data_dir=mitdb_dir.parent)
    assert list(rec.leads) == EXPECTED["records"][rid]["leads"]


@pytest.mark.data
def test_vf_episodes_of_207(mitdb_dir: Path) -> None:
    spans = mitdb_vf_episodes(207, data_dir=mitdb_dir.parent)
    assert spans.dtype == np.int64 and spans.shape == (6, 2)
    assert spans[0].tolist() == [14665, 18350] and spans[-1].tolist() == [554682, 589926]
    assert np.all(spans[:, 1] > spans[:, 0]) and np.all(spans[1:, 0] > spans[:-1, 1])
    assert mitdb_vf_episodes(100, data_dir=mitdb_dir.parent).shape == (0, 2)


@pytest.mark.data
def test_rhythm_episodes(mitdb_dir: Path) -> None:
    ep = load_mitdb_rhythm(201, data_dir=mitdb_dir.parent)
    assert all(isinstance(e, RhythmEpisode) for e in ep)
    assert ep[0].start == 60 and ep[-1].end == 650000
    assert all(a.end == b.start for a, b in itertools.pairwise(ep))
    labels = {e.label for e in ep}
    assert "AFIB" in labels and not any(lab.startswith("(") or "\x00" in lab for lab in labels)
    assert load_mitdb_rhythm(100, data_dir=mitdb_dir.parent) == (RhythmEpisode(18, 650000, "N"),)
    vfl = [e for e in load_mitdb_rhythm(207, data_dir=mitdb_dir.parent) if e.label == "VFL"]
    assert vfl[0].start == 14689
