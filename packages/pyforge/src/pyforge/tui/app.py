"""The terminal UI: projects → analyses → findings (with a search box) → an annotated file.

Keyboard: arrows/Enter to move and open, ``/`` to search, ``s`` to cycle the severity filter,
Escape to go back, ``q`` to quit. Data is fetched in a thread so the screen stays responsive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from rich.syntax import Syntax
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from pyforge.tui.sources import SEVERITY_ORDER, Finding, Source, SourceError

T = TypeVar("T")
SEVERITY_STYLE = {"blocker": "bold white on dark_red", "critical": "bold red", "major": "yellow",
                  "minor": "cyan", "info": "dim"}  # fmt: skip


async def fetch(screen: Screen[Any], call: Callable[[], T]) -> T | None:
    """``call()`` in a thread; a :class:`SourceError` becomes a notification and None."""
    try:
        return await asyncio.to_thread(call)
    except SourceError as exc:
        screen.notify(str(exc), severity="error", timeout=8)
        return None


class ProjectsScreen(Screen[None]):
    """The server's projects."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.quit", "Quit")]

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        """Header, the projects table, footer."""
        yield Header()
        yield DataTable(id="projects", cursor_type="row")
        yield Footer()

    async def on_mount(self) -> None:
        """Load the projects."""
        table = self.query_one(DataTable)
        table.add_columns("Project", "Visibility", "Role", "Description")
        self.rows = await fetch(self, self.source.projects) or []
        for p in self.rows:
            table.add_row(p["name"], "public" if p.get("is_public") else "private",
                          p.get("role") or "", p.get("description") or "")  # fmt: skip
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Open the chosen project's analyses."""
        project = self.rows[event.cursor_row]
        self.app.push_screen(AnalysesScreen(self.source, project))


class AnalysesScreen(Screen[None]):
    """A project's analyses."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, source: Source, project: dict[str, Any]) -> None:
        super().__init__()
        self.source, self.project = source, project
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        """Header, the analyses table, footer."""
        yield Header()
        yield Static(f"Analyses of {self.project['name']}", classes="title")
        yield DataTable(id="analyses", cursor_type="row")
        yield Footer()

    async def on_mount(self) -> None:
        """Load the analyses."""
        table = self.query_one(DataTable)
        table.add_columns("Started", "Status", "Files", "Gate", "New", "Fixed")
        self.rows = await fetch(self, lambda: self.source.analyses(str(self.project["id"]))) or []
        for a in self.rows:
            gate = (a.get("quality_gate") or {}).get("status", "—")
            progress = a.get("progress") or {}
            files = f"{progress.get('files_done', 0)}/{progress.get('files_total', 0)}"
            started = str(a["created_at"])[:19].replace("T", " ")
            new, fixed = str(a.get("new_findings", 0)), str(a.get("fixed_findings", 0))
            table.add_row(started, a["status"], files, gate, new, fixed)
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Open the chosen analysis' findings."""
        analysis = self.rows[event.cursor_row]
        self.app.push_screen(
            FindingsScreen(self.source, str(self.project["id"]), str(analysis["id"]))
        )


