"""Rhythm-event benchmark on the MIT-BIH Arrhythmia Database's reference rhythm annotations.

Usage::

    python benchmarks/events.py                      # all 48 records, reference beat labels
    python benchmarks/events.py --records 119,207 --out /tmp/ev
    python benchmarks/events.py --model              # + labels of the shipped beat classifier

Protocol. For every record, the *reference* beats of ``atr`` (every beat annotation, AAMI-mapped
by :func:`cardiostream.datasets.load_mitdb_annotations`, all usable, no gaps) are given to
:func:`cardiostream.events.detect_events` with the default :class:`~cardiostream.events.
EventConfig`. Detected episodes of each type are compared with the reference rhythm episodes
(:func:`cardiostream.datasets.load_mitdb_rhythm`: from a rhythm annotation to the next one):

=============  ======================
event          reference rhythm
=============  ======================
bigeminy       ``(B``
trigeminy      ``(T``
vt             ``(VT``
svt            ``(SVTA``
af             ``(AFIB``
bradycardia    ``(SBR``
=============  ======================

Extra rows vary one thing (:data:`ROW_NOTES`): every ventricular run of 3 or more beats
against ``(VT``, AF against ``(AFIB`` or ``(AFL``, AF with S intervals kept, bradycardia
below 60 bpm.

Episode matching, in the spirit of ANSI/AAMI EC57's episode statistics, in two variants:

- *any overlap*: a reference episode is detected (counts for Se) when a detected episode of the
  type overlaps it by more than 0 s; a detected episode is true (counts for +P) when it overlaps
  a reference episode of the type.
- *50 % overlap*: a reference episode is detected when detected episodes of the type cover at
  least half its duration; a detected episode is true when reference episodes cover at least
  half of its duration.

Duration Se = reference time covered by detections / reference time; duration +P = detected
time covered by the reference / detected time (overlaps of unions, so no time counts twice).
Se and +P are totals over all records (gross statistics), in percent; undefined ones are null.
The other event kinds (pause, couplet, tachycardia ...) have no reference rhythm in MIT-BIH and
are only counted.

With ``--model``, beats are the cardiostream R-peaks of channel 0 labelled by the shipped
classifier (:func:`cardiostream.load_default_model`) through :func:`cardiostream.analyze.
analyze_record` (quality-gated beats become ``inconclusive`` and unusable), and the same scoring
is repeated; skipped with a message when the model is not installed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``_common`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import md_table, provenance, provenance_md, write_results
from cardiostream.events import Event, EventConfig, EventKind, detect_events

#: Scored rows: (row name, event kinds, reference rhythm labels, EventConfig overrides).
#: Rows with overrides are sensitivity analyses of one default (stated in the report).
SCORED: tuple[tuple[str, tuple[str, ...], tuple[str, ...], dict[str, Any]], ...] = (
    ("bigeminy", ("bigeminy",), ("B",), {}),
    ("trigeminy", ("trigeminy",), ("T",), {}),
    ("vt", ("vt",), ("VT",), {}),
    ("vt_any_rate", ("vt", "triplet", "ventricular_run"), ("VT",), {}),
    ("svt", ("svt",), ("SVTA",), {}),
    ("af", ("af",), ("AFIB",), {}),
    ("af_vs_afib_afl", ("af",), ("AFIB", "AFL"), {}),
    ("af_S_kept", ("af",), ("AFIB",), {"af_exclude_labels": ("F", "V")}),
    ("bradycardia", ("bradycardia",), ("SBR",), {}),
    ("bradycardia_60bpm", ("bradycardia",), ("SBR",), {"brady_bpm": 60.0}),
)
#: What each row tells (markdown notes).
ROW_NOTES: dict[str, str] = {
    "vt_any_rate": "every run of >= 3 V (VT, triplet or ventricular run) against `(VT`: "
    "MIT-BIH also labels runs at or below 100 bpm `(VT`",
    "af_vs_afib_afl": "AF events against `(AFIB` or `(AFL`",
    "af_S_kept": "AF with `af_exclude_labels=(F, V)`: intervals touching S beats kept",
    "bradycardia_60bpm": "`brady_bpm=60` (the textbook sinus-bradycardia limit) instead of 50",
}
MATCHINGS = ("any_overlap", "half_overlap")
#: Rows shown per record.
PER_RECORD_ROWS = ("bigeminy", "trigeminy", "vt", "svt", "af", "bradycardia")
Span = tuple[float, float]


# --------------------------------------------------------------------------- matching


def union(spans: Iterable[Span]) -> list[Span]:
    """Merge overlapping or touching spans into disjoint sorted spans."""
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def covered(span: Span, others: Sequence[Span]) -> float:
    """Seconds of ``span`` covered by the disjoint spans ``others``."""
    a, b = span
    return sum(max(0.0, min(b, d) - max(a, c)) for c, d in others)


def _hit(span: Span, others: Sequence[Span], rule: str) -> bool:
    a, b = span
    if rule == "any_overlap":
        return any(min(b, d) > max(a, c) for c, d in others)
    return covered(span, others) >= 0.5 * (b - a) and b > a


@dataclass
class Score:
    """Episode and duration counts of one event type (summable over records)."""

    n_ref: int = 0
    n_det: int = 0
    ref_hit: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MATCHINGS, 0))
    det_hit: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MATCHINGS, 0))
    ref_s: float = 0.0
    det_s: float = 0.0
    overlap_s: float = 0.0

    def add(self, other: Score) -> None:
        self.n_ref += other.n_ref
        self.n_det += other.n_det
        for m in MATCHINGS:
            self.ref_hit[m] += other.ref_hit[m]
            self.det_hit[m] += other.det_hit[m]
        self.ref_s += other.ref_s
        self.det_s += other.det_s
        self.overlap_s += other.overlap_s

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n_ref": self.n_ref, "n_det": self.n_det}
        for m in MATCHINGS:
            out[m] = {
                "Se": _pct(self.ref_hit[m], self.n_ref),
                "PPV": _pct(self.det_hit[m], self.n_det),
                "ref_detected": self.ref_hit[m],
                "det_true": self.det_hit[m],
            }
        out["duration"] = {
            "Se": _pct(self.overlap_s, self.ref_s),
            "PPV": _pct(self.overlap_s, self.det_s),
            "ref_s": round(self.ref_s, 1),
            "det_s": round(self.det_s, 1),
            "overlap_s": round(self.overlap_s, 1),
        }
        return out


def _pct(num: float, den: float) -> float | None:
    return round(100.0 * num / den, 2) if den else None


def score(ref: Sequence[Span], det: Sequence[Span]) -> Score:
    """Compare reference and detected episodes of one type on one record."""
    ref_u, det_u = union(ref), union(det)
    s = Score(n_ref=len(ref), n_det=len(det))
    for m in MATCHINGS:
        s.ref_hit[m] = sum(_hit(r, det_u, m) for r in ref)
        s.det_hit[m] = sum(_hit(d, ref_u, m) for d in det)
    s.ref_s = sum(b - a for a, b in ref_u)
    s.det_s = sum(b - a for a, b in det_u)
    s.overlap_s = sum(covered(r, det_u) for r in ref_u)
    return s


# --------------------------------------------------------------------------- per record


@dataclass
class RecordResult:
    record: str
    n_beats: int
    seconds: float
    events: Counter[str]
    scores: dict[str, Score]


def reference_episodes(record: str, data_dir: str | None) -> dict[str, list[Span]]:
    """Reference rhythm episodes of a record in seconds, by rhythm label."""
    from cardiostream.datasets import load_mitdb_rhythm

    out: dict[str, list[Span]] = {}
    for ep in load_mitdb_rhythm(record, data_dir):
        out.setdefault(ep.label, []).append((ep.start / 360.0, ep.end / 360.0))
    return out


def reference_beats(record: str, data_dir: str | None) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]:
    """Times (s), AAMI labels and usable flags (all True) of the reference beats."""
    from cardiostream.datasets import load_mitdb_annotations

    ann = load_mitdb_annotations(record, data_dir)
    return ann.samples / ann.fs, np.asarray(ann.aami), np.ones(len(ann.samples), bool)


def model_beats(record: str, data_dir: str | None, classifier: Any) -> tuple[np.ndarray,
                                                                           np.ndarray, np.ndarray]:
    """Times, labels and usable flags of the detected beats labelled by ``classifier``."""
    from cardiostream.analyze import analyze_record
    from cardiostream.datasets import load_mitdb_record

    rec = load_mitdb_record(record, data_dir)
    res = analyze_record(rec, lead=0, classifier=classifier)
    labels = res.beats.labels if res.beats is not None else np.full(res.n_beats, "inconclusive")
    return res.r_peaks / rec.fs, np.asarray(labels), np.asarray(res.beat_usable)


def evaluate(record: str, beats: tuple[np.ndarray, np.ndarray, np.ndarray],
             ref: dict[str, list[Span]], config: EventConfig) -> RecordResult:
    """Detect events with ``config`` (and each row's overrides) and score every row."""
    t, labels, usable = beats
    t0 = time.perf_counter()
    events = detect_events(t, labels, usable, config=config)
    seconds = time.perf_counter() - t0
    cache: dict[str, tuple[Event, ...]] = {"": events}
    scores = {}
    for name, kinds, ref_labels, overrides in SCORED:
        key = repr(sorted(overrides.items()))
        if key not in cache:
            cache[key] = detect_events(t, labels, usable, config=replace(config, **overrides))
        det = [(e.start_s, e.end_s) for e in cache[key if overrides else ""] if e.kind in kinds]
        scores[name] = score([s for lab in ref_labels for s in ref.get(lab, [])], det)
    return RecordResult(record, int(t.size), seconds, Counter(e.kind.value for e in events),
                        scores)


def run(records: Sequence[str], data_dir: str | None, source: str, config: EventConfig,
        classifier: Any = None) -> list[RecordResult]:
    out = []
    for r in records:
        ref = reference_episodes(r, data_dir)
        beats = (reference_beats(r, data_dir) if source == "reference"
                 else model_beats(r, data_dir, classifier))
        out.append(evaluate(r, beats, ref, config))
        print(f"{source} {r}: {out[-1].n_beats} beats, {sum(out[-1].events.values())} events",
              flush=True)
    return out


def summarise(results: Sequence[RecordResult]) -> dict[str, Any]:
    totals = {name: Score() for name, *_ in SCORED}
    per_record: dict[str, Any] = {}
    counts: Counter[str] = Counter()
    for res in results:
        counts.update(res.events)
        rec: dict[str, Any] = {}
        for name, s in res.scores.items():
            totals[name].add(s)
            if s.n_ref or s.n_det:
                rec[name] = {"n_ref": s.n_ref, "n_det": s.n_det,
                             "ref_detected": s.ref_hit["any_overlap"],
                             "det_true": s.det_hit["any_overlap"]}
        per_record[res.record] = rec
    n_beats = sum(r.n_beats for r in results)
    seconds = sum(r.seconds for r in results)
    return {
        "scores": {name: s.as_json() for name, s in totals.items()},
        "event_counts": {k.value: counts.get(k.value, 0) for k in EventKind},
        "per_record": per_record,
        "n_records": len(results),
        "n_beats": n_beats,
        "detect_seconds": round(seconds, 3),
        "beats_per_second": round(n_beats / seconds) if seconds else None,
    }


# --------------------------------------------------------------------------- output


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f}"


