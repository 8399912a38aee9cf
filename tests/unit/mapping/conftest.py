"""Small pydantic models and helpers for the mapping engine tests (independent of schemas/)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from hub.errors import MappingError
from hub.mapping import CompiledMapping, check_mapping, load_mapping


class Ref(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sourcedId: str
    type: str


class Role(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roleType: str
    role: str
    org: Ref
    beginDate: date | None = None


class Ident(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str
    identifier: str


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    sourcedId: str
    status: str = "active"
    dateLastModified: datetime | None = None
    metadata: dict[str, Any] | None = None
    username: str
    givenName: str | None = None
    enabledUser: bool = True
    age: int | None = None
    score: float | None = None
    birthDate: date | None = None
    grades: list[str] | None = None
    tags: list[int] | None = None
    roles: list[Role] | None = None
    userIds: list[Ident] | None = None
    primaryOrg: Ref | None = None
    agents: list[Ref] | None = None
    email: str | None = None
    nickname: str | None = None
    apiToken: str | None = None
    class_: Ref | None = Field(default=None, alias="class")
    anything: Any = None


class Plain(BaseModel):
    """A target without metadata."""

    sourcedId: str
    name: str | None = None


TYPES: dict[str, type[BaseModel]] = {"Person": Person, "Plain": Plain}

HEADER = """\
connector: demo
stream: people
target: Person
id: {path: sourcedId}
"""


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    def write(text: str, name: str = "people.yaml", folder: Path | None = None) -> Path:
        path = (folder or tmp_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def compile_fields(write: Callable[..., Path]) -> Callable[[str], CompiledMapping]:
    """Compile a mapping of Person from just its ``fields:`` block (indented by 2)."""

    def compile_fields(fields: str, head: str = HEADER) -> CompiledMapping:
        body = textwrap.indent(textwrap.dedent(fields).strip("\n"), "  ")
        return load_mapping(write(head + "fields:\n" + body + "\n"), TYPES)

    return compile_fields


@pytest.fixture
def mapping_error(write: Callable[..., Path]) -> Callable[[str], MappingError]:
    """The (first) MappingError of a whole file's text; asserts it names the file."""

    def mapping_error(text: str) -> MappingError:
        path = write(text)
        with pytest.raises(MappingError) as info:
            load_mapping(path, TYPES)
        assert info.value.file == str(path)
        assert str(info.value).startswith(f"{path}:")
        return info.value

    return mapping_error


@pytest.fixture
def all_errors(write: Callable[..., Path]) -> Callable[[str], list[MappingError]]:
    def all_errors(text: str) -> list[MappingError]:
        return check_mapping(write(text), TYPES)

    return all_errors


@pytest.fixture
def types() -> dict[str, type[BaseModel]]:
    """The test target types by name (Person, Plain)."""
    return TYPES


@pytest.fixture
def person() -> type[BaseModel]:
    return Person
