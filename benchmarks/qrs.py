"""QRS (R-peak) detection benchmark on the MIT-BIH Arrhythmia Database.

Usage::

    python benchmarks/qrs.py                       # all 48 records, 360 Hz and 130 Hz
    python benchmarks/qrs.py --records 100,101 --fs 130 --out /tmp/qrs
    python benchmarks/qrs.py --noise               # + noise stress test on records 118 and 119

Protocol (ANSI/AAMI EC57 beat-by-beat, as PhysioNet's ``bxb``): channel 0 of every record; every
reference beat annotation (symbols ``N L R B A a J S V r F e j n E / f Q ?``); a detection matches
a reference beat when they are at most 150 ms apart, one to one
(``wfdb.processing.compare_annotations``, whose window is exclusive, is called with
``floor(0.15 fs) + 1`` samples). At 130 Hz (Polar H10)
channel 0 is resampled with ``scipy.signal.resample_poly(x, 13, 36)`` and the reference samples
are scaled by 130/360 and rounded; the window stays 150 ms.

Detectors, all on the same signal in the same run: ``cardiostream_offline``
(:func:`cardiostream.detect.detect_rpeaks`, default method), ``cardiostream_streaming``
(:class:`cardiostream.detect.StreamingDetector` fed 73-sample chunks at 130 Hz, as a Polar H10
sends them, and proportionally sized chunks, 202 samples, at 360 Hz), ``xqrs``
(``wfdb.processing.xqrs_detect``), ``neurokit2`` (``nk.ecg_peaks`` on ``nk.ecg_clean`` output,
default methods) and ``pyecg_pantompkins`` (py-ecg-detectors
``Detectors(fs).pan_tompkins_detector``).
Seconds are ``time.perf_counter`` around the detector call only (peers include their own
cleaning, which is part of their pipeline), summed over records and scaled to a 30-minute record.
Timing runs must be sequential (``--jobs 1``, the default) for the seconds to be honest: with
``--jobs N`` the processes compete for cores and the JSON marks the timings as not comparable.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import resample_poly

if __package__ in (None, ""):  # run as a script: make ``_common`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import md_table, provenance, provenance_md, write_results

#: Beat annotation symbols counted as reference beats (EC57 / bxb).
BEAT_SYMBOLS = frozenset(tuple("NLRBAaJSVrFejnE/fQ?"))
#: Beats nst(1) measures the QRS amplitude on: WFDB's map1 NORMAL class (AAMI N).
NORMAL_SYMBOLS = ("N", "L", "R", "B", "e", "j")
MATCH_WINDOW_S = 0.15
NATIVE_FS = 360.0
POLAR_FS = 130.0
FS_LABELS = ("360", "130")
#: Polar H10 ECG notifications carry 73 samples at 130 Hz.
POLAR_CHUNK = 73
DETECTORS: tuple[str, ...] = (
    "cardiostream_offline",
    "cardiostream_streaming",
    "xqrs",
    "neurokit2",
    "pyecg_pantompkins",
)
PACED = ("102", "104", "107", "217")
NOISE_RECORDS = ("118", "119")
NOISE_TYPES = ("bw", "ma")
NOISE_SNRS_DB = (24, 18, 12, 6, 0)
#: EC57: the first 5 minutes of a noise-stress record are a learning period, not scored.
NOISE_SCORE_FROM_S = 300.0
RECORD_S = 1800.0
PUBLISHED = (
    (
        "Pan & Tompkins 1985 (IEEE TBME 32:230-236), as reported",
        "99.3 % of QRS complexes correctly detected on the 24 h MIT/BIH database "
        "(their own evaluation, not EC57 gross Se/+P of this script)",
    ),
)


# --------------------------------------------------------------------------- detectors


def chunk_size(fs: float) -> int:
    """Streaming chunk: 73 samples at 130 Hz (Polar H10), the same duration at other rates."""
    return max(1, round(POLAR_CHUNK * fs / POLAR_FS))


def _cs_offline() -> Callable[[np.ndarray, float], Any]:
    from cardiostream.detect import detect_rpeaks

    return detect_rpeaks


def _cs_streaming() -> Callable[[np.ndarray, float], Any]:
    from cardiostream.detect import StreamingDetector

    def run(x: np.ndarray, fs: float) -> np.ndarray:
        det = StreamingDetector(fs)
        step = chunk_size(fs)
        out = [det.push(x[i : i + step]) for i in range(0, x.size, step)]
        out.append(det.flush())
        return np.concatenate(out)

    return run


def _xqrs() -> Callable[[np.ndarray, float], Any]:
    from wfdb.processing import xqrs_detect

    return lambda x, fs: xqrs_detect(x, fs, verbose=False)


def _neurokit2() -> Callable[[np.ndarray, float], Any]:
    import neurokit2 as nk

    def run(x: np.ndarray, fs: float) -> np.ndarray:
        cleaned = nk.ecg_clean(x, sampling_rate=fs)
        return nk.ecg_peaks(cleaned, sampling_rate=fs)[1]["ECG_R_Peaks"]

    return run


def _pyecg_pantompkins() -> Callable[[np.ndarray, float], Any]:
    from ecgdetectors import Detectors

    return lambda x, fs: Detectors(fs).pan_tompkins_detector(x)


_FACTORIES: dict[str, Callable[[], Callable[[np.ndarray, float], Any]]] = {
    "cardiostream_offline": _cs_offline,
    "cardiostream_streaming": _cs_streaming,
    "xqrs": _xqrs,
    "neurokit2": _neurokit2,
    "pyecg_pantompkins": _pyecg_pantompkins,
}
_READY: dict[tuple[str, float], Callable[[np.ndarray, float], Any]] = {}
_WARMUP_S = 10.0


def _detector(name: str, x: np.ndarray, fs: float) -> Callable[[np.ndarray, float], Any]:
    """The detector's callable, imported and warmed up once per process and rate (untimed), so
    that import time and first-call caches do not count as detection time."""
    key = (name, fs)
    if key not in _READY:
        func = _FACTORIES[name]()
        func(np.asarray(x[: round(_WARMUP_S * fs)], dtype=np.float64), fs)
        _READY[key] = func
    return _READY[key]


def run_detector(name: str, x: np.ndarray, fs: float) -> tuple[np.ndarray, float]:
    """Run one detector; return its peaks (sorted, unique, int64) and the seconds it took."""
    with warnings.catch_warnings():
        if not name.startswith("cardiostream"):
            warnings.simplefilter("ignore")  # peers' own warnings are not ours to fix
        func = _detector(name, x, fs)
        t0 = time.perf_counter()
        peaks = func(x, fs)
        seconds = time.perf_counter() - t0
    peaks = np.unique(np.asarray(peaks, dtype=np.int64))
    return peaks[(peaks >= 0) & (peaks < x.size)], seconds


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class Counts:
    """Beat-by-beat comparison counts."""

    tp: int
    fp: int
    fn: int

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    def as_json(self) -> dict[str, int]:
        return {"TP": self.tp, "FP": self.fp, "FN": self.fn}


def match_window(fs: float, window_s: float = MATCH_WINDOW_S) -> int:
    """``compare_annotations`` window (exclusive) so that matches are at most ``window_s`` apart."""
    from cardiostream.beats import match_window_samples

    return match_window_samples(fs, window_s)


def match(ref: np.ndarray, test: np.ndarray, fs: float, window_s: float = MATCH_WINDOW_S) -> Counts:
    """One-to-one match of detections to reference beats within ``window_s`` (EC57 / bxb).

    Uses :func:`wfdb.processing.compare_annotations` (nearest-first greedy pairing) and handles
    the empty cases it does not.
    """
    ref = np.asarray(ref, dtype=np.int64)
    test = np.asarray(test, dtype=np.int64)
    if ref.size == 0 or test.size == 0:
        return Counts(0, int(test.size), int(ref.size))
    from wfdb.processing import compare_annotations

    c = compare_annotations(ref, test, match_window(fs, window_s))
    return Counts(int(c.tp), int(c.fp), int(c.fn))


def outside_spans(samples: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """``samples`` not inside any inclusive ``[start, end]`` span."""
    samples = np.asarray(samples, dtype=np.int64)
    keep = np.ones(samples.size, dtype=bool)
    for a, b in np.asarray(spans, dtype=np.int64).reshape(-1, 2):
        keep &= ~((samples >= a) & (samples <= b))
    return samples[keep]


def within(samples: np.ndarray, start: int, stop: int) -> np.ndarray:
    """``samples`` in ``[start, stop)``."""
    samples = np.asarray(samples, dtype=np.int64)
    return samples[(samples >= start) & (samples < stop)]


def metrics(c: Counts) -> dict[str, float]:
    """Se, +P (PPV) and F1 in percent (NaN-free: 0 when undefined)."""
    se = 100.0 * c.tp / (c.tp + c.fn) if c.tp + c.fn else 0.0
    ppv = 100.0 * c.tp / (c.tp + c.fp) if c.tp + c.fp else 0.0
    f1 = 100.0 * 2 * c.tp / (2 * c.tp + c.fp + c.fn) if c.tp + c.fp + c.fn else 0.0
    return {"Se": round(se, 4), "PPV": round(ppv, 4), "F1": round(f1, 4)}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, eq=False)
class Case:
    """Channel 0 of one record at one rate, with its reference beats."""

    record: str
    fs_label: str
    fs: float
    signal: np.ndarray
    ref: np.ndarray
    ref_symbols: tuple[str, ...]
    vf_spans: np.ndarray  # inclusive [start, end] sample spans of ventricular flutter ([ .. ])

    @property
    def duration_s(self) -> float:
        return self.signal.size / self.fs


def to_rate(x: np.ndarray, fs_label: str) -> tuple[np.ndarray, float]:
    """Channel-0 signal at 360 Hz → the signal at the rate ``fs_label`` ("360" or "130")."""
    if fs_label == "360":
        return np.asarray(x, dtype=np.float64), NATIVE_FS
    return resample_poly(x, 13, 36), POLAR_FS


def scale_samples(samples: np.ndarray, fs_label: str, n: int) -> np.ndarray:
    """360 Hz sample indices → indices at ``fs_label`` (scaled by 130/360 and rounded)."""
    s = np.asarray(samples, dtype=np.int64)
    if fs_label == "360":
        return s
    return np.clip(np.round(s * (POLAR_FS / NATIVE_FS)).astype(np.int64), 0, n - 1)


def reference_beats(record: str, data_dir: str | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Every beat annotation of the record's ``atr`` file (symbols :data:`BEAT_SYMBOLS`)."""
    import wfdb

    from cardiostream.datasets import dataset_dir

    ann = wfdb.rdann(os.fspath(dataset_dir("mitdb", data_dir) / record), "atr")
    keep = [i for i, s in enumerate(ann.symbol) if s in BEAT_SYMBOLS]
    return np.asarray(ann.sample, np.int64)[keep], tuple(ann.symbol[i] for i in keep)


