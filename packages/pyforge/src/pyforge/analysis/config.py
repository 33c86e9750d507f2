"""Configuration: ``[tool.pyforge]`` in ``pyproject.toml`` or the top level of ``pyforge.toml``.

Example::

    [tool.pyforge]
    extend = "../../pyproject.toml"   # inherit a parent configuration (monorepo)
    enable = ["mypy"]                  # analyzers added to the default set
    disable = ["duplication"]          # analyzers turned off
    select = ["ALL"]                   # rule-id prefixes to report
    ignore = ["STY-W"]                 # rule-id prefixes (or bare ruff codes) to drop
    exclude = ["migrations/"]          # gitignore-style patterns, relative to the root
    respect_gitignore = true
    max_file_size = 1000000            # bytes; larger files are skipped with a note

    [tool.pyforge.thresholds]
    cyclomatic = 10

    [tool.pyforge.severity]
    "STY-E501" = "info"

    [tool.pyforge.options.style]       # options passed to one analyzer
    line_length = 100

    [[tool.pyforge.overrides]]         # per-path settings, later entries win
    paths = ["tests/**"]
    ignore = ["SEC-S101"]
    thresholds = { cyclomatic = 20 }

    [tool.pyforge.gate]
    fail_on = ["critical", "blocker"]
    max_cyclomatic = 40

Test code is recognised by ``tests`` (gitignore-style patterns; by default pytest's file naming,
``conftest.py`` and ``test``/``tests`` directories). Test files do not get the rules in
``tests_ignore`` (by default ``assert`` and hard-coded test passwords: S101, S105, S106), and
their metrics are summarised apart from the production code's::

    [tool.pyforge]
    tests = ["test_*.py", "*_test.py", "conftest.py", "tests/", "testing/"]
    tests_ignore = ["SEC-S101", "SEC-S105", "SEC-S106", "SEC-S311"]
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyforge.analysis.findings import Severity
from pyforge.analysis.locate import CONFIG_FILES as CONFIG_FILES
from pyforge.analysis.locate import ConfigError as ConfigError
from pyforge.analysis.locate import find_config as find_config
from pyforge.analysis.locate import read_table
from pyforge.analysis.rules import DEFAULT_OFF

if TYPE_CHECKING:
    import pathspec

DEFAULT_MAX_FILE_SIZE = 1_000_000
#: pytest's default file patterns, its conftest files and the usual test directories.
DEFAULT_TEST_PATHS = ("test_*.py", "*_test.py", "conftest.py", "tests/", "test/")
#: Rules that flag test idioms: ``assert`` is how pytest checks, and test passwords are fixtures.
DEFAULT_TEST_IGNORE = ("SEC-S101", "SEC-S105", "SEC-S106")


@dataclass(frozen=True)
class Thresholds:
    """Limits above (or below, for MI) which the complexity and maintainability rules report."""

    cyclomatic: int = 10
    cognitive: int = 15
    nesting: int = 4
    parameters: int = 6
    function_length: int = 80
    maintainability: float = 10.0
    duplicate_lines: int = 6
    duplicate_tokens: int = 60


@dataclass(frozen=True)
class RuleSettings:
    """The settings that decide which findings one file gets (after per-path overrides)."""

    disabled_analyzers: frozenset[str] = frozenset()
    enabled_analyzers: frozenset[str] = frozenset()
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    severity: tuple[tuple[str, Severity], ...] = ()
    thresholds: Thresholds = field(default_factory=Thresholds)
    #: the file is test code (matched by ``tests``); its metrics are summarised apart.
    test: bool = False

    def analyzer_enabled(self, analyzer_id: str, default_enabled: bool) -> bool:
        """Whether an analyzer runs for this file."""
        if analyzer_id in self.disabled_analyzers:
            return False
        return default_enabled or analyzer_id in self.enabled_analyzers

    def rule_enabled(self, rule_id: str) -> bool:
        """Whether ``select``/``ignore`` keep this rule (prefix match on the id or tool code).

        A rule that is off by default runs only when ``select`` names its id.
        """
        if rule_id in DEFAULT_OFF and rule_id not in self.select:
            return False
        return _rule_matches(rule_id, self.select) and not (
            self.ignore and _rule_matches(rule_id, self.ignore)
        )

    def severity_for(self, rule_id: str) -> Severity | None:
        """A configured severity override for the rule, if any."""
        for rid, sev in self.severity:
            if rid == rule_id:
                return sev
        return None

    @cached_property
    def digest(self) -> str:
        """Stable hash of these settings: part of each file's cache key."""
        data = asdict(self)
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=sorted).encode()).hexdigest()


def _default_test_path(relpath: str) -> bool:
    """:data:`DEFAULT_TEST_PATHS` without a pattern matcher (whose import costs start-up)."""
    *dirs, name = relpath.split("/")
    return (
        (name.startswith("test_") and name.endswith(".py"))
        or name.endswith("_test.py")
        or name == "conftest.py"
        or any(d in ("tests", "test") for d in dirs)
    )


