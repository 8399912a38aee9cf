"""What happens when a file has arrived in a tenant's import directory (an SFTP upload was closed).

The file is hashed; a .zip is checked like an HTTPS upload (zip-slip, symlinks, zip bombs). Each
source of the tenant whose file field names that file (or a folder holding it) gets a sync queued,
debounced: a run of that source still waiting in the queue takes the new file too (one run, not one
per file). Every arrival is logged in the upload log.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.errors import NotFound
from hub.imports import TenantImports, check_zip, file_fields
from hub.store import RunRecord, SourceRecord, TenantStore, UploadLog, UploadRecord

__all__ = ["Arrival", "file_arrived"]

log = logging.getLogger("fediflow.sftp")


@dataclass(frozen=True, slots=True)
class Arrival:
    path: str
    uploads: list[UploadRecord] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)


def _sha256(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _reads(source_path: str, arrived: Path) -> bool:
    try:
        target = Path(source_path).resolve()
    except (OSError, RuntimeError):
        return False
    return target == arrived or target in arrived.parents


async def _sources_reading(hub: Any, tenant: TenantStore, arrived: Path) -> list[SourceRecord]:
    found = []
    for source in await tenant.list_sources():
        try:
            model = hub.plugins.connector(source.connector).config_model
        except NotFound:  # a source of a connector no longer installed reads no file here
            continue
        if any(isinstance(source.config.get(f), str) and _reads(source.config[f], arrived) for f in file_fields(model)):
            found.append(source)
    return found


async def _queue_debounced(tenant: TenantStore, source: SourceRecord) -> RunRecord | None:
    """A queued sync of ``source``: the one still waiting in the queue if there is one, else a new one."""
    if not source.enabled:
        return None
    for run in await tenant.list_runs(source=source.name, limit=20):
        if run.status == "queued" and not run.dry_run and run.started_at is None:
            return run
    return await tenant.create_run(source, status="queued")


async def file_arrived(hub: Any, tenant: TenantStore, username: str, local_path: str | Path) -> Arrival:
    """Handle a completed upload at ``local_path``; UploadRefused when it is an unsafe zip (nothing is queued)."""
    imports = TenantImports(hub.settings, tenant.tenant.slug)
    arrived = Path(local_path).resolve()
    relative = imports.relative(str(arrived))
    if relative is None:  # the SFTP server keeps clients inside; never act on anything else
        raise ValueError("arrival outside the tenant's import directory")
    size, sha256 = await asyncio.to_thread(_sha256, arrived)
    if arrived.suffix.lower() == ".zip":
        await asyncio.to_thread(check_zip, arrived, hub.settings.imports)
    outcome = Arrival(relative)
    uploads = UploadLog(tenant)
    matched = await _sources_reading(hub, tenant, arrived)
    for source in matched:
        run = await _queue_debounced(tenant, source)
        if run is not None:
            outcome.runs.append(run)
        outcome.uploads.append(await uploads.add(
            source_id=source.id, path=relative, file_name=arrived.name, size=size, sha256=sha256, channel="sftp",
            uploaded_by=f"sftp:{username}", run_id=run.id if run else None))
    if not matched:
        outcome.uploads.append(await uploads.add(
            source_id=None, path=relative, file_name=arrived.name, size=size, sha256=sha256, channel="sftp",
            uploaded_by=f"sftp:{username}", run_id=None))
    log.info("file arrived", extra={"tenant": tenant.tenant.slug, "path": relative, "bytes": size,
                                    "sources": [s.name for s in matched], "runs": [r.id for r in outcome.runs]})
    return outcome
