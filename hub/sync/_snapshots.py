"""Skipping a stream whose upstream data has not changed since its last clean, complete read.

A connector may offer :meth:`hub.sdk.Connector.fingerprint`: a digest of everything the next
read of a stream would yield (the OneRoster CSV connector hashes the stream's files). When a run
reads a stream completely without a single record error, its last batch saves a *snapshot* with
the stream's state: the key (the connector's fingerprint, the mapping's fingerprint and the hub's
version), how many records were read, and the *generation* of the source's entities of the
stream's type (their count and the sum of their versions) after the writes.

The next run skips reading such a stream when the key is the same and the generation has not
moved: every record would be found unchanged and nothing would be marked deleted, so the run
records them as unchanged without reading, mapping or hashing them. Anything that could make the
outcome differ defeats the shortcut: another file, another mapping or hub version, a record error
last time, any write to those entities since (a version raised, an entity purged or taken over
by another source), a mapping with lookups (its output depends on other streams), a type that
several streams of the source produce (see ``SharedType``) and ``--full-refresh``.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from hub import __version__
from hub.errors import HubError
from hub.sdk import Connector
from hub.store._sync_ops import StoredStreamState

__all__ = ["snapshot_key", "unchanged_records"]

log = logging.getLogger("fediflow.sync")


async def snapshot_key(connector: Connector, stream: str, mapping: Any) -> str | None:
    """The key of what a read of ``stream`` would produce now, or None if the connector cannot tell."""
    try:
        fingerprint = await connector.fingerprint(stream)
    except (HubError, OSError) as exc:  # the read itself will report what is wrong
        log.debug("no fingerprint", extra={"stream": stream, "error": str(exc)})
        return None
    if fingerprint is None:
        return None
    material = f"fediflow-snapshot/1\n{fingerprint}\n{mapping.fingerprint}\n{__version__}"
    return hashlib.sha256(material.encode()).hexdigest()


def unchanged_records(stored: StoredStreamState | None, key: str, generation: list[int]) -> int | None:
    """How many records the stream had, if its saved snapshot says a read now would change nothing."""
    snapshot = stored.snapshot if stored is not None else None
    if stored is None or not stored.done or not snapshot:
        return None
    if snapshot.get("key") != key or snapshot.get("generation") != generation:
        return None
    return int(snapshot["records"])
