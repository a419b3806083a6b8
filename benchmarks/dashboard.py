"""Benchmark of the clinician dashboard (issue 6): live strip lag behind the device.

"Sample time to pixel": for every ECG sample a simulated device produces during the measurement
window, the wall-clock time at which the patient view first drew a strip containing it, minus
the wall-clock time at which the device recorded it. Bar: p99 <= 1000 ms with 16 live patients.

Set-up, everything real and on this machine:

* the **service** (``create_app``: engine, shipped beat model, SQLite store, uvicorn) runs in a
  child process of this script (``--serve-internal``), nothing in it changed or instrumented;
* the **simulated devices** (:class:`cardiostream.simulate.client.DeviceClient`, synthetic ECG
  at 130 Hz in frames of 73 samples like a Polar H10, paced in real time) run in a thread of this
  process. Each device's clock starts at the wall-clock time its client starts pacing
  (``time.time_ns()`` taken on the first frame request), so sample ``i`` is recorded at wall time
  ``t_start + i / fs``, and its frame is sent when its last sample is due; the benchmark records
  the actual send times too;
* **Chromium** (Debian's, headless, driven by Playwright) opens the ward view (all patients' tiles)
  and ``--views`` patient views, each page in its own window (browser context: Chromium runs the
  animation frames of a window's background tabs at about 1 Hz). An init script, injected by this
  benchmark and not part of the front end, records in each page: every strip redraw
  (``performance.timeOrigin + performance.now()`` in a microtask queued from the strip's ``onDraw``
  callback, which runs in the ``requestAnimationFrame`` callback right after ``setData``, i.e. after
  uPlot's own draw microtask: the canvas holds the new samples, the compositor shows them at the
  next frame) with the device time of the newest sample drawn; every run of samples received (live
  WebSocket batches with the server's send time, and read-API back-fills); every animation frame
  (frame rate) and long task.

A sample's first drawing is the first redraw after the page received it whose newest sample is
at or after it; a sample the page never received counts as never drawn (infinite lag). Browser and
service share the machine's clock (``performance.timeOrigin`` is wall-clock based); the offset
between the page's clock and Python's is checked and recorded. Lags are split into stages:
device framing (a sample waits for the rest of its 73-sample notification), the frame's last
sample to the server's live batch, server to page, page to pixel.

Usage: ``python benchmarks/dashboard.py [--patients 16 --seconds 60 --views 4]``; add
``--screenshots docs/img`` to refresh the README's screenshots after the measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import md_table, provenance, provenance_md, write_results

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).resolve().parent / "results"
FS = 130.0
#: Samples per device frame (one Polar H10 PMD ECG notification at 130 Hz).
SAMPLES_PER_FRAME = 73
BAR_MS = 1000.0
#: A frame longer than this counts as a long (janky) frame.
LONG_FRAME_MS = 50.0
#: (name, synthetic source options) of the simulated patients, cycled beyond 16.
PATIENTS: tuple[tuple[str, str], ...] = (
    ("Ada Lovelace", "hr=72,pvc=0.1"),
    ("Alan Turing", "hr=150"),  # tachycardia: a warning alert after its sustain time
    ("Grace Hopper", "hr=64,pvc=0.25"),
    ("Emmy Noether", "hr=80"),
    ("Marie Curie", "hr=58"),
    ("Rosalind Franklin", "hr=95,pvc=0.05"),
    ("Dorothy Hodgkin", "hr=70,emg=0.03"),
    ("Lise Meitner", "hr=88"),
    ("Katherine Johnson", "hr=66,pvc=0.15"),
    ("Barbara McClintock", "hr=76"),
    ("Chien-Shiung Wu", "hr=102"),
    ("Hedy Lamarr", "hr=62,baseline=0.15"),
    ("Mary Somerville", "hr=84,pvc=0.08"),
    ("Sophie Germain", "hr=74"),
    ("Florence Nightingale", "hr=68,mains=0.03"),
    ("Willem Einthoven", "hr=90,pvc=0.2"),
)
#: Patient whose view is saved as the README's patient-view screenshot (PVCs, so V beats show).
SCREENSHOT_PATIENT = 2
TOKEN_KEY = "cardiostream.token"  # the front end's sessionStorage key (web/src/main.js)

#: Page instrumentation (Playwright init script; ``__TOKEN__`` is replaced). It signs the tab
#: in, wraps WebSocket to time live batches, wraps the strip's onDraw to time redraws, counts
#: animation frames and long tasks. Times are wall-clock milliseconds.
PROBE_JS = """
(() => {
  const P = { draws: [], msgs: [], fills: [], frames: [], longtasks: [], hooks: 0 };
  window.__lagprobe = P;
  sessionStorage.setItem("__KEY__", "__TOKEN__");
  const wall = () => performance.timeOrigin + performance.now();
  const segments = (gs) => (gs || []).map((g) => [g.start_ns / 1e6, g.fs, g.samples_uv.length]);
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (ev) => {
        const t = wall();
        let m;
        try { m = JSON.parse(ev.data); } catch (e) { return; }
        let newest = null;
        for (const g of m.samples || []) {
          const end = (g.start_ns + (g.samples_uv.length - 1) * 1e9 / g.fs) / 1e6;
          if (newest === null || end > newest) newest = end;
        }
        P.msgs.push([t, m.server_ns / 1e6, newest, segments(m.samples)]);
      });
    }
  };
  // samples back-filled from the read API (page open, reconnects) count as delivered too
  const nativeFetch = window.fetch.bind(window);
  window.fetch = async (...args) => {
    const r = await nativeFetch(...args);
    if (String(args[0]).includes("/strip?")) {
      r.clone().json().then((j) => P.fills.push([wall(), segments(j.segments)])).catch(() => {});
    }
    return r;
  };
  let hooked = null;
  function hook() {
    const s = window.__cs && window.__cs.strip;
    if (!s || s === hooked || !s.onDraw) return;
    hooked = s;
    const orig = s.onDraw;
    s.onDraw = (info) => {
      orig(info);
      const newest = info.lastNs === null ? null : info.lastNs / 1e6;
      queueMicrotask(() => P.draws.push([wall(), newest]));
    };
    P.hooks += 1;
  }
  function tick(ts) {
    P.frames.push(performance.timeOrigin + ts);
    hook();
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        P.longtasks.push([performance.timeOrigin + e.startTime, e.duration]);
      }
    }).observe({ type: "longtask", buffered: true });
  } catch (e) { /* no long-task API */ }
})();
"""
COLLECT_JS = """([t0, t1]) => {
  const P = window.__lagprobe;
  const inside = (r) => r[0] >= t0 && r[0] <= t1;
  return { draws: P.draws.filter(inside), msgs: P.msgs.filter(inside), fills: P.fills,
           frames: P.frames.filter((t) => t >= t0 && t <= t1),
           longtasks: P.longtasks.filter(inside), hooks: P.hooks,
           visibility: document.visibilityState };
}"""


# ================================================================================ pure helpers


def percentile(values: Sequence[float] | np.ndarray, q: float) -> float | None:
    """Nearest-rank percentile (an observed value; ``inf`` entries count as the largest).

    Returns ``None`` for no values.
    """
    a = np.asarray(values, dtype=np.float64)
    if a.size == 0:
        return None
    return float(np.percentile(a, q, method="inverted_cdf"))


def sample_times_ms(
    t_start_ns: int, fs: float, n_samples: int, t0_ms: float, t1_ms: float
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and wall-clock times (ms) of a device's samples recorded in ``[t0_ms, t1_ms]``.

    Sample ``i`` of a device whose first sample was recorded at ``t_start_ns`` (wall clock, ns)
    is recorded at ``t_start_ns / 1e6 + 1000 i / fs``.
    """
    start_ms = t_start_ns / 1e6
    dt = 1000.0 / fs
    lo = max(0, math.ceil((t0_ms - start_ms) / dt))
    hi = min(n_samples - 1, math.floor((t1_ms - start_ms) / dt))
    idx = np.arange(lo, hi + 1, dtype=np.int64) if hi >= lo else np.zeros(0, np.int64)
    return idx, start_ms + idx * dt


