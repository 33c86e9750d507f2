"""Built-in analyzers, one module each; each module exposes ``ANALYZER``.

They are registered through the ``pyforge.analyzers`` entry points in ``pyproject.toml`` (the
single registration; ``tests/analysis/test_registry.py`` checks that every module here is
listed there and nothing else).
"""
