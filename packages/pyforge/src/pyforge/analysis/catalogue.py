"""Every rule PyForge knows (the engine's own and each analyzer's), looked up by id.

Shared by ``pyforge rules``/``pyforge explain`` and the rules API, so the terminal and the
dashboard document the same rule the same way.
"""

from __future__ import annotations

from pyforge.analysis.rules import Rule


def every_rule() -> list[Rule]:
    """The engine's rules and every registered analyzer's, sorted by id."""
    from pyforge.analysis.engine import ENGINE_RULES
    from pyforge.analysis.registry import get_registry

    return sorted([*ENGINE_RULES, *get_registry().all_rules()], key=lambda r: r.id)


def find_rule(wanted: str) -> Rule | None:
    """The rule named ``wanted``; a bare ruff code (``S602``) names its routed rule."""
    from pyforge.analysis.engine import ENGINE_RULES
    from pyforge.analysis.registry import get_registry

    wanted = wanted.strip()
    registry = get_registry()
    found = next((r for r in ENGINE_RULES if r.id == wanted), None) or registry.rule(wanted)
    if found is None and wanted and "-" not in wanted:
        found = next((r for r in registry.all_rules() if r.id.endswith("-" + wanted)), None)
    return found