def load_case(
    record: str, fs_label: str, data_dir: str | None = None, max_seconds: float | None = None
) -> Case:
    """Load a record's channel 0 at a rate, its reference beats and VF episodes."""
    from cardiostream.datasets import load_mitdb_record, mitdb_vf_episodes

    x = load_mitdb_record(record, data_dir).lead(0)
    ref, symbols = reference_beats(record, data_dir)
    vf = mitdb_vf_episodes(record, data_dir)
    if max_seconds is not None:
        n = round(max_seconds * NATIVE_FS)
        x = x[:n]
        keep = ref < n
        ref, symbols = ref[keep], tuple(s for s, k in zip(symbols, keep, strict=True) if k)
        vf = np.clip(vf[vf[:, 0] < n], 0, n - 1)
    sig, fs = to_rate(x, fs_label)
    return Case(
        record=record,
        fs_label=fs_label,
        fs=fs,
        signal=sig,
        ref=scale_samples(ref, fs_label, sig.size),
        ref_symbols=symbols,
        vf_spans=scale_samples(vf, fs_label, sig.size).reshape(-1, 2),
    )


# --------------------------------------------------------------------------- evaluation


@dataclass
class RecordResult:
    """Counts and seconds of every detector on one record at one rate."""

    record: str
    fs_label: str
    duration_s: float
    n_ref: int
    counts: dict[str, Counts] = field(default_factory=dict)
    counts_vf_excluded: dict[str, Counts] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def evaluate_case(case: Case, detectors: Sequence[str]) -> RecordResult:
    """Run the detectors on one case and compare them with the reference beats."""
    res = RecordResult(case.record, case.fs_label, case.duration_s, int(case.ref.size))
    ref_no_vf = outside_spans(case.ref, case.vf_spans)
    for name in detectors:
        peaks, sec = run_detector(name, case.signal, case.fs)
        res.counts[name] = match(case.ref, peaks, case.fs)
        res.counts_vf_excluded[name] = match(
            ref_no_vf, outside_spans(peaks, case.vf_spans), case.fs
        )
        res.seconds[name] = sec
    return res


