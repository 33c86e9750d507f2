"""``pyforge push``: pack a tree as git would track it, upload it, wait for its analysis."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import typer

from pyforge.commands.client.api import (
    _TERMINAL,
    ALWAYS_SKIP,
    EXIT_FAILED,
    EXIT_OK,
    ApiClient,
    _client,
    _fail,
    _handle_errors,
    _parse_uuid,
    _print_json,
    _stderr,
)
from pyforge.commands.client.findings import _render_summary, _severity_rank

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

#: The ``.gitignore`` specs in force in a directory: (directory relative to the root, spec).
_Specs = tuple[tuple[str, "GitIgnoreSpec"], ...]


def collect_files(root: Path) -> list[tuple[Path, str]]:
    """The files of the tree at ``root`` that git would track: ``(path, archive name)`` pairs.

    Every ``.gitignore`` applies to its directory and below, deeper files overriding shallower
    ones (a ``!pattern`` re-includes), as git does; an ignored directory is not entered, so
    nothing inside it can be re-included, also as git does. :data:`ALWAYS_SKIP` directories
    and symbolic links are never included (a link could carry a file from outside the tree).
    """
    found: list[tuple[Path, str]] = []
    _collect(root, "", (), found)
    return found


def _collect(directory: Path, rel_dir: str, specs: _Specs, found: list[tuple[Path, str]]) -> None:
    """Add the files under ``directory`` (``rel_dir`` in the archive) that are not ignored."""
    specs = (*specs, *_gitignore(directory, rel_dir))
    with os.scandir(directory) as entries:
        ordered = sorted(entries, key=lambda e: e.name)
    for entry in ordered:
        if entry.name in ALWAYS_SKIP or entry.is_symlink():
            continue
        rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
        if entry.is_dir():
            if not _ignored(rel, True, specs):
                _collect(Path(entry.path), rel, specs, found)
        elif entry.is_file() and not _ignored(rel, False, specs):
            found.append((Path(entry.path), rel))


def _gitignore(directory: Path, rel_dir: str) -> _Specs:
    """The spec of ``directory``'s own ``.gitignore`` (none when absent or a link)."""
    from pathspec import GitIgnoreSpec

    gitignore = directory / ".gitignore"
    if not gitignore.is_file() or gitignore.is_symlink():
        return ()
    lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
    return ((rel_dir, GitIgnoreSpec.from_lines(lines)),)


def _ignored(rel: str, is_dir: bool, specs: _Specs) -> bool:
    """Whether the deepest ``.gitignore`` rule matching ``rel`` excludes it."""
    verdict: bool | None = None
    for base, spec in specs:
        sub = rel[len(base) + 1 :] if base else rel
        result = spec.check_file(sub + "/" if is_dir else sub)
        if result.include is not None:
            verdict = result.include
    return bool(verdict)


def pack(root: Path, out: IO[bytes]) -> int:
    """Write the tree at ``root`` (see :func:`collect_files`) to ``out`` as a .tar.gz.

    Owners and timestamps are normalised so that the same tree packs to the same archive.
    Returns the number of files.
    """
    import tarfile

    files = collect_files(root)
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for path, name in files:
            info = tarfile.TarInfo(name)
            try:
                with path.open("rb") as fh:
                    info.size = os.fstat(fh.fileno()).st_size
                    info.mode = 0o644
                    tar.addfile(info, fh)
            except OSError as exc:
                _fail(f"cannot read {path}: {exc.strerror or exc}")
    return len(files)


