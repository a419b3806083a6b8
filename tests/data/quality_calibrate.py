"""Calibration of the signal-quality thresholds (documented one-off; not run by the tests).

    .venv/bin/python tests/data/quality_calibrate.py [--records 101,106,...] [--out FILE.json]

For each calibration record (MIT-BIH channel 0; records 118 and 119, used by the tests and the
noise benchmark, are held out) and each condition (clean; nstdb ``ma`` and ``bw`` channel 0
added over the whole record at 24, 18, 12, 6 and 0 dB by :func:`cardiostream.quality.noise_stress`),
the 2 s segments of :func:`cardiostream.quality.assess_quality` (signal only) are labelled "bad"
when NeuroKit2's detector (``ecg_clean`` + ``ecg_peaks``, an independent reference detector)
missed or added a beat in them (150 ms matching). The script prints, for candidate thresholds of
the SNR index and of the baseline ratio, the share of bad and good segments flagged, the share of
clean-record segments flagged and the flag rate per condition, and writes them as JSON.

The defaults in :class:`cardiostream.quality.QualityParams` (``min_snr_db=10``,
``max_baseline_ratio=1.0``) were read off this table: flag as many error segments as possible
while keeping clean-record segments flagged below 0.1 %. The run takes about 15 minutes on
two cores.
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np

DEFAULT_RECORDS = "101,106,109,112,114,116,122,201,203,208,215,223,230"
SNRS = (24, 18, 12, 6, 0)
SEG = 720  # 2 s at 360 Hz (QualityParams.segment_s)


def _segment_errors(y: np.ndarray, ref: np.ndarray, n_seg: int) -> np.ndarray:
    import neurokit2 as nk
    from wfdb.processing import compare_annotations

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        det = nk.ecg_peaks(nk.ecg_clean(y, sampling_rate=360), sampling_rate=360)[1]["ECG_R_Peaks"]
    c = compare_annotations(ref, np.asarray(det, np.int64), 55)
    bad = np.zeros(n_seg, int)
    for s in (c.unmatched_ref_sample, c.unmatched_test_sample):
        np.add.at(bad, np.minimum(np.asarray(s) // SEG, n_seg - 1), 1)
    return bad


def main() -> None:
    from cardiostream.datasets import load_mitdb_annotations, load_mitdb_record, load_nstdb_noise
    from cardiostream.quality import assess_quality, noise_stress

    ap = argparse.ArgumentParser()
    ap.add_argument("--records", default=DEFAULT_RECORDS)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    noises = {n: load_nstdb_noise(n).lead(0) for n in ("ma", "bw")}
    rows: list[tuple[str, str, float, float, int]] = []  # condition, snr, ratio, errors
    for rec in a.records.split(","):
        x = load_mitdb_record(rec).lead(0)
        ann = load_mitdb_annotations(rec)
        normal = ann.samples[ann.aami == "N"]  # N L R e j: nst's "normal" beats
        conds = [("clean", x)]
        for name, z in noises.items():
            for snr in SNRS:
                y = noise_stress(x, z, 360.0, normal, snr, protocol="continuous").signal
                conds.append((f"{name}{snr}", y))
        for cond, y in conds:
            q = assess_quality(y, 360.0)
            err = _segment_errors(y, ann.samples, q.segments.shape[0])
            rows += [(rec, cond, float(s), float(b), int(e))
                     for s, b, e in zip(q.snr_db, q.baseline_ratio, err, strict=True)]
        print(rec, flush=True)
    cond = np.array([r[1] for r in rows])
    snr = np.array([r[2] for r in rows])
    base = np.array([r[3] for r in rows])
    bad = np.array([r[4] for r in rows]) > 0
    clean = cond == "clean"
    table = []
    for kind, values, thresholds, below in (("snr_db", snr, (6, 8, 10, 12, 14), True),
                                             ("baseline_ratio", base, (0.5, 1.0, 1.5, 2.0), False)):
        for t in thresholds:
            flag = values < t if below else values > t
            entry = {
                "index": kind, "threshold": t,
                "flagged_bad": round(float(flag[bad].mean()), 4),
                "flagged_good": round(float(flag[~bad].mean()), 4),
                "flagged_clean_records": round(float(flag[clean].mean()), 5),
                "error_rate_flagged": round(float(bad[flag].mean()) if flag.any() else 0.0, 4),
                "error_rate_unflagged": round(float(bad[~flag].mean()), 4),
                "per_condition": {c: round(float(flag[cond == c].mean()), 4)
                                  for c in dict.fromkeys(cond)},
            }
            table.append(entry)
            print(json.dumps({k: v for k, v in entry.items() if k != "per_condition"}))
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"records": a.records.split(","), "table": table}, f, indent=1)


if __name__ == "__main__":
    main()