def _evaluate_job(args: tuple[str, str, tuple[str, ...], str | None, float | None]) -> RecordResult:
    record, fs_label, detectors, data_dir, max_seconds = args
    return evaluate_case(load_case(record, fs_label, data_dir, max_seconds), detectors)


def gross(results: Iterable[RecordResult], detector: str, vf_excluded: bool = False) -> dict:
    """Gross Se, +P, F1 (percent), summed counts and seconds per 30-minute record."""
    total, seconds, duration = Counts(0, 0, 0), 0.0, 0.0
    for r in results:
        total = total + (r.counts_vf_excluded if vf_excluded else r.counts)[detector]
        seconds += r.seconds[detector]
        duration += r.duration_s
    out: dict[str, Any] = metrics(total)
    out["sec_per_record"] = round(seconds / duration * RECORD_S, 4) if duration else 0.0
    out.update(total.as_json())
    return out


# --------------------------------------------------------------------------- noise stress test


def _noise_job(
    args: tuple[str, str, tuple[str, ...], tuple[str, ...], str | None],
) -> dict[str, Any]:
    """All SNR levels of one (record, noise) pair, every rate and detector."""
    record, noise_name, fs_labels, detectors, data_dir = args
    from cardiostream.datasets import load_mitdb_record, load_nstdb_noise
    from cardiostream.quality import assess_quality, gate_peaks, noise_stress

    x = load_mitdb_record(record, data_dir).lead(0)
    z = load_nstdb_noise(noise_name, data_dir).lead(0)
    ref360, symbols = reference_beats(record, data_dir)
    normal = ref360[np.isin(np.asarray(symbols), NORMAL_SYMBOLS)]
    out: dict[str, Any] = {}
    levels: list[tuple[str, np.ndarray, np.ndarray]] = [("clean", x, np.zeros((0, 2), np.int64))]
    for snr in NOISE_SNRS_DB:
        noisy = noise_stress(x, z, NATIVE_FS, normal, float(snr), protocol="nst")
        levels.append((str(snr), noisy.signal, noisy.noisy_spans))
    for level, sig360, spans360 in levels:
        lv: dict[str, Any] = {}
        for fs_label in fs_labels:
            sig, fs = to_rate(sig360, fs_label)
            ref = scale_samples(ref360, fs_label, sig.size)
            start = round(NOISE_SCORE_FROM_S * fs)
            spans = scale_samples(spans360, fs_label, sig.size).reshape(-1, 2)
            ref_scored = within(ref, start, sig.size)
            noisy_mask = unusable_mask(spans, sig.size)
            ref_noisy = ref_scored[noisy_mask[ref_scored]]
            for name in detectors:
                peaks, sec = run_detector(name, sig, fs)
                scored = within(peaks, start, sig.size)
                c = match(ref_scored, scored, fs)
                entry: dict[str, Any] = {**c.as_json(), **metrics(c), "seconds": round(sec, 4)}
                if spans.size:
                    cn = match(ref_noisy, scored[noisy_mask[scored]], fs)
                    entry["noisy_only"] = {**cn.as_json(), **metrics(cn)}
                if name == "cardiostream_offline":
                    # quality-gated: drop detections in unusable spans, score usable beats only
                    rep = assess_quality(sig, fs, peaks)
                    gated = gate_peaks(peaks, rep)
                    usable_ref = gate_peaks(ref_scored, rep)
                    cg = match(usable_ref, within(gated, start, sig.size), fs)
                    entry["gated_usable_only"] = {
                        **cg.as_json(),
                        **metrics(cg),
                        "ref_beats_kept": round(usable_ref.size / max(ref_scored.size, 1), 4),
                    }
                lv[f"{name}@{fs_label}"] = entry
            bad = unusable_mask(assess_quality(sig, fs).unusable_spans, sig.size)
            flagged = bad[ref_scored]
            q: dict[str, Any] = {
                "flagged_beats": round(float(flagged.mean()) if flagged.size else 0.0, 4),
                "flagged_samples_scored": round(float(bad[start:].mean()), 4),
            }
            if spans.size:
                in_noise = noisy_mask[ref_scored]
                q["flagged_beats_noisy"] = round(float(flagged[in_noise].mean()), 4)
                q["flagged_beats_clean"] = round(float(flagged[~in_noise].mean()), 4)
            lv[f"quality@{fs_label}"] = q
        out[level] = lv
    return {"record": record, "noise": noise_name, "levels": out}