class FindingsScreen(Screen[None]):
    """Findings with a search box and a severity filter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("slash", "search", "Search"),
        Binding("s", "cycle_severity", "Severity"),
    ]

    def __init__(self, source: Source, project_id: str | None, analysis_id: str | None) -> None:
        super().__init__()
        self.source, self.project_id, self.analysis_id = source, project_id, analysis_id
        self.all: list[Finding] = []
        self.shown: list[Finding] = []
        self.severity: str | None = None

    def compose(self) -> ComposeResult:
        """Header, search box, status line, findings table, footer."""
        yield Header()
        yield Input(placeholder="Search rule, message or path (press / to focus)", id="search")
        yield Static("", id="status")
        yield DataTable(id="findings", cursor_type="row")
        yield Footer()

    async def on_mount(self) -> None:
        """Load the findings."""
        table = self.query_one(DataTable)
        table.add_columns("Severity", "Rule", "Location", "Message")
        self.all = await fetch(self, lambda: self.source.findings(self.analysis_id)) or []
        self.refilter()
        table.focus()

    def refilter(self) -> None:
        """Show the findings that match the search text and the severity filter."""
        text = self.query_one("#search", Input).value
        self.shown = [f for f in self.all if f.matches(text)
                      and (self.severity is None or f.severity == self.severity)]  # fmt: skip
        table = self.query_one(DataTable)
        table.clear()
        for f in self.shown:
            table.add_row(Text(f.severity, style=SEVERITY_STYLE.get(f.severity, "")), f.rule,
                          f"{f.path}:{f.line}", f.message)  # fmt: skip
        label = f" · severity {self.severity}" if self.severity else ""
        self.query_one("#status", Static).update(
            f"{len(self.shown)} of {len(self.all)} findings{label}"
        )

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the user types."""
        self.refilter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the search box moves to the table."""
        self.query_one(DataTable).focus()

    def action_search(self) -> None:
        """Focus the search box."""
        self.query_one("#search", Input).focus()

    def action_cycle_severity(self) -> None:
        """No filter → blocker → critical → … → info → no filter."""
        order: list[str | None] = [None, *SEVERITY_ORDER]
        self.severity = order[(order.index(self.severity) + 1) % len(order)]
        self.refilter()

    def action_back(self) -> None:
        """Leave the search box, else go back (or quit on the first screen)."""
        if self.focused is self.query_one("#search", Input):
            self.query_one(DataTable).focus()
        elif len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            self.app.exit()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Open the finding's file at its line."""
        finding = self.shown[event.cursor_row]
        same_file = [f for f in self.all if f.path == finding.path]
        self.app.push_screen(FileScreen(self.source, self.project_id, finding, same_file))


class FileScreen(Screen[None]):
    """A file with its findings written under their lines."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, source: Source, project_id: str | None, focus: Finding,
                 findings: list[Finding]) -> None:  # fmt: skip
        super().__init__()
        self.source, self.project_id, self.focus_finding = source, project_id, focus
        self.findings = findings

    def compose(self) -> ComposeResult:
        """Header, the annotated code, footer."""
        yield Header()
        yield Static(self.focus_finding.path, classes="title")
        with VerticalScroll(id="code-scroll"):
            yield Static("Loading…", id="code")
        yield Footer()

    async def on_mount(self) -> None:
        """Load, highlight and annotate the file; scroll to the finding's line."""
        lines = await fetch(
            self, lambda: self.source.lines(self.project_id, self.focus_finding.path)
        )
        if lines is None:
            self.query_one("#code", Static).update("(file not available)")
            return
        text, row_of = annotate(lines, self.findings)
        self.query_one("#code", Static).update(text)
        target = row_of.get(self.focus_finding.line, 0)
        self.call_after_refresh(
            lambda: self.query_one("#code-scroll", VerticalScroll).scroll_to(
                y=max(0, target - 5), animate=False
            )
        )


def annotate(lines: list[str], findings: list[Finding]) -> tuple[Text, dict[int, int]]:
    """The code highlighted, a finding line under each flagged line, and each line's row."""
    highlighted = Syntax("\n".join(lines), "python", theme="ansi_dark").highlight("\n".join(lines))
    by_line: dict[int, list[Finding]] = {}
    for f in findings:
        by_line.setdefault(f.line, []).append(f)
    out = Text()
    row_of: dict[int, int] = {}
    row = 0
    width = len(str(len(lines)))
    for number, line in enumerate(highlighted.split("\n", allow_blank=True), start=1):
        if number > len(lines):
            break
        row_of[number] = row
        out.append(f"{number:>{width}} │ ", style="dim")
        out.append_text(line)
        out.append("\n")
        row += 1
        for f in by_line.get(number, []):
            out.append(" " * width + " ▲ ", style="bold")
            out.append(f" {f.severity} ", style=SEVERITY_STYLE.get(f.severity, ""))
            out.append(f" {f.rule}: {f.message}\n")
            row += 1
    return out, row_of


class PyForgeTUI(App[None]):
    """``pyforge tui``."""

    TITLE = "PyForge"
    CSS = """
    .title { padding: 0 1; text-style: bold; }
    #status { padding: 0 1; color: $text-muted; }
    #search { margin: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit")]

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source

    def on_mount(self) -> None:
        """Start on the projects (server) or straight on the report's findings."""
        self.sub_title = self.source.title
        if self.source.has_projects:
            self.push_screen(ProjectsScreen(self.source))
        else:
            self.push_screen(FindingsScreen(self.source, None, None))
