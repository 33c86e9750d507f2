"""modelhub billing part 3: payouts transferred to publishers' connected accounts

Hand-written: ``publisher_payouts`` gains its attempt number (unique per publisher, period,
currency and attempt, replacing the per-period constraint: a failed transfer is credited back
and paid by a later attempt), the transfer's destination and id, a failure reason and when it
was settled; new table ``publisher_payout_accounts`` (one connected account per publisher).

Revision ID: modelhub_0006
Revises: modelhub_0005
Create Date: 2026-12-17 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forgekit.db.types

revision: str = 'modelhub_0006'
down_revision: str | Sequence[str] | None = 'modelhub_0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DT = forgekit.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    # SQLite changes constraints by copying the table: batch mode does that (ALTER elsewhere).
    with op.batch_alter_table('publisher_payouts') as batch:
        batch.add_column(sa.Column('attempt', sa.Integer(), nullable=False, server_default='1'))
        batch.add_column(sa.Column('destination', sa.String(255), nullable=True))
        batch.add_column(sa.Column('transfer_id', sa.String(255), nullable=True))
        batch.add_column(sa.Column('failure', sa.String(255), nullable=True))
        batch.add_column(sa.Column('settled_at', _DT, nullable=True))
        batch.drop_constraint('uq_publisher_payouts_period', type_='unique')
        batch.create_unique_constraint(
            'uq_publisher_payouts_attempt', ['publisher_id', 'period', 'currency', 'attempt']
        )
        batch.create_index('ix_publisher_payouts_status', ['status'])
    op.create_table('publisher_payout_accounts',
    sa.Column('publisher_id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.String(length=255), nullable=False),
    sa.Column('updated_at', _DT, nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['publisher_id'], ['users.id'],
                            name=op.f('fk_publisher_payout_accounts_publisher_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publisher_payout_accounts')),
    sa.UniqueConstraint('publisher_id', name='uq_publisher_payout_accounts')
    )


def downgrade() -> None:
    op.drop_table('publisher_payout_accounts')
    # Later attempts would break the per-period constraint coming back: they go first.
    op.execute("DELETE FROM publisher_payouts WHERE attempt > 1")
    with op.batch_alter_table('publisher_payouts') as batch:
        batch.drop_index('ix_publisher_payouts_status')
        batch.drop_constraint('uq_publisher_payouts_attempt', type_='unique')
        batch.create_unique_constraint(
            'uq_publisher_payouts_period', ['publisher_id', 'period', 'currency']
        )
        batch.drop_column('settled_at')
        batch.drop_column('failure')
        batch.drop_column('transfer_id')
        batch.drop_column('destination')
        batch.drop_column('attempt')
