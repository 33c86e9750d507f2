"""Project files: uploads (one file or an archive tree), listing, reading, deleting.

An upload runs in three steps: the whole upload is validated and staged on local disk (a
worker thread; see :mod:`.archive`), then the contents that storage does not hold yet are
stored under their SHA-256, then the rows change and the event is enqueued in one transaction.
A refused upload therefore stores nothing. If the database step fails after objects were
stored, those objects are merely unreferenced (content-addressed, so harmless and shared).

Other domains read a project's current tree with :func:`snapshot` and its contents with
:func:`read_content` or :func:`materialize`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import tempfile
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.errors import BadRequest, NotFound
from forgekit.events.outbox import enqueue
from forgekit.identity.principal import Principal
from forgekit.pagination import InvalidCursor, decode_cursor, encode_cursor
from forgekit.runtime import Runtime
from forgekit.storage import ObjectStorage
from forgekit.storage.base import CHUNK_SIZE
from pyforge.access import project_for
from pyforge.events import FILE_DELETED, FILES_UPLOADED, FileDeleted, FilesUploaded
from pyforge.files.archive import DEFAULT_LIMITS, ArchiveLimits, StagedFile, stage_upload
from pyforge.files.models import ProjectFile
from pyforge.files.paths import tree_conflicts
from pyforge.files.repository import ProjectFileRepository
from pyforge.files.schemas import FileContent, FilePage, FileRead, SourceView, UploadResult
from pyforge.files.source import highlight
from pyforge.permissions import Permission
from pyforge.projects.models import Project

#: Event types this domain emits.

#: Largest file whose content ``GET .../files/{id}`` returns inline.
MAX_INLINE_BYTES = 1024 * 1024
#: Lifetime of the download link returned with a file.
DOWNLOAD_URL_TTL_S = 300
MAX_PAGE_SIZE = 500

FILE_NOT_FOUND = "File not found."


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    fh = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(fh.read, CHUNK_SIZE):
            yield chunk
    finally:
        await asyncio.to_thread(fh.close)


def _stage_in(workdir: Path, fh: BinaryIO, **kwargs: Any) -> list[StagedFile]:
    return stage_upload(fh, workdir=workdir, **kwargs)


# --- reading a project's tree (for other domains) ---------------------------------------------


async def snapshot(session: AsyncSession, project_id: uuid.UUID) -> Sequence[ProjectFile]:
    """The project's current tree: every live file, sorted by path (no access check)."""
    return await ProjectFileRepository(session).tree(project_id)


def snapshot_digest(files: Sequence[ProjectFile]) -> str:
    """A SHA-256 naming the tree's exact state (paths and contents), e.g. as a cache key."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        digest.update(f"{f.path}\0{f.sha256}\n".encode())
    return digest.hexdigest()


async def read_content(storage: ObjectStorage, file: ProjectFile) -> bytes:
    """The file's bytes from object storage (load big files with ``storage.open``)."""
    return await storage.read(file.sha256)


def _target_in(root: Path, path: str) -> Path:
    base = root.resolve()
    target = (base / path).resolve()
    if not target.is_relative_to(base):
        raise ValueError(f"stored path {path!r} escapes the tree")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


async def materialize(
    storage: ObjectStorage, files: Sequence[ProjectFile], root: Path
) -> list[Path]:
    """Write ``files`` under the directory ``root`` (created), returning the written paths.

    Stored paths are normalised on upload, so none can leave ``root``; this checks again
    anyway, because the analyser runs on what is written here.
    """
    written = []
    for f in files:
        target = await asyncio.to_thread(_target_in, root, f.path)
        await storage.download_to(f.sha256, target)
        written.append(target)
    return written


# --- the API's operations ---------------------------------------------------------------------


def _encode_cursor(path: str) -> str:
    return encode_cursor({"p": path})


def _decode_cursor(cursor: str) -> str:
    path = decode_cursor(cursor).get("p")
    if not isinstance(path, str):
        raise InvalidCursor("The cursor is not valid.")
    return path


def _refuse_conflicts(incoming: set[str], live: Mapping[str, ProjectFile], replace: bool) -> None:
    """400 when a path of the resulting tree would lie under another path that is a file."""
    final_paths = incoming | ({p for p in live if p not in incoming} if not replace else set())
    conflicts = tree_conflicts(final_paths)
    if conflicts:
        raise BadRequest(
            f"{conflicts[0]!r} would lie under a path that is also a file; delete one or "
            "upload with replace=true.",
            paths=conflicts[:20],
        )


