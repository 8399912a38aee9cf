"""The expression language: what it computes and everything it refuses at load time."""

from __future__ import annotations

import pytest

from hub.mapping import FUNCTIONS

H = "connector: demo\nstream: people\ntarget: Person\nid: sourcedId\nfields:\n  username: username\n"


@pytest.mark.parametrize(
    ("expr", "needle"),
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("lower(__import__)", "names starting with __"),
        ("().__class__", "attribute access"),
        ("username.upper()", "calling anything but a function name"),
        ("x.y", "attribute access"),
        ("x['__class__']", "keys starting with __"),
        ("__builtins__", "names starting with __"),
        ("open('/etc/passwd')", "unknown function 'open'"),
        ("eval('1')", "unknown function 'eval'"),
        ("getattr(x, 'y')", "unknown function 'getattr'"),
        ("(lambda: 1)()", "calling anything but a function name"),
        ("lambda: 1", "lambda is not allowed"),
        ("[c for c in x]", "list comprehensions"),
        ("{c for c in x}", "set comprehensions"),
        ("(c for c in x)", "generator expressions"),
        ("f'{x}'", "f-strings"),
        ("x[1:2]", "slices"),
        ("x[y]", "constant index or key"),
        ("x * 2", "Mult"),
        ("2 ** 1000", "Pow"),
        ("x - 1", "Sub"),
        ("{'a': 1}", "dict literals"),
        ("(y := 1)", "assignment expressions"),
        ("lower(x, *y)", "star arguments"),
        ("lower(s=x)", "keyword arguments"),
        ("lower(x, y)", "lower() takes 1 argument(s), got 2"),
        ("replace(x)", "replace() takes 3 argument(s), got 1"),
        ("get(x)", "constant path string"),
        ("get('a..b')", "not a valid path"),
        ("b'x'", "constant of type bytes"),
        ("x +", "syntax error"),
        ("x if", "syntax error"),
        ("~x", "Invert"),
        ("x" * 3000, "longer than"),
    ],
)
def test_unsafe_or_invalid_expressions_fail_at_load(mapping_error, expr: str, needle: str) -> None:
    error = mapping_error(H + f"  givenName: {{expr: {expr!r}}}\n".replace("{expr: '", '{expr: "').replace("'}", '"}')
                          if "'" not in expr else H + "  givenName:\n    expr: " + repr(expr).replace("\\'", "'") + "\n")  # fmt: skip
    assert needle in error.detail, error.detail
    assert error.line in (7, 8)
    assert "bad expression" in error.detail


def test_error_line_inside_a_block_expression(mapping_error) -> None:
    text = H + "  givenName:\n    expr: |\n      concat(\n        first,\n        x.y)\n"
    error = mapping_error(text)
    assert error.line == 11 and "attribute access" in error.detail


def test_functions_are_the_documented_set() -> None:
    assert set(FUNCTIONS) == {
        "lower", "upper", "strip", "concat", "coalesce", "split", "join", "replace",
        "int", "float", "bool", "str", "len", "startswith", "endswith", "get",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("lower(a)", "mixed"),
        ("upper(a)", "MIXED"),
        ("strip(p)", "padded"),
        ("strip(b, '{}')", "x:1"),
        ("concat(a, '-', missing, '-', 1, true_)", "Mixed--1true"),
        ("coalesce(missing, empty, a)", "Mixed"),
        ("split(csv)", ["a", "b", "", "c"]),
        ("split(b, ':', 1)[1]", "1}"),
        ("join(list_, '|')", "a|b"),
        ("join(split(csv), '/')", "a/b/c"),
        ("replace(a, 'x', 'X')", "MiXed"),
        ("int('7') + 1", 8),
        ("float('1.5')", 1.5),
        ("bool('yes')", True),
        ("str(n)", "12"),
        ("len(a) + len(missing)", 5),
        ("startswith(a, 'Mi') and endswith(a, 'ed')", True),
        ("get('nested.list[1]')", "y"),
        ("_['odd key']", "v"),
        ("list_[-1]", "b"),
        ("nested['list'][0]", "x"),
        ("nested['nope']", None),
        ("list_[9]", None),
        ("a == 'Mixed' and not (n < 3) and n >= 12 and n != 1", True),
        ("'yes' if missing is None else 'no'", "yes"),
        ("empty is None", True),  # "" reads as None
        ("a in ('Mixed', 'x') and 'b' not in ['a']", True),
        ("-n + 0", -12),
        ("lower(missing)", None),
        ("missing or 'fallback'", "fallback"),
    ],
)
def test_expression_results(compile_fields, expr: str, expected: object) -> None:
    m = compile_fields(f"username: username\nanything:\n  expr: >-\n    {expr}")
    record = {"sourcedId": "u1", "username": "x", "a": "Mixed", "p": "  padded ", "b": "{x:1}", "csv": "a, b,,c",
              "list_": ["a", "b"], "n": 12, "true_": True, "empty": "", "nested": {"list": ["x", "y"]}, "odd key": "v"}  # fmt: skip
    assert m.apply(record).get("anything") == expected
