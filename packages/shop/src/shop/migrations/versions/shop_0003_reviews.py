"""shop part 1, continued: reviews and helpful votes

Hand-written. Chained after shop_0002 (the ML tables, already on main when this was written).

Revision ID: shop_0003
Revises: shop_0002
Create Date: 2026-12-03 07:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forgekit.db.types

revision: str = "shop_0003"
down_revision: str | Sequence[str] | None = "shop_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shop_reviews",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("moderated_by", sa.Uuid(), nullable=True),
        sa.Column("moderated_at", forgekit.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "rating >= 1 AND rating <= 5", name=op.f("ck_shop_reviews_rating_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["users.id"],
            name=op.f("fk_shop_reviews_customer_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["moderated_by"],
            ["users.id"],
            name=op.f("fk_shop_reviews_moderated_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["shop_products.id"],
            name=op.f("fk_shop_reviews_product_id_shop_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_reviews")),
        sa.UniqueConstraint(
            "product_id", "customer_id", name=op.f("uq_shop_reviews_product_customer")
        ),
    )
    with op.batch_alter_table("shop_reviews", schema=None) as batch_op:
        batch_op.create_index(
            "ix_shop_reviews_product_status", ["product_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_shop_reviews_status_created", ["status", "created_at"], unique=False
        )
    op.create_table(
        "shop_review_votes",
        sa.Column("review_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["shop_reviews.id"],
            name=op.f("fk_shop_review_votes_review_id_shop_reviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_shop_review_votes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("review_id", "user_id", name=op.f("pk_shop_review_votes")),
    )


def downgrade() -> None:
    op.drop_table("shop_review_votes")
    with op.batch_alter_table("shop_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_shop_reviews_status_created")
        batch_op.drop_index("ix_shop_reviews_product_status")
    op.drop_table("shop_reviews")
