"""docs/mappings.md stays honest: its complete example compiles and maps a record."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.mapping import FUNCTIONS, load_mapping

DOC = Path(__file__).resolve().parents[3] / "docs" / "mappings.md"


def example() -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- tested-example -->\s*```yaml\n(.*?)```", text, re.S)
    assert found, "docs/mappings.md lost its tested example"
    return found.group(1)


def test_doc_example_compiles_and_maps(tmp_path: Path) -> None:
    schemas = pytest.importorskip("schemas")
    path = tmp_path / "users.yaml"
    path.write_text(example(), encoding="utf-8")
    mapping = load_mapping(path, schemas.BUILTIN_TYPES)
    assert [spec.stream for spec in mapping.lookups] == ["demographics"]
    tables = {mapping.lookups[0]: {"u1": "S-77"}}
    record = {
        "sourcedId": "u1", "status": "", "dateLastModified": "2025-01-01T00:00:00", "enabledUser": "yes",
        "username": "", "email": "JDoe@Example.org", "userIds": "{Fed:1}", "givenName": "Jane", "familyName": "Doe",
        "preferredGivenName": "", "agentSourcedIds": "p1", "grades": "09", "primaryOrgSourcedId": "s1",
        "roles": [{"roleType": "", "role": "administrator", "orgSourcedId": "s1", "beginDate": "", "endDate": ""}],
        "metadata": {"vendor": "x"},
    }  # fmt: skip
    data = mapping.validate(record, tables).model_dump(mode="json", by_alias=True, exclude_none=True)
    assert data["username"] == "jdoe@example.org" and data["identifier"] == "S-77"
    assert data["roles"] == [{"roleType": "primary", "role": "ext:administrator", "org": {"sourcedId": "s1", "type": "org"}}]
    assert data["userIds"] == [{"type": "Fed", "identifier": "1"}]


def test_doc_lists_every_rule_key_and_function() -> None:
    from hub.mapping._rules import RULE_KEYS

    text = DOC.read_text(encoding="utf-8")
    for key in RULE_KEYS:
        assert f"| `{key}` |" in text, key
    for name in FUNCTIONS:
        assert f"`{name}(" in text, name
