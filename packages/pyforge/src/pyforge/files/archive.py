"""Unpacking uploads safely: one file, or a ``.zip`` / ``.tar.gz`` / ``.tar`` tree.

The whole upload is validated and staged into a private temporary directory *before* anything
reaches object storage, so a refused upload leaves nothing behind. Staged files are named by
their index, never by a name taken from the archive, so no archive name is ever used as a
file-system path. Refused, each with a 4xx problem:

* names that would escape the tree (``..``, absolute, drive letters, backslashes), control
  characters, names that are not UTF-8, and the same path twice (422 / 400);
* anything but regular files and directories: symbolic and hard links, devices, FIFOs,
  sparse and encrypted members (422);
* bombs: a member over ``max_file_bytes``, more than ``max_files`` members, more than
  ``max_total_bytes`` unpacked, or a compression ratio over ``max_ratio`` (413). Sizes are
  counted while decompressing, never taken from headers alone;
* corrupt archives and files whose name says archive but whose content is not one (400).

Everything here is synchronous and CPU/disk bound: call it in a worker thread.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, cast

from forgekit.errors import BadRequest, PayloadTooLarge, Unprocessable
from pyforge.files.paths import UnsafePath, normalize_path, tree_conflicts

_COPY_CHUNK = 1024 * 1024
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds on what one upload may unpack to (defaults: :data:`DEFAULT_LIMITS`)."""

    #: Most regular files in one archive.
    max_files: int = 10_000
    #: Largest single member, unpacked.
    max_file_bytes: int = 16 * 1024 * 1024
    #: Largest sum of all members, unpacked (also the staging disk used per upload).
    max_total_bytes: int = 256 * 1024 * 1024
    #: Largest unpacked/packed ratio, per member and for the whole archive ...
    max_ratio: float = 100.0
    #: ... checked only above this many unpacked bytes (small, repetitive files are fine).
    ratio_floor: int = 1024 * 1024


DEFAULT_LIMITS = ArchiveLimits()

ARCHIVE_SUFFIXES = {".zip": "zip", ".tar.gz": "tar.gz", ".tgz": "tar.gz", ".tar": "tar"}


class InvalidArchive(BadRequest):
    slug, title = "invalid-archive", "Invalid archive"


class UnsafeArchive(Unprocessable):
    slug, title = "unsafe-archive", "Unsafe archive"


class ArchiveTooLarge(PayloadTooLarge):
    slug, title = "archive-too-large", "Archive too large"


class InvalidFilePath(Unprocessable):
    slug, title = "invalid-path", "Invalid file path"


@dataclass(frozen=True)
class StagedFile:
    """One validated file, staged on local disk, ready to be stored."""

    path: str
    size: int
    sha256: str
    mime_type: str
    staged: Path


def archive_kind(filename: str | None) -> str | None:
    """``"zip"``, ``"tar.gz"``, ``"tar"`` when the name says archive, else None."""
    name = (filename or "").lower()
    for suffix, kind in ARCHIVE_SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    return None


def guess_mime(path: str, head: bytes) -> str:
    """A MIME type from the name, else from the content (text when it has no NUL byte)."""
    if path.endswith((".py", ".pyi")):
        return "text/x-python"
    guessed, _ = mimetypes.guess_type(path, strict=False)
    if guessed:
        return guessed
    if b"\0" in head:
        return "application/octet-stream"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sniff boundary is still text.
        if exc.start < len(head) - 3:
            return "application/octet-stream"
    return "text/plain"


