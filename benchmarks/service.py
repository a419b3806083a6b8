"""Benchmark of the real-time monitoring service (issue 5, section 7).

How many simulated 130 Hz patients one service process sustains in real time on this machine,
at what latency, CPU and memory per patient, with 0 beats lost or duplicated under reconnects
and retransmission, and live labels equal to the offline ``cardiostream analyze`` labels.

Set-up (one ramp step per patient count N, each on a fresh SQLite database):

* the **server** (``MonitorEngine`` + FastAPI/uvicorn, one process, pinned with
  ``os.sched_setaffinity`` to one core, torch with one intra-op thread) runs in a child process
  of this script (``--serve-internal``); it adds ``/bench/*`` routes that read the engine's
  latency ring, the event-loop lag, and the CPU time of the inference and storage worker
  threads (wrappers installed in that process only, no service code changed);
* the **simulated devices** run in ``cardiostream simulate`` processes pinned to the other core
  (MIT-BIH records resampled to 130 Hz when the data directory exists, synthetic ECG
  otherwise), with impairments on: disconnects with frames lost in flight (re-sent after the
  reconnect) and dropped frames (recorded gaps);
* a **probe** (this process, on the simulator core) streams a few extra unimpaired patients
  itself and subscribes to their live WebSocket as a clinician, to measure latency including
  publishing: for each beat, label received by the subscriber minus the time the frame that
  completed the beat's input was sent (which frame that is comes from running the same
  :class:`~cardiostream.live.LiveBeatPipeline` offline over the frames).

A step is *sustained* when, over the measurement window, the engine latency p99 and the probe
latency p99 are below ``--limit-ms``, the event-loop lag p99 is below ``--max-loop-lag-ms``,
the probe's ack lag p99 is below ``chunk_s + 2 s``, and every simulated device ended with all
its frames acknowledged. Beats lost and duplicated are counted against the store for every
patient (duplicates) and for a sample of patients against an offline analysis of exactly the
samples the device delivered (lost, extra, label agreement); the raw samples stored are checked
against the source too.

Usage: ``python benchmarks/service.py`` (full ramp, ~10-15 min) or ``--quick`` (seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import math
import os
import pstats
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import md_table, provenance, provenance_md, write_results

RESULTS_DIR = Path(__file__).resolve().parent / "results"
FALLBACK_RUN = Path(__file__).resolve().parents[1] / "out" / "runs" / "c_s0.5_v0.1"
MITDB_RECORDS = ("100", "105", "106", "119", "200", "201", "203", "207", "208", "210", "213",
                 "214", "219", "221", "223", "228", "231", "233")
PROBE_RECORDS = ("119", "208", "201", "233", "106", "221")
FULL_STEPS = (25, 50, 75, 100, 150, 200, 300, 400, 700, 1000, 1400, 2000)
QUICK_STEPS = (4,)
FS = 130.0
DEFAULT_IMPAIRMENTS = {"disconnect_every": 20.0, "offline": 2.0, "lost_in_flight": 3,
                       "drop_rate": 0.005}


# ================================================================================ helpers

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http(url: str, method: str = "GET", timeout: float = 30.0) -> Any:
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read().decode())


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (its threads included), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _loadavg() -> tuple[float, float, float]:
    a, b, c = os.getloadavg()
    return round(a, 2), round(b, 2), round(c, 2)


def _pct(x: np.ndarray | list[float], q: float) -> float | None:
    a = np.asarray(x, dtype=np.float64)
    return None if a.size == 0 else round(float(np.percentile(a, q)), 2)


def resolve_model(model: str | None) -> str:
    """``default`` when the shipped model is installed, else the fallback run directory."""
    if model:
        return model
    from cardiostream.classify import load_default_model
    from cardiostream.errors import CardiostreamError

    try:
        load_default_model()
        return "default"
    except CardiostreamError:
        return str(FALLBACK_RUN)


def mitdb_available() -> bool:
    from cardiostream.datasets import data_root
    from cardiostream.errors import DataNotFoundError

    try:
        return (data_root() / "mitdb" / "100.hea").is_file()
    except DataNotFoundError:
        return False


# ================================================================================ server mode

def serve_internal(args: argparse.Namespace) -> None:
    """The service under test, with ``/bench`` instrumentation routes (child process)."""
    import uvicorn

    from cardiostream.service.app import create_app, load_classifier
    from cardiostream.service.config import ServiceSettings
    from cardiostream.service.engine import MonitorEngine

    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    thread_cpu = {"inference": 0.0, "storage": 0.0}
    lock = threading.Lock()

    def timed(fn, key):
        def wrapper(*a, **kw):
            t = time.thread_time()
            try:
                return fn(*a, **kw)
            finally:
                with lock:
                    thread_cpu[key] += time.thread_time() - t
        return wrapper

    from cardiostream.service.inference import OnnxRunner, TorchRunner

    for runner_cls in (OnnxRunner, TorchRunner):  # the engine's runner, whichever it picks
        runner_cls.predict_inputs = timed(runner_cls.predict_inputs, "inference")
    MonitorEngine._persist_sync = timed(MonitorEngine._persist_sync, "storage")
    settings = ServiceSettings(db_url=args.db, model=args.model, port=args.port,
                               idle_timeout_s=args.idle_timeout, torch_threads=1)
    app = create_app(settings, classifier=load_classifier(args.model))
    lag: deque[float] = deque(maxlen=100_000)
    state: dict[str, Any] = {"lag_task": None, "profile": None}

    async def lag_monitor() -> None:
        loop = asyncio.get_running_loop()
        while True:
            t = loop.time()
            await asyncio.sleep(0.05)
            lag.append(loop.time() - t - 0.05)

    @app.post("/bench/reset")
    async def reset() -> dict[str, Any]:
        eng = app.state.engine
        # a bigger ring than the engine's own, so a whole window fits (benchmark-only)
        eng._latency = deque(maxlen=5_000_000)
        lag.clear()
        if state["lag_task"] is None:
            state["lag_task"] = asyncio.create_task(lag_monitor())
        if args.profile:
            prof = cProfile.Profile()
            state["profile"] = prof
            prof.enable()
        with lock:
            return {"thread_cpu": dict(thread_cpu), "process_cpu": time.process_time()}

    @app.get("/bench/stats")
    async def stats() -> dict[str, Any]:
        eng = app.state.engine
        s = eng.stats()
        lg = np.fromiter(lag, np.float64, len(lag))
        s["loop_lag_p99_ms"] = None if lg.size == 0 else 1000 * float(np.percentile(lg, 99))
        s["loop_lag_max_ms"] = None if lg.size == 0 else 1000 * float(lg.max())
        with lock:
            s["thread_cpu"] = dict(thread_cpu)
        s["process_cpu"] = time.process_time()
        return s

    @app.post("/bench/window_end")
    async def window_end() -> dict[str, Any]:
        eng = app.state.engine
        prof = state["profile"]
        top: list[dict[str, Any]] = []
        if prof is not None:
            prof.disable()
            state["profile"] = None
            top = _profile_top(prof, 40)
            state["total"] = sum(v[2] for v in pstats.Stats(prof).stats.values())  # type: ignore[attr-defined]
        lat = eng.latencies()
        lg = np.fromiter(lag, np.float64, len(lag))
        with lock:
            tc = dict(thread_cpu)
        return {"latencies_ms": [round(1000 * v, 3) for v in lat.tolist()],
                "loop_lag_ms": [round(1000 * v, 3) for v in lg.tolist()],
                "thread_cpu": tc, "process_cpu": time.process_time(), "profile": top,
                "profile_total_s": state.get("total", 0.0),
                "stats": eng.stats()}

    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning",
                ws_max_size=65536, ws_per_message_deflate=False)


#: Entry points whose cumulative time splits the event loop's work into stages.
PROFILE_STAGES = {
    ("live.py", "push"): "live pipeline (filters, detector, quality, beat inputs)",
    ("live.py", "flush"): "live pipeline flush (gaps, ends)",
    ("stream.py", "deliver"): "stream: segments, chunks + live pipeline",
    ("engine.py", "ingest"): "engine.ingest (sequence tracking + deliver)",
    ("protocol.py", "decode_frame"): "frame decoding",
    ("engine.py", "_drain"): "labelled beats → events, store queue, publish",
    ("engine.py", "_classify_batch"): "micro-batch bookkeeping (inference in a thread)",
    ("engine.py", "flush"): "writer bookkeeping (storage in a thread)",
    ("engine.py", "tick"): "housekeeping",
    ("ingest.py", "ingest_endpoint"): "ingest WebSocket handler (all of the above + I/O)",
}


def _profile_top(prof: cProfile.Profile, n: int) -> list[dict[str, Any]]:
    st = pstats.Stats(prof, stream=io.StringIO())
    rows = []
    for (file, line, func), (_cc, nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        stage = PROFILE_STAGES.get((Path(file).name, func))
        rows.append({"function": f"{Path(file).name}:{line}({func})", "calls": nc,
                     "tottime_s": tt, "cumtime_s": ct, "stage": stage})
    stages = [r for r in rows if r["stage"]]
    rows.sort(key=lambda r: r["tottime_s"], reverse=True)
    return rows[:n] + [r for r in stages if r not in rows[:n]]


# ================================================================================ one step

@dataclass
class StepPlan:
    n: int
    sources: tuple[str, ...]
    n_sim_procs: int
    ramp_s: float
    warm_s: float
    window_s: float
    n_probe: int
    probe_sources: tuple[str, ...]
    impairments: dict[str, float]
    verify_patients: int
    profile: bool = False

    @property
    def duration_s(self) -> float:
        return self.warm_s + self.window_s + 3.0

    def per_proc(self) -> list[int]:
        k = self.n_sim_procs
        return [self.n // k + (1 if i < self.n % k else 0) for i in range(k)]


@dataclass
class ProbeResult:
    latencies_ms: list[float] = field(default_factory=list)
    ack_lag_ms: list[float] = field(default_factory=list)
    beats_received: int = 0
    errors: list[str] = field(default_factory=list)


def _populate(db_url: str, plan: StepPlan, workdir: Path) -> dict[str, Any]:
    """Patients, devices and device tokens for the simulator processes and the probe; a
    clinician assigned to the probe patients."""
    from cardiostream.store import Store

    store = Store(db_url)
    store.migrate()
    token_files = []
    for k, m in enumerate(plan.per_proc()):
        toks = {}
        for i in range(m):
            p = store.add_patient(f"b{k}-{i:04d}")
            d = store.add_device(p.id, f"b{k}-dev-{i:04d}")
            toks[p.external_id] = store.create_device_token(d.id).plaintext
        f = workdir / f"tokens{k}.json"
        f.write_text(json.dumps(toks))
        token_files.append(f)
    user = store.add_user("bench-clinician", "clinician")
    probes = []
    for i in range(plan.n_probe):
        p = store.add_patient(f"probe-{i:04d}")
        d = store.add_device(p.id, f"probe-dev-{i:04d}")
        store.assign(user.id, p.id)
        probes.append({"patient_db_id": p.id, "ext": p.external_id, "serial": d.serial,
                       "token": store.create_device_token(d.id).plaintext})
    user_token = store.create_user_token(user.id).plaintext
    store.close()
    return {"token_files": token_files, "probes": probes, "user_token": user_token}


def _sim_command(plan: StepPlan, k: int, m: int, url: str, token_file: Path,
                 json_out: Path) -> list[str]:
    imp = plan.impairments
    cmd = [str(Path(sys.executable).parent / "cardiostream"), "simulate", "--url", url,
           "--patients", str(m), "--fs", str(FS), "--duration", str(plan.duration_s),
           "--prefix", f"b{k}", "--seed", str(1000 * k), "--ramp", str(plan.ramp_s),
           "--token-file", str(token_file), "--json", str(json_out)]
    for s in plan.sources:
        cmd += ["--source", s]
    if imp.get("disconnect_every"):
        cmd += ["--disconnect-every", str(imp["disconnect_every"]), "--offline",
                str(imp["offline"]), "--lost-in-flight", str(int(imp["lost_in_flight"]))]
    if imp.get("drop_rate"):
        cmd += ["--drop-rate", str(imp["drop_rate"])]
    return cmd


def _sim_config(plan: StepPlan, k: int, m: int, url: str):
    """The SimulationConfig ``cardiostream simulate`` builds from :func:`_sim_command`."""
    from cardiostream.simulate import Impairments, SimulationConfig

    imp = plan.impairments
    return SimulationConfig(
        url=url, patients=m, sources=plan.sources, fs=FS, duration_s=plan.duration_s,
        impairments=Impairments(
            drop_rate=imp.get("drop_rate", 0.0),
            disconnect_every_s=imp.get("disconnect_every") or None,
            offline_s=imp.get("offline", 2.0),
            lost_in_flight=int(imp.get("lost_in_flight", 0)),
            seed=1000 * k),
        prefix=f"b{k}", seed=1000 * k, ramp_s=plan.ramp_s)


def _probe_frames(clf, spec: str, index: int, seconds: float, ext: str, serial: str):
    """Frames of one probe patient and, per beat sample, the seq of the frame completing it."""
    from cardiostream.live import LiveBeatPipeline
    from cardiostream.simulate import device_frames, load_source

    src = load_source(spec, FS, duration_s=None, seed=index)
    start = min(max(0.0, src.duration_s - seconds - 1), 60.0 * (index + 1))
    src = src.window(start, seconds)
    frames = list(device_frames(src, ext, serial, stream_id=77, t_start_ns=time.time_ns()))
    pipe = LiveBeatPipeline(frames[0].frame.fs_mhz / 1000.0, clf.preprocessing)
    ready_at: dict[int, int] = {}
    for tf in frames:
        for b in pipe.push(tf.frame.samples_uv / 1000.0):
            ready_at[int(b.sample)] = tf.frame.seq
    return frames, ready_at


async def _run_probe(base: str, info: dict[str, Any], user_token: str, frames, ready_at,
                     window: tuple[float, float], res: ProbeResult) -> None:
    """Stream one unimpaired patient in real time and subscribe to its live view."""
    from websockets.asyncio.client import connect

    from cardiostream.service.protocol import Ack, encode_frame, parse_server_message

    sent: dict[int, float] = {}
    acked_upto = -1
    host = base.removeprefix("http://")
    live_url = f"ws://{host}/api/v1/patients/{info['patient_db_id']}/live"
    auth = {"Authorization": f"Bearer {user_token}"}
    dev_auth = {"Authorization": f"Bearer {info['token']}"}

    async with connect(live_url, additional_headers=auth, compression=None, proxy=None,
                       max_size=2**20) as live, \
            connect(f"ws://{host}/ingest", additional_headers=dev_auth, compression=None,
                    proxy=None) as dev:

        async def read_live() -> None:
            with contextlib.suppress(Exception):
                async for msg in live:
                    t = time.monotonic()
                    m = json.loads(msg)
                    if m.get("type") != "beat":
                        continue
                    res.beats_received += 1
                    seq = ready_at.get(int(m["sample"]))
                    if seq is None or seq not in sent:
                        continue
                    if window[0] <= sent[seq] <= window[1]:
                        res.latencies_ms.append(1000 * (t - sent[seq]))

        async def read_acks() -> None:
            nonlocal acked_upto
            with contextlib.suppress(Exception):
                async for msg in dev:
                    t = time.monotonic()
                    m = parse_server_message(msg)
                    if isinstance(m, Ack):
                        for s in range(acked_upto + 1, m.seq + 1):
                            if s in sent and window[0] <= sent[s] <= window[1]:
                                res.ack_lag_ms.append(1000 * (t - sent[s]))
                        acked_upto = max(acked_upto, m.seq)
                    else:
                        res.errors.append(str(m))

        tasks = [asyncio.create_task(read_live()), asyncio.create_task(read_acks())]
        t0 = time.monotonic()
        for tf in frames:
            delay = t0 + tf.due_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await dev.send(encode_frame(tf.frame))
            sent[tf.frame.seq] = time.monotonic()
            if time.monotonic() > window[1] + 1.0:
                break
        await asyncio.sleep(2.5)  # the last acks and labels
        for t in tasks:
            t.cancel()


def run_step(plan: StepPlan, model: str, clf, args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"svcbench{plan.n}_"))
    db_url = f"sqlite:///{workdir / 'bench.db'}"
    t_setup = time.perf_counter()
    pop = _populate(db_url, plan, workdir)
    setup_s = time.perf_counter() - t_setup
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server_cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-internal", "--db",
                  db_url, "--port", str(port), "--model", model, "--idle-timeout",
                  str(args.idle_timeout), "--cpu", str(args.server_cpu)]
    if plan.profile:
        server_cmd.append("--profile")
    server = subprocess.Popen(server_cmd, stdout=subprocess.DEVNULL,
                              stderr=open(workdir / "server.log", "w"))  # noqa: SIM115
    sims: list[subprocess.Popen[bytes]] = []
    out: dict[str, Any] = {"n_patients": plan.n, "n_probe": plan.n_probe,
                           "load_avg_start": _loadavg(), "setup_s": round(setup_s, 1)}
    try:
        for _ in range(600):
            try:
                if _http(f"{base}/healthz", timeout=2).get("status") == "ok":
                    break
            except OSError:
                pass
            if server.poll() is not None:
                raise RuntimeError((workdir / "server.log").read_text()[-2000:])
            time.sleep(0.1)
        time.sleep(0.5)
        rss_idle = _proc_rss_mb(server.pid)
        url = f"ws://127.0.0.1:{port}/ingest"
        probe = ProbeResult()
        probe_data = [_probe_frames(clf, plan.probe_sources[i % len(plan.probe_sources)], i,
                                    plan.ramp_s + plan.warm_s + plan.window_s + 2,
                                    info["ext"], info["serial"])
                      for i, info in enumerate(pop["probes"])]
        for k, m in enumerate(plan.per_proc()):
            if m == 0:
                continue
            cmd = _sim_command(plan, k, m, url, pop["token_files"][k], workdir / f"sim{k}.json")
            sims.append(subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL,  # inherits this process's core (client_cpu)
                stderr=open(workdir / f"sim{k}.log", "w")))  # noqa: SIM115
        t_start = time.monotonic()
        w0 = t_start + plan.ramp_s + plan.warm_s
        w1 = w0 + plan.window_s
        samples: list[dict[str, Any]] = []

        async def monitor() -> dict[str, Any]:
            await asyncio.sleep(max(0.0, w0 - time.monotonic()))
            r0 = await asyncio.to_thread(_http, f"{base}/bench/reset", "POST")
            c0 = _proc_cpu_s(server.pid)
            sim_c0 = sum(_proc_cpu_s(s.pid) for s in sims if s.poll() is None)
            tw0 = time.monotonic()
            while time.monotonic() < w1:
                await asyncio.sleep(1.0)
                s = await asyncio.to_thread(_http, f"{base}/bench/stats")
                samples.append({"ready_queue": s["ready_queue"],
                                "pending_chunks": s["pending_chunks"]})
            r1 = await asyncio.to_thread(_http, f"{base}/bench/window_end", "POST", 120.0)
            c1 = _proc_cpu_s(server.pid)
            sim_c1 = sum(_proc_cpu_s(s.pid) for s in sims if s.poll() is None)
            wall = time.monotonic() - tw0
            return {"r0": r0, "r1": r1, "cpu_s": c1 - c0, "wall_s": wall,
                    "sim_cpu_s": sim_c1 - sim_c0, "rss_mb": _proc_rss_mb(server.pid),
                    "load_avg": _loadavg()}

        async def main() -> dict[str, Any]:
            jobs = [_run_probe(base, info, pop["user_token"], fr, ra, (w0, w1), probe)
                    for info, (fr, ra) in zip(pop["probes"], probe_data, strict=True)]
            res = await asyncio.gather(monitor(), *jobs, return_exceptions=True)
            for r in res[1:]:
                if isinstance(r, BaseException):
                    probe.errors.append(repr(r))
            if isinstance(res[0], BaseException):
                raise res[0]
            return res[0]

        mon = asyncio.run(main())
        for s in sims:
            s.wait(timeout=plan.duration_s + plan.ramp_s + 120)
        # idle streams are finalised (their last beats come out) after idle_timeout
        n_streams = plan.n + plan.n_probe
        for _ in range(int(10 * (args.idle_timeout + 30))):
            st = _http(f"{base}/bench/stats")
            if st["streams_closed"] >= n_streams and st["streams"] == 0:
                break
            time.sleep(0.1)
        time.sleep(1.0)  # one more writer flush
        final_stats = _http(f"{base}/bench/stats")
    finally:
        for s in sims:
            if s.poll() is None:
                s.kill()
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
    out.update(_summarise_step(plan, mon, probe, samples, final_stats, rss_idle, workdir))
    t_ver = time.perf_counter()
    out["verification"] = verify_step(plan, db_url, workdir, clf, url)
    out["verify_s"] = round(time.perf_counter() - t_ver, 1)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def _summarise_step(plan: StepPlan, mon: dict[str, Any], probe: ProbeResult,
                    samples: list[dict[str, Any]], final_stats: dict[str, Any],
                    rss_idle: float, workdir: Path) -> dict[str, Any]:
    r0, r1 = mon["r0"], mon["r1"]
    lat = r1["latencies_ms"]
    wall = mon["wall_s"]
    n_all = plan.n + plan.n_probe
    cpu_pct = 100 * mon["cpu_s"] / wall
    infer = r1["thread_cpu"]["inference"] - r0["thread_cpu"]["inference"]
    storage = r1["thread_cpu"]["storage"] - r0["thread_cpu"]["storage"]
    sims = []
    for f in sorted(workdir.glob("sim*.json")):
        sims.append(json.loads(f.read_text())["totals"])
    tot = {k: sum(s[k] for s in sims) for k in (sims[0] if sims else {})}
    loop_lag = r1["loop_lag_ms"]
    s = {
        "window_s": round(wall, 1),
        "beats_in_window": len(lat),
        "beats_per_s": round(len(lat) / wall, 1),
        "engine_p50_ms": _pct(lat, 50), "engine_p99_ms": _pct(lat, 99),
        "engine_max_ms": None if not lat else round(max(lat), 1),
        "probe_beats": len(probe.latencies_ms),
        "probe_p50_ms": _pct(probe.latencies_ms, 50), "probe_p99_ms": _pct(probe.latencies_ms, 99),
        "probe_ack_lag_p50_ms": _pct(probe.ack_lag_ms, 50),
        "probe_ack_lag_p99_ms": _pct(probe.ack_lag_ms, 99),
        "probe_errors": probe.errors[:5],
        "loop_lag_p99_ms": _pct(loop_lag, 99),
        "loop_lag_max_ms": None if not loop_lag else round(max(loop_lag), 1),
        "max_ready_queue": max((x["ready_queue"] for x in samples), default=0),
        "max_pending_chunks": max((x["pending_chunks"] for x in samples), default=0),
        "server_cpu_pct": round(cpu_pct, 1),
        "server_cpu_split_pct": {
            "inference_thread": round(100 * infer / wall, 1),
            "storage_thread": round(100 * storage / wall, 1),
            "event_loop_and_rest": round(cpu_pct - 100 * (infer + storage) / wall, 1)},
        "cpu_pct_per_patient": round(cpu_pct / n_all, 4),
        "rss_idle_mb": round(rss_idle, 1), "rss_mb": round(mon["rss_mb"], 1),
        "mem_mb_per_patient": round((mon["rss_mb"] - rss_idle) / n_all, 4),
        "simulator_cpu_pct": round(100 * mon["sim_cpu_s"] / wall, 1),
        "load_avg_window": mon["load_avg"],
        "simulator": tot,
        "inference": final_stats.get("inference"),
        "engine_counters": {k: final_stats.get(k) for k in (
            "frames", "duplicates", "too_old", "rejected", "gaps", "beats", "classified",
            "batches", "beats_stored", "chunks_stored", "events", "alerts", "write_errors",
            "streams_opened", "streams_resumed", "streams_closed")},
    }
    if r1.get("profile"):
        ps = plan.n * wall
        s["profile_total_us_per_patient_s"] = round(1e6 * r1["profile_total_s"] / ps, 1)
        s["profile_top"] = [{**r, "us_per_patient_s": round(1e6 * r["tottime_s"] / ps, 2),
                             "cum_us_per_patient_s": round(1e6 * r["cumtime_s"] / ps, 2)}
                            for r in r1["profile"]]
    return s


def sustained(step: dict[str, Any], limit_ms: float, max_lag_ms: float,
              ack_limit_ms: float) -> tuple[bool, list[str]]:
    """Whether a step kept up, and why not."""
    why = []

    def over(key: str, lim: float) -> None:
        v = step.get(key)
        if v is None or v > lim:
            why.append(f"{key}={v} > {lim:g}")

    over("engine_p99_ms", limit_ms)
    over("probe_p99_ms", limit_ms)
    over("loop_lag_p99_ms", max_lag_ms)
    over("probe_ack_lag_p99_ms", ack_limit_ms)
    sim = step.get("simulator", {})
    if sim.get("complete", 0) != sim.get("devices", -1):
        why.append(f"devices complete {sim.get('complete')}/{sim.get('devices')} "
                   f"(unacked at end {sim.get('unacked_at_end')}, fatal {sim.get('fatal')})")
    if step["probe_errors"]:
        why.append(f"probe errors: {step['probe_errors'][:2]}")
    return not why, why


# ================================================================================ verification

def _offline(clf, x_uv: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Peaks and labels of ``cardiostream analyze`` (quality-gated) on one segment."""
    from cardiostream.analyze import analyze_record
    from cardiostream.types import Record

    rec = Record(signal=(x_uv / 1000.0)[:, None], fs=fs, leads=("ECG",), record_id="seg")
    r = analyze_record(rec, classifier=clf)
    assert r.beats is not None
    return np.asarray(r.r_peaks, np.int64), np.asarray(r.beats.labels, str)


