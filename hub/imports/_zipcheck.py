"""Is an uploaded zip safe to keep? Member names, symlinks, member count and unpacked size.

Refused: absolute member names, drive letters, ``..`` parts, NUL bytes (zip-slip); symlink members;
more members than allowed; more bytes once unpacked than allowed, or a compression ratio above the
cap (zip bombs). Sizes are measured by really inflating each member (the sizes a zip declares can
lie), stopping as soon as a limit is passed.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hub.errors import UploadRefused
from hub.settings import ImportSettings

__all__ = ["ZipSummary", "check_zip"]

_CHUNK = 1 << 20
#: the ratio cap applies once this much is unpacked (small files of repeated text compress very well)
_RATIO_FLOOR = 1 << 20


@dataclass(frozen=True, slots=True)
class ZipSummary:
    members: int
    uncompressed_bytes: int


def _safe_name(name: str) -> bool:
    if not name or "\x00" in name:
        return False
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        return False
    return ".." not in PurePosixPath(normalized).parts


def check_zip(path: Path, limits: ImportSettings) -> ZipSummary:
    """Check the zip at ``path``; UploadRefused saying what is wrong (member names are the uploader's own)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_zip_members:
                raise UploadRefused(f"the zip has {len(infos)} members, more than the {limits.max_zip_members} allowed")
            for info in infos:
                if not _safe_name(info.filename):
                    raise UploadRefused(f"unsafe member name in the zip: {info.filename!r}")
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise UploadRefused(f"the zip holds a symbolic link: {info.filename!r}")
            compressed = max(1, sum(i.compress_size for i in infos))
            total = 0
            for info in infos:
                if info.is_dir():
                    continue
                with zf.open(info) as member:
                    while chunk := member.read(_CHUNK):
                        total += len(chunk)
                        if total > limits.max_uncompressed_bytes:
                            raise UploadRefused(f"the zip unpacks to more than {limits.max_uncompressed_bytes} bytes")
                        if total > _RATIO_FLOOR and total / compressed > limits.max_compression_ratio:
                            raise UploadRefused(f"the zip's compression ratio is above {limits.max_compression_ratio:g}")
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise UploadRefused(f"not a readable zip archive ({exc})") from None
    return ZipSummary(len(infos), total)
