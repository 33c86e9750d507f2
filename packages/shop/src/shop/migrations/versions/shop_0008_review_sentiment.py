"""shop ML: review sentiment stored on the reviews (label, probability, aspects, language,
model version, scored_at) and the review's edit time

Hand-written. Its own file so that re-chaining it after another shop revision is a one-line
change of ``down_revision``.

Revision ID: shop_0008
Revises: shop_0007
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forgekit.db.types

revision: str = "shop_0008"
down_revision: str | Sequence[str] | None = "shop_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    "edited_at",
    "sentiment_label",
    "sentiment_probability",
    "sentiment_aspects",
    "language",
    "sentiment_model_version",
    "sentiment_scored_at",
)


def upgrade() -> None:
    # Nullable columns only: existing reviews stay as they are, unscored, until the worker or
    # `shop sentiment score --unscored` scores them.
    with op.batch_alter_table("shop_reviews", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("edited_at", forgekit.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("sentiment_label", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("sentiment_probability", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("sentiment_aspects", forgekit.db.types.JSONType(), nullable=True)
        )
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("sentiment_model_version", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "sentiment_scored_at", forgekit.db.types.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("shop_reviews", schema=None) as batch_op:
        for name in reversed(_COLUMNS):
            batch_op.drop_column(name)
