"""Uploads and ZIP archives, handled safely: size-capped streaming, inspection before extraction.

Nothing is extracted until every entry of the central directory passed the checks. Extracted
files get generated names (``000001.dcm``), never the names stored in the archive, so no entry
can write outside the work folder whatever it is called.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from medskills.core.errors import study_error
from medskills.dicom.errors import DicomErrorCode

__all__ = [
    "ArchiveLimits",
    "ExtractedArchive",
    "ZipInventory",
    "copy_stream_capped",
    "extract_zip",
    "inspect_zip",
    "work_directory",
]

_CHUNK_BYTES = 1024 * 1024
_NESTED_ARCHIVE_SUFFIXES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar")
_ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED_FLAG = 0x1
GIB = 1024**3


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps applied to uploads and to the ZIP's central directory (all configurable)."""

    max_upload_bytes: int = 2 * GIB
    max_entries: int = 20_000
    max_uncompressed_bytes: int = 8 * GIB
    max_compression_ratio: float = 200.0


@dataclass(frozen=True)
class ZipInventory:
    """Entries that will be extracted, and the ones ignored (nested archives, folders)."""

    members: tuple[zipfile.ZipInfo, ...]
    nested_archives: tuple[str, ...]
    uncompressed_bytes: int


@dataclass(frozen=True)
class ExtractedArchive:
    """Extracted files (generated names) and what the archive held besides them."""

    files: tuple[Path, ...]
    nested_archives: tuple[str, ...] = field(default_factory=tuple)
    entry_names: dict[Path, str] = field(default_factory=dict)
    """Each extracted file's name in the archive, for messages the uploader can act on."""


def copy_stream_capped(source: BinaryIO, destination: Path, *, max_bytes: int) -> int:
    """Copy ``source`` to ``destination`` in chunks; stop with ``upload_too_large`` past ``max_bytes``."""
    written = 0
    with open(destination, "wb") as out:
        while chunk := source.read(_CHUNK_BYTES):
            written += len(chunk)
            if written > max_bytes:
                raise study_error(DicomErrorCode.UPLOAD_TOO_LARGE,
                                  f"the upload is larger than the {max_bytes} byte limit; split the study or raise "
                                  "MEDSKILLS_MAX_UPLOAD_BYTES.")
            out.write(chunk)
    return written


@contextmanager
def work_directory(root: Path | None = None) -> Iterator[Path]:
    """A private temporary folder, removed on exit whatever happened inside."""
    path = Path(tempfile.mkdtemp(prefix="medskills-study-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def inspect_zip(path: Path, limits: ArchiveLimits) -> ZipInventory:
    """Check the central directory before anything is extracted.

    Raises:
        StudyError: ``zip_invalid``, ``zip_too_many_entries``, ``zip_path_traversal``,
            ``zip_symlink``, ``zip_encrypted``, ``zip_duplicate_names``, ``zip_too_large``,
            ``zip_bomb``. The first problem found by that order is raised; its message names
            the entry at fault.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as err:
        raise study_error(DicomErrorCode.ZIP_INVALID, f"the upload is not a readable ZIP archive ({err}); "
                          "compress the DICOM folder with a standard zip tool.") from err
    if len(infos) > limits.max_entries:
        raise study_error(DicomErrorCode.ZIP_TOO_MANY_ENTRIES, f"the ZIP holds {len(infos)} entries, more than the "
                          f"limit of {limits.max_entries}; upload one study per archive.")
    seen: set[str] = set()
    members: list[zipfile.ZipInfo] = []
    nested: list[str] = []
    for info in infos:
        _check_entry(info, seen, limits)
        if info.is_dir():
            continue
        if info.filename.lower().endswith(_NESTED_ARCHIVE_SUFFIXES):
            nested.append(info.filename)
            continue
        members.append(info)
    total = sum(info.file_size for info in members)
    if total > limits.max_uncompressed_bytes:
        raise study_error(DicomErrorCode.ZIP_TOO_LARGE, f"the ZIP expands to {total} bytes, more than the limit of "
                          f"{limits.max_uncompressed_bytes}; upload one study per archive.")
    compressed = sum(info.compress_size for info in members)
    if total > 0 and total / max(compressed, 1) > limits.max_compression_ratio:
        raise study_error(DicomErrorCode.ZIP_BOMB, f"the ZIP expands {total / max(compressed, 1):.0f}x overall, more "
                          f"than the {limits.max_compression_ratio:g}x limit (a zip bomb?).")
    return ZipInventory(members=tuple(members), nested_archives=tuple(nested), uncompressed_bytes=total)


def _check_entry(info: zipfile.ZipInfo, seen: set[str], limits: ArchiveLimits) -> None:
    name = info.filename
    pure = PurePosixPath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in pure.parts:
        raise study_error(DicomErrorCode.ZIP_PATH_TRAVERSAL, f"ZIP entry {name!r} is an absolute path or climbs out "
                          "with '..'; re-create the archive from inside the study folder.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise study_error(DicomErrorCode.ZIP_SYMLINK, f"ZIP entry {name!r} is a symbolic link; archive the files "
                          "themselves (zip without --symlinks).")
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise study_error(DicomErrorCode.ZIP_ENCRYPTED, f"ZIP entry {name!r} is encrypted; upload an archive "
                          "without a password.")
    if name in seen:
        raise study_error(DicomErrorCode.ZIP_DUPLICATE_NAMES, f"ZIP entry {name!r} appears twice; re-create the "
                          "archive.")
    seen.add(name)
    if info.file_size > limits.max_compression_ratio * max(info.compress_size, 1) and info.file_size > _CHUNK_BYTES:
        raise study_error(DicomErrorCode.ZIP_BOMB, f"ZIP entry {name!r} expands {info.file_size} bytes from "
                          f"{info.compress_size} (over the {limits.max_compression_ratio:g}x limit; a zip bomb?).")


def extract_zip(path: Path, destination: Path, limits: ArchiveLimits) -> ExtractedArchive:
    """Inspect, then extract each member under a generated name, counting bytes against the header.

    Nested archives are not extracted (they are listed). A member that is itself a ZIP by content
    is dropped and listed too.
    """
    inventory = inspect_zip(path, limits)
    files: list[Path] = []
    entry_names: dict[Path, str] = {}
    nested = list(inventory.nested_archives)
    with zipfile.ZipFile(path) as archive:
        for index, info in enumerate(inventory.members, start=1):
            target = destination / f"{index:06d}.dcm"
            if _extract_member(archive, info, target) == _ZIP_MAGIC:
                target.unlink()
                nested.append(info.filename)
                continue
            files.append(target)
            entry_names[target] = info.filename
    return ExtractedArchive(files=tuple(files), nested_archives=tuple(nested), entry_names=entry_names)


def _extract_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> bytes:
    """Extract one member to ``target``; returns its first four bytes (a ZIP inside the ZIP starts ``PK``)."""
    written = 0
    head = b""
    try:
        with archive.open(info) as source, open(target, "wb") as out:
            while chunk := source.read(_CHUNK_BYTES):
                head = head or chunk[:4]
                written += len(chunk)
                if written > info.file_size:
                    raise study_error(DicomErrorCode.ZIP_BOMB, f"ZIP entry {info.filename!r} expands past its "
                                      f"declared size of {info.file_size} bytes.")
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as err:
        raise study_error(DicomErrorCode.ZIP_INVALID, f"ZIP entry {info.filename!r} cannot be extracted ({err}); "
                          "the archive is corrupt or uses an unsupported compression method.") from err
    return head
