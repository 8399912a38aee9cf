"""SCIM resource types of this server and their wire format, through scim2-models.

Users (core User schema + the enterprise extension, RFC 7643 §4.1, §4.3) and Groups (§4.2).
:func:`validate_document` checks an incoming document with scim2-models in the request context
and returns it as the server stores and returns it: read-only attributes (``id``, ``meta``) are
dropped, ``returned: never`` attributes (``password``) are never kept, attribute names take their
schema spelling, values their schema types (``"False"`` becomes ``false``).
The discovery documents (§5, §6 and §7 of RFC 7643) come from the same models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    EnterpriseUser,
    ETag,
    Filter,
    Group,
    Patch,
    ResourceType,
    ServiceProviderConfig,
    Sort,
    User,
)
from scim2_models import Error as ScimErrorModel

from hub.scim._errors import ScimError
from hub.scim._filter import get_ci

__all__ = [
    "ENTERPRISE_SCHEMA",
    "GROUP",
    "GROUP_SCHEMA",
    "KINDS",
    "LIST_SCHEMA",
    "MAX_RESULTS",
    "USER",
    "USER_SCHEMA",
    "ResourceKind",
    "resource_types",
    "schemas",
    "service_provider_config",
    "validate_document",
]

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#: the most resources one listing returns (ServiceProviderConfig filter.maxResults)
MAX_RESULTS = 200
DOCS = "https://github.com/fediflow/fediflow/blob/main/docs/scim.md"


@dataclass(frozen=True, slots=True)
class ResourceKind:
    name: str  # User | Group
    endpoint: str  # Users | Groups
    schema: str
    model: Any


USER = ResourceKind("User", "Users", USER_SCHEMA, User[EnterpriseUser])
GROUP = ResourceKind("Group", "Groups", GROUP_SCHEMA, Group)
KINDS: dict[str, ResourceKind] = {"Users": USER, "Groups": GROUP}


def _normalise_manager(document: dict[str, Any], base_url: str) -> None:
    """Entra ID sends the manager as a bare id, or without ``$ref``: add the reference of that user."""
    key = next((k for k in document if k.lower() == ENTERPRISE_SCHEMA.lower()), None)
    extension = document.get(key) if key else None
    if not isinstance(extension, dict):
        return
    manager_key = next((k for k in extension if k.lower() == "manager"), None)
    if manager_key is None:
        return
    manager = extension[manager_key]
    if isinstance(manager, str):
        manager = {"value": manager} if manager else None
    if isinstance(manager, dict):
        manager = dict(manager)
        value = get_ci(manager, "value")
        if not value:
            manager = None
        elif get_ci(manager, "$ref") is None:
            manager["$ref"] = f"{base_url}/Users/{value}"
    if manager is None:
        del extension[manager_key]
    else:
        extension[manager_key] = manager


def validate_document(kind: ResourceKind, document: Any, *, base_url: str) -> dict[str, Any]:
    """The stored form of ``document`` (without ``id`` and ``meta``); ScimError 400 when it is invalid."""
    if not isinstance(document, Mapping):
        raise ScimError(400, "the body must be a JSON object", "invalidSyntax")
    doc = {k: v for k, v in document.items() if k.lower() not in ("id", "meta")}
    doc = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in doc.items()}
    schemas = doc.get("schemas")
    if not isinstance(schemas, list) or not any(str(s).lower() == kind.schema.lower() for s in schemas):
        raise ScimError(400, f"schemas must include {kind.schema!r}", "invalidSyntax")
    if kind is USER:
        _normalise_manager(doc, base_url)
    try:
        model = kind.model.model_validate(doc, scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    except ValidationError as exc:
        first = ScimErrorModel.from_validation_errors(exc)[0]
        count = len(exc.errors())
        more = f" (and {count - 1} more)" if count > 1 else ""
        raise ScimError(400, f"{first.detail}{more}", first.scim_type or "invalidValue") from None
    result: dict[str, Any] = model.model_dump(scim_ctx=Context.RESOURCE_CREATION_RESPONSE)
    result.pop("id", None)
    result.pop("meta", None)
    return result


# --- discovery (RFC 7644 §4) ----------------------------------------------------------------------


def service_provider_config(base_url: str) -> dict[str, Any]:
    config = ServiceProviderConfig(
        documentation_uri=DOCS,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=True),
        etag=ETag(supported=True),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="OAuth Bearer Token",
                description="An access token of an API client of the tenant (POST /oauth/token), "
                            "or the client's long-lived SCIM token '<client_id>.<client_secret>'",
                spec_uri="https://www.rfc-editor.org/info/rfc6750",
                documentation_uri=DOCS,
                primary=True,
            ),
            AuthenticationScheme(
                type="httpbasic",
                name="HTTP Basic",
                description="The API client's client_id and client_secret",
                spec_uri="https://www.rfc-editor.org/info/rfc7617",
                documentation_uri=DOCS,
            ),
        ],
    )
    body: dict[str, Any] = config.model_dump(mode="json")
    body["meta"] = {"resourceType": "ServiceProviderConfig", "location": f"{base_url}/ServiceProviderConfig"}
    return body


def resource_types(base_url: str) -> list[dict[str, Any]]:
    found = []
    for kind in (USER, GROUP):
        body: dict[str, Any] = ResourceType.from_resource(kind.model).model_dump(mode="json")
        body["meta"] = {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/{kind.name}"}
        found.append(body)
    return found


def schemas(base_url: str) -> list[dict[str, Any]]:
    found = []
    for model in (User, EnterpriseUser, Group):
        body: dict[str, Any] = model.to_schema().model_dump(mode="json")
        body["meta"] = {"resourceType": "Schema", "location": f"{base_url}/Schemas/{body['id']}"}
        found.append(body)
    return found
