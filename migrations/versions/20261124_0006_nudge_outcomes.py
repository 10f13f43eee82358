"""nudge outcomes: how each nudge's text came about, the model tried, every attempt

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 00:00:00.000000

Nudges from before this revision kept the number of attempts but not how they ended:
an `llm` nudge is `ok` (one attempt) or `ok_after_retry`; an `offline` one is `offline`
when it was its only attempt and `fallback` (reason not recorded) when a model was tried
first. `llm_model` is known for `llm` nudges only; `attempt_log` stays empty.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('nudge', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('llm_model', sqlmodel.sql.sqltypes.AutoString(length=100),
                                      nullable=True))
        batch_op.add_column(sa.Column('attempt_log', sa.JSON(), nullable=True))
    nudge = sa.table('nudge', sa.column('source', sa.String), sa.column('model', sa.String),
                     sa.column('attempts', sa.Integer), sa.column('outcome', sa.String),
                     sa.column('llm_model', sa.String))
    llm = nudge.c.source == 'llm'
    retried = nudge.c.attempts > 1
    op.execute(nudge.update().values(
        outcome=sa.case(
            (llm & retried, 'ok_after_retry'),
            (llm, 'ok'),
            (retried, 'fallback'),
            else_='offline',
        ),
        llm_model=sa.case((llm, nudge.c.model), else_=None),
    ))
    with op.batch_alter_table('nudge', schema=None) as batch_op:
        batch_op.alter_column('outcome', existing_type=sa.String(length=40), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('nudge', schema=None) as batch_op:
        batch_op.drop_column('attempt_log')
        batch_op.drop_column('llm_model')
        batch_op.drop_column('outcome')
