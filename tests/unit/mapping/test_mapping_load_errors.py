"""Every load-time error is a MappingError naming the file and the line at fault."""

from __future__ import annotations

import pytest

from hub.errors import MappingError
from hub.mapping import check_mapping, load_mapping

H = "connector: demo\nstream: people\ntarget: Person\nid: {path: sourcedId}\nfields:\n  username: username\n"


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("connector: [demo\n", 2, "not valid YAML"),
        ("", 1, "empty"),
        ("- a\n- b\n", 1, "must be a mapping"),
        ("connector: demo\nstream: people\ntarget: Nobody\nid: x\nfields: {}\n", 3, "unknown target type 'Nobody'"),
        ("stream: people\ntarget: Person\nid: x\nfields: {}\n", 1, "needs connector"),
        (H + "colour: red\n", 7, "unknown key 'colour'"),
        (H.replace("id: {path: sourcedId}\n", ""), 1, "needs id"),
        (H + "version: 2\n", 7, "version must be 1"),
        (H + "  givenNmae: x\n", 7, "unknown field 'givenNmae' of Person (did you mean 'givenName'?)"),
        (H.replace("  username: username\n", "  givenName: g\n"), 5, "required field 'username' of Person has no rule"),
        (H + "  age: {path: a, kind: int}\n", 7, "unknown rule key 'kind'"),
        (H + "  age:\n    path: a\n    const: 1\n", 9, "give one of path, const, expr, lookup"),
        (H + "  age: {path: a, type: integer}\n", 7, "unknown type 'integer'"),
        (H + "  age:\n    path: a\n    type: int\n    default: many\n", 10, "default not a valid integer"),
        (H + "  age: {path: 'a..b'}\n", 7, "not a valid path"),
        (H + "  age: {path: a}\n  age: {path: b}\n", 8, "duplicate key 'age'"),
        (H + "  age: {path: a}\n  class: c\n  class_: d\n", 9, "has two rules"),
        (H + "  grades: {path: g, split: ''}\n", 7, "split must be a separator"),
        (H + "  grades: {path: g, split: {sep: ',', trim: true}}\n", 7, "unknown split key 'trim'"),
        (H + "  age: {path: a, map: {}}\n", 7, "map is empty"),
        (H + "  age: {path: a, map: {x: 1}, unmapped: ignore}\n", 7, "unmapped must be"),
        (H + "  age: {path: a, unmapped: keep}\n", 7, "unmapped needs a map"),
        (H + "  roles:\n    path: r\n    type: list\n    fields: {role: x}\n", 9, "type cannot be combined with fields"),
        (H + "  age: {required: true}\n", 7, "needs one of path"),
        (H + "  age: {path: a, regex: '(unclosed'}\n", 7, "bad regex"),
        (H + "  age: [1, 2]\n", 7, "write a path string or a mapping"),
        (H + "  age: {const: 1, required: maybe}\n", 7, "required must be true or false"),
        (H + "  status: {const: X, map: {A: active}}\n", 7, "not in the map"),
        (H + "  email: {lookup: {stream: s, key: k, value: v}}\n", 7, "lookup needs match"),
        (H + "  email: {lookup: {stream: s, key: k, value: v, match: m, on: x}}\n", 7, "unknown lookup key 'on'"),
        (H + "  email: {lookup: {stream: s, key: k, value: v, match: m, unmatched: drop}}\n", 7, "unmatched must be"),
        (H + "  roles:\n    path: r\n    fields:\n      role: x\n      org: {const: {sourcedId: a, type: org}}\n", 9,
         "required field 'roleType' of roles has no rule"),
        (H + "  roles:\n    path: r\n    fields:\n      roleType: t\n      rolle: x\n", 11, "unknown field 'rolle' of roles"),
        (H + "  sourcedId: x\n", 7, "'sourcedId' is set by the id: block"),
        (H + "metadata: {path: m, keep: x}\n", 7, "unknown metadata key 'keep'"),
        (H.replace("id: {path: sourcedId}", "id: {path: a, expr: b}"), 4, "not both"),
        (H.replace("id: {path: sourcedId}", "id: {uuid5: []}"), 4, "non-empty list"),
        (H.replace("id: {path: sourcedId}", "id: {key: a}"), 4, "unknown id key 'key'"),
        (H.replace("target: Person", "target: Plain").replace("username: username", "name: n") + "metadata: m\n",
         7, "has no metadata field"),
    ],
)
def test_errors_name_file_and_line(mapping_error, text: str, line: int, needle: str) -> None:
    error = mapping_error(text)
    assert needle in error.detail, error.detail
    assert error.line == line, str(error)


def test_check_mapping_reports_every_error(write, types) -> None:
    path = write(H + "  bad1: x\n  age: {path: a, type: nope}\n  bad2: y\n")
    errors = check_mapping(path, types)
    assert [(e.line, e.detail.split(" (")[0]) for e in errors] == [
        (7, "unknown field 'bad1' of Person"),
        (8, "'age': unknown type 'nope'"),
        (9, "unknown field 'bad2' of Person"),
    ]
    with pytest.raises(MappingError, match=r":7: unknown field 'bad1' .*\(and 2 more errors\)"):
        load_mapping(path, types)
    assert check_mapping(write(H, name="ok.yaml"), types) == []


def test_unreadable_files(tmp_path, types) -> None:
    with pytest.raises(MappingError, match="cannot read"):
        load_mapping(tmp_path / "nope.yaml", types)
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("connector: d\u00e9mo\n".encode("latin-1"))
    with pytest.raises(MappingError, match="not UTF-8"):
        load_mapping(bad, types)


def test_fingerprint_changes_with_the_file(write, types) -> None:
    first = load_mapping(write(H), types)
    same = load_mapping(write(H, name="copy.yaml"), types)
    changed = load_mapping(write(H + "  age: {path: a, type: int}\n", name="changed.yaml"), types)
    comment = load_mapping(write(H + "# a comment\n", name="comment.yaml"), types)
    assert len(first.fingerprint) == 64
    assert first.fingerprint == same.fingerprint
    assert len({first.fingerprint, changed.fingerprint, comment.fingerprint}) == 3


def test_compiled_mapping_attributes(write, types) -> None:
    path = write(H)
    m = load_mapping(path, types)
    assert (m.connector, m.stream, m.target, m.model, m.path, m.lookups) == ("demo", "people", "Person", types["Person"], path, ())
    with pytest.raises(AttributeError):
        m.connector = "x"  # type: ignore[misc]
