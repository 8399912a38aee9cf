"""The SSRF guard: the one place that decides where the hub may open an outgoing connection.

Used by webhook deliveries (hub.webhooks) and federation fetches and deliveries (hub.federation)
alike. A URL must be ``http`` or ``https`` without credentials. Its host is resolved **once per
request**, and *every* address it resolves to must be public: not loopback, private, link-local
(169.254.0.0/16, fe80::/10), multicast, reserved, unspecified or shared address space. IPv6
addresses that carry an IPv4 address are judged by that address too: IPv4-mapped
(``::ffff:a.b.c.d``), IPv4-compatible (``::a.b.c.d``), 6to4 (``2002:AABB:CCDD::/48``), Teredo
(``2001:0::/32``, server and client, the client XOR 0xffffffff) and NAT64 (``64:ff9b::/96``), so
``http://[2002:7f00:1::]/`` is refused as loopback. An address, network (CIDR) or host name listed
in the caller's allow list is accepted anyway.

Pinning (DNS rebinding): :class:`GuardedTransport` is an httpx transport that resolves and checks
the host in its connect step, then connects to the checked address while the request keeps its
``Host`` header and TLS SNI (and certificate check) for the original name. No second resolution
happens between the check and the connection. Redirects are the caller's business (the hub's
clients never follow them).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from hub.errors import ConfigurationError

__all__ = [
    "AddressRefused",
    "GuardedTransport",
    "NetGuard",
    "Resolver",
    "Target",
    "Unresolvable",
    "embedded_ipv4",
    "refused_range",
    "split_url",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: ``(host, port) -> addresses`` (the default asks the operating system's resolver)
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LINK_LOCAL_V4 = ipaddress.ip_network("169.254.0.0/16")
_SHARED_V4 = ipaddress.ip_network("100.64.0.0/10")


class AddressRefused(ConfigurationError):
    """A URL the guard refuses: scheme, credentials, or an address in a refused range."""

    code = "address-refused"


class Unresolvable(httpx.ConnectError):
    """The host has no address (an httpx connect error: retried like any other)."""


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


def embedded_ipv4(ip: IPAddress) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries, each with the name of the form that carries it."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found: list[tuple[str, ipaddress.IPv4Address]] = []
    if ip.ipv4_mapped is not None:
        found.append(("IPv4-mapped", ip.ipv4_mapped))
    elif int(ip) >> 32 == 0 and int(ip) > 1:  # ::a.b.c.d (not :: and ::1, judged as themselves)
        found.append(("IPv4-compatible", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    if ip.sixtofour is not None:
        found.append(("6to4", ip.sixtofour))
    if ip.teredo is not None:
        server, client = ip.teredo
        found += [("Teredo client", client), ("Teredo server", server)]
    if ip in _NAT64:
        found.append(("NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    return found


def _own_range(ip: IPAddress) -> str | None:
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local or (ip.version == 4 and ip in _LINK_LOCAL_V4):
        return "link-local"
    if ip.version == 4 and ip in _SHARED_V4:
        return "shared address space"
    for attr in ("is_unspecified", "is_multicast", "is_private", "is_reserved"):
        if getattr(ip, attr):
            return attr.removeprefix("is_")
    if not ip.is_global:
        return "non-global"
    return None


def refused_range(ip: IPAddress) -> str | None:
    """Why ``ip`` is refused (``"loopback"``, ``"link-local"``, ``"loopback (6to4 of 127.0.0.1)"``...), or None."""
    for form, v4 in embedded_ipv4(ip):
        reason = _own_range(v4)
        if reason is not None:
            return f"{reason} ({form} of {v4})"
    return _own_range(ip)


def split_url(url: str, what: str = "URL") -> tuple[str, str, int, str]:
    """``(scheme, host, port, path?query)`` of a well-formed http(s) URL, else :class:`AddressRefused`."""
    if len(url) > 2048:
        raise AddressRefused(f"the {what} is longer than 2048 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused(f"invalid {what}: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise AddressRefused(f"a {what} must start with http:// or https://")
    if parts.username or parts.password:
        raise AddressRefused(f"a {what} must not contain credentials")
    if not parts.hostname:
        raise AddressRefused(f"a {what} needs a host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the operating system (``getaddrinfo``)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolvable(f"cannot resolve {host!r}: {exc}") from None
    return [str(info[4][0]) for info in infos]


class NetGuard:
    """Checks URLs and resolves them, once, to a pinned :class:`Target`.

    ``allow``: CIDRs, addresses or host names accepted although not public; ``setting``: the
    setting that holds them (named in refusals); ``error``: the :class:`AddressRefused` subclass
    raised; ``resolver``: how names are resolved (tests pass their own).
    """

    def __init__(self, allow: Iterable[str] = (), *, setting: str = "the allow list", what: str = "URL",
                 error: type[AddressRefused] = AddressRefused, resolver: Resolver | None = None) -> None:
        networks: list[IPNetwork] = []
        names: set[str] = set()
        for entry in allow:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                names.add(entry.lower())
        self.allow: tuple[IPNetwork, ...] = tuple(networks)
        self.allow_hosts = frozenset(names)
        self.setting = setting
        self.what = what
        self.error = error
        self.resolver: Resolver = resolver or system_resolver

    def allowed(self, ip: IPAddress, host: str | None = None) -> bool:
        if host is not None and (host.lower() in self.allow_hosts):
            return True
        candidates = [ip] + ([ip.ipv4_mapped] if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else [])
        return any(c.version == net.version and c in net for c in candidates for net in self.allow)

    def check_ip(self, ip: IPAddress, host: str | None = None) -> None:
        reason = refused_range(ip)
        if reason is None or self.allowed(ip, host):
            return
        shown = f"{host} resolves to the non-public address {ip}" if host and host != str(ip) else \
            f"the non-public address {ip}"
        raise self.error(f"refusing {shown}: {ip} is {reason}; allow it with {self.setting} if that is intended")

    async def resolve(self, url: str) -> Target:
        """Resolve ``url`` now and check every address; the first one is the target."""
        try:
            scheme, host, port, path = split_url(url, self.what)
        except AddressRefused as exc:
            raise self.error(str(exc)) from None
        try:
            addresses: list[IPAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            addresses = []
            for raw in await self.resolver(host, port):
                ip = ipaddress.ip_address(raw.split("%", 1)[0])
                if ip not in addresses:
                    addresses.append(ip)
            if not addresses:
                raise Unresolvable(f"{host!r} has no address") from None
        for ip in addresses:
            self.check_ip(ip, host)
        return Target(scheme, host, port, str(addresses[0]), path)

    async def check(self, url: str) -> None:
        """Syntax, and the addresses when the name resolves now (for a URL saved for later)."""
        try:
            await self.resolve(url)
        except Unresolvable:
            pass  # resolved again, and checked, on every request


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that resolves and checks each request's host, then connects to that address.

    The request keeps its ``Host`` header; for https the TLS server name (SNI and the certificate
    check) stays the original host. Connections are pooled per original ``(scheme, host, port)``,
    so a TLS session is never reused for another name. Raises the guard's :class:`AddressRefused`
    for a refused address and :class:`Unresolvable` when the name has no address.
    """

    def __init__(self, guard: NetGuard, *, inner: Callable[[], httpx.AsyncBaseTransport] | None = None,
                 max_pools: int = 256) -> None:
        self.guard = guard
        self._make = inner or httpx.AsyncHTTPTransport
        self._pools: OrderedDict[tuple[str, str, int], httpx.AsyncBaseTransport] = OrderedDict()
        self._max_pools = max_pools

    async def _pool(self, target: Target) -> httpx.AsyncBaseTransport:
        key = (target.scheme, target.host, target.port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = self._make()
            while len(self._pools) > self._max_pools:
                _, old = self._pools.popitem(last=False)
                await old.aclose()
        self._pools.move_to_end(key)
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = await self.guard.resolve(str(request.url))
        request.headers.setdefault("host", target.host_header)
        request.url = request.url.copy_with(host=target.ip)
        if target.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": target.host}
        return await (await self._pool(target)).handle_async_request(request)

    async def aclose(self) -> None:
        while self._pools:
            _, pool = self._pools.popitem()
            await pool.aclose()
