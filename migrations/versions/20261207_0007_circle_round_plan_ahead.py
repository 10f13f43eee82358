"""circle rounds keep the plan a series planned whole made for the rounds after them

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 00:00:00.000000

Rounds formed before this revision have no plan; the next round then plans afresh.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('circle_round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_ahead', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('circle_round', schema=None) as batch_op:
        batch_op.drop_column('plan_ahead')
