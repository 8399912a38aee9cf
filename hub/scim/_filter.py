"""SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): parsing and evaluation over JSON documents.

Grammar (precedence ``not`` > ``and`` > ``or``; operators and literals case-insensitive)::

    FILTER    = attrExp / logExp / valuePath / "not" "(" FILTER ")" / "(" FILTER ")"
    valuePath = attrPath "[" valFilter "]"
    attrExp   = attrPath "pr" / attrPath compareOp compValue
    compareOp = eq / ne / co / sw / ew / gt / lt / ge / le
    compValue = false / null / true / number / string      (strings are JSON strings)
    attrPath  = [URI ":"] ATTRNAME ["." subAttr]
    PATH      = attrPath / valuePath ["." subAttr]          (PATCH only)

Evaluation follows §3.4.2.2: attribute names are case-insensitive; a multi-valued attribute
matches when any of its values does (a complex one without sub-attribute compares ``value``);
strings compare case-insensitively except ``id``, ``externalId`` and ``$ref`` (caseExact);
``gt``/``ge``/``lt``/``le`` compare date-times as instants, numbers as numbers, strings
lexically and refuse booleans; a missing attribute matches nothing but ``ne`` and ``not``.
Every syntax error is a :class:`~hub.scim._errors.ScimError` 400 ``invalidFilter`` (or
``invalidPath`` for a PATCH path), never another exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.scim._errors import ScimError

__all__ = [
    "And",
    "AttrPath",
    "Compare",
    "Filter",
    "Not",
    "Or",
    "PatchPath",
    "Present",
    "ValuePath",
    "get_ci",
    "matches",
    "parse_filter",
    "parse_path",
    "values_at",
]

MAX_FILTER_LENGTH = 4096
MAX_DEPTH = 32
COMPARE_OPS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le"})
#: caseExact attributes (RFC 7643 §3.1, §2.4): compared exactly
CASE_EXACT = frozenset({"id", "externalid", "$ref"})
_ORDERING = frozenset({"gt", "lt", "ge", "le"})


@dataclass(frozen=True, slots=True)
class AttrPath:
    """``[urn:]attr[.sub]``: ``urn`` is None for the resource's core schema."""

    urn: str | None
    attr: str
    sub: str | None = None

    def __str__(self) -> str:
        text = f"{self.urn}:{self.attr}" if self.urn else self.attr
        return f"{text}.{self.sub}" if self.sub else text


@dataclass(frozen=True, slots=True)
class Compare:
    path: AttrPath
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class Present:
    path: AttrPath


@dataclass(frozen=True, slots=True)
class And:
    left: Filter
    right: Filter


@dataclass(frozen=True, slots=True)
class Or:
    left: Filter
    right: Filter


@dataclass(frozen=True, slots=True)
class Not:
    inner: Filter


@dataclass(frozen=True, slots=True)
class ValuePath:
    """``attr[filter]``: the values of a multi-valued attribute that ``filter`` selects."""

    path: AttrPath
    filter: Filter


Filter = Compare | Present | And | Or | Not | ValuePath


@dataclass(frozen=True, slots=True)
class PatchPath:
    """A PATCH path: an attribute, optionally narrowed to the values ``filter`` selects and their ``sub``."""

    path: AttrPath
    filter: Filter | None = None
    sub: str | None = None


