"""YAML loading that keeps line numbers: a mapping file is composed to nodes, not just loaded.

Every error about a mapping file names the file and the line of the node at fault, so the loader
works on :mod:`yaml` nodes (with their ``start_mark``) and builds plain Python values from a node
only where a rule needs a literal (``const``, ``default``, ``map``).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hub.errors import MappingError

__all__ = ["Doc", "MappingNode", "Node", "ScalarNode", "SequenceNode"]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Doc:
    """One parsed mapping file: its root node, plus helpers that read nodes and name their line."""

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        try:
            loader = _Loader(text)
            try:
                root = loader.get_single_node()
            finally:
                loader.dispose()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            raise MappingError(
                f"not valid YAML: {exc.problem or exc.context or 'parse error'}",
                file=file,
                line=mark.line + 1 if mark is not None else None,
            ) from None
        except yaml.YAMLError as exc:
            raise MappingError(f"not valid YAML: {exc}", file=file) from None
        if root is None:
            raise MappingError("the file is empty", file=file, line=1)
        self.root: Node = root

    # --- errors ----------------------------------------------------------------------------------

    def error(self, node: Node | None, message: str, *, line_offset: int = 0) -> MappingError:
        line = node.start_mark.line + 1 + line_offset if node is not None else None
        return MappingError(message, file=self.file, line=line)

    # --- readers ---------------------------------------------------------------------------------

    def value(self, node: Node) -> Any:
        """The plain Python value of ``node`` (YAML 1.1 safe types)."""
        try:
            return SafeConstructor().construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise self.error(node, f"cannot read value: {exc}") from None

    def mapping(self, node: Node, what: str) -> list[tuple[str, Node, Node]]:
        """(key, key node, value node) of a mapping node with string keys, in file order."""
        if not isinstance(node, MappingNode):
            raise self.error(node, f"{what} must be a mapping, got {_kind(node)}")
        seen: set[str] = set()
        items = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                raise self.error(key_node, f"{what}: keys must be plain names")
            key = key_node.value
            if key in seen:
                raise self.error(key_node, f"{what}: duplicate key {key!r}")
            seen.add(key)
            items.append((key, key_node, value_node))
        return items

    def string(self, node: Node, what: str) -> str:
        """A non-empty string scalar."""
        value = self.value(node) if isinstance(node, ScalarNode) else None
        if not isinstance(value, str) or not value.strip():
            raise self.error(node, f"{what} must be a non-empty string, got {_kind(node)}")
        return value

    def is_block_scalar(self, node: Node) -> bool:
        return isinstance(node, ScalarNode) and node.style in ("|", ">")


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag.endswith(":null"):
        return "null"
    return f"{node.tag.rsplit(':', 1)[-1]} {node.value!r}"
