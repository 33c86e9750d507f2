"""PyForge's migrations (kit + product branches) run up and down and match the models."""

import pyforge.models  # noqa: F401
from forgekit.testing.migrations import assert_down_and_up, assert_schema_matches_models
from pyforge.product import PRODUCT

# Hand-written full-text search objects that autogenerate cannot express (see pyforge/db.py).
SEARCH_OBJECTS = ("projects_fts", "ix_projects_search")


async def test_migrated_schema_matches_models(database_url: str) -> None:
    await assert_schema_matches_models(database_url, SEARCH_OBJECTS)


async def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    await assert_down_and_up(database_url, PRODUCT, {"users", "projects", "project_files", "analyses"})


async def test_branches_migration_gives_existing_analyses_a_default_branch(
    database_url: str,
) -> None:
    """pyforge_0002 on a database with data: each project gets ``main``, its analyses (and
    their findings) stay and belong to it; going down again drops the branches only."""
    import asyncio
    import uuid
    from datetime import UTC, datetime

    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    from forgekit.db.types import UTCDateTime

    await asyncio.to_thread(PRODUCT.downgrade, database_url, "pyforge_0001")
    now = datetime.now(UTC)
    user, project, analysis = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    meta = sa.MetaData()
    columns = (("id", sa.Uuid()), ("email", sa.String()), ("username", sa.String()),
               ("password_hash", sa.String()), ("is_active", sa.Boolean()),
               ("is_verified", sa.Boolean()), ("role", sa.String()),
               ("created_at", UTCDateTime()), ("updated_at", UTCDateTime()))  # fmt: skip
    users = sa.Table("users", meta, *(sa.Column(n, t) for n, t in columns))
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(users.insert().values(
                id=user, email="m@example.com", username="m", password_hash="x", is_active=True,
                is_verified=True, role="user", created_at=now, updated_at=now))  # fmt: skip
            await conn.execute(sa.text(
                "INSERT INTO projects (id, name, owner_id, settings, is_public, created_at, "
                "updated_at) VALUES (:id, 'p', :owner, '{}', false, :now, :now)"),
                {"id": _uuid_param(database_url, project), "owner": _uuid_param(database_url, user),
                 "now": now})  # fmt: skip
            await conn.execute(sa.text(
                "INSERT INTO analyses (id, project_id, status, attempts, files_total, files_done, "
                "new_findings, fixed_findings, created_at, updated_at) VALUES "
                "(:id, :project, 'succeeded', 1, 0, 0, 0, 0, :now, :now)"),
                {"id": _uuid_param(database_url, analysis),
                 "project": _uuid_param(database_url, project), "now": now})  # fmt: skip
        await asyncio.to_thread(PRODUCT.upgrade, database_url)
        async with engine.connect() as conn:
            branches = (await conn.execute(sa.text(
                "SELECT id, project_id, name, is_default FROM branches"))).all()  # fmt: skip
            assert len(branches) == 1 and branches[0][2] == "main" and branches[0][3]
            branch_of = (await conn.execute(sa.text("SELECT branch_id FROM analyses"))).scalar()
            assert str(branch_of).replace("-", "") == str(branches[0][0]).replace("-", "")
        await asyncio.to_thread(PRODUCT.downgrade, database_url, "pyforge_0001")
        async with engine.connect() as conn:
            count = (await conn.execute(sa.text("SELECT count(*) FROM analyses"))).scalar()
            assert count == 1
    finally:
        await engine.dispose()


def _uuid_param(database_url: str, value: object) -> object:
    # SQLite stores SQLAlchemy's Uuid as 32 hex characters; PostgreSQL has a uuid type.
    import uuid

    assert isinstance(value, uuid.UUID)
    return value.hex if database_url.startswith("sqlite") else value
