"""The one Authorization parser (hub.auth) and the one error -> status map, as every interface uses them."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from hub.auth import ClientService, parse_basic, split_authorization
from hub.errors import AuthError, ConfigurationError, Conflict, NotFound, StoreError


def _basic(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


def test_split_authorization() -> None:
    assert split_authorization("Bearer  abc ") == ("bearer", "abc")
    assert split_authorization("BASIC xyz") == ("basic", "xyz")
    assert split_authorization("") == ("", "")


def test_parse_basic_decodes_id_and_secret_percent_decoding_each() -> None:
    assert parse_basic(_basic("ff_abc:s3cr:et")) == ("ff_abc", "s3cr:et")
    assert parse_basic(_basic("my%20client:p%3Ass")) == ("my client", "p:ss")  # RFC 6749 §2.3.1
    for bad in ("not base64!", _basic("no-colon"), base64.b64encode(b"\xff:x").decode()):
        with pytest.raises(AuthError, match="malformed Basic credentials"):
            parse_basic(bad)


class _Client:
    client_id, role, scopes = "ff_1", "admin", ("roster-core.readonly",)

    class tenant:
        slug, id = "default", 1


@pytest.fixture
def service() -> Any:
    svc = object.__new__(ClientService)
    calls: list[tuple[str, ...]] = []

    async def authenticate(client_id: str, secret: str, *, remember: bool = False) -> Any:
        calls.append(("secret", client_id, secret, str(remember)))
        return _Client

    async def principal(token: str) -> Any:
        calls.append(("jwt", token))
        return "principal", _Client

    svc.authenticate, svc.principal, svc.calls = authenticate, principal, calls
    return svc


async def test_the_api_accepts_only_bearer_access_tokens(service: Any) -> None:
    assert await service.caller("Bearer eyJ.x.y") == ("principal", _Client)
    for header in (f"Basic {_basic('ff_1:secret')}", "Bearer ", "Token abc"):
        with pytest.raises(AuthError, match="'Bearer <access token>'"):
            await service.caller(header)
    await service.caller("Bearer ff_1.secret")  # not SCIM's static token here: verified as a JWT (and refused)
    assert service.calls == [("jwt", "eyJ.x.y"), ("jwt", "ff_1.secret")]


async def test_scim_also_accepts_basic_and_static_tokens(service: Any) -> None:
    principal, client = await service.caller(f"Basic {_basic('ff_1:secret')}", basic=True)
    assert client is _Client and principal.scopes == frozenset(_Client.scopes) and principal.tenant_id == 1
    await service.caller("Bearer ff_1.other", basic=True)
    await service.caller("Bearer eyJ.x.y", basic=True)
    assert service.calls == [("secret", "ff_1", "secret", "True"), ("secret", "ff_1", "other", "True"),
                             ("jwt", "eyJ.x.y")]
    with pytest.raises(AuthError, match="'Bearer <token>' or 'Basic <credentials>'"):
        await service.caller("Digest abc", basic=True)


@pytest.mark.parametrize(("error", "status", "scim_type"), [
    (NotFound("x"), 404, None),
    (Conflict("x"), 409, None),
    (StoreError("x"), 503, None),
    (ConfigurationError("x"), 400, "invalidValue"),  # RFC 7644 has no 422
])
def test_scim_errors_use_the_one_status_map(error: Exception, status: int, scim_type: str | None) -> None:
    from hub.api._problems import status_for
    from hub.api._scim_errors import scim_exception_handlers
    from hub.errors import HubError

    response = scim_exception_handlers()[HubError](None, error)
    body = json.loads(response.content)
    assert response.status_code == status and body["status"] == str(status) and body.get("scimType") == scim_type
    assert status_for(error) == (422 if status == 400 else status)  # type: ignore[arg-type]
