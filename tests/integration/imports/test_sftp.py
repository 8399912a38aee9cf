"""The SFTP drop with asyncssh's real client on loopback: logins, chroot, isolation, arrival -> queued sync."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from imports_support import bundle_zip, zip_with

from hub.imports import TenantImports
from hub.sftp import SftpDrop, hash_password, require_asyncssh
from hub.store import SftpAccounts, UploadLog

asyncssh = require_asyncssh()

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def drop(hub):
    await hub.store.ensure_tenant("alpha")
    await hub.store.ensure_tenant("beta")
    server = SftpDrop(hub)
    port = await server.start("127.0.0.1", 0)
    yield port
    await server.close()


async def _add(hub, tenant: str, user: str, *, password: str | None = PASSWORD, keys: tuple[str, ...] = ()) -> None:
    await SftpAccounts(hub.store).add(await hub.store.tenant(tenant), user,
                                      password_hash=hash_password(password) if password else None, public_keys=keys)


async def _source(hub, tenant: str, name: str, path: Path) -> None:
    store = await hub.store.tenant(tenant)
    cls = hub.plugins.connector("oneroster_csv")
    await store.add_source(name, "oneroster_csv", store.validate_config(cls.config_model, {"path": str(path)}))


def _connect(port: int, user: str, **kwargs):
    return asyncssh.connect("127.0.0.1", port, username=user, known_hosts=None, agent_path=None,
                            client_keys=kwargs.pop("client_keys", None), **kwargs)


async def test_password_upload_queues_one_sync_and_is_logged(hub, drop, tmp_path):
    root = TenantImports(hub.settings, "alpha").ensure()
    await _source(hub, "alpha", "sis", root / "roster.zip")
    await _source(hub, "alpha", "other", root / "other.zip")
    await _add(hub, "alpha", "alpha-sis")
    bundle = bundle_zip(tmp_path / "export.zip", users=12)
    async with _connect(drop, "alpha-sis", password=PASSWORD) as conn, conn.start_sftp_client() as sftp:
        await sftp.put(str(bundle), "roster.zip")
        await sftp.put(str(bundle), "/roster.zip")  # a second close while the run still waits: debounced
        await sftp.put(str(bundle), "unrelated.zip")
    assert (root / "roster.zip").read_bytes() == bundle.read_bytes()
    store = await hub.store.tenant("alpha")
    runs = await store.list_runs()
    assert [(r.source, r.status, r.dry_run) for r in runs] == [("sis", "queued", False)]
    uploads = await UploadLog(store).list()
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    assert [(u.source, u.path, u.channel, u.uploaded_by, u.sha256, u.run_id) for u in uploads] == [
        (None, "unrelated.zip", "sftp", "sftp:alpha-sis", digest, None),
        ("sis", "roster.zip", "sftp", "sftp:alpha-sis", digest, runs[0].id),
        ("sis", "roster.zip", "sftp", "sftp:alpha-sis", digest, runs[0].id),
    ]
    from hub.sync._safeguards import run_with_safeguards

    outcome = await run_with_safeguards(hub, store, runs[0].id)
    assert outcome.summary is not None and outcome.summary.status == "succeeded" and outcome.summary.created > 12


async def test_key_login_and_refused_logins(hub, drop, tmp_path):
    key = asyncssh.generate_private_key("ssh-ed25519")
    other = asyncssh.generate_private_key("ssh-ed25519")
    await _add(hub, "alpha", "alpha-key", password=None, keys=(key.export_public_key().decode().strip(),))
    await _add(hub, "alpha", "alpha-pw")
    async with _connect(drop, "alpha-key", client_keys=[key]) as conn, conn.start_sftp_client() as sftp:
        assert await sftp.realpath(".") == "/"
    for user, kwargs in (("alpha-key", {"client_keys": [other]}), ("alpha-pw", {"password": "wrong password"}),
                         ("nobody", {"password": PASSWORD}), ("alpha-key", {"password": PASSWORD})):
        with pytest.raises(asyncssh.PermissionDenied):
            async with _connect(drop, user, **kwargs):
                pass
    store = await hub.store.tenant("alpha")
    await SftpAccounts(hub.store).set_enabled(store, "alpha-pw", False)
    with pytest.raises(asyncssh.PermissionDenied):
        async with _connect(drop, "alpha-pw", password=PASSWORD):
            pass


async def test_chroot_and_tenant_isolation(hub, drop, tmp_path):
    alpha = TenantImports(hub.settings, "alpha").ensure()
    beta = TenantImports(hub.settings, "beta").ensure()
    (beta / "beta-roster.zip").write_bytes(b"beta's bundle")
    (alpha / "mine.txt").write_text("alpha's file")
    os.symlink(beta, alpha / "to-beta")  # a link the host left behind must not lead out either
    (tmp_path / "outside.txt").write_text("host file")
    await _add(hub, "alpha", "alpha-user")
    await _add(hub, "beta", "beta-user")
    async with _connect(drop, "beta-user", password=PASSWORD) as conn, conn.start_sftp_client() as sftp:
        assert "mine.txt" not in await sftp.listdir("/") and "beta-roster.zip" in await sftp.listdir("/")
        for path in ("../alpha/mine.txt", "/../alpha/mine.txt", str(alpha / "mine.txt")):
            with pytest.raises(asyncssh.SFTPNoSuchFile):
                await sftp.stat(path)
    async with _connect(drop, "alpha-user", password=PASSWORD) as conn, conn.start_sftp_client() as sftp:
        assert await sftp.realpath("/../..") == "/"
        assert sorted(await sftp.listdir("/")) == [".", "..", "mine.txt", "to-beta"]
        for path in ("to-beta/beta-roster.zip", "to-beta"):
            with pytest.raises(asyncssh.SFTPPermissionDenied):
                await sftp.stat(path)
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            async with sftp.open("to-beta/planted.txt", "w") as fh:
                await fh.write("x")
        with pytest.raises(asyncssh.SFTPOpUnsupported):
            await sftp.symlink(str(tmp_path / "outside.txt"), "escape")
        with pytest.raises((asyncssh.SFTPOpUnsupported, asyncssh.SFTPError)):
            await sftp.link("mine.txt", "hard")
        async with sftp.open("../../../escaped.txt", "w") as fh:  # normalised inside the chroot
            await fh.write("stays home")
    assert (alpha / "escaped.txt").read_text() == "stays home"
    assert not (beta / "planted.txt").exists() and not (alpha / "escape").exists()
    assert not list(Path(hub.settings.imports_dir).parent.glob("escaped.txt"))


async def test_unsafe_zip_over_sftp_is_refused_and_queues_nothing(hub, drop, tmp_path):
    root = TenantImports(hub.settings, "alpha").ensure()
    await _source(hub, "alpha", "sis", root / "roster.zip")
    await _add(hub, "alpha", "alpha-sis")
    slip = zip_with(tmp_path / "slip.zip", {"manifest.csv": b"x", "../../evil.csv": b"x"})
    async with _connect(drop, "alpha-sis", password=PASSWORD) as conn, conn.start_sftp_client() as sftp:
        with pytest.raises(asyncssh.SFTPFailure, match="upload refused"):
            await sftp.put(str(slip), "roster.zip")
    store = await hub.store.tenant("alpha")
    assert await store.list_runs() == [] and await UploadLog(store).list() == []


async def test_sftp_upload_past_the_cap_fails_and_leaves_nothing(hub, tmp_path):
    from hub.context import Hub
    from hub.settings import ImportSettings

    await hub.store.ensure_tenant("alpha")
    capped = Hub.from_settings(hub.settings.model_copy(update={"imports": ImportSettings(max_upload_bytes=4096)}))
    root = TenantImports(capped.settings, "alpha").ensure()
    await _source(capped, "alpha", "sis", root / "roster.zip")
    await _add(capped, "alpha", "alpha-sis")
    bundle = bundle_zip(tmp_path / "export.zip", users=30)
    assert bundle.stat().st_size > 4096
    server = SftpDrop(capped)
    port = await server.start("127.0.0.1", 0)
    try:
        async with _connect(port, "alpha-sis", password=PASSWORD) as conn, conn.start_sftp_client() as sftp:
            with pytest.raises(asyncssh.SFTPFailure, match="upload limit"):
                await sftp.put(str(bundle), "roster.zip")
            assert "roster.zip" not in await sftp.listdir("/")
    finally:
        await server.close()
        await capped.close()
    store = await hub.store.tenant("alpha")
    assert await store.list_runs() == [] and await UploadLog(store).list() == []


def test_cli_adds_accounts_with_hashed_passwords(hub_env, tmp_path):
    env = {**os.environ, **hub_env}

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hub.cli", *args], check=False, env=env, input=stdin,
                              capture_output=True,
                              text=True, timeout=120)

    assert cli("init").returncode == 0
    assert cli("tenants", "create", "alpha").returncode == 0
    key = asyncssh.generate_private_key("ssh-ed25519")
    (tmp_path / "id.pub").write_bytes(key.export_public_key())
    added = cli("sftp", "add-user", "alpha", "alpha-sis", "--password-stdin", "--key", str(tmp_path / "id.pub"),
                stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert PASSWORD not in added.stdout + added.stderr and "DSA" not in added.stderr
    listed = cli("sftp", "list", "alpha")
    assert "alpha-sis" in listed.stdout and "password, publickey" in listed.stdout
    assert cli("sftp", "add-user", "alpha", "alpha-sis", "--password-stdin", stdin=PASSWORD + "\n").returncode == 1
    assert cli("sftp", "add-user", "alpha", "nokey").returncode == 1

    import asyncio

    from hub.context import Hub
    from hub.settings import load_settings

    async def stored() -> str | None:
        instance = Hub.from_settings(load_settings())
        try:
            account = await SftpAccounts(instance.store).login("alpha-sis")
            return account.password_hash if account else None
        finally:
            await instance.close()

    stored_hash = asyncio.run(stored())
    assert stored_hash and stored_hash.startswith("scrypt$") and PASSWORD not in stored_hash
    assert cli("sftp", "remove", "alpha", "alpha-sis").returncode == 0
    assert "alpha-sis" not in cli("sftp", "list", "alpha").stdout


def test_sftp_role_says_how_to_install_asyncssh(monkeypatch):
    from hub.errors import ConfigurationError
    from hub.sftp import require_asyncssh

    monkeypatch.setitem(sys.modules, "asyncssh", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'fediflow\[sftp\]'"):
        require_asyncssh()


@pytest.mark.slow
def test_serve_role_sftp_end_to_end(hub_env, tmp_path):
    """The real `fediflow serve --role sftp`: host key made at start, login, upload, a sync queued, clean stop."""
    import asyncio
    import signal
    import socket
    import time

    from live_server import free_port

    env = {**os.environ, **hub_env, "COLUMNS": "200"}
    port = free_port()
    env["FEDIFLOW_IMPORTS__SFTP_PORT"] = str(port)

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hub.cli", *args], check=False, env=env, input=stdin,
                              capture_output=True,
                              text=True, timeout=120)

    assert cli("init", "--tenant", "alpha").returncode == 0
    data_dir = Path(hub_env["FEDIFLOW_DATA_DIR"])
    assert cli("sources", "add", "sis", "-c", "oneroster_csv", "--set",
               f"path={data_dir / 'imports' / 'alpha' / 'roster.zip'}", "-t", "alpha").returncode == 0
    assert cli("sftp", "add-user", "alpha", "alpha-sis", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    log = tmp_path / "serve.log"
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "hub.cli", "serve", "--role", "sftp", "--port", "0"], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"sftp role did not start: {log.read_text()[-3000:]}") from None
                time.sleep(0.1)
        host_key = data_dir / "sftp_host_key"
        assert host_key.exists() and (host_key.stat().st_mode & 0o777) == 0o600
        bundle = bundle_zip(tmp_path / "export.zip", users=8)

        async def upload() -> None:
            async with _connect(port, "alpha-sis", password=PASSWORD) as conn, conn.start_sftp_client() as sftp:
                await sftp.put(str(bundle), "roster.zip")

        asyncio.run(upload())
        runs = cli("runs", "list", "-t", "alpha")
        assert "queued" in runs.stdout and "sis" in runs.stdout, runs.stdout + runs.stderr
        assert "sftp" in cli("sources", "uploads", "sis", "-t", "alpha").stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
