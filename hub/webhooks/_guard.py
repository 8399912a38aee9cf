"""Where a webhook may be sent: the hub's one SSRF guard (:mod:`hub.netguard`), set up for webhooks.

A URL must be ``http`` or ``https`` without credentials; its host is resolved on every attempt and
every address it resolves to must be public (IPv6 forms that embed a refused IPv4 address included),
unless it lies in one of the CIDRs of ``settings.webhooks.allow_private_networks``. The request then
goes to the checked address (pinned by :class:`hub.netguard.GuardedTransport`), so a second DNS
answer cannot point it elsewhere (DNS rebinding). Redirects are never followed.
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.netguard import AddressRefused, NetGuard, Resolver, Target, split_url

__all__ = ["Target", "UrlGuard", "UrlRefused", "check_url_syntax"]


class UrlRefused(AddressRefused):
    """The webhook URL is not allowed (scheme, credentials, or an address in a refused range)."""

    code = "webhook-url-refused"


def check_url_syntax(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, path?query)`` of a well-formed webhook URL, else :class:`UrlRefused`."""
    try:
        return split_url(url, "webhook URL")
    except AddressRefused as exc:
        raise UrlRefused(str(exc)) from None


class UrlGuard(NetGuard):
    """The guard of webhook URLs (CIDRs of ``webhooks.allow_private_networks`` allowed)."""

    def __init__(self, allow: Iterable[str] = (), *, resolver: Resolver | None = None) -> None:
        super().__init__(allow, setting="settings webhooks.allow_private_networks (a CIDR list)",
                         what="webhook URL", error=UrlRefused, resolver=resolver)
