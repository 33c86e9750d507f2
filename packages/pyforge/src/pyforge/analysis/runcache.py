"""Run-level cache: a re-run over an unchanged tree is a stat walk and one file read.

The per-file cache (:mod:`pyforge.analysis.cache`) still has to rebuild every file's report and
render the whole output; this one stores the rendered output of a ``pyforge analyze`` run (for
the formats that show no timing, and for JSON with its ``duration_s`` and ``cache_hits`` filled
in afresh) together with a manifest of everything the result depends on:

* every analysed file as (path, size, mtime_ns, sha256), its stat taken before it was read;
* the configuration files, the ``.gitignore`` files and configuration files looked for (a
  missing one must stay missing), the baseline;
* the directories walked (mtime and a digest of their listing: an added or deleted file);
* PyForge's own code and the analyzer plugins' (module files), the ruff executable, and the
  interpreter's package directories (a plugin installed or removed).

A file whose stat differs is hashed again: a touched but identical file still hits. An mtime
within :data:`RACY_NS` of the run's start (or later) proves nothing: the file was read around
then, and an edit within the clock's granularity leaves the same mtime, so such files are always
hashed. The window is counted from the start of the run, when the files were stat'ed and read,
not from the entry's writing at its end: a long run would otherwise trust a same-size edit made
while it ran. The entry's name hashes the command line (paths, root,
configuration file, baseline, format), the interpreter and PyForge's version. ``--no-cache``
and ``--changed-since`` (which depends on git's state) bypass it.

Lookups import the standard library only (and :mod:`pyforge.analysis.locate`): the engine is
not imported when the cache answers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from pyforge import __version__
from pyforge.analysis.locate import (
    absolute,
    config_candidates,
    find_config,
    read_table,
    resolve_root,
)

if TYPE_CHECKING:
    from pyforge.analysis.report import AnalysisReport

#: Thousands of stats per lookup: plain strings, no Path objects.
_stat = os.stat
RUN_FORMAT = "run2"
FORMATS = ("json", "sarif", "markdown")
RACY_NS = 2_000_000_000
#: A dependency modified this close to (or after) the run's start may have changed during it.
_MARGIN_NS = 100_000_000
# Rendered in place of the time-dependent values; the first occurrence is the summary's (the
# keys before it hold strings, whose quotes JSON escapes).
_SENTINEL_DURATION = 9876543210.125
_SENTINEL_HITS = 987654321987
MARKER = f'"duration_s": {_SENTINEL_DURATION!r}, "cache_hits": {_SENTINEL_HITS}'


class Hit:
    """A usable entry: the rendered output and what to fill in."""

    __slots__ = ("blob", "hits", "passed")

    def __init__(self, blob: Path, hits: int, passed: bool) -> None:
        self.blob, self.hits, self.passed = blob, hits, passed


def _sha_file(path: str) -> str:
    with open(path, "rb") as fh:  # noqa: PTH123 - hot path, no Path object needed
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _listing(path: str) -> str:
    entries = []
    with os.scandir(path) as it:
        for e in it:
            kind = "l" if e.is_symlink() else "d" if e.is_dir() else "f"
            entries.append(f"{kind}{e.name}")
    entries.sort()
    return hashlib.sha256("\0".join(entries).encode("utf-8", "surrogateescape")).hexdigest()


def entry_path(
    paths: Sequence[str], *, config_file: Path | None, cache_dir: Path | None,
    baseline: Path | None, fmt: str,
) -> Path:  # fmt: skip
    """Where the entry for this command line lives (raises for bad input: fall back then)."""
    from pyforge.analysis.cache import CACHE_FORMAT, DEFAULT_CACHE_DIR

    targets = [Path(p) for p in paths] or [Path()]
    source = config_file or find_config(targets[0].resolve())
    root = resolve_root(targets, source)
    directory = (cache_dir or root / DEFAULT_CACHE_DIR) / CACHE_FORMAT / "run"
    parts = [
        RUN_FORMAT, __version__, sys.version, sys.executable, str(root), fmt,
        str(absolute(source)) if source is not None else "",
        str(absolute(baseline)) if baseline is not None else "",
        *(str(absolute(t)) for t in targets),
    ]  # fmt: skip
    key = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogateescape")).hexdigest()
    return directory / f"{key}.json"


def searched_configs(paths: Sequence[str], config_file: Path | None) -> list[str]:
    """The configuration files looked for before the one found (none with ``--config``)."""
    if config_file is not None:
        return []
    start = ([Path(p) for p in paths] or [Path()])[0].resolve()
    out = []
    for candidate in config_candidates(start):
        out.append(str(candidate))
        if candidate.is_file() and read_table(candidate) is not None:
            break
    return out


def lookup(entry: Path) -> Hit | None:
    """The entry's output when nothing it depends on changed, else None."""
    try:
        manifest = json.loads(entry.read_bytes())
        if manifest.get("format") != RUN_FORMAT:
            return None
        # From the run's start: a file read then and edited a moment later (same size, same
        # coarse mtime) must be hashed, however long the run took to finish.
        racy_from = min(int(manifest["started_ns"]), int(manifest["written_ns"])) - RACY_NS
        for path, size, mtime_ns, sha in manifest["files"]:
            try:
                st = _stat(path)
            except FileNotFoundError:
                if sha is None:
                    continue  # must be missing, and is
                return None
            if sha is None:
                return None  # appeared
            if st.st_size != size:
                return None
            if sha == "":
                continue  # skipped for its size: only the size matters
            if (st.st_mtime_ns != mtime_ns or mtime_ns >= racy_from) and _sha_file(path) != sha:
                return None
        for path, mtime_ns, digest in manifest["dirs"]:
            st = _stat(path)
            if (st.st_mtime_ns != mtime_ns or mtime_ns >= racy_from) and _listing(path) != digest:
                return None
        blob = entry.with_name(str(manifest["blob"]))
        if not blob.is_file():
            return None
        return Hit(blob, int(manifest["hits"]), bool(manifest["passed"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def fill(text: str, duration_s: float, cache_hits: int) -> str:
    """The rendered output with the time-dependent values put in."""
    return text.replace(MARKER, _values(duration_s, cache_hits), 1)


def _values(duration_s: float, cache_hits: int) -> str:
    return f'"duration_s": {round(duration_s, 3)!r}, "cache_hits": {cache_hits}'


def serve(hit: Hit, out: BinaryIO, duration_s: float, data: bytes | None = None) -> None:
    """Write the cached output (``data``, read here when None) with the time-dependent values
    put in."""
    if data is None:
        data = hit.blob.read_bytes()
    marker = MARKER.encode()
    at = data.find(marker)
    if at < 0:
        out.write(data)
        return
    view = memoryview(data)
    out.write(view[:at])
    out.write(_values(duration_s, hit.hits).encode())
    out.write(view[at + len(marker) :])


def render_template(report: AnalysisReport, render: Any, fmt: str) -> str:
    """Render ``report`` with placeholders for its time-dependent values."""
    import io

    saved = report.duration_s, report.cache_hits
    report.duration_s, report.cache_hits = _SENTINEL_DURATION, _SENTINEL_HITS
    try:
        buf = io.StringIO()
        render(report, fmt, buf)
        return buf.getvalue()
    finally:
        report.duration_s, report.cache_hits = saved


def _code_files() -> list[str]:
    """The module files of PyForge and of the installed analyzer plugins."""
    from pyforge.analysis.plugins import entry_points
    from pyforge.analysis.registry import ENTRY_POINT_GROUP

    tops = {"pyforge"} | {
        ep.value.split(":", 1)[0].split(".", 1)[0] for ep in entry_points(ENTRY_POINT_GROUP)
    }
    out = set()
    for name, module in list(sys.modules.items()):
        if name.split(".", 1)[0] in tops:
            file = getattr(module, "__file__", None)
            if isinstance(file, str):
                out.add(os.path.abspath(file))  # noqa: PTH100
    with contextlib.suppress(Exception):
        from pyforge.analysis.ruff import find_ruff

        ruff = find_ruff()
        if ruff:
            out.add(os.path.abspath(ruff))  # noqa: PTH100
    return sorted(out)


def _package_dirs() -> list[str]:
    cwd = os.getcwd()  # noqa: PTH109
    return sorted(
        {os.path.abspath(p) for p in sys.path if p and os.path.isdir(p)} - {cwd}  # noqa: PTH100, PTH112
    )


def store(
    entry: Path, report: AnalysisReport, text: str, *, passed: bool, started_ns: int,
    searched: Sequence[str] = (),
) -> None:  # fmt: skip
    """Record the run's output and what it depends on; best-effort, never raises.

    ``searched`` are the configuration files looked for on the way to the one used (they must
    stay absent, or unchanged). Nothing is stored when a dependency changed during the run
    (modified after ``started_ns``): the output may then match neither its old nor its new
    content.
    """
    inputs = report.inputs
    if inputs is None or not inputs.complete:
        return
    if sys.platform == "win32" or "\r" in os.linesep:
        return  # the output is written as bytes; keep it simple where newlines differ
    try:
        limit = started_ns - _MARGIN_NS
        files: list[list[Any]] = [[p, size, m, sha] for p, size, m, sha in inputs.files]
        watched: Iterable[str] = [*searched, *inputs.watched, *_code_files()]
        for path in dict.fromkeys(watched):
            try:
                st = _stat(path)
            except FileNotFoundError:
                files.append([path, 0, 0, None])
                continue
            if st.st_mtime_ns >= limit:
                return
            files.append([path, st.st_size, st.st_mtime_ns, _sha_file(path)])
            if _stat(path).st_mtime_ns != st.st_mtime_ns:
                return
        dirs: list[list[Any]] = []
        for path in dict.fromkeys([*inputs.dirs, *_package_dirs()]):
            st = _stat(path)
            if st.st_mtime_ns >= limit:
                return
            dirs.append([path, st.st_mtime_ns, _listing(path)])
        entry.parent.mkdir(parents=True, exist_ok=True)
        token = hashlib.sha256(os.urandom(16)).hexdigest()[:16]
        blob = entry.with_name(f"{entry.stem}-{token}.out")
        blob.write_text(text, encoding="utf-8")
        old_blob = None
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            old_blob = str(json.loads(entry.read_bytes())["blob"])
        manifest = {
            "format": RUN_FORMAT, "started_ns": started_ns, "written_ns": time.time_ns(),
            # A re-run takes every file it hashes from the per-file cache.
            "hits": sum(1 for f in inputs.files if f[3]),
            "passed": passed, "blob": blob.name, "files": files, "dirs": dirs,
        }  # fmt: skip
        tmp = entry.with_name(f"{entry.stem}-{token}.tmp")
        tmp.write_text(json.dumps(manifest, separators=(",", ":")), encoding="utf-8")
        tmp.replace(entry)
        if old_blob and old_blob != blob.name:
            with contextlib.suppress(OSError):
                entry.with_name(old_blob).unlink()
    except (OSError, ValueError):
        return


_VALUE_OPTIONS = {
    "--format": "format", "-f": "format", "--output": "output", "-o": "output",
    "--cache-dir": "cache_dir", "--config": "config", "--baseline": "baseline",
    "--jobs": "jobs", "-j": "jobs",
}  # fmt: skip


#: The command line :func:`fast_main` just looked up without a hit, and its entry: the full
#: command that runs next in the same process takes the entry from here rather than
#: computing it (and looking it up) again.
_missed: tuple[tuple[str, ...], Path] | None = None


def missed_entry(argv: Sequence[str]) -> Path | None:
    """The entry :func:`fast_main` computed for this very command line and found no hit
    under (then taken: a second call returns None)."""
    global _missed
    found, _missed = _missed, None
    if found is None or found[0] != tuple(argv):
        return None
    return found[1]


def answer(
    paths: Sequence[str], *, fmt: str, output: Path | None, config_file: Path | None,
    cache_dir: Path | None, baseline: Path | None, started: float, entry: Path | None = None,
    argv: Sequence[str] | None = None,
) -> int | None:  # fmt: skip
    """Serve ``pyforge analyze`` from the run cache: the exit code, or None on a miss (then
    nothing was written and the caller analyses as usual). ``entry`` is the command line's
    :func:`entry_path`, when the caller has it already (it is computed otherwise); with
    ``argv``, a miss is remembered for :func:`missed_entry`."""
    global _missed
    if fmt not in FORMATS:
        return None
    from pyforge.analysis.locate import ConfigError

    if entry is None:
        try:
            entry = entry_path(paths, config_file=config_file, cache_dir=cache_dir,
                               baseline=baseline, fmt=fmt)  # fmt: skip
        except (OSError, ValueError, ConfigError):
            return None
    hit = lookup(entry)
    if hit is None:
        if argv is not None:
            _missed = (tuple(argv), entry)
        return None
    try:
        data = hit.blob.read_bytes()
        fh = output.open("wb") if output is not None else None
    except OSError:
        return None  # the normal path reports the error
    duration = time.perf_counter() - started
    if fh is not None:
        with fh:
            serve(hit, fh, duration, data)
        return 0 if hit.passed else 1
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (a test runner's)
        sys.stdout.write(fill(data.decode("utf-8"), duration, hit.hits))
    else:
        sys.stdout.flush()
        serve(hit, buffer, duration, data)
        buffer.flush()
    return 0 if hit.passed else 1


def fast_main(argv: Sequence[str]) -> int | None:
    """``analyze`` answered from the run cache before the CLI framework is even imported.

    Only a plain command line is understood (``analyze``, paths, and the options
    ``--format/-f``, ``--output/-o``, ``--cache-dir``, ``--config``, ``--baseline``,
    ``--jobs/-j``, each given once); anything else returns None for the full CLI to handle.
    """
    started = time.perf_counter()
    if not argv or argv[0] != "analyze":
        return None
    paths: list[str] = []
    opts: dict[str, str] = {}
    args = list(argv[1:])
    while args:
        arg = args.pop(0)
        if not arg.startswith("-"):
            paths.append(arg)
            continue
        name, eq, value = arg.partition("=")
        key = _VALUE_OPTIONS.get(name)
        if key is None or key in opts or (eq and not name.startswith("--")):
            return None
        if not eq:
            if not args:
                return None
            value = args.pop(0)
        if not value or value.startswith("-"):
            return None
        opts[key] = value
    jobs = opts.get("jobs")
    if jobs is not None and not (jobs.isdigit() and int(jobs) >= 1):
        return None

    def path(key: str) -> Path | None:
        return Path(opts[key]) if key in opts else None

    return answer(
        paths, fmt=opts.get("format", "table"), output=path("output"),
        config_file=path("config"), cache_dir=path("cache_dir"), baseline=path("baseline"),
        started=started, argv=argv,
    )  # fmt: skip
