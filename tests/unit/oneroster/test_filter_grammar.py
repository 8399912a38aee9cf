"""The filter grammar alone (no database) and the package's public surface."""

from __future__ import annotations

import random

import pytest

import hub.oneroster as oneroster
from hub.oneroster import InvalidFilter, Logical, Predicate, parse_filter


def test_public_names() -> None:
    assert sorted(oneroster.__all__) == sorted(n for n in oneroster.__all__ if hasattr(oneroster, n))
    assert {"RosterQuery", "ListParams", "parse_filter", "RESOURCES", "RELATIONS", "status_info"} <= set(
        oneroster.__all__)


def test_predicate_and_precedence() -> None:
    node = parse_filter("a='x' OR b.c>=2 AND d~'y z'")
    assert node == Logical("OR", (Predicate(("a",), "=", "x"),
                                  Logical("AND", (Predicate(("b", "c"), ">=", 2.0, False),
                                                  Predicate(("d",), "~", "y z")))))


@pytest.mark.parametrize("op", ["=", "!=", ">", ">=", "<", "<="])
def test_operators(op: str) -> None:
    assert parse_filter(f"x{op}'1'") == Predicate(("x",), op, "1")


def test_quotes_and_literals() -> None:
    assert parse_filter("n='O''Brien'").value == "O'Brien"
    assert parse_filter('n="a b"').value == "a b"
    assert parse_filter("n=true").value is True
    assert parse_filter("(n='a' or m='b') and k='c'").op == "AND"


@pytest.mark.parametrize("text", ["", "   ", "a", "a=", "a='x", "=x", "a='x' b='y'", "a='x' AND", "(a='x'",
                                  "a='x')", "a=='x'", "a=x", "a.='x'", "a='x' ANDb='y'"])
def test_invalid(text: str) -> None:
    with pytest.raises(InvalidFilter):
        parse_filter(text)


def test_limits() -> None:
    with pytest.raises(InvalidFilter):
        parse_filter(" AND ".join(["a='x'"] * 40))
    with pytest.raises(InvalidFilter):
        parse_filter("(" * 20 + "a='x'" + ")" * 20)


def test_fuzz_only_invalid_filter_errors() -> None:
    rng = random.Random(7)
    alphabet = "ab.=!<>~'\"() ANDOR12 true_%\\é"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        try:
            parse_filter(text)
        except InvalidFilter:
            pass
