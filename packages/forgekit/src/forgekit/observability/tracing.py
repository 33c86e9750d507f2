"""OpenTelemetry tracing, on only when an OTLP endpoint is configured."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("forgekit.tracing")


def configure_tracing(service_name: str, endpoint: str) -> Any | None:
    """A tracer provider exporting over OTLP/HTTP to ``endpoint``, or None when disabled.

    The provider belongs to the app (not installed globally), so each app exports to its own
    endpoint and flushes on shutdown; request spans come from ``provider.get_tracer()``.

    The SDK is an optional extra (``forgekit[tracing]``); asking for tracing without it is a
    configuration error worth a loud log line, not a crash of the service.
    """
    if not endpoint:
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.error("FORGE_OTEL_ENDPOINT is set but forgekit[tracing] is not installed")
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider
