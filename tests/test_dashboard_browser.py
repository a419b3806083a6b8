"""The clinician dashboard in a real browser (Playwright driving Debian's Chromium).

A real uvicorn server with a small SQLite store runs the service; the simulator streams three
synthetic patients in real time (one of them at 150 bpm, which raises a tachycardia alert after
its 10 s sustain time). The tests sign in with a clinician token and check the ward, the live
strip against the stored beats, acknowledging an alert, relabelling a beat (after a reload and
in the audit log), dismissing an event and that unauthenticated visits are refused.
Screenshots go to ``$CARDIOSTREAM_SCREENSHOTS`` (e.g. ``docs/img`` to refresh the README's) or,
by default, to a temporary folder, so a test run never rewrites tracked files.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("CARDIOSTREAM_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "src" / "cardiostream" / "service" / "static"
IMG = Path(os.environ.get("CARDIOSTREAM_SCREENSHOTS") or tempfile.mkdtemp(prefix="cs_shots_"))
RUN_DIR = ROOT / "out" / "runs" / "c_s0.5_v0.1"
FS = 130.0
#: (external id, name, synthetic source spec)
PATIENTS = [
    ("bed-01", "Ada Lovelace", "synthetic:hr=72,pvc=0.1,seed=1"),
    ("bed-02", "Alan Turing", "synthetic:hr=150,seed=2"),  # tachycardia → warning alert
    ("bed-03", "Grace Hopper", "synthetic:hr=64,pvc=0.25,seed=3"),
]
DURATION_S = 240.0

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
if not (STATIC / "index.html").is_file():
    pytest.skip("the dashboard is not built (make web)", allow_module_level=True)
uvicorn = pytest.importorskip("uvicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _classifier():
    """The shipped model, else a trained run directory, else the tests' untrained model."""
    from cardiostream.classify import BeatClassifier, load_default_model

    with contextlib.suppress(Exception):
        return load_default_model()
    if RUN_DIR.is_dir():
        with contextlib.suppress(Exception):
            clf = BeatClassifier.from_run(RUN_DIR)
            if clf.preprocessing.input == "beat_ctx":
                return clf
    from test_service_engine import classifier

    return classifier()


@dataclass
class Ward:
    url: str
    token: str
    user_id: int
    patients: dict[str, int]  # external id -> patient id
    hidden: int  # a patient the clinician is not assigned to
    store: object = None

    def get(self, path: str, **params):
        r = httpx.get(self.url + path, params=params,
                      headers={"Authorization": f"Bearer {self.token}"}, timeout=10)
        r.raise_for_status()
        return r.json()


@pytest.fixture(scope="module")
def ward(tmp_path_factory):
    from cardiostream.service.app import create_app
    from cardiostream.service.config import ServiceSettings
    from cardiostream.simulate import Impairments, device_frames, impair, load_source
    from cardiostream.simulate.client import ClientConfig, DeviceClient
    from cardiostream.store import Store

    tmp = tmp_path_factory.mktemp("dash")
    store = Store(f"sqlite:///{tmp / 'dash.db'}")
    store.migrate()
    user = store.add_user("dr_house", "clinician", "Dr House")
    token = store.create_user_token(user.id).plaintext
    ids, devs = {}, []
    for ext, name, spec in PATIENTS:
        p = store.add_patient(ext, name)
        d = store.add_device(p.id, f"h10-{ext}")
        store.assign(user.id, p.id)
        ids[ext] = p.id
        devs.append((p, d, store.create_device_token(d.id).plaintext, spec))
    hidden = store.add_patient("bed-99", "Not Assigned").id
    settings = ServiceSettings(db_url="sqlite://", torch_threads=1, idle_timeout_s=30.0)
    app = create_app(settings, store=store, classifier=_classifier())
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           ws_per_message_deflate=False))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    for _ in range(400):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started

    loop = asyncio.new_event_loop()
    t_start = time.time_ns()
    stop = asyncio.Event()

    async def simulate():
        cfg = ClientConfig(url=f"ws://127.0.0.1:{port}/ingest", speed=1.0)
        jobs = []
        for i, (p, d, tok, spec) in enumerate(devs):
            src = load_source(spec, FS, duration_s=DURATION_S, seed=i)
            frames = device_frames(src, p.external_id, d.serial, stream_id=1, t_start_ns=t_start)
            client = DeviceClient(p.external_id, d.serial, 1, cfg, tok)
            jobs.append(asyncio.create_task(client.run(impair(frames, Impairments()))))
        await stop.wait()
        for j in jobs:
            j.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)

    sim = threading.Thread(target=loop.run_until_complete, args=(simulate(),), daemon=True)
    sim.start()
    w = Ward(f"http://127.0.0.1:{port}", token, user.id, ids, hidden, store)
    try:
        yield w
    finally:
        loop.call_soon_threadsafe(stop.set)
        sim.join(timeout=20)
        loop.close()
        server.should_exit = True
        th.join(timeout=30)
        store.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                               args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    yield pg
    ctx.close()


