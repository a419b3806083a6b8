"""Many simulated patients at once: plan who streams what, run them in one event loop, report.

:func:`plan_patients` assigns every patient a source spec (round-robin over the given ones), a
start offset into recordings (so patients sharing a record are not in lock-step), a seed for
synthetic ECG and impairments, a random stream id and a token. :func:`run_simulation` loads
each distinct source once, builds the event streams lazily and runs one
:class:`~cardiostream.simulate.client.DeviceClient` per patient concurrently.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidParameterError, check_param
from ..service.protocol import is_valid_id
from .device import POLAR_H10_SAMPLES_PER_FRAME, Impairments, device_frames, impair
from .sources import SourceSignal, load_source, parse_source_spec

if TYPE_CHECKING:
    from .client import DeviceStats

__all__ = [
    "PatientPlan",
    "SimulationConfig",
    "SimulationReport",
    "load_tokens",
    "plan_patients",
    "run_simulation",
    "simulate",
]

_OFFSET_STEP_S = 97.0  # start offset between patients sharing a recording
_SYNTHETIC_VARIANTS = 64  # distinct synthetic seeds before patients share one (with offsets)


@dataclass(frozen=True)
class SimulationConfig:
    """Everything ``cardiostream simulate`` needs.

    Attributes
    ----------
    url : str
        Ingest WebSocket URL.
    patients : int
        How many simulated patients (one device each).
    sources : tuple of str
        Source specs, assigned round-robin (``mitdb:100``, ``polar``, ``synthetic:pvc=0.1``).
    fs : float
        Streaming rate in Hz (100 to 1000); Polar stays at its native ≈130.16 Hz within 1 %.
    samples_per_frame : int
        73, as a Polar H10 at 130 Hz.
    duration_s : float or None
        Stream length per patient (``None``: the whole recording; synthetic: 300 s).
    speed : float
        Pacing factor (``math.inf``: as fast as possible).
    heart_rate, pvc_rate : float
        Synthetic defaults (spec options override them).
    impairments : Impairments
        Jitter, drops, reordering, disconnects; its seed is offset per patient.
    token : str or None
        Token for every device; ``{patient}`` in it is replaced by the patient id.
    tokens : mapping or None
        Per-patient tokens (win over ``token``).
    prefix : str
        Patient ids are ``<prefix>-0000``..., device ids ``<prefix>-dev-0000``...
    seed : int
        Base seed (stream ids, synthetic ECG, impairments, backoff jitter).
    ramp_s : float
        Spread of the patients' start times in wall seconds (avoids a connection storm).
    t_start_ns : int or None
        Device clock at the first sample (default: now, epoch ns).
    data_dir : path or None
        Data root for MIT-BIH and Polar.
    client : dict
        Extra :class:`~cardiostream.simulate.client.ClientConfig` fields (e.g.
        ``drain_timeout_s``, ``backoff_initial_s``).
    """

    url: str
    patients: int = 1
    sources: tuple[str, ...] = ("synthetic",)
    fs: float = 130.0
    samples_per_frame: int = POLAR_H10_SAMPLES_PER_FRAME
    duration_s: float | None = None
    speed: float = 1.0
    heart_rate: float = 72.0
    pvc_rate: float = 0.0
    impairments: Impairments = field(default_factory=Impairments)
    token: str | None = None
    tokens: Mapping[str, str] | None = None
    prefix: str = "sim"
    seed: int = 0
    ramp_s: float = 1.0
    t_start_ns: int | None = None
    data_dir: str | os.PathLike[str] | None = None
    client: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", tuple(self.sources))
        check_param(
            "patients",
            self.patients,
            isinstance(self.patients, int) and 1 <= self.patients <= 100_000,
            "an int between 1 and 100000",
        )
        check_param("sources", self.sources, len(self.sources) > 0, "at least one source spec")
        for s in self.sources:
            parse_source_spec(s)
        check_param("fs", self.fs, 100 <= self.fs <= 1000, "between 100 and 1000 Hz")
        check_param(
            "prefix", self.prefix, is_valid_id(f"{self.prefix}-dev-00000"), "a short id prefix"
        )
        check_param(
            "ramp_s", self.ramp_s, math.isfinite(self.ramp_s) and self.ramp_s >= 0, "non-negative"
        )
        if self.duration_s is not None:
            check_param("duration_s", self.duration_s, self.duration_s > 0, "positive")


@dataclass(frozen=True)
class PatientPlan:
    """One simulated patient: ids, source, where in it to start, seeds and token."""

    index: int
    patient_id: str
    device_id: str
    stream_id: int
    source: str
    source_seed: int
    start_s: float
    token: str | None


def load_tokens(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a JSON object ``{"patient id": "device token", ...}``."""
    with open(path, encoding="utf-8") as f:
        obj = json.load(f)
    if not isinstance(obj, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in obj.items()
    ):
        raise InvalidParameterError(
            f"Token file {os.fspath(path)!r} must hold a JSON object of patient id → token."
        )
    return obj


