"""The FastAPI service: access rules of every endpoint, ingest over WebSocket (acks, errors,
close codes, one bad client never affecting another), live subscription, uploads."""

from __future__ import annotations

import io
import json
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.websockets import WebSocketDisconnect

from cardiostream.service.app import create_app
from cardiostream.service.config import ServiceSettings
from cardiostream.service.protocol import Frame, encode_frame, parse_server_message
from cardiostream.store import Store
from test_service_engine import FS, classifier, frames_of, synthetic_uv

with warnings.catch_warnings():  # starlette asks for httpx2, which is not needed here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient, WebSocketDenialResponse


@pytest.fixture
def env(tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path / 'api.db'}")
    store.migrate()
    admin = store.add_user("root", "admin")
    doc = store.add_user("doc", "clinician")
    other = store.add_user("other", "clinician")
    p1 = store.add_patient("pat-1")
    p2 = store.add_patient("pat-2")
    d1 = store.add_device(p1.id, "dev-1")
    d2 = store.add_device(p2.id, "dev-2")
    store.assign(doc.id, p1.id)
    tok = {
        "admin": store.create_user_token(admin.id).plaintext,
        "doc": store.create_user_token(doc.id).plaintext,
        "other": store.create_user_token(other.id).plaintext,
        "dev1": store.create_device_token(d1.id).plaintext,
        "dev2": store.create_device_token(d2.id).plaintext,
    }
    cfg = ServiceSettings(max_wait_ms=1.0, flush_interval_s=0.02, chunk_s=0.5, rate_burst=400)
    app = create_app(cfg, store=store, classifier=classifier())
    with TestClient(app) as client:
        yield {"client": client, "store": store, "tok": tok, "p1": p1, "p2": p2, "d1": d1,
               "d2": d2, "doc": doc}
    store.close()


