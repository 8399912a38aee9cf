"""Activities built from the change log, and the paged outbox.

A change of a catalogue record becomes a ``Create`` / ``Update`` / ``Delete`` of a ``Document``
that carries the OneRoster 1.2 JSON of the record (``oneRoster``) and its canonical type
(``fediflowType``). Mastodon ignores Documents, so for every *new public* record a ``Create`` of a
``Note`` summarising it is added ("New course: Algebra I"), which Mastodon shows.

Which records an actor publishes (:func:`publishes`):

* ``<tenant>``: non-personal records except library items; ``<tenant>.library``: library items;
* ``<tenant>.course.<id>``: that course and its classes; ``<tenant>.class.<id>``: that class;
* ``<tenant>.roster``: everything, personal data included, addressed to approved followers only.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from hub.auth import ROSTER_CORE_READONLY, may_read
from hub.federation._documents import CONTEXT, PUBLIC
from hub.federation._urls import ActorName
from hub.store import ChangeRecord

__all__ = ["LIBRARY_TYPES", "activities_for", "change_record", "item_key", "note_types", "object_url", "publishes"]

LIBRARY_TYPES = frozenset({"LibraryItem"})
_TITLE_FIELDS = ("title", "name")
_NOUNS = {"Org": "organisation", "AcademicSession": "term", "Course": "course", "Class": "class",
          "LibraryItem": "library acquisition"}


def object_url(base: str, tenant: str, type_: str, stable_id: str) -> str:
    return f"{base}/ap/objects/{tenant}/{type_}/{quote(stable_id, safe='')}"


def change_record(row: Any) -> ChangeRecord:
    """The :class:`ChangeRecord` of a row of the ``changes`` table."""
    return ChangeRecord(row.seq, row.entity_type, row.stable_id, row.op, row.version, row.source_id, row.run_id,
                        row.at, row.data)


def item_key(seq: int, index: int) -> int:
    """The position of the ``index``-th activity of change ``seq`` in an outbox (newest first: highest).

    A change becomes at most two activities (its Create / Update / Delete, then the Create of a
    Note), so ``2 * seq + index`` orders every item and is the outbox's paging cursor.
    """
    return 2 * seq + index


def publishes(name: ActorName, change: ChangeRecord, personal: bool) -> bool:
    """Whether the actor ``name`` publishes ``change`` (see the module docstring)."""
    if name.kind == "roster":
        return True
    if personal:
        return False
    if name.kind == "org":
        return change.entity_type not in LIBRARY_TYPES
    if name.kind == "library":
        return change.entity_type in LIBRARY_TYPES
    if name.kind == "class":
        return change.entity_type == "Class" and change.stable_id == name.ref
    if name.kind == "course":
        if change.entity_type == "Course":
            return change.stable_id == name.ref
        course = change.data.get("course") if change.entity_type == "Class" else None
        return isinstance(course, Mapping) and course.get("sourcedId") == name.ref
    return False


def follower_scopes(granted: Any) -> tuple[str, ...]:
    """The scopes a follower row holds (``federation_followers.scopes``); NULL: roster-core only."""
    return tuple(granted) if granted else (ROSTER_CORE_READONLY,)


def follower_may_read(granted: Any, type_name: str) -> bool:
    """Whether a follower with ``granted`` scopes receives records of ``type_name``: the hub's one
    scope rule (hub.auth.may_read), so Demographics go only to followers approved with
    roster-demographics.readonly."""
    return may_read(follower_scopes(granted), type_name)


def note_types() -> frozenset[str]:
    return frozenset(_NOUNS)


def _title(data: Mapping[str, Any], fallback: str) -> str:
    for field in _TITLE_FIELDS:
        value = data.get(field)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return fallback


def activities_for(change: ChangeRecord, *, actor_url: str, base: str, tenant: str, personal: bool,
                   public: bool, to: Sequence[str]) -> list[dict[str, Any]]:
    """The activities ``change`` becomes for one actor.

    Public actors address ``Public`` with their followers in ``cc``; the roster actor addresses
    exactly ``to`` (the approved followers the delivery goes to) and nothing else.
    """
    if public and personal:  # never: personal data is not published by public actors
        return []
    audience: dict[str, Any] = ({"to": [PUBLIC], "cc": [f"{actor_url}/followers"]} if public
                                else {"to": list(to), "cc": []})
    obj_id = object_url(base, tenant, change.entity_type, change.stable_id)
    when = change.at.isoformat().replace("+00:00", "Z")
    activity_id = f"{actor_url}/activities/{change.seq}"
    if change.op == "deleted":
        obj: dict[str, Any] = {"id": obj_id, "type": "Tombstone", "formerType": "Document",
                               "fediflowType": change.entity_type, "deleted": when}
        kind = "Delete"
    else:
        obj = {
            "id": obj_id,
            "type": "Document",
            "name": _title(change.data, change.stable_id),
            "attributedTo": actor_url,
            "fediflowType": change.entity_type,
            "oneRoster": dict(change.data),
            "updated": when,
            **audience,
        }
        kind = "Create" if change.op == "created" else "Update"
    activity = {"@context": CONTEXT, "id": activity_id, "type": kind, "actor": actor_url, "published": when,
                **audience, "object": obj}
    result = [activity]
    if public and change.op == "created" and change.entity_type in _NOUNS:
        title = _title(change.data, change.stable_id)
        note = {
            "id": f"{actor_url}/notes/{change.seq}",
            "type": "Note",
            "attributedTo": actor_url,
            "published": when,
            "content": f"<p>New {_NOUNS[change.entity_type]}: <strong>{html.escape(title)}</strong></p>",
            "summary": None,
            "sensitive": False,
            "url": obj_id,
            "tag": [],
            **audience,
        }
        result.append({"@context": CONTEXT, "id": f"{activity_id}/note", "type": "Create", "actor": actor_url,
                       "published": when, **audience, "object": note})
    return result