def _login(page, ward: Ward) -> None:
    page.goto(ward.url + "/dashboard/#/login")
    page.fill("#token", ward.token)
    page.click("button[type=submit]")
    page.wait_for_selector("#ward .tile")


def _wait(pred, timeout_s: float, what: str):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def test_unauthenticated_visit_is_refused(page, ward: Ward) -> None:
    page.goto(ward.url + f"/dashboard/#/patient/{ward.patients['bed-01']}")
    page.wait_for_selector("#token")
    assert page.locator("#strip").count() == 0
    assert "sign in" in page.locator("main").inner_text().lower()
    assert httpx.get(ward.url + "/dashboard/api/ward").status_code == 401
    # a wrong token is refused too
    page.fill("#token", "not-a-token")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Sign-in refused")
    assert page.locator("#ward").count() == 0


def test_ward_lists_assigned_patients(page, ward: Ward) -> None:
    _login(page, ward)
    ext = set(ward.patients)
    page.wait_for_function(
        "n => document.querySelectorAll('#ward .tile .hr-value').length === n && "
        "[...document.querySelectorAll('#ward .tile .hr-value')].every(e => e.textContent !== '—')",
        arg=len(ext), timeout=60_000)
    shown = page.eval_on_selector_all("#ward .tile", "els => els.map(e => e.dataset.externalId)")
    assert set(shown) == ext  # bed-99 is not assigned to this clinician
    states = page.eval_on_selector_all("#ward .tile .state", "els => els.map(e => e.textContent)")
    assert all("streaming" in s for s in states)
    urg = page.eval_on_selector_all("#ward .tile", "els => els.map(e => +e.dataset.urgency)")
    assert urg == sorted(urg, reverse=True)
    # keyboard: tiles are links reachable with Tab, Enter opens the patient
    page.focus("#ward .tile")
    page.keyboard.press("Enter")
    page.wait_for_selector("#strip")


def test_patient_strip_shows_stored_beats(page, ward: Ward) -> None:
    pid = ward.patients["bed-01"]
    _login(page, ward)
    page.goto(ward.url + f"/dashboard/#/patient/{pid}")
    page.wait_for_function("document.querySelectorAll('#beat-list li').length >= 3",
                           timeout=60_000)
    page.wait_for_timeout(1500)
    IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG / "dashboard_patient.png"), full_page=True)
    page.click("#pause")
    page.wait_for_timeout(2500)  # late labels for the window arrive; the store catches up
    shown = page.evaluate("""() => { const s = window.__cs.strip; const w = s.window();
        return {t0: w.t0, t1: w.t1, beats: s.visibleBeats().map(b =>
          ({session: b.session_id, sample: b.sample, label: b.label, t: b.time_ns}))}; }""")
    t0, t1 = shown["t0"] + 0.05e9, shown["t1"] - 0.05e9
    mine = {(b["session"], b["sample"], b["label"]) for b in shown["beats"] if t0 <= b["t"] < t1}
    stored = ward.get(f"/api/v1/patients/{pid}/beats", t0=int(t0), t1=int(t1))
    want = {(b["session_id"], b["sample_index"], b["final_label"]) for b in stored}
    assert len(want) >= 3
    assert mine == want
    # every beat carries its class as a letter as well as a colour
    letters = page.eval_on_selector_all("#beat-list li .badge",
                                        "els => els.map(e => e.textContent)")
    assert letters and set(letters) <= {"N", "S", "V", "F", "Q", "?"}