async def _put_objects(runtime: Runtime, changed: Sequence[StagedFile]) -> None:
    """Store the contents not stored yet (content-addressed: identical files are stored once)."""
    for s in changed:
        if await runtime.storage.exists(s.sha256):
            continue
        stored = await runtime.storage.put_stream(
            _file_chunks(s.staged), max_size=s.size, content_type=s.mime_type
        )
        if stored.key != s.sha256:  # pragma: no cover - the file changed under us
            raise RuntimeError(f"staged content of {s.path!r} changed while storing")


def _apply_versions(
    session: AsyncSession,
    project_id: uuid.UUID,
    staged: Sequence[StagedFile],
    live: Mapping[str, ProjectFile],
    history: Mapping[str, int],
) -> tuple[list[ProjectFile], int, int]:
    """New rows for new paths, a version bump for changed content; ``(files, added, updated)``."""
    added = updated = 0
    files: list[ProjectFile] = []
    for s in staged:
        current = live.get(s.path)
        if current is None:
            row = ProjectFile(project_id=project_id, path=s.path, size=s.size,
                              mime_type=s.mime_type, sha256=s.sha256,
                              version=history.get(s.path, 0) + 1)  # fmt: skip
            session.add(row)
            files.append(row)
            added += 1
        elif current.sha256 != s.sha256:
            current.sha256, current.size, current.mime_type = s.sha256, s.size, s.mime_type
            current.version += 1
            files.append(current)
            updated += 1
        else:
            files.append(current)
    return files, added, updated