class _Stager:
    """Copies members into the staging directory, hashing and counting as it goes."""

    def __init__(self, workdir: Path, limits: ArchiveLimits, packed_size: int) -> None:
        self.workdir, self.limits, self.packed_size = workdir, limits, packed_size
        self.files: list[StagedFile] = []
        self.paths: set[str] = set()
        self.total = 0

    def path_of(self, raw: str) -> str:
        try:
            path = normalize_path(raw)
        except UnsafePath as exc:
            raise UnsafeArchive(f"Unsafe member name {raw!r}: it {exc}.", member=raw) from None
        if path in self.paths:
            raise InvalidArchive(f"The archive contains {path!r} twice.", member=raw)
        return path

    def check_directory(self, raw: str) -> None:
        """A directory entry stores nothing, but its name must be safe all the same."""
        name = raw.rstrip("/")
        if name in ("", "."):
            return
        try:
            normalize_path(name)
        except UnsafePath as exc:
            raise UnsafeArchive(f"Unsafe member name {raw!r}: it {exc}.", member=raw) from None

    def admit(self, raw: str, declared_size: int) -> str:
        """Check a member before reading it; returns its normalised path."""
        path = self.path_of(raw)
        if len(self.paths) + 1 > self.limits.max_files:
            raise ArchiveTooLarge(
                f"The archive has more than {self.limits.max_files} files.",
                max_files=self.limits.max_files,
            )
        self._check_member_size(raw, declared_size)
        if self.total + declared_size > self.limits.max_total_bytes:
            self.too_much()
        return path

    def _check_member_size(self, raw: str, size: int) -> None:
        if size > self.limits.max_file_bytes:
            raise ArchiveTooLarge(
                f"{raw!r} unpacks to more than {self.limits.max_file_bytes} bytes.",
                member=raw,
                max_file_bytes=self.limits.max_file_bytes,
            )

    def too_much(self) -> None:
        raise ArchiveTooLarge(
            f"The archive unpacks to more than {self.limits.max_total_bytes} bytes.",
            max_total_bytes=self.limits.max_total_bytes,
        )

    def check_ratio(self, what: str, unpacked: int, packed: int) -> None:
        if unpacked > self.limits.ratio_floor and unpacked > self.limits.max_ratio * max(packed, 1):
            raise ArchiveTooLarge(
                f"{what} is compressed more than {self.limits.max_ratio:g}:1 (a zip bomb?).",
                max_ratio=self.limits.max_ratio,
            )

    def stage(self, path: str, raw: str, src: IO[bytes]) -> StagedFile:
        """Copy ``src`` to the staging directory with every limit enforced while reading."""
        target = self.workdir / f"{len(self.files):06d}"
        digest = hashlib.sha256()
        size = 0
        head = b""
        with target.open("wb") as out:
            while chunk := src.read(_COPY_CHUNK):
                size += len(chunk)
                self._check_member_size(raw, size)
                if self.total + size > self.limits.max_total_bytes:
                    self.too_much()
                if len(head) < _SNIFF_BYTES:
                    head += chunk[: _SNIFF_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
        self.total += size
        self.check_ratio("The archive", self.total, self.packed_size)
        staged = StagedFile(path, size, digest.hexdigest(), guess_mime(path, head), target)
        self.files.append(staged)
        self.paths.add(path)
        return staged

    def finish(self) -> list[StagedFile]:
        conflicts = tree_conflicts(self.paths)
        if conflicts:
            raise InvalidArchive(
                f"{conflicts[0]!r} lies under a path that is also a file.", paths=conflicts[:20]
            )
        return self.files


# --- zip --------------------------------------------------------------------------------------

_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_UTF8_FLAG = 0x800


def _zip_declared_entries(fh: BinaryIO, size: int) -> int | None:
    """Entry count from the end-of-central-directory record, read before zipfile parses it.

    zipfile builds an object per entry up front; a 50 MB central directory of empty entries
    would cost gigabytes of memory before any per-entry limit could apply.
    """
    tail_len = min(size, 22 + 65535)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    at = tail.rfind(_EOCD)
    if at < 0 or at + 22 > len(tail):
        return None
    entries = int(struct.unpack("<H", tail[at + 10 : at + 12])[0])
    if entries == 0xFFFF and at >= 20 and tail[at - 20 : at - 16] == _ZIP64_LOCATOR:
        (record_offset,) = struct.unpack("<Q", tail[at - 12 : at - 4])
        fh.seek(record_offset + 32)
        (entries,) = struct.unpack("<Q", fh.read(8) or b"\0" * 8)
    return entries


def _zip_name(info: zipfile.ZipInfo) -> str:
    if not info.filename:
        # zipfile's is_dir() indexes the name's last character (found by atheris).
        raise InvalidArchive("The archive is corrupt: a member has an empty name.")
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    # Without the UTF-8 flag zipfile decodes as cp437, which accepts any bytes; recover the
    # bytes and insist on UTF-8 (plain ASCII passes unchanged).
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        raise InvalidArchive(
            "A member name is not UTF-8; re-create the archive with UTF-8 names.",
            member=info.filename,
        ) from None


def _stage_zip(fh: BinaryIO, size: int, stager: _Stager) -> None:
    declared = _zip_declared_entries(fh, size)
    if declared is not None and declared > stager.limits.max_files:
        raise ArchiveTooLarge(
            f"The archive has more than {stager.limits.max_files} entries.",
            max_files=stager.limits.max_files,
        )
    fh.seek(0)
    if not zipfile.is_zipfile(fh):
        raise InvalidArchive("The file is not a zip archive.")
    fh.seek(0)
    with zipfile.ZipFile(fh) as zf:
        infos = zf.infolist()
        if len(infos) > stager.limits.max_files * 2:
            raise ArchiveTooLarge(f"The archive has more than {stager.limits.max_files} files.")
        declared_total = 0
        accepted: list[tuple[zipfile.ZipInfo, str, str]] = []
        # First pass over headers only: names, types and declared sizes, so that an archive
        # refused for its metadata costs no decompression at all.
        for info in infos:
            raw = _zip_name(info)
            mode = info.external_attr >> 16
            kind = stat.S_IFMT(mode) if info.create_system == 3 else 0
            if info.is_dir() or kind == stat.S_IFDIR:
                stager.check_directory(raw)
                continue
            if kind == stat.S_IFLNK:
                raise UnsafeArchive(f"{raw!r} is a symbolic link.", member=raw)
            if kind not in (0, stat.S_IFREG):
                raise UnsafeArchive(f"{raw!r} is not a regular file.", member=raw)
            if info.flag_bits & 0x1:
                raise UnsafeArchive(f"{raw!r} is encrypted.", member=raw)
            path = stager.admit(raw, info.file_size)
            stager.paths.add(path)
            declared_total += info.file_size
            if declared_total > stager.limits.max_total_bytes:
                stager.too_much()
            stager.check_ratio(repr(raw), info.file_size, info.compress_size)
            accepted.append((info, raw, path))
        stager.check_ratio("The archive", declared_total, size)
        stager.paths.clear()
        for info, raw, path in accepted:
            with zf.open(info) as src:
                staged = stager.stage(path, raw, src)
            stager.check_ratio(repr(raw), staged.size, info.compress_size)


# --- tar --------------------------------------------------------------------------------------


class _BoundedReader:
    """A read-only stream over decompressed data that refuses to yield too much.

    tarfile keeps some headers (PAX, GNU long names) in memory whole; bounding the stream
    bounds those too, and enforces the archive-wide ratio before members are even parsed.
    """

    def __init__(self, inner: IO[bytes], stager: _Stager) -> None:
        self.inner, self.stager, self.read_bytes = inner, stager, 0
        limits = stager.limits
        # Headers and padding: at most a few blocks per member on top of the contents.
        self.cap = limits.max_total_bytes + 3 * 512 * (limits.max_files + 2) + 20 * 512

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.read_bytes += len(data)
        if self.read_bytes > self.cap:
            self.stager.too_much()
        self.stager.check_ratio("The archive", self.read_bytes, self.stager.packed_size)
        return data


def _tar_name(member: tarfile.TarInfo) -> str:
    try:
        member.name.encode("utf-8")
    except UnicodeEncodeError:
        # tarfile decodes with surrogateescape: surrogates mark bytes that were not UTF-8.
        shown = member.name.encode("utf-8", "replace").decode("utf-8")
        raise InvalidArchive(
            "A member name is not UTF-8; re-create the archive with UTF-8 names.", member=shown
        ) from None
    return member.name


def _stage_tar(fh: BinaryIO, gzipped: bool, stager: _Stager) -> None:
    fh.seek(0)
    if gzipped and fh.read(2) != b"\x1f\x8b":
        raise InvalidArchive("The file is not a gzip-compressed tar archive.")
    fh.seek(0)
    inner = cast("IO[bytes]", gzip.GzipFile(fileobj=fh, mode="rb")) if gzipped else fh
    stream = _BoundedReader(inner, stager)
    # Stream mode ("r|"): one sequential pass, no seeking, members read as they come.
    with tarfile.open(fileobj=stream, mode="r|", encoding="utf-8") as tf:  # type: ignore[call-overload]
        for member in _tar_members(tf):
            raw = _tar_name(member)
            if member.isdir():
                stager.check_directory(raw)
                continue
            if member.issym() or member.islnk():
                raise UnsafeArchive(f"{raw!r} is a link.", member=raw)
            if member.issparse():
                raise UnsafeArchive(f"{raw!r} is a sparse file.", member=raw)
            if not member.isreg():
                raise UnsafeArchive(f"{raw!r} is not a regular file.", member=raw)
            path = stager.admit(raw, member.size)
            src = tf.extractfile(member)
            if src is None:  # pragma: no cover - isreg() members always have data
                raise InvalidArchive(f"{raw!r} has no data.")
            with src:
                stager.stage(path, raw, src)


def _tar_members(tf: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    while True:
        member = tf.next()
        if member is None:
            return
        yield member


# --- entry point ------------------------------------------------------------------------------


def stage_upload(
    fh: BinaryIO,
    *,
    size: int,
    filename: str | None,
    path: str | None,
    workdir: Path,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> list[StagedFile]:
    """Validate an upload and stage its files under ``workdir``; raises a problem on refusal.

    With ``path`` the upload is one file stored at that path, whatever its name. Otherwise a
    name ending in ``.zip``, ``.tar.gz``/``.tgz`` or ``.tar`` is unpacked as a tree, and any
    other name is one file stored under its base name.
    """
    kind = None if path is not None else archive_kind(filename)
    stager = _Stager(workdir, limits, size)
    if kind is None:
        raw = path if path is not None else (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        try:
            target = normalize_path(raw)
        except UnsafePath as exc:
            raise InvalidFilePath(
                f"The file path {raw!r} {exc}.",
                errors=[{"field": "body.path", "message": str(exc), "type": "path"}],
            ) from None
        fh.seek(0)
        # A single file is bounded by the upload limit only, not by the archive-member limit.
        bound = max(size, 1)
        single = _Stager(workdir, ArchiveLimits(max_file_bytes=bound, max_total_bytes=bound), bound)
        return [single.stage(target, raw, fh)]
    try:
        if kind == "zip":
            _stage_zip(fh, size, stager)
        else:
            _stage_tar(fh, kind == "tar.gz", stager)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, gzip.BadGzipFile) as exc:
        raise InvalidArchive(f"The archive is corrupt: {exc}.") from None
    # ValueError and OverflowError, found by atheris: zipfile decodes names flagged UTF-8 as it
    # opens the archive (UnicodeDecodeError); a forged offset is negative or past any seek.
    except (zlib.error, EOFError, NotImplementedError, struct.error, ValueError,
            OverflowError) as exc:  # fmt: skip
        raise InvalidArchive(f"The archive cannot be read: {exc or type(exc).__name__}.") from None
    return stager.finish()
