"""The architecture of docs/architecture.md, kept by the suite.

1. No package imports another package's private modules (``hub.sync._safeguards`` from hub.api):
   what others use is exported from the package's ``__init__``. Within a package (and its
   subpackages) its own ``_``-modules are fine. Known debts are listed in ``ALLOWED`` with the
   reason; the list only shrinks (an entry that no longer matches an import fails too).
2. The layer order and the connectors' boundary: the import-linter contracts of pyproject.toml.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
PACKAGES = ("hub", "scheduler", "connectors", "schemas", "mappings")

#: (importing package or module, private module it imports): debts, each with its reason. An entry
#: naming a package covers its modules (the sync engine's modules move while it is split). Only shrinks.
ALLOWED: dict[tuple[str, str], str] = {
    # issue 13 item 1: hub.store's tables are used by the packages that own their rows' logic
    **{(importer, "hub.store._tables"): "item 1: store tables" for importer in (
        "hub.federation", "hub.oneroster", "hub.scim", "hub.sync", "hub.webhooks", "scheduler",
    )},
    # issue 13 item 1: the sync engine's write path into the store (row builders, the batch writer)
    ("hub.sync", "hub.store._sync_ops"): "item 1: sync write path",
    ("hub.sync._engine", "hub.store._writer"): "item 1: sync write path",
    ("hub.sync._engine", "hub.store._db"): "item 1: sync write path (short_reason)",
    # to switch to the public names when their owners next touch these files
}


def _allowance(importer: str, target: str) -> tuple[str, str] | None:
    """The ``ALLOWED`` entry covering ``importer`` importing ``target``, if any."""
    parts = importer.split(".")
    for i in range(len(parts), 0, -1):
        if (".".join(parts[:i]), target) in ALLOWED:
            return ".".join(parts[:i]), target
    return None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _owner(module: str) -> str | None:
    """The package a private module belongs to (``hub.sync._locks`` -> ``hub.sync``); None if public."""
    parts = module.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def imported_modules(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """``(line, dotted name)`` of everything ``module`` imports, private names included."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def private_imports(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """The imports of ``module`` that reach into another package's private modules or names."""
    bad: list[tuple[int, str]] = []
    for line, target in imported_modules(source, module, is_package):
        owner = _owner(target)
        if owner is None or module == owner or module.startswith(owner + "."):
            continue
        parts = target.split(".")
        first = next(i for i, part in enumerate(parts) if part.startswith("_") and not part.startswith("__"))
        if (line, ".".join(parts[: first + 1])) not in bad:
            bad.append((line, ".".join(parts[: first + 1])))
    return bad


def _all_private_imports() -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts or "templates" in path.parts:
                continue
            module = _module_name(path)
            for line, target in private_imports(path.read_text(encoding="utf-8"), module, path.name == "__init__.py"):
                found.setdefault((module, target), []).append(f"{path.relative_to(ROOT)}:{line}")
    return found


def test_no_package_imports_another_packages_private_modules():
    offending = {key: where for key, where in _all_private_imports().items() if _allowance(*key) is None}
    assert not offending, "import the package's public names instead:\n" + "\n".join(
        f"  {where[0]}: {importer} imports {target}" for (importer, target), where in sorted(offending.items()))


def test_the_allow_list_only_lists_imports_that_still_exist():
    stale = sorted(set(ALLOWED) - {_allowance(*key) for key in _all_private_imports()})
    assert not stale, f"paid debts: remove them from ALLOWED: {stale}"


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("hub.api._runner", "from hub.sync._safeguards import run_with_safeguards", [(1, "hub.sync._safeguards")]),
    ("scheduler._queue", "from hub.sync import _locks", [(1, "hub.sync._locks")]),
    ("scheduler._queue", "import hub.sdk._http as http", [(1, "hub.sdk._http")]),
    ("hub.webhooks._sender", "from hub.sdk import _private_helper", [(1, "hub.sdk._private_helper")]),
    ("hub.sync._engine", "from hub.sync._locks import source_lock", []),
    ("hub.sync._engine", "from ._locks import source_lock", []),
    ("hub.api.oneroster._routes", "from hub.api._problems import problem", []),
    ("hub.api._admin", "from hub.api.oneroster._routes import x", [(1, "hub.api.oneroster._routes")]),
    ("hub.api._admin", "from hub.sync import run_with_safeguards\nfrom hub import __version__", []),
])
def test_private_import_rule(module: str, source: str, expected: list[tuple[int, str]]):
    assert private_imports(source, module) == expected


def test_layers_and_connector_boundary_hold():
    """The import-linter contracts of pyproject.toml ([tool.importlinter]); `lint-imports` shows the chains."""
    # in a child process: import-linter configures logging, which would disturb the other tests
    code = ("import sys; from importlinter.cli import lint_imports; "
            f"sys.exit(lint_imports(config_filename={str(ROOT / 'pyproject.toml')!r}, no_cache=True, no_logo=True))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _packages() -> list[str]:
    return sorted(_module_name(init) for package in PACKAGES for init in (ROOT / package).rglob("__init__.py")
                  if "migrations" not in init.parts and "templates" not in init.parts)


@pytest.mark.parametrize("package", _packages())
def test_every_package_exports_its_public_names(package: str):
    """Each package's ``__init__`` has an ``__all__`` and every name in it exists (what others import)."""
    import importlib

    module = importlib.import_module(package)
    assert isinstance(getattr(module, "__all__", None), list | tuple), f"{package} has no __all__"
    assert not [name for name in module.__all__ if not hasattr(module, name)]
