"""Uploads of a file source's bundle: ``POST /api/v1/sources/{name}/uploads`` (a zip body) and the upload log.

The body is streamed to a temporary file in the tenant's import directory under
``imports.max_upload_bytes`` (413 beyond), checked (zip-slip, symlinks, zip bombs: 422), hashed
(sha256) and renamed over the source's bundle; ``sync=true`` or ``dry_run=true`` queue a run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import FromPath, QueryParameter

from hub.api._problems import problem_responses
from hub.api._runner import RunLauncher
from hub.api.deps import HubDep, PrincipalDep, TenantStoreDep
from hub.api.guards import READ, WRITE
from hub.errors import UploadTooLarge
from hub.imports import deliver_bundle
from hub.store import UploadLog, UploadRecord

__all__ = ["UploadController", "UploadOut"]


@dataclass
class UploadOut:
    id: int
    source: str | None
    #: where the file landed, relative to the tenant's import directory
    path: str
    file_name: str | None
    size: int
    sha256: str
    #: api | cli | sftp
    channel: str
    uploaded_by: str
    uploaded_at: datetime
    run_id: int | None = None
    run_href: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def upload_out(u: UploadRecord, **extra: Any) -> UploadOut:
    return UploadOut(u.id, u.source, u.path, u.file_name, u.size, u.sha256, u.channel, u.uploaded_by, u.uploaded_at,
                     u.run_id, f"/api/v1/runs/{u.run_id}" if u.run_id else None, dict(extra))


@dataclass
class _ZipBody(Operation):
    """The OpenAPI operation of the upload: a binary zip request body (the handler streams it)."""

    def __post_init__(self) -> None:
        binary = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
        self.request_body = RequestBody(
            content={"application/zip": OpenAPIMediaType(schema=binary), "application/octet-stream": OpenAPIMediaType(schema=binary)},
            description="The bundle: a zip of manifest.csv and the OneRoster CSV files.", required=True)


async def _body(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        yield chunk


class UploadController(Controller):
    path = "/sources/{name:str}/uploads"
    tags = ["sources"]
    guards = [READ]

    @post("/", summary="Upload a file source's bundle (a zip)", guards=[WRITE], status_code=201,
          request_max_body_size=None, operation_class=_ZipBody,
          responses=problem_responses(404, 409, 413, 422))
    async def upload(
        self,
        name: FromPath[str],
        request: Request[Any, Any, Any],
        tenant_store: TenantStoreDep,
        hub: HubDep,
        principal: PrincipalDep,
        sync: Annotated[bool, QueryParameter(description="Queue a sync once the file is in place")] = False,
        dry_run: Annotated[bool, QueryParameter(description="Queue a dry run once the file is in place")] = False,
        filename: Annotated[str | None, QueryParameter(description="The file's name, recorded only",
                                                       max_length=255)] = None,
    ) -> Response[UploadOut]:
        """Stream the body to the tenant's import directory, check it, put it where the source reads it.

        The zip lands on the source's path when that is a .zip in the tenant's import directory, else on
        ``<source>.zip`` there and the source is pointed at it. 413 past ``imports.max_upload_bytes``;
        422 for a body that is not a safe zip (absolute or ``..`` member names, symlinks, more than
        ``imports.max_uncompressed_bytes`` unpacked or a ratio above ``imports.max_compression_ratio``);
        409 when a run was asked for and one is already active (checked before the body is read).
        """
        source = await tenant_store.get_source(name)
        cap = hub.settings.imports.max_upload_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise UploadTooLarge(f"the upload is larger than {cap} bytes")
        cls = hub.plugins.connector(source.connector)
        delivery = await deliver_bundle(hub.settings, tenant_store, source, cls.config_model, _body(request),
                                        file_name=filename, channel="api", uploaded_by=principal.client_id,
                                        sync=sync, dry_run=dry_run)
        if delivery.run is not None:
            launcher: RunLauncher = request.app.state.runner
            launcher.launch(tenant_store, delivery.run)
        out = upload_out(delivery.upload, members=delivery.received.zip.members,
                         uncompressed_bytes=delivery.received.zip.uncompressed_bytes)
        headers = {"Location": out.run_href} if out.run_href else {}
        return Response(out, status_code=201, headers=headers)

    @get("/", summary="Uploads of a source, newest first", responses=problem_responses(404))
    async def list_uploads(
        self,
        name: FromPath[str],
        tenant_store: TenantStoreDep,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> list[UploadOut]:
        await tenant_store.get_source(name)
        return [upload_out(u) for u in await UploadLog(tenant_store).list(source=name, limit=limit, offset=offset)]
