"""branches, pull requests and the new-code period

Adds ``branches`` and ``new_code_periods``, the branch / pull-request / new-code columns of
``analyses`` and the new-code status of ``analysis_findings``. Every existing project gets a
default branch named ``main`` and its analyses are moved onto it.

Revision ID: pyforge_0002
Revises: pyforge_0001
Create Date: 2026-12-02 18:50:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import forgekit.db.types

revision: str = 'pyforge_0002'
down_revision: str | Sequence[str] | None = 'pyforge_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('branches',
    sa.Column('project_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('target', sa.String(length=255), nullable=True),
    sa.Column('last_analysis_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_branches_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_branches')),
    sa.UniqueConstraint('project_id', 'name', name='uq_branches_project_name')
    )
    op.create_table('new_code_periods',
    sa.Column('project_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', forgekit.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_new_code_periods_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_new_code_periods')),
    sa.UniqueConstraint('project_id', name=op.f('uq_new_code_periods_project_id'))
    )
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('branch_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('pull_request', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('target_branch', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('version', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('baseline_analysis_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('new_code', forgekit.db.types.JSONType(), nullable=True))
        batch_op.add_column(sa.Column('manifest', forgekit.db.types.JSONType(), nullable=True))
        batch_op.create_index('ix_analyses_branch_id_created_at', ['branch_id', 'created_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_analyses_branch_id_branches'), 'branches', ['branch_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_analyses_baseline_analysis_id_analyses'), 'analyses', ['baseline_analysis_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('analysis_findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('new_code_status', sa.String(length=16), nullable=True))

    _default_branches()


def _default_branches() -> None:
    # Every project that exists before branches gets its default branch, and its analyses
    # (all of them were of that one tree) belong to it. UUIDs are made here because the two
    # backends have no common SQL function for them.
    conn = op.get_bind()
    branches = sa.table(
        'branches', sa.column('id', sa.Uuid()), sa.column('project_id', sa.Uuid()),
        sa.column('name', sa.String()), sa.column('is_default', sa.Boolean()),
        sa.column('created_at', forgekit.db.types.UTCDateTime()),
        sa.column('updated_at', forgekit.db.types.UTCDateTime()),
    )
    analyses = sa.table('analyses', sa.column('project_id', sa.Uuid()),
                        sa.column('branch_id', sa.Uuid()))
    projects = sa.table('projects', sa.column('id', sa.Uuid()))
    now = datetime.now(UTC)
    for (project_id,) in conn.execute(sa.select(projects.c.id)).all():
        branch_id = uuid.uuid4()
        conn.execute(branches.insert().values(
            id=branch_id, project_id=project_id, name='main', is_default=True, created_at=now,
            updated_at=now))
        conn.execute(analyses.update().where(analyses.c.project_id == project_id)
                     .values(branch_id=branch_id))


def downgrade() -> None:
    with op.batch_alter_table('analysis_findings', schema=None) as batch_op:
        batch_op.drop_column('new_code_status')

    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_analyses_baseline_analysis_id_analyses'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_analyses_branch_id_branches'), type_='foreignkey')
        batch_op.drop_index('ix_analyses_branch_id_created_at')
        batch_op.drop_column('manifest')
        batch_op.drop_column('new_code')
        batch_op.drop_column('baseline_analysis_id')
        batch_op.drop_column('version')
        batch_op.drop_column('target_branch')
        batch_op.drop_column('pull_request')
        batch_op.drop_column('branch_id')

    op.drop_table('new_code_periods')
    op.drop_table('branches')