def verify_step(plan: StepPlan, db_url: str, workdir: Path, clf, url: str) -> dict[str, Any]:
    """Beats duplicated (all patients); beats lost, extra, raw samples and label agreement
    against the offline analysis of exactly the delivered samples (a sample of patients)."""
    from cardiostream.simulate import device_frames, impair
    from cardiostream.simulate.device import Dropped, Send
    from cardiostream.simulate.run import _load_all, _start_offset, plan_patients
    from cardiostream.store import Store

    store = Store(db_url)
    dup = stored_total = 0
    for p in store.list_patients():
        samples = [b.sample_index for b in store.beats(p.id, 0, 2**62)]
        stored_total += len(samples)
        dup += len(samples) - len(set(samples))
    per_proc = plan.per_proc()
    chosen: list[tuple[int, int]] = []
    n_ver = min(plan.verify_patients, plan.n)
    for j in np.linspace(0, plan.n - 1, n_ver).round().astype(int).tolist() if n_ver else []:
        k, i = 0, j
        while i >= per_proc[k]:
            i -= per_proc[k]
            k += 1
        chosen.append((k, i))
    lost = extra = both = same = raw_bad = offline_total = 0
    details = []
    cache: dict[int, Any] = {}
    for k, i in chosen:
        cfg = _sim_config(plan, k, per_proc[k], url)
        if k not in cache:
            plans = plan_patients(cfg)
            cache[k] = (plans, _load_all(cfg, plans))
        plans, sources = cache[k]
        pp = plans[i]
        kind = pp.source.split(":", 1)[0]
        src = sources[(pp.source, pp.source_seed if kind == "synthetic" else 0)]
        start = _start_offset(pp.index, len(cfg.sources), src, cfg.duration_s)
        src = src.window(start, cfg.duration_s)
        frames = list(device_frames(src, pp.patient_id, pp.device_id, stream_id=pp.stream_id,
                                    t_start_ns=0))
        imp = replace(cfg.impairments, seed=cfg.impairments.seed + pp.index)
        dropped = {e.seq for e in impair(iter(frames), imp) if isinstance(e, Dropped)}
        sent = {e.frame.seq for e in impair(iter(frames), imp) if isinstance(e, Send)}
        # expected contiguous segments (source sample ranges) between dropped frames
        segs: list[list[int]] = []
        pos = 0
        for tf in frames:
            n = tf.frame.samples_uv.size
            if tf.frame.seq in sent and tf.frame.seq not in dropped:
                if segs and segs[-1][1] == pos:
                    segs[-1][1] = pos + n
                else:
                    segs.append([pos, pos + n])
            pos += n
        fs = frames[0].frame.fs_mhz / 1000.0
        patient = store.find_patient(pp.patient_id)
        if patient is None:
            details.append({"patient": pp.patient_id, "error": "not in the store"})
            continue
        strip = store.raw_strip(patient.id, 0, 2**62)
        stored = store.beats(patient.id, 0, 2**62)
        live = {b.sample_index: b.label for b in stored}
        # session sample 0 is the first delivered sample (segment 0's start)
        off = segs[0][0] if segs else 0
        x = src.samples_uv
        got = [(g.first_sample + off, np.asarray(g.samples)) for g in strip.segments]
        raw_ok = len(got) == len(segs) and all(
            a == s0 and b.size == s1 - s0 and np.array_equal(b, x[s0:s1])
            for (a, b), (s0, s1) in zip(got, segs, strict=False))
        raw_bad += not raw_ok
        offl: dict[int, str] = {}
        for s0, s1 in segs:
            try:
                pk, lab = _offline(clf, x[s0:s1], fs)
            except ValueError:  # a segment too short to analyse has no beats
                continue
            for p_, l_ in zip(pk.tolist(), lab.tolist(), strict=True):
                offl[p_ + s0 - off] = l_
        offline_total += len(offl)
        ks, ko = set(live), set(offl)
        n_lost, n_extra = len(ko - ks), len(ks - ko)
        common = ks & ko
        n_same = sum(live[s] == offl[s] for s in common)
        lost += n_lost
        extra += n_extra
        both += len(ks | ko)
        same += n_same
        details.append({"patient": pp.patient_id, "source": pp.source, "segments": len(segs),
                        "dropped_frames": len(dropped), "offline_beats": len(offl),
                        "stored_beats": len(live), "lost": n_lost, "extra": n_extra,
                        "label_mismatch": len(common) - n_same, "raw_ok": raw_ok,
                        "mismatches": [(s_, live[s_], offl[s_]) for s_ in sorted(common)
                                       if live[s_] != offl[s_]][:5],
                        "lost_samples": sorted(ko - ks)[:5],
                        "extra_samples": sorted(ks - ko)[:5]})
    store.close()
    return {
        "stored_beats_all_patients": stored_total,
        "beats_duplicated": dup,
        "patients_verified": len(chosen),
        "offline_beats_verified": offline_total,
        "beats_lost": lost,
        "beats_extra": extra,
        "raw_segments_mismatch": raw_bad,
        "live_offline_agreement_pct": None if both == 0 else round(100 * same / both, 4),
        "per_patient": details,
    }


