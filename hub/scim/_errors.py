"""The one SCIM error: an HTTP status, an RFC 7644 §3.12 ``scimType`` and a detail.

:class:`ScimError` derives from :class:`~hub.errors.HubError`, so code outside the SCIM API still
catches it with the rest of the tree; the SCIM router renders it as
``urn:ietf:params:scim:api:messages:2.0:Error`` (``application/scim+json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.errors import HubError

__all__ = ["ERROR_SCHEMA", "ScimError", "error_body"]

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


def error_body(status: int, detail: str | None, scim_type: str | None = None) -> dict[str, Any]:
    """An RFC 7644 §3.12 error document (``status`` is a string there, as in the RFC's examples)."""
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status)}
    if scim_type:
        body["scimType"] = scim_type
    if detail:
        body["detail"] = detail
    return body


class ScimError(HubError):
    """A SCIM protocol error. ``scim_type``: invalidFilter, tooMany, uniqueness, mutability,
    invalidSyntax, invalidPath, noTarget, invalidValue, invalidVers, sensitive (or None)."""

    code = "scim-error"

    def __init__(self, status: int, detail: str, scim_type: str | None = None, *,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.scim_type = scim_type
        #: response headers the error needs (``Retry-After`` of a 429, ``Allow`` of a 405)
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.message, self.scim_type)


def bad(detail: str, scim_type: str = "invalidValue") -> ScimError:
    """A 400 error (the status of every scimType but uniqueness)."""
    return ScimError(400, detail, scim_type)