def _poll(
    api: ApiClient, analysis_id: str, *, interval: float, timeout: float, show: bool
) -> dict[str, Any]:
    """Poll the analysis until it finishes, showing a progress bar on stderr."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("files"), TimeElapsedColumn(), console=_stderr(), disable=not show,
        transient=False,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    with progress:
        task = progress.add_task("queued", total=None)
        while True:
            analysis: dict[str, Any] = api.json("GET", f"/api/v1/analyses/{analysis_id}")
            status = str(analysis.get("status"))
            counts = analysis.get("progress") or {}
            total = counts.get("files_total")
            done = counts.get("files_done") or 0
            progress.update(
                task,
                description=status,
                total=total if isinstance(total, int) and total > 0 else None,
                completed=done,
            )
            if status in _TERMINAL:
                if status == "succeeded" and isinstance(total, int):
                    progress.update(task, completed=total)
                return analysis
            if time.monotonic() > deadline:
                _fail(
                    f"analysis {analysis_id} did not finish within {timeout:g} s "
                    f"(still {status}); follow it with: pyforge findings {analysis_id}"
                )
            time.sleep(interval)


def _queue(
    api: ApiClient, pid: str, archive: IO[bytes], on: _BranchOptions
) -> dict[str, Any]:
    """Upload the packed tree and queue its analysis: as the project's files (no branch), or
    as a branch / pull request compared with its target."""
    err = _stderr()
    if on.branch is None:
        upload = api.json(
            "POST",
            f"/api/v1/projects/{pid}/files",
            files={"file": ("tree.tar.gz", archive, "application/gzip")},
            data={"replace": "true"},
            rewind=archive,
        )
        err.print(
            f"uploaded: {upload.get('added', 0)} added, {upload.get('updated', 0)} updated, "
            f"{upload.get('unchanged', 0)} unchanged, {upload.get('deleted', 0)} deleted"
        )
        body = {"version": on.version} if on.version else None
        queued: dict[str, Any] = api.json("POST", f"/api/v1/projects/{pid}/analyses", json=body)
        return queued
    form = {"branch": on.branch, "target": on.target, "pull_request": on.pull_request,
            "version": on.version}  # fmt: skip
    queued = api.json(
        "POST",
        f"/api/v1/projects/{pid}/branch-analyses",
        files={"file": ("tree.tar.gz", archive, "application/gzip")},
        data={k: v for k, v in form.items() if v},
        rewind=archive,
    )
    what = f"pull request {on.pull_request} of " if on.pull_request else ""
    err.print(f"uploaded {what}branch {on.branch}")
    return queued


class _BranchOptions:
    """What ``--branch``, ``--target``, ``--pr`` and ``--version`` ask for."""

    def __init__(
        self, branch: str | None, target: str | None, pull_request: str | None,
        version: str | None,
    ) -> None:  # fmt: skip
        if (target or pull_request) and not branch:
            _fail("--target and --pr need --branch")
        self.branch, self.target = branch, target
        self.pull_request, self.version = pull_request, version


def _top_findings(api: ApiClient, analysis: dict[str, Any], top: int, on_branch: bool) -> list[Any]:
    """The most severe findings (on a branch: those its change introduces)."""
    if analysis.get("status") != "succeeded" or not top:
        return []
    params: dict[str, Any] = {"limit": 100}
    if on_branch:
        params["new_code"] = "new"
    # The server pages findings in its own order; ask for a generous page and rank here so
    # "top" means the most severe.
    page = api.json("GET", f"/api/v1/analyses/{analysis['id']}/findings", params=params)
    return sorted(page.get("items", []), key=_severity_rank)[:top]


def _print_new_code(analysis: dict[str, Any]) -> None:
    new_code = analysis.get("new_code") or {}
    counts = new_code.get("findings") or {}
    if counts:
        typer.echo(
            f"new code: {counts.get('new', 0)} new, {counts.get('fixed', 0)} fixed, "
            f"{counts.get('inherited', 0)} inherited finding(s)"
        )


@_handle_errors
def push(
    path: Path = typer.Argument(Path(), help="The project tree to upload (default: here)."),
    project: str = typer.Option(..., "--project", "-p", help="The project's id."),
    branch: str | None = typer.Option(
        None, "--branch", "-b", help="Analyse as this branch (gate on new code)."
    ),
    target: str | None = typer.Option(
        None, "--target", help="The branch it merges into (default: the default branch)."
    ),
    pull_request: str | None = typer.Option(None, "--pr", help="The pull request's number."),
    version: str | None = typer.Option(None, "--version", help="A version label."),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait for the analysis."),
    timeout: float = typer.Option(1800.0, min=1, help="Seconds to wait for the analysis."),
    poll_interval: float = typer.Option(1.0, min=0.05, help="Seconds between status checks."),
    top: int = typer.Option(10, min=0, help="Most severe findings to list."),
    as_json: bool = typer.Option(False, "--json", help="Print the analysis as JSON."),
) -> None:
    """Upload a tree (honouring .gitignore) and analyse it: as the project's files, or with
    ``--branch`` as a branch or pull request compared with its target.

    Exits 0 when the quality gate passes (a branch's: on new code), 1 when it fails or the
    analysis fails.
    """
    pid = _parse_uuid(project, "project id")
    on = _BranchOptions(branch, target, pull_request, version)
    root = path.expanduser()
    if not root.is_dir():
        _fail(f"{path} is not a directory")
    api = _client()
    err = _stderr()
    with api, tempfile.TemporaryFile() as archive:
        # Asked before packing, so that a wrong id or an expired login costs no upload.
        api.json("GET", f"/api/v1/projects/{pid}")
        count = pack(root, archive)
        if count == 0:
            _fail(f"nothing to upload: every file under {path} is ignored")
        size = archive.tell()
        archive.seek(0)
        err.print(f"uploading {count} file(s) ({size / 1024:.1f} KiB)")
        queued = _queue(api, str(pid), archive, on)
        analysis_id = str(queued["id"])
        if not wait:
            if as_json:
                _print_json(queued)
            else:
                typer.echo(analysis_id)
            return
        err.print(f"analysis {analysis_id} queued")
        try:
            analysis = _poll(
                api, analysis_id, interval=poll_interval, timeout=timeout, show=not as_json
            )
        except KeyboardInterrupt:
            typer.echo(
                f"interrupted; the analysis goes on: pyforge findings {analysis_id}", err=True
            )
            raise typer.Exit(130) from None
        findings = _top_findings(api, analysis, top, on.branch is not None)
    _report(analysis, findings, as_json)


def _report(analysis: dict[str, Any], findings: list[Any], as_json: bool) -> None:
    """Print the outcome and exit by the gate (0 passed, 1 failed)."""
    if as_json:
        _print_json(analysis)
    else:
        _render_summary(analysis, findings)
        _print_new_code(analysis)
    if analysis.get("status") == "failed":
        _fail(f"analysis failed: {analysis.get('error') or 'no reason given'}", EXIT_FAILED)
    gate = analysis.get("quality_gate") or {}
    raise typer.Exit(EXIT_OK if gate.get("status", "passed") == "passed" else EXIT_FAILED)
