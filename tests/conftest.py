"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, and a hub built on it.

``database_url`` is parametrised over both backends. PostgreSQL tests get a database of their own,
cloned from a template migrated once per session. Locally, a missing PostgreSQL server skips those
tests; in CI (``CI=true``) it is a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

pytest_plugins = ["hub.sdk.testkit.plugin"]

PG_ADMIN_DSN = os.environ.get("FEDIFLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _pg_dsn(dbname: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{dbname}"


async def _pg_execute(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_available() -> str | None:
    """None when the server answers, else the reason."""
    try:
        asyncio.run(_pg_execute("SELECT 1"))
    except Exception as exc:  # any connection problem means: not available
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A PostgreSQL database migrated to head, used as TEMPLATE for each test's database."""
    problem = _pg_available()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and is not reachable at {PG_ADMIN_DSN}: {problem}")
        pytest.skip(f"PostgreSQL not reachable ({problem})")
    from hub.store import Database

    name = f"ff_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_pg_execute(f'CREATE DATABASE "{name}"'))

    async def migrate() -> None:
        db = Database(_pg_dsn(name).replace("postgresql://", "postgresql+asyncpg://"))
        await db.migrate()
        await db.dispose()

    asyncio.run(migrate())
    yield name
    asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty, migrated database of the parametrised backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"ff_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield f"postgresql+asyncpg://{_pg_dsn(name).split('://', 1)[1]}"
    asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def secret_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def hub_env(database_url: str, tmp_path: Path, secret_key: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment variables that point a hub (in process or a CLI subprocess) at the test database."""
    for key in list(os.environ):
        if key.startswith("FEDIFLOW_"):
            monkeypatch.delenv(key)
    env = {
        "FEDIFLOW_DATA_DIR": str(tmp_path / "data"),
        "FEDIFLOW_DATABASE__URL": database_url,
        "FEDIFLOW_SECURITY__SECRET_KEY": secret_key,
        "FEDIFLOW_LOG_FORMAT": "json",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    return env


@pytest.fixture
async def hub(hub_env: dict[str, str]) -> AsyncIterator[object]:
    """A hub on the test database, migrated, with a tenant ``default``."""
    from hub.context import Hub
    from hub.settings import load_settings

    instance = Hub.from_settings(load_settings())
    if instance.db.is_sqlite:
        await instance.db.migrate()
    await instance.store.ensure_tenant("default")
    yield instance
    await instance.close()
