"""The FastAPI application of the monitoring service: :func:`create_app`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request

from ..classify import BeatClassifier, load_default_model
from ..store import Store
from .api import router
from .config import ServiceSettings
from .dashboard import router as dashboard_router
from .engine import MonitorEngine
from .ingest import ingest_endpoint

__all__ = ["create_app", "load_classifier"]

DESCRIPTION = """\
Real-time ECG monitoring: devices stream binary frames over the WebSocket `/ingest`
(authenticated with a device token, `Authorization: Bearer ...`); every beat is labelled by the
beat classifier in micro-batches across patients, rhythm events and alerts are derived from the
beat stream, and everything is stored.

**Device wire protocol.** OpenAPI cannot describe binary WebSocket messages: the frame layout,
acks, error codes and close codes, sequence numbers and retransmission are specified in
`docs/protocol.md` (reference implementation `cardiostream.service.protocol`).

**Live view.** `WS /api/v1/patients/{id}/live` streams JSON messages `{"type": "beat" | "event"
| "alert", ...}` to clinicians assigned to the patient (and admins).

**Access.** Device tokens only ingest, for their own device and patient; clinician tokens read
their assigned patients; admin tokens read everything and manage patients, devices, users,
tokens and assignments. Times are device-clock nanoseconds.
"""


def load_classifier(model: str) -> BeatClassifier:
    """``"default"``: the shipped model; otherwise a run directory of ``cardiostream train``."""
    if model == "default":
        return load_default_model()
    return BeatClassifier.from_run(model)


def create_app(
    settings: ServiceSettings | None = None,
    *,
    store: Store | None = None,
    classifier: BeatClassifier | None = None,
) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    settings : ServiceSettings
    store : Store, optional
        Default: ``Store(settings.db_url)``, migrated at start-up.
    classifier : BeatClassifier, optional
        Default: :func:`load_classifier` of ``settings.model``.
    """
    cfg = settings or ServiceSettings()
    st = store if store is not None else Store(cfg.db_url)
    clf = classifier if classifier is not None else load_classifier(cfg.model)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(st.migrate)
        engine = MonitorEngine(st, clf, cfg)
        app.state.engine = engine
        await engine.start()
        try:
            yield
        finally:
            await engine.stop()
            if store is None:
                st.close()

    app = FastAPI(title="cardiostream monitoring service", description=DESCRIPTION,
                  version="1", lifespan=lifespan)
    app.state.settings = cfg
    app.state.store = st
    app.state.classifier = clf
    app.include_router(router)
    app.include_router(dashboard_router)
    app.add_api_websocket_route("/ingest", ingest_endpoint, name="ingest")

    @app.get("/healthz", summary="Liveness and engine statistics")
    async def healthz(request: Request) -> dict[str, Any]:
        engine: MonitorEngine | None = getattr(request.app.state, "engine", None)
        if engine is None or not engine.running:
            return {"status": "starting"}
        return {"status": "ok", "model": clf.name, "engine": engine.stats()}

    return app
