"""Archive safety: every hostile or broken upload is refused with a 4xx and stores nothing."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forgekit.errors import ProblemError
from forgekit.identity.testing import register_and_login
from forgekit.runtime import Runtime
from pyforge.files import service as files_service
from pyforge.files.archive import ArchiveLimits, stage_upload
from pyforge.files.paths import UnsafePath, normalize_path
from pyforge.projects.testing import (
    PROJECTS,
    file_rows,
    new_project,
    stored_objects,
    tar_bytes,
    zip_bytes,
)

LIMITS = ArchiveLimits(
    max_files=5,
    max_file_bytes=64 * 1024,
    max_total_bytes=256 * 1024,
    max_ratio=50,
    ratio_floor=16 * 1024,
)


def _zip_member(name: str, mode: int, data: bytes = b"x") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ok.py", b"1\n")
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = mode << 16
        zf.writestr(info, data)
    return buf.getvalue()


def _zip_raw_name(raw: bytes) -> bytes:
    # zipfile always writes non-ASCII names as flagged UTF-8; patch the bytes in afterwards.
    placeholder = b"N" * (len(raw) - 3) + b".py"
    data = zip_bytes({placeholder.decode(): b"1\n"})
    return data.replace(placeholder, raw)


def _tar_special(name: str, kind: bytes, linkname: str = "") -> bytes:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return tar_bytes([("ok.py", b"1\n"), info])


def _corrupt_zip() -> bytes:
    data = bytearray(zip_bytes({"a.py": os.urandom(2000)}, compression=zipfile.ZIP_STORED))
    data[100] ^= 0xFF  # inside a.py's content: the CRC no longer matches
    return bytes(data)


def _dup_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, pytest.warns(UserWarning):
        zf.writestr("a.py", b"1")
        zf.writestr("a.py", b"2")
    return buf.getvalue()


def _many_zero_entries_zip() -> bytes:
    return zip_bytes({f"f{i}.py": b"" for i in range(LIMITS.max_files + 1)})


random_kb = os.urandom(1024)


# (name, upload file name, content factory, expected status)
CASES: list[tuple[str, str, Callable[[], bytes], int]] = [
    ("zip traversal", "t.zip", lambda: zip_bytes({"../evil.py": b"1"}), 422),
    ("zip nested traversal", "t.zip", lambda: zip_bytes({"a/../../evil.py": b"1"}), 422),
    ("zip absolute", "t.zip", lambda: zip_bytes({"/etc/evil.py": b"1"}), 422),
    ("zip drive letter", "t.zip", lambda: zip_bytes({"C:/evil.py": b"1"}), 422),
    ("zip backslashes", "t.zip", lambda: zip_bytes({"..\\..\\evil.py": b"1"}), 422),
    ("zip symlink", "t.zip", lambda: _zip_member("link", stat.S_IFLNK | 0o777, b"/etc"), 422),
    ("zip device", "t.zip", lambda: _zip_member("dev", stat.S_IFCHR | 0o600), 422),
    ("zip fifo", "t.zip", lambda: _zip_member("fifo", stat.S_IFIFO | 0o600), 422),
    ("zip duplicate", "t.zip", _dup_zip, 400),
    ("zip non-utf8 name", "t.zip", lambda: _zip_raw_name(b"\xff\xfe.py"), 400),
    ("zip control char", "t.zip", lambda: zip_bytes({"a\x01b.py": b"1"}), 422),
    ("zip bomb ratio", "t.zip", lambda: zip_bytes({"z.txt": b"\0" * (200 * 1024)}), 413),
    (
        "zip total size",
        "t.zip",
        lambda: zip_bytes({f"r{i}.bin": os.urandom(60 * 1024) for i in range(5)}),
        413,
    ),
    ("zip member size", "t.zip", lambda: zip_bytes({"big.bin": os.urandom(100 * 1024)}), 413),
    ("zip file count", "t.zip", _many_zero_entries_zip, 413),
    ("zip corrupt crc", "t.zip", _corrupt_zip, 400),
    ("zip truncated", "t.zip", lambda: zip_bytes({"a.py": random_kb})[:-30], 400),
    ("not a zip", "t.zip", lambda: b"print('I am not a zip')\n", 400),
    ("zip file/dir clash", "t.zip", lambda: zip_bytes({"a": b"1", "a/b.py": b"2"}), 400),
    ("tar traversal", "t.tar.gz", lambda: tar_bytes([("../evil.py", b"1")]), 422),
    ("tar absolute", "t.tgz", lambda: tar_bytes([("/evil.py", b"1")]), 422),
    ("tar symlink", "t.tar.gz", lambda: _tar_special("l", tarfile.SYMTYPE, "/etc/passwd"), 422),
    ("tar hardlink", "t.tar.gz", lambda: _tar_special("h", tarfile.LNKTYPE, "ok.py"), 422),
    ("tar fifo", "t.tar.gz", lambda: _tar_special("p", tarfile.FIFOTYPE), 422),
    ("tar char device", "t.tar.gz", lambda: _tar_special("c", tarfile.CHRTYPE), 422),
    ("tar block device", "t.tar.gz", lambda: _tar_special("b", tarfile.BLKTYPE), 422),
    ("tar non-utf8 name", "t.tar.gz", lambda: tar_bytes([("\udcff.py", b"1")]), 400),
    ("tar duplicate", "t.tar.gz", lambda: tar_bytes([("a.py", b"1"), ("./a.py", b"2")]), 400),
    ("tar bomb ratio", "t.tar.gz", lambda: tar_bytes([("z", b"\0" * (200 * 1024))]), 413),
    (
        "tar file count",
        "t.tar.gz",
        lambda: tar_bytes([(f"f{i}", b"") for i in range(LIMITS.max_files + 1)]),
        413,
    ),
    ("tar member size", "t.tar", lambda: tar_bytes([("b", os.urandom(70 * 1024))], gz=False), 413),
    ("not gzip", "t.tar.gz", lambda: b"plain text, not gzip", 400),
    ("truncated gzip", "t.tar.gz", lambda: tar_bytes([("a.py", random_kb * 8)])[:-200], 400),
    ("not a tar", "t.tar", lambda: b"x" * 2000, 400),
]


@pytest.mark.parametrize(("name", "filename", "make", "status"), CASES, ids=[c[0] for c in CASES])
def test_stage_upload_refuses(
    name: str, filename: str, make: Callable[[], bytes], status: int, tmp_path: Path
) -> None:
    data = make()
    with pytest.raises(ProblemError) as caught:
        stage_upload(
            io.BytesIO(data),
            size=len(data),
            filename=filename,
            path=None,
            workdir=tmp_path,
            limits=LIMITS,
        )
    assert caught.value.status == status, caught.value.detail


async def test_refused_uploads_store_nothing(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files_service.files, "limits", LIMITS)
    owner = await register_and_login(client)
    pid = (await new_project(client, owner))["id"]
    url = f"{PROJECTS}/{pid}/files"
    ok = await client.post(
        url, files={"file": ("t.zip", zip_bytes({"keep.py": b"1\n"}))}, headers=owner.headers
    )
    assert ok.status_code == 201, ok.text
    rows, objects = await file_rows(runtime), stored_objects(runtime)
    staging_before = set(Path(tempfile.gettempdir()).glob("pyforge-upload-*"))
    for name, filename, make, status in CASES:
        resp = await client.post(
            url,
            files={"file": (filename, make())},
            data={"replace": "true"},
            headers=owner.headers,
        )
        assert resp.status_code == status, (name, resp.text)
        assert resp.headers["content-type"] == "application/problem+json", name
        assert await file_rows(runtime) == rows, name
        assert stored_objects(runtime) == objects, name
    assert set(Path(tempfile.gettempdir()).glob("pyforge-upload-*")) == staging_before
    listing = (await client.get(url, headers=owner.headers)).json()
    assert [f["path"] for f in listing["items"]] == ["keep.py"]


@given(st.text(max_size=40))
def test_normalised_paths_stay_inside_the_tree(raw: str) -> None:
    try:
        path = normalize_path(raw)
    except UnsafePath:
        return
    parts = path.split("/")
    assert path and not path.startswith("/") and "\\" not in path
    assert ".." not in parts and "." not in parts and "" not in parts
    assert normalize_path(path) == path
