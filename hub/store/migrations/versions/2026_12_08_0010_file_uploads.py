"""file uploads: the log of delivered files, and SFTP accounts

* ``file_uploads``: one row per file delivered through the API, the CLI or SFTP (who, when, size,
  sha256, the name given, where it landed relative to the tenant's import directory, the run
  queued on arrival).
* ``sftp_accounts``: per-tenant SFTP logins (scrypt password hash and/or OpenSSH public keys).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"),
                                   ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "file_uploads",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("tenant_id", _KEY, nullable=False),
        sa.Column("source_id", _KEY, nullable=True),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("uploaded_by", sa.String(255), nullable=False),
        sa.Column("run_id", _KEY, nullable=True),
        _ts("uploaded_at"),
        _fk("file_uploads", "tenant_id", "tenants", "CASCADE"),
        _fk("file_uploads", "source_id", "sources", "SET NULL"),
        _fk("file_uploads", "run_id", "sync_runs", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_uploads")),
    )
    op.create_index(op.f("ix_file_uploads_tenant_id_source_id_id"), "file_uploads", ["tenant_id", "source_id", "id"])
    op.create_table(
        "sftp_accounts",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("tenant_id", _KEY, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("public_keys", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        _fk("sftp_accounts", "tenant_id", "tenants", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sftp_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_sftp_accounts_username")),
    )


def downgrade() -> None:
    op.drop_table("sftp_accounts")
    op.drop_index(op.f("ix_file_uploads_tenant_id_source_id_id"), table_name="file_uploads")
    op.drop_table("file_uploads")
