"""Receiving a bundle: streamed to a temporary file in the tenant's import directory, capped, hashed,
checked, then renamed atomically over its destination."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path

from hub.errors import UploadTooLarge
from hub.imports._paths import TenantImports
from hub.imports._zipcheck import ZipSummary, check_zip

__all__ = ["Received", "receive_bundle", "upload_target"]

_FLUSH = 1 << 20


@dataclass(frozen=True, slots=True)
class Received:
    path: Path
    size: int
    sha256: str
    zip: ZipSummary


def upload_target(imports: TenantImports, source_name: str, current_path: str | None) -> Path:
    """Where an upload for a source lands: its current path when that is a .zip inside the tenant's import
    directory, else ``<source-name>.zip`` there (and the source is pointed at it)."""
    if current_path and current_path.lower().endswith(".zip") and imports.contains(current_path):
        return Path(current_path).resolve()
    return imports.root / f"{source_name}.zip"


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


async def receive_bundle(chunks: AsyncIterable[bytes], imports: TenantImports, target: Path) -> Received:
    """Stream ``chunks`` into ``target`` (inside ``imports``): UploadTooLarge past the cap, UploadRefused for
    an unsafe zip; nothing is left behind on refusal, and ``target`` changes only once the file is whole."""
    limits = imports.settings.imports
    root = imports.ensure()
    if target.parent.resolve() != root and root not in target.parent.resolve().parents:
        raise ValueError("upload target outside the tenant's import directory")  # a bug, not user input
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.parent / f".upload-{secrets.token_hex(8)}.part"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    digest = hashlib.sha256()
    size = 0
    kept = False
    try:
        buffer = bytearray()
        async for chunk in chunks:
            if not chunk:
                continue
            size += len(chunk)
            if size > limits.max_upload_bytes:
                raise UploadTooLarge(f"the upload is larger than {limits.max_upload_bytes} bytes")
            digest.update(chunk)
            buffer += chunk
            if len(buffer) >= _FLUSH:
                await asyncio.to_thread(_write, fd, bytes(buffer))
                buffer.clear()
        if buffer:
            await asyncio.to_thread(_write, fd, bytes(buffer))
        await asyncio.to_thread(os.fsync, fd)
        os.close(fd)
        fd = -1
        summary = await asyncio.to_thread(check_zip, temp, limits)
        os.replace(temp, target)
        kept = True
        return Received(target, size, digest.hexdigest(), summary)
    finally:
        if fd >= 0:
            os.close(fd)
        if not kept:
            temp.unlink(missing_ok=True)
