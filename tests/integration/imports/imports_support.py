"""Helpers of the file-delivery tests: real OneRoster bundles as zips, and hand-made (hostile) zips."""

from __future__ import annotations

import zipfile
from pathlib import Path


def bundle_zip(target: Path, users: int = 20, seed: int = 1) -> Path:
    """A real OneRoster bundle, zipped, at ``target``."""
    from hub.demo import generate_bundle

    target.parent.mkdir(parents=True, exist_ok=True)
    generate_bundle(target, users=users, seed=seed, zip=True)
    return target


def zip_with(target: Path, members: dict[str, bytes], *, symlink: str | None = None) -> Path:
    """A zip holding ``members`` as given (names unchecked), plus a symlink member named ``symlink``."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, "/etc/passwd")
    return target