def H(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _frames(n_s: float = 20.0, patient: str = "pat-1", device: str = "dev-1", sid: int = 3):
    return frames_of(synthetic_uv(n_s, seed=3), patient, device, stream_id=sid)


def _wait_ack(ws, seq: int, limit: int = 2000) -> list:
    msgs = []
    for _ in range(limit):
        m = parse_server_message(ws.receive_text())
        msgs.append(m)
        if getattr(m, "seq", None) == seq and type(m).__name__ == "Ack":
            return msgs
    raise AssertionError(f"no ack for {seq}: {msgs[-5:]}")


# --------------------------------------------------------------------------- access rules

READS = ["/api/v1/patients/{p}", "/api/v1/patients/{p}/beats", "/api/v1/patients/{p}/events",
         "/api/v1/patients/{p}/alerts", "/api/v1/patients/{p}/strip?t0=0&t1=1000",
         "/api/v1/patients/{p}/hr?t0=0&t1=60000000000"]


def test_read_endpoints_enforce_access(env) -> None:
    c, tok, p1, p2 = env["client"], env["tok"], env["p1"].id, env["p2"].id
    for path in READS:
        assert c.get(path.format(p=p1)).status_code == 401, path
        assert c.get(path.format(p=p1), headers=H("nope")).status_code == 401, path
        assert c.get(path.format(p=p1), headers=H(tok["dev1"])).status_code == 403, path
        assert c.get(path.format(p=p1), headers=H(tok["other"])).status_code == 403, path
        assert c.get(path.format(p=p2), headers=H(tok["doc"])).status_code == 403, path
        assert c.get(path.format(p=p1), headers=H(tok["doc"])).status_code == 200, path
        assert c.get(path.format(p=p2), headers=H(tok["admin"])).status_code == 200, path
    assert c.get("/api/v1/patients").status_code == 401
    mine = c.get("/api/v1/patients", headers=H(tok["doc"])).json()
    assert [p["id"] for p in mine] == [p1]
    assert len(c.get("/api/v1/patients", headers=H(tok["admin"])).json()) == 2
    assert c.get("/api/v1/patients", headers=H(tok["other"])).json() == []


def test_admin_endpoints_are_admin_only(env) -> None:
    c, tok = env["client"], env["tok"]
    calls = [
        ("post", "/api/v1/admin/patients", {"external_id": "pat-3"}),
        ("post", "/api/v1/admin/users", {"username": "nurse", "role": "clinician"}),
        ("get", "/api/v1/admin/users", None),
        ("get", "/api/v1/admin/devices", None),
    ]
    for method, path, body in calls:
        for who, code in (("doc", 403), ("dev1", 403)):
            r = getattr(c, method)(path, headers=H(tok[who]), **({"json": body} if body else {}))
            assert r.status_code == code, (path, who)
        assert getattr(c, method)(path, **({"json": body} if body else {})).status_code == 401
    a = H(tok["admin"])
    pat = c.post("/api/v1/admin/patients", headers=a, json={"external_id": "pat-3"}).json()
    assert c.post("/api/v1/admin/patients", headers=a,
                  json={"external_id": "pat-3"}).status_code == 409
    dev = c.post("/api/v1/admin/devices", headers=a,
                 json={"patient_id": pat["id"], "serial": "dev-3"}).json()
    nurse = c.post("/api/v1/admin/users", headers=a,
                   json={"username": "nurse", "role": "clinician"}).json()
    t = c.post("/api/v1/admin/tokens", headers=a, json={"kind": "user", "user_id": nurse["id"]})
    assert t.status_code == 201
    nt = t.json()["token"]
    assert c.get(f"/api/v1/patients/{pat['id']}", headers=H(nt)).status_code == 403
    assert c.post("/api/v1/admin/assignments", headers=a,
                  json={"user_id": nurse["id"], "patient_id": pat["id"]}).status_code == 201
    assert c.get(f"/api/v1/patients/{pat['id']}", headers=H(nt)).status_code == 200
    dt = c.post("/api/v1/admin/tokens", headers=a, json={"kind": "device", "device_id": dev["id"]})
    assert dt.status_code == 201 and dt.json()["patient_id"] == pat["id"]
    assert c.delete(f"/api/v1/admin/tokens/{t.json()['token_id']}", headers=a).json()["revoked"]
    assert c.get(f"/api/v1/patients/{pat['id']}", headers=H(nt)).status_code == 401
    assert c.post("/api/v1/admin/tokens", headers=H(tok["doc"]),
                  json={"kind": "user", "user_id": nurse["id"]}).status_code == 403


def test_healthz_and_openapi(env) -> None:
    c = env["client"]
    assert c.get("/healthz").json()["status"] == "ok"
    spec = c.get("/openapi.json").json()
    assert "docs/protocol.md" in spec["info"]["description"]
    assert "/api/v1/records" in spec["paths"]


# --------------------------------------------------------------------------- ingest


def test_ingest_handshake_auth(env) -> None:
    c, tok = env["client"], env["tok"]
    for headers, status in (({}, 401), (H("garbage"), 401), (H(tok["doc"]), 403)):
        with pytest.raises(WebSocketDenialResponse) as e:
            c.websocket_connect("/ingest", headers=headers).__enter__()
        assert e.value.status_code == status


def test_ingest_stores_acks_and_publishes_live(env) -> None:
    c, tok, store, p1 = env["client"], env["tok"], env["store"], env["p1"].id
    frames = _frames(20.0)
    for bad in (H(tok["other"]), H(tok["dev1"]), {}):  # unassigned clinician, device, nobody
        with pytest.raises(WebSocketDisconnect) as e:
            c.websocket_connect(f"/api/v1/patients/{p1}/live", headers=bad).__enter__()
        assert e.value.code == 1008
    with c.websocket_connect(f"/api/v1/patients/{p1}/live?token={tok['doc']}") as live, \
            c.websocket_connect("/ingest", headers=H(tok["dev1"])) as ws:
        for f in frames:
            ws.send_bytes(encode_frame(f))
        _wait_ack(ws, frames[-1].seq)
        first = json.loads(live.receive_text())
        assert first["type"] == "beat" and first["patient_id"] == p1
    beats = store.beats(p1, 0, 2**62)
    assert len(beats) > 10
    strip = store.raw_strip(p1, 0, 2**62)
    assert len(strip) == sum(f.n_samples for f in frames)
    r = c.get(f"/api/v1/patients/{p1}/beats", headers=H(tok["doc"])).json()
    assert len(r) == len(beats)


def _bad_cases(good: bytes, frame: Frame) -> dict[str, tuple[object, int, str]]:
    big_fs = bytearray(good)
    struct.pack_into("<I", big_fs, 12, 5_000_000)  # 5 kHz
    return {
        "text": ("hello", 1003, "not_binary"),
        "magic": (b"XX" + good[2:], 1002, "bad_magic"),
        "truncated": (good[:10], 1002, "truncated"),
        "length": (good + b"\0\0\0\0", 1002, "length_mismatch"),
        "fs": (bytes(big_fs), 1007, "fs_out_of_range"),
        "oversized": (good + bytes(9000), 1009, "frame_too_large"),
        "forbidden": (encode_frame(Frame(**{**frame.__dict__, "patient_id": "pat-2"})),
                      1008, "forbidden"),
    }


@pytest.mark.parametrize("case", ["text", "magic", "truncated", "length", "fs", "oversized",
                                  "forbidden"])
def test_malformed_input_closes_only_that_connection(env, case: str) -> None:
    c, tok = env["client"], env["tok"]
    good_frames = _frames(8.0, "pat-2", "dev-2", sid=9)
    frame = _frames(2.0)[0]
    payload, code, err = _bad_cases(encode_frame(frame), frame)[case]
    with c.websocket_connect("/ingest", headers=H(tok["dev2"])) as other:
        half = len(good_frames) // 2
        for f in good_frames[:half]:
            other.send_bytes(encode_frame(f))
        with c.websocket_connect("/ingest", headers=H(tok["dev1"])) as bad:
            if isinstance(payload, str):
                bad.send_text(payload)
            else:
                bad.send_bytes(payload)
            msg = parse_server_message(bad.receive_text())
            assert msg.code == err and msg.close
            with pytest.raises(WebSocketDisconnect) as e:
                bad.receive_text()
            assert e.value.code == code
        for f in good_frames[half:]:
            other.send_bytes(encode_frame(f))
        _wait_ack(other, good_frames[-1].seq)


def test_value_out_of_range_is_rejected_without_closing(env) -> None:
    c, tok = env["client"], env["tok"]
    frames = _frames(8.0)
    bad = frames[3]
    spike = bad.samples_uv.copy()
    spike[5] = 200_000
    raw = bytearray(encode_frame(bad))
    off = len(raw) - 4 * bad.n_samples
    raw[off:] = spike.astype("<i4").tobytes()
    with c.websocket_connect("/ingest", headers=H(tok["dev1"])) as ws:
        for f in frames[:3]:
            ws.send_bytes(encode_frame(f))
        ws.send_bytes(bytes(raw))
        for f in frames[4:]:
            ws.send_bytes(encode_frame(f))
        msgs = _wait_ack(ws, frames[-1].seq)
    errs = [m for m in msgs if type(m).__name__ == "ErrorMessage"]
    assert [e.code for e in errs] == ["value_out_of_range"] and not errs[0].close


def test_rate_limit_closes_with_try_again_later(env, tmp_path: Path) -> None:
    store = env["store"]
    cfg = ServiceSettings(rate_per_s=1.0, rate_burst=5, flush_interval_s=0.02)
    app = create_app(cfg, store=store, classifier=classifier())
    frames = _frames(8.0)
    with TestClient(app) as c, c.websocket_connect("/ingest", headers=H(env["tok"]["dev1"])) as ws:
        for f in frames[:8]:
            ws.send_bytes(encode_frame(f))
        codes = []
        with pytest.raises(WebSocketDisconnect) as e:
            for _ in range(50):
                m = parse_server_message(ws.receive_text())
                codes.append(getattr(m, "code", None))
        assert "rate_limited" in codes and e.value.code == 1013


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(min_size=0, max_size=200))
def test_fuzzed_bytes_get_an_error_and_a_close(env, data: bytes) -> None:
    c, tok = env["client"], env["tok"]
    with c.websocket_connect("/ingest", headers=H(tok["dev1"])) as ws:
        ws.send_bytes(data)
        msg = parse_server_message(ws.receive_text())
        assert type(msg).__name__ == "ErrorMessage" and msg.close


