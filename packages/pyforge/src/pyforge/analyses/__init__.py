"""Analyses: running the engine on a project's snapshot, findings and their lifecycle, metrics.

The flow (see ``ARCHITECTURE.md``, "Flow of one analysis"): the API stores a ``queued``
analysis and enqueues ``analysis.requested`` in the same transaction; the ``analysis.runner``
consumer (:mod:`.tasks`) materialises the snapshot, runs :func:`pyforge.analysis.analyze_paths`
in a thread and stores findings, metrics and the quality gate.
"""
