"""Streaming the rows of one OneRoster CSV file as raw records keyed by the 1.2 column names.

The header is resolved once into a plan (which cell goes to which column, which cells are vendor
extras, which are dropped); each row then costs one ``dict(zip(...))``. Files are read row by row
from a text stream: a whole file is never held in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from hub.sdk import RawRecord, SourceDataError

from ._bundle import READ_ERRORS, Bundle
from ._columns import DROPPED, FILES, LEGACY, FileSpec, canonical_column

__all__ = [
    "PROFILE_KEYS",
    "ROLE_KEYS",
    "HeaderPlan",
    "iter_records",
    "plan_header",
    "read_header",
    "user_transform",
]

METADATA = "metadata"
ROLE_KEYS = ("roleType", "role", "orgSourcedId", "userProfileSourcedId", "beginDate", "endDate")
PROFILE_KEYS = ("sourcedId", "profileType", "vendorId", "applicationId", "description", "credentialType",
                "username")


def _getter(indexes: Sequence[int]) -> Callable[[list[str]], tuple[str, ...]]:
    if len(indexes) == 1:
        only = indexes[0]
        return lambda row: (row[only],)
    if not indexes:
        return lambda row: ()
    return itemgetter(*indexes)


@dataclass(frozen=True, slots=True)
class HeaderPlan:
    """How the cells of each row of one file become a record."""

    spec: FileSpec
    width: int
    keys: tuple[str, ...]  # column names of the kept cells, in header order
    kept: Callable[[list[str]], tuple[str, ...]] | None  # None: every cell is kept, in order
    extra_keys: tuple[str, ...]  # metadata keys of vendor / metadata.* cells
    extras: Callable[[list[str]], tuple[str, ...]]
    defaults: dict[str, str]  # known columns this file lacks -> ""
    names: tuple[str | None, ...]  # per header cell: column name, "metadata:<key>", or None (dropped)

    def partial(self, row: list[str]) -> dict[str, Any]:
        """The record of a row with the wrong number of cells: what it has, by header position."""
        data: dict[str, Any] = dict(self.defaults)
        meta: dict[str, str] = {}
        for name, value in zip(self.names, row, strict=False):
            if name is None:
                continue
            if name.startswith("metadata:"):
                if value:
                    meta[name[9:]] = value
            else:
                data[name] = value
        data[METADATA] = meta
        return data


def plan_header(spec: FileSpec, header: Sequence[str], version: str, where: str) -> HeaderPlan:
    """Resolve a header row; raise SourceDataError naming the file and its missing required columns."""
    keys: list[str] = []
    kept: list[int] = []
    extra_keys: list[str] = []
    extra_idx: list[int] = []
    names: list[str | None] = []
    for i, cell in enumerate(header):
        column = canonical_column(spec.name, cell)
        if column in DROPPED:
            names.append(None)
            continue
        if column is not None and column not in keys:
            keys.append(column)
            kept.append(i)
            names.append(column)
            continue
        label = cell.strip()
        if label.lower().startswith("metadata."):
            label = label[9:]
        if not label or label.lower() in DROPPED:
            names.append(None)
            continue
        extra_keys.append(label)
        extra_idx.append(i)
        names.append(f"metadata:{label}")
    missing = sorted(spec.required_for(version) - set(keys))
    if missing:
        raise SourceDataError(
            f"{spec.filename} is missing required column(s): {', '.join(missing)}", where=where
        )
    all_kept = kept == list(range(len(header)))
    defaults = {c: "" for c in spec.columns if c not in keys}
    return HeaderPlan(
        spec=spec,
        width=len(header),
        keys=tuple(keys),
        kept=None if all_kept else _getter(kept),
        extra_keys=tuple(extra_keys),
        extras=_getter(extra_idx),
        defaults=defaults,
        names=tuple(names),
    )


def read_header(bundle: Bundle, name: str, version: str) -> HeaderPlan:
    """Read and resolve only the header of ``name``.csv (used by check)."""
    spec = FILES[name]
    with bundle.open_text(spec.filename) as fh:
        try:
            header = next(csv.reader(fh), [])
        except READ_ERRORS as exc:
            raise SourceDataError(f"{spec.filename} is unreadable: {exc}", where=bundle.where) from exc
    if not header:
        raise SourceDataError(f"{spec.filename} is empty (no header row)", where=bundle.where)
    return plan_header(spec, header, version, bundle.location(spec.filename))


def iter_records(
    bundle: Bundle,
    name: str,
    version: str,
    transform: Callable[[dict[str, Any]], None] | None = None,
) -> Iterator[RawRecord]:
    """Yield one RawRecord per data row of ``name``.csv, streamed.

    The header is checked before the first record (missing required columns raise
    SourceDataError); a row with the wrong number of cells becomes a record with ``error``.
    ``transform`` may change each good record's data in place.
    """
    spec = FILES[name]
    filename = spec.filename
    with bundle.open_text(filename) as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
            if header is None:
                raise SourceDataError(f"{filename} is empty (no header row)", where=bundle.where)
            plan = plan_header(spec, header, version, bundle.location(filename))
            width, keys, kept, defaults = plan.width, plan.keys, plan.kept, plan.defaults
            extra_keys, extras = plan.extra_keys, plan.extras
            prefix = f"{filename}:"
            for row in reader:
                if len(row) != width:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue  # blank line
                    yield RawRecord(
                        data=plan.partial(row),
                        ref=f"{prefix}{reader.line_num}",
                        error=f"expected {width} cells, got {len(row)}",
                    )
                    continue
                data: dict[str, Any] = dict(zip(keys, row if kept is None else kept(row)))
                if defaults:
                    data.update(defaults)
                if extra_keys:
                    data[METADATA] = {k: v for k, v in zip(extra_keys, extras(row)) if v}
                else:
                    data[METADATA] = {}
                if transform is not None:
                    transform(data)
                yield RawRecord(data, f"{prefix}{reader.line_num}")
        except READ_ERRORS as exc:
            raise SourceDataError(
                f"{filename} is unreadable near line {reader.line_num + 1}: {exc}", where=bundle.where
            ) from exc


# --- users: roles and userProfiles folded in ---------------------------------------------------


def _index(
    bundle: Bundle, name: str, version: str, keys: tuple[str, ...], errors: list[RawRecord]
) -> dict[str, list[tuple[str, ...]]]:
    """userSourcedId -> tuples of ``keys``, read straight from the rows (no record per row)."""
    spec = FILES[name]
    filename = spec.filename
    index: dict[str, list[tuple[str, ...]]] = {}
    with bundle.open_text(filename) as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
            if header is None:
                raise SourceDataError(f"{filename} is empty (no header row)", where=bundle.where)
            plan = plan_header(spec, header, version, bundle.location(filename))
            width = plan.width
            position = {n: i for i, n in enumerate(plan.names) if n is not None}
            # a missing optional column reads as "" (index width -> the padding cell appended below)
            pick = itemgetter(*(position.get(k, width) for k in keys))
            user_at = position["userSourcedId"]
            status_at = position.get("status", width)
            for row in reader:
                if len(row) != width:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue
                    errors.append(RawRecord(plan.partial(row), f"{filename}:{reader.line_num}",
                                            f"expected {width} cells, got {len(row)}"))
                    continue
                row.append("")
                if row[status_at].strip().lower() == "tobedeleted":
                    continue
                index.setdefault(row[user_at], []).append(pick(row))
        except READ_ERRORS as exc:
            raise SourceDataError(
                f"{filename} is unreadable near line {reader.line_num + 1}: {exc}", where=bundle.where
            ) from exc
    return index


def user_transform(bundle: Bundle, version: str, errors: list[RawRecord]) -> Callable[[dict[str, Any]], None]:
    """Build the roles / userProfiles index and return the transform that attaches them to user rows.

    Records of roles.csv / userProfiles.csv with the wrong number of cells are appended to
    ``errors`` (the engine reports them with the users stream).
    """
    modes = bundle.manifest
    roles = _index(bundle, "roles", version, ROLE_KEYS, errors) if modes.mode("roles") != "absent" else {}
    profiles = (
        _index(bundle, "userProfiles", version, PROFILE_KEYS, errors)
        if modes.mode("userProfiles") != "absent"
        else {}
    )
    legacy = LEGACY["users"]

    def transform(data: dict[str, Any]) -> None:
        uid = data["sourcedId"]
        orgs_cell = data.pop(legacy[0], None)
        role_cell = data.pop(legacy[1], None)
        found = roles.get(uid)
        if found:
            data["roles"] = [dict(zip(ROLE_KEYS, t)) for t in found]
        elif orgs_cell is not None or role_cell:
            orgs = [o.strip() for o in (orgs_cell or "").split(",") if o.strip()] or [""]
            data["roles"] = [
                {
                    "roleType": "primary" if i == 0 else "secondary",
                    "role": role_cell or "",
                    "orgSourcedId": org,
                    "userProfileSourcedId": "",
                    "beginDate": "",
                    "endDate": "",
                }
                for i, org in enumerate(orgs)
            ]
            if not data["primaryOrgSourcedId"] and orgs[0]:
                data["primaryOrgSourcedId"] = orgs[0]
        else:
            data["roles"] = []
        found_profiles = profiles.get(uid)
        data["userProfiles"] = (
            [dict(zip(PROFILE_KEYS, t)) for t in found_profiles] if found_profiles else []
        )

    return transform
