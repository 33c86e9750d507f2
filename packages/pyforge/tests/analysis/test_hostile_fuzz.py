"""Property-based fuzzing of what parses untrusted bytes: archive extraction, the engine's file
front (decoding, parsing, tokenizing), the SARIF and JSON writers, webhook signature parsing.

Each may refuse input only by its documented error (a problem document's exception, ``False``);
anything else (a crash, a file written outside the staging tree, invalid JSON) is a bug.
"""

from __future__ import annotations

import base64
import io
import json
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forgekit.errors import ProblemError
from forgekit.webhooks.signing import signature_header, verify_signature
from pyforge.analysis import analyze_paths
from pyforge.analysis.config import config_from_table
from pyforge.analysis.engine import analyze_bytes, build_plan
from pyforge.analysis.registry import get_registry
from pyforge.analysis.reporters.json import render_json
from pyforge.analysis.reporters.sarif import render_sarif
from pyforge.files.archive import ArchiveLimits, stage_upload

pytestmark = pytest.mark.hostile
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SMALL = ArchiveLimits(max_files=50, max_file_bytes=64 * 1024, max_total_bytes=256 * 1024)
# Names an attacker would try: traversal, absolute, drive letters, NUL, surrogates, links.
NAMES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["../x.py", "/etc/passwd", "a/../../b", "C:\\x.py", "a\x00b.py", "./.", "",
                     "\ud800.py", "a//b.py", "\\\\srv\\share", "x/" * 40 + "y.py"]),
)  # fmt: skip


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries:
            try:
                zf.writestr(name or "_", data)
            except (UnicodeEncodeError, ValueError):
                continue
    return buf.getvalue()


def _tar(entries: list[tuple[str, bytes]], symlink: bool) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in entries:
            info = tarfile.TarInfo(name or "_")
            if symlink:
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            info.size = 0 if symlink else len(data)
            try:
                tf.addfile(info, io.BytesIO(data))
            except (UnicodeEncodeError, ValueError):
                continue
    return buf.getvalue()


def _stage(data: bytes, filename: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "stage"
        root.mkdir()
        try:
            staged = stage_upload(io.BytesIO(data), size=len(data), filename=filename, path=None,
                                  workdir=root, limits=SMALL)  # fmt: skip
        except ProblemError:
            return  # refused with a problem document: fine
        for f in staged:
            assert f.staged.resolve().is_relative_to(root.resolve()), f
            assert ".." not in f.path.split("/") and not f.path.startswith("/"), f.path
        assert [p for p in Path(tmp).iterdir()] == [root]  # nothing written beside the tree


@FUZZ
@given(st.lists(st.tuples(NAMES, st.binary(max_size=2048)), max_size=8), st.booleans(),
       st.sampled_from(["zip", "tar"]))  # fmt: skip
def test_archive_extraction_stays_inside_and_fails_cleanly(
    entries: list[tuple[str, bytes]], symlink: bool, kind: str
) -> None:
    if kind == "zip":
        _stage(_zip(entries), "up.zip")
    else:
        _stage(_tar(entries, symlink), "up.tar.gz")


@FUZZ
@given(st.binary(max_size=4096), st.sampled_from(["up.zip", "up.tar.gz", "up.tar", "x.py"]))
def test_random_bytes_as_an_archive_fail_cleanly(data: bytes, filename: str) -> None:
    _stage(data, filename)


@FUZZ
@given(st.binary(max_size=3000) | st.text(max_size=500).map(lambda t: t.encode("utf-8", "surrogatepass")))  # fmt: skip
def test_engine_file_front_never_crashes(data: bytes) -> None:
    config = config_from_table({"disable": ["mypy", "ruff"]}, root=Path("."))
    plan = build_plan(get_registry().analyzers.values(), config.settings)
    report = analyze_bytes(data, "m.py", config.settings, plan)
    assert report.status in ("ok", "error", "skipped"), report.status


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.lists(st.binary(max_size=600), min_size=1, max_size=3), st.text(max_size=20))
def test_sarif_and_json_writers_emit_valid_json(
    tmp_path: Path, sources: list[bytes], tag: str
) -> None:
    root = tmp_path / tag.encode("utf-8", "surrogatepass").hex()
    root.mkdir(exist_ok=True)
    for i, data in enumerate(sources):
        (root / f"m{i}.py").write_bytes(data + b"\nx = eval(input())\n")
    config = config_from_table({"disable": ["mypy"]}, root=root)
    report = analyze_paths([root], config, jobs=1, use_cache=False)
    for render in (render_json, render_sarif):
        out = io.StringIO()
        render(report, out)
        text = out.getvalue()
        text.encode("utf-8")  # no lone surrogate reaches a writer's output
        assert isinstance(json.loads(text), dict)


