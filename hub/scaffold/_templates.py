"""The files of a generated connector package, as text with ``{placeholders}`` (``str.format``).

Kept as Python strings (not data files) so they ship with the ``hub`` package whatever its
package-data settings. Placeholders: ``name`` (lower_snake connector name), ``package``
(``fediflow_<name>``), ``dist`` (``fediflow-<name-with-dashes>``), ``title``, ``class_name``,
``fediflow_version``, and the README's per-kind ``test_data``, ``source_options``, ``develop``.
Literal braces are doubled. Two kinds: ``http`` (an :class:`~hub.sdk.HttpConnector` on a
recorded cassette) and ``file`` (a :class:`~hub.sdk.Connector` reading CSV files); docs/connectors.md
shows both connector modules as generated, and a test keeps them equal.
"""

from __future__ import annotations

__all__ = ["COMMON_FILES", "KINDS"]

PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "FediFlow connector for {title}"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["fediflow>={fediflow_version}"]

[project.optional-dependencies]
test = ["fediflow[testkit]>={fediflow_version}"]

# The hub finds the plugin through this entry point, exactly like its built-in connectors.
[project.entry-points.fediflow]
{name} = "{package}.plugin"

[tool.setuptools.packages.find]
include = ["{package}*"]

[tool.setuptools.package-data]
{package} = ["mappings/**/*.yaml"]

