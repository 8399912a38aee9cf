"""Every ``python`` block of docs/sdk.md and docs/connectors.md runs, and the recipes they show work.

The blocks of one page run in order in one fresh module, as a reader would paste them. A block
after ``<!-- scaffold: NAME KIND -->`` is the connector module ``fediflow connectors new NAME
--kind KIND`` writes: it must equal the generated file, and it is loaded as that module
(``fediflow_NAME.connector``) so the page's other blocks can import it.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.scaffold import generate_connector
from hub.sdk import HttpClient, StreamState

DOCS = Path(__file__).parents[3] / "docs"
PAGES = ("sdk.md", "connectors.md")
_BLOCK = re.compile(r"(?:<!-- scaffold: (?P<name>\w+) (?P<kind>\w+) -->\n)?```python\n(?P<code>.*?)```", re.S)


def _blocks(page: str) -> list[tuple[int, str | None, str | None, str]]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start("code")) + 1, m["name"], m["kind"], m["code"]) for m in _BLOCK.finditer(text)]


def _run_page(page: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run the page's blocks; return the page module's namespace with the scaffold modules under their names."""
    page_module = types.ModuleType(f"doc_example_{page.replace('.', '_')}")
    monkeypatch.setitem(sys.modules, page_module.__name__, page_module)
    namespace: dict[str, Any] = {}
    for line, name, _kind, code in _blocks(page):
        target = page_module
        if name is not None:
            package = types.ModuleType(f"fediflow_{name}")
            target = types.ModuleType(f"fediflow_{name}.connector")
            package.connector = target  # type: ignore[attr-defined]
            monkeypatch.setitem(sys.modules, package.__name__, package)
            monkeypatch.setitem(sys.modules, target.__name__, target)
            namespace[target.__name__] = target.__dict__
        exec(compile(code, f"docs/{page}:{line}", "exec"), target.__dict__)  # noqa: S102 - the docs' own examples
    namespace.update(page_module.__dict__)
    return namespace


@pytest.mark.parametrize("page", PAGES)
def test_every_python_block_runs(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(_blocks(page)) >= 3
    _run_page(page, monkeypatch)


def test_the_connector_modules_shown_are_what_the_scaffold_writes(tmp_path: Path) -> None:
    shown = [(name, kind, code) for _, name, kind, code in _blocks("connectors.md") if name is not None]
    assert {kind for _, kind, _ in shown} == {"http", "file"}
    for name, kind, code in shown:
        assert name is not None and kind is not None
        result = generate_connector(name, tmp_path, kind=kind)
        generated = (result.root / f"fediflow_{name}" / "connector.py").read_text(encoding="utf-8")
        assert code == generated, f"docs/connectors.md shows another {kind} connector than the scaffold writes"


async def test_the_http_recipe_of_connectors_md_checks_and_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _run_page("connectors.md", monkeypatch)["fediflow_acme_sis.connector"]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [{"id": 1, "login": "ada"}]})

    cls = module["AcmeSisConnector"]
    config = cls.config_model(base_url="https://api.example.edu", auth="bearer", token="t0k", page_size=50)
    connector = cls(config, client_options={"transport": httpx.MockTransport(handler)})
    assert (await connector.check()).ok
    records = [r async for r in connector.read("users", StreamState())]
    await connector.aclose()
    assert [r.data for r in records] == [{"id": 1, "login": "ada"}]
    assert all(r.headers["Authorization"] == "Bearer t0k" for r in seen)
    assert seen[-1].url.params["limit"] == "50"


async def test_the_file_recipe_of_connectors_md_checks_and_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = _run_page("connectors.md", monkeypatch)["fediflow_acme_files.connector"]
    cls = module["AcmeFilesConnector"]
    connector = cls(cls.config_model(folder=str(tmp_path)))
    assert not (await connector.check()).ok and await connector.fingerprint("users") is None
    (tmp_path / "users.csv").write_text("id,login\n1,ada\n2,alan\n", encoding="utf-8")
    assert (await connector.check()).ok and await connector.fingerprint("users")
    records = [r async for r in connector.read("users", StreamState())]
    assert [(r.data["login"], r.ref) for r in records] == [("ada", "users.csv:2"), ("alan", "users.csv:3")]


async def test_the_recipes_of_sdk_md_authenticate_and_page(monkeypatch: pytest.MonkeyPatch) -> None:
    page = _run_page("sdk.md", monkeypatch)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("users"):
            return httpx.Response(200, json={"users": [{"sourcedId": "u1"}]})
        if request.url.params.get("per_page") == "1":
            return httpx.Response(401)
        return httpx.Response(200, json=[{"id": "i1"}])

    transport = httpx.MockTransport(handler)
    config = page["LibraryConfig"](base_url="https://library.example.edu/api/", api_key="k3y")
    connector = page["LibraryConnector"](config, client_options={"transport": transport})
    assert [r.data async for r in connector.read("items", StreamState())] == [{"id": "i1"}]
    assert seen[-1].headers["X-Library-Key"] == "k3y" and seen[-1].headers["Accept"] == "application/json"
    await connector.aclose()
    checked = page["CheckedLibraryConnector"](config, client_options={"transport": transport})
    result = await checked.check()
    assert not result.ok and "API key" in result.message and "k3y" not in result.message
    async with HttpClient("https://sis.example.edu/", transport=transport) as client:
        users = [r async for r in page["read_users"](client, StreamState())]
    assert [r.data for r in users] == [{"sourcedId": "u1"}]