def _verified(steps: list[dict[str, Any]]) -> dict[str, Any]:
    lost = sum(s["verification"]["beats_lost"] for s in steps)
    dup = sum(s["verification"]["beats_duplicated"] for s in steps)
    extra = sum(s["verification"]["beats_extra"] for s in steps)
    same = both = 0.0
    for s in steps:
        v = s["verification"]
        if v["live_offline_agreement_pct"] is not None:
            n_b = sum(d.get("offline_beats", 0) for d in v["per_patient"])
            same += v["live_offline_agreement_pct"] * n_b
            both += n_b
    return {"beats_lost": lost, "beats_duplicated": dup, "beats_extra": extra,
            "live_offline_agreement": None if both == 0 else round(same / both, 4)}


def summarise(results: list[dict[str, Any]], best: int) -> dict[str, Any]:
    """Headline numbers: latency, CPU and memory at the largest sustained step; beats lost,
    duplicated and label agreement over the sustained steps, and over all steps."""
    ref = next((s for s in results if s["n_patients"] == best), results[0])
    ok = [s for s in results if s["sustained"]] or results[:1]
    v_ok, v_all = _verified(ok), _verified(results)
    return {
        "max_patients_realtime": best,
        "p50_ms": ref["engine_p50_ms"],
        "p99_ms": ref["engine_p99_ms"],
        "probe_p50_ms_at_max": ref["probe_p50_ms"],
        "probe_p99_ms_at_max": ref["probe_p99_ms"],
        "cpu_pct_per_patient": ref["cpu_pct_per_patient"],
        "mem_mb_per_patient": ref["mem_mb_per_patient"],
        **v_ok,
        **{f"{k}_all_steps": v for k, v in v_all.items()},
        "load_avg_during_max_step": ref["load_avg_window"],
    }


