"""shop part 1, continued: storefront analytics events, invoices and their yearly counters

Hand-written. Its own file so that re-chaining it after another shop revision is a one-line
change of ``down_revision``.

Revision ID: shop_0007
Revises: shop_0006
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forgekit.db.types

revision: str = "shop_0007"
down_revision: str | Sequence[str] | None = "shop_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shop_analytics_events",
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("at", forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("visitor", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("variant_id", sa.Uuid(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_analytics_events")),
    )
    with op.batch_alter_table("shop_analytics_events", schema=None) as batch_op:
        batch_op.create_index("ix_shop_analytics_events_kind_at", ["kind", "at"], unique=False)
        batch_op.create_index("ix_shop_analytics_events_order", ["order_id"], unique=False)
    op.create_table(
        "shop_invoice_sequences",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_shop_invoice_sequences")),
    )
    op.create_table(
        "shop_invoices",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=128), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("issued_at", forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["shop_orders.id"],
            name=op.f("fk_shop_invoices_order_id_shop_orders"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_shop_invoices_number")),
        sa.UniqueConstraint("order_id", name=op.f("uq_shop_invoices_order_id")),
        sa.UniqueConstraint("year", "sequence", name="uq_shop_invoices_year_sequence"),
    )


def downgrade() -> None:
    op.drop_table("shop_invoices")
    op.drop_table("shop_invoice_sequences")
    with op.batch_alter_table("shop_analytics_events", schema=None) as batch_op:
        batch_op.drop_index("ix_shop_analytics_events_order")
        batch_op.drop_index("ix_shop_analytics_events_kind_at")
    op.drop_table("shop_analytics_events")