def _rule_matches(rule_id: str, patterns: Iterable[str]) -> bool:
    code = rule_id.split("-", 1)[1] if "-" in rule_id else None
    for p in patterns:
        if p == "ALL" or rule_id.startswith(p) or (code is not None and code.startswith(p)):
            return True
    return False


@dataclass(frozen=True)
class GateConfig:
    """Quality-gate conditions; every one set must hold for the gate to pass."""

    fail_on: tuple[Severity, ...] = (Severity.CRITICAL, Severity.BLOCKER)
    max_new_findings: int | None = None
    max_cyclomatic: int | None = None
    max_cognitive: int | None = None
    min_type_coverage: float | None = None
    min_maintainability: float | None = None


@dataclass(frozen=True)
class Override:
    """Settings for the files matching ``paths``."""

    paths: tuple[str, ...]
    spec: pathspec.GitIgnoreSpec
    data: Mapping[str, Any]


@dataclass
class Config:
    """A resolved configuration."""

    root: Path
    source: Path | None = None
    settings: RuleSettings = field(default_factory=RuleSettings)
    overrides: list[Override] = field(default_factory=list)
    exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    gate: GateConfig = field(default_factory=GateConfig)
    tests: tuple[str, ...] = DEFAULT_TEST_PATHS
    tests_ignore: tuple[str, ...] = DEFAULT_TEST_IGNORE
    _per_path: dict[str, RuleSettings] = field(default_factory=dict, repr=False)
    _tests_spec: pathspec.GitIgnoreSpec | None = field(default=None, repr=False, compare=False)
    #: the configuration files read (``source`` and what it extends), for the run cache.
    files: tuple[Path, ...] = field(default=(), repr=False, compare=False)

    def is_test(self, relpath: str) -> bool:
        """Whether the file at ``relpath`` (relative to the root) is test code."""
        if self.tests == DEFAULT_TEST_PATHS:
            return _default_test_path(relpath)
        if self._tests_spec is None:
            import pathspec

            self._tests_spec = pathspec.GitIgnoreSpec.from_lines(self.tests)
        return self._tests_spec.match_file(relpath)

    def settings_for(self, relpath: str) -> RuleSettings:
        """The effective settings for a file: test defaults, then per-path overrides in order."""
        applicable = tuple(i for i, o in enumerate(self.overrides) if o.spec.match_file(relpath))
        test = self.is_test(relpath)
        if not applicable and not test:
            return self.settings
        key = ",".join(map(str, applicable)) + (":test" if test else "")
        cached = self._per_path.get(key)
        if cached is None:
            cached = self.settings
            if test:
                cached = replace(cached, test=True, ignore=cached.ignore + self.tests_ignore)
            for i in applicable:
                cached = _apply_settings(cached, self.overrides[i].data, where="override")
            self._per_path[key] = cached
        return cached

    def options_for(self, analyzer_id: str) -> dict[str, Any]:
        """The ``[tool.pyforge.options.<id>]`` table (empty when absent)."""
        return self.options.get(analyzer_id, {})

    @property
    def digest(self) -> str:
        """Hash of the run-wide settings (analyzer options), part of every cache key."""
        return hashlib.sha256(json.dumps(self.options, sort_keys=True).encode()).hexdigest()


_TOP_KEYS = {
    "extend", "enable", "disable", "select", "ignore", "exclude", "extend_exclude",
    "respect_gitignore", "max_file_size", "thresholds", "severity", "options", "overrides", "gate",
    "tests", "tests_ignore",
}  # fmt: skip
_SETTINGS_KEYS = {"enable", "disable", "select", "ignore", "thresholds", "severity"}


def _str_list(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"'{key}' must be a list of strings")
    return tuple(value)


def _severity(value: Any, key: str) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        choices = ", ".join(s.value for s in Severity)
        raise ConfigError(f"'{key}' must be one of {choices}, not {value!r}") from None


def _apply_settings(base: RuleSettings, data: Mapping[str, Any], *, where: str) -> RuleSettings:
    s = base
    if "enable" in data:
        enabled = frozenset(_str_list(data["enable"], f"{where}.enable"))
        s = replace(
            s,
            enabled_analyzers=s.enabled_analyzers | enabled,
            disabled_analyzers=s.disabled_analyzers - enabled,
        )
    if "disable" in data:
        s = replace(
            s,
            disabled_analyzers=s.disabled_analyzers
            | frozenset(_str_list(data["disable"], f"{where}.disable")),
        )
    if "select" in data:
        s = replace(s, select=_str_list(data["select"], f"{where}.select"))
    if "ignore" in data:
        s = replace(s, ignore=s.ignore + _str_list(data["ignore"], f"{where}.ignore"))
    if "severity" in data:
        table = data["severity"]
        if not isinstance(table, dict):
            raise ConfigError(f"'{where}.severity' must be a table of rule = severity")
        merged = dict(s.severity)
        merged.update({k: _severity(v, f"{where}.severity.{k}") for k, v in table.items()})
        s = replace(s, severity=tuple(sorted(merged.items())))
    if "thresholds" in data:
        table = data["thresholds"]
        known = {f.name: f.type for f in fields(Thresholds)}
        if not isinstance(table, dict):
            raise ConfigError(f"'{where}.thresholds' must be a table")
        for k, v in table.items():
            if k not in known:
                raise ConfigError(f"unknown threshold '{k}' (known: {', '.join(sorted(known))})")
            if not isinstance(v, int | float) or isinstance(v, bool):
                raise ConfigError(f"threshold '{k}' must be a number")
        s = replace(s, thresholds=replace(s.thresholds, **table))
    return s


