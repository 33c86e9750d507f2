"""modelhub billing part 2: usage invoices, dunning, refunds, publisher ledger and payouts

Hand-written: the invoice mirror gains its charge, attempt count, next retry and refunded
amount; customers a suspension time; subscriptions the ``created`` of the last provider event
applied. New tables: ``usage_invoices`` / ``usage_invoice_lines`` (the monthly invoicing
job's frozen plan, unique per consumer and period), ``billing_dunning_notices`` (one per
failed attempt), ``billing_refunds``, ``publisher_ledger`` (append-only, unique reference)
and ``publisher_payouts`` (unique per publisher, period and currency).

Revision ID: modelhub_0005
Revises: modelhub_0004
Create Date: 2026-12-10 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forgekit.db.types

revision: str = 'modelhub_0005'
down_revision: str | Sequence[str] | None = 'modelhub_0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DT = forgekit.db.types.UTCDateTime(timezone=True)


def _add_columns() -> None:
    op.add_column('billing_invoices', sa.Column('payment_intent', sa.String(255), nullable=True))
    op.add_column('billing_invoices', sa.Column('attempt_count', sa.Integer(), nullable=False,
                                                server_default='0'))
    op.add_column('billing_invoices', sa.Column('next_retry_at', _DT, nullable=True))
    op.add_column('billing_invoices', sa.Column('amount_refunded', sa.BigInteger(),
                                                nullable=False, server_default='0'))
    op.create_index('ix_billing_invoices_retry', 'billing_invoices', ['status', 'next_retry_at'])
    op.add_column('billing_customers', sa.Column('suspended_at', _DT, nullable=True))
    op.create_index('ix_billing_customers_provider', 'billing_customers', ['provider_id'])
    op.add_column('billing_subscriptions', sa.Column('event_created', sa.BigInteger(),
                                                     nullable=False, server_default='0'))


def _invoice_tables() -> None:
    op.create_table('usage_invoices',
    sa.Column('consumer_id', sa.Uuid(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('provider_invoice_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', _DT, nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['consumer_id'], ['users.id'], name=op.f('fk_usage_invoices_consumer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_invoices')),
    sa.UniqueConstraint('consumer_id', 'period', name='uq_usage_invoices_period')
    )
    op.create_index('ix_usage_invoices_provider', 'usage_invoices', ['provider_invoice_id'])
    op.create_table('usage_invoice_lines',
    sa.Column('invoice_id', sa.Uuid(), nullable=False),
    sa.Column('model_id', sa.Uuid(), nullable=False),
    sa.Column('publisher_id', sa.Uuid(), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('billable_calls', sa.BigInteger(), nullable=False),
    sa.Column('compute_ms', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('provider_item_id', sa.String(length=255), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_usage_invoice_lines_line_positive')),
    sa.ForeignKeyConstraint(['invoice_id'], ['usage_invoices.id'], name=op.f('fk_usage_invoice_lines_invoice_id_usage_invoices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_invoice_lines')),
    sa.UniqueConstraint('invoice_id', 'model_id', name='uq_usage_invoice_lines_model')
    )
    op.create_table('billing_dunning_notices',
    sa.Column('invoice_provider_id', sa.String(length=255), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('created_at', _DT, nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_dunning_notices')),
    sa.UniqueConstraint('invoice_provider_id', 'attempt', name='uq_billing_dunning_attempt')
    )
    op.create_table('billing_refunds',
    sa.Column('invoice_id', sa.Uuid(), nullable=False),
    sa.Column('request_id', sa.String(length=128), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('provider_refund_id', sa.String(length=255), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', _DT, nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_billing_refunds_refund_positive')),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoices.id'], name=op.f('fk_billing_refunds_invoice_id_billing_invoices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_refunds')),
    sa.UniqueConstraint('invoice_id', 'request_id', name='uq_billing_refunds_request')
    )


def _ledger_tables() -> None:
    op.create_table('publisher_ledger',
    sa.Column('publisher_id', sa.Uuid(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=255), nullable=False),
    sa.Column('memo', sa.String(length=255), nullable=False),
    sa.Column('created_at', _DT, nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publisher_ledger')),
    sa.UniqueConstraint('reference', name='uq_publisher_ledger_reference')
    )
    op.create_index('ix_publisher_ledger_publisher', 'publisher_ledger', ['publisher_id', 'currency'])
    op.create_table('publisher_payouts',
    sa.Column('publisher_id', sa.Uuid(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', _DT, nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_publisher_payouts_payout_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publisher_payouts')),
    sa.UniqueConstraint('publisher_id', 'period', 'currency', name='uq_publisher_payouts_period')
    )


def upgrade() -> None:
    _add_columns()
    _invoice_tables()
    _ledger_tables()


def downgrade() -> None:
    op.drop_table('publisher_payouts')
    op.drop_index('ix_publisher_ledger_publisher', table_name='publisher_ledger')
    op.drop_table('publisher_ledger')
    op.drop_table('billing_refunds')
    op.drop_table('billing_dunning_notices')
    op.drop_table('usage_invoice_lines')
    op.drop_index('ix_usage_invoices_provider', table_name='usage_invoices')
    op.drop_table('usage_invoices')
    # SQLite drops columns by copying the table: batch mode does that (a plain ALTER elsewhere).
    with op.batch_alter_table('billing_subscriptions') as batch:
        batch.drop_column('event_created')
    with op.batch_alter_table('billing_customers') as batch:
        batch.drop_index('ix_billing_customers_provider')
        batch.drop_column('suspended_at')
    with op.batch_alter_table('billing_invoices') as batch:
        batch.drop_index('ix_billing_invoices_retry')
        batch.drop_column('amount_refunded')
        batch.drop_column('next_retry_at')
        batch.drop_column('attempt_count')
        batch.drop_column('payment_intent')
