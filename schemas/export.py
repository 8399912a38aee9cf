"""Export the JSON Schemas of the built-in canonical types to ``schemas/json/<TypeName>.json``.

Run ``python -m schemas.export [OUT_DIR]`` after changing a model, and commit the result: a
test compares the committed files with a fresh export.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import BUILTIN_TYPES

__all__ = ["JSON_DIR", "export_json_schemas", "render_json_schema"]

#: Where the committed JSON Schemas live (shipped as package data).
JSON_DIR = Path(__file__).resolve().parent / "json"


def render_json_schema(type_name: str) -> str:
    """Return the JSON Schema of a built-in type as text: sorted keys, two-space indent, final newline."""
    schema = BUILTIN_TYPES[type_name].model_json_schema(by_alias=True)
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export_json_schemas(out_dir: Path = JSON_DIR) -> list[Path]:
    """Write ``<TypeName>.json`` for every type in ``BUILTIN_TYPES`` into ``out_dir``.

    Creates ``out_dir`` if needed and returns the written paths in ``BUILTIN_TYPES`` order.
    Files are only rewritten when their content changes.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for type_name in BUILTIN_TYPES:
        path = out_dir / f"{type_name}.json"
        text = render_json_schema(type_name)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out_dir = Path(args[0]) if args else JSON_DIR
    for path in export_json_schemas(out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