@FUZZ
@given(st.text(max_size=200), st.binary(max_size=256), st.text(min_size=1, max_size=40))
def test_webhook_signature_parsing_never_crashes(header: str, body: bytes, secret: str) -> None:
    assert verify_signature(secret, body, header) in (True, False)
    forged = header + "," + signature_header(secret + "x", body)
    assert verify_signature(secret, body, forged) is False or "v1=" in header


# Regressions found by the coverage-guided fuzzer (scripts/atheris_fuzz.py), which hypothesis'
# random search had not reached.
def test_lone_carriage_returns_end_lines_in_the_file_front() -> None:
    config = config_from_table({"disable": ["mypy", "ruff"]}, root=Path("."))
    plan = build_plan(get_registry().analyzers.values(), config.settings)
    for data in (b"\r\r3", b"x = 1\r\ry = 2\r# c\r"):  # an IndexError before the fix
        report = analyze_bytes(data, "m.py", config.settings, plan)
        assert report.status == "ok", (data, report.findings)


def test_zip_member_name_flagged_utf8_but_invalid_is_refused_cleanly() -> None:
    good = _zip([("\u00e9.py", b"x = 1\n")])  # zipfile flags the name UTF-8: b"\xc3\xa9.py"
    bad = good.replace(b"\xc3\xa9.py", b"\xff\xfe.py")
    assert bad != good
    with tempfile.TemporaryDirectory() as tmp, pytest.raises(ProblemError) as refused:
        stage_upload(io.BytesIO(bad), size=len(bad), filename="up.zip", path=None,
                     workdir=Path(tmp), limits=SMALL)  # fmt: skip
    assert refused.value.status == 400, refused.value


def test_zip_member_with_an_empty_name_is_refused_cleanly() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("e.py")
        info.filename = ""  # zipfile refuses "" as a name but writes it from a ZipInfo
        zf.writestr(info, b"x = 1\n")
    bad = buf.getvalue()
    with tempfile.TemporaryDirectory() as tmp, pytest.raises(ProblemError) as refused:
        stage_upload(io.BytesIO(bad), size=len(bad), filename="up.zip", path=None,
                     workdir=Path(tmp), limits=SMALL)  # fmt: skip
    assert refused.value.status == 400, refused.value


#: A zip atheris forged whose member offset makes zipfile seek before the file's start.
NEGATIVE_SEEK_ZIP = base64.b64decode(
    "H4sDBBQAAAAAAMlRg107ifaLBgAAAAYAAAAEAAAAYS5weXggPSAxClBLAwQUAAAAAADJUYNdpuQ0XRYAAAAWAAAACAAAAHBrZy9iLnB5ZGVmIAAAAHBrZy9iLnB5dGVmIGYoKToKICAgIHJldHVybiAyClBLAwQUAAAAAADJUYNdXQmHawYAAAAGAAAACAAAAC4uL3VwLnB5eSA9IDIKUEsBAhQDFAAAAAAAyVGDXTuJ9osGAAAABgAAAAQAAAAAAAAAAAAAAIABAAAAAGEucHlQSwECFAMUAAAAAADJUYNdpuQ0TRYAAAAWAAAACAAAAAAAAAAAAAAAgAEoAAAAcGtnL2IucHlQSwECFAMUAAAAAADJUYNdXQmHawYAAAAGAAAACAAAAAAAAAAAAAAAgAFkAAAALi8udXBwLnlQSwUGAAAAAAMAAwCeAAAAZigpOgogICAgcmV0dXJuIDIKUEsDBBQAAAAAAMlRg11dCYdrBgAAAAYAAAAIAAAALi4vdXAucHl5ID0gMgpQSwECFAMUAAAAAAABAhQDFAAAAAAAyVGDXclRg107ifaLBgAAAAYAAAAEAAAAAAAAAAAAAAAAAAAAgJAAAAAAAA=="
)


def test_zip_member_at_a_negative_offset_is_refused_cleanly() -> None:
    with tempfile.TemporaryDirectory() as tmp, pytest.raises(ProblemError) as refused:
        stage_upload(io.BytesIO(NEGATIVE_SEEK_ZIP), size=len(NEGATIVE_SEEK_ZIP), filename="up.zip",
                     path=None, workdir=Path(tmp), limits=SMALL)  # fmt: skip
    assert refused.value.status == 400, refused.value


#: A zip atheris forged whose zip64 record offset overflows a seek (OverflowError).
OVERFLOW_SEEK_ZIP = base64.b64decode(
    "UEsDS1BLBgcLBBQA/xQALv//////////UEsFBv//////////////MAqwUAAAACk="
)


def test_zip_with_an_overflowing_offset_is_refused_cleanly() -> None:
    with tempfile.TemporaryDirectory() as tmp, pytest.raises(ProblemError) as refused:
        stage_upload(io.BytesIO(OVERFLOW_SEEK_ZIP), size=len(OVERFLOW_SEEK_ZIP), filename="up.zip",
                     path=None, workdir=Path(tmp), limits=SMALL)  # fmt: skip
    assert refused.value.status == 400, refused.value