class FileService:
    """A project's files; callers pass a project already authorised by :mod:`pyforge.access`."""

    def __init__(self, limits: ArchiveLimits = DEFAULT_LIMITS) -> None:
        self.limits = limits

    async def upload(
        self,
        session: AsyncSession,
        runtime: Runtime,
        principal: Principal,
        project_id: uuid.UUID,
        fh: BinaryIO,
        *,
        size: int,
        filename: str | None,
        path: str | None = None,
        replace: bool = False,
    ) -> UploadResult:
        """Add or update files from one upload; with ``replace`` the upload becomes the tree.

        Unchanged content keeps its row and version; changed content bumps the version; with
        ``replace`` live paths missing from the upload are deleted. Commits.
        """
        # The access check ran in the request's transaction; end it so that unpacking (which
        # can take seconds) holds no database lock, and check again when writing.
        await session.commit()
        with tempfile.TemporaryDirectory(prefix="pyforge-upload-") as tmp:
            # mkdtemp makes the directory private (0700): other local users cannot swap files.
            workdir = Path(tmp)
            staged = await asyncio.to_thread(
                _stage_in,
                workdir,
                fh,
                size=size,
                filename=filename,
                path=path,
                limits=self.limits,
            )
            return await self._store(session, runtime, principal, project_id, staged, replace)

    async def store_tree(
        self,
        session: AsyncSession,
        runtime: Runtime,
        fh: BinaryIO,
        *,
        size: int,
        filename: str | None,
    ) -> dict[str, str]:
        """Store an uploaded tree's contents without touching the project's files.

        For trees that are not the project's current one (a branch, a pull request): the
        contents go to storage (content-addressed, shared with every other tree) and the
        tree comes back as ``{path: sha256}``, which the caller keeps. Commits ``session``
        first, as :meth:`upload` does, so that unpacking holds no database lock.
        """
        await session.commit()
        with tempfile.TemporaryDirectory(prefix="pyforge-upload-") as tmp:
            staged = await asyncio.to_thread(
                _stage_in, Path(tmp), fh, size=size, filename=filename, path=None,
                limits=self.limits,
            )  # fmt: skip
            await _put_objects(runtime, staged)
        return {s.path: s.sha256 for s in staged}

    async def _store(
        self,
        session: AsyncSession,
        runtime: Runtime,
        principal: Principal,
        project_id: uuid.UUID,
        staged: list[StagedFile],
        replace: bool,
    ) -> UploadResult:
        project = await project_for(
            session, principal, project_id, Permission.PROJECT_WRITE, for_update=True
        )
        repo = ProjectFileRepository(session)
        live = {f.path: f for f in await repo.tree(project.id)}
        incoming = {s.path for s in staged}
        removed = [f for p, f in live.items() if p not in incoming] if replace else []
        _refuse_conflicts(incoming, live, replace)
        changed = [s for s in staged if s.path not in live or live[s.path].sha256 != s.sha256]
        await _put_objects(runtime, changed)
        history = await repo.last_versions(
            project.id, (s.path for s in changed if s.path not in live)
        )
        files, added, updated = _apply_versions(session, project.id, staged, live, history)
        for f in removed:
            await repo.delete(f, soft=True)
        await session.flush()
        counts = {
            "added": added,
            "updated": updated,
            "unchanged": len(staged) - added - updated,
            "deleted": len(removed),
        }
        await enqueue(
            session,
            FILES_UPLOADED,
            FilesUploaded(project_id=project.id, replace=replace, **counts),
            metadata={"actor_id": str(principal.user_id)},
        )
        await session.commit()
        files.sort(key=lambda f: f.path)
        return UploadResult(**counts, files=[FileRead.model_validate(f) for f in files])

    async def list(
        self,
        session: AsyncSession,
        project: Project,
        *,
        limit: int,
        offset: int = 0,
        cursor: str | None = None,
        prefix: str | None = None,
    ) -> FilePage:
        """A page of the live tree sorted by path; ``cursor`` continues after a page."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        repo = ProjectFileRepository(session)
        stmt = repo.select_tree(project.id, prefix)
        total = await repo.count(stmt)
        if cursor is not None:
            stmt = stmt.where(ProjectFile.path > _decode_cursor(cursor))
            offset = 0
        rows = list(await repo.all(stmt.order_by(ProjectFile.path).offset(offset).limit(limit + 1)))
        next_cursor = _encode_cursor(rows[limit - 1].path) if len(rows) > limit else None
        return FilePage(
            items=[FileRead.model_validate(f) for f in rows[:limit]],
            total=total,
            limit=limit,
            offset=offset,
            next_cursor=next_cursor,
        )

    async def get(
        self, session: AsyncSession, storage: ObjectStorage, project: Project, file_id: uuid.UUID
    ) -> FileContent:
        """A file's metadata and, up to :data:`MAX_INLINE_BYTES`, its content."""
        f = await ProjectFileRepository(session).get_in_project(project.id, file_id)
        if f is None:
            raise NotFound(FILE_NOT_FOUND)
        encoding: Literal["utf-8", "base64"] | None = None
        content: str | None = None
        truncated = f.size > MAX_INLINE_BYTES
        if not truncated:
            data = await storage.read(f.sha256)
            try:
                content, encoding = data.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                content, encoding = base64.b64encode(data).decode("ascii"), "base64"
        url = await storage.download_url(
            f.sha256, DOWNLOAD_URL_TTL_S, filename=f.path.rsplit("/", 1)[-1]
        )
        return FileContent(
            **FileRead.model_validate(f).model_dump(),
            encoding=encoding,
            content=content,
            truncated=truncated,
            download_url=url,
        )

    async def source(
        self, session: AsyncSession, storage: ObjectStorage, project: Project, path: str
    ) -> SourceView:
        """The file at ``path`` as syntax-highlighted lines (for the dashboard's file view)."""
        f = await ProjectFileRepository(session).get_by_path(project.id, path)
        if f is None:
            raise NotFound(FILE_NOT_FOUND)
        if f.size > MAX_INLINE_BYTES:
            return SourceView(path=f.path, file_id=f.id, size=f.size, truncated=True,
                              language="", lines=[])  # fmt: skip
        data = await storage.read(f.sha256)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("The file is not UTF-8 text; download it instead.") from None
        language, lines = highlight(f.path, text)
        return SourceView(path=f.path, file_id=f.id, size=f.size, truncated=False,
                          language=language, lines=lines)  # fmt: skip

    async def delete(
        self, session: AsyncSession, principal: Principal, project: Project, file_id: uuid.UUID
    ) -> None:
        """Remove a file from the tree (the row stays as history). Commits."""
        repo = ProjectFileRepository(session)
        f = await repo.get_in_project(project.id, file_id)
        if f is None:
            raise NotFound(FILE_NOT_FOUND)
        await repo.delete(f, soft=True)
        await enqueue(
            session,
            FILE_DELETED,
            FileDeleted(project_id=project.id, file_id=f.id, path=f.path),
            metadata={"actor_id": str(principal.user_id)},
        )
        await session.commit()


files = FileService()
