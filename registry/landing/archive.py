"""The delivery archive: every delivery's bytes kept by their SHA-256, outside the inbox.

A site that later deletes or overwrites a file loses nothing (contract section 1),
and a delivery can be landed again from here when the dictionaries or the mapping
overrides change. Layout: ``<archive>/<first two hex digits>/<sha256>.xlsx``; a file
is written under a temporary name and renamed, so the archive never holds half a file.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class ArchiveError(OSError):
    """The archived bytes are missing or are not the ones registered."""


def archive_path(archive: Path, sha256: str) -> Path:
    return Path(archive) / sha256[:2] / f"{sha256}.xlsx"


def store(archive: Path, content: bytes, sha256: str) -> Path:
    """Keep ``content`` (whose SHA-256 is ``sha256``) in the archive; idempotent."""
    target = archive_path(archive, sha256)
    if target.is_file() and target.stat().st_size == len(content):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def store_file(archive: Path, source: Path, sha256: str) -> Path:
    """Keep a file of the inbox (read once) in the archive."""
    target = archive_path(archive, sha256)
    if target.is_file():
        return target
    return store(archive, Path(source).read_bytes(), sha256)


def store_copy(archive: Path, source: Path, chunk_bytes: int = 1 << 20) -> tuple[str, Path]:
    """Copy a file into the archive while hashing it: one read, constant memory, and the
    archived bytes are exactly the hashed ones even if the source changes meanwhile.
    Returns (sha256, archived path); idempotent."""
    archive = Path(archive)
    archive.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=archive)
    try:
        with os.fdopen(fd, "wb") as out, Path(source).open("rb") as handle:
            while chunk := handle.read(chunk_bytes):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha256 = digest.hexdigest()
        target = archive_path(archive, sha256)
        if target.is_file():
            Path(tmp).unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha256, target


def read(archive: Path, sha256: str) -> bytes:
    """The archived bytes of a delivery, checked against their SHA-256."""
    path = archive_path(archive, sha256)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ArchiveError(f"delivery {sha256[:12]} is not in the archive ({type(exc).__name__})") from None
    if hashlib.sha256(content).hexdigest() != sha256:
        raise ArchiveError(f"the archived bytes of delivery {sha256[:12]} do not match their SHA-256")
    return content
