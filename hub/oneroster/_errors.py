"""Errors of the OneRoster provider, each carrying the spec's ``imsx_codeMinor`` value and HTTP status.

They derive from the hub's one exception tree (:class:`hub.errors.HubError`)::

    OneRosterError (HubError)
     +-- InvalidFilter        400  invalid_filter_field     the ``filter`` parameter cannot be parsed or names an unknown field
     +-- InvalidSelection     400  invalid_selection_field  ``fields`` names a field the resource does not have
     +-- InvalidSort          400  invalid_sort_field       ``sort`` names an unknown or unsortable field
     +-- InvalidData          400  invaliddata              ``limit`` / ``offset`` / ``orderBy`` malformed
     +-- UnknownObject        404  unknownobject            no such record (or it belongs to another tenant)

The API layer renders them as an ``imsx_StatusInfo`` body (see :func:`status_info`).
"""

from __future__ import annotations

from typing import Any

from hub.errors import HubError

__all__ = [
    "InvalidData",
    "InvalidFilter",
    "InvalidSelection",
    "InvalidSort",
    "OneRosterError",
    "UnknownObject",
    "status_info",
]


class OneRosterError(HubError):
    code = "oneroster-error"
    #: the OneRoster ``imsx_codeMinorFieldValue``
    code_minor: str = "invaliddata"
    #: the HTTP status of the response
    http_status: int = 400


class InvalidFilter(OneRosterError):
    code_minor = "invalid_filter_field"


class InvalidSelection(OneRosterError):
    code_minor = "invalid_selection_field"


class InvalidSort(OneRosterError):
    code_minor = "invalid_sort_field"


class InvalidData(OneRosterError):
    code_minor = "invaliddata"


class UnknownObject(OneRosterError):
    code_minor = "unknownobject"
    http_status = 404


def status_info(code_minor: str, description: str, *, severity: str = "error") -> dict[str, Any]:
    """The OneRoster 1.2 ``imsx_StatusInfo`` error body."""
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": severity,
        "imsx_description": description,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": code_minor}
            ]
        },
    }
