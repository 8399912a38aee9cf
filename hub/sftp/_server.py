"""The SFTP drop: role ``sftp`` of ``fediflow serve`` (asyncssh).

Each account (``fediflow sftp add-user``) belongs to one tenant and logs in with a password
(scrypt hash at rest) or an OpenSSH public key. Its session is chrooted to the tenant's import
directory: paths are normalised inside it, symlinks that lead out are refused, symlinks and hard
links cannot be made, shells, exec, scp and port forwarding are refused. Writes past
``imports.max_upload_bytes`` fail. When a written file is closed (or a file is renamed into
place), :func:`~hub.sftp._arrival.file_arrived` checks it, logs it and queues the sync of the
sources reading it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import warnings
from pathlib import Path
from typing import Any

from hub.errors import ConfigurationError, UploadRefused
from hub.imports import TenantImports
from hub.sftp._arrival import file_arrived
from hub.sftp._passwords import hash_password, verify_password
from hub.store import SftpAccount, SftpAccounts

__all__ = ["SftpDrop", "ensure_host_key", "require_asyncssh", "run_sftp"]

log = logging.getLogger("fediflow.sftp")


@functools.cache
def _dummy_hash() -> str:
    """Compared against when the account does not exist, so a wrong name costs what a wrong password does."""
    return hash_password("fediflow-no-such-account")


def require_asyncssh() -> Any:
    """The asyncssh module, or ConfigurationError saying how to install it."""
    try:
        with warnings.catch_warnings():  # asyncssh still imports cryptography's DSA, which warns about it
            warnings.filterwarnings("ignore", message="DSA is deprecated")
            import asyncssh
    except ModuleNotFoundError:
        raise ConfigurationError("the sftp role needs asyncssh: install it with pip install 'fediflow[sftp]' "
                                 "(or pip install asyncssh)") from None
    return asyncssh


def ensure_host_key(path: Path) -> Any:
    """The server's private host key at ``path``, generated (ed25519, mode 0600) on first start."""
    asyncssh = require_asyncssh()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = asyncssh.generate_private_key("ssh-ed25519")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key.export_private_key())
        log.info("generated the SFTP host key", extra={"path": str(path)})
    return asyncssh.read_private_key(str(path))


