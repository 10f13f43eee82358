"""deliveries that reply in a thread; review threads' parents become deliveries; no
separate index on checkin.member_id

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 23:40:00.000000

A review thread's parent message in each person's DM is now the delivery keyed
`review:<thread id>:coach` or `review:<thread id>:leader`, which records its Slack
channel and ts. Parents already posted are carried over as sent deliveries (and back).

`ix_checkin_member_id` duplicates the leading column of the unique (member_id,
schedule_id, local_date) constraint's index, and costs the sweep an index entry per
occurrence.
"""
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import services.db  # noqa: F401  (autogenerate renders services.db.UTCDateTime)

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SIDES = (("coach", "review_parent"), ("leader", "review_relay"))

_delivery = sa.table(
    "delivery",
    sa.column("workspace_id", sa.Integer), sa.column("delivery_key", sa.String),
    sa.column("kind", sa.String), sa.column("intent", sa.JSON),
    sa.column("member_id", sa.Integer), sa.column("state", sa.String),
    sa.column("attempts", sa.Integer), sa.column("next_attempt_at", services.db.UTCDateTime),
    sa.column("slack_channel", sa.String), sa.column("slack_ts", sa.String),
    sa.column("created_at", services.db.UTCDateTime),
    sa.column("sent_at", services.db.UTCDateTime),
)


_review_thread = sa.table(
    "review_thread",
    sa.column("id", sa.Integer), sa.column("workspace_id", sa.Integer),
    sa.column("coach_id", sa.Integer), sa.column("leader_id", sa.Integer),
    sa.column("coach_channel", sa.String), sa.column("coach_thread_ts", sa.String),
    sa.column("leader_channel", sa.String), sa.column("leader_thread_ts", sa.String),
    sa.column("created_at", services.db.UTCDateTime),
)


def _posted_parents() -> list[dict[str, Any]]:
    rows = op.get_bind().execute(sa.select(_review_thread)).mappings().all()
    parents = []
    for row in rows:
        for side, kind in _SIDES:
            channel, ts = row[f"{side}_channel"], row[f"{side}_thread_ts"]
            if channel is None or ts is None:
                continue
            intent: dict[str, Any] = {"kind": kind, "thread_id": row["id"]}
            if side == "leader":
                intent |= {"from": "coach", "text": "", "opens_thread": True}
            created = row["created_at"]
            parents.append({
                "workspace_id": row["workspace_id"],
                "delivery_key": f"review:{row['id']}:{side}", "kind": kind, "intent": intent,
                "member_id": row[f"{side}_id"], "state": "sent", "attempts": 0,
                "next_attempt_at": created, "slack_channel": channel, "slack_ts": ts,
                "created_at": created, "sent_at": created,
            })
    return parents


def upgrade() -> None:
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_member_id'))
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))

    parents = _posted_parents()
    if parents:
        op.bulk_insert(_delivery, parents)
    with op.batch_alter_table('review_thread', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_thread_leader_thread_ts'))
        batch_op.drop_index(batch_op.f('ix_review_thread_coach_thread_ts'))
        batch_op.drop_column('leader_thread_ts')
        batch_op.drop_column('leader_channel')
        batch_op.drop_column('coach_thread_ts')
        batch_op.drop_column('coach_channel')


def downgrade() -> None:
    with op.batch_alter_table('review_thread', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coach_channel', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True))
        batch_op.add_column(sa.Column('coach_thread_ts', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True))
        batch_op.add_column(sa.Column('leader_channel', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True))
        batch_op.add_column(sa.Column('leader_thread_ts', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True))
        batch_op.create_index(batch_op.f('ix_review_thread_coach_thread_ts'), ['coach_thread_ts'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_thread_leader_thread_ts'), ['leader_thread_ts'], unique=False)

    bind = op.get_bind()
    for side, _ in _SIDES:
        sent = bind.execute(
            sa.select(_delivery.c.delivery_key, _delivery.c.slack_channel, _delivery.c.slack_ts)
            .where(_delivery.c.delivery_key.like(f"review:%:{side}"),
                   _delivery.c.state == "sent")).all()
        for key, channel, ts in sent:
            bind.execute(
                sa.update(_review_thread).where(_review_thread.c.id == int(key.split(":")[1]))
                .values({f"{side}_channel": channel, f"{side}_thread_ts": ts}))

    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_column('thread_key')
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_member_id'), ['member_id'], unique=False)
