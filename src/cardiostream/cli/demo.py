"""``cardiostream demo``: the monitoring service with a handful of simulated patients.

Starts the service (SQLite under ``--out``, the shipped beat model) on a local port, registers a
few patients with devices (device tokens) and a demo clinician assigned to them (a clinician
token, created through the store like ``cardiostream serve --create-admin``), streams MIT-BIH
records resampled to 130 Hz as Polar-H10-like devices would (synthetic ECG when the data
directory is absent), prints where to look, and after ``--duration`` seconds prints what was
stored: beats per patient and class, events and alerts. Nothing external is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from ..errors import CardiostreamError
from ._options import fail

__all__ = ["DEMO_RECORDS", "demo_command", "register"]

#: MIT-BIH records of the demo: bigeminy, PVCs and fusion, atrial fibrillation, ventricular
#: tachycardia.
DEMO_RECORDS: tuple[str, ...] = ("119", "208", "201", "233")
_SYNTHETIC = (
    "synthetic:hr=70,pvc=0.15",
    "synthetic:hr=95,pvc=0.05",
    "synthetic:hr=55,pvc=0.3",
    "synthetic:hr=80",
)
_RECORD_NOTES = {
    "119": "ventricular bigeminy",
    "208": "frequent PVCs, couplets",
    "201": "atrial fibrillation",
    "233": "PVCs, ventricular tachycardia runs",
}


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _pick_port(host: str, port: int) -> int:
    if port and _port_free(host, port):
        return port
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _sources(data_dir: Path | None) -> tuple[list[str], list[str]]:
    """MIT-BIH demo records when the data root has them, else synthetic sources."""
    from ..datasets import data_root
    from ..errors import DataNotFoundError

    try:
        root = data_root(data_dir)
        if all((root / "mitdb" / f"{r}.hea").is_file() for r in DEMO_RECORDS):
            return (
                [f"mitdb:{r}" for r in DEMO_RECORDS],
                [f"MIT-BIH {r} ({_RECORD_NOTES[r]})" for r in DEMO_RECORDS],
            )
    except DataNotFoundError:
        pass
    return list(_SYNTHETIC), [f"{s} (no MIT-BIH data found)" for s in _SYNTHETIC]


def demo_command(
    duration: Annotated[
        float,
        typer.Option("--duration", help="Seconds of streaming before the summary (real time)."),
    ] = 60.0,
    keep_running: Annotated[
        bool,
        typer.Option("--keep-running", help="Stream the whole recordings and serve until Ctrl-C."),
    ] = False,
    out: Annotated[
        Path,
        typer.Option("--out", help="Directory of the demo database (demo.db, recreated each run)."),
    ] = Path("out/demo"),
    port: Annotated[
        int, typer.Option("--port", help="TCP port (a free one is picked when it is taken).")
    ] = 8000,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    model: Annotated[
        str,
        typer.Option(
            "--model", help="'default' (shipped model) or a run directory of `cardiostream train`."
        ),
    ] = "default",
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", help="Data root with mitdb/ (else $CARDIOSTREAM_DATA, ../shared/data)."
        ),
    ] = None,
) -> None:
    """Run the monitoring service with simulated patients and print where to look."""
    try:
        import uvicorn

        from ..service.app import create_app
        from ..service.config import ServiceSettings
        from ..simulate import SimulationConfig, simulate
        from ..store import Store

        if not (keep_running or (math.isfinite(duration) and duration > 0)):
            raise CardiostreamError("--duration must be a positive number of seconds.")
        out.mkdir(parents=True, exist_ok=True)
        db_path = out / "demo.db"
        for p in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
            p.unlink(missing_ok=True)
        db_url = f"sqlite:///{db_path}"
        sources, notes = _sources(data_dir)
        store = Store(db_url)
        store.migrate()
        clinician = store.add_user("demo-clinician", "clinician", "Demo clinician")
        tokens: dict[str, str] = {}
        patients = []
        for i, note in enumerate(notes):
            p = store.add_patient(f"demo-{i:04d}", name=note)
            d = store.add_device(p.id, f"demo-dev-{i:04d}", model="simulated Polar H10")
            store.assign(clinician.id, p.id)
            tokens[p.external_id] = store.create_device_token(d.id, label="demo").plaintext
            patients.append(p)
        user_token = store.create_user_token(clinician.id, label="demo").plaintext
        port = _pick_port(host, port)
        settings = ServiceSettings(
            db_url=db_url, model=model, host=host, port=port, idle_timeout_s=3.0
        )
        app = create_app(settings, store=store)
    except (CardiostreamError, ImportError, OSError) as e:
        fail(str(e))

    base = f"http://{host}:{port}"
    typer.echo(
        f"cardiostream demo: {len(patients)} simulated patients at 130 Hz, model "
        f"{app.state.classifier.name!r}, database {db_path}"
    )
    for p in patients:
        typer.echo(f"  patient {p.id} ({p.external_id}): {p.name}")
    typer.echo(f"API:        {base}/api/v1   (e.g. {base}/api/v1/patients)")
    typer.echo(f"API docs:   {base}/docs   (OpenAPI schema {base}/openapi.json)")
    typer.echo(f"Live view:  ws://{host}:{port}/api/v1/patients/<id>/live?token=<token>")
    typer.echo(
        f"Dashboard:  {base}/dashboard/   (log in with the clinician token below; "
        "built by `make web`)"
    )
    typer.echo(f"Clinician token (demo-clinician): {user_token}")
    typer.echo(f"  curl -H 'Authorization: Bearer {user_token}' {base}/api/v1/patients")
    typer.echo(
        "Ctrl-C stops early."
        if not keep_running
        else "Streaming the whole recordings; Ctrl-C stops."
    )

    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", ws_per_message_deflate=False)
    )
    config = SimulationConfig(
        url=f"ws://{host}:{port}/ingest",
        patients=len(patients),
        sources=tuple(sources),
        fs=130.0,
        duration_s=None if keep_running else duration,
        tokens=tokens,
        prefix="demo",
        seed=0,
        ramp_s=1.0,
        data_dir=data_dir,
    )

    async def main() -> None:
        srv = asyncio.create_task(server.serve())
        while not server.started:
            if srv.done():
                srv.result()
                return
            await asyncio.sleep(0.05)
        try:
            report = await simulate(config)
            typer.echo(f"\nsimulator: {report.summary().splitlines()[0]}")
            engine = app.state.engine
            for _ in range(100):  # idle streams are finalised: their last beats come out
                if not engine.streams:
                    break
                await asyncio.sleep(0.1)
            await engine.flush()
            if keep_running:
                typer.echo("recordings finished; still serving until Ctrl-C")
                await srv
        finally:
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await srv

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    _summary(db_url, [p.id for p in patients])


def _summary(db_url: str, patient_ids: list[int]) -> None:
    from ..store import Store

    store = Store(db_url)
    try:
        typer.echo("\nSummary (stored):")
        for pid in patient_ids:
            p = store.get_patient(pid)
            beats = store.beats(pid, 0, 2**62)
            counts = Counter(b.label for b in beats)
            events = store.events(pid, 0, 2**62)
            kinds = Counter(e.kind for e in events)
            alerts = store.alerts(pid, 0, 2**62)
            cls = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "-"
            ev = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none"
            typer.echo(
                f"  {p.external_id} {p.name}: {len(beats)} beats ({cls}); events: {ev}; "
                f"alerts: {len(alerts)}"
            )
    finally:
        store.close()


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo_command)
