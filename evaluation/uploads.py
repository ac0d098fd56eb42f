"""Checks on uploaded files: size cap, type by extension and content, SHA-256 (DESIGN.md §6).

The type check is written by hand: the small sniffing libraries know PDF and ZIP but not IFC's
STEP header, nor which ZIP is a .docx, an .ofd or an .ifczip; the standard library's ``zipfile``
does the reading, and one table below keeps the extension-to-content rule in one place.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files import File

from evaluation.exceptions import ProtocolError
from evaluation.models import BidDocument, DocumentKind

# An opening record lists at most 500 bids (OpeningRecordIn): a few hundred kilobytes at most.
MAX_OPENING_RECORD_BYTES = 5 * 1024 * 1024
HEAD_BYTES = 4096


def max_document_bytes() -> int:
    return int(settings.EVAL_MAX_DOCUMENT_BYTES)


def _zip_names(f: IO[bytes]) -> list[str] | None:
    f.seek(0)
    try:
        with zipfile.ZipFile(f) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def _is_zip(head: bytes, f: IO[bytes]) -> bool:
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06")) and _zip_names(f) is not None


def _zip_with(*required: str) -> Callable[[bytes, IO[bytes]], bool]:
    def sniff(head: bytes, f: IO[bytes]) -> bool:
        if not head.startswith(b"PK\x03\x04"):
            return False
        names = _zip_names(f)
        return names is not None and all(name in names for name in required)

    return sniff


def _is_ifczip(head: bytes, f: IO[bytes]) -> bool:
    names = _zip_names(f) if head.startswith(b"PK\x03\x04") else None
    return names is not None and any(name.lower().endswith(".ifc") for name in names)


def _is_pdf(head: bytes, f: IO[bytes]) -> bool:
    # PDF readers accept the header anywhere in the first kilobyte.
    return b"%PDF-" in head[:1024]


def _is_ifc(head: bytes, f: IO[bytes]) -> bool:
    """An IFC-SPF file is ISO 10303-21 (STEP) text whose header names an IFC schema."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"ISO-10303-21;") and b"FILE_SCHEMA" in head and b"IFC" in head.upper()


def _starts_with(magic: bytes) -> Callable[[bytes, IO[bytes]], bool]:
    return lambda head, f: head.startswith(magic)


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DOCUMENT_TYPES: dict[str, Callable[[bytes, IO[bytes]], bool]] = {
    "pdf": _is_pdf,
    "ofd": _zip_with("OFD.xml"),
    "docx": _zip_with("[Content_Types].xml", "word/document.xml"),
    "xlsx": _zip_with("[Content_Types].xml", "xl/workbook.xml"),
    "doc": _starts_with(OLE2),
    "xls": _starts_with(OLE2),
    "zip": _is_zip,
    "ifc": _is_ifc,
    "ifczip": _is_ifczip,
    "jpg": _starts_with(b"\xff\xd8\xff"),
    "jpeg": _starts_with(b"\xff\xd8\xff"),
    "png": _starts_with(b"\x89PNG\r\n\x1a\n"),
}
BIM_TYPES = frozenset({"ifc", "ifczip"})


@dataclass(frozen=True)
class CheckedDocument:
    original_name: str
    extension: str
    size: int
    sha256: str


def extension_of(name: str) -> str:
    return os.path.splitext(name)[1].lstrip(".").lower()


def check_document(upload: File, kind: str, *, max_bytes: int | None = None) -> CheckedDocument:
    """Refuse (ProtocolError) a document that is too large, of a type not allowed, or whose content is
    not what its extension says; otherwise return its SHA-256 and size, read from the content.

    1. The size the upload reports is checked against the cap before anything is read.
    2. The extension must be one of DOCUMENT_TYPES (a BIM model: .ifc or .ifczip only).
    3. The first bytes (and, for ZIP-based types, the archive's directory) must match the extension.
    4. The content is hashed in chunks; the bytes actually read are counted against the cap again.
    """
    cap = max_document_bytes() if max_bytes is None else max_bytes
    name = os.path.basename(upload.name or "")
    if upload.size is not None and upload.size > cap:
        raise ProtocolError(f"{name} is {upload.size} bytes; the limit is {cap} bytes")
    extension = extension_of(name)
    sniff = DOCUMENT_TYPES.get(extension)
    if sniff is None:
        allowed = ", ".join(f".{e}" for e in DOCUMENT_TYPES)
        raise ProtocolError(f"{name}: files of type .{extension or '?'} are not accepted (allowed: {allowed})")
    if kind == DocumentKind.BIM_MODEL and extension not in BIM_TYPES:
        raise ProtocolError(f"{name}: a BIM model must be an .ifc or .ifczip file")
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    if not sniff(head, upload):
        raise ProtocolError(f"{name}: the content is not a .{extension} file")
    upload.seek(0)
    digest, size = hashlib.sha256(), 0
    for chunk in upload.chunks():
        digest.update(chunk)
        size += len(chunk)
        if size > cap:
            raise ProtocolError(f"{name} is larger than the limit of {cap} bytes")
    upload.seek(0)
    return CheckedDocument(original_name=name[:255], extension=extension, size=size, sha256=digest.hexdigest())


def reuse_stored_copy(document: BidDocument) -> bool:
    """Point ``document`` at the stored file of the same content, if there is one; True if it did.

    Documents are stored under their hash (``document_path``), so the same bytes, uploaded again or
    left by an earlier run, are one file: reuse it rather than store a suffixed second copy.
    """
    field = BidDocument._meta.get_field("file")
    target = field.generate_filename(document, document.original_name)
    if field.storage.exists(target) and field.storage.size(target) == document.size:
        # A plain name, not the pending upload's name: the field then counts as already stored.
        document.file = target
        return True
    return False


def read_opening_record(f: IO[bytes], name: str = "") -> bytes:
    """The bytes of an opening-record file, refused if too large or not UTF-8 text."""
    data = f.read(MAX_OPENING_RECORD_BYTES + 1)
    label = name or "the file"
    if len(data) > MAX_OPENING_RECORD_BYTES:
        raise ProtocolError(f"{label} is larger than {MAX_OPENING_RECORD_BYTES} bytes")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"{label} is not UTF-8 text: {exc}") from exc
    return data
