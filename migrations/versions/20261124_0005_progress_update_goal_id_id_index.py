"""progress updates indexed by (goal_id, id)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 00:00:00.000000

A goal's progress is read newest first; the composite index serves that and every
lookup by goal, so it replaces the single-column one.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('progress_update', schema=None) as batch_op:
        batch_op.create_index('ix_progress_update_goal_id_id', ['goal_id', 'id'], unique=False)
        batch_op.drop_index('ix_progress_update_goal_id')


def downgrade() -> None:
    with op.batch_alter_table('progress_update', schema=None) as batch_op:
        batch_op.create_index('ix_progress_update_goal_id', ['goal_id'], unique=False)
        batch_op.drop_index('ix_progress_update_goal_id_id')