# ================================================================================ report

def write_report(res: dict[str, Any], out_dir: Path) -> None:
    steps = res["steps"]
    rows = []
    for s in steps:
        rows.append([s["n_patients"], "yes" if s["sustained"] else "no", s["beats_per_s"],
                     s["engine_p50_ms"], s["engine_p99_ms"], s["probe_p50_ms"],
                     s["probe_p99_ms"], s["probe_ack_lag_p99_ms"], s["loop_lag_p99_ms"],
                     s["server_cpu_pct"],
                     "/".join(str(v) for v in s["server_cpu_split_pct"].values()),
                     s["rss_mb"], s["simulator_cpu_pct"],
                     s["verification"]["beats_lost"], s["verification"]["beats_duplicated"],
                     s["verification"]["live_offline_agreement_pct"],
                     " ".join(str(v) for v in s["load_avg_window"])])
    head = ["patients", "sustained", "beats/s", "engine p50 ms", "engine p99 ms",
            "probe p50 ms", "probe p99 ms", "ack lag p99 ms", "loop lag p99 ms", "server CPU %",
            "CPU infer/store/loop %", "RSS MB", "sim CPU %", "lost", "dup", "agree %",
            "load avg"]
    lines = [
        "# Service benchmark (issue 5, section 7)", "",
        provenance_md(res["provenance"]), "",
        f"- Model: `{res['config']['model']}`, run by "
        f"{sorted({st.get('inference') or '?' for st in res['steps']})}; sources: "
        f"{res['config']['sources']}",
        f"- Cores: server pinned to CPU {res['config']['server_cpu']} (one process, one "
        "inference thread), simulators and probe pinned to CPU "
        f"{res['config']['client_cpu']}. The lead's training jobs share the machine: load "
        "averages are in the table.",
        f"- Impairments (simulated devices): {res['config']['impairments']} (disconnect every "
        "~N s of stream time, offline s, frames lost in flight re-sent after the reconnect, "
        "dropped frames → recorded gaps).",
        f"- Sustained = engine p99 and probe p99 ≤ {res['config']['limit_ms']} ms, loop lag "
        f"p99 ≤ {res['config']['max_loop_lag_ms']} ms, probe ack lag p99 ≤ "
        f"{res['config']['ack_limit_ms']} ms, every device ended fully acknowledged.",
        "- engine latency: beat input ready at the server → label available to subscribers "
        "(the engine's ring, every beat in the window); probe latency: frame completing the "
        "beat's input sent by the device → label received on the live WebSocket by a "
        "clinician subscriber (includes ingest transport and publishing).", "",
        "## Summary", "",
        md_table(["key", "value"], [[k, res["summary"][k]] for k in res["summary"]]), "",
        "## Ramp", "", md_table(head, rows), "",
    ]
    for s in steps:
        if not s["sustained"]:
            lines.append(f"- {s['n_patients']} patients not sustained: {'; '.join(s['why'])}")
    for s in steps:
        for d in s["verification"]["per_patient"]:
            if d.get("lost") or d.get("extra") or d.get("label_mismatch") or not d.get(
                    "raw_ok", True):
                how = "sustained" if s["sustained"] else "overloaded"
                lines.append(
                    f"- {s['n_patients']} patients ({how},"
                    f" {s['engine_counters']['streams_resumed']} streams resumed after an idle "
                    f"finalisation): {d['patient']} {d.get('source')}: lost {d.get('lost')}, "
                    f"extra {d.get('extra')}, raw ok {d.get('raw_ok')}, label mismatches "
                    f"(sample, live, offline) {d.get('mismatches')}, first lost "
                    f"{d.get('lost_samples')} / extra {d.get('extra_samples')}")
    prof = next((s for s in steps if s.get("profile_top")), None)
    if prof is None and res.get("profile_step"):
        prof = res["profile_step"]
    if prof is not None:
        lines += ["", f"## Where the CPU goes ({prof['n_patients']} patients, cProfile of the "
                  "event-loop thread; worker threads by thread CPU time)", "",
                  f"Server CPU {prof['server_cpu_pct']} % of one core: split "
                  f"{prof['server_cpu_split_pct']} (profiling overhead included); "
                  f"event-loop thread total {prof.get('profile_total_us_per_patient_s')} µs "
                  "of profiled time per patient-second.", "",
                  md_table(["function", "calls", "tottime s", "µs per patient-second"],
                           [[r["function"], r["calls"], round(r["tottime_s"], 3),
                             r["us_per_patient_s"]] for r in prof["profile_top"][:20]]), "",
                  "Stages (cumulative time of entry points, nested: a stage includes the "
                  "stages it calls):", "",
                  md_table(["stage", "function", "calls", "cumtime s",
                            "µs per patient-second"],
                           [[r["stage"], r["function"], r["calls"], round(r["cumtime_s"], 3),
                             r["cum_us_per_patient_s"]]
                            for r in sorted((r for r in prof["profile_top"] if r.get("stage")),
                                            key=lambda r: -r["cumtime_s"])])]
    if res.get("notes"):
        lines += ["", "## Notes", "", *[f"- {n}" for n in res["notes"]]]
    data = {k: res["summary"][k] for k in ("max_patients_realtime", "p50_ms", "p99_ms",
                                            "cpu_pct_per_patient", "mem_mb_per_patient",
                                            "beats_lost", "beats_duplicated",
                                            "live_offline_agreement")}
    data.update({k: v for k, v in res.items() if k not in ("summary",)})
    write_results(out_dir, "service", data, "\n".join(lines))


