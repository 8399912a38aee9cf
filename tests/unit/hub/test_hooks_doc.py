"""docs/hooks.md shows every hook of hub.hookspecs with its exact signature, and nothing else."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from hub import hookspecs

DOC = Path(__file__).parents[3] / "docs" / "hooks.md"


def _spec_functions() -> dict[str, object]:
    return {name: getattr(hookspecs, name) for name in hookspecs.__all__}


def _signature(func: object) -> str:
    params = ", ".join(
        f"{p.name}: {p.annotation}" for p in inspect.signature(func, eval_str=False).parameters.values()  # type: ignore[arg-type]
    )
    return f"def {func.__name__}({params}) -> {inspect.signature(func).return_annotation}"  # type: ignore[attr-defined]


def _doc_sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^## (\w+)\s*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_every_hook_has_a_section_with_its_exact_signature() -> None:
    sections = _doc_sections()
    for name, func in _spec_functions().items():
        assert name in sections, f"docs/hooks.md has no section for {name}"
        assert _signature(func) in sections[name], f"signature of {name} differs from the hookspec"


def test_doc_has_no_section_for_a_hook_that_does_not_exist() -> None:
    assert set(_doc_sections()) == set(_spec_functions())


def test_every_hookspec_is_exported_and_documented_in_code() -> None:
    marked = {name for name, value in vars(hookspecs).items()
              if callable(value) and hasattr(value, "fediflow_spec")}
    assert marked == set(hookspecs.__all__)
    for func in _spec_functions().values():
        doc = inspect.getdoc(func) or ""
        assert "Called" in doc, f"{func.__name__} docstring must say when it is called"
