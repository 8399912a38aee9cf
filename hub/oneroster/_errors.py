"""Errors of the OneRoster provider, each carrying the spec's ``imsx_codeMinor`` value and HTTP status.

They derive from the hub's one exception tree (:class:`hub.errors.HubError`)::

    OneRosterError (HubError)
     +-- InvalidFilter        400  invalid_filter_field     the ``filter`` parameter cannot be parsed or names an unknown field
     +-- InvalidSelection     400  invalid_selection_field  ``fields`` names a field the resource does not have
     +-- InvalidSort          400  invalid_selection_field  ``sort`` names an unknown or unsortable field
     +-- InvalidData          400  invaliddata              ``limit`` / ``offset`` / ``orderBy`` malformed
     +-- UnknownObject        404  unknownobject            no such record (or it belongs to another tenant)

Every ``code_minor`` is a value of the OneRoster 1.2 ``imsx_codeMinorFieldValue`` enumeration
(:data:`CODE_MINOR_VALUES`); 1.1's ``invalid_sort_field`` is not in it, so a bad ``sort`` is
``invalid_selection_field`` (the field named does not exist or cannot be used), the code the 1.2
document gives for a 400 about a field.

The API layer renders them as an ``imsx_StatusInfo`` body (see :func:`status_info`).
"""

from __future__ import annotations

from typing import Any

from hub.errors import HubError

__all__ = [
    "CODE_MINOR_VALUES",
    "InvalidData",
    "InvalidFilter",
    "InvalidSelection",
    "InvalidSort",
    "OneRosterError",
    "UnknownObject",
    "status_info",
]

#: the ``imsx_codeMinorFieldValue`` enumeration of OneRoster 1.2 (rostering service)
CODE_MINOR_VALUES = frozenset({
    "fullsuccess", "invalid_filter_field", "invalid_selection_field", "invaliddata", "unauthorisedrequest",
    "forbidden", "server_busy", "unknownobject", "internal_server_error",
})


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
    code_minor = "invalid_selection_field"


class InvalidData(OneRosterError):
    code_minor = "invaliddata"


class UnknownObject(OneRosterError):
    code_minor = "unknownobject"
    http_status = 404


def status_info(code_minor: str, description: str, *, severity: str = "error") -> dict[str, Any]:
    """The OneRoster 1.2 ``imsx_StatusInfo`` error body; ``code_minor`` must be a 1.2 value."""
    if code_minor not in CODE_MINOR_VALUES:
        raise ValueError(f"{code_minor!r} is not a OneRoster 1.2 imsx_codeMinorFieldValue")
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
