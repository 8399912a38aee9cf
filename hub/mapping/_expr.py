"""The safe expression language of mapping rules (``expr:``).

An expression is parsed with :mod:`ast` and checked against a whitelist before anything runs:

* names are fields of the current source record (``givenName``); ``_`` is the record itself;
  a name reads an empty string as ``None``;
* literals: strings, numbers, ``true``-style booleans (``True``/``False``), ``None``, lists and
  tuples of expressions;
* operators: ``+``, unary ``-``, comparisons (``== != < <= > >= in not in is is not``),
  ``and``/``or``/``not``, the conditional ``a if cond else b``;
* subscripts with a constant index or key (``parts[0]``, ``_['first name']``), never a dunder;
* calls to the functions in :data:`FUNCTIONS` only, positional arguments only.

Anything else (attribute access, lambdas, comprehensions, f-strings, keyword arguments, other
operators, names starting with ``__``) is rejected when the mapping is loaded. The checked tree
is then rewritten (names become record reads, calls go to the fixed functions) and compiled once
into a plain function with no builtins; running it walks no tree.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from hub.mapping._coerce import ValueProblem, text, to_bool, to_float, to_int
from hub.mapping._paths import compile_path, parse_path

__all__ = ["FUNCTIONS", "ExpressionError", "compile_expression"]

MAX_LENGTH = 2000


class ExpressionError(Exception):
    """An expression was rejected; ``lineno`` is its 1-based line inside the expression text."""

    def __init__(self, message: str, lineno: int = 1) -> None:
        super().__init__(message)
        self.lineno = lineno


# --- the functions ---------------------------------------------------------------------------------


def _lower(value: Any) -> str | None:
    if value.__class__ is str:
        return value.lower()
    return None if value is None else text(value).lower()


def _upper(value: Any) -> str | None:
    if value.__class__ is str:
        return value.upper()
    return None if value is None else text(value).upper()


def _strip(value: Any, chars: str | None = None) -> str | None:
    if value.__class__ is str:
        return value.strip(chars)
    return None if value is None else text(value).strip(chars)


def _concat(*values: Any) -> str:
    return "".join("" if value is None else text(value) for value in values)


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value is not None and value != "":
            return value
    return None


def _split(value: Any, sep: str = ",", maxsplit: int = -1) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in (value if value.__class__ is str else text(value)).split(sep, maxsplit)]


def _join(values: Any, sep: str = ",") -> str | None:
    if values is None:
        return None
    if not isinstance(values, list | tuple):
        return text(values)
    return sep.join(text(value) for value in values if value is not None and value != "")


def _replace(value: Any, old: str, new: str) -> str | None:
    return None if value is None else text(value).replace(old, new)


def _int(value: Any) -> int | None:
    return None if value is None or value == "" else to_int(value)


def _float(value: Any) -> float | None:
    return None if value is None or value == "" else to_float(value)


def _bool(value: Any) -> bool | None:
    return None if value is None or value == "" else to_bool(value)


def _str(value: Any) -> str | None:
    return None if value is None else text(value)


def _len(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | list | tuple | dict):
        return len(value)
    raise ValueProblem(f"len() of a {type(value).__name__}", show=False)


def _startswith(value: Any, prefix: str) -> bool:
    return value is not None and text(value).startswith(prefix)


def _endswith(value: Any, suffix: str) -> bool:
    return value is not None and text(value).endswith(suffix)


#: name -> (function, fewest arguments, most arguments or None for any number)
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int | None]] = {
    "lower": (_lower, 1, 1),
    "upper": (_upper, 1, 1),
    "strip": (_strip, 1, 2),
    "concat": (_concat, 1, None),
    "coalesce": (_coalesce, 1, None),
    "split": (_split, 1, 3),
    "join": (_join, 1, 2),
    "replace": (_replace, 3, 3),
    "int": (_int, 1, 1),
    "float": (_float, 1, 1),
    "bool": (_bool, 1, 1),
    "str": (_str, 1, 1),
    "len": (_len, 1, 1),
    "startswith": (_startswith, 2, 2),
    "endswith": (_endswith, 2, 2),
    "get": (None, 1, 1),  # type: ignore[dict-item]  # compiled to a path getter
}


def _field(record: Any, name: str) -> Any:
    try:
        value = record.get(name)
    except AttributeError:
        return None
    return None if value == "" else value


def _item(container: Any, key: Any) -> Any:
    cls = container.__class__
    if (cls is list or cls is tuple or cls is str) and key.__class__ is int:
        return container[key] if -len(container) <= key < len(container) else None
    if cls is dict:
        return container.get(key)
    if container is None or key.__class__ is int:
        return None
    try:
        return container.get(key)
    except AttributeError:
        return None


# --- checking ------------------------------------------------------------------------------------

_COMPARE_OPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot)
_UNARY_OPS = (ast.Not, ast.USub, ast.UAdd)
_CONSTANT_TYPES = (str, int, float, bool, type(None))
_FRIENDLY = {
    "Attribute": "attribute access (a.b)",
    "Lambda": "lambda",
    "ListComp": "list comprehensions",
    "SetComp": "set comprehensions",
    "DictComp": "dict comprehensions",
    "GeneratorExp": "generator expressions",
    "JoinedStr": "f-strings",
    "NamedExpr": "assignment expressions (:=)",
    "Starred": "star arguments",
    "Dict": "dict literals",
    "Set": "set literals",
    "Slice": "slices",
    "Await": "await",
    "Yield": "yield",
    "YieldFrom": "yield",
}


def _reject(node: ast.AST, what: str) -> ExpressionError:
    return ExpressionError(f"{what} not allowed in expressions", getattr(node, "lineno", 1))


def _check(node: ast.AST) -> None:
    if isinstance(node, ast.Expression):
        _check(node.body)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, _UNARY_OPS):
            raise _reject(node, f"operator {type(node.op).__name__} is")
        _check(node.operand)
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, ast.Add):
            raise _reject(node, f"operator {type(node.op).__name__} is (only + is allowed)")
        _check(node.left)
        _check(node.right)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if not isinstance(op, _COMPARE_OPS):
                raise _reject(node, f"comparison {type(op).__name__} is")
        _check(node.left)
        for comparator in node.comparators:
            _check(comparator)
    elif isinstance(node, ast.IfExp):
        _check(node.test)
        _check(node.body)
        _check(node.orelse)
    elif isinstance(node, ast.Call):
        _check_call(node)
    elif isinstance(node, ast.Name):
        if node.id.startswith("__"):
            raise _reject(node, f"name {node.id!r}: names starting with __ are")
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, _CONSTANT_TYPES):
            raise _reject(node, f"constant of type {type(node.value).__name__} is")
    elif isinstance(node, ast.List | ast.Tuple):
        for element in node.elts:
            _check(element)
    elif isinstance(node, ast.Subscript):
        _check(node.value)
        _subscript_key(node)
    else:
        name = type(node).__name__
        raise _reject(node, _FRIENDLY.get(name, name) + (" is" if name in ("Lambda", "Await") else " are"))


def _check_call(node: ast.Call) -> None:
    if not isinstance(node.func, ast.Name):
        raise _reject(node, "calling anything but a function name is")
    name = node.func.id
    if node.keywords:
        raise _reject(node, "keyword arguments are")
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            raise _reject(arg, "star arguments are")
    if name not in FUNCTIONS:
        raise ExpressionError(
            f"unknown function {name!r} (allowed: {', '.join(sorted(FUNCTIONS))})", node.lineno
        )
    _, fewest, most = FUNCTIONS[name]
    if len(node.args) < fewest or (most is not None and len(node.args) > most):
        expected = str(fewest) if fewest == most else f"{fewest} to {most}" if most else f"at least {fewest}"
        raise ExpressionError(f"{name}() takes {expected} argument(s), got {len(node.args)}", node.lineno)
    if name == "get":
        arg = node.args[0]
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            raise ExpressionError("get() takes a constant path string", node.lineno)
        try:
            parse_path(arg.value)
        except ValueError as exc:
            raise ExpressionError(f"get(): {exc}", node.lineno) from None
        return
    for arg in node.args:
        _check(arg)


def _subscript_key(node: ast.Subscript) -> int | str:
    key = node.slice
    if isinstance(key, ast.UnaryOp) and isinstance(key.op, ast.USub) and isinstance(key.operand, ast.Constant):
        if key.operand.value.__class__ is int:
            return -key.operand.value
    if isinstance(key, ast.Constant):
        if key.value.__class__ is int:
            return key.value
        if isinstance(key.value, str):
            if key.value.startswith("__"):
                raise _reject(node, f"subscript {key.value!r}: keys starting with __ are")
            return key.value
    if isinstance(key, ast.Slice):
        raise _reject(node, "slices are")
    raise _reject(node, "subscripts other than a constant index or key are")


# --- rewriting and compiling ---------------------------------------------------------------------


class _Rewrite(ast.NodeTransformer):
    """Turn a checked tree into one that only calls the fixed helpers of the environment."""

    def __init__(self, env: dict[str, Any]) -> None:
        self.env = env
        self.names: set[str] = set()

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id == "_":
            return ast.Name("__r", ast.Load())
        self.names.add(node.id)
        return ast.Call(ast.Name("__field", ast.Load()), [ast.Name("__r", ast.Load()), ast.Constant(node.id)], [])

    def visit_Call(self, node: ast.Call) -> ast.AST:
        assert isinstance(node.func, ast.Name)
        name = node.func.id
        if name == "get":
            path = node.args[0].value  # type: ignore[attr-defined]
            self.names.add(path)
            slot = f"__path{len(self.env)}"
            self.env[slot] = compile_path(parse_path(path))
            return ast.Call(ast.Name(slot, ast.Load()), [ast.Name("__r", ast.Load())], [])
        return ast.Call(ast.Name(f"__fn_{name}", ast.Load()), [self.visit(arg) for arg in node.args], [])

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        key = _subscript_key(node)
        return ast.Call(ast.Name("__item", ast.Load()), [self.visit(node.value), ast.Constant(key)], [])


def compile_expression(source: str, filename: str) -> tuple[Callable[[Any], Any], frozenset[str]]:
    """Check and compile ``source``; return the function of a record and the field names it reads.

    Raise :class:`ExpressionError` for anything outside the language.
    """
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error: {exc.msg}", exc.lineno or 1) from None
    _check(tree)
    env: dict[str, Any] = {"__builtins__": {}, "__field": _field, "__item": _item}
    env.update({f"__fn_{name}": fn for name, (fn, _, _) in FUNCTIONS.items() if fn is not None})
    rewrite = _Rewrite(env)
    body = rewrite.visit(tree.body)
    arguments = ast.arguments(
        posonlyargs=[], args=[ast.arg("__r")], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
    )
    wrapper = ast.fix_missing_locations(ast.Expression(ast.Lambda(arguments, body)))
    code = compile(wrapper, filename, "eval")
    function = eval(code, env)  # noqa: S307 - the tree was whitelisted above and has no builtins
    return function, frozenset(rewrite.names)