def unusable_mask(spans: np.ndarray, n: int) -> np.ndarray:
    """Boolean mask of the samples inside half-open ``[start, stop)`` spans."""
    mask = np.zeros(n, dtype=bool)
    for a, b in np.asarray(spans, dtype=np.int64).reshape(-1, 2):
        mask[a:b] = True
    return mask


def noise_summary(noise_runs: list[dict[str, Any]], detectors: Sequence[str],
                  fs_labels: Sequence[str]) -> dict[str, Any]:
    """Se/+P per noise type, level and detector, pooled over the noise records."""
    summary: dict[str, Any] = {}
    for noise_name in NOISE_TYPES:
        runs = [r for r in noise_runs if r["noise"] == noise_name]
        if not runs:
            continue
        per_level: dict[str, Any] = {}
        for level in ("clean", *map(str, NOISE_SNRS_DB)):
            lv: dict[str, Any] = {}
            for fs_label in fs_labels:
                for name in detectors:
                    key = f"{name}@{fs_label}"
                    tot = Counts(0, 0, 0)
                    for r in runs:
                        e = r["levels"][level][key]
                        tot = tot + Counts(e["TP"], e["FP"], e["FN"])
                    lv[key] = {**metrics(tot), **tot.as_json()}
                qk = f"quality@{fs_label}"
                flagged = [r["levels"][level][qk]["flagged_beats"] for r in runs]
                lv[qk] = {"flagged_beats_mean": round(float(np.mean(flagged)), 4)}
                noisy = [r["levels"][level][qk].get("flagged_beats_noisy") for r in runs]
                if all(v is not None for v in noisy):
                    lv[qk]["flagged_beats_noisy_mean"] = round(float(np.mean(noisy)), 4)
            per_level[level] = lv
        summary[noise_name] = per_level
    return summary


