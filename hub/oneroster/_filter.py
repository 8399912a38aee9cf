"""The OneRoster ``filter`` grammar: text -> AST. Pure Python, no database.

Grammar (OneRoster 1.2 section 3.4, with parentheses and AND-before-OR precedence as extensions)::

    filter     := or_expr
    or_expr    := and_expr ( "OR" and_expr )*
    and_expr   := primary ( "AND" primary )*
    primary    := "(" or_expr ")" | predicate
    predicate  := field operator value
    field      := name ( "." name )*               e.g. familyName, school.sourcedId, roles.role
    operator   := "=" | "!=" | ">" | ">=" | "<" | "<=" | "~"
    value      := "'" chars "'"                     a quote inside is doubled: 'O''Brien'
                | number | "true" | "false"         unquoted literals (extension)

``AND`` / ``OR`` are matched case-insensitively and must be surrounded by whitespace (or parentheses).
Every problem raises :class:`~hub.oneroster.InvalidFilter` with the position it was found at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from hub.oneroster._errors import InvalidFilter

__all__ = ["Logical", "Node", "Predicate", "parse_filter", "OPERATORS"]

OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "~")
MAX_LENGTH = 4000
MAX_PREDICATES = 32
MAX_DEPTH = 8

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_OP = re.compile(r"!=|>=|<=|=|>|<|~")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?![A-Za-z0-9_.])")
_BARE = re.compile(r"(?i:true|false)(?![A-Za-z0-9_.])")
_LOGIC = re.compile(r"(?i:and|or)(?=[\s(])")


@dataclass(frozen=True)
class Predicate:
    """``path op value``; ``quoted`` tells a quoted string from an unquoted number or boolean."""

    path: tuple[str, ...]
    op: str
    value: str | float | bool
    quoted: bool = True

    @property
    def field(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Logical:
    op: Literal["AND", "OR"]
    items: tuple[Node, ...]


Node = Predicate | Logical


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.count = 0

    def fail(self, message: str) -> InvalidFilter:
        return InvalidFilter(f"invalid filter at position {self.pos}: {message}")

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        self.skip()
        return self.pos >= len(self.text)

    def logic(self, word: str) -> bool:
        self.skip()
        match = _LOGIC.match(self.text, self.pos)
        if match and match.group(0).upper() == word and self.pos > 0 and (
            self.text[self.pos - 1].isspace() or self.text[self.pos - 1] == ")"
        ):
            self.pos = match.end()
            return True
        return False

    def or_expr(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail("too deeply nested")
        items = [self.and_expr(depth)]
        while self.logic("OR"):
            items.append(self.and_expr(depth))
        return items[0] if len(items) == 1 else Logical("OR", tuple(items))

    def and_expr(self, depth: int) -> Node:
        items = [self.primary(depth)]
        while self.logic("AND"):
            items.append(self.primary(depth))
        return items[0] if len(items) == 1 else Logical("AND", tuple(items))

    def primary(self, depth: int) -> Node:
        self.skip()
        if self.text.startswith("(", self.pos):
            self.pos += 1
            node = self.or_expr(depth + 1)
            self.skip()
            if not self.text.startswith(")", self.pos):
                raise self.fail("')' expected")
            self.pos += 1
            return node
        return self.predicate()

    def predicate(self) -> Predicate:
        self.count += 1
        if self.count > MAX_PREDICATES:
            raise self.fail(f"more than {MAX_PREDICATES} predicates")
        name = _NAME.match(self.text, self.pos)
        if not name:
            raise self.fail("field name expected")
        self.pos = name.end()
        self.skip()
        op = _OP.match(self.text, self.pos)
        if not op:
            raise self.fail(f"operator ({' '.join(OPERATORS)}) expected after {name.group(0)!r}")
        self.pos = op.end()
        self.skip()
        value, quoted = self.value()
        return Predicate(tuple(name.group(0).split(".")), op.group(0), value, quoted)

    def value(self) -> tuple[str | float | bool, bool]:
        text, pos = self.text, self.pos
        if pos < len(text) and text[pos] in "'\"":
            quote = text[pos]
            out: list[str] = []
            i = pos + 1
            while True:
                end = text.find(quote, i)
                if end < 0:
                    raise self.fail("unterminated quoted value")
                out.append(text[i:end])
                if text.startswith(quote, end + 1):  # doubled quote: a literal quote
                    out.append(quote)
                    i = end + 2
                    continue
                self.pos = end + 1
                return "".join(out), True
        number = _NUMBER.match(text, pos)
        if number:
            self.pos = number.end()
            return float(number.group(0)), False
        bare = _BARE.match(text, pos)
        if bare:
            self.pos = bare.end()
            return bare.group(0).lower() == "true", False
        raise self.fail("value expected (in single quotes)")


def parse_filter(text: str) -> Node:
    """Parse a OneRoster filter expression; raises InvalidFilter when it is not one."""
    if len(text) > MAX_LENGTH:
        raise InvalidFilter(f"filter longer than {MAX_LENGTH} characters")
    parser = _Parser(text)
    if parser.at_end():
        raise InvalidFilter("empty filter")
    node = parser.or_expr(0)
    if not parser.at_end():
        raise parser.fail("unexpected text (AND / OR expected between predicates)")
    return node
