"""Linking the records of several sources that describe one person, org, course or class.

Rules are declarative (``identity.match`` in the settings: per canonical type, the fields
compared). Two active records of *different* sources are linked when one of those fields has the
same non-empty value in both (case and surrounding space ignored); links are transitive. A group
in which one source has two records is ambiguous and is not linked at all: linking never merges
by accident. Nothing is overwritten: every record keeps its own data, source and sourcedId.

Of each group, the record of the source with the lowest ``precedence`` option (then the oldest
record) is the one the OneRoster API and exports show; the others point at it (``linked_to``)
and references to them are shown as references to it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from hub.store import EntityLinks, LinkCandidate, TenantStore

__all__ = ["LinkOutcome", "group_candidates", "relink"]

log = logging.getLogger("fediflow.identity")


@dataclass(frozen=True, slots=True)
class LinkOutcome:
    type: str
    groups: int
    linked: int
    ambiguous: int
    changed: int


def _find(parent: dict[int, int], item: int) -> int:
    root = item
    while parent[root] != root:
        root = parent[root]
    while parent[item] != root:  # path compression
        parent[item], item = root, parent[item]
    return root


def group_candidates(candidates: Sequence[LinkCandidate], precedence: Mapping[int | None, int]
                     ) -> tuple[dict[int, int | None], int, int]:
    """The wanted ``linked_to`` of every candidate, the number of linked groups and of ambiguous ones."""
    parent = {c.id: c.id for c in candidates}
    first_with: dict[tuple[int, str], int] = {}
    for c in candidates:
        for position, key in enumerate(c.keys):
            if key is None:
                continue
            seen = first_with.setdefault((position, key), c.id)
            if seen != c.id:
                a, b = _find(parent, seen), _find(parent, c.id)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    by_root: dict[int, list[LinkCandidate]] = {}
    for c in candidates:
        by_root.setdefault(_find(parent, c.id), []).append(c)
    wanted: dict[int, int | None] = {c.id: None for c in candidates}
    groups = ambiguous = 0
    for members in by_root.values():
        if len(members) < 2:
            continue
        owners = [m.source_id for m in members]
        if len(set(owners)) != len(owners) or None in owners:
            ambiguous += 1
            continue
        groups += 1
        shown = min(members, key=lambda m: (precedence.get(m.source_id, 100), m.id))
        for m in members:
            if m.id != shown.id:
                wanted[m.id] = shown.id
    return wanted, groups, ambiguous


async def relink(tenant: TenantStore, rules: Mapping[str, Sequence[str]], types: Iterable[str]) -> list[LinkOutcome]:
    """Recompute the links of ``types`` (those with rules) in ``tenant``; write only what changed.

    Cheap when a type's records all come from one source: nothing is read past one count.
    """
    repo = EntityLinks(tenant)
    precedence = {s.id: s.options.precedence for s in await tenant.list_sources()}
    outcomes = []
    for type_ in types:
        fields = rules.get(type_)
        if not fields:
            continue
        if await repo.sources_with(type_) < 2 and not await repo.has_links(type_):
            continue
        candidates = await repo.candidates(type_, fields)
        wanted, groups, ambiguous = group_candidates(candidates, precedence)
        changes = {c.id: wanted[c.id] for c in candidates if wanted[c.id] != c.linked_to}
        if changes:
            await repo.set_links(type_, changes)
        outcome = LinkOutcome(type_, groups, sum(1 for v in wanted.values() if v is not None), ambiguous, len(changes))
        (log.info if changes else log.debug)("identity links", extra={"tenant": tenant.tenant.slug, "type": type_, "groups": groups,
                                          "linked": outcome.linked, "ambiguous": ambiguous, "changed": len(changes)})
        outcomes.append(outcome)
    return outcomes