def arrival_ms(
    idx: np.ndarray, t_start_ns: int, fs: float, deliveries: Sequence[tuple[float, float, int]]
) -> np.ndarray:
    """When the page received each of a device's samples ``idx`` (``inf``: never).

    Parameters
    ----------
    idx : array of int
        Consecutive sample indices of the device.
    t_start_ns : int
        Wall-clock time of the device's sample 0 (ns).
    fs : float
    deliveries : sequence of (received ms, first sample's time ms, number of samples)
        The runs of samples the page received (live batches and read-API back-fills).
    """
    i = np.asarray(idx, dtype=np.int64)
    out = np.full(i.shape, np.inf)
    if i.size == 0:
        return out
    if np.any(np.diff(i) != 1):
        raise ValueError("idx must be consecutive sample indices")
    start_ms = t_start_ns / 1e6
    for recv, first_ms, n in deliveries:
        a = round((first_ms - start_ms) * fs / 1000.0) - int(i[0])
        lo, hi = max(0, a), min(i.size, a + int(n))
        if hi > lo:
            np.minimum(out[lo:hi], recv, out=out[lo:hi])
    return out


def first_draw_lags(
    sample_ms: np.ndarray,
    draw_wall_ms: np.ndarray,
    draw_newest_ms: np.ndarray,
    received_ms: np.ndarray | None = None,
    tol_ms: float = 0.5,
) -> np.ndarray:
    """For each sample, the time of the first redraw that contains it, minus the sample's time.

    A redraw contains a sample when the sample was received before it and the redraw reaches
    at least as far as the sample (the strip keeps what it was sent, in time order). ``tol_ms``
    absorbs float rounding of nanosecond device times. Samples that no redraw contains (never
    received, or received after the last redraw) get ``inf``.

    Parameters
    ----------
    sample_ms : array
        Sample times (wall-clock ms).
    draw_wall_ms, draw_newest_ms : array
        Per redraw: when it was drawn and its newest sample's time (NaN: nothing drawn yet).
    received_ms : array, optional
        When the page received each sample (``inf``: never); default: every sample counts as
        received as soon as a redraw reaches it.
    """
    s = np.asarray(sample_ms, dtype=np.float64)
    w = np.asarray(draw_wall_ms, dtype=np.float64)
    nw = np.asarray(draw_newest_ms, dtype=np.float64)
    if w.shape != nw.shape:
        raise ValueError(
            f"draw_wall_ms and draw_newest_ms differ in shape: {w.shape} vs {nw.shape}"
        )
    out = np.full(s.shape, np.inf)
    if w.size == 0 or s.size == 0:
        return out
    order = np.argsort(w, kind="stable")
    w, nw = w[order], np.where(np.isnan(nw[order]), -np.inf, nw[order])
    reach = np.maximum.accumulate(nw)  # newest sample drawn by each redraw, running
    k = np.searchsorted(reach, s - tol_ms, side="left")
    if received_ms is not None:
        r = np.asarray(received_ms, dtype=np.float64)
        if r.shape != s.shape:
            raise ValueError(f"received_ms has shape {r.shape}, the samples {s.shape}")
        k = np.maximum(k, np.searchsorted(w, r, side="left"))  # inf -> w.size
    ok = k < w.size
    out[ok] = w[k[ok]] - s[ok]
    return out


