"""Files schools deliver: tenant import directories, path confinement, safe uploads, the SFTP drop.

- :class:`TenantImports`: ``<imports_dir>/<tenant>/``; :meth:`TenantImports.confine` is the one rule
  for file paths named through the API (relative, no ``..``, symlinks resolved, inside).
- :func:`check_zip`: zip-slip, symlink and zip-bomb refusal.
- :func:`receive_bundle` / :func:`deliver_bundle`: stream an upload to disk under a size cap, hash
  it, check it, rename it into place, log it and queue a run.

Nothing here imports the API; the API, the CLI and the SFTP server (hub.sftp) all use it.
"""

from hub.imports._deliver import Delivery, deliver_bundle
from hub.imports._paths import (
    FILE_FIELD,
    OUTSIDE_MESSAGE,
    REFUSED_MESSAGE,
    Shield,
    TenantImports,
    file_fields,
)
from hub.imports._receive import Received, receive_bundle, upload_target
from hub.imports._zipcheck import ZipSummary, check_zip

__all__ = [
    "FILE_FIELD",
    "OUTSIDE_MESSAGE",
    "REFUSED_MESSAGE",
    "Delivery",
    "Received",
    "Shield",
    "TenantImports",
    "ZipSummary",
    "check_zip",
    "deliver_bundle",
    "file_fields",
    "receive_bundle",
    "upload_target",
]
