"""modelhub billing: provider events, the invoice mirror, customers and subscriptions

Hand-written: ``payment_events`` (one row per provider event id, unique: webhooks are
delivered at least once), ``billing_invoices`` (the provider's invoices mirrored by
provider id, statuses moved forward only), ``billing_customers`` and
``billing_subscriptions`` (one of each per consumer).

Revision ID: modelhub_0004
Revises: modelhub_0003
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forgekit.db.types

revision: str = 'modelhub_0004'
down_revision: str | Sequence[str] | None = 'modelhub_0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('payment_events',
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('received_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_events')),
    sa.UniqueConstraint('event_id', name='uq_payment_events_event_id')
    )
    op.create_table('billing_invoices',
    sa.Column('provider_id', sa.String(length=255), nullable=False),
    sa.Column('customer', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_due', sa.BigInteger(), nullable=False),
    sa.Column('amount_paid', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_invoices')),
    sa.UniqueConstraint('provider_id', name='uq_billing_invoices_provider_id')
    )
    op.create_table('billing_customers',
    sa.Column('consumer_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['consumer_id'], ['users.id'], name=op.f('fk_billing_customers_consumer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_customers')),
    sa.UniqueConstraint('consumer_id', name='uq_billing_customers_consumer')
    )
    op.create_table('billing_subscriptions',
    sa.Column('consumer_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.String(length=255), nullable=False),
    sa.Column('plan', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('cancel_at_period_end', sa.Boolean(), nullable=False),
    sa.Column('current_period_end', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['consumer_id'], ['users.id'], name=op.f('fk_billing_subscriptions_consumer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_subscriptions')),
    sa.UniqueConstraint('consumer_id', name='uq_billing_subscriptions_consumer')
    )


def downgrade() -> None:
    op.drop_table('billing_subscriptions')
    op.drop_table('billing_customers')
    op.drop_table('billing_invoices')
    op.drop_table('payment_events')