def _server_classes(asyncssh: Any) -> tuple[type, type]:
    class Auth(asyncssh.SSHServer):  # type: ignore[misc, name-defined]
        """Password or public key of an enabled account; the account rides on the connection."""

        def __init__(self, drop: SftpDrop) -> None:
            self.drop = drop
            self.conn: Any = None

        def connection_made(self, conn: Any) -> None:
            self.conn = conn

        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def public_key_auth_supported(self) -> bool:
            return True

        async def validate_password(self, username: str, password: str) -> bool:
            account = await self.drop.accounts.login(username)
            stored = account.password_hash if account is not None and account.password_hash else _dummy_hash()
            ok = await asyncio.to_thread(verify_password, password, stored) and account is not None \
                and account.password_hash is not None
            return self._accepted(account, ok, "password")

        async def validate_public_key(self, username: str, key: Any) -> bool:
            account = await self.drop.accounts.login(username)
            ok = False
            for line in account.public_keys if account is not None else ():
                try:
                    ok = ok or asyncssh.import_public_key(line).public_data == key.public_data
                except (asyncssh.KeyImportError, ValueError):
                    continue
            return self._accepted(account, ok, "publickey")

        def _accepted(self, account: SftpAccount | None, ok: bool, method: str) -> bool:
            if ok and account is not None:
                self.conn.set_extra_info(fediflow_account=account)
                log.info("sftp login", extra={"user": account.username, "tenant": account.tenant, "method": method})
            return ok

    class TenantServer(asyncssh.SFTPServer):  # type: ignore[misc, name-defined]
        """One session, chrooted to its tenant's import directory."""

        def __init__(self, chan: Any, drop: SftpDrop) -> None:
            self.account: SftpAccount = chan.get_extra_info("fediflow_account")
            self.drop = drop
            root = TenantImports(drop.hub.settings, self.account.tenant).ensure()
            self.root = os.path.realpath(root).encode()
            self.written: dict[Any, str] = {}
            self.too_large: set[Any] = set()
            super().__init__(chan, chroot=self.root)

        def map_path(self, path: bytes) -> bytes:
            local = super().map_path(path)
            real = os.path.realpath(local)
            if real != self.root and not real.startswith(self.root + b"/"):
                raise asyncssh.SFTPPermissionDenied("permission denied")
            return local

        def symlink(self, oldpath: bytes, newpath: bytes) -> None:
            raise asyncssh.SFTPOpUnsupported("symbolic links are not supported")

        def link(self, oldpath: bytes, newpath: bytes) -> None:
            raise asyncssh.SFTPOpUnsupported("links are not supported")

        def write(self, file_obj: Any, offset: int, data: bytes) -> int:
            cap = self.drop.hub.settings.imports.max_upload_bytes
            if offset + len(data) > cap or file_obj in self.too_large:
                self.written.pop(file_obj, None)
                self.too_large.add(file_obj)  # removed on close, never handed on
                raise asyncssh.SFTPFailure(f"file larger than the upload limit ({cap} bytes)")
            self.written[file_obj] = os.fsdecode(file_obj.name)
            return int(super().write(file_obj, offset, data))

        async def close(self, file_obj: Any) -> None:
            path = self.written.pop(file_obj, None)
            super().close(file_obj)
            if file_obj in self.too_large:
                self.too_large.discard(file_obj)
                with contextlib.suppress(OSError):
                    os.unlink(file_obj.name)
                return
            if path is not None:
                await self._arrived(path)

        async def rename(self, oldpath: bytes, newpath: bytes) -> None:
            super().rename(oldpath, newpath)
            await self._arrived(os.fsdecode(self.map_path(newpath)))

        async def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
            super().posix_rename(oldpath, newpath)
            await self._arrived(os.fsdecode(self.map_path(newpath)))

        async def _arrived(self, path: str) -> None:
            if not os.path.isfile(path):
                return
            try:
                await self.drop.arrived(self.account, path)
            except UploadRefused as exc:
                log.warning("sftp upload refused", extra={"user": self.account.username,
                                                          "tenant": self.account.tenant, "error": str(exc)})
                raise asyncssh.SFTPFailure(f"upload refused: {exc}") from None

    return Auth, TenantServer


class SftpDrop:
    """The SFTP server of one hub process."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.accounts = SftpAccounts(hub.store)
        self._server: Any = None

    async def arrived(self, account: SftpAccount, path: str) -> None:
        tenant = await self.hub.store.tenant(account.tenant)
        await file_arrived(self.hub, tenant, account.username, path)

    async def start(self, host: str | None = None, port: int | None = None) -> int:
        """Listen (settings ``imports.sftp_host`` / ``imports.sftp_port`` unless given); the bound port."""
        asyncssh = require_asyncssh()
        settings = self.hub.settings
        key = ensure_host_key(settings.sftp_host_key_file)
        auth, server = _server_classes(asyncssh)
        self._server = await asyncssh.listen(
            settings.imports.sftp_host if host is None else host,
            settings.imports.sftp_port if port is None else port,
            server_factory=lambda: auth(self), server_host_keys=[key],
            sftp_factory=lambda chan: server(chan, self), allow_scp=False,
            login_timeout=60, keepalive_interval=30)
        bound = int(self._server.sockets[0].getsockname()[1])
        log.info("sftp listening", extra={"host": settings.imports.sftp_host if host is None else host, "port": bound})
        return bound

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


async def run_sftp(hub: Any, stop: asyncio.Event) -> None:
    """Role ``sftp``: serve until ``stop`` is set."""
    drop = SftpDrop(hub)
    await drop.start()
    try:
        await stop.wait()
    finally:
        await drop.close()
