"""Speed of every :mod:`cardiostream.signal` step, offline and streaming, beside peers.

Usage::

    python benchmarks/signal_speed.py                         # records 100, 105, 119; best of 3
    python benchmarks/signal_speed.py --records 100 --repeat 1 --out /tmp/speed

Input: channel 0 of each 30-minute MIT-BIH record at its native 360 Hz and resampled to 130 Hz
(Polar H10 rate; ``scipy.signal.resample_poly(x, 13, 36)`` via :func:`cardiostream.signal.resample`,
not timed). Streaming forms are fed the chunks a Polar H10 sends, 73 samples at 130 Hz, and
chunks of the same duration, 202 samples, at 360 Hz, then flushed; the time covers every push
and the flush. Offline forms and peers get the whole channel in one call.

Steps (parameters of the default chain where it has them): resampling 360 → 130 Hz and 130 →
360 Hz, 0.5-40 Hz order-4 band-pass, 50 Hz notch (Q 30), double-median baseline (0.2 s, 0.6 s),
db8 VisuShrink denoising at the default depth, z-score (global; running over 30 s streaming), the
default chain (baseline + band-pass, :func:`~cardiostream.signal.preprocess` /
:func:`~cardiostream.signal.streaming_preprocessor`) and paper 001's chain (baseline + wavelet).
Peers, where one exists: ``scipy.signal.medfilt`` twice (baseline, zero-padded edges),
NeuroKit2 ``nk.signal_filter`` (Butterworth band-pass with ``sosfiltfilt``; ``powerline``, a
one-period moving average, for the notch) and ``nk.ecg_clean`` (its default cleaning: 0.5 Hz
high-pass and powerline, for the chain), ``wfdb.processing.resample_sig`` (FFT resampling),
VisuShrink written with plain PyWavelets calls, ``scipy.stats.zscore``. Peers do similar, not
identical, work; they are there to place the numbers.

Timing: ``time.process_time`` (CPU seconds of this process; other jobs on the machine affect it
less than wall time, which is recorded too) around each call with the garbage collector off, best
of ``--repeat`` runs per record, summed over records. ``samples/s`` and the real-time factor
(seconds of ECG per CPU second) come from those sums; ``s / 30 min`` scales them to a 30-minute
record. Polar capacity: how many 130 Hz streams one core could run through the default
streaming chain, ``floor(real-time factor)``, counting nothing else (no detection, no I/O).
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``_common`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import md_table, package_versions, provenance, provenance_md, write_results
from cardiostream import signal as cs

NATIVE_FS = 360.0
POLAR_FS = 130.0
POLAR_CHUNK = 73  # samples per Polar H10 ECG notification
RATES = (NATIVE_FS, POLAR_FS)
DEFAULT_RECORDS = ("100", "105", "119")
RECORD_S = 1800.0
ZSCORE_WINDOW_S = 30.0
PAPER_CHAIN = cs.PreprocessConfig(bandpass_hz=None, wavelet="db8")
EXTRA_PACKAGES = ("PyWavelets", "rich")


def chunk_size(fs: float) -> int:
    """73 samples at 130 Hz (Polar H10), the same duration at other rates (202 at 360 Hz)."""
    return max(1, round(POLAR_CHUNK * fs / POLAR_FS))


@dataclass(frozen=True)
class Case:
    """One implementation of one step: ``run(x)`` for offline forms and peers, ``make()`` for
    streaming forms (a fresh step, fed in chunks)."""

    step: str
    impl: str
    form: str  # "offline", "streaming" or "peer"
    run: Callable[[np.ndarray], Any] | None = None
    make: Callable[[], cs.StreamingStep] | None = None


def _pywt_visushrink(level: int) -> Callable[[np.ndarray], np.ndarray]:
    import pywt

    def run(x: np.ndarray) -> np.ndarray:
        coeffs = pywt.wavedec(x, "db8", level=level)
        thr = np.median(np.abs(coeffs[-1])) / 0.6745 * np.sqrt(2 * np.log(x.size))
        coeffs[1:] = [pywt.threshold(c, thr, mode="soft") for c in coeffs[1:]]
        return pywt.waverec(coeffs, "db8")

    return run


def cases(fs: float) -> list[Case]:
    """Every step at rate ``fs``: our offline and streaming forms, then the peers."""
    import neurokit2 as nk
    from scipy.signal import medfilt
    from scipy.stats import zscore
    from wfdb.processing import resample_sig

    other = POLAR_FS if fs == NATIVE_FS else NATIVE_FS
    rs = f"resample {fs:g}->{other:g}"
    w1, w2 = (cs.odd_window(s, fs) for s in cs.DEFAULT_WINDOWS_S)
    level = cs.default_level(fs)
    window = round(ZSCORE_WINDOW_S * fs)
    return [
        Case(rs, "cardiostream", "offline", run=lambda x: cs.resample(x, fs, other)),
        Case(rs, "cardiostream", "streaming", make=lambda: cs.StreamingResampler(fs, other)),
        Case(rs, "wfdb resample_sig", "peer", run=lambda x: resample_sig(x, fs, other)),
        Case("bandpass", "cardiostream", "offline", run=lambda x: cs.bandpass(x, fs, 0.5, 40.0)),
        Case("bandpass", "cardiostream", "streaming",
             make=lambda: cs.StreamingBandpass(fs, 0.5, 40.0)),
        Case("bandpass", "nk.signal_filter butterworth", "peer",
             run=lambda x: nk.signal_filter(x, fs, 0.5, 40.0, method="butterworth", order=4)),
        Case("notch 50 Hz", "cardiostream", "offline", run=lambda x: cs.notch(x, fs)),
        Case("notch 50 Hz", "cardiostream", "streaming", make=lambda: cs.StreamingNotch(fs)),
        Case("notch 50 Hz", "nk.signal_filter powerline", "peer",
             run=lambda x: nk.signal_filter(x, fs, method="powerline", powerline=50)),
        Case("baseline", "cardiostream", "offline", run=lambda x: cs.remove_baseline(x, fs)),
        Case("baseline", "cardiostream", "streaming", make=lambda: cs.StreamingBaseline(fs)),
        Case("baseline", "scipy medfilt x2", "peer",
             run=lambda x: x - medfilt(medfilt(x, w1), w2)),
        Case(f"wavelet db8 L{level}", "cardiostream", "offline",
             run=lambda x: cs.wavelet_denoise(x, fs=fs)),
        Case(f"wavelet db8 L{level}", "cardiostream", "streaming",
             make=lambda: cs.StreamingWaveletDenoiser(fs=fs)),
        Case(f"wavelet db8 L{level}", "pywt (plain)", "peer", run=_pywt_visushrink(level)),
        Case("zscore", "cardiostream", "offline", run=cs.zscore),
        Case("zscore", "cardiostream (30 s running)", "streaming",
             make=lambda: cs.RunningZScore(window)),
        Case("zscore", "scipy.stats.zscore", "peer", run=zscore),
        Case("chain: default", "cardiostream", "offline", run=lambda x: cs.preprocess(x, fs)),
        Case("chain: default", "cardiostream", "streaming",
             make=lambda: cs.streaming_preprocessor(fs)),
        Case("chain: default", "nk.ecg_clean", "peer",
             run=lambda x: nk.ecg_clean(x, sampling_rate=fs)),
        Case("chain: paper 001", "cardiostream", "offline",
             run=lambda x: cs.preprocess(x, fs, PAPER_CHAIN)),
        Case("chain: paper 001", "cardiostream", "streaming",
             make=lambda: cs.streaming_preprocessor(fs, PAPER_CHAIN)),
    ]


def _timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """CPU and wall seconds of one call, garbage collector off."""
    gc.collect()
    gc.disable()
    try:
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        return time.process_time() - c0, time.perf_counter() - w0
    finally:
        gc.enable()


def _stream(step: cs.StreamingStep, x: np.ndarray, chunk: int) -> None:
    for i in range(0, x.size, chunk):
        step.push(x[i : i + chunk])
    step.flush()


def time_case(case: Case, x: np.ndarray, chunk: int) -> tuple[float, float]:
    """CPU and wall seconds of one run of ``case`` on ``x``."""
    if case.make is not None:
        step = case.make()  # built outside the timing, as a service would at connection time
        return _timed(lambda: _stream(step, x, chunk))
    run = case.run
    if run is None:
        raise ValueError(f"case {case.step!r} / {case.impl!r} has neither run nor make")
    return _timed(lambda: run(x))


def _progress():  # rich progress bar on stderr
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=Console(stderr=True), transient=False,
    )


def load_channels(records: Sequence[str]) -> dict[float, list[np.ndarray]]:
    """Channel 0 of each record at 360 Hz and resampled to 130 Hz."""
    from cardiostream.datasets import load_mitdb_record

    native = [np.array(load_mitdb_record(r).signal[:, 0]) for r in records]
    return {NATIVE_FS: native, POLAR_FS: [cs.resample(x, NATIVE_FS, POLAR_FS) for x in native]}


def run_benchmark(records: Sequence[str], repeat: int) -> dict[str, Any]:
    channels = load_channels(records)
    plan = {fs: cases(fs) for fs in RATES}
    total = sum(len(c) for c in plan.values()) * len(records) * repeat
    rows: list[dict[str, Any]] = []
    with warnings.catch_warnings(), _progress() as bar:
        warnings.simplefilter("ignore")  # peers' advisory warnings must not flood the bar
        task = bar.add_task("signal steps", total=total)
        for fs, fs_cases in plan.items():
            chunk = chunk_size(fs)
            for case in fs_cases:
                cpu = wall = 0.0
                pushes = 0
                for x in channels[fs]:
                    best_cpu, best_wall = math.inf, math.inf
                    for _ in range(repeat):
                        bar.update(task, description=f"{fs:g} Hz {case.step} {case.form}"[:40])
                        c, w = time_case(case, x, chunk)
                        best_cpu, best_wall = min(best_cpu, c), min(best_wall, w)
                        bar.advance(task)
                    cpu += best_cpu
                    wall += best_wall
                    pushes += math.ceil(x.size / chunk)
                n = sum(x.size for x in channels[fs])
                seconds = n / fs
                rows.append({
                    "fs": fs,
                    "step": case.step,
                    "impl": case.impl,
                    "form": case.form,
                    "chunk": chunk if case.form == "streaming" else None,
                    "cpu_s": cpu,
                    "wall_s": wall,
                    "cpu_s_per_30min": cpu / seconds * RECORD_S,
                    "samples_per_s": n / cpu,
                    "realtime_factor": seconds / cpu,
                    "us_per_push": cpu / pushes * 1e6 if case.form == "streaming" else None,
                })
    polar = next(r for r in rows if r["fs"] == POLAR_FS and r["step"] == "chain: default"
                 and r["form"] == "streaming")
    native = next(r for r in rows if r["fs"] == NATIVE_FS and r["step"] == "chain: default"
                  and r["form"] == "streaming")
    return {
        "rows": rows,
        "polar_streams_per_core": math.floor(polar["realtime_factor"]),
        "native_streams_per_core": math.floor(native["realtime_factor"]),
        "seconds_of_ecg": {f"{fs:g}": sum(x.size for x in channels[fs]) / fs for fs in RATES},
    }


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def markdown(data: dict[str, Any], prov: dict[str, Any]) -> str:
    lines = [
        "# cardiostream.signal speed, offline and streaming",
        "",
        provenance_md(prov),
        f"- Records: {', '.join(data['records'])} (MIT-BIH, channel 0, 30 min each); best of "
        f"{data['repeat']} per record; CPU time of this process.",
        f"- Streaming chunks: {chunk_size(NATIVE_FS)} samples at 360 Hz, {POLAR_CHUNK} at 130 Hz "
        "(Polar H10 notifications), then flush.",
        "",
        f"**One core could carry {data['polar_streams_per_core']:,} Polar H10 streams (130 Hz) "
        f"through the default streaming chain** (baseline + band-pass; "
        f"{data['native_streams_per_core']:,} streams at 360 Hz), counting only signal "
        "processing.",
        "",
        "`x real time` = seconds of ECG processed per CPU second.",
        "",
    ]
    header = ["step", "implementation", "form", "CPU s / 30 min", "samples/s", "x real time",
              "us / push"]
    for fs in RATES:
        rows = [
            [r["step"], r["impl"], r["form"], f"{r['cpu_s_per_30min']:.3f}",
             _fmt(r["samples_per_s"]), _fmt(r["realtime_factor"]),
             "" if r["us_per_push"] is None else f"{r['us_per_push']:.0f}"]
            for r in data["rows"] if r["fs"] == fs
        ]
        lines += [f"## {fs:g} Hz", "", md_table(header, rows), ""]
    lines += [
        "Peers do comparable, not identical, work: `medfilt` pads with zeros, `nk.ecg_clean` is "
        "a 0.5 Hz high-pass plus a moving-average powerline filter, `nk.signal_filter "
        "powerline` is that moving average, `resample_sig` resamples by FFT. Streaming times "
        "include the per-push Python overhead that a live service pays.",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", default=",".join(DEFAULT_RECORDS),
                   help="comma-separated MIT-BIH record ids (default %(default)s)")
    p.add_argument("--repeat", type=int, default=3, help="runs per record, best kept")
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"),
                   help="output directory (default benchmarks/results)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    a = parse_args(argv)
    from cardiostream.datasets import MITDB_RECORDS

    records = [r.strip() for r in a.records.split(",") if r.strip()]
    bad = [r for r in records if r not in MITDB_RECORDS]
    if bad or not records or a.repeat < 1:
        print(f"error: need known MIT-BIH records and --repeat >= 1, got {bad or records} "
              f"and {a.repeat}", file=sys.stderr)
        return 2
    prov = provenance(None if argv is None else [sys.argv[0], *argv])
    prov["versions"].update(package_versions(EXTRA_PACKAGES))
    t0 = time.perf_counter()
    result = run_benchmark(records, a.repeat)
    data = {**prov, "records": records, "repeat": a.repeat,
            "chunks": {"360": chunk_size(NATIVE_FS), "130": POLAR_CHUNK}, **result}
    pj, pm = write_results(a.out, "signal_speed", data, markdown(data, prov))
    print(f"Polar H10 streams per core (default chain, 130 Hz): {data['polar_streams_per_core']}")
    print(f"wrote {pj} and {pm} in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
