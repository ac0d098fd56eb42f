"""The document check on its own: size cap, type by extension and content, hash (no database)."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluation.exceptions import ProtocolError
from evaluation.models import DocumentKind
from evaluation.uploads import check_document

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
IFC = (
    b"ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('ViewDefinition [CoordinationView]'),'2;1');\n"
    b"FILE_SCHEMA(('IFC4'));\nENDSEC;\nDATA;\n#1=IFCPROJECT('0YvctVUKr0kugbFTf53O9L',$,'x',$,$,$,$,$,$);\n"
    b"ENDSEC;\nEND-ISO-10303-21;\n"
)


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def plain_zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "x")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("商务标.pdf", PDF, DocumentKind.COMMERCIAL),
        ("技术标.DOCX", docx(), DocumentKind.TECHNICAL),
        ("资格审查.zip", plain_zip("营业执照.pdf"), DocumentKind.QUALIFICATION),
        ("model.ifc", IFC, DocumentKind.BIM_MODEL),
        ("model.ifczip", plain_zip("model.ifc"), DocumentKind.BIM_MODEL),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, DocumentKind.OTHER),
    ],
)
def test_an_accepted_document_gets_the_sha256_and_size_of_its_content(name, content, kind):
    checked = check_document(SimpleUploadedFile(name, content), kind, max_bytes=1024 * 1024)

    assert checked.sha256 == hashlib.sha256(content).hexdigest()
    assert checked.size == len(content)
    assert checked.original_name == name


@pytest.mark.parametrize(
    ("name", "content", "kind", "reason"),
    [
        ("setup.exe", b"MZ\x90\x00", DocumentKind.OTHER, "not accepted"),
        ("no-extension", PDF, DocumentKind.OTHER, "not accepted"),
        ("技术标.pdf", docx(), DocumentKind.TECHNICAL, "content is not a .pdf file"),
        ("技术标.docx", plain_zip("readme.txt"), DocumentKind.TECHNICAL, "content is not a .docx file"),
        ("archive.zip", b"PK\x03\x04 truncated", DocumentKind.OTHER, "content is not a .zip file"),
        ("model.ifc", b"not a step file", DocumentKind.BIM_MODEL, "content is not a .ifc file"),
        ("model.pdf", PDF, DocumentKind.BIM_MODEL, "must be an .ifc or .ifczip"),
    ],
)
def test_a_document_of_the_wrong_type_is_refused_with_the_reason(name, content, kind, reason):
    with pytest.raises(ProtocolError, match=reason):
        check_document(SimpleUploadedFile(name, content), kind, max_bytes=1024 * 1024)


def test_a_document_over_the_size_cap_is_refused_before_it_is_read():
    with pytest.raises(ProtocolError, match="the limit is 10 bytes"):
        check_document(SimpleUploadedFile("big.pdf", PDF), DocumentKind.OTHER, max_bytes=10)