def plan_patients(config: SimulationConfig) -> list[PatientPlan]:
    """Assign sources, seeds, stream ids and tokens (start offsets are set by the runner)."""
    rng = np.random.default_rng(config.seed)
    stream_ids = rng.integers(1, 2**32, size=config.patients)
    plans = []
    for i in range(config.patients):
        pid = f"{config.prefix}-{i:04d}"
        token = None
        if config.tokens is not None and pid in config.tokens:
            token = config.tokens[pid]
        elif config.token is not None:
            token = config.token.replace("{patient}", pid)
        plans.append(
            PatientPlan(
                index=i,
                patient_id=pid,
                device_id=f"{config.prefix}-dev-{i:04d}",
                stream_id=int(stream_ids[i]),
                source=config.sources[i % len(config.sources)],
                source_seed=config.seed + (i // len(config.sources)) % _SYNTHETIC_VARIANTS,
                start_s=0.0,
                token=token,
            )
        )
    return plans


@dataclass
class SimulationReport:
    """Per-device statistics and totals of a run."""

    devices: list[DeviceStats]
    wall_s: float

    def totals(self) -> dict[str, int]:
        keys = (
            "frames",
            "dropped",
            "lost_in_flight",
            "sent",
            "resent",
            "evicted",
            "connects",
            "connect_failures",
            "disconnects",
            "unexpected_closes",
            "unacked_at_end",
            "n_errors",
        )
        out = {k: sum(getattr(d, k) for d in self.devices) for k in keys}
        out["devices"] = len(self.devices)
        out["complete"] = sum(d.complete for d in self.devices)
        out["fatal"] = sum(d.fatal is not None for d in self.devices)
        return out

    @property
    def ok(self) -> bool:
        return all(d.complete for d in self.devices)

    def summary(self) -> str:
        t = self.totals()
        lines = [
            f"{t['devices']} devices in {self.wall_s:.1f} s: {t['complete']} complete, "
            f"{t['fatal']} stopped early",
            f"frames {t['frames']} (dropped {t['dropped']}, lost in flight "
            f"{t['lost_in_flight']}), messages sent {t['sent']} (resent {t['resent']})",
            f"connects {t['connects']}, failed {t['connect_failures']}, simulated disconnects "
            f"{t['disconnects']}, unexpected closes {t['unexpected_closes']}",
            f"unacked at end {t['unacked_at_end']}, evicted {t['evicted']}, "
            f"server errors {t['n_errors']}",
        ]
        for d in self.devices:
            if d.fatal is not None:
                lines.append(f"  {d.patient_id}: {d.fatal}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        devices = []
        for d in self.devices:
            row = asdict(d)
            row["errors"] = [json.loads(e.to_json()) for e in d.errors]
            devices.append(row)
        return {"wall_s": self.wall_s, "totals": self.totals(), "devices": devices}


def _load_all(
    config: SimulationConfig, plans: Sequence[PatientPlan]
) -> dict[tuple[str, int], SourceSignal]:
    cache: dict[tuple[str, int], SourceSignal] = {}
    for p in plans:
        kind = parse_source_spec(p.source)[0]
        key = (p.source, p.source_seed if kind == "synthetic" else 0)
        if key not in cache:
            cache[key] = load_source(
                p.source,
                config.fs,
                duration_s=config.duration_s,
                seed=key[1],
                heart_rate=config.heart_rate,
                pvc_rate=config.pvc_rate,
                data_dir=config.data_dir,
            )
    return cache


def _start_offset(index: int, n_sources: int, src: SourceSignal, duration_s: float | None) -> float:
    room = src.duration_s - (duration_s if duration_s is not None else src.duration_s)
    if room <= 0:
        return 0.0
    return ((index // n_sources) * _OFFSET_STEP_S) % room


async def simulate(config: SimulationConfig) -> SimulationReport:
    """Run every planned patient concurrently in the running event loop."""
    from .client import ClientConfig, DeviceClient  # needs the optional 'websockets'

    plans = plan_patients(config)
    sources = _load_all(config, plans)
    t_start = time.time_ns() if config.t_start_ns is None else config.t_start_ns
    base_client = ClientConfig(url=config.url, speed=config.speed, **dict(config.client))
    ramp = config.ramp_s / config.patients

    async def one(p: PatientPlan) -> DeviceStats:
        kind = parse_source_spec(p.source)[0]
        src = sources[(p.source, p.source_seed if kind == "synthetic" else 0)]
        start = _start_offset(p.index, len(config.sources), src, config.duration_s)
        src = src.window(start, config.duration_s)
        frames = device_frames(
            src,
            p.patient_id,
            p.device_id,
            samples_per_frame=config.samples_per_frame,
            stream_id=p.stream_id,
            t_start_ns=t_start,
        )
        imp = replace(config.impairments, seed=config.impairments.seed + p.index)
        client = DeviceClient(
            p.patient_id,
            p.device_id,
            p.stream_id,
            replace(base_client, seed=config.seed + p.index),
            token=p.token,
        )
        if ramp:
            await asyncio.sleep(p.index * ramp)
        return await client.run(impair(frames, imp))

    t0 = time.perf_counter()
    devices = await asyncio.gather(*(one(p) for p in plans))
    return SimulationReport(list(devices), time.perf_counter() - t0)


def run_simulation(config: SimulationConfig) -> SimulationReport:
    """Blocking wrapper of :func:`simulate` (``asyncio.run``)."""
    return asyncio.run(simulate(config))