def markdown(data: dict[str, Any]) -> str:
    cfg = data["config"]["event_config"]
    parts = [
        "# Rhythm events on MIT-BIH Arrhythmia (reference rhythm annotations)",
        "",
        provenance_md(data["provenance"]),
        "",
        "Protocol: `benchmarks/events.py` docstring. Reference beat labels (AAMI classes of "
        "`atr`, all usable, no gaps) → `cardiostream.events.detect_events` with the default "
        "`EventConfig`; episodes compared with the `atr` rhythm episodes. *Any*: any overlap; "
        "*50 %*: at least half of the episode's duration covered by the other side; *duration*: "
        "time overlap of the unions. Gross totals over the records, percent.",
        "",
        f"Config: `{cfg}`",
        "",
    ]
    for source, block in data["results"].items():
        if "skipped" in block:
            parts += [f"## Labels: {source}", "", f"Skipped: {block['skipped']}", ""]
            continue
        rows = []
        for name, s in block["scores"].items():
            a, h, d = s["any_overlap"], s["half_overlap"], s["duration"]
            rows.append([name, s["n_ref"], s["n_det"], _fmt(a["Se"]), _fmt(a["PPV"]),
                         _fmt(h["Se"]), _fmt(h["PPV"]), _fmt(d["Se"]), _fmt(d["PPV"]),
                         f"{d['ref_s']:.0f}", f"{d['det_s']:.0f}"])
        parts += [
            f"## Labels: {source} ({block['n_records']} records, {block['n_beats']} beats, "
            f"{block['beats_per_second']} beats/s through detect_events)",
            "",
            md_table(["event", "ref episodes", "detected", "Se any", "+P any", "Se 50 %",
                      "+P 50 %", "Se dur", "+P dur", "ref s", "det s"], rows),
            "",
            *[f"- `{k}`: {v}" for k, v in ROW_NOTES.items()],
            "",
            "Events of every kind (default config): "
            + ", ".join(f"{k} {v}" for k, v in block["event_counts"].items()),
            "",
            "Records with a reference episode or a detection (any-overlap counts, "
            "ref detected/ref, true/detected):",
            "",
            md_table(
                ["record", *PER_RECORD_ROWS],
                [
                    [rec, *[
                        (f"{v['ref_detected']}/{v['n_ref']}, {v['det_true']}/{v['n_det']}"
                         if (v := cells.get(n)) else "")
                        for n in PER_RECORD_ROWS
                    ]]
                    for rec, cells in block["per_record"].items()
                    if any(n in cells for n in PER_RECORD_ROWS)
                ],
            ),
            "",
        ]
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    from cardiostream.datasets import MITDB_RECORDS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", default=",".join(MITDB_RECORDS),
                    help="comma-separated MIT-BIH records (default: all 48)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    ap.add_argument("--name", default="events", help="output file stem")
    ap.add_argument("--model", action="store_true",
                    help="also score labels of the shipped beat classifier on detected beats")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    records = [r.strip() for r in args.records.split(",") if r.strip()]
    config = EventConfig()
    results: dict[str, Any] = {
        "reference": summarise(run(records, args.data_dir, "reference", config))
    }
    if args.model:
        from cardiostream import load_default_model
        from cardiostream.errors import DataNotFoundError

        try:
            clf = load_default_model()
        except DataNotFoundError as e:
            print(f"--model skipped: {e}", file=sys.stderr)
            results["model"] = {"skipped": str(e)}
        else:
            results["model"] = summarise(run(records, args.data_dir, "model", config, clf))
    data = {
        "provenance": provenance(argv if argv is None else [sys.argv[0], *argv]),
        "config": {"records": records, "event_config": _config_dict(config),
                   "matchings": list(MATCHINGS),
                   "scored": {n: {"events": list(k), "reference": list(r),
                                  "config_overrides": _jsonable(o)}
                              for n, k, r, o in SCORED}},
        "results": results,
    }
    pj, pm = write_results(args.out, args.name, data, markdown(data))
    print(f"wrote {pj} and {pm}")
    return 0


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}


def _config_dict(config: EventConfig) -> dict[str, Any]:
    from dataclasses import asdict

    return _jsonable(asdict(config))


if __name__ == "__main__":
    sys.exit(main())
