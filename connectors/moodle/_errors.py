"""Moodle's web-service errors: HTTP 200 with ``{"exception": ..., "errorcode": ..., "message": ...}``.

Moodle's REST server answers a failed call with status 200 and that body (plus ``debuginfo`` when
the site's debugging is on, which is never copied into messages). :func:`raise_for_moodle_error`
turns it into a :class:`~hub.sdk.ConnectorError` that says what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from hub.sdk import ConnectorError, OffsetLimitPaging, PageRequest

__all__ = ["MoodlePaging", "is_moodle_error", "moodle_error", "raise_for_moodle_error"]

_CREDENTIALS = frozenset({"invalidtoken", "invalidlogin", "usernotfullysetup"})
_NOT_ALLOWED = frozenset({"accessexception", "nopermissions", "webservicenotavailable", "servicerequireslogin"})
_LATER = frozenset({"sitemaintenance"})


def is_moodle_error(document: Any) -> bool:
    return isinstance(document, Mapping) and "exception" in document and "errorcode" in document


def moodle_error(function: str, document: Mapping[str, Any]) -> ConnectorError:
    code = str(document.get("errorcode") or "")
    said = " ".join(str(document.get("message") or "").split())[:200]
    if code in _CREDENTIALS:
        return ConnectorError(
            f"Moodle rejected the web service token ({code}: {said}); check wstoken in the source's config "
            "and that the token is not expired or restricted to other IP addresses",
            retryable=False,
            status=401,
        )
    if code in _NOT_ALLOWED:
        return ConnectorError(
            f"Moodle does not let this token call {function} ({code}: {said}); add {function} to the "
            "token's external service and give its user the capabilities the function needs",
            retryable=False,
            status=403,
        )
    return ConnectorError(
        f"Moodle {function} failed ({document.get('exception')}/{code}: {said})",
        retryable=code in _LATER,
    )


def raise_for_moodle_error(function: str, document: Any) -> Any:
    if is_moodle_error(document):
        raise moodle_error(function, document)
    return document


@dataclass(frozen=True)
class MoodlePaging:
    """``OffsetLimitPaging`` over a function's ``limitfrom``/``limitnumber`` options, Moodle errors first."""

    function: str
    inner: OffsetLimitPaging

    def first(self, path: str, params: Mapping[str, Any], resume: Mapping[str, Any] | None) -> PageRequest:
        return self.inner.first(path, params, resume)

    def parse(self, response: httpx.Response, request: PageRequest) -> tuple[Sequence[Any], PageRequest | None]:
        try:
            document = response.json()
        except ValueError:
            document = None
        raise_for_moodle_error(self.function, document)
        return self.inner.parse(response, request)