# --------------------------------------------------------------------------- uploads


def test_upload_csv_and_wfdb(env, tmp_path: Path) -> None:
    import wfdb

    c, tok = env["client"], env["tok"]
    x = synthetic_uv(30.0, seed=4) / 1000.0
    csv = "\n".join(f"{v:.4f}" for v in x).encode()
    r = c.post(f"/api/v1/records?fs={FS}", headers={**H(tok["doc"]), "Content-Type": "text/csv"},
               content=csv)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["n_beats"] > 20 and len(out["beat_labels"]) == out["n_beats"]
    wfdb.wrsamp("rec", fs=FS, units=["mV"], sig_name=["ECG"], p_signal=x[:, None],
                fmt=["16"], write_dir=str(tmp_path))
    files = [("files", (n, (tmp_path / n).read_bytes())) for n in ("rec.hea", "rec.dat")]
    r = c.post("/api/v1/records", headers=H(tok["doc"]), files=files)
    assert r.status_code == 200, r.text
    assert r.json()["n_beats"] == out["n_beats"]
    assert c.post("/api/v1/records", files=files).status_code == 401
    assert c.post("/api/v1/records", headers=H(tok["dev1"]), files=files).status_code == 403
    bad = [("files", ("../evil.sh", io.BytesIO(b"x")))]
    assert c.post("/api/v1/records", headers=H(tok["doc"]), files=bad).status_code == 400


def test_alert_acknowledge_access(env) -> None:
    from cardiostream.store import NewAlert, NewEvent

    c, tok, store = env["client"], env["tok"], env["store"]
    (eid,) = store.add_events([NewEvent(env["p1"].id, "vt", 10, 20)])
    (aid,) = store.add_alerts([NewAlert(eid, "critical", 5, "VT")])
    assert c.post(f"/api/v1/alerts/{aid}/acknowledge").status_code == 401
    assert c.post(f"/api/v1/alerts/{aid}/acknowledge", headers=H(tok["other"])).status_code == 403
    assert c.post(f"/api/v1/alerts/{aid}/acknowledge", headers=H(tok["dev1"])).status_code == 403
    r = c.post(f"/api/v1/alerts/{aid}/acknowledge", headers=H(tok["doc"]))
    assert r.status_code == 200 and r.json()["acknowledged_by"] == env["doc"].id
    assert np.isfinite(r.json()["acknowledged_at_ns"])
