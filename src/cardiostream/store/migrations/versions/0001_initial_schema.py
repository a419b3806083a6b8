"""Initial schema: patients, devices, users, assignments, tokens, sessions, chunks, beats,
events, alerts, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

#: Surrogate ids: BIGINT on PostgreSQL, INTEGER (rowid alias) on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", ID, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("external_id", name=op.f("uq_patients_external_id")),
    )
    op.create_table(
        "users",
        sa.Column("id", ID, nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=256), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("role IN ('clinician', 'admin')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "assignments",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("patient_id", ID, nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_assignments_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_assignments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "patient_id", name=op.f("pk_assignments")),
    )
    op.create_index(op.f("ix_assignments_patient_id"), "assignments", ["patient_id"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column("id", ID, nullable=False),
        sa.Column("at_ns", sa.BigInteger(), nullable=False),
        sa.Column("actor_user_id", ID, nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_key", sa.String(length=128), nullable=False),
        sa.Column("old", JSON, nullable=True),
        sa.Column("new", JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_audit_log_actor_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at_ns"), "audit_log", ["at_ns"], unique=False)
    op.create_index(
        op.f("ix_audit_log_entity_entity_key"), "audit_log", ["entity", "entity_key"], unique=False
    )
    op.create_table(
        "devices",
        sa.Column("id", ID, nullable=False),
        sa.Column("patient_id", ID, nullable=False),
        sa.Column("serial", sa.String(length=128), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_devices_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("serial", name=op.f("uq_devices_serial")),
    )
    op.create_index(op.f("ix_devices_patient_id"), "devices", ["patient_id"], unique=False)
    op.create_table(
        "sessions",
        sa.Column("id", ID, nullable=False),
        sa.Column("patient_id", ID, nullable=False),
        sa.Column("device_id", ID, nullable=False),
        sa.Column("fs", sa.Float(), nullable=False),
        sa.Column("started_ns", sa.BigInteger(), nullable=False),
        sa.Column("ended_ns", sa.BigInteger(), nullable=True),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=True),
        sa.Column("next_sample", sa.BigInteger(), nullable=False),
        sa.Column("last_device_ns", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("fs > 0", name=op.f("ck_sessions_fs_positive")),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_sessions_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_sessions_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_device_id"), "sessions", ["device_id"], unique=False)
    op.create_index(op.f("ix_sessions_patient_id"), "sessions", ["patient_id"], unique=False)
    op.create_table(
        "tokens",
        sa.Column("id", ID, nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("device_id", ID, nullable=True),
        sa.Column("patient_id", ID, nullable=True),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("expires_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at_ns", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(kind = 'device' AND device_id IS NOT NULL AND patient_id IS NOT NULL "
            "AND user_id IS NULL) OR "
            "(kind = 'user' AND user_id IS NOT NULL AND device_id IS NULL AND patient_id IS NULL)",
            name=op.f("ck_tokens_binding"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_tokens_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_tokens_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_tokens_token_hash")),
    )
    op.create_index(op.f("ix_tokens_device_id"), "tokens", ["device_id"], unique=False)
    op.create_index(op.f("ix_tokens_user_id"), "tokens", ["user_id"], unique=False)
    op.create_table(
        "beats",
        sa.Column("session_id", ID, nullable=False),
        sa.Column("sample_index", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", ID, nullable=False),
        sa.Column("time_ns", sa.BigInteger(), nullable=False),
        sa.Column("label", sa.String(length=12), nullable=False),
        sa.Column("p_n", sa.REAL(), nullable=True),
        sa.Column("p_s", sa.REAL(), nullable=True),
        sa.Column("p_v", sa.REAL(), nullable=True),
        sa.Column("p_f", sa.REAL(), nullable=True),
        sa.Column("p_q", sa.REAL(), nullable=True),
        sa.Column("usable", sa.Boolean(), nullable=False),
        sa.Column("relabel", sa.String(length=12), nullable=True),
        sa.Column("relabeled_by", ID, nullable=True),
        sa.Column("relabeled_at_ns", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "label IN ('N', 'S', 'V', 'F', 'Q', 'inconclusive')", name=op.f("ck_beats_label")
        ),
        sa.CheckConstraint(
            "relabel IS NULL OR relabel IN ('N', 'S', 'V', 'F', 'Q', 'inconclusive')",
            name=op.f("ck_beats_relabel"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_beats_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["relabeled_by"], ["users.id"], name=op.f("fk_beats_relabeled_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_beats_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("session_id", "sample_index", name=op.f("pk_beats")),
    )
    op.create_index(
        op.f("ix_beats_patient_id_time_ns"), "beats", ["patient_id", "time_ns"], unique=False
    )
    op.create_table(
        "chunks",
        sa.Column("session_id", ID, nullable=False),
        sa.Column("first_sample", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", ID, nullable=False),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_ns", sa.BigInteger(), nullable=False),
        sa.Column("fs", sa.Float(), nullable=False),
        sa.Column("n_samples", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("codec", sa.SmallInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_chunks_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_chunks_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("session_id", "first_sample", name=op.f("pk_chunks")),
    )
    op.create_index(
        op.f("ix_chunks_patient_id_start_ns"), "chunks", ["patient_id", "start_ns"], unique=False
    )
    op.create_table(
        "events",
        sa.Column("id", ID, nullable=False),
        sa.Column("patient_id", ID, nullable=False),
        sa.Column("session_id", ID, nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_ns", sa.BigInteger(), nullable=True),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_events_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_events_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint(
            "patient_id", "kind", "start_ns", name=op.f("uq_events_patient_id_kind_start_ns")
        ),
    )
    op.create_index(
        op.f("ix_events_patient_id_start_ns"), "events", ["patient_id", "start_ns"], unique=False
    )
    op.create_table(
        "alerts",
        sa.Column("id", ID, nullable=False),
        sa.Column("event_id", ID, nullable=False),
        sa.Column("patient_id", ID, nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("message", sa.String(length=512), nullable=False),
        sa.Column("raised_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("acknowledged_by", ID, nullable=True),
        sa.Column("acknowledged_at_ns", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "severity IN ('info', 'warning', 'critical')", name=op.f("ck_alerts_severity")
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"], ["users.id"], name=op.f("fk_alerts_acknowledged_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_alerts_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_alerts_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("event_id", "severity", name=op.f("uq_alerts_event_id_severity")),
    )
    op.create_index(
        op.f("ix_alerts_patient_id_raised_at_ns"),
        "alerts",
        ["patient_id", "raised_at_ns"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_alerts_patient_id_raised_at_ns"), table_name="alerts")
    op.drop_table("alerts")
    op.drop_index(op.f("ix_events_patient_id_start_ns"), table_name="events")
    op.drop_table("events")
    op.drop_index(op.f("ix_chunks_patient_id_start_ns"), table_name="chunks")
    op.drop_table("chunks")
    op.drop_index(op.f("ix_beats_patient_id_time_ns"), table_name="beats")
    op.drop_table("beats")
    op.drop_index(op.f("ix_tokens_user_id"), table_name="tokens")
    op.drop_index(op.f("ix_tokens_device_id"), table_name="tokens")
    op.drop_table("tokens")
    op.drop_index(op.f("ix_sessions_patient_id"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_device_id"), table_name="sessions")
    op.drop_table("sessions")
    op.drop_index(op.f("ix_devices_patient_id"), table_name="devices")
    op.drop_table("devices")
    op.drop_index(op.f("ix_audit_log_entity_entity_key"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at_ns"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_assignments_patient_id"), table_name="assignments")
    op.drop_table("assignments")
    op.drop_table("users")
    op.drop_table("patients")
