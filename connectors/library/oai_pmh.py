"""The ``oai_pmh`` connector: harvest a library repository (DSpace, EPrints, Koha ...) over OAI-PMH 2.0.

``check()`` sends Identify (and ListMetadataFormats, to catch a wrong ``metadata_prefix`` before
a sync). ``read("records")`` sends ListRecords and follows resumption tokens page by page. The
stream cursor is the highest datestamp harvested; the next run asks for records ``from`` it, in the
repository's granularity (``from`` is inclusive: a record is read twice rather than missed).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date
from typing import ClassVar

from pydantic import Field, model_validator

from connectors.library._oai import (
    OAI_NS,
    PAGE_MAX_BYTES,
    RepositoryInfo,
    format_datestamp,
    list_records,
    normalise_datestamp,
    oai_request,
    parse_identify,
)
from connectors.library._records import UnsupportedFormat, oai_record_to_flat
from hub.sdk import (
    CheckResult,
    ConnectorConfig,
    ConnectorError,
    ConnectorKind,
    Cursor,
    HttpConnector,
    HttpSourceConfig,
    RawRecord,
    StreamSpec,
    StreamState,
)

__all__ = ["OaiPmhConfig", "OaiPmhConnector"]

log = logging.getLogger("fediflow.connectors.oai_pmh")
CURSOR_KEY = "datestamp"


class OaiPmhConfig(HttpSourceConfig):
    """Where the repository is and what to harvest. ``base_url`` is the OAI-PMH endpoint itself."""

    metadata_prefix: str = Field(
        default="oai_dc",
        pattern=r"^[A-Za-z0-9\-_.!~*'()]+$",
        description="oai_dc (Dublin Core), or the repository's MARCXML prefix: marc21 (Koha), marc (DSpace), marcxml.",
    )
    set_spec: str | None = Field(default=None, min_length=1, description="Harvest only this set (setSpec).")
    from_date: date | None = Field(default=None, description="Harvest only records changed on or after this day.")
    until_date: date | None = Field(default=None, description="Harvest only records changed on or before this day.")
    max_response_bytes: int = Field(default=PAGE_MAX_BYTES, ge=1024,
                                    description="Largest ListRecords page read, in bytes (16 MiB).")

    @model_validator(mode="after")
    def _dates_in_order(self) -> OaiPmhConfig:
        if self.from_date and self.until_date and self.from_date > self.until_date:
            raise ValueError("from_date must not be after until_date")
        return self


class OaiPmhConnector(HttpConnector[OaiPmhConfig]):
    """OAI-PMH 2.0 harvester; one stream, ``records``, of LibraryItem."""

    name: ClassVar[str] = "oai_pmh"
    kind: ClassVar[ConnectorKind] = ConnectorKind.LIBRARY
    title: ClassVar[str] = "OAI-PMH 2.0 repository (DSpace, EPrints, Koha ...)"
    config_model: ClassVar[type[ConnectorConfig]] = OaiPmhConfig

    def __init__(self, config: OaiPmhConfig) -> None:
        super().__init__(config)
        self._info: RepositoryInfo | None = None

    headers: ClassVar[Mapping[str, str]] = {"Accept": "text/xml, application/xml;q=0.9, */*;q=0.5"}

    def streams(self) -> Sequence[StreamSpec]:
        # A record changed or deleted while the list is paged through is listed again, later (its
        # datestamp moved past the resumption token): the last copy is the current one.
        return (StreamSpec("records", "LibraryItem", "Records of the repository, deleted ones as tobedeleted.",
                           duplicates="last_wins"),)

    async def identify(self) -> RepositoryInfo:
        if self._info is None:
            self._info = parse_identify(await oai_request(self.client, self.config.base_url, "Identify"))
        return self._info

    async def metadata_formats(self) -> list[str]:
        root = await oai_request(self.client, self.config.base_url, "ListMetadataFormats")
        return [
            (node.text or "").strip()
            for node in root.iterfind(f"{{{OAI_NS}}}ListMetadataFormats/{{{OAI_NS}}}metadataFormat/{{{OAI_NS}}}metadataPrefix")
        ]

    async def check(self) -> CheckResult:
        where = self.client.redact_url(self.config.base_url)
        try:
            info = await self.identify()
            formats = await self.metadata_formats()
        except ConnectorError as exc:
            return CheckResult(False, f"OAI-PMH endpoint {where}: {exc.message}", {"base_url": where})
        details = {
            "base_url": where,
            "repository": info.name,
            "protocol_version": info.protocol_version,
            "granularity": info.granularity,
            "deleted_record": info.deleted_record,
            "earliest_datestamp": info.earliest_datestamp,
            "metadata_formats": formats,
        }
        if info.protocol_version != "2.0":
            return CheckResult(False, f"{where} speaks OAI-PMH {info.protocol_version or '?'}, not 2.0", details)
        prefix = self.config.metadata_prefix
        if prefix not in formats:
            offered = ", ".join(formats) or "none"
            return CheckResult(
                False,
                f"repository {info.name!r} does not offer metadata format {prefix!r} (it offers: {offered}); "
                "change metadata_prefix",
                details,
            )
        return CheckResult(
            True,
            f"repository {info.name!r} at {where}: OAI-PMH {info.protocol_version}, format {prefix}, "
            f"datestamps {info.granularity}, deleted records {info.deleted_record or 'not stated'}",
            details,
        )

    async def read(self, stream: str, state: StreamState) -> AsyncIterator[RawRecord]:
        if stream != "records":
            raise ConnectorError(f"unknown stream {stream!r} of connector oai_pmh (known: records)")
        settings = self.config
        info = await self.identify()
        cursor = Cursor(state, CURSOR_KEY)
        since = cursor.start()
        arguments: dict[str, str] = {"metadataPrefix": settings.metadata_prefix}
        if since:
            arguments["from"] = format_datestamp(str(since), info.granularity)
        elif settings.from_date:
            arguments["from"] = format_datestamp(settings.from_date, info.granularity)
            state.complete = False
        if settings.until_date:
            arguments["until"] = format_datestamp(settings.until_date, info.granularity)
            state.complete = False
        if settings.set_spec:
            arguments["set"] = settings.set_spec
        log.info("oai-pmh harvest", extra={"repository": info.name, **arguments})
        async for page in list_records(self.client, settings.base_url, settings.metadata_prefix, arguments):
            for position, (element, token) in enumerate(page.items):
                where = f"{page.info.url} #{position + 1}"
                if token is not None and token.cursor is not None:
                    where += f" (list position {token.cursor + position + 1} of {token.complete_list_size or '?'})"
                try:
                    data = oai_record_to_flat(element, settings.metadata_prefix)
                except UnsupportedFormat as exc:
                    yield RawRecord({}, ref=where, error=str(exc))
                    continue
                header = data["header"]
                yield RawRecord(data, ref=f"{header['identifier'] or '?'} ({where})")
                stamp = header["datestamp"]
                if stamp:
                    try:
                        cursor.advance(normalise_datestamp(stamp))
                    except ValueError:
                        log.warning("bad datestamp", extra={"identifier": header["identifier"]})
        cursor.finish()



