"""Logs, metrics, tracing and health checks."""
