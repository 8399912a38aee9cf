"""Delivering a bundle for a source (API and CLI): receive it, point the source at it, log it, queue a run."""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass

from pydantic import BaseModel

from hub.errors import ConfigurationError
from hub.imports._paths import TenantImports, file_fields
from hub.imports._receive import Received, receive_bundle, upload_target
from hub.settings import Settings
from hub.store import RunRecord, SourceRecord, TenantStore, UploadLog, UploadRecord

__all__ = ["Delivery", "deliver_bundle"]


@dataclass(frozen=True, slots=True)
class Delivery:
    upload: UploadRecord
    received: Received
    run: RunRecord | None


def file_field(model: type[BaseModel], source: SourceRecord) -> str:
    fields = file_fields(model)
    if not fields:
        raise ConfigurationError(f"source {source.name!r} ({source.connector}) does not read files; "
                                 "only file sources (oneroster_csv) take uploads")
    return fields[0]


async def deliver_bundle(settings: Settings, tenant: TenantStore, source: SourceRecord, model: type[BaseModel],
                         chunks: AsyncIterable[bytes], *, file_name: str | None, channel: str, uploaded_by: str,
                         sync: bool = False, dry_run: bool = False) -> Delivery:
    """Store an uploaded zip for ``source`` and log it; with ``sync`` or ``dry_run`` also queue a run.

    The zip lands on the source's path when that is a .zip in the tenant's import directory, else on
    ``<source>.zip`` there, and the source is pointed at it. A requested run is checked before the
    upload is read (Conflict while one is active), and queued once the file is in place.
    """
    field = file_field(model, source)
    if sync or dry_run:
        await tenant.check_queue(source, dry_run=dry_run)
    imports = TenantImports(settings, tenant.tenant.slug)
    current = source.config.get(field)
    target = upload_target(imports, source.name, current if isinstance(current, str) else None)
    received = await receive_bundle(chunks, imports, target)
    if current != str(target):
        config = await tenant.source_config(source, model)
        source = await tenant.update_source(source.name, config.model_copy(update={field: str(target)}))
    run = await tenant.queue_run(source, dry_run=dry_run) if (sync or dry_run) else None
    upload = await UploadLog(tenant).add(
        source_id=source.id, path=imports.relative(str(target)) or target.name, file_name=file_name,
        size=received.size, sha256=received.sha256, channel=channel, uploaded_by=uploaded_by,
        run_id=run.id if run else None)
    return Delivery(upload, received, run)


