"""The registry: one registration per analyzer, consistent ids, documented rules."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from pyforge.analysis import analyzers as analyzers_pkg
from pyforge.analysis.registry import (
    CATEGORY_PREFIX,
    Analyzer,
    Registry,
    _load,
    get_registry,
)

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def test_entry_points_list_exactly_the_builtin_modules() -> None:
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"]["pyforge.analyzers"]
    modules = {
        p.stem for p in Path(analyzers_pkg.__file__).parent.glob("*.py") if p.stem != "__init__"
    }
    # Analyzers of other PyForge packages register through the same group (pyforge.ml).
    plugins = {"pyforge.ml.analyzer"}
    builtin = {v.split(":")[0] for v in declared.values()} - plugins
    assert {m.rsplit(".", 1)[1] for m in builtin} == modules
    registry = get_registry()
    assert registry.errors == []
    assert set(registry.analyzers) == set(declared)
    for name, analyzer in registry.analyzers.items():
        assert analyzer.id == name and analyzer.version


def test_rule_ids_carry_their_category_and_are_documented() -> None:
    seen: set[str] = set()
    for analyzer in get_registry().analyzers.values():
        for rule in analyzer.rules.values():
            assert rule.id not in seen
            seen.add(rule.id)
            assert rule.id.startswith(CATEGORY_PREFIX[rule.category])
            assert rule.name and rule.description
            assert "How to fix" in rule.help, rule.id
            assert rule.analyzer == analyzer.id


def test_node_rules_declare_real_node_types() -> None:
    for analyzer in get_registry().analyzers.values():
        for rule, types, _check in analyzer.node_checks:
            assert types and all(issubclass(t, ast.AST) for t in types), rule.id


def test_a_third_party_analyzer_plugs_in(tmp_path: Path) -> None:
    from pyforge.analysis.findings import Category, Severity
    from pyforge.analysis.registry import Hit

    plugin = Analyzer(id="acme", version="1", description="Flags print().")

    @plugin.rule("STY901", "no-print", Category.STYLE, Severity.MINOR, nodes=(ast.Call,))
    def no_print(ctx, node):  # type: ignore[no-untyped-def]
        """print() call.

        How to fix: use logging.
        """
        if isinstance(node.func, ast.Name) and node.func.id == "print":
            return [Hit(node, "print() call")]
        return None

    assert _load(plugin, "acme") is plugin
    base = get_registry()
    registry = Registry({**base.analyzers, "acme": plugin})
    (tmp_path / "m.py").write_text("print('hi')\n", encoding="utf-8")
    from pyforge.analysis import analyze_paths
    from pyforge.analysis.config import config_from_table

    config = config_from_table({"disable": ["style", "security", "deadcode"]}, root=tmp_path)
    report = analyze_paths([tmp_path], config, jobs=1, use_cache=False, registry=registry)
    assert [(f.rule, f.line) for f in report.findings] == [("STY901", 1)]
    assert registry.rule("STY901") is plugin.rules["STY901"]


def _runtime_imports(module: Path) -> set[str]:
    """The ``pyforge.analysis`` modules a file imports at module level (TYPE_CHECKING aside)."""
    found: set[str] = set()
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return {m.rsplit(".", 1)[1] for m in found if m.startswith("pyforge.analysis.")}


def test_value_types_break_the_context_registry_cycle() -> None:
    package = Path(analyzers_pkg.__file__).parents[1]
    context = _runtime_imports(package / "context.py")
    rules = _runtime_imports(package / "rules.py")
    registry = _runtime_imports(package / "registry.py")
    assert "registry" not in context
    assert "rules" in context
    assert not {"registry", "context"} & rules
    assert "context" not in registry
    # Plugins keep importing the value types from the registry.
    from pyforge.analysis import registry as registry_module
    from pyforge.analysis import rules as rules_module

    assert registry_module.Hit is rules_module.Hit
    assert registry_module.Rule is rules_module.Rule
