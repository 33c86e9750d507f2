"""Server-side request forgery guard for user-supplied URLs (webhooks, Slack).

A webhook URL is chosen by a user but fetched by our servers, from inside our network. Unless
the product allows private networks (``allow_private``, a setting of the product's, for
development and tests), a destination is refused when *any* address
its host resolves to is not globally routable: loopback, RFC 1918 private, link-local (cloud
metadata at 169.254.169.254), carrier-grade NAT, unique-local, multicast, reserved,
unspecified; IPv4 addresses embedded in IPv6 (mapped, 6to4, Teredo, NAT64) are judged as the
IPv4 address they carry. The caller then connects to the vetted address itself, so a second
DNS answer (rebinding) cannot redirect the request after the check.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_ALLOWED_SCHEMES = ("http", "https")
MAX_URL_LENGTH = 2048


class BlockedDestinationError(Exception):
    """The URL's destination is not allowed (scheme, credentials, or a non-public address)."""


@dataclass(frozen=True)
class Destination:
    """A parsed URL: scheme, host as written, port, and the request target."""

    scheme: str
    host: str
    port: int
    target: str  # path and query, e.g. "/hooks/abc?x=1"

    @property
    def host_header(self) -> str:
        """The ``Host`` header: the host as written, with the port when not the default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse_url(url: str) -> Destination:
    """Parse and check an outbound URL's shape; raises :class:`BlockedDestinationError`."""
    if len(url) > MAX_URL_LENGTH:
        raise BlockedDestinationError(f"URL longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedDestinationError(f"invalid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _ALLOWED_SCHEMES:
        raise BlockedDestinationError("URL scheme must be http or https")
    if parts.username is not None or parts.password is not None:
        # Credentials in the URL would be logged and shown; use the signing secret instead.
        raise BlockedDestinationError("URL must not contain credentials")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise BlockedDestinationError("URL has no host")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Destination(scheme, host, port or (443 if scheme == "https" else 80), target)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(ip: IPAddress) -> bool:
    """True when ``ip`` is globally routable unicast (what a webhook may reach by default)."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and not is_public_address(inner):
            return False
    return bool(
        ip.is_global
        and not (
            ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_multicast
            or ip.is_reserved
            or ip.is_unspecified
        )
    )


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is one (including bracketless IPv6), else None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_url(url: str, *, allow_private: bool) -> Destination:
    """Validate a URL when it is saved: its shape, and its host when that is an IP literal.

    Names are resolved only at delivery time (DNS answers change); this catches the obvious
    cases (``http://127.0.0.1``, ``http://localhost``, ``http://169.254.169.254``) early.
    """
    dest = parse_url(url)
    if allow_private:
        return dest
    ip = literal_address(dest.host)
    if ip is not None and not is_public_address(ip):
        raise BlockedDestinationError(f"address {ip} is not publicly routable")
    if dest.host.lower() == "localhost" or dest.host.lower().endswith(".localhost"):
        raise BlockedDestinationError("localhost is not allowed")
    return dest


async def resolve(dest: Destination, *, allow_private: bool) -> IPAddress:
    """Resolve the destination's host and return the address to connect to.

    Every address the name resolves to must pass, not only the first: otherwise an attacker
    could publish one public and one private record and win whenever the private one is tried.
    """
    literal = literal_address(dest.host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(
                dest.host, dest.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except socket.gaierror as exc:
            raise OSError(f"cannot resolve {dest.host}: {exc.strerror}") from None
        addresses = []
        for info in infos:
            # Drop any IPv6 zone id ("fe80::1%eth0"); the address decides, not the interface.
            raw = str(info[4][0]).split("%", 1)[0]
            addresses.append(ipaddress.ip_address(raw))
        if not addresses:
            raise OSError(f"cannot resolve {dest.host}: no addresses")
    if not allow_private:
        for ip in addresses:
            if not is_public_address(ip):
                raise BlockedDestinationError(
                    f"{dest.host} resolves to {ip}, which is not publicly routable"
                )
    # Prefer IPv4: hosts with broken IPv6 routes are still common.
    addresses.sort(key=lambda ip: ip.version)
    return addresses[0]
