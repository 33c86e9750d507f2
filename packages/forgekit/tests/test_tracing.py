"""OpenTelemetry: with an OTLP endpoint configured, request spans reach a real HTTP collector."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from forgekit.app import create_app
from forgekit.observability.tracing import configure_tracing
from forgekit.settings import ForgeSettings


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        _Collector.received.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_no_endpoint_means_no_tracing() -> None:
    assert configure_tracing("svc", "") is None


async def test_request_spans_are_exported(forge_settings: ForgeSettings) -> None:
    _Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    try:
        app = create_app(forge_settings.model_copy(update={"otel_endpoint": endpoint}))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                assert (await c.get("/live")).status_code == 200
        # Leaving the lifespan shuts the app's provider down, which flushes its spans.
    finally:
        server.shutdown()
    paths = [p for p, _ in _Collector.received]
    assert "/v1/traces" in paths
    # The protobuf payload carries the span name and the service name.
    body = b"".join(b for _, b in _Collector.received)
    assert b"GET /live" in body
    assert b"forgetest" in body
