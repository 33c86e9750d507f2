"""Where the TUI's data comes from: a local JSON report, or a server through the CLI's client.

Both answer the same questions (projects, analyses, findings, a file's lines), so the screens
do not know which one they show. Calls are synchronous; the app runs them in a thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

SEVERITY_ORDER = ("blocker", "critical", "major", "minor", "info")


class SourceError(Exception):
    """A report that cannot be read, or a server that refused: one line for the user."""


@dataclass(frozen=True)
class Finding:
    """One finding as the TUI lists it."""

    rule: str
    severity: str
    category: str
    message: str
    path: str
    line: int
    status: str = ""
    resolution: str = "open"

    def matches(self, text: str) -> bool:
        """True when ``text`` (case-insensitive) is in the rule, message, path or category."""
        needle = text.strip().lower()
        hay = f"{self.rule} {self.message} {self.path} {self.category} {self.severity}".lower()
        return not needle or all(part in hay for part in needle.split())

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        """From a report's or the API's finding object."""
        return cls(
            rule=str(data["rule"]), severity=str(data["severity"]),
            category=str(data.get("category", "")), message=str(data["message"]),
            path=str(data["path"]), line=int(data.get("line", 1)),
            status=str(data.get("status", "")), resolution=str(data.get("resolution", "open")),
        )  # fmt: skip


class Source(Protocol):
    """What the screens ask for."""

    title: str
    has_projects: bool

    def projects(self) -> list[dict[str, Any]]:
        """Projects the user can read (server only)."""
        ...

    def analyses(self, project_id: str) -> list[dict[str, Any]]:
        """A project's analyses, newest first (server only)."""
        ...

    def findings(self, analysis_id: str | None) -> list[Finding]:
        """Findings of an analysis (the report's own for a local report)."""
        ...

    def lines(self, project_id: str | None, path: str) -> list[str]:
        """The file's lines (plain text)."""
        ...


def _severity_key(f: Finding) -> tuple[int, str, int]:
    rank = SEVERITY_ORDER.index(f.severity) if f.severity in SEVERITY_ORDER else 9
    return rank, f.path, f.line


class ReportSource:
    """A report written by ``pyforge analyze --format json``; files are read from its root."""

    has_projects = False

    def __init__(self, report: Path) -> None:
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SourceError(f"cannot read {report}: {exc.strerror}") from None
        except ValueError:
            raise SourceError(
                f"{report} is not a JSON report (pyforge analyze --format json)"
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
            raise SourceError(f"{report} is not a PyForge JSON report (no findings list)")
        self.root = Path(str(data.get("root") or report.parent))
        self.title = f"Report of {self.root}"
        self._findings = sorted((Finding.from_json(f) for f in data["findings"]), key=_severity_key)

    def projects(self) -> list[dict[str, Any]]:
        """A report has no projects."""
        return []

    def analyses(self, project_id: str) -> list[dict[str, Any]]:
        """A report is one analysis."""
        return []

    def findings(self, analysis_id: str | None) -> list[Finding]:
        """The report's findings, most severe first."""
        return list(self._findings)

    def lines(self, project_id: str | None, path: str) -> list[str]:
        """The file as it is on disk now (the report may be older than the file)."""
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise SourceError(f"{path} is outside the report's root")
        try:
            return target.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            raise SourceError(f"cannot read {target}: {exc.strerror}") from None


class ServerSource:
    """A PyForge server, through the CLI's client and its stored credentials."""

    has_projects = True

    def __init__(self, client: Any) -> None:
        self.client = client
        self.title = f"PyForge at {client.server}"

    def _json(self, path: str, **params: Any) -> Any:
        from pyforge.commands.client.api import CliError

        try:
            return self.client.json("GET", path, params=params)
        except CliError as exc:
            raise SourceError(exc.message) from None

    def projects(self) -> list[dict[str, Any]]:
        """The projects the user can read, public ones included."""
        page = self._json("/api/v1/projects", limit=100, include_public="true")
        return list(page["items"])

    def analyses(self, project_id: str) -> list[dict[str, Any]]:
        """The project's latest analyses."""
        return list(self._json(f"/api/v1/projects/{project_id}/analyses", limit=50)["items"])

    def findings(self, analysis_id: str | None) -> list[Finding]:
        """Every finding of the analysis (pages of 500), most severe first."""
        if analysis_id is None:
            return []
        found: list[Finding] = []
        while True:
            page = self._json(
                f"/api/v1/analyses/{analysis_id}/findings", limit=500, offset=len(found)
            )
            found += [Finding.from_json(f) for f in page["items"]]
            if len(page["items"]) < 500:
                return sorted(found, key=_severity_key)

    def lines(self, project_id: str | None, path: str) -> list[str]:
        """The file as the server stores it."""
        page = self._json(f"/api/v1/projects/{project_id}/files", prefix=path, limit=100)
        match = next((f for f in page["items"] if f["path"] == path), None)
        if match is None:
            raise SourceError(f"{path} is not in the project's files")
        content = self._json(f"/api/v1/projects/{project_id}/files/{match['id']}")
        if content.get("encoding") != "utf-8" or content.get("content") is None:
            raise SourceError(f"{path} is binary or too large to show")
        return str(content["content"]).splitlines()