# ================================================================================ main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: a few patients, seconds")
    ap.add_argument("--steps", help="comma-separated patient counts (default: a ramp)")
    ap.add_argument("--window", type=float, help="measurement window per step (s)")
    ap.add_argument("--model", help="'default' or a run directory (default: shipped model, "
                    f"else {FALLBACK_RUN})")
    ap.add_argument("--limit-ms", type=float, default=200.0)
    ap.add_argument("--max-loop-lag-ms", type=float, default=250.0)
    ap.add_argument("--server-cpu", type=int, default=1)
    ap.add_argument("--client-cpu", type=int, default=0)
    ap.add_argument("--idle-timeout", type=float, default=15.0)
    ap.add_argument("--verify-patients", type=int, help="patients checked against offline")
    ap.add_argument("--profile-n", type=int, help="extra profiled step at this patient count "
                    "(default: none with --quick, else 100)")
    ap.add_argument("--no-impairments", action="store_true")
    ap.add_argument("--profile-only", action="store_true", help="only the profiled run; "
                    "prints its JSON (no result files)")
    ap.add_argument("--max-fails", type=int, default=2,
                    help="stop the ramp after this many consecutive unsustained steps")
    ap.add_argument("--keep", action="store_true", help="keep the per-step work directories")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    # internal: the server child process
    ap.add_argument("--serve-internal", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--cpu", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve_internal:
        serve_internal(args)
        return 0
    from cardiostream.service.app import load_classifier

    ncpu = os.cpu_count() or 1
    if ncpu < 2:
        args.server_cpu = args.client_cpu = 0
    os.sched_setaffinity(0, {args.client_cpu})
    model = resolve_model(args.model)
    clf = load_classifier(model)
    mitdb = mitdb_available()
    sources = tuple(f"mitdb:{r}" for r in MITDB_RECORDS) if mitdb else (
        "synthetic:pvc=0.1", "synthetic:hr=95,pvc=0.02", "synthetic:hr=60,pvc=0.2")
    probe_sources = tuple(f"mitdb:{r}" for r in PROBE_RECORDS) if mitdb else sources
    steps = (tuple(int(s) for s in args.steps.split(",")) if args.steps
             else QUICK_STEPS if args.quick else FULL_STEPS)
    window = args.window or (6.0 if args.quick else 30.0)
    verify_n = args.verify_patients if args.verify_patients is not None else (
        4 if args.quick else 24)
    imp = {} if args.no_impairments else dict(DEFAULT_IMPAIRMENTS)
    if args.quick and imp:
        imp.update(disconnect_every=4.0, offline=1.0, drop_rate=0.01)
    ack_limit_ms = 1000 * (1.0 + 2.0)  # chunk_s + 2 s

    def make_plan(n: int, profile: bool = False) -> StepPlan:
        return StepPlan(
            n=n, sources=sources, n_sim_procs=max(1, math.ceil(n / 700)),
            ramp_s=min(15.0, max(1.0, n / 100)), warm_s=2.0 if args.quick else 8.0,
            window_s=window, n_probe=2 if args.quick else 6, probe_sources=probe_sources,
            impairments=imp, verify_patients=verify_n, profile=profile)

    results: list[dict[str, Any]] = []
    best = fails = 0
    for n in steps if not args.profile_only else ():
        print(f"[service bench] {n} patients ... (load {_loadavg()})", flush=True)
        step = run_step(make_plan(n), model, clf, args)
        ok, why = sustained(step, args.limit_ms, args.max_loop_lag_ms, ack_limit_ms)
        step["sustained"], step["why"] = ok, why
        results.append(step)
        v = step["verification"]
        print(f"  sustained={ok} engine p50/p99={step['engine_p50_ms']}/{step['engine_p99_ms']} "
              f"ms probe p50/p99={step['probe_p50_ms']}/{step['probe_p99_ms']} ms cpu="
              f"{step['server_cpu_pct']}% {step['server_cpu_split_pct']} rss={step['rss_mb']} "
              f"lost={v['beats_lost']} dup={v['beats_duplicated']} extra={v['beats_extra']} "
              f"agree={v['live_offline_agreement_pct']} {'; '.join(why)}", flush=True)
        fails = 0 if ok else fails + 1
        if ok:
            best = max(best, n)
        elif fails >= args.max_fails:
            break
    profile_n = args.profile_n if args.profile_n is not None else (None if args.quick else 100)
    profile_step = None
    if profile_n:
        print(f"[service bench] profiled run, {profile_n} patients ...", flush=True)
        profile_step = run_step(replace(make_plan(profile_n, True), verify_patients=0), model,
                                clf, args)
    if args.profile_only:
        print(json.dumps(profile_step, indent=1))
        return 0
    summary = summarise(results, best)
    notes = [
        "p50_ms/p99_ms/cpu/mem are from the largest sustained step (the first step when none "
        "was sustained); beats_lost/beats_duplicated/live_offline_agreement are over the "
        "sustained steps, the *_all_steps keys over every step (overloaded ones included).",
        "mem_mb_per_patient = (server RSS during the window − RSS idle with the model loaded) "
        "/ patients; cpu_pct_per_patient = server CPU % of one core / patients.",
        "beats lost/extra compare stored beats with `analyze_record` (the `cardiostream "
        "analyze` path) run on each contiguous run of delivered frames of the source signal; "
        "duplicates are counted over every patient in the store.",
    ]
    res = {
        "provenance": provenance(argv if argv is None else [sys.argv[0], *argv]),
        "config": {"model": model, "sources": "MIT-BIH " + ",".join(MITDB_RECORDS) if mitdb
                   else ",".join(sources), "fs": FS, "steps": list(steps),
                   "window_s": window, "server_cpu": args.server_cpu,
                   "client_cpu": args.client_cpu, "impairments": imp,
                   "limit_ms": args.limit_ms, "max_loop_lag_ms": args.max_loop_lag_ms,
                   "ack_limit_ms": ack_limit_ms, "idle_timeout_s": args.idle_timeout,
                   "quick": args.quick},
        "summary": summary,
        "steps": results,
        "profile_step": profile_step,
        "notes": notes,
    }
    write_report(res, args.out)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
