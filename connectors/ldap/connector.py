"""The ``ldap`` connector: users (and optionally groups) of an LDAP directory, read with ldap3.

Every ldap3 call blocks, so each one runs in a worker thread (:func:`asyncio.to_thread`); one
page of a simple paged results search (RFC 2696) is fetched per call, so a directory of any size
streams through in ``page_size`` steps. ldap3's exceptions and result codes are translated into
:class:`~hub.errors.ConnectorError` messages naming what to fix.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, ClassVar

from connectors.ldap._config import LdapConfig
from connectors.ldap._entries import group_record, user_attributes_to_request, user_record
from connectors.ldap._ldap3 import ldap3, ldap_errors
from hub.sdk import (
    CheckResult,
    Connector,
    ConnectorConfig,
    ConnectorError,
    ConnectorKind,
    RawRecord,
    StreamSpec,
    StreamState,
)

__all__ = ["ConnectionFactory", "LdapConnector"]

log = logging.getLogger("fediflow.connectors.ldap")
PAGED_RESULTS_OID = "1.2.840.113556.1.4.319"

#: builds an unbound, unopened ldap3 Connection for a config (tests pass one using MOCK_SYNC)
ConnectionFactory = Callable[[LdapConfig], ldap3.Connection]

_RESULT_ADVICE = {
    4: "the server returned only part of the results (sizeLimitExceeded); does it allow paged results?",
    3: "the search took longer than the server allows (timeLimitExceeded)",
    8: "the server requires a stronger bind (strongerAuthRequired): use ldaps:// or start_tls",
    13: "the server requires a secure connection (confidentialityRequired): use ldaps:// or start_tls",
    32: "the search base does not exist, or the bind DN may not see it (noSuchObject)",
    48: "the server refuses this kind of bind (inappropriateAuthentication): anonymous binds may be disabled",
    49: "the server rejected the credentials (invalidCredentials): check bind_dn and bind_password",
    50: "the bind DN may not read these entries (insufficientAccessRights)",
    51: "the server is busy; try again later",
    52: "the server is unavailable; try again later",
    53: "the server is unwilling to perform the operation (unwillingToPerform)",
    87: "the search filter is invalid (filterError)",
}
_RETRYABLE_CODES = frozenset({3, 51, 52})
#: Active Directory's sub-codes of invalidCredentials, found in the diagnostic message as "data 52e"
_AD_BIND_DATA = {
    "525": "the user does not exist",
    "52e": "the password is wrong",
    "530": "logons are not permitted at this time",
    "531": "logons are not permitted from this workstation",
    "532": "the password has expired",
    "533": "the account is disabled",
    "701": "the account has expired",
    "773": "the password must be reset",
    "775": "the account is locked out",
}


def default_connection(config: LdapConfig) -> ldap3.Connection:
    """An ldap3 Connection (not yet opened) from the config: TLS settings, timeouts, read-only."""
    tls = ldap3.Tls(
        validate=ssl.CERT_REQUIRED if config.verify_tls else ssl.CERT_NONE,
        ca_certs_file=config.ca_certs_file,
    )
    server = ldap3.Server(
        config.server_uri,
        use_ssl=config.ssl,
        tls=tls,
        connect_timeout=config.connect_timeout,
        get_info=ldap3.NONE,
    )
    return ldap3.Connection(
        server,
        user=config.bind_dn,
        password=config.bind_password.get_secret_value() if config.bind_password else None,
        auto_bind=ldap3.AUTO_BIND_NONE,
        read_only=True,
        receive_timeout=config.receive_timeout,
        raise_exceptions=False,
        auto_referrals=False,
    )


class LdapConnector(Connector[LdapConfig]):
    """Reads ``users`` (-> User) and, when ``group_filter`` is set, ``groups`` (-> Org) from LDAP."""

    name: ClassVar[str] = "ldap"
    kind: ClassVar[ConnectorKind] = ConnectorKind.IDP
    title: ClassVar[str] = "LDAP directory (OpenLDAP, Active Directory, eduPerson)"
    config_model: ClassVar[type[ConnectorConfig]] = LdapConfig

    def __init__(self, config: LdapConfig, *, connection_factory: ConnectionFactory | None = None) -> None:
        super().__init__(config)
        self._factory = connection_factory or default_connection
        self._connection: ldap3.Connection | None = None

    def streams(self) -> Sequence[StreamSpec]:
        users = StreamSpec("users", "User", "Entries matching user_filter.")
        if self.config.group_filter:
            return (users, StreamSpec("groups", "Org", "Entries matching group_filter."))
        return (users,)

    # --- blocking helpers, run in a worker thread ------------------------------------------------

    def _error(self, exc: Exception) -> ConnectorError:
        where = self.config.server_uri
        text = str(exc) or type(exc).__name__
        if isinstance(exc, ldap_errors.LDAPStartTLSError):
            return ConnectorError(f"STARTTLS with {where} failed: {text}", retryable=False)
        if isinstance(exc, ldap_errors.LDAPSocketOpenError):
            if "certificate" in text.lower() or "ssl" in text.lower():
                return ConnectorError(
                    f"TLS with {where} failed: {text}; is the server's certificate trusted "
                    "(ca_certs_file) and does its name match server_uri?",
                    retryable=False,
                )
            return ConnectorError(f"cannot reach the LDAP server {where}: {text}", retryable=True)
        if isinstance(exc, ldap_errors.LDAPSocketReceiveError | ldap_errors.LDAPSessionTerminatedByServerError):
            return ConnectorError(f"the LDAP server {where} closed the connection or did not answer: {text}", retryable=True)
        if isinstance(exc, ldap_errors.LDAPInvalidFilterError):
            return ConnectorError(f"invalid LDAP search filter: {text}", retryable=False)
        return ConnectorError(f"LDAP error with {where}: {type(exc).__name__}: {text}", retryable=False)

    def _result_error(self, what: str, result: Mapping[str, Any]) -> ConnectorError:
        code = int(result.get("result") or 0)
        name = result.get("description") or f"result {code}"
        advice = _RESULT_ADVICE.get(code, f"the server answered {name}")
        message = str(result.get("message") or "").strip()
        if code == 49:
            for data, meaning in _AD_BIND_DATA.items():
                if f"data {data}" in message.lower():
                    advice += f" ({meaning})"
                    break
        shown = f" [server says: {message[:160]}]" if message else ""
        return ConnectorError(f"LDAP {what} on {self.config.server_uri}: {advice}{shown}", retryable=code in _RETRYABLE_CODES)

    def _open_blocking(self) -> ldap3.Connection:
        connection = self._factory(self.config)
        try:
            if self.config.start_tls:
                connection.open()
                if not connection.start_tls():
                    raise self._result_error("STARTTLS", connection.result or {})
            if not connection.bind():
                raise self._result_error(f"bind as {self.config.bind_dn or 'anonymous'}", connection.result or {})
        except ldap_errors.LDAPException as exc:
            self._close_blocking(connection)
            raise self._error(exc) from None
        except ConnectorError:
            self._close_blocking(connection)
            raise
        return connection

    @staticmethod
    def _close_blocking(connection: ldap3.Connection) -> None:
        try:
            connection.unbind()
        except ldap_errors.LDAPException:
            log.debug("unbind failed", exc_info=True)
        # ldap3 leaves the socket of a failed connect open: close it here
        sock = getattr(connection, "socket", None)
        if sock is not None:
            sock.close()

    def _known(self, connection: ldap3.Connection, names: Sequence[str]) -> list[str]:
        """The attribute names the server's schema knows, when ldap3 has the schema (else all)."""
        schema = getattr(connection.server, "schema", None)
        types = getattr(schema, "attribute_types", None) if schema else None
        if not types:
            return list(names)
        return [name for name in names if name in types]

    def _page_blocking(
        self, connection: ldap3.Connection, base: str, search_filter: str, attributes: list[str], cookie: bytes | None, size: int
    ) -> tuple[list[dict[str, Any]], bytes | None]:
        try:
            connection.search(
                base,
                search_filter,
                ldap3.SUBTREE,
                attributes=self._known(connection, attributes),
                paged_size=size,
                paged_cookie=cookie,
            )
        except ldap_errors.LDAPException as exc:
            raise self._error(exc) from None
        result = connection.result or {}
        if int(result.get("result") or 0) != 0:
            raise self._result_error(f"search under {base!r} with {search_filter}", result)
        entries = [dict(e) for e in connection.response or () if e.get("type") == "searchResEntry"]
        control = (result.get("controls") or {}).get(PAGED_RESULTS_OID) or {}
        next_cookie = (control.get("value") or {}).get("cookie")
        return entries, next_cookie or None

    # --- the connector -----------------------------------------------------------------------------

    async def _connection_open(self) -> ldap3.Connection:
        if self._connection is None:
            self._connection = await asyncio.to_thread(self._open_blocking)
        return self._connection

    async def _search(self, base: str, search_filter: str, attributes: list[str]) -> AsyncIterator[dict[str, Any]]:
        connection = await self._connection_open()
        cookie: bytes | None = None
        pages = 0
        while True:
            entries, cookie = await asyncio.to_thread(
                self._page_blocking, connection, base, search_filter, attributes, cookie, self.config.page_size
            )
            pages += 1
            for entry in entries:
                yield entry
            if not cookie:
                log.debug("ldap search done", extra={"base": base, "pages": pages})
                return

    async def check(self) -> CheckResult:
        settings = self.config
        details: dict[str, Any] = {"server_uri": settings.server_uri, "bind_dn": settings.bind_dn, "base_dn": settings.base_dn}
        who = settings.bind_dn or "anonymous"
        try:
            connection = await self._connection_open()
            await asyncio.to_thread(self._page_blocking, connection, settings.base_dn, "(objectClass=*)", ["objectClass"], None, 1)
            # a BASE-scope look at the base would be enough, but the paged subtree search also proves paging works
            users, _ = await asyncio.to_thread(
                self._page_blocking, connection, settings.user_base_dn or settings.base_dn, settings.user_filter, ["objectClass"], None, 1
            )
            groups = None
            if settings.group_filter:
                groups, _ = await asyncio.to_thread(
                    self._page_blocking, connection, settings.group_base_dn or settings.base_dn, settings.group_filter, ["objectClass"], None, 1
                )
        except ConnectorError as exc:
            return CheckResult(False, exc.message, details)
        finally:
            await self.aclose()
        if not users:
            return CheckResult(
                False,
                f"bound to {settings.server_uri} as {who}, but user_filter {settings.user_filter} matches no entry under "
                f"{settings.user_base_dn or settings.base_dn}: check user_filter and user_base_dn",
                details,
            )
        if groups is not None and not groups:
            return CheckResult(False, f"group_filter {settings.group_filter} matches no entry: check it", details)
        return CheckResult(
            True,
            f"bound to {settings.server_uri} as {who}; {settings.base_dn} is readable and user_filter matches entries"
            + ("; group_filter matches entries" if groups else ""),
            details,
        )

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        settings = self.config
        state.complete = True
        if stream == "users":
            base = settings.user_base_dn or settings.base_dn
            async for entry in self._search(base, settings.user_filter, user_attributes_to_request(settings)):
                yield RawRecord(user_record(entry, settings), ref=str(entry.get("dn") or "?"))
        elif stream == "groups" and settings.group_filter:
            base = settings.group_base_dn or settings.base_dn
            names = list(dict.fromkeys(settings.group_attributes.model_dump().values()))
            async for entry in self._search(base, settings.group_filter, names):
                yield RawRecord(group_record(entry, settings), ref=str(entry.get("dn") or "?"))
        else:
            known = ", ".join(spec.name for spec in self.streams())
            raise ConnectorError(f"unknown stream {stream!r} of connector ldap (known: {known})")

    async def aclose(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await asyncio.to_thread(self._close_blocking, connection)