[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "--strict-markers"
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"
filterwarnings = ["error"]
"""

INIT = '''\
"""FediFlow connector for {title}."""

from {package}.connector import {class_name}, {class_name}Config

__all__ = ["{class_name}", "{class_name}Config"]
'''

CONNECTOR_HTTP = '''\
"""{title}: users from ``GET /users`` (a JSON API paged with limit/offset, ``{{"data": [...]}}``)."""

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import ClassVar

from hub.sdk import (CheckResult, ConnectorConfig, ConnectorError, ConnectorKind, HttpConnector, HttpSourceConfig,
                     OffsetLimitPaging, RawRecord, StreamSpec, StreamState, explain_check_failure)


class {class_name}Config(HttpSourceConfig):
    """base_url, auth ("bearer"), token, timeouts and retries come from HttpSourceConfig; add your own fields."""

    page_size: int = 100


class {class_name}(HttpConnector[{class_name}Config]):
    name: ClassVar[str] = "{name}"
    kind: ClassVar[ConnectorKind] = ConnectorKind.SIS
    title: ClassVar[str] = "{title}"
    config_model: ClassVar[type[ConnectorConfig]] = {class_name}Config
    headers: ClassVar[Mapping[str, str]] = {{"Accept": "application/json"}}

    def streams(self) -> Sequence[StreamSpec]:
        return [StreamSpec("users", "User", "People of the system.")]

    async def check(self) -> CheckResult:
        async with self.new_client(max_attempts=1) as client:
            try:
                await client.get_json("users", {{"limit": 1, "offset": 0}})
            except ConnectorError as exc:
                return CheckResult(False, explain_check_failure(exc, self.config.base_url, "{title}", "token"))
        return CheckResult(True, "users are readable")

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        paging = OffsetLimitPaging(limit=self.config.page_size, items_path="data")
        async for page in self.client.paginate(stream, {{}}, paging):
            for number, item in enumerate(page.items):
                yield RawRecord(item, ref=f"GET {{page.info.url}} #{{number}}")
'''

CONNECTOR_FILE = '''\
"""{title}: users from a CSV export, ``<folder>/users.csv`` (one record a line, the header first)."""

import csv
import hashlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from hub.sdk import (CheckResult, Connector, ConnectorConfig, ConnectorError, ConnectorKind, RawRecord, StreamSpec,
                     StreamState)


class {class_name}Config(ConnectorConfig):
    """Where the system exports its files; add your own fields."""

    folder: str = Field(min_length=1, description="Folder holding users.csv.")


class {class_name}(Connector[{class_name}Config]):
    name: ClassVar[str] = "{name}"
    kind: ClassVar[ConnectorKind] = ConnectorKind.SIS
    title: ClassVar[str] = "{title}"
    config_model: ClassVar[type[ConnectorConfig]] = {class_name}Config

    def streams(self) -> Sequence[StreamSpec]:
        return [StreamSpec("users", "User", "People of the system.")]

    def file(self, stream: str) -> Path:
        return Path(self.config.folder) / f"{{stream}}.csv"

    async def check(self) -> CheckResult:
        if not self.file("users").is_file():
            return CheckResult(False, f"no users.csv in {{self.config.folder}}; check the folder")
        return CheckResult(True, "users.csv is readable")

    async def fingerprint(self, stream: str) -> str | None:
        path = self.file(stream)
        if not path.is_file():
            return None
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        path = self.file(stream)
        if not path.is_file():
            raise ConnectorError(f"no {{path.name}} in {{self.config.folder}}", retryable=True)
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                yield RawRecord(row, ref=f"{{path.name}}:{{line}}")
'''

PLUGIN = '''\
"""Hooks of the {name} plugin: its connector and its mapping folder."""

from pathlib import Path

from hub.hookimpl import hookimpl
from hub.sdk import Connector

from {package}.connector import {class_name}


@hookimpl
def register_connectors() -> list[type[Connector]]:
    return [{class_name}]


@hookimpl
def register_mapping_folders() -> list[Path]:
    return [Path(__file__).parent / "mappings"]
'''

MAPPING = """\
# {title} users -> canonical User. Reference: docs/mappings.md of FediFlow.
version: 1
description: {title} users.
connector: {name}
stream: users
target: User
id: id
fields:
  username: login
  enabledUser: {{path: active, type: bool, default: true}}
  givenName: first_name
  familyName: last_name
  email: email
  roles:
    fields:
      roleType: {{const: primary}}
      role: {{path: role, map: {{pupil: student, staff: teacher}}}}
      org: {{path: school_id, ref: org}}
"""

CONFTEST = '''\
"""Loads FediFlow's connector test kit (the ``cassette`` fixture, vcrpy with secrets scrubbed)."""

pytest_plugins = ["hub.sdk.testkit.plugin"]
'''

TEST_HTTP = '''\
"""The {name} connector against its recorded cassette: the shared contract and the mapping."""

from pathlib import Path

from hub.mapping import load_mapping
from hub.sdk import StreamState
from hub.sdk.testkit import ConnectorContract
from schemas import BUILTIN_TYPES

from {package}.connector import {class_name}

CONFIG = {{"base_url": "https://api.example.edu", "auth": "bearer", "token": "test-token-1234"}}
MAPPING = Path(__file__).parents[1] / "{package}" / "mappings" / "{name}" / "users.yaml"


class Test{class_name}Contract(ConnectorContract):
    connector_class = {class_name}
    config = CONFIG
    cassette_name = "{name}_contract"


async def test_users_map_to_canonical_users(cassette) -> None:
    connector = {class_name}({class_name}.config_model.model_validate(CONFIG))
    mapping = load_mapping(MAPPING, BUILTIN_TYPES)
    with cassette("{name}_contract"):
        users = [mapping.validate(r.data) async for r in connector.read("users", StreamState())]
    await connector.aclose()
    assert [(u.sourcedId, u.roles[0].role) for u in users] == [("1", "student"), ("2", "teacher")]
'''

TEST_FILE = '''\
"""The {name} connector on the files in tests/data: the shared contract and the mapping."""

from pathlib import Path

from hub.mapping import load_mapping
from hub.sdk import StreamState
from hub.sdk.testkit import ConnectorContract
from schemas import BUILTIN_TYPES

from {package}.connector import {class_name}

CONFIG = {{"folder": str(Path(__file__).parent / "data")}}
MAPPING = Path(__file__).parents[1] / "{package}" / "mappings" / "{name}" / "users.yaml"


class Test{class_name}Contract(ConnectorContract):
    connector_class = {class_name}
    config = CONFIG


async def test_users_map_to_canonical_users() -> None:
    connector = {class_name}({class_name}.config_model.model_validate(CONFIG))
    mapping = load_mapping(MAPPING, BUILTIN_TYPES)
    users = [mapping.validate(r.data) async for r in connector.read("users", StreamState())]
    await connector.aclose()
    assert [(u.sourcedId, u.roles[0].role) for u in users] == [("1", "student"), ("2", "teacher")]
'''

USERS_CSV = """\
id,login,first_name,last_name,email,role,school_id,active
1,ada,Ada,Lovelace,ada@example.edu,pupil,s1,true
2,alan,Alan,Turing,alan@example.edu,staff,s1,false
"""

# A small cassette as ``pytest --record-mode=once`` writes it (Authorization header already dropped).
CASSETTE = """\
# Recorded HTTP for tests/test_{name}.py. Replace it by recording against a real test instance:
#   pytest --record-mode=all   (then read it before committing: no personal data, no secrets)
interactions:
- request:
    body: ''
    headers:
      accept: [application/json]
    method: GET
    uri: https://api.example.edu/users?limit=1&offset=0
  response:
    body:
      string: '{{"data": [{{"id": 1, "login": "ada", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.edu", "role": "pupil", "school_id": "s1", "active": true}}]}}'
    headers:
      content-type: [application/json]
    status: {{code: 200, message: OK}}
- request:
    body: ''
    headers:
      accept: [application/json]
    method: GET
    uri: https://api.example.edu/users?limit=100&offset=0
  response:
    body:
      string: '{{"data": [{{"id": 1, "login": "ada", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.edu", "role": "pupil", "school_id": "s1", "active": true}}, {{"id": 2, "login": "alan", "first_name": "Alan", "last_name": "Turing", "role": "staff", "school_id": "s1", "active": "false"}}]}}'
    headers:
      content-type: [application/json]
    status: {{code: 200, message: OK}}
version: 1
"""

README = """\
# {dist}

A [FediFlow](https://github.com/fediflow/fediflow) connector for {title}, generated by
`fediflow connectors new {name}`.

## Develop

```bash
pip install -e ".[test]"
{develop}
```

## Files

| file | what |
| --- | --- |
| `{package}/connector.py` | the connector: config model, streams, `check()`, `read()` |
| `{package}/plugin.py` | the hooks: `register_connectors`, `register_mapping_folders` |
| `{package}/mappings/{name}/users.yaml` | the mapping of the `users` stream to the canonical `User` |
| `tests/test_{name}.py` | the shared `ConnectorContract` suite plus a mapping test, on {test_data} |
| `pyproject.toml` | the entry point `{name} = "{package}.plugin"` in the group `fediflow` |

## Use

```bash
pip install {dist}          # into the hub's environment
fediflow connectors list    # {name} is there
fediflow sources add my-{name} -c {name} {source_options}
```

See FediFlow's docs/connectors.md for the walkthrough, docs/sdk.md for the SDK.
"""

#: files of every package: relative path (with placeholders) -> template
COMMON_FILES: dict[str, str] = {
    "pyproject.toml": PYPROJECT,
    "README.md": README,
    "{package}/__init__.py": INIT,
    "{package}/plugin.py": PLUGIN,
    "{package}/mappings/{name}/users.yaml": MAPPING,
    "tests/conftest.py": CONFTEST,
}

#: kind -> (files of that kind, values of the kind's README placeholders)
KINDS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "http": (
        {
            "{package}/connector.py": CONNECTOR_HTTP,
            "tests/test_{name}.py": TEST_HTTP,
            "tests/cassettes/{name}_contract.yaml": CASSETTE,
        },
        {
            "test_data": "the cassette",
            "source_options": "--set base_url=https://... --set auth=bearer --set-env token=MY_TOKEN",
            "develop": "pytest                      # replays tests/cassettes/*.yaml, never the network\n"
            "pytest --record-mode=all    # re-records them against base_url (read them before committing)",
        },
    ),
    "file": (
        {
            "{package}/connector.py": CONNECTOR_FILE,
            "tests/test_{name}.py": TEST_FILE,
            "tests/data/users.csv": USERS_CSV,
        },
        {
            "test_data": "tests/data/users.csv",
            "source_options": "--set folder=/path/to/the/exports",
            "develop": "pytest                      # reads tests/data/*.csv",
        },
    ),
}
