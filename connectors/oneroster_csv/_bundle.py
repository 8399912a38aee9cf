"""Opening a OneRoster CSV bundle (a folder or a .zip) and reading its manifest.

File names are matched case-insensitively; in a zip whose files sit in one sub-folder (a common
export habit) that folder is used. Every failure to use the bundle as a whole is a
:class:`~hub.errors.SourceDataError` saying what is wrong and where.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from hub.sdk import SourceDataError

from ._columns import FILES
from ._damage import ERROR_HANDLER, register

__all__ = ["MODES", "SUPPORTED_VERSIONS", "Bundle", "Manifest", "open_bundle"]

SUPPORTED_VERSIONS = ("1.1", "1.2")
MODES = ("bulk", "delta", "absent")
ENCODING = "utf-8-sig"  # strips a UTF-8 byte-order mark when there is one
_CHUNK = 1 << 18  # characters decoded at a time (CPython's TextIOWrapper default is 8 KiB)

#: errors that mean the bytes of a file could not be read or decoded
READ_ERRORS = (OSError, zipfile.BadZipFile, zlib.error, EOFError, UnicodeDecodeError, csv.Error)


@dataclass(frozen=True, slots=True)
class Manifest:
    """What manifest.csv says: versions and the mode (bulk, delta, absent) of each known file."""

    oneroster_version: str
    manifest_version: str
    modes: dict[str, str]
    properties: dict[str, str] = field(default_factory=dict)

    def mode(self, name: str) -> str:
        return self.modes.get(name, "absent")


def _normalize_version(raw: str) -> str:
    value = raw.strip().lower().removeprefix("v").replace("p", ".")
    parts = value.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else value


class Bundle:
    """An opened bundle. Use :func:`open_bundle`; close it (or use it as a context manager)."""

    def __init__(self, where: str, members: dict[str, str], zf: zipfile.ZipFile | None, root: Path | None):
        self.where = where
        self._members = members  # lower-cased file name -> member name / file name
        self._zip = zf
        self._root = root
        self.manifest = self._read_manifest()

    # -- files ---------------------------------------------------------------------------------

    def has(self, filename: str) -> bool:
        return filename.lower() in self._members

    def location(self, filename: str) -> str:
        member = self._members.get(filename.lower(), filename)
        if self._zip is not None:
            return f"{self.where}!{member}"
        return str(Path(self.where) / member)

    @contextmanager
    def open_text(self, filename: str, *, strict: bool = False) -> Iterator[TextIO]:
        """A text stream over one file of the bundle (UTF-8, BOM stripped, newlines left to csv).

        A byte that is not UTF-8 does not stop the stream: it becomes a lone surrogate that the
        reader reports as an error of its row (see :mod:`._damage`); with ``strict`` it raises.
        """
        member = self._members.get(filename.lower())
        if member is None:
            raise SourceDataError(f"{filename} is missing", where=self.where)
        register()
        errors = "strict" if strict else ERROR_HANDLER
        try:
            if self._zip is not None:
                raw = self._zip.open(member)
                stream: TextIO = io.TextIOWrapper(raw, encoding=ENCODING, errors=errors, newline="")
            else:
                assert self._root is not None
                stream = open(self._root / member, encoding=ENCODING, errors=errors,  # noqa: SIM115
                              newline="")
        except READ_ERRORS as exc:
            raise SourceDataError(f"cannot open {filename}: {exc}", where=self.where) from exc
        stream._CHUNK_SIZE = _CHUNK  # type: ignore[attr-defined]  # fewer, larger decode steps
        try:
            yield stream
        finally:
            stream.close()

    def digest(self, filenames: list[str]) -> str:
        """BLAKE2b over the manifest's version and each file's mode and bytes (blocking; streamed)."""
        h = hashlib.blake2b(digest_size=32)
        h.update(f"oneroster {self.manifest.oneroster_version}\n".encode())
        for filename in filenames:
            name = filename.removesuffix(".csv")
            mode = self.manifest.mode(name)
            h.update(f"{name} {mode}\n".encode())
            if mode == "absent":
                continue
            member = self._members[filename.lower()]
            try:
                if self._zip is not None:
                    raw = self._zip.open(member)
                else:
                    assert self._root is not None
                    raw = open(self._root / member, "rb")  # noqa: SIM115
                with raw:
                    while chunk := raw.read(1 << 20):
                        h.update(chunk)
            except READ_ERRORS as exc:
                raise SourceDataError(f"cannot read {filename}: {exc}", where=self.where) from exc
            h.update(b"\n")
        return h.hexdigest()

    # -- manifest ------------------------------------------------------------------------------

    def _read_manifest(self) -> Manifest:
        if not self.has("manifest.csv"):
            raise SourceDataError("manifest.csv is missing (every OneRoster CSV bundle must have one)",
                                  where=self.where)
        props: dict[str, str] = {}
        try:
            with self.open_text("manifest.csv", strict=True) as fh:
                for row in csv.reader(fh):
                    if len(row) < 2 or not row[0].strip():
                        continue
                    key = row[0].strip()
                    if key.lower() == "propertyname":
                        continue
                    props[key.lower()] = row[1].strip()
        except READ_ERRORS as exc:
            raise SourceDataError(f"manifest.csv is unreadable: {exc}", where=self.where) from exc
        raw_version = props.get("oneroster.version")
        if raw_version is None:
            raise SourceDataError("manifest.csv has no oneroster.version", where=self.where)
        version = _normalize_version(raw_version)
        if version not in SUPPORTED_VERSIONS:
            raise SourceDataError(
                f"manifest.csv: unsupported oneroster.version {raw_version!r} "
                f"(supported: {', '.join(SUPPORTED_VERSIONS)})",
                where=self.where,
            )
        modes: dict[str, str] = {}
        for name in FILES:
            raw_mode = props.get(f"file.{name.lower()}", "absent")
            mode = raw_mode.strip().lower() or "absent"
            if mode not in MODES:
                raise SourceDataError(
                    f"manifest.csv: file.{name} is {raw_mode!r}, expected bulk, delta or absent",
                    where=self.where,
                )
            if mode != "absent" and not self.has(f"{name}.csv"):
                raise SourceDataError(f"manifest.csv lists {name}.csv as {mode} but the file is missing",
                                      where=self.where)
            modes[name] = mode
        return Manifest(version, props.get("manifest.version", ""), modes, props)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _zip_members(zf: zipfile.ZipFile, where: str) -> dict[str, str]:
    files = [i.filename for i in zf.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
    manifests = [f for f in files if f.rsplit("/", 1)[-1].lower() == "manifest.csv"]
    if not manifests:
        raise SourceDataError("manifest.csv is missing (every OneRoster CSV bundle must have one)", where=where)
    manifests.sort(key=lambda f: (f.count("/"), f))
    prefix = manifests[0].rpartition("/")[0]
    members: dict[str, str] = {}
    for name in files:
        folder, _, base = name.rpartition("/")
        if folder == prefix:
            members.setdefault(base.lower(), name)
    return members


def open_bundle(path: str | os.PathLike[str]) -> Bundle:
    """Open a bundle folder or .zip file and read its manifest; raise SourceDataError if unusable."""
    p = Path(path).expanduser()
    where = str(p)
    if not p.exists():
        raise SourceDataError("no such file or folder", where=where)
    if p.is_dir():
        try:
            members = {e.name.lower(): e.name for e in os.scandir(p) if e.is_file()}
        except OSError as exc:
            raise SourceDataError(f"cannot list the folder: {exc}", where=where) from exc
        return Bundle(where, members, None, p)
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise SourceDataError(f"not a readable zip file ({exc})", where=where) from exc
    except OSError as exc:
        raise SourceDataError(f"cannot open: {exc}", where=where) from exc
    try:
        return Bundle(where, _zip_members(zf, where), zf, None)
    except BaseException:
        zf.close()
        raise