def _load_chain(
    path: Path, seen: tuple[Path, ...] = (), read: list[Path] | None = None
) -> dict[str, Any]:
    path = path.resolve()
    if path in seen:
        raise ConfigError(f"{path}: 'extend' forms a cycle")
    if read is not None:
        read.append(path)
    table = read_table(path)
    if table is None:
        raise ConfigError(f"{path}: no [tool.pyforge] table")
    unknown = set(table) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(sorted(unknown))}")
    if "extend" not in table:
        return dict(table)
    parent_path = (path.parent / str(table["extend"])).resolve()
    if parent_path.is_dir():
        parent_path = parent_path / "pyproject.toml"
    if not parent_path.is_file():
        raise ConfigError(f"{path}: 'extend' names a missing file: {parent_path}")
    parent = _load_chain(parent_path, (*seen, path), read)
    merged = dict(parent)
    for key, value in table.items():
        if key == "extend":
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        elif key in ("ignore", "exclude", "extend_exclude", "overrides") and key in merged:
            merged[key] = [*merged[key], *value]
        else:
            merged[key] = value
    return merged


def load_config(root: Path, config_file: Path | None = None, *, discover: bool = True) -> Config:
    """Resolve the configuration for an analysis rooted at ``root``.

    ``config_file`` forces a file; otherwise the nearest configuration above ``root`` is used
    (when ``discover``), and the defaults apply when there is none.
    """
    path = config_file if config_file is not None else (find_config(root) if discover else None)
    if path is None:
        return Config(root=root)
    read: list[Path] = []
    table = _load_chain(path, read=read)
    config = config_from_table(table, root=root, source=path)
    config.files = tuple(read)
    return config


def config_from_table(
    table: Mapping[str, Any], *, root: Path, source: Path | None = None
) -> Config:
    """Build a :class:`Config` from a ``[tool.pyforge]``-shaped mapping."""
    unknown = set(table) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    settings = _apply_settings(RuleSettings(), table, where="tool.pyforge")
    overrides: list[Override] = []
    for i, item in enumerate(table.get("overrides", [])):
        if not isinstance(item, dict) or "paths" not in item:
            raise ConfigError(f"overrides[{i}] must be a table with 'paths'")
        extra = set(item) - _SETTINGS_KEYS - {"paths"}
        if extra:
            raise ConfigError(f"overrides[{i}]: unknown setting(s): {', '.join(sorted(extra))}")
        paths = _str_list(item["paths"], f"overrides[{i}].paths")
        import pathspec  # only here: most configurations have no overrides

        spec = pathspec.GitIgnoreSpec.from_lines(paths)
        _apply_settings(RuleSettings(), item, where=f"overrides[{i}]")  # validate early
        overrides.append(Override(paths, spec, item))
    gate_table = table.get("gate", {})
    if not isinstance(gate_table, dict):
        raise ConfigError("'gate' must be a table")
    gate_fields = {f.name for f in fields(GateConfig)}
    if set(gate_table) - gate_fields:
        bad = ", ".join(sorted(set(gate_table) - gate_fields))
        raise ConfigError(f"unknown gate condition(s): {bad}")
    gate_kwargs = dict(gate_table)
    if "fail_on" in gate_kwargs:
        gate_kwargs["fail_on"] = tuple(
            _severity(v, "gate.fail_on") for v in _str_list(gate_kwargs["fail_on"], "fail_on")
        )
    options = table.get("options", {})
    if not isinstance(options, dict) or not all(isinstance(v, dict) for v in options.values()):
        raise ConfigError("'options' must be a table of tables, one per analyzer")
    size = table.get("max_file_size", DEFAULT_MAX_FILE_SIZE)
    if not isinstance(size, int) or size <= 0:
        raise ConfigError("'max_file_size' must be a positive integer (bytes)")
    return Config(
        root=root,
        source=source,
        settings=settings,
        overrides=overrides,
        exclude=_str_list(table.get("exclude", []), "exclude")
        + _str_list(table.get("extend_exclude", []), "extend_exclude"),
        respect_gitignore=bool(table.get("respect_gitignore", True)),
        max_file_size=size,
        options={k: dict(v) for k, v in options.items()},
        gate=GateConfig(**gate_kwargs),
        tests=_str_list(table.get("tests", list(DEFAULT_TEST_PATHS)), "tests"),
        tests_ignore=_str_list(
            table.get("tests_ignore", list(DEFAULT_TEST_IGNORE)), "tests_ignore"
        ),
    )
