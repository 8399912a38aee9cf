"""The endpoint catalogue of the OneRoster 1.2 rostering service: what each path reads.

A :class:`Resource` is a collection (``/users``, ``/schools`` ...): a canonical type, maybe narrowed
by a condition (schools are orgs of type ``school``; students are users holding a ``student``
role), and its response envelope. A :class:`Relation` is a nested collection
(``/schools/{id}/classes``, ``/classes/{id}/students`` ...): parents whose existence is checked
(404 when missing) and a condition tying the child records to them. Conditions are functions of
the JSON dialect and the parent ids, so the same catalogue serves SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, exists, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

import schemas
from hub.auth import CORE_READ_SCOPES, DEMOGRAPHICS_READ_SCOPES, scopes_to_read
from hub.oneroster._fields import FieldSpec, fields_of
from hub.oneroster._json import JsonDialect
from hub.store._tables import entities  # the store's table; read-only use, always scoped by tenant_id

__all__ = [
    "CORE_SCOPES",
    "DEMOGRAPHICS_SCOPES",
    "RELATIONS",
    "RESOURCES",
    "SCOPE_PREFIX",
    "Relation",
    "Resource",
    "entities",
]

SCOPE_PREFIX = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
#: any one of these allows the core endpoints (everything but demographics); hub.auth's one rule
CORE_SCOPES = CORE_READ_SCOPES
#: the scope of the demographics endpoints (roster.readonly excludes demographics, as in the spec)
DEMOGRAPHICS_SCOPES = DEMOGRAPHICS_READ_SCOPES

Condition = Callable[[JsonDialect, Any], ColumnElement[bool]]


def _eq(path: tuple[str, ...], value: str) -> Condition:
    return lambda j, t: j.text(t.c.data, path) == value


def _has_role(role: str) -> Condition:
    def cond(j: JsonDialect, t: Any) -> ColumnElement[bool]:
        el = j.elements(t.c.data, ("roles",))
        return exists(select(true()).select_from(el).where(j.text(el.c.value, ("role",)) == role))

    return cond


@dataclass(frozen=True)
class Resource:
    """A OneRoster collection: ``path`` under the service root, the canonical type and envelope keys."""

    path: str
    type: str
    model: type[BaseModel]
    plural: str
    singular: str
    condition: Condition | None = None

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes of which a token needs one (hub.auth.scopes_to_read of the type)."""
        return scopes_to_read(self.type) or CORE_READ_SCOPES

    @property
    def fields(self) -> dict[str, FieldSpec]:
        return fields_of(self.model)

    def where(self, j: JsonDialect, table: Any = entities) -> list[ColumnElement[bool]]:
        conds = [table.c.type == self.type]
        if self.condition is not None:
            conds.append(self.condition(j, table))
        return conds


def _res(path: str, model: type[BaseModel], plural: str, singular: str, **kw: Any) -> Resource:
    return Resource(path, model.__name__, model, plural, singular, **kw)


RESOURCES: dict[str, Resource] = {
    r.path: r
    for r in (
        _res("academicSessions", schemas.AcademicSession, "academicSessions", "academicSession"),
        _res("classes", schemas.Class, "classes", "class"),
        _res("courses", schemas.Course, "courses", "course"),
        _res("demographics", schemas.Demographics, "demographics", "demographics"),
        _res("enrollments", schemas.Enrollment, "enrollments", "enrollment"),
        _res("gradingPeriods", schemas.AcademicSession, "academicSessions", "academicSession",
             condition=_eq(("type",), "gradingPeriod")),
        _res("orgs", schemas.Org, "orgs", "org"),
        _res("schools", schemas.Org, "orgs", "org", condition=_eq(("type",), "school")),
        _res("students", schemas.User, "users", "user", condition=_has_role("student")),
        _res("teachers", schemas.User, "users", "user", condition=_has_role("teacher")),
        _res("terms", schemas.AcademicSession, "academicSessions", "academicSession",
             condition=_eq(("type",), "term")),
        _res("users", schemas.User, "users", "user"),
    )
}

#: GUIDRef ``type`` -> the collection its ``href`` points into
REF_PATHS = {
    "org": "orgs",
    "academicSession": "academicSessions",
    "course": "courses",
    "class": "classes",
    "user": "users",
    "student": "students",
    "teacher": "teachers",
    "enrollment": "enrollments",
    "demographics": "demographics",
    "term": "terms",
    "gradingPeriod": "gradingPeriods",
    "school": "schools",
}


# --- nested collections ------------------------------------------------------------------------

#: (dialect, entities table, parent ids, tenant id) -> condition on the child records
RelationCondition = Callable[[JsonDialect, Any, Sequence[str], int], ColumnElement[bool]]


def _ref_is(field_: str, index: int = 0) -> RelationCondition:
    return lambda j, t, ids, tenant_id: j.text(t.c.data, (field_, "sourcedId")) == ids[index]


def _enrolled(select_field: str, where: dict[str, int], role: str | None) -> RelationCondition:
    """Records whose sourcedId appears as ``select_field`` of the tenant's enrollments matching ``where``."""

    def cond(j: JsonDialect, t: Any, ids: Sequence[str], tenant_id: int) -> ColumnElement[bool]:
        e = aliased(entities, name="enr")
        conds = [e.c.tenant_id == tenant_id, e.c.type == "Enrollment"]
        conds += [j.text(e.c.data, (name, "sourcedId")) == ids[i] for name, i in where.items()]
        if role:
            conds.append(j.text(e.c.data, ("role",)) == role)
        return t.c.stable_id.in_(select(j.text(e.c.data, (select_field, "sourcedId"))).where(*conds))

    return cond