def plot_noise(summary: dict[str, Any], detectors: Sequence[str], fs_labels: Sequence[str],
               path: Path) -> None:
    """Se and +P versus SNR per detector (solid 360 Hz, dashed 130 Hz), one column per noise."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    noises = [n for n in NOISE_TYPES if n in summary]
    fig, axes = plt.subplots(2, len(noises), figsize=(6 * len(noises), 7), squeeze=False)
    snrs = list(NOISE_SNRS_DB)
    for j, noise_name in enumerate(noises):
        for i, metric in enumerate(("Se", "PPV")):
            ax = axes[i, j]
            for k, name in enumerate(detectors):
                for fs_label in fs_labels:
                    ys = [summary[noise_name][str(s)][f"{name}@{fs_label}"][metric] for s in snrs]
                    ax.plot(snrs, ys, marker="o", color=f"C{k}",
                            linestyle="-" if fs_label == "360" else "--",
                            label=f"{name} @{fs_label} Hz")
            ax.invert_xaxis()
            ax.set_xlabel("SNR (dB)")
            ax.set_ylabel(f"{'+P' if metric == 'PPV' else 'Se'} (%)")
            ax.set_title(f"nstdb '{noise_name}' on 118 + 119: {metric}")
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- report


def _fmt(v: float) -> str:
    return f"{v:.2f}"


def build_results(
    results: list[RecordResult],
    detectors: Sequence[str],
    fs_labels: Sequence[str],
    prov: dict[str, Any],
    jobs: int,
    noise_runs: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """The JSON document (strict keys first, then the clearly labelled extras)."""
    records = sorted({r.record for r in results})
    by_fs = {f: [r for r in results if r.fs_label == f] for f in fs_labels}
    data: dict[str, Any] = {
        "gross": {},
        "per_record": {rec: {} for rec in records},
    }
    for f in fs_labels:
        for name in detectors:
            g = gross(by_fs[f], name)
            data["gross"][f"{name}@{f}"] = {
                k: g[k] for k in ("Se", "PPV", "F1", "sec_per_record")
            }
        for r in by_fs[f]:
            for name in detectors:
                data["per_record"][r.record][f"{name}@{f}"] = r.counts[name].as_json()
    data.update(prov)
    data["config"] = {
        "records": records,
        "fs": list(fs_labels),
        "detectors": list(detectors),
        "channel": 0,
        "beat_symbols": sorted(BEAT_SYMBOLS),
        "match_window_s": MATCH_WINDOW_S,
        "matcher": "wfdb.processing.compare_annotations, |dt| <= 150 ms",
        "resample_130": "scipy.signal.resample_poly(x, 13, 36); "
        "reference samples * 130/360, rounded",
        "streaming_chunk_samples": {f: chunk_size(float(f)) for f in fs_labels},
        "jobs": jobs,
        "timings_sequential": jobs == 1,
        "sec_per_record": "sum of detector seconds / sum of record durations * 1800 s",
    }
    data["gross_counts"] = {
        f"{name}@{f}": gross(by_fs[f], name) for f in fs_labels for name in detectors
    }
    data["n_reference_beats"] = {f: int(sum(r.n_ref for r in by_fs[f])) for f in fs_labels}
    no_paced = [rec for rec in records if rec not in PACED]
    data["gross_44_no_paced"] = {
        "description": "Gross over the records given minus the paced 102, 104, 107, 217 "
        "(AAMI EC57 practice); 44 records in a full run.",
        "records": no_paced,
        "gross": {
            f"{name}@{f}": gross([r for r in by_fs[f] if r.record in no_paced], name)
            for f in fs_labels
            for name in detectors
        },
    }
    vf_records = sorted({r.record for r in results if r.counts_vf_excluded != r.counts})
    data["ec57_vf_excluded"] = {
        "description": "EC57 variant: reference beats and detections inside ventricular "
        "flutter/fibrillation episodes ('[' to ']', record 207) are not scored.",
        "gross": {
            f"{name}@{f}": gross(by_fs[f], name, vf_excluded=True)
            for f in fs_labels
            for name in detectors
        },
        "per_record": {
            r.record: {
                f"{name}@{r.fs_label}": r.counts_vf_excluded[name].as_json() for name in detectors
            }
            for r in results
            if r.record in vf_records
        },
    }
    data["seconds_per_record"] = {
        rec: {
            f"{name}@{r.fs_label}": round(r.seconds[name], 4)
            for r in results
            if r.record == rec
            for name in detectors
        }
        for rec in records
    }
    if noise_runs is not None:
        data["noise"] = {
            "description": "Records 118 and 119 (channel 0) with nstdb noise channel 0 added by "
            "the nst standard protocol (clean 0-5 min, then noise on in alternate 2-min periods); "
            "SNR = 10 log10(S/N), S = (trimmed-mean QRS peak-to-peak of the first 300 normal "
            "beats)^2 / 8, N = (trimmed-mean 1-s RMS of the first 300 s of noise)^2 (nst(1)). "
            "Scored from 5:00 to the end (EC57); 'noisy_only' scores the noisy periods only. "
            "quality flags: assess_quality on the signal alone; fraction of scored reference "
            "beats inside unusable segments. 'gated_usable_only': cardiostream_offline peaks "
            "gated by assess_quality(signal, fs, peaks), scored on the reference beats outside "
            "its unusable spans.",
            "records": list(NOISE_RECORDS),
            "noises": list(NOISE_TYPES),
            "snr_db": list(NOISE_SNRS_DB),
            "runs": {f"{r['record']}_{r['noise']}": r["levels"] for r in noise_runs},
            "summary": noise_summary(noise_runs, detectors, fs_labels),
        }
    return data


def render_markdown(data: dict[str, Any], results: list[RecordResult]) -> str:
    """Human-readable report of a benchmark run."""
    cfg = data["config"]
    detectors, fs_labels = cfg["detectors"], cfg["fs"]
    lines = [
        "# QRS detection benchmark: MIT-BIH Arrhythmia Database",
        "",
        provenance_md(data),
        f"- Records ({len(cfg['records'])}): {', '.join(cfg['records'])}",
        "",
        "Channel 0, every reference beat annotation (`N L R B A a J S V r F e j n E / f Q ?`), "
        "one-to-one matching within 150 ms (`wfdb.processing.compare_annotations`). At 130 Hz "
        "the signal is `resample_poly(x, 13, 36)` and reference samples are scaled by 130/360. "
        "Streaming chunks: "
        + ", ".join(f"{v} samples at {k} Hz" for k, v in cfg["streaming_chunk_samples"].items())
        + ". Seconds: `time.perf_counter` around the detector call only (peers include their "
        "own cleaning), scaled to a 30-minute record. "
        + ("Detectors ran sequentially (`--jobs 1`), so the seconds are comparable."
           if cfg["timings_sequential"] else
           f"**Timings are not comparable: `--jobs {cfg['jobs']}` ran records in parallel.**"),
        "",
        "## Gross results (strict: all records given, every beat)",
        "",
    ]
    rows = []
    for key, g in data["gross_counts"].items():
        rows.append([key, _fmt(g["Se"]), _fmt(g["PPV"]), _fmt(g["F1"]), g["TP"], g["FP"], g["FN"],
                     f"{g['sec_per_record']:.3f}"])
    head = ["detector@fs", "Se %", "+P %", "F1 %", "TP", "FP", "FN", "s / 30-min record"]
    lines += [md_table(head, rows), ""]
    lines += ["Reference beats: " + "; ".join(
        f"{n:,} at {f} Hz" for f, n in data["n_reference_beats"].items()) + ".", ""]
    np44 = data["gross_44_no_paced"]
    lines += [
        f"## Gross without paced records ({len(np44['records'])} records)",
        "",
        np44["description"],
        "",
        md_table(head[:7], [[k, _fmt(g["Se"]), _fmt(g["PPV"]), _fmt(g["F1"]), g["TP"], g["FP"],
                             g["FN"]] for k, g in np44["gross"].items()]),
        "",
        "## EC57 variant: ventricular flutter episodes not scored",
        "",
        data["ec57_vf_excluded"]["description"],
        "",
        md_table(head[:7], [[k, _fmt(g["Se"]), _fmt(g["PPV"]), _fmt(g["F1"]), g["TP"], g["FP"],
                             g["FN"]] for k, g in data["ec57_vf_excluded"]["gross"].items()]),
        "",
        "## Published reference numbers (context only; different protocols)",
        "",
        md_table(["source", "reported"], [list(p) for p in PUBLISHED]),
        "",
        "None of the peers (XQRS, NeuroKit2, py-ecg-detectors) publishes its own MIT-BIH gross "
        "Se/+P that we could find; their numbers above are from this run.",
        "",
    ]
    if "noise" in data:
        lines += _noise_markdown(data["noise"], detectors, fs_labels)
    lines += ["## Per record", ""]
    for f in fs_labels:
        rows = []
        for r in sorted((r for r in results if r.fs_label == f), key=lambda r: r.record):
            for name in detectors:
                c = r.counts[name]
                m = metrics(c)
                rows.append([r.record, name, c.tp, c.fp, c.fn, _fmt(m["Se"]), _fmt(m["PPV"]),
                             _fmt(m["F1"]), f"{r.seconds[name]:.3f}"])
        lines += [
            f"<details><summary>{f} Hz: TP, FP, FN, Se, +P, F1 per record and detector</summary>",
            "",
            md_table(["record", "detector", "TP", "FP", "FN", "Se %", "+P %", "F1 %", "s"], rows),
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines)


def _noise_markdown(noise: dict[str, Any], detectors: Sequence[str],
                    fs_labels: Sequence[str]) -> list[str]:
    lines = ["## Noise stress test (records 118 + 119, pooled)", "", noise["description"], ""]
    for noise_name, per_level in noise["summary"].items():
        for f in fs_labels:
            head = ["SNR dB", *[f"{d} Se / +P" for d in detectors], "quality: beats flagged "
                    "(noisy periods)"]
            rows = []
            for level, lv in per_level.items():
                q = lv[f"quality@{f}"]
                flagged = f"{100 * q['flagged_beats_mean']:.1f} %"
                if "flagged_beats_noisy_mean" in q:
                    flagged += f" ({100 * q['flagged_beats_noisy_mean']:.1f} %)"
                rows.append([level, *[f"{_fmt(lv[f'{d}@{f}']['Se'])} / "
                                      f"{_fmt(lv[f'{d}@{f}']['PPV'])}" for d in detectors],
                             flagged])
            lines += [f"### nstdb `{noise_name}` at {f} Hz", "", md_table(head, rows), ""]
    lines += ["Plot: `qrs_noise.png` (Se and +P versus SNR).", ""]
    return lines


# --------------------------------------------------------------------------- main


def _progress():  # rich progress bar, quiet when not on a terminal
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not sys.stderr.isatty(),
    )


def _map(func: Callable[[Any], Any], jobs_args: list[Any], jobs: int, label: str) -> list[Any]:
    out: list[Any] = []
    with _progress() as progress:
        task = progress.add_task(label, total=len(jobs_args))
        if jobs <= 1:
            for a in jobs_args:
                progress.update(task, description=f"{label} {a[0]}@{a[1]}")
                out.append(func(a))
                progress.advance(task)
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                for res in pool.map(func, jobs_args):
                    out.append(res)
                    progress.advance(task)
    return out


def run_benchmark(
    records: Sequence[str],
    fs_labels: Sequence[str] = FS_LABELS,
    out_dir: str | os.PathLike[str] = "benchmarks/results",
    *,
    noise: bool = False,
    jobs: int = 1,
    detectors: Sequence[str] = DETECTORS,
    data_dir: str | None = None,
    max_seconds: float | None = None,
    argv: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Run the benchmark and write ``qrs.json`` / ``qrs.md`` (and ``qrs_noise.png``) to ``out_dir``.

    ``max_seconds`` truncates every record (tests use it); the noise test always uses whole
    records 118 and 119.
    """
    prov = provenance(argv)
    det = tuple(detectors)
    args = [(rec, f, det, data_dir, max_seconds) for rec in records for f in fs_labels]
    results: list[RecordResult] = _map(_evaluate_job, args, jobs, "records")
    noise_runs = None
    if noise:
        nargs = [(rec, n, tuple(fs_labels), det, data_dir) for rec in NOISE_RECORDS
                 for n in NOISE_TYPES]
        noise_runs = _map(_noise_job, nargs, jobs, "noise")
    data = build_results(results, det, fs_labels, prov, jobs, noise_runs)
    write_results(out_dir, "qrs", data, render_markdown(data, results))
    if noise_runs is not None:
        plot_noise(data["noise"]["summary"], det, fs_labels, Path(out_dir) / "qrs_noise.png")
    return data


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", default=None,
                   help="comma-separated MIT-BIH record ids (default: all 48)")
    p.add_argument("--fs", choices=("native", "130"), default=None,
                   help="native (360 Hz) or 130 Hz (Polar H10); default: both")
    p.add_argument("--out", default="benchmarks/results", help="output directory")
    p.add_argument("--noise", action="store_true",
                   help="also run the noise stress test (118, 119 with nstdb bw and ma)")
    p.add_argument("--jobs", type=int, default=1,
                   help="worker processes (default 1; keep 1 for honest timings)")
    p.add_argument("--detectors", default=",".join(DETECTORS),
                   help="comma-separated subset of: " + ", ".join(DETECTORS))
    p.add_argument("--data-dir", default=None, help="data root (default: see cardiostream)")
    p.add_argument("--max-seconds", type=float, default=None,
                   help="only the first N seconds of each record (smoke runs)")
    a = p.parse_args(argv)
    if a.jobs < 1:
        p.error(f"--jobs must be >= 1, got {a.jobs}")
    unknown = [d for d in a.detectors.split(",") if d not in DETECTORS]
    if unknown:
        p.error(f"unknown detector(s) {unknown}; choose from {', '.join(DETECTORS)}")
    return a


def main(argv: Sequence[str] | None = None) -> int:
    a = parse_args(argv)
    from cardiostream.datasets import MITDB_RECORDS

    records = tuple(MITDB_RECORDS) if a.records is None else tuple(
        r.strip() for r in a.records.split(",") if r.strip()
    )
    bad = [r for r in records if r not in MITDB_RECORDS]
    if bad:
        print(f"error: unknown MIT-BIH record(s) {bad}", file=sys.stderr)
        return 2
    fs_labels = FS_LABELS if a.fs is None else ("360" if a.fs == "native" else "130",)
    t0 = time.perf_counter()
    data = run_benchmark(
        records, fs_labels, a.out, noise=a.noise, jobs=a.jobs,
        detectors=tuple(a.detectors.split(",")), data_dir=a.data_dir,
        max_seconds=a.max_seconds, argv=None if argv is None else [sys.argv[0], *argv],
    )
    for key, g in data["gross"].items():
        print(f"{key:32s} Se {g['Se']:7.3f}  +P {g['PPV']:7.3f}  F1 {g['F1']:7.3f}  "
              f"{g['sec_per_record']:.3f} s/record")
    print(f"wrote {Path(a.out) / 'qrs.json'} and qrs.md in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
