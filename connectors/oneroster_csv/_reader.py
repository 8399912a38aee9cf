"""Streaming the rows of one OneRoster CSV file as raw records keyed by the 1.2 column names.

The header is resolved once into a plan (which cell goes to which column, which cells are vendor
extras, which are dropped); each row then costs one ``dict(zip(...))``. Files are read row by row
from a text stream: a whole file is never held in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from hub.sdk import RawRecord, SourceDataError

from ._bundle import READ_ERRORS, Bundle
from ._columns import DROPPED, FILES, LEGACY, FileSpec, canonical_column
from ._damage import DECODE_ERRORS, LineFinder, bad_text_cell, invalid_utf8_message
from ._tolerance import Note, Tolerate

__all__ = [
    "PROFILE_KEYS",
    "ROLE_KEYS",
    "FileRows",
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
    slack: int = 0  # empty cells the header ended with (ignored; rows may have them or not)
    notes: tuple[Note, ...] = ()  # what the header tolerated: warned once per file

    def column(self, index: int) -> str | None:
        """The column (or vendor extra) name of cell ``index``, None for a dropped or unnamed one."""
        name = self.names[index] if index < len(self.names) else None
        return name[9:] if name is not None and name.startswith("metadata:") else name

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


def plan_header(spec: FileSpec, header: Sequence[str], version: str, where: str | None = None) -> HeaderPlan:
    """Resolve a header row; raise SourceDataError naming the file and its missing required columns.

    Empty cells at the end of the header are ignored (a spreadsheet's habit): rows may have those
    cells or not, and the plan notes it once for the file.
    """
    slack = 0
    while len(header) > 1 and not header[-1].strip():
        header = header[:-1]
        slack += 1
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
        raise SourceDataError(f"missing required column(s): {', '.join(missing)}", where=where or spec.filename)
    notes: list[Note] = []
    if slack:
        notes.append((None, f"{spec.filename}: the header ends with {slack} empty cell(s): ignored, with the "
                            "empty cells rows have there"))
    if "userId" in keys:
        notes.append(("userId", f"{spec.filename}: userId is not a OneRoster column: read as userIds, a value "
                                "without a type ({type:identifier}) gets the type userId"))
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
        slack=slack,
        notes=tuple(notes),
    )


def read_header(bundle: Bundle, name: str, version: str) -> HeaderPlan | None:
    """Read and resolve only the header of ``name``.csv (used by check); None for a file holding a
    header without rows (nothing to read, whatever its columns)."""
    rows = FileRows(bundle, name, version)
    for _ in rows:
        break
    return rows.plan


class FileRows:
    """The rows of one file of the bundle, each a list of cells as wide as the header, or a
    :class:`RawRecord` with ``error`` for a row that cannot be one (the file goes on).

    Iterate once. ``plan`` is set once the header is read; ``reader.line_num`` is the file's line
    (1-based) where the row last given ends. A file that cannot be read as a whole (missing, empty, a header without a
    required column while rows follow, broken compression) raises SourceDataError naming it: the
    engine stops that stream only. A header without rows is no error, whatever its columns.
    """

    def __init__(self, bundle: Bundle, name: str, version: str) -> None:
        self.bundle = bundle
        self.spec = FILES[name]
        self.version = version
        self.plan: HeaderPlan | None = None
        self.reader: Any = None

    def __iter__(self) -> Iterator[list[str] | RawRecord]:
        filename = self.spec.filename
        with ExitStack() as stack:
            fh = stack.enter_context(self.bundle.open_text(filename))
            reader = self.reader = csv.reader(fh)
            seen = DECODE_ERRORS[0]  # before the first read: the first chunk may hold a bad byte
            try:
                header = next(reader, None)
                if header is None:
                    raise SourceDataError("the file is empty (no header row)", where=filename)
                try:
                    plan = self.plan = plan_header(self.spec, header, self.version)
                except SourceDataError:
                    if _has_rows(reader):
                        raise
                    return
            except READ_ERRORS as exc:
                raise SourceDataError(f"unreadable header: {exc}", where=filename) from exc
            width, slack = plan.width, plan.slack
            finder: LineFinder | None = None
            failed_at = 0
            while True:
                try:
                    for row in reader:
                        if len(row) != width:
                            if not row or (len(row) == 1 and not row[0].strip()):
                                continue  # blank line
                            if width < len(row) <= width + slack:
                                del row[width:]
                            else:
                                yield RawRecord(plan.partial(row), f"{filename}:{reader.line_num}",
                                                f"expected {width} cells, got {len(row)}")
                                continue
                        if DECODE_ERRORS[0] != seen:
                            bad = bad_text_cell(row)
                            if bad is not None:
                                yield RawRecord({}, f"{filename}:{reader.line_num}", invalid_utf8_message(bad[1]),
                                                field=plan.column(bad[0]))
                                continue
                        yield row
                except csv.Error as exc:
                    line = reader.line_num
                    if line == failed_at:  # the reader makes no progress: stop this file
                        raise SourceDataError(f"unreadable near line {line}: {exc}", where=filename) from exc
                    failed_at = line
                    if finder is None:
                        finder = LineFinder(stack.enter_context(self.bundle.open_text(filename)))
                    limit = csv.field_size_limit()
                    if "field limit" in str(exc):
                        message = (f"a cell is longer than {limit:,} characters (the most a CSV cell may hold "
                                   "here); the row is skipped")
                        at = finder.oversized_cell(line)
                    else:
                        message, at = f"the row is not valid CSV ({exc}); the row is skipped", None
                    yield RawRecord({}, f"{filename}:{line}", message, field=None if at is None else plan.column(at))
                    continue
                except READ_ERRORS as exc:
                    raise SourceDataError(f"unreadable after line {reader.line_num}: {exc}", where=filename) from exc
                return


def _has_rows(reader: Any) -> bool:
    """Whether a csv reader has a row that is not blank left (consumes it)."""
    try:
        return any(any(cell.strip() for cell in row) for row in reader)
    except csv.Error:
        return True


def iter_records(
    bundle: Bundle,
    name: str,
    version: str,
    transform: Callable[[dict[str, Any]], None] | None = None,
    tolerate: Tolerate | None = None,
    notes: Sequence[Note] = (),
) -> Iterator[RawRecord]:
    """Yield one RawRecord per data row of ``name``.csv, streamed.

    A file that cannot be read raises SourceDataError (before the first record when its header is
    at fault); a row that cannot be a record becomes a record with ``error``. ``transform`` may
    change each good record's data in place; ``tolerate`` then does (see :mod:`._tolerance`), and
    its warnings go with the record. What the header tolerated (and ``notes``, the same for files
    folded in) is warned once, with the first record.
    """
    rows = FileRows(bundle, name, version)
    prefix = f"{rows.spec.filename}:"
    plan: HeaderPlan | None = None
    for row in rows:
        if row.__class__ is RawRecord:
            yield row  # type: ignore[misc]
            continue
        if plan is None:  # the first good row: the header is planned
            plan = rows.plan
            assert plan is not None
            keys, kept, defaults, extra_keys, extras = plan.keys, plan.kept, plan.defaults, plan.extra_keys, plan.extras
            reader = rows.reader
            pending: tuple[Note, ...] = (*plan.notes, *notes)
        data: dict[str, Any] = dict(zip(keys, row if kept is None else kept(row), strict=False))  # type: ignore[arg-type]
        if defaults:
            data.update(defaults)
        if extra_keys:
            data[METADATA] = {k: v for k, v in zip(extra_keys, extras(row), strict=False) if v}  # type: ignore[arg-type]
        else:
            data[METADATA] = {}
        if transform is not None:
            transform(data)
        warned = tolerate(data) if tolerate is not None else ()
        if pending:
            warned, pending = (*pending, *warned), ()
        yield RawRecord(data, f"{prefix}{reader.line_num}", None, warned)


# --- users: roles and userProfiles folded in ---------------------------------------------------


def _index(
    bundle: Bundle, name: str, version: str, keys: tuple[str, ...], errors: list[RawRecord], notes: list[Note]
) -> dict[str, list[tuple[str, ...]]]:
    """userSourcedId -> tuples of ``keys``, read straight from the rows (no record per row); what its
    header tolerated goes to ``notes``."""
    index: dict[str, list[tuple[str, ...]]] = {}
    rows = FileRows(bundle, name, version)
    pick: Callable[[list[str]], tuple[str, ...]] | None = None
    user_at = status_at = 0
    for row in rows:
        if row.__class__ is RawRecord:
            errors.append(row)  # type: ignore[arg-type]
            continue
        if pick is None:
            plan = rows.plan
            assert plan is not None
            notes.extend(plan.notes)
            position = {n: i for i, n in enumerate(plan.names) if n is not None}
            # a missing optional column reads as "" (index width -> the padding cell appended below)
            pick = itemgetter(*(position.get(k, plan.width) for k in keys))
            user_at = position["userSourcedId"]
            status_at = position.get("status", plan.width)
        row.append("")  # type: ignore[union-attr]
        if row[status_at].strip().lower() == "tobedeleted":  # type: ignore[index]
            continue
        index.setdefault(row[user_at], []).append(pick(row))  # type: ignore[index,arg-type]
    return index


def user_transform(
    bundle: Bundle, version: str, errors: list[RawRecord], notes: list[Note] | None = None
) -> Callable[[dict[str, Any]], None]:
    """Build the roles / userProfiles index and return the transform that attaches them to user rows.

    Records of roles.csv / userProfiles.csv that cannot be read are appended to ``errors`` (the
    engine reports them with the users stream), what their headers tolerated to ``notes``. A
    vendor's ``userId`` column becomes ``userIds``: a value without a type gets the type userId.
    """
    modes = bundle.manifest
    notes = notes if notes is not None else []
    roles = _index(bundle, "roles", version, ROLE_KEYS, errors, notes) if modes.mode("roles") != "absent" else {}
    profiles = (
        _index(bundle, "userProfiles", version, PROFILE_KEYS, errors, notes)
        if modes.mode("userProfiles") != "absent"
        else {}
    )
    legacy = LEGACY["users"]

    def transform(data: dict[str, Any]) -> None:
        uid = data["sourcedId"]
        orgs_cell = data.pop(legacy[0], None)
        role_cell = data.pop(legacy[1], None)
        user_id = data.pop(legacy[2], None)
        if user_id:
            data["userIds"] = _user_ids(user_id, data.get("userIds") or "")
        found = roles.get(uid)
        if found:
            data["roles"] = [dict(zip(ROLE_KEYS, t, strict=False)) for t in found]
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
            [dict(zip(PROFILE_KEYS, t, strict=False)) for t in found_profiles] if found_profiles else []
        )

    return transform


def _user_ids(cell: str, existing: str) -> str:
    """A ``userId`` cell as ``userIds`` text: ``12345`` -> ``{userId:12345}``; typed values stay."""
    items = [item.strip() for item in cell.split(",") if item.strip()]
    typed = ",".join(item if ":" in item else f"{{userId:{item}}}" for item in items)
    return f"{existing},{typed}" if existing and typed else existing or typed
