"""Fault injection for tests: a private Redis server to stop and start, a TCP proxy to cut.

The machine's PostgreSQL, Redis and RabbitMQ are shared with other test processes, so a fault
test never stops them: it starts a private ``redis-server`` on a free port, or puts a loopback
proxy in front of a shared server and takes the proxy down (to the client, the server is gone:
connections are reset and new ones refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from forgekit.testing.servers import free_port


def wait_until(predicate: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    """Poll ``predicate`` until it holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrivateRedis:
    """A ``redis-server`` of this test alone (no persistence), stopped and started at will."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError("redis-server is not installed (apt-get install redis-server)")
        self._proc = subprocess.Popen(  # noqa: S603 - a fixed argv, no shell
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: _accepts(self.port), f"private redis on {self.port}")

    def stop(self) -> None:
        """Kill the server (as a crash would) and wait until the port refuses connections."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=30)
        self._proc = None
        wait_until(lambda: not _accepts(self.port), f"private redis on {self.port} to stop")


class TcpProxy:
    """A loopback TCP proxy to a server that a test can take down and bring back."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        """Listen (on the same port as before, once it has been up)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        """Stop listening and reset every proxied connection."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))


def record(scenario: str, **figures: object) -> None:
    """Append what a fault test counted to ``$FORGE_RELIABILITY_RECORD`` (JSON lines), if set.

    ``make reliability`` sets it and renders the lines into ``docs/reliability.md``.
    """
    target = os.environ.get("FORGE_RELIABILITY_RECORD")
    if target:
        with Path(target).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"scenario": scenario, **figures}, default=str) + "\n")


class ThreadedTcpProxy:
    """A :class:`TcpProxy` on its own event loop thread, for synchronous tests."""

    def __init__(self, target_port: int) -> None:
        self.proxy = TcpProxy(target_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        """The proxy's port (stable across down/up)."""
        return self.proxy.port

    def up(self) -> None:
        """Listen and forward."""
        asyncio.run_coroutine_threadsafe(self.proxy.up(), self._loop).result(30)

    def down(self) -> None:
        """Refuse new connections and reset the open ones."""
        asyncio.run_coroutine_threadsafe(self.proxy.down(), self._loop).result(30)

    def close(self) -> None:
        """Take the proxy down and stop its thread."""
        self.down()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