# --- tokens -------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<punct>[()\[\]])
      | (?P<word>[^\s()\[\]"]+)
    )""",
    re.VERBOSE,
)
_ATTRNAME = re.compile(r"^\$?[A-Za-z][A-Za-z0-9_\-]*$")
_NUMBER = re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$")


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # string | punct | word | end
    text: str
    pos: int


def _tokens(text: str, kind: str) -> list[_Tok]:
    found: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ScimError(400, f"{kind} has an unterminated string or stray character at {pos}", _error(kind))
        group = match.lastgroup or "word"
        found.append(_Tok(group, match.group(group), match.start(group)))
        pos = match.end()
    found.append(_Tok("end", "", len(text)))
    return found


def _error(kind: str) -> str:
    return "invalidPath" if kind == "path" else "invalidFilter"


def parse_attr_path(text: str, kind: str = "filter") -> AttrPath:
    """``urn:...:attr.sub`` or ``attr.sub`` as an :class:`AttrPath`."""
    urn: str | None = None
    rest = text
    if text.lower().startswith("urn:"):
        urn, sep, rest = text.rpartition(":")
        if not sep or not rest or not urn:
            raise ScimError(400, f"invalid attribute path {text!r}", _error(kind))
    attr, _, sub = rest.partition(".")
    if not _ATTRNAME.match(attr) or (sub and not _ATTRNAME.match(sub)) or "." in sub:
        raise ScimError(400, f"invalid attribute path {text!r}", _error(kind))
    return AttrPath(urn, attr, sub or None)


class _Parser:
    def __init__(self, text: str, kind: str) -> None:
        if len(text) > MAX_FILTER_LENGTH:
            raise ScimError(400, f"{kind} longer than {MAX_FILTER_LENGTH} characters", _error(kind))
        self.kind = kind
        self.toks = _tokens(text, kind)
        self.i = 0
        self.depth = 0

    def fail(self, what: str) -> ScimError:
        tok = self.toks[self.i]
        where = f"at {tok.pos} ({tok.text!r})" if tok.kind != "end" else "at the end"
        return ScimError(400, f"invalid {self.kind}: {what} {where}", _error(self.kind))

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def word_is(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.lower() in words

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        if self.tok.text != text:
            raise self.fail(f"expected {text!r}")
        self.take()

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels")

    # FILTER := or_expr
    def filter(self) -> Filter:
        self.nest()
        left = self.and_expr()
        while self.word_is("or"):
            self.take()
            left = Or(left, self.and_expr())
        self.depth -= 1
        return left

    def and_expr(self) -> Filter:
        left = self.unary()
        while self.word_is("and"):
            self.take()
            left = And(left, self.unary())
        return left

    def unary(self) -> Filter:
        if self.word_is("not"):
            self.take()
            if self.tok.text != "(":
                raise self.fail("'not' must be followed by '('")
            self.take()
            inner = self.filter()
            self.expect(")")
            return Not(inner)
        if self.tok.text == "(":
            self.take()
            inner = self.filter()
            self.expect(")")
            return inner
        return self.attr_exp()

    def attr_path(self) -> AttrPath:
        if self.tok.kind != "word":
            raise self.fail("expected an attribute path")
        return parse_attr_path(self.take().text, self.kind)

    def attr_exp(self) -> Filter:
        path = self.attr_path()
        if self.tok.text == "[":
            if path.sub:
                raise self.fail("a value filter follows an attribute, not a sub-attribute")
            self.take()
            inner = self.filter()
            self.expect("]")
            return ValuePath(path, inner)
        if self.word_is("pr"):
            self.take()
            return Present(path)
        if not (self.tok.kind == "word" and self.tok.text.lower() in COMPARE_OPS):
            raise self.fail("expected an operator (eq, ne, co, sw, ew, gt, lt, ge, le, pr)")
        op = self.take().text.lower()
        return Compare(path, op, self.comp_value(op))

    def comp_value(self, op: str) -> Any:
        tok = self.tok
        if tok.kind == "string":
            self.take()
            try:
                return json.loads(tok.text)
            except ValueError:
                raise self.fail("invalid string") from None
        if tok.kind == "word":
            lowered = tok.text.lower()
            if lowered in ("true", "false", "null"):
                self.take()
                value = {"true": True, "false": False, "null": None}[lowered]
                if op in _ORDERING and value is not None:
                    raise self.fail(f"{op!r} cannot compare booleans")
                return value
            if _NUMBER.match(tok.text):
                self.take()
                number = float(tok.text)
                return int(number) if number.is_integer() and "." not in tok.text and "e" not in lowered else number
        raise self.fail("expected a value (a quoted string, a number, true, false or null)")

    def done(self) -> None:
        if self.tok.kind != "end":
            raise self.fail("unexpected text")


def parse_filter(text: str) -> Filter:
    """Parse a ``filter`` query parameter; ScimError 400 ``invalidFilter`` when it is not one."""
    if not text or not text.strip():
        raise ScimError(400, "empty filter", "invalidFilter")
    parser = _Parser(text, "filter")
    result = parser.filter()
    parser.done()
    return result


def parse_path(text: str) -> PatchPath:
    """Parse a PATCH ``path``; ScimError 400 ``invalidPath`` when it is not one."""
    if not text or not text.strip():
        raise ScimError(400, "empty path", "invalidPath")
    parser = _Parser(text, "path")
    path = parser.attr_path()
    flt: Filter | None = None
    sub: str | None = None
    if parser.tok.text == "[":
        if path.sub:
            raise parser.fail("a value filter follows an attribute, not a sub-attribute")
        parser.take()
        flt = parser.filter()
        parser.expect("]")
        # "emails[type eq "work"].value": the tokenizer reads ".value" as one word
        if parser.tok.kind == "word" and parser.tok.text.startswith("."):
            sub = parser.take().text[1:]
            if not _ATTRNAME.match(sub):
                raise parser.fail("invalid sub-attribute")
    parser.done()
    return PatchPath(path, flt, sub)


# --- evaluation ---------------------------------------------------------------------------------


def get_ci(mapping: Mapping[str, Any], key: str) -> Any:
    """``mapping[key]`` with the key compared case-insensitively (RFC 7643 §2.1), or None."""
    if key in mapping:
        return mapping[key]
    lowered = key.lower()
    for name, value in mapping.items():
        if name.lower() == lowered:
            return value
    return None


def _container(document: Mapping[str, Any], urn: str | None, core: str) -> Mapping[str, Any] | None:
    if urn is None or urn.lower() == core.lower():
        return document
    found = get_ci(document, urn)
    return found if isinstance(found, Mapping) else None


def values_at(document: Mapping[str, Any], path: AttrPath, core: str) -> list[Any]:
    """The values ``path`` selects in ``document`` (a flat list: multi-valued attributes are unrolled)."""
    container = _container(document, path.urn, core)
    if container is None:
        return []
    value = get_ci(container, path.attr)
    items = value if isinstance(value, list) else [value]
    out: list[Any] = []
    for item in items:
        if path.sub is not None:
            if isinstance(item, Mapping):
                out.append(get_ci(item, path.sub))
        elif isinstance(item, Mapping) and isinstance(value, list):
            out.append(get_ci(item, "value"))
        else:
            out.append(item)
    return [v for v in out if v is not None]


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) < 10 or not value[:4].isdigit():
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _compare_one(actual: Any, op: str, expected: Any, exact: bool) -> bool:
    if op in ("eq", "ne"):
        if isinstance(actual, str) and isinstance(expected, str):
            when_a, when_e = _datetime(actual), _datetime(expected)
            if when_a is not None and when_e is not None and when_a.tzinfo and when_e.tzinfo:
                equal = when_a == when_e
            else:
                equal = actual == expected if exact else actual.casefold() == expected.casefold()
        elif isinstance(actual, bool) or isinstance(expected, bool):
            equal = actual is expected
        else:
            equal = actual == expected
        return equal if op == "eq" else not equal
    if op in ("co", "sw", "ew"):
        if not isinstance(actual, str) or not isinstance(expected, str):
            return False
        a, e = (actual, expected) if exact else (actual.casefold(), expected.casefold())
        return e in a if op == "co" else a.startswith(e) if op == "sw" else a.endswith(e)
    # ordering
    if isinstance(actual, bool) or expected is None:
        return False
    left: Any = actual
    right: Any = expected
    when_a, when_e = _datetime(actual), _datetime(expected)
    if when_a is not None and when_e is not None:
        if (when_a.tzinfo is None) != (when_e.tzinfo is None):
            return False
        left, right = when_a, when_e
    elif isinstance(actual, str) and isinstance(expected, str):
        if not exact:
            left, right = actual.casefold(), expected.casefold()
    elif not (isinstance(actual, int | float) and isinstance(expected, int | float)):
        return False
    try:
        return bool({"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op])
    except TypeError:
        return False


def _present(value: Any) -> bool:
    return value not in (None, "", [], {})


def matches(flt: Filter, document: Mapping[str, Any], core: str) -> bool:
    """Whether ``document`` (a resource, or one value of a multi-valued attribute) satisfies ``flt``."""
    if isinstance(flt, And):
        return matches(flt.left, document, core) and matches(flt.right, document, core)
    if isinstance(flt, Or):
        return matches(flt.left, document, core) or matches(flt.right, document, core)
    if isinstance(flt, Not):
        return not matches(flt.inner, document, core)
    if isinstance(flt, Present):
        return any(_present(v) for v in values_at(document, flt.path, core))
    if isinstance(flt, ValuePath):
        container = _container(document, flt.path.urn, core)
        items = get_ci(container, flt.path.attr) if container is not None else None
        items = items if isinstance(items, list) else [items] if isinstance(items, Mapping) else []
        return any(isinstance(item, Mapping) and matches(flt.filter, item, core) for item in items)
    found = values_at(document, flt.path, core)
    exact = (flt.path.sub or flt.path.attr).lower() in CASE_EXACT
    if flt.op == "ne" or (flt.op == "eq" and flt.value is None):
        if flt.value is None:
            has = any(_present(v) for v in found)
            return has if flt.op == "ne" else not has
        return not any(_compare_one(v, "eq", flt.value, exact) for v in found)
    return any(_compare_one(v, flt.op, flt.value, exact) for v in found)