def framing_ms(
    idx: np.ndarray, n_samples: int, fs: float, per_frame: int = SAMPLES_PER_FRAME
) -> np.ndarray:
    """How long each sample waits on the device for the last sample of its frame (ms)."""
    i = np.asarray(idx, dtype=np.int64)
    last = np.minimum((i // per_frame + 1) * per_frame - 1, n_samples - 1)
    return (last - i) * 1000.0 / fs


def lag_summary(lags_ms: np.ndarray) -> dict[str, Any]:
    """Count, samples never drawn, p50, p99, max (ms, rounded to 0.1 ms).

    A percentile that falls on a sample never drawn (``inf``) is ``None`` (JSON has no
    infinity); ``n_not_drawn`` says how many there were.
    """
    a = np.asarray(lags_ms, dtype=np.float64)
    r: dict[str, Any] = {"n": int(a.size), "n_not_drawn": int(np.count_nonzero(~np.isfinite(a)))}
    for key, q in (("p50_ms", 50), ("p99_ms", 99), ("max_ms", 100)):
        v = percentile(a, q)
        r[key] = None if v is None or not math.isfinite(v) else round(v, 1)
    return r


def frame_stats(frame_ms: Sequence[float] | np.ndarray) -> dict[str, Any]:
    """Frame rate and frame intervals from ``requestAnimationFrame`` times (ms)."""
    t = np.sort(np.asarray(frame_ms, dtype=np.float64))
    if t.size < 2:
        return {
            "frames": int(t.size),
            "fps": None,
            "interval_p50_ms": None,
            "interval_p99_ms": None,
            "interval_max_ms": None,
            "long_frames": 0,
        }
    d = np.diff(t)
    return {
        "frames": int(t.size),
        "fps": round((t.size - 1) / ((t[-1] - t[0]) / 1000.0), 1),
        "interval_p50_ms": round(float(np.median(d)), 1),
        "interval_p99_ms": round(float(percentile(d, 99)), 1),
        "interval_max_ms": round(float(d.max()), 1),
        "long_frames": int(np.count_nonzero(d > LONG_FRAME_MS)),
    }


def _finite(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a[np.isfinite(a)]


def stage_summary(values: np.ndarray) -> dict[str, float | int | None]:
    """p50 / p99 / max (ms) of one stage's durations."""
    a = _finite(values)
    return {
        "n": int(a.size),
        **{
            k: (None if a.size == 0 else round(float(percentile(a, q)), 1))
            for k, q in (("p50_ms", 50), ("p99_ms", 99), ("max_ms", 100))
        },
    }


# ================================================================================ processes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _loadavg() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def _cpu_ticks(pid: int) -> int | None:
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(f[11]) + int(f[12])


def _process_tree(root: int) -> dict[int, str]:
    """Descendants of ``root`` (itself included): pid -> command name."""
    parent: dict[int, int] = {}
    comm: dict[int, str] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            head, tail = (d / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        pid = int(d.name)
        comm[pid] = head.split("(", 1)[1]
        parent[pid] = int(tail.split()[1])
    out = {root: comm.get(root, "?")}
    grew = True
    while grew:
        grew = False
        for pid, pp in parent.items():
            if pp in out and pid not in out:
                out[pid] = comm[pid]
                grew = True
    return out


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot (/proc/stat)."""
    v = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


class CpuMeter:
    """CPU seconds by group (service, Chromium, Playwright driver, this process) over a window,
    and the whole machine's busy share (which includes other users' jobs)."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid

    def _group(self, pid: int, name: str, server: set[int]) -> str:
        if pid in server:
            return "service"
        if pid == os.getpid():
            return "benchmark (simulated devices)"
        if name.startswith("chrom"):
            return "chromium"
        if name == "node":
            return "playwright driver"
        return "other children"

    def snapshot(self) -> dict[str, Any]:
        server = set(_process_tree(self.server_pid))
        groups: dict[str, int] = {}
        for pid, name in _process_tree(os.getpid()).items():
            t = _cpu_ticks(pid)
            if t is not None:
                g = self._group(pid, name, server)
                groups[g] = groups.get(g, 0) + t
        return {"t": time.monotonic(), "groups": groups, "machine": _machine_ticks()}

    @staticmethod
    def delta(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        hz = os.sysconf("SC_CLK_TCK")
        wall = b["t"] - a["t"]
        # processes that exited in between are missing from b: count only positive deltas
        pct = {
            g: round(100.0 * max(0, b["groups"].get(g, 0) - a["groups"].get(g, 0)) / hz / wall, 1)
            for g in sorted(set(a["groups"]) | set(b["groups"]))
        }
        busy = b["machine"][0] - a["machine"][0]
        total = b["machine"][1] - a["machine"][1]
        ncpu = os.cpu_count() or 1
        machine = 100.0 * ncpu * busy / max(1, total)
        return {
            "pct_of_one_core": pct,
            "machine_busy_pct_of_one_core": round(machine, 1),
            "machine_capacity_pct": 100 * ncpu,
            "outside_this_benchmark_pct_of_one_core": round(
                max(0.0, machine - sum(pct.values())), 1
            ),
        }


def serve_internal(args: argparse.Namespace) -> None:
    """The service under test (child process): stock app, SQLite file, shipped model."""
    import uvicorn

    from cardiostream.service.app import create_app, load_classifier
    from cardiostream.service.config import ServiceSettings

    settings = ServiceSettings(
        db_url=args.db, model=args.model, port=args.port, torch_threads=1, idle_timeout_s=60.0
    )
    app = create_app(settings, classifier=load_classifier(args.model))
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, log_level="warning", ws_per_message_deflate=False
    )


def _populate(db_url: str, n: int) -> dict[str, Any]:
    """Patients with a device and device token each, and a clinician assigned to all."""
    from cardiostream.store import Store

    store = Store(db_url)
    store.migrate()
    user = store.add_user("bench_clinician", "clinician", "Dr Bench")
    patients = []
    for i in range(n):
        name, opts = PATIENTS[i % len(PATIENTS)]
        ext = f"bed-{i + 1:02d}"
        p = store.add_patient(ext, name if i < len(PATIENTS) else f"{name} ({i + 1})")
        d = store.add_device(p.id, f"h10-{ext}")
        store.assign(user.id, p.id)
        patients.append(
            {
                "id": p.id,
                "ext": ext,
                "serial": d.serial,
                "name": p.name,
                "spec": f"synthetic:{opts},seed={i + 1}",
                "token": store.create_device_token(d.id).plaintext,
            }
        )
    token = store.create_user_token(user.id).plaintext
    store.close()
    return {"patients": patients, "token": token}


@dataclasses.dataclass
class DeviceRecord:
    """What one simulated device did: its clock start (wall ns) and frame send times."""

    spec: str
    n_samples: int = 0
    t_start_ns: int | None = None
    #: (frame seq, due in stream seconds, sent at wall-clock ns)
    sends: list[tuple[int, float, int]] = dataclasses.field(default_factory=list)


def _timed_events(src: Any, patient: dict[str, Any], rec: DeviceRecord) -> Iterator[Any]:
    """The device's send events; its clock starts when the client asks for the first one
    (right after it took its pacing origin), and each frame's send time is recorded when the
    client asks for the next one (it has sent this one by then)."""
    from cardiostream.simulate import Send, device_frames

    rec.t_start_ns = time.time_ns()
    for tf in device_frames(
        src, patient["ext"], patient["serial"], stream_id=1, t_start_ns=rec.t_start_ns
    ):
        yield Send(tf.frame, tf.due_s)
        rec.sends.append((tf.frame.seq, tf.due_s, time.time_ns()))


class Simulator:
    """Simulated devices streaming in real time, in a thread with its own event loop."""

    def __init__(self, url: str, patients: list[dict[str, Any]], duration_s: float) -> None:
        from cardiostream.simulate import load_source

        self.url = url
        self.patients = patients
        self.sources = [
            load_source(p["spec"], FS, duration_s=duration_s, seed=i)
            for i, p in enumerate(patients)
        ]
        self.records = [
            DeviceRecord(p["spec"], s.n_samples)
            for p, s in zip(patients, self.sources, strict=True)
        ]
        self.stats: list[Any] = []
        self.loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(self._run(),), daemon=True
        )

    async def _run(self) -> None:
        from cardiostream.simulate.client import ClientConfig, DeviceClient

        self._stop = asyncio.Event()
        cfg = ClientConfig(url=self.url, speed=1.0)
        clients = [DeviceClient(p["ext"], p["serial"], 1, cfg, p["token"]) for p in self.patients]
        jobs = [
            asyncio.create_task(c.run(_timed_events(s, p, r)))
            for c, s, p, r in zip(clients, self.sources, self.patients, self.records, strict=True)
        ]
        await self._stop.wait()
        for j in jobs:
            j.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
        self.stats = [c.stats for c in clients]

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        for _ in range(100):
            if self._stop is not None:
                break
            time.sleep(0.01)
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(timeout=30)


def _wait_healthy(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(1200):
        with (
            contextlib.suppress(OSError, ValueError),
            urllib.request.urlopen(f"{base}/healthz", timeout=2) as r,
        ):
            if json.loads(r.read()).get("status") == "ok":
                return
        if server.poll() is not None:
            raise RuntimeError(f"the service exited:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    raise RuntimeError("the service did not start within 120 s")


# ================================================================================ measurement


def _analyse(
    pages: list[dict[str, Any]], sim: Simulator, t0_ms: float, t1_ms: float
) -> dict[str, Any]:
    """Lags per view and pooled, stages, frame rates."""
    all_lags, all_frame, all_edge = [], [], []
    stages: dict[str, list[np.ndarray]] = {
        "device_to_server_batch": [],
        "server_to_page": [],
        "page_to_pixel": [],
        "device_send_late": [],
    }
    per_view = []
    for pg in pages:
        d = pg["data"]
        draws = np.array(
            [[r[0], np.nan if r[1] is None else r[1]] for r in d["draws"]], dtype=np.float64
        ).reshape(-1, 2)
        row: dict[str, Any] = {
            "view": pg["name"],
            "fps": frame_stats(d["frames"]),
            "long_tasks": len(d["longtasks"]),
            "long_task_ms": round(sum(x[1] for x in d["longtasks"]), 1),
            "visibility": d["visibility"],
            "hooks": d["hooks"],
        }
        if pg["patient_index"] is not None:
            k = pg["patient_index"]
            rec = sim.records[k]
            assert rec.t_start_ns is not None
            idx, s_ms = sample_times_ms(rec.t_start_ns, FS, rec.n_samples, t0_ms, t1_ms)
            runs = [(m[0], g[0], g[2]) for m in [*d["msgs"], *d["fills"]] for g in m[-1]]
            received = arrival_ms(idx, rec.t_start_ns, FS, runs)
            lags = first_draw_lags(s_ms, draws[:, 0], draws[:, 1], received)
            row["samples_never_received"] = int(np.count_nonzero(~np.isfinite(received)))
            all_lags.append(lags)
            all_frame.append(framing_ms(idx, rec.n_samples, FS))
            ok = np.isfinite(draws[:, 1]) & (draws[:, 0] >= t0_ms)
            edge = draws[ok, 0] - draws[ok, 1]
            all_edge.append(edge)
            row["lag"] = lag_summary(lags)
            row["redraws"] = int(np.count_nonzero(ok))
            msgs = np.array(
                [[m[0], m[1], np.nan if m[2] is None else m[2]] for m in d["msgs"]],
                dtype=np.float64,
            ).reshape(-1, 3)
            msgs = msgs[np.isfinite(msgs[:, 2])]
            stages["device_to_server_batch"].append(msgs[:, 1] - msgs[:, 2])
            stages["server_to_page"].append(msgs[:, 0] - msgs[:, 1])
            reached = first_draw_lags(msgs[:, 2], draws[:, 0], draws[:, 1], msgs[:, 0])
            to_pixel = reached - (msgs[:, 0] - msgs[:, 2])
            stages["page_to_pixel"].append(to_pixel)
            row["page_to_pixel"] = stage_summary(to_pixel)
            late = [
                (sent / 1e6) - (rec.t_start_ns / 1e6 + 1000 * due)
                for _, due, sent in rec.sends
                if t0_ms <= rec.t_start_ns / 1e6 + 1000 * due <= t1_ms
            ]
            stages["device_send_late"].append(np.asarray(late, dtype=np.float64))
        per_view.append(row)
    lags = np.concatenate(all_lags) if all_lags else np.zeros(0)
    fr = np.concatenate(all_frame) if all_frame else np.zeros(0)
    return {
        "lag": lag_summary(lags),
        "lag_after_frame_complete": lag_summary(lags - fr),
        "framing": stage_summary(fr),
        "edge_lag": stage_summary(np.concatenate(all_edge) if all_edge else np.zeros(0)),
        "stages": {
            k: stage_summary(np.concatenate(v) if v else np.zeros(0)) for k, v in stages.items()
        },
        "per_view": per_view,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="dashbench_"))
    db_url = f"sqlite:///{workdir / 'dash.db'}"
    pop = _populate(db_url, args.patients)
    patients = pop["patients"]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = workdir / "server.log"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-internal"]
    cmd += ["--db", db_url, "--port", str(port), "--model", args.model]
    with open(log, "w") as err:
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    n_views = min(args.views, args.patients)
    out: dict[str, Any] = {
        "load_avg_start": _loadavg(),
        "niceness": os.nice(0),
        "sources": [p["spec"] for p in patients],
    }
    sim: Simulator | None = None
    try:
        _wait_healthy(base, server, log)
        duration = args.warmup + args.seconds + 180.0
        sim = Simulator(f"ws://127.0.0.1:{port}/ingest", patients, duration)
        sim.start()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=args.chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            out["chromium"] = browser.version
            probe = PROBE_JS.replace("__KEY__", TOKEN_KEY).replace("__TOKEN__", pop["token"])

            def window() -> Any:
                # one browser context (window) per page: Chromium runs the animation frames
                # of a window's background tabs at about 1 Hz, a window's page at full rate
                ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                ctx.add_init_script(probe)
                return ctx.new_page()

            pages = []
            ward = window()
            ward.goto(f"{base}/dashboard/#/ward")
            ward.wait_for_selector("#ward .tile", timeout=60_000)
            pages.append({"name": "ward", "page": ward, "patient_index": None})
            for k in range(n_views):
                pg = window()
                pg.goto(f"{base}/dashboard/#/patient/{patients[k]['id']}")
                pages.append(
                    {"name": f"patient {patients[k]['ext']}", "page": pg, "patient_index": k}
                )
            for p in pages[1:]:
                p["page"].wait_for_function(
                    "window.__lagprobe.hooks > 0 && window.__cs.strip.lastNs !== null",
                    timeout=60_000,
                )
            ward.wait_for_function(
                "n => document.querySelectorAll('#ward .tile').length === n",
                arg=args.patients,
                timeout=60_000,
            )
            time.sleep(args.warmup)
            meter = CpuMeter(server.pid)
            out["load_avg_window_start"] = _loadavg()
            c0 = meter.snapshot()
            t0_ms = time.time_ns() / 1e6
            time.sleep(args.seconds)
            t1_ms = time.time_ns() / 1e6
            c1 = meter.snapshot()
            out["load_avg_window_end"] = _loadavg()
            out["cpu"] = CpuMeter.delta(c0, c1)
            time.sleep(args.drain)  # samples recorded near t1 get drawn
            clock = []
            for p in pages:
                p["data"] = p["page"].evaluate(COLLECT_JS, [t0_ms, t1_ms + args.drain * 1000])
                clock.append({"view": p["name"], **_clock_offset(p["page"])})
            out["clock_check"] = clock
            for p in pages:  # the draws window is [t0, t1 + drain]; frame rate over [t0, t1]
                p["data"]["frames"] = [t for t in p["data"]["frames"] if t <= t1_ms]
            out["analysis"] = _analyse(pages, sim, t0_ms, t1_ms)
            if args.dump:
                Path(args.dump).write_text(
                    json.dumps(
                        {
                            "t0_ms": t0_ms,
                            "t1_ms": t1_ms,
                            "pages": [{k: v for k, v in p.items() if k != "page"} for p in pages],
                            "devices": [dataclasses.asdict(r) for r in sim.records],
                        }
                    )
                )
            out["window_s"] = round((t1_ms - t0_ms) / 1000, 2)
            if args.screenshots:
                _screenshots(window(), base, patients, Path(args.screenshots))
            browser.close()
    finally:
        if sim is not None:
            sim.stop()
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    out["devices_complete"] = None if sim is None else sum(1 for s in sim.stats if s.fatal is None)
    return out


def _clock_offset(page: Any, tries: int = 5) -> dict[str, float]:
    """The page's clock minus this process's, from the quickest of a few round trips."""
    best: tuple[float, float, float] | None = None
    for _ in range(tries):
        before = time.time_ns() / 1e6
        wall, date_now = page.evaluate(
            "() => [performance.timeOrigin + performance.now(), Date.now()]"
        )
        after = time.time_ns() / 1e6
        if best is None or after - before < best[0]:
            best = (after - before, wall - (before + after) / 2, date_now - wall)
    assert best is not None
    return {
        "page_minus_python_ms": round(best[1], 2),
        "round_trip_ms": round(best[0], 2),
        "date_now_minus_time_origin_clock_ms": round(best[2], 2),
    }


def _screenshots(pg: Any, base: str, patients: list[dict[str, Any]], folder: Path) -> None:
    """The ward view and a patient view, as the README shows them (on a fresh page)."""
    folder.mkdir(parents=True, exist_ok=True)
    pg.goto(f"{base}/dashboard/#/ward")
    pg.wait_for_selector("#ward .tile")
    pg.wait_for_timeout(2500)
    pg.screenshot(path=str(folder / "dashboard_ward.png"), full_page=True)
    k = min(SCREENSHOT_PATIENT, len(patients) - 1)
    pg.goto(f"{base}/dashboard/#/patient/{patients[k]['id']}")
    pg.wait_for_function("document.querySelectorAll('#beat-list li').length >= 5", timeout=60_000)
    pg.wait_for_timeout(3000)
    pg.screenshot(path=str(folder / "dashboard_patient.png"), full_page=True)
    pg.close()


# ================================================================================ output


def _versions() -> dict[str, str]:
    out = {}
    for name in ("fastapi", "uvicorn", "websockets", "playwright", "torch"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    with contextlib.suppress(OSError, KeyError, ValueError):
        lock = json.loads((ROOT / "web" / "package-lock.json").read_text())
        out["uplot"] = lock["packages"]["node_modules/uplot"]["version"]
    return out


METHOD = (
    "Sample time to pixel: for every sample a simulated device recorded in the window, the "
    "wall-clock time of the first patient-view strip redraw after the page received it that "
    "contains it (timed in a microtask after uPlot's draw, inside the requestAnimationFrame "
    "callback) minus the wall-clock time the device recorded it (device clock = wall clock at "
    "the start of pacing + i/fs). Includes the device's 73-sample framing (up to 554 ms at "
    "130 Hz), sending, the service (ingest and its 100 ms live batches), the WebSocket and the "
    "page. Samples never received or never drawn count as infinite. Each page has its own "
    "browser window; a requestAnimationFrame counter runs in every page (frame rate), which "
    "keeps every window rendering at full rate."
)


def report(
    out: dict[str, Any], args: argparse.Namespace, argv: Sequence[str] | None
) -> tuple[dict[str, Any], str]:
    a = out["analysis"]
    lag = a["lag"]
    views = [v for v in a["per_view"] if "lag" in v]
    ward = next(v for v in a["per_view"] if v["view"] == "ward")
    prov = provenance(argv)
    data: dict[str, Any] = {
        "p99_display_lag_ms": lag["p99_ms"],
        "p50_display_lag_ms": lag["p50_ms"],
        "max_display_lag_ms": lag["max_ms"],
        "n_samples": lag["n"],
        "n_samples_not_drawn": lag["n_not_drawn"],
        "n_patients": args.patients,
        "n_patient_views": len(views),
        "window_s": out["window_s"],
        "bar_p99_ms": BAR_MS,
        "meets_bar": lag["p99_ms"] is not None and lag["p99_ms"] <= BAR_MS,
        "method": METHOD,
        "ward_fps": ward["fps"]["fps"],
        "patient_view_fps": [v["fps"]["fps"] for v in views],
        "lag_after_frame_complete": a["lag_after_frame_complete"],
        "device_framing": a["framing"],
        "edge_lag": a["edge_lag"],
        "stages": a["stages"],
        "per_view": a["per_view"],
        "cpu": out["cpu"],
        "load_avg": {
            "start": out["load_avg_start"],
            "window_start": out["load_avg_window_start"],
            "window_end": out["load_avg_window_end"],
        },
        "machine_note": (
            "2 logical cores shared with other jobs (model training) while this ran; the "
            "service, the simulated devices and Chromium run on the same 2 cores"
        ),
        "clock_check": out["clock_check"],
        "devices_without_fatal_error": out["devices_complete"],
        "config": {
            "patients": args.patients,
            "views": len(views),
            "seconds": args.seconds,
            "warmup_s": args.warmup,
            "drain_s": args.drain,
            "fs": FS,
            "samples_per_frame": SAMPLES_PER_FRAME,
            "model": args.model,
            "sources": out["sources"],
            "niceness": out["niceness"],
            "browser": f"Chromium {out['chromium']} headless (--disable-gpu)",
            "viewport": "1280x900",
        },
        "versions_dashboard": {"chromium": out["chromium"], **_versions()},
        **prov,
    }
    st = a["stages"]
    rows = [
        ("device framing (sample waits for its 73-sample frame)", a["framing"]),
        ("device send lateness (frame due to sent, simulator)", st["device_send_late"]),
        ("frame's last sample to the service's live batch", st["device_to_server_batch"]),
        ("service batch to page (WebSocket, JSON parse)", st["server_to_page"]),
        ("page receipt to pixel (strip redraw)", st["page_to_pixel"]),
        ("strip's newest sample at each redraw (edge lag)", a["edge_lag"]),
    ]
    fps_rows = [
        (
            v["view"],
            v["fps"]["fps"],
            v["fps"]["interval_p99_ms"],
            v["fps"]["interval_max_ms"],
            v["fps"]["long_frames"],
            v["long_tasks"],
            v["long_task_ms"],
        )
        for v in a["per_view"]
    ]
    view_rows = [
        (
            v["view"],
            v["lag"]["n"],
            v["lag"]["p50_ms"],
            v["lag"]["p99_ms"],
            v["lag"]["max_ms"],
            v["lag"]["n_not_drawn"],
            v["samples_never_received"],
            v["redraws"],
        )
        for v in views
    ]
    cpu = out["cpu"]
    la = data["load_avg"]
    vers = data["versions_dashboard"]
    md = "\n\n".join(
        [
            "# Dashboard: live strip lag behind the device",
            provenance_md(prov),
            f"- Browser: Chromium {out['chromium']} (Debian), headless, via Playwright "
            f"{vers['playwright']}; uPlot {vers.get('uplot')}",
            f"**Machine load.** {data['machine_note']}. Load average (1/5/15 min) at start "
            f"{la['start']}, at the window's start {la['window_start']}, at its end "
            f"{la['window_end']}. Whole-machine CPU during the window: "
            f"{cpu['machine_busy_pct_of_one_core']} % of one core (of "
            f"{cpu['machine_capacity_pct']} %), of which "
            f"{cpu['outside_this_benchmark_pct_of_one_core']} % outside this benchmark.",
            f"**Set-up.** {args.patients} simulated patients streaming synthetic ECG at 130 Hz in "
            f"real time into the service (uvicorn, SQLite, shipped beat model, own process); "
            f"Chromium with the ward view ({args.patients} tiles) and {len(views)} patient views, "
            f"each page in its own browser window; "
            f"{out['window_s']} s measured after {args.warmup} s of warm-up.",
            f"**Method.** {METHOD}",
            "## Result",
            md_table(
                ["metric", "value"],
                [
                    ("p99 display lag (sample time to pixel)", f"**{lag['p99_ms']} ms**"),
                    ("p50 / max display lag", f"{lag['p50_ms']} / {lag['max_ms']} ms"),
                    ("samples measured (never drawn)", f"{lag['n']} ({lag['n_not_drawn']})"),
                    ("bar (p99 <= 1000 ms)", "met" if data["meets_bar"] else "NOT met"),
                    ("ward view frame rate", f"{ward['fps']['fps']} fps"),
                    (
                        "patient views frame rate",
                        ", ".join(f"{x} fps" for x in data["patient_view_fps"]),
                    ),
                ],
            ),
            "## Where the lag comes from",
            md_table(
                ["stage", "n", "p50 ms", "p99 ms", "max ms"],
                [(name, s["n"], s["p50_ms"], s["p99_ms"], s["max_ms"]) for name, s in rows],
            ),
            f"Lag without the device's framing (sample to pixel minus the wait for its frame's "
            f"last sample): p50 {a['lag_after_frame_complete']['p50_ms']} ms, p99 "
            f"{a['lag_after_frame_complete']['p99_ms']} ms.",
            "## Per patient view",
            md_table(
                [
                    "view",
                    "samples",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                    "not drawn",
                    "never received",
                    "redraws",
                ],
                view_rows,
            ),
            "## Frame rate (requestAnimationFrame, window only)",
            md_table(
                [
                    "page",
                    "fps",
                    "frame interval p99 ms",
                    "max ms",
                    f"frames > {LONG_FRAME_MS:.0f} ms",
                    "long tasks",
                    "long-task ms",
                ],
                fps_rows,
            ),
            "## CPU during the window (% of one core)",
            md_table(["group", "%"], list(cpu["pct_of_one_core"].items())),
            "## Clock check",
            "Page clock (`performance.timeOrigin + performance.now()`) minus Python's "
            "`time.time_ns()` at the middle of the quickest of 5 round trips, and the page's "
            "`Date.now()` minus its own clock:",
            md_table(
                ["page", "offset ms", "round trip ms", "Date.now() - page clock ms"],
                [
                    (
                        c["view"],
                        c["page_minus_python_ms"],
                        c["round_trip_ms"],
                        c["date_now_minus_time_origin_clock_ms"],
                    )
                    for c in out["clock_check"]
                ],
            ),
        ]
    )
    return data, md


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--patients", type=int, default=16, help="simulated live patients")
    ap.add_argument("--seconds", type=float, default=60.0, help="measurement window (s)")
    ap.add_argument(
        "--views",
        type=int,
        default=4,
        help="patient views open (each on its own patient; the ward view is extra)",
    )
    ap.add_argument("--warmup", type=float, default=15.0, help="seconds before the window")
    ap.add_argument(
        "--drain",
        type=float,
        default=3.0,
        help="seconds after the window in which its last samples may still be drawn",
    )
    ap.add_argument("--model", default="default", help="'default' or a run directory")
    ap.add_argument(
        "--chromium", default=os.environ.get("CARDIOSTREAM_CHROMIUM", "/usr/bin/chromium")
    )
    ap.add_argument(
        "--screenshots", help="folder for the ward and patient screenshots (e.g. docs/img)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the work directory (database, log)")
    ap.add_argument("--dump", help="also write the raw page and device records to this JSON file")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    ap.add_argument("--name", default="dashboard", help="result files <out>/<name>.json/.md")
    ap.add_argument("--serve-internal", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve_internal:
        serve_internal(args)
        return 0
    if args.patients < 1 or args.views < 1 or args.seconds <= 0:
        ap.error("--patients and --views must be >= 1 and --seconds > 0")
    out = run(args)
    data, md = report(out, args, None if argv is None else [sys.argv[0], *argv])
    pj, pm = write_results(args.out, args.name, data, md)
    a = out["analysis"]["lag"]
    print(
        f"p99 display lag {a['p99_ms']} ms (p50 {a['p50_ms']}, max {a['max_ms']}, "
        f"n {a['n']}, not drawn {a['n_not_drawn']}); wrote {pj} and {pm}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