def test_alert_appears_and_can_be_acknowledged(page, ward: Ward) -> None:
    pid = ward.patients["bed-02"]
    _login(page, ward)
    page.goto(ward.url + f"/dashboard/#/patient/{pid}")
    button = page.locator("#alerts li button.ack").first
    button.wait_for(timeout=90_000)
    li = page.locator("#alerts li", has=page.locator("button.ack")).first
    alert_id = int(li.get_attribute("data-alert-id"))
    assert any(s in li.inner_text() for s in ("CRITICAL", "WARNING", "INFO"))
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#alerts li[data-alert-id='{alert_id}'] .ack-state")
    rows = {a["id"]: a for a in ward.get(f"/api/v1/patients/{pid}/alerts")}
    assert rows[alert_id]["acknowledged_by"] == ward.user_id
    page.goto(ward.url + "/dashboard/#/ward")
    page.wait_for_selector("#ward .tile")
    page.wait_for_timeout(2500)
    IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG / "dashboard_ward.png"), full_page=True)


def test_relabel_survives_reload_and_is_audited(page, ward: Ward) -> None:
    pid = ward.patients["bed-03"]
    _wait(lambda: len(ward.get(f"/api/v1/patients/{pid}/beats")) > 20, 60, "stored beats")
    _login(page, ward)
    page.goto(ward.url + f"/dashboard/#/review/{pid}?last=20")
    row = page.locator("#review-beats tbody tr").nth(3)
    row.wait_for(timeout=30_000)
    key, old = row.get_attribute("data-key"), row.get_attribute("data-label")
    new = "V" if old != "V" else "N"
    row.locator("select").select_option(new)
    row.locator("button.relabel").click()
    page.wait_for_selector(f"#review-beats tr[data-key='{key}'][data-label='{new}']")
    page.reload()
    page.wait_for_selector(f"#review-beats tr[data-key='{key}'][data-label='{new}']")
    audit = page.locator(f"#audit tr[data-key='{key}'][data-action='relabel']")
    assert audit.count() == 1
    assert "dr_house" in audit.inner_text()
    session, sample = map(int, key.split(":"))
    beat = next(b for b in ward.get(f"/api/v1/patients/{pid}/beats")
                if b["session_id"] == session and b["sample_index"] == sample)
    assert beat["final_label"] == new and beat["label"] == old


def test_event_can_be_dismissed_with_audit(page, ward: Ward) -> None:
    pid = ward.patients["bed-02"]
    evs = _wait(lambda: ward.get(f"/dashboard/api/patients/{pid}/events"), 90, "an event")
    ev = evs[0]
    _login(page, ward)
    page.goto(ward.url + f"/dashboard/#/review/{pid}?event={ev['id']}")
    page.wait_for_selector("#dismiss")
    page.fill("#dismiss-reason", "artefact")
    page.click("#dismiss")
    page.wait_for_selector("#event-state:has-text('Dismissed')")
    row = page.locator(f"#audit tr[data-key='{ev['id']}'][data-action='dismiss']")
    row.wait_for()
    assert row.count() == 1 and "dr_house" in row.inner_text()
    after = {e["id"]: e for e in ward.get(f"/dashboard/api/patients/{pid}/events")}
    assert after[ev["id"]]["dismissed"] is True

