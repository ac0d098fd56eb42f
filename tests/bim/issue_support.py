"""The session of the issue, .bcf and compare tests: the personas' session in preliminary review, with
bid A's model on file (the IFC file stored as the bid's document, as an upload leaves it; not converted:
issues and compares need the file, not the viewer's outputs)."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile

from bim_review.models import BimModel
from bim_review.protocol import TopicIn, Viewpoint
from evaluation.models import Bid, BidDocument, DocumentKind, Phase
from tests.personas import Cast, advance_to

# A real sample (../shared/ifc, or EVAL_SHARED_DIR), and two of its elements.
HOUSE = Path(settings.EVAL_SHARED_DIR) / "ifc" / "IfcOpenHouse_IFC4.ifc"
WALL = "3g46_woBL6sugXeY5_WP6n"
SLAB = "2KoBar2pfAWBou8q$ldGHy"


def add_model(bid: Bid, path: Path, name: str | None = None) -> BimModel:
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    document = BidDocument(bid=bid, kind=DocumentKind.BIM_MODEL, original_name=name or path.name, sha256=sha)
    document.size = len(data)
    document.file.save(path.name, ContentFile(data), save=False)
    document.save()
    return BimModel.objects.create(
        bid=bid, document=document, sha256=sha, size=len(data), schema="IFC4", original_name=name or path.name
    )


def bid_of(cast: Cast, bidder_name: str) -> Bid:
    return Bid.objects.get(lot=cast.lot, bidder__name=bidder_name)


def in_review(cast: Cast) -> BimModel:
    """The session in preliminary review; bid A's model on file."""
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    return add_model(bid_of(cast, cast.bidder_a.name), HOUSE)


def png(width: int = 4, height: int = 3) -> bytes:
    """A small valid PNG (a grey picture), written by hand to need no imaging library."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def a_viewpoint(**changes: object) -> Viewpoint:
    data: dict[str, object] = {
        "camera": {
            "kind": "perspective",
            "position": [12.5, -8.25, 6.0],
            "direction": [-0.6, 0.7, -0.3872983346207417],
            "up": [0.0, 0.0, 1.0],
            "field_of_view": 55.0,
            "aspect_ratio": 1.7777777777777777,
        },
        "clipping_planes": [{"location": [0.0, 0.0, 2.5], "direction": [0.0, 0.0, 1.0]}],
        "selected": [WALL],
        "default_visibility": True,
        "hidden": [SLAB],
        "coloured": [{"color": "FF0000", "ids": [WALL]}],
    }
    data.update(changes)
    return Viewpoint.model_validate(data)


def an_issue(model: BimModel, **changes: object) -> TopicIn:
    data: dict[str, object] = {
        "model": model.pk,
        "title": "墙体防火等级与说明不符",
        "description": "外墙耐火极限应为 REI 120。",
        "priority": "High",
        "labels": ["防火", "结构"],
        "viewpoint": a_viewpoint(),
    }
    data.update(changes)
    return TopicIn.model_validate(data)
