"""`fediflow sftp add-user|list|remove|disable|enable`: the SFTP accounts of the `sftp` role."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.table import Table

from hub.cli._common import console, run_with_hub
from hub.context import Hub
from hub.errors import ConfigurationError

__all__ = ["sftp_app"]

sftp_app = typer.Typer(name="sftp", help="SFTP accounts: who may drop files into a tenant's import directory.",
                       no_args_is_help=True)


def _keys(files: list[Path]) -> tuple[str, ...]:
    from hub.sftp import require_asyncssh

    asyncssh = require_asyncssh()
    keys = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"cannot read public key file {file}: {exc.strerror}") from None
        for line in text.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                key = asyncssh.import_public_key(line.strip())
            except (asyncssh.KeyImportError, ValueError):
                raise ConfigurationError(f"{file} does not hold an OpenSSH public key") from None
            keys.append(key.export_public_key().decode("ascii").strip())
    return tuple(keys)


@sftp_app.command("add-user")
def add_user(
    tenant: str,
    username: str,
    password: bool = typer.Option(False, "--password", help="Ask for a password (typed twice, not echoed)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    keys: list[Path] = typer.Option([], "--key", help="OpenSSH public key file (authorized_keys lines; repeatable)."),
) -> None:
    """Create an SFTP account of TENANT, chrooted to the tenant's import directory.

    Passwords are stored as scrypt hashes, never in clear; public keys as text.
    """
    from hub.sftp import hash_password

    secret: str | None = None
    if password_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    elif password:
        secret = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if secret is not None and len(secret) < 8:
        raise typer.BadParameter("the password must have at least 8 characters")
    public_keys = _keys(keys)

    async def go(hub: Hub) -> None:
        from hub.store import SftpAccounts

        store = await hub.store.tenant(tenant)
        account = await SftpAccounts(hub.store).add(store, username, password_hash=hash_password(secret) if secret
                                                    else None, public_keys=public_keys)
        console.print(f"added SFTP user [bold]{account.username}[/] to tenant {tenant} "
                      f"({', '.join(account.methods)})")

    run_with_hub(go)


@sftp_app.command("list")
def list_(tenant: str) -> None:
    """The SFTP accounts of TENANT (never their passwords)."""

    async def go(hub: Hub) -> None:
        from hub.store import SftpAccounts

        store = await hub.store.tenant(tenant)
        table = Table("user", "login", "keys", "enabled", "created")
        for a in await SftpAccounts(hub.store).list(store):
            table.add_row(a.username, ", ".join(a.methods), str(len(a.public_keys)), "yes" if a.enabled else "no",
                          a.created_at.isoformat(timespec="seconds"))
        console.print(table)

    run_with_hub(go)


def _set_enabled(tenant: str, username: str, enabled: bool) -> None:
    async def go(hub: Hub) -> None:
        from hub.store import SftpAccounts

        await SftpAccounts(hub.store).set_enabled(await hub.store.tenant(tenant), username, enabled)
        console.print(f"{'enabled' if enabled else 'disabled'} SFTP user {username}")

    run_with_hub(go)


@sftp_app.command("disable")
def disable(tenant: str, username: str) -> None:
    """Stop an account from logging in (kept, can be enabled again)."""
    _set_enabled(tenant, username, False)


@sftp_app.command("enable")
def enable(tenant: str, username: str) -> None:
    """Let a disabled account log in again."""
    _set_enabled(tenant, username, True)


@sftp_app.command("remove")
def remove(tenant: str, username: str) -> None:
    """Delete an SFTP account."""

    async def go(hub: Hub) -> None:
        from hub.store import SftpAccounts

        await SftpAccounts(hub.store).remove(await hub.store.tenant(tenant), username)
        console.print(f"removed SFTP user {username}")

    run_with_hub(go)
