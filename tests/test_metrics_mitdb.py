"""Metrics on real MIT-BIH reference labels (records 100, 106, 208, 209).

Predictions are constructed (all-N, oracle, fusion beats called V) so the expected values follow
from the published per-record AAMI counts in tests/data/datasets_mitdb_aami_counts.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cardiostream.datasets import load_mitdb_annotations
from cardiostream.metrics import bootstrap_ci, classification_report
from cardiostream.types import AAMI_CLASSES

RECORDS = ("100", "106", "208", "209")
COUNTS = json.loads(
    (Path(__file__).parent / "data" / "datasets_mitdb_aami_counts.json").read_text()
)["records"]

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def reference(mitdb_dir):
    anns = [load_mitdb_annotations(r, mitdb_dir.parent) for r in RECORDS]
    labels = np.concatenate([a.aami for a in anns])
    groups = np.concatenate([np.full(len(a), r) for a, r in zip(anns, RECORDS, strict=True)])
    return labels, groups


def test_all_normal_classifier(reference):
    y, g = reference
    rep = classification_report(y, np.full(y.size, "N"), groups=g)
    for r, cm in zip(rep.record_ids, rep.record_confusion, strict=True):
        assert cm.sum(axis=1).tolist() == [COUNTS[r]["aami"][c] for c in AAMI_CLASSES], r
    totals = {c: sum(COUNTS[r]["aami"][c] for r in RECORDS) for c in AAMI_CLASSES}
    assert rep.accuracy == pytest.approx(totals["N"] / sum(totals.values()), abs=1e-15)
    assert rep.ec57.se.tolist()[:3] == [1.0, 0.0, 0.0]
    assert np.isnan(rep.ec57.ppv[2])  # V never predicted
    assert rep.kappa == pytest.approx(0.0, abs=1e-15)  # one predicted class: no agreement
    assert rep.jk.jk == pytest.approx(0.0, abs=1e-15)


def test_fusion_called_ventricular(reference):
    """EC57: reference F beats labelled V are not false positives of V (record 208: 373 F)."""
    y, g = reference
    pred = np.where(y == "F", "V", y)
    rep = classification_report(y, pred, groups=g)
    n_v = sum(COUNTS[r]["aami"]["V"] for r in RECORDS)
    n_f = sum(COUNTS[r]["aami"]["F"] for r in RECORDS)
    v = AAMI_CLASSES.index("V")
    assert rep.ec57.ppv[v] == 1.0 and rep.ec57.se[v] == 1.0
    assert rep.precision[v] == pytest.approx(n_v / (n_v + n_f), abs=1e-15)
    ci = bootstrap_ci(y, pred, g, "V_ppv", n_boot=200, seed=0)
    assert ci.low == ci.high == 1.0
