"""Device simulator: recordings streamed as a Polar-H10-like device would, with impairments.

* :mod:`~cardiostream.simulate.sources` — ``mitdb:RECORD``, ``polar[:FILE]``, ``synthetic``.
* :mod:`~cardiostream.simulate.device` — framing (73 samples per frame), impairments
  (time-stamp jitter, dropped frames, reordering, disconnects, frames lost in flight) and the
  resend buffer.
* :mod:`~cardiostream.simulate.client` — the asyncio ``websockets`` client (pacing, acks,
  reconnect with backoff, re-sending unacknowledged frames); imported on demand because
  ``websockets`` is an optional dependency (``cardiostream[serve]``).
* :mod:`~cardiostream.simulate.run` — many patients at once; :mod:`~cardiostream.simulate.cli`
  — the ``cardiostream simulate`` command.

The wire format is :mod:`cardiostream.service.protocol` (``docs/protocol.md``).
"""

from __future__ import annotations

from .device import (
    POLAR_H10_SAMPLES_PER_FRAME,
    Disconnect,
    Dropped,
    Impairments,
    ResendBuffer,
    Send,
    TimedFrame,
    device_frames,
    impair,
)
from .run import (
    PatientPlan,
    SimulationConfig,
    SimulationReport,
    load_tokens,
    plan_patients,
    run_simulation,
    simulate,
)
from .sources import SYNTHETIC_OPTIONS, SourceSignal, load_source, parse_source_spec

__all__ = [
    "POLAR_H10_SAMPLES_PER_FRAME",
    "SYNTHETIC_OPTIONS",
    "Disconnect",
    "Dropped",
    "Impairments",
    "PatientPlan",
    "ResendBuffer",
    "Send",
    "SimulationConfig",
    "SimulationReport",
    "SourceSignal",
    "TimedFrame",
    "device_frames",
    "impair",
    "load_source",
    "load_tokens",
    "parse_source_spec",
    "plan_patients",
    "run_simulation",
    "simulate",
]
