"""modelhub reviews, usage record, ratings and publication dates

Hand-checked autogenerate output: the usage record (one row per consumer and model), reviews
and each model's rating summary, and ``market_models.published_at``.

Revision ID: modelhub_0002
Revises: modelhub_0001
Create Date: 2026-12-02 18:28:06.243319
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import forgekit.db.types

revision: str = 'modelhub_0002'
down_revision: str | Sequence[str] | None = 'modelhub_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('model_ratings',
    sa.Column('model_id', sa.Uuid(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('average', sa.Float(), nullable=True),
    sa.Column('stars_1', sa.Integer(), nullable=False),
    sa.Column('stars_2', sa.Integer(), nullable=False),
    sa.Column('stars_3', sa.Integer(), nullable=False),
    sa.Column('stars_4', sa.Integer(), nullable=False),
    sa.Column('stars_5', sa.Integer(), nullable=False),
    sa.Column('updated_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['market_models.id'], name=op.f('fk_model_ratings_model_id_market_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', name=op.f('pk_model_ratings'))
    )
    with op.batch_alter_table('model_ratings', schema=None) as batch_op:
        batch_op.create_index('ix_model_ratings_average', ['average', 'count'], unique=False)

    op.create_table('model_reviews',
    sa.Column('model_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reply_updated_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('hidden_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('hidden_reason', sa.Text(), nullable=True),
    sa.Column('hidden_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_model_reviews_rating_range')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_model_reviews_author_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hidden_by'], ['users.id'], name=op.f('fk_model_reviews_hidden_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['model_id'], ['market_models.id'], name=op.f('fk_model_reviews_model_id_market_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_reviews')),
    sa.UniqueConstraint('model_id', 'author_id', name='uq_model_reviews_model_author')
    )
    with op.batch_alter_table('model_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_reviews_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_model_reviews_model_rating', ['model_id', 'rating'], unique=False)
        batch_op.create_index('ix_model_reviews_model_recent', ['model_id', 'created_at'], unique=False)

    op.create_table('model_usage',
    sa.Column('consumer_id', sa.Uuid(), nullable=False),
    sa.Column('model_id', sa.Uuid(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('last_source', sa.String(length=16), nullable=False),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.Column('first_used_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['consumer_id'], ['users.id'], name=op.f('fk_model_usage_consumer_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['model_id'], ['market_models.id'], name=op.f('fk_model_usage_model_id_market_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_usage')),
    sa.UniqueConstraint('consumer_id', 'model_id', name='uq_model_usage_consumer_model')
    )
    with op.batch_alter_table('model_usage', schema=None) as batch_op:
        batch_op.create_index('ix_model_usage_model_recent', ['model_id', 'last_used_at'], unique=False)

    # Plain ALTERs, not batch mode: rebuilding market_models on SQLite would drop the
    # full-text triggers of modelhub_search_0001.
    op.add_column('market_models', sa.Column('published_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=True))
    op.create_index('ix_market_models_published_at', 'market_models', ['published_at'], unique=False)
    # Models published before this revision: their last change is the best known date.
    op.execute("UPDATE market_models SET published_at = updated_at "
               "WHERE status IN ('published', 'deprecated')")


def downgrade() -> None:
    op.drop_index('ix_market_models_published_at', table_name='market_models')
    # SQLite >= 3.35 drops a column in place (no table rebuild, so the FTS triggers stay).
    op.execute('ALTER TABLE market_models DROP COLUMN published_at')
    with op.batch_alter_table('model_usage', schema=None) as batch_op:
        batch_op.drop_index('ix_model_usage_model_recent')

    op.drop_table('model_usage')
    with op.batch_alter_table('model_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_model_reviews_model_recent')
        batch_op.drop_index('ix_model_reviews_model_rating')
        batch_op.drop_index(batch_op.f('ix_model_reviews_author_id'))

    op.drop_table('model_reviews')
    with op.batch_alter_table('model_ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_model_ratings_average')

    op.drop_table('model_ratings')
