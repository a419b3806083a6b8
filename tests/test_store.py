"""The persistence layer (cardiostream.store) on SQLite and on PostgreSQL.

Every database test runs twice through the parametrized ``db_url`` fixture: on a fresh SQLite
file, and on a fresh schema of the local PostgreSQL server (127.0.0.1:5432, user ``postgres``,
database ``test``; override with the libpq conninfo in ``CARDIOSTREAM_TEST_PG``), dropped after
the test. The PostgreSQL variants are skipped, with the reason, when the server is unreachable.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import FrozenInstanceError, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import URL

from cardiostream.errors import CardiostreamError, InvalidParameterError, InvalidSignalError
from cardiostream.store import (
    BEAT_LABELS,
    INCONCLUSIVE,
    ConflictError,
    NewAlert,
    NewBeat,
    NewChunk,
    NewEvent,
    NotFoundError,
    Principal,
    RawSegment,
    RawStrip,
    Store,
)
from cardiostream.store.codec import encode_samples
from cardiostream.store.migrate import head_revision
from cardiostream.store.models import Base, TokenRow

PG_CONNINFO = os.environ.get(
    "CARDIOSTREAM_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=test"
)
T0 = 1_700_000_000_000_000_000  # device clock origin of the synthetic streams (ns)
FS = 130.0
SEC = 1_000_000_000


class Clock:
    """Deterministic server clock: every reading is 1 ms after the previous."""

    def __init__(self, start: int = 1_800_000_000_000_000_000) -> None:
        self._it = itertools.count(start, 1_000_000)

    def __call__(self) -> int:
        return next(self._it)


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Any]:
    psycopg = pytest.importorskip("psycopg")
    try:
        conn = psycopg.connect(PG_CONNINFO, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        pytest.skip(f"PostgreSQL not reachable at {PG_CONNINFO!r} ({reason})")
    yield conn
    conn.close()


def _pg_url(schema: str) -> URL:
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(PG_CONNINFO)
    return URL.create(
        "postgresql+psycopg",
        username=info.get("user"),
        password=info.get("password"),
        host=info.get("host"),
        port=int(info["port"]) if "port" in info else None,
        database=info.get("dbname"),
        query={"options": f"-csearch_path={schema}"},
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A URL to an empty database: a SQLite file, or a unique PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    admin = request.getfixturevalue("pg_admin")
    schema = f"cs_test_{uuid.uuid4().hex[:16]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield _pg_url(schema)
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def store(db_url: Any) -> Iterator[Store]:
    s = Store(db_url, clock=Clock())
    s.migrate()
    yield s
    s.close()


@dataclass(frozen=True)
class World:
    patient: int
    other_patient: int
    device: int
    other_device: int
    clinician: int
    admin: int
    session: int


@pytest.fixture
def world(store: Store) -> World:
    p = store.add_patient("mitdb:100", "Record 100", {"tachy_bpm": 120})
    q = store.add_patient("mitdb:119")
    d = store.add_device(p.id, "H10-A", "Polar H10")
    e = store.add_device(q.id, "H10-B", "Polar H10")
    c = store.add_user("dr.who", "clinician", "Dr Who")
    a = store.add_user("root", "admin")
    store.assign(c.id, p.id, actor_user_id=a.id)
    s = store.start_session(d.id, FS, T0)
    return World(p.id, q.id, d.id, e.id, c.id, a.id, s.id)


def _t(sample: int, fs: float = FS) -> int:
    return T0 + round(sample * 1e9 / fs)


def _beats(w: World, samples: Any, label: str = "N", usable: bool = True) -> list[NewBeat]:
    return [
        NewBeat(w.session, w.patient, int(i), _t(int(i)), label, 0.9, 0.06, 0.04, usable=usable)
        for i in samples
    ]


def _chunks(session: int, x: np.ndarray, n: int = 73, first: int = 0) -> list[NewChunk]:
    return [
        NewChunk(session, first + i, _t(first + i), x[i : i + n], seq=(first + i) // n)
        for i in range(0, len(x), n)
    ]


# --------------------------------------------------------------------------------- schema


def test_migration_matches_the_models(store: Store) -> None:
    assert store.schema_revision() == head_revision() == "0001"
    assert store.schema_diff() == []
    tables = set(inspect(store.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    store.migrate()  # idempotent
    assert store.schema_diff() == []


def test_downgrade_to_base_and_upgrade_again(store: Store) -> None:
    store.downgrade("base")
    assert store.schema_revision() is None
    assert not set(Base.metadata.tables) & set(inspect(store.engine).get_table_names())
    store.migrate()
    assert store.schema_diff() == []


def test_unmigrated_database_differs_from_the_models(db_url: Any) -> None:
    with Store(db_url) as s:
        assert s.schema_revision() is None
        assert s.schema_diff() != []


def test_in_memory_sqlite_can_be_migrated() -> None:
    with Store("sqlite://", clock=Clock()) as s:
        s.migrate()
        assert s.schema_diff() == []
        assert s.add_patient("x").id == 1


@pytest.mark.parametrize("url", ["", "nonsense", "mysql://u@h/db", 42])
def test_bad_urls_are_rejected(url: object) -> None:
    with pytest.raises(InvalidParameterError, match="url"):
        Store(url)  # type: ignore[arg-type]


def test_plain_postgresql_url_gets_the_psycopg_driver() -> None:
    s = Store("postgresql://u@127.0.0.1:1/none")
    try:
        assert s.url.drivername == "postgresql+psycopg"
        assert "u@127.0.0.1" in repr(s)
    finally:
        s.close()


# --------------------------------------------------------------------------------- entities


def test_patients_devices_users(store: Store, world: World) -> None:
    p = store.get_patient(world.patient)
    assert (p.external_id, p.name, dict(p.settings)) == (
        "mitdb:100",
        "Record 100",
        {"tachy_bpm": 120},
    )
    with pytest.raises(TypeError):
        p.settings["x"] = 1  # type: ignore[index]
    with pytest.raises(FrozenInstanceError):
        p.name = "x"  # type: ignore[misc]
    assert store.find_patient("mitdb:119").id == world.other_patient  # type: ignore[union-attr]
    assert store.find_patient("nobody") is None
    assert [x.id for x in store.list_patients()] == [world.patient, world.other_patient]
    assert [x.id for x in store.list_patients([world.other_patient])] == [world.other_patient]
    assert store.get_device(world.device).patient_id == world.patient
    assert [d.serial for d in store.list_devices(world.other_patient)] == ["H10-B"]
    assert store.get_user(world.clinician).role == "clinician"
    assert [u.username for u in store.list_users()] == ["dr.who", "root"]

    with pytest.raises(ConflictError):
        store.add_patient("mitdb:100")
    with pytest.raises(ConflictError):
        store.add_device(world.patient, "H10-A")
    with pytest.raises(ConflictError):
        store.add_user("root", "admin")
    with pytest.raises(NotFoundError):
        store.add_device(999, "H10-C")
    with pytest.raises(NotFoundError):
        store.get_patient(999)
    with pytest.raises(InvalidParameterError, match="role"):
        store.add_user("eve", "superuser")
    with pytest.raises(InvalidParameterError, match="external_id"):
        store.add_patient("")
    with pytest.raises(InvalidParameterError, match="settings"):
        store.add_patient("y", settings=[1, 2])  # type: ignore[arg-type]


def test_patient_settings_update_is_audited(store: Store, world: World) -> None:
    p = store.update_patient_settings(
        world.patient, {"tachy_bpm": 110, "brady_bpm": 45}, actor_user_id=world.admin
    )
    assert dict(p.settings) == {"tachy_bpm": 110, "brady_bpm": 45}
    (entry,) = store.audit_log("patient", world.patient, limit=1)
    assert (entry.action, entry.actor, entry.actor_user_id) == (
        "update_settings",
        f"user:{world.admin}",
        world.admin,
    )
    assert entry.old == {"tachy_bpm": 120} and entry.new == {"tachy_bpm": 110, "brady_bpm": 45}


def test_assignments(store: Store, world: World) -> None:
    assert store.assigned_patient_ids(world.clinician) == {world.patient}
    assert store.assign(world.clinician, world.patient) is False  # already
    assert store.assign(world.clinician, world.other_patient) is True
    assert store.assigned_patient_ids(world.clinician) == {world.patient, world.other_patient}
    assert store.unassign(world.clinician, world.other_patient) is True
    assert store.unassign(world.clinician, world.other_patient) is False
    assert store.assigned_patient_ids(world.clinician) == {world.patient}
    with pytest.raises(NotFoundError):
        store.assign(world.clinician, 999)
    actions = [e.action for e in store.audit_log("assignment")]
    assert actions == ["unassign", "assign", "assign"]


# --------------------------------------------------------------------------------- tokens


def test_tokens_are_stored_hashed_and_verify(store: Store, world: World) -> None:
    dev = store.create_device_token(world.device, label="strap A")
    usr = store.create_user_token(world.clinician)
    assert dev.plaintext != usr.plaintext and len(dev.plaintext) >= 40
    assert "plaintext" not in repr(dev) and dev.plaintext not in repr(dev)
    with store.engine.connect() as conn:
        rows = conn.execute(select(TokenRow.__table__)).all()
    stored = {bytes(r.token_hash) for r in rows}
    assert stored == {hashlib.sha256(t.plaintext.encode()).digest() for t in (dev, usr)}
    dump = repr(rows)
    assert dev.plaintext not in dump and usr.plaintext not in dump

    assert store.verify_token(dev.plaintext) == Principal(
        dev.token_id, "device", "device", None, world.device, world.patient
    )
    assert store.verify_token(usr.plaintext) == Principal(
        usr.token_id, "user", "clinician", world.clinician, None, None
    )
    infos = store.list_tokens()
    assert [(i.id, i.kind, i.label) for i in infos] == [
        (dev.token_id, "device", "strap A"),
        (usr.token_id, "user", ""),
    ]
    assert store.list_tokens(device_id=world.device) == infos[:1]
    assert store.list_tokens(user_id=world.clinician) == infos[1:]
    for bad in ["", "csd_nope", dev.plaintext + "x", dev.plaintext[:-1], "x" * 10_000, None, 5]:
        assert store.verify_token(bad) is None


def test_token_revocation_expiry_and_disabled_principals(store: Store, world: World) -> None:
    dev = store.create_device_token(world.device, expires_at_ns=T0 + 10)
    assert store.verify_token(dev.plaintext, now_ns=T0) is not None
    assert store.verify_token(dev.plaintext, now_ns=T0 + 10) is None  # expired
    usr = store.create_user_token(world.clinician)
    assert store.revoke_token(usr.token_id, actor_user_id=world.admin) is True
    assert store.revoke_token(usr.token_id) is False
    assert store.verify_token(usr.plaintext) is None
    with pytest.raises(NotFoundError):
        store.revoke_token(999)

    adm = store.create_user_token(world.admin)
    assert store.verify_token(adm.plaintext).is_admin  # type: ignore[union-attr]
    store.set_user_active(world.admin, False)
    assert store.verify_token(adm.plaintext) is None
    store.set_user_active(world.admin, True)
    assert store.verify_token(adm.plaintext) is not None

    d2 = store.create_device_token(world.device)
    store.set_device_active(world.device, False)
    assert store.verify_token(d2.plaintext) is None
    store.set_device_active(world.device, True)
    assert store.verify_token(d2.plaintext) is not None
    # A device moved to another patient: its old token no longer ingests for anyone.
    moved = store.move_device(world.device, world.other_patient, actor_user_id=world.admin)
    assert moved.patient_id == world.other_patient
    assert store.verify_token(d2.plaintext) is None
    fresh = store.verify_token(store.create_device_token(world.device).plaintext)
    assert fresh is not None and fresh.patient_id == world.other_patient
    assert store.audit_log("device", world.device, limit=1)[0].new == {
        "patient_id": world.other_patient
    }
    with pytest.raises(NotFoundError):
        store.move_device(world.device, 999)


def test_access_rules(store: Store, world: World) -> None:
    dev = store.verify_token(store.create_device_token(world.device).plaintext)
    cli = store.verify_token(store.create_user_token(world.clinician).plaintext)
    adm = store.verify_token(store.create_user_token(world.admin).plaintext)
    assert dev is not None and cli is not None and adm is not None
    assert store.can_read_patient(adm, world.patient) and store.can_read_patient(
        adm, world.other_patient
    )
    assert store.readable_patient_ids(adm) is None
    assert store.can_read_patient(cli, world.patient)
    assert not store.can_read_patient(cli, world.other_patient)
    assert not store.can_read_patient(dev, world.patient)
    assert store.can_ingest(dev, world.patient, world.device)
    assert not store.can_ingest(dev, world.other_patient, world.device)
    assert not store.can_ingest(dev, world.patient, world.other_device)
    assert not store.can_ingest(cli, world.patient, world.device)
    assert not store.can_ingest(adm, world.patient, world.device)


# --------------------------------------------------------------------------------- sessions & raw


def test_session_lifecycle(store: Store, world: World) -> None:
    s = store.get_session(world.session)
    assert (s.patient_id, s.device_id, s.fs, s.started_ns, s.is_open) == (
        world.patient,
        world.device,
        FS,
        T0,
        True,
    )
    assert (s.last_seq, s.next_sample, s.last_device_ns, s.last_beat_sample) == (
        None,
        0,
        None,
        None,
    )
    assert [x.id for x in store.open_sessions(device_id=world.device)] == [world.session]
    ended = store.end_session(world.session, T0 + 60 * SEC)
    assert ended.ended_ns == T0 + 60 * SEC and not ended.is_open
    assert store.end_session(world.session, T0 + 99 * SEC).ended_ns == T0 + 60 * SEC
    assert store.open_sessions() == ()
    assert [x.id for x in store.list_sessions(world.patient, T0, T0 + SEC)] == [world.session]
    assert store.list_sessions(world.patient, T0 + 61 * SEC, T0 + 62 * SEC) == ()
    with pytest.raises(InvalidParameterError, match="patient_id"):
        store.start_session(world.device, FS, T0, patient_id=world.other_patient)
    for fs in (0.0, -1.0, float("nan"), 1e9):
        with pytest.raises(InvalidParameterError, match="fs"):
            store.start_session(world.device, fs, T0)
    with pytest.raises(NotFoundError):
        store.start_session(999, FS, T0)


def test_chunks_round_trip_and_are_not_duplicated(
    store: Store, world: World, rng: np.random.Generator
) -> None:
    x = np.cumsum(rng.integers(-50, 51, size=730)).astype(np.int32)
    chunks = _chunks(world.session, x)
    assert store.append_chunks(chunks) == 10
    assert store.append_chunks(chunks) == 0
    assert store.append_chunks(chunks[3:5] + chunks[3:5]) == 0
    s = store.get_session(world.session)
    assert (s.last_seq, s.next_sample, s.last_device_ns) == (9, 730, _t(729))
    strip = store.raw_strip(world.patient, T0, T0 + 60 * SEC)
    (seg,) = strip.segments
    assert (seg.session_id, seg.first_sample, seg.start_ns, seg.fs) == (world.session, 0, T0, FS)
    np.testing.assert_array_equal(seg.samples, x)
    np.testing.assert_array_equal(seg.times_ns(), [_t(i) for i in range(730)])
    assert seg.end_ns == _t(730)
    assert store.raw_strip(world.other_patient, T0, T0 + 60 * SEC).segments == ()


def test_raw_strip_trims_to_the_range_and_splits_at_gaps(
    store: Store, world: World, rng: np.random.Generator
) -> None:
    x = np.cumsum(rng.integers(-50, 51, size=1460)).astype(np.int32)
    chunks = _chunks(world.session, x)
    del chunks[5]  # samples 365..437 never arrived
    store.append_chunks(chunks)
    strip = store.raw_strip(world.patient, _t(100), _t(1000))
    a, b = strip.segments
    assert (a.first_sample, len(a), b.first_sample, len(b)) == (100, 265, 438, 562)
    # Times are chunk start + k / fs, rounded to the ns: within 1 ns of the ideal grid.
    assert abs(a.start_ns - _t(100)) <= 1 and abs(b.start_ns - _t(438)) <= 1
    np.testing.assert_array_equal(a.samples, x[100:365])
    np.testing.assert_array_equal(b.samples, x[438:1000])
    arr, fs = strip.to_array()
    assert fs == FS and arr.shape == (900,)
    np.testing.assert_array_equal(arr[:265], x[100:365])
    assert np.isnan(arr[265:338]).all()
    np.testing.assert_array_equal(arr[338:], x[438:1000])
    # Half-open range: the sample at t1 is excluded, the one at t0 included.
    one = store.raw_strip(world.patient, _t(10), _t(11))
    assert [len(s) for s in one.segments] == [1] and one.segments[0].samples[0] == x[10]
    assert store.raw_strip(world.patient, _t(10), _t(10)).segments == ()
    with pytest.raises(InvalidParameterError, match="max_samples"):
        store.raw_strip(world.patient, T0, _t(1460), max_samples=1000)
    with pytest.raises(InvalidParameterError, match="t1_ns"):
        store.raw_strip(world.patient, _t(10), _t(9))


def test_raw_strip_keeps_sessions_apart(store: Store, world: World) -> None:
    store.end_session(world.session, _t(146))
    store.append_chunks(_chunks(world.session, np.arange(146, dtype=np.int32)))
    s2 = store.start_session(world.device, FS, _t(146))
    # The second session restarts its sample index at 0 but continues in time.
    store.append_chunks([NewChunk(s2.id, 0, _t(146), np.arange(146, 292, dtype=np.int32), seq=0)])
    strip = store.raw_strip(world.patient, T0, _t(292))
    assert [(s.session_id, s.first_sample, len(s)) for s in strip.segments] == [
        (world.session, 0, 146),
        (s2.id, 0, 146),
    ]
    arr, _ = strip.to_array()
    np.testing.assert_array_equal(arr, np.arange(292))


def test_to_array_needs_one_rate() -> None:
    segs = (
        RawSegment(1, 0, T0, 130.0, np.arange(3)),
        RawSegment(2, 0, T0 + SEC, 250.0, np.arange(3)),
    )
    strip = RawStrip(1, T0, T0 + 2 * SEC, segs)
    with pytest.raises(InvalidParameterError, match="fs"):
        strip.to_array()
    with pytest.raises(InvalidParameterError, match="fs"):
        strip.to_array(fs=100.0)
    assert RawStrip(1, T0, T0, ()).to_array()[0].shape == (0,)


def test_session_progress_never_moves_backward(store: Store, world: World) -> None:
    x = np.zeros(73 * 4, dtype=np.int32)
    chunks = _chunks(world.session, x)
    store.append_chunks([chunks[3]])
    store.append_chunks([chunks[0], chunks[1]])  # late, older frames
    s = store.get_session(world.session)
    assert (s.last_seq, s.next_sample) == (3, 292)
    assert s.last_device_ns is not None and abs(s.last_device_ns - _t(291)) <= 1
    store.append_chunks([NewChunk(world.session, 146, _t(146), x[:73], seq=None)])
    assert store.get_session(world.session).last_seq == 3


def test_advance_session_without_samples(store: Store, world: World) -> None:
    store.append_chunks(_chunks(world.session, np.zeros(146, dtype=np.int32)))
    s = store.advance_session(world.session, seq=5, next_sample=10, device_ns=_t(400))
    assert (s.last_seq, s.next_sample, s.last_device_ns) == (5, 146, _t(400))
    s = store.advance_session(world.session)  # nothing to move
    assert (s.last_seq, s.next_sample, s.last_device_ns) == (5, 146, _t(400))
    with pytest.raises(NotFoundError):
        store.advance_session(999, seq=1)
    with pytest.raises(InvalidParameterError, match="seq"):
        store.advance_session(world.session, seq=-1)


def test_bad_chunks_are_rejected(store: Store, world: World) -> None:
    with pytest.raises(InvalidSignalError):
        NewChunk(world.session, 0, T0, np.array([1.5, 2.5]))
    with pytest.raises(InvalidSignalError):
        NewChunk(world.session, 0, T0, np.array([2**40]))
    with pytest.raises(InvalidParameterError, match="first_sample"):
        NewChunk(world.session, -1, T0, np.zeros(3, dtype=np.int32))
    with pytest.raises(InvalidParameterError, match="samples"):
        NewChunk(world.session, 0, T0, np.zeros(2**18 + 1, dtype=np.int32))
    with pytest.raises(NotFoundError):
        store.append_chunks([NewChunk(999, 0, T0, np.zeros(3, dtype=np.int32))])
    slow = store.start_session(world.device, 1.0, T0)
    with pytest.raises(InvalidParameterError, match="600"):
        store.append_chunks([NewChunk(slow.id, 0, T0, np.zeros(601, dtype=np.int32))])
    with pytest.raises(InvalidParameterError, match="chunks"):
        store.append_chunks([np.zeros(3)])  # type: ignore[list-item]
    assert store.append_chunks([]) == 0
    assert store.get_session(world.session).next_sample == 0  # nothing half-written


# --------------------------------------------------------------------------------- beats


def test_beats_bulk_insert_is_idempotent(store: Store, world: World) -> None:
    batch = _beats(world, range(0, 250_000, 100))  # 2500 beats: several insert pages
    assert store.add_beats(batch) == 2500
    assert store.add_beats(batch) == 0
    more = _beats(world, range(200_000, 300_000, 100))  # half already stored
    assert store.add_beats(more + more) == 500
    got = store.beats(world.patient, T0, _t(10**9))
    assert len(got) == 3000
    assert [b.sample_index for b in got] == list(range(0, 300_000, 100))
    assert got[0].time_ns == T0 and got[0].label == "N" and got[0].final_label == "N"
    assert got[0].p_n == pytest.approx(0.9) and got[0].p_f is None
    assert store.get_session(world.session).last_beat_sample == 299_900


def test_beats_time_range_usable_and_limit(store: Store, world: World) -> None:
    store.add_beats(_beats(world, range(0, 1000, 100)))
    store.add_beats(
        [
            NewBeat(
                world.session,
                world.patient,
                1000,
                _t(1000),
                INCONCLUSIVE,
                float("nan"),
                None,
                None,
                usable=False,
            )
        ]
    )
    got = store.beats(world.patient, _t(200), _t(1000))
    assert [b.sample_index for b in got] == [200, 300, 400, 500, 600, 700, 800, 900]
    everything = store.beats(world.patient, T0, _t(1001))
    assert everything[-1].label == INCONCLUSIVE and everything[-1].p_n is None
    assert not everything[-1].usable
    assert len(store.beats(world.patient, T0, _t(1001), usable_only=True)) == 10
    assert len(store.beats(world.patient, T0, _t(1001), limit=3)) == 3
    assert store.beats(world.other_patient, T0, _t(1001)) == ()


def test_bad_beats_are_rejected(store: Store, world: World) -> None:
    with pytest.raises(InvalidParameterError, match="label"):
        NewBeat(world.session, world.patient, 0, T0, "X")
    with pytest.raises(InvalidParameterError, match="p_v"):
        NewBeat(world.session, world.patient, 0, T0, "N", p_v=1.5)
    with pytest.raises(InvalidParameterError, match="sample_index"):
        NewBeat(world.session, world.patient, -1, T0, "N")
    with pytest.raises(InvalidParameterError, match="time_ns"):
        NewBeat(world.session, world.patient, 0, 1.5, "N")  # type: ignore[arg-type]
    wrong = NewBeat(world.session, world.other_patient, 0, T0, "N")
    with pytest.raises(InvalidParameterError, match="patient_id"):
        store.add_beats([*_beats(world, [5]), wrong])
    assert store.beats(world.patient, T0, _t(100)) == ()  # the whole batch was refused
    with pytest.raises(NotFoundError):
        store.add_beats([NewBeat(999, world.patient, 0, T0, "N")])


def test_relabel_writes_the_audit_log(store: Store, world: World) -> None:
    store.add_beats(_beats(world, [100, 200]))
    b = store.relabel_beat(world.session, 200, "V", user_id=world.clinician)
    assert (b.label, b.relabel, b.final_label, b.relabeled_by) == ("N", "V", "V", world.clinician)
    assert b.relabeled_at_ns is not None
    (e,) = store.audit_log("beat", f"{world.session}:200")
    assert (e.action, e.actor_user_id, e.old, e.new) == (
        "relabel",
        world.clinician,
        {"label": "N", "relabel": None},
        {"relabel": "V"},
    )
    cleared = store.relabel_beat(world.session, 200, None, user_id=world.admin)
    assert cleared.relabel is None and cleared.final_label == "N" and cleared.relabeled_by is None
    assert store.audit_log("beat", f"{world.session}:200")[0].old == {"label": "N", "relabel": "V"}
    # A re-sent beat does not overwrite the clinician's label.
    store.relabel_beat(world.session, 100, "S", user_id=world.clinician)
    store.add_beats(_beats(world, [100]))
    assert store.beats(world.patient, T0, _t(150))[0].final_label == "S"
    with pytest.raises(NotFoundError):
        store.relabel_beat(world.session, 150, "V", user_id=world.clinician)
    with pytest.raises(NotFoundError):
        store.relabel_beat(world.session, 100, "V", user_id=999)
    with pytest.raises(InvalidParameterError, match="label"):
        store.relabel_beat(world.session, 100, "Z", user_id=world.clinician)


def test_hr_trend(store: Store, world: World) -> None:
    # Minute 0: RR 0.8 s (75 bpm); minute 1: RR 1.0 s (60 bpm); minute 2: nothing;
    # minute 3: one unusable beat among RR 0.5 s; a 10 s gap between minutes 1 and 3.
    times = list(np.arange(0, 60, 0.8)) + list(np.arange(60, 120, 1.0))
    times += list(np.arange(180, 240, 0.5))
    samples = [round(t * FS) for t in times]
    beats = [
        NewBeat(world.session, world.patient, s, _t(s), "N", usable=(s != round(200 * FS)))
        for s in samples
    ]
    store.add_beats(beats)
    tr = store.hr_trend(world.patient, T0, T0 + 240 * SEC)
    assert len(tr) == 4 and tr.bucket_ns == 60 * SEC
    np.testing.assert_array_equal(tr.bucket_start_ns, T0 + np.arange(4) * 60 * SEC)
    assert tr.hr_bpm[0] == pytest.approx(75, abs=0.05)
    assert tr.hr_bpm[1] == pytest.approx(60 * 60 / 59.8, abs=0.05)  # one 0.8 s RR ends at 60 s
    assert np.isnan(tr.hr_bpm[2]) and tr.n_intervals[2] == 0
    assert tr.hr_bpm[3] == pytest.approx(120, abs=0.05)
    assert tr.n_intervals[3] == 120 - 1 - 2  # first beat has no RR; the unusable beat costs 2
    everything = store.hr_trend(world.patient, T0, T0 + 240 * SEC, usable_only=False)
    assert everything.n_intervals[3] == 119
    # Intervals never join two sessions.
    s2 = store.start_session(world.device, FS, T0 + 240 * SEC)
    store.add_beats([NewBeat(s2.id, world.patient, 0, T0 + 240 * SEC + SEC // 2, "N")])
    assert store.hr_trend(world.patient, T0 + 240 * SEC, T0 + 300 * SEC).n_intervals[0] == 0
    with pytest.raises(InvalidParameterError, match="bucket_s"):
        store.hr_trend(world.patient, T0, T0 + SEC, bucket_s=0)
    empty = store.hr_trend(world.other_patient, T0, T0 + 90 * SEC)
    assert len(empty) == 2 and np.isnan(empty.hr_bpm).all()


# --------------------------------------------------------------------------------- events & alerts


def test_events_upsert_and_range_query(store: Store, world: World) -> None:
    (vt,) = store.add_events(
        [NewEvent(world.patient, "vt", T0 + 10 * SEC, None, world.session, (1300, 1400))]
    )
    (vt2,) = store.add_events(
        [
            NewEvent(
                world.patient,
                "vt",
                T0 + 10 * SEC,
                T0 + 12 * SEC,
                world.session,
                (1300, 1400, 1500),
                {"rate_bpm": 150},
            )
        ]
    )
    assert vt2 == vt
    ev = store.get_event(vt)
    assert (ev.end_ns, ev.evidence, dict(ev.details)) == (
        T0 + 12 * SEC,
        (1300, 1400, 1500),
        {"rate_bpm": 150},
    )
    assert ev.updated_at_ns > ev.created_at_ns
    ids = store.add_events(
        [
            NewEvent(world.patient, "pause", T0 + 20 * SEC, T0 + 23 * SEC),
            NewEvent(world.patient, "afib", T0 + 30 * SEC),  # still open
            NewEvent(world.other_patient, "pause", T0 + 20 * SEC, T0 + 23 * SEC),
        ]
    )
    assert len(set(ids)) == 3 and vt not in ids
    kinds = [e.kind for e in store.events(world.patient, T0, T0 + 100 * SEC)]
    assert kinds == ["vt", "pause", "afib"]
    assert [e.kind for e in store.events(world.patient, T0 + 12 * SEC, T0 + 20 * SEC)] == ["vt"]
    assert [e.kind for e in store.events(world.patient, T0 + 500 * SEC, T0 + 501 * SEC)] == ["afib"]
    assert [e.kind for e in store.events(world.patient, T0, T0 + 99 * SEC, kinds=["pause"])] == [
        "pause"
    ]
    store.add_beats(_beats(world, range(1200, 1700, 100)))
    assert [b.sample_index for b in store.event_beats(vt)] == [1300, 1400, 1500]
    (span,) = store.add_events(
        [NewEvent(world.patient, "couplet", _t(1200), _t(1300), world.session, (1200, 1300))]
    )
    assert [b.sample_index for b in store.event_beats(span)] == [1200, 1300]
    assert store.event_beats(ids[0]) == ()  # no session, no evidence
    with pytest.raises(NotFoundError):
        store.event_beats(999)
    with pytest.raises(NotFoundError):
        store.add_events([NewEvent(999, "vt", T0)])
    with pytest.raises(InvalidParameterError, match="end_ns"):
        NewEvent(world.patient, "vt", T0, T0 - 1)
    with pytest.raises(InvalidParameterError, match="details"):
        NewEvent(world.patient, "vt", T0, details=[1])  # type: ignore[arg-type]


def test_alerts_raise_once_and_acknowledge(store: Store, world: World) -> None:
    e1, e2 = store.add_events(
        [
            NewEvent(world.patient, "vt", T0 + 10 * SEC, T0 + 12 * SEC),
            NewEvent(world.other_patient, "pause", T0 + 20 * SEC, T0 + 23 * SEC),
        ]
    )
    a1, a2 = store.add_alerts(
        [
            NewAlert(e1, "critical", T0 + 12 * SEC, "VT 150 bpm"),
            NewAlert(e2, "warning", T0 + 23 * SEC),
        ]
    )
    assert store.add_alerts([NewAlert(e1, "critical", T0 + 13 * SEC)]) == (a1,)
    a = store.get_alert(a1)
    assert (a.event_id, a.patient_id, a.severity, a.message, a.acknowledged) == (
        e1,
        world.patient,
        "critical",
        "VT 150 bpm",
        False,
    )
    assert [x.id for x in store.alerts()] == [a2, a1]  # newest first
    assert [x.id for x in store.alerts(world.patient)] == [a1]
    assert [x.id for x in store.alerts([world.patient, world.other_patient])] == [a2, a1]
    assert [x.id for x in store.alerts(t0_ns=T0 + 20 * SEC)] == [a2]
    assert [x.id for x in store.alerts(None, T0, T0 + 20 * SEC)] == [a1]

    acked = store.acknowledge_alert(a1, user_id=world.clinician)
    assert acked.acknowledged and acked.acknowledged_by == world.clinician
    again = store.acknowledge_alert(a1, user_id=world.admin)
    assert again == acked  # first acknowledgement wins
    assert [x.id for x in store.alerts(unacknowledged_only=True)] == [a2]
    (entry,) = store.audit_log("alert", a1)
    assert (entry.action, entry.actor_user_id) == ("acknowledge", world.clinician)
    assert entry.new == {
        "acknowledged_by": world.clinician,
        "acknowledged_at_ns": acked.acknowledged_at_ns,
    }
    with pytest.raises(NotFoundError):
        store.acknowledge_alert(999, user_id=world.clinician)
    with pytest.raises(NotFoundError):
        store.add_alerts([NewAlert(999, "info", T0)])
    with pytest.raises(InvalidParameterError, match="severity"):
        NewAlert(e1, "apocalyptic", T0)


def test_audit_log_filters_and_service_entries(store: Store, world: World) -> None:
    store.audit("login_failed", "token", "?", actor="ip:10.0.0.7", new={"reason": "unknown"})
    (e,) = store.audit_log("token", "?")
    assert (e.actor, e.actor_user_id, e.new) == ("ip:10.0.0.7", None, {"reason": "unknown"})
    everything = store.audit_log()
    assert [x.at_ns for x in everything] == sorted((x.at_ns for x in everything), reverse=True)
    creations = store.audit_log("patient")
    assert [x.action for x in creations] == ["create", "create"]
    assert store.audit_log(t0_ns=e.at_ns) == (e,)
    assert store.audit_log(t1_ns=e.at_ns)[0].at_ns < e.at_ns


# --------------------------------------------------------------------------------- restart


def test_restarted_service_continues_without_loss_or_duplicates(
    db_url: Any, store: Store, world: World, rng: np.random.Generator
) -> None:
    x = np.cumsum(rng.integers(-40, 41, size=73 * 20)).astype(np.int32)
    chunks = _chunks(world.session, x)
    beat_samples = list(range(50, 73 * 20, 97))
    # Before the crash: 12 frames and the beats found in them were stored.
    store.append_chunks(chunks[:12])
    store.add_beats(_beats(world, [s for s in beat_samples if s < 73 * 12 - 40]))
    store.close()

    with Store(db_url, clock=Clock(1_900_000_000_000_000_000)) as restarted:
        restarted.migrate()  # no-op
        (s,) = restarted.open_sessions(device_id=world.device)
        assert (s.id, s.last_seq, s.next_sample) == (world.session, 11, 73 * 12)
        assert s.last_beat_sample == max(b for b in beat_samples if b < 73 * 12 - 40)
        # The device re-sends the frames it had no acknowledgement for (from seq 10 on) and the
        # pipeline, restarted a little earlier, finds some beats again.
        resent = [c for c in chunks if c.seq is not None and c.seq >= 10]
        assert restarted.append_chunks(resent) == 8
        assert restarted.add_beats(_beats(world, [b for b in beat_samples if b > 600])) == len(
            [b for b in beat_samples if b >= 73 * 12 - 40]
        )
        strip = restarted.raw_strip(world.patient, T0, _t(73 * 20))
        assert len(strip.segments) == 1
        np.testing.assert_array_equal(strip.segments[0].samples, x)
        stored = [b.sample_index for b in restarted.beats(world.patient, T0, _t(73 * 20))]
        assert stored == beat_samples


def test_concurrent_writers_do_not_fail(store: Store, world: World) -> None:
    sessions = [world.session, store.start_session(world.other_device, FS, T0).id]
    patients = [world.patient, world.other_patient]
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for j in range(10):
                beats = [
                    NewBeat(sessions[k], patients[k], i, _t(i), "N")
                    for i in range(j * 1000, (j + 1) * 1000, 50)
                ]
                store.add_beats(beats)
                store.append_chunks(
                    [NewChunk(sessions[k], j * 73, _t(j * 73), np.arange(73, dtype=np.int32))]
                )
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for k in (0, 1):
        assert len(store.beats(patients[k], T0, _t(10**6))) == 200
        assert store.get_session(sessions[k]).next_sample == 730


# --------------------------------------------------------------------------------- records


def test_records_and_labels() -> None:
    from cardiostream.classify import INCONCLUSIVE as CLASSIFY_INCONCLUSIVE

    assert INCONCLUSIVE == CLASSIFY_INCONCLUSIVE
    assert BEAT_LABELS == ("N", "S", "V", "F", "Q", "inconclusive")
    c = NewChunk(1, 0, T0, np.arange(5, dtype=np.int64))
    assert c.samples.dtype == np.int32 and not c.samples.flags.writeable
    b = NewBeat(1, 1, 0, T0, "N", p_n=np.float32(0.5), p_s=float("nan"), usable=np.True_)
    assert b.p_n == 0.5 and b.p_s is None and b.usable is True
    with pytest.raises(CardiostreamError):
        NewBeat(1, 1, 0, T0, "N", usable=1)  # type: ignore[arg-type]
    with pytest.raises(CardiostreamError):
        NewBeat(True, 1, 0, T0, "N")  # type: ignore[arg-type]


@pytest.mark.data
def test_real_mitdb_strip_round_trips(tmp_path: Path, mitdb_dir: Path) -> None:
    from cardiostream.datasets.mitdb import load_mitdb_record

    mv = load_mitdb_record("100", data_dir=mitdb_dir.parent).signal[: 360 * 60, 0]
    x = np.round(mv * 1000).astype(np.int32)
    with Store(f"sqlite:///{tmp_path / 'real.db'}", clock=Clock()) as s:
        s.migrate()
        p = s.add_patient("mitdb:100")
        sess = s.start_session(s.add_device(p.id, "sim-100").id, 360.0, T0)
        chunks = [
            NewChunk(sess.id, i, T0 + round(i * 1e9 / 360), x[i : i + 360], seq=i // 360)
            for i in range(0, x.size, 360)
        ]
        assert s.append_chunks(chunks) == 60
        (seg,) = s.raw_strip(p.id, T0, T0 + 60 * SEC).segments
        np.testing.assert_array_equal(seg.samples, x)
        with s.engine.connect() as conn:
            stored = conn.execute(text("SELECT SUM(LENGTH(payload)) FROM chunks")).scalar_one()
        assert x.nbytes / stored > 5.0
        assert stored == sum(len(encode_samples(c.samples)) for c in chunks)
