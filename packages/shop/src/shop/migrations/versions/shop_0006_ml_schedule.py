"""shop ML, part 2: claims of the nightly schedule (one run per kind and period)

Hand-written. Chained after shop_0003 on this branch; the lead re-chains it at merge.

Revision ID: shop_0006
Revises: shop_0004
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forgekit.db.types

revision: str = "shop_0006"
down_revision: str | Sequence[str] | None = "shop_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ml_schedule_claims",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=False),
        sa.Column("claimed_at", forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "period", name=op.f("pk_ml_schedule_claims")),
    )


def downgrade() -> None:
    op.drop_table("ml_schedule_claims")
