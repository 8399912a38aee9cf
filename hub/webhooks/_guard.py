"""SSRF guard: where a webhook may be sent.

A URL must be ``http`` or ``https`` without credentials. Its host is resolved on every attempt
and *every* address it resolves to must be public (not loopback, private, link-local, multicast,
reserved, unspecified or shared address space), unless it lies in one of the CIDRs of
``settings.webhooks.allow_private_networks``. The request then goes to the checked address
(:class:`Target` pins it), so a second DNS answer cannot point it elsewhere (DNS rebinding).
Redirects are never followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from hub.errors import ConfigurationError

__all__ = ["Target", "UrlGuard", "UrlRefused", "check_url_syntax"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class UrlRefused(ConfigurationError):
    """The webhook URL is not allowed (scheme, credentials, or an address in a refused range)."""

    code = "webhook-url-refused"


@dataclass(frozen=True, slots=True)
class Target:
    """A checked destination: connect to ``ip``, speak to ``host`` (Host header, TLS SNI)."""

    scheme: str
    host: str
    port: int
    ip: str
    path: str

    @property
    def pinned_url(self) -> str:
        ip = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{self.scheme}://{ip}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def check_url_syntax(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, path?query)`` of a well-formed webhook URL, else :class:`UrlRefused`."""
    if len(url) > 2048:
        raise UrlRefused("the webhook URL is longer than 2048 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(f"invalid webhook URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise UrlRefused("a webhook URL must start with http:// or https://")
    if parts.username or parts.password:
        raise UrlRefused("a webhook URL must not contain credentials")
    if not parts.hostname:
        raise UrlRefused("a webhook URL needs a host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def _refused_range(ip: IPAddress) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _refused_range(ip.ipv4_mapped)
    for attr in ("is_loopback", "is_private", "is_link_local", "is_multicast", "is_reserved", "is_unspecified"):
        if getattr(ip, attr):
            return attr.removeprefix("is_").replace("_", "-")
    if not ip.is_global:
        return "non-global"
    return None


class UrlGuard:
    """Checks URLs and resolves them to a pinned :class:`Target`."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.allow: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(c, strict=False) for c in allow)

    def check_ip(self, ip: IPAddress) -> None:
        reason = _refused_range(ip)
        if reason is None:
            return
        plain = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
        if any(plain.version == net.version and plain in net for net in self.allow):
            return
        raise UrlRefused(f"webhook address {ip} is {reason}; allow it with settings "
                         "webhooks.allow_private_networks (a CIDR list) if that is intended")

    async def resolve(self, url: str) -> Target:
        """Resolve ``url`` now and check every address; the first one is the target."""
        scheme, host, port, path = check_url_syntax(url)
        try:
            addresses: list[IPAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (socket.gaierror, UnicodeError) as exc:
                raise LookupError(f"cannot resolve {host!r}: {exc}") from None
            addresses = []
            for info in infos:
                ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
                if ip not in addresses:
                    addresses.append(ip)
            if not addresses:
                raise LookupError(f"{host!r} has no address")
        for ip in addresses:
            self.check_ip(ip)
        return Target(scheme, host, port, str(addresses[0]), path)

    async def check(self, url: str) -> None:
        """For a new or changed subscription: syntax, and the addresses when the name resolves now."""
        try:
            await self.resolve(url)
        except LookupError:
            pass  # resolved again (and checked) on every attempt
