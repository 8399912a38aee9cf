"""docs/canonical-model.md documents exactly the fields the models have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

import schemas
from schemas import BUILTIN_TYPES, CanonicalRecord

DOC = Path(__file__).resolve().parents[3] / "docs" / "canonical-model.md"
DOCUMENTED = [*BUILTIN_TYPES, "CanonicalRecord", "Ref", "UserRole", "UserId", "UserProfile", "Credential"]


def _doc_tables() -> dict[str, list[str]]:
    """Section title -> field names listed in the first column of its table."""
    tables: dict[str, list[str]] = {}
    section = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            tables[section] = []
        elif section is not None and (match := re.match(r"^\| `([^`]+)` \|", line)):
            tables[section].append(match.group(1))
    return tables


def _fields(model: type[BaseModel]) -> list[str]:
    names = [info.alias or name for name, info in model.model_fields.items()]
    if model is not CanonicalRecord and issubclass(model, CanonicalRecord):
        names = [n for n in names if n not in CanonicalRecord.model_fields]
    return names


@pytest.mark.parametrize("type_name", DOCUMENTED)
def test_doc_table_matches_model(type_name: str) -> None:
    tables = _doc_tables()
    assert type_name in tables, f"docs/canonical-model.md has no '## {type_name}' section"
    model = getattr(schemas, type_name)
    documented = tables[type_name]
    assert len(documented) == len(set(documented)), "field listed twice"
    assert set(documented) - set(_fields(model)) == set(), "documented but not in the model"
    assert set(_fields(model)) - set(documented) == set(), "in the model but not documented"
    assert documented == _fields(model), "keep the table in the model's field order"


def test_doc_states_personal_flags() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name, model in BUILTIN_TYPES.items():
        assert f"`oneroster_type = \"{model.oneroster_type}\"`, `personal = {model.personal}`" in text, name


def test_doc_has_no_password_field() -> None:
    for fields in _doc_tables().values():
        assert "password" not in fields