def _user_role_at(role: str) -> RelationCondition:
    def cond(j: JsonDialect, t: Any, ids: Sequence[str], tenant_id: int) -> ColumnElement[bool]:
        el = j.elements(t.c.data, ("roles",))
        return exists(
            select(true()).select_from(el).where(
                j.text(el.c.value, ("role",)) == role, j.text(el.c.value, ("org", "sourcedId")) == ids[0]
            )
        )

    return cond


def _in_list(list_field: str) -> RelationCondition:
    def cond(j: JsonDialect, t: Any, ids: Sequence[str], tenant_id: int) -> ColumnElement[bool]:
        el = j.elements(t.c.data, (list_field,))
        return exists(select(true()).select_from(el).where(j.text(el.c.value, ("sourcedId",)) == ids[-1]))

    return cond


def _terms_of_school(j: JsonDialect, t: Any, ids: Sequence[str], tenant_id: int) -> ColumnElement[bool]:
    c = aliased(entities, name="cls")
    el = j.elements(c.c.data, ("terms",))
    sub = (
        select(j.text(el.c.value, ("sourcedId",)))
        .select_from(c)
        .join(el, true())
        .where(c.c.tenant_id == tenant_id, c.c.type == "Class", j.text(c.c.data, ("school", "sourcedId")) == ids[0])
    )
    return t.c.stable_id.in_(sub)


def _agents_of(j: JsonDialect, t: Any, ids: Sequence[str], tenant_id: int) -> ColumnElement[bool]:
    u = aliased(entities, name="usr")
    el = j.elements(u.c.data, ("agents",))
    sub = (
        select(j.text(el.c.value, ("sourcedId",)))
        .select_from(u)
        .join(el, true())
        .where(u.c.tenant_id == tenant_id, u.c.type == "User", u.c.stable_id == ids[0])
    )
    return t.c.stable_id.in_(sub)


@dataclass(frozen=True)
class Relation:
    """A nested collection: ``parents`` (resource, path parameter), then ``segment`` listing ``child`` records."""

    parents: tuple[tuple[str, str], ...]
    segment: str
    child: str
    condition: RelationCondition
    #: extra condition on the LAST parent tying it to the ones before (the class is in the school)
    parent_link: RelationCondition | None = field(default=None)

    @property
    def path(self) -> str:
        return "/".join(f"{res}/{{{param}}}" for res, param in self.parents) + "/" + self.segment

    @property
    def resource(self) -> Resource:
        return RESOURCES[self.child]


def _rel(parents: tuple[tuple[str, str], ...], segment: str, condition: RelationCondition, *,
         child: str | None = None, parent_link: RelationCondition | None = None) -> Relation:
    return Relation(parents, segment, child or segment, condition, parent_link)


_SCHOOL = (("schools", "school_id"),)
_SCHOOL_CLASS = (("schools", "school_id"), ("classes", "class_id"))


def _school_class_enrollments(j: JsonDialect, t: Any, ids: Sequence[str], tenant_id: int) -> ColumnElement[bool]:
    return and_(_ref_is("school", 0)(j, t, ids, tenant_id), _ref_is("class", 1)(j, t, ids, tenant_id))


RELATIONS: tuple[Relation, ...] = (
    _rel((("classes", "class_id"),), "students", _enrolled("user", {"class": 0}, "student")),
    _rel((("classes", "class_id"),), "teachers", _enrolled("user", {"class": 0}, "teacher")),
    _rel((("courses", "course_id"),), "classes", _ref_is("course")),
    _rel(_SCHOOL, "classes", _ref_is("school")),
    _rel(_SCHOOL, "courses", _ref_is("org")),
    _rel(_SCHOOL, "enrollments", _ref_is("school")),
    _rel(_SCHOOL, "students", _user_role_at("student")),
    _rel(_SCHOOL, "teachers", _user_role_at("teacher")),
    _rel(_SCHOOL, "terms", _terms_of_school),
    _rel(_SCHOOL_CLASS, "enrollments", _school_class_enrollments, parent_link=_ref_is("school")),
    _rel(_SCHOOL_CLASS, "students", _enrolled("user", {"school": 0, "class": 1}, "student"),
         parent_link=_ref_is("school")),
    _rel(_SCHOOL_CLASS, "teachers", _enrolled("user", {"school": 0, "class": 1}, "teacher"),
         parent_link=_ref_is("school")),
    _rel((("students", "student_id"),), "classes", _enrolled("class", {"user": 0}, "student")),
    _rel((("teachers", "teacher_id"),), "classes", _enrolled("class", {"user": 0}, "teacher")),
    _rel((("terms", "term_id"),), "classes", _in_list("terms")),
    _rel((("terms", "term_id"),), "gradingPeriods", _ref_is("parent")),
    _rel((("users", "user_id"),), "classes", _enrolled("class", {"user": 0}, None)),
    _rel((("users", "user_id"),), "agents", _agents_of, child="users"),
    _rel((("users", "user_id"),), "agentFor", _in_list("agents"), child="users"),
)
