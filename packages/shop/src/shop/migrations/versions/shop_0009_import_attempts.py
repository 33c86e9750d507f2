"""shop: import jobs count their attempts (the fencing token of a re-queued import)

Hand-written. Its own file so that re-chaining it after another shop revision is a one-line
change of ``down_revision``.

Revision ID: shop_0009
Revises: shop_0008
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "shop_0009"
down_revision: str | Sequence[str] | None = "shop_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shop_import_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        # The janitor looks for running jobs whose heartbeat (updated_at) is old.
        batch_op.create_index(
            "ix_shop_import_jobs_status_updated_at", ["status", "updated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("shop_import_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_shop_import_jobs_status_updated_at")
        batch_op.drop_column("attempts")
