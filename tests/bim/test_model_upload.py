"""Attaching IFC models to bids, and who reads the converted outputs (B1)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bim_review import jobs
from bim_review.models import BimModel, ConversionStatus
from evaluation.models import AuditEvent, Bid, BidDocument, Phase
from evaluation.opening import import_opening_record
from tests.personas import Cast, advance_to, login_verified, opening_json


@pytest.fixture
def bids(cast: Cast) -> dict[str, Bid]:
    import_opening_record(cast.lot, opening_json(cast), cast.host)
    return {
        "a": Bid.objects.get(lot=cast.lot, bidder=cast.bidder_a),
        "b": Bid.objects.get(lot=cast.lot, bidder=cast.bidder_b),
    }


def upload(client, bid: Bid, name: str, content: bytes, language: str = "en"):
    return client.post(
        reverse("bim_upload_model", args=[bid.pk]),
        {"file": SimpleUploadedFile(name, content)},
        headers={"accept-language": language},
    )


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def bad_files(house_bytes: bytes) -> dict[str, tuple[str, bytes, str]]:
    return {
        "not IFC": ("model.ifc", b"%PDF-1.7\n" + b"x" * 200, "not a .ifc file"),
        "truncated": ("model.ifc", house_bytes[: len(house_bytes) // 2], "truncated"),
        "unsupported schema": (
            "model.ifc",
            house_bytes.replace(b"FILE_SCHEMA(('IFC4'))", b"FILE_SCHEMA(('IFC2X2_FINAL'))"),
            "IFC2X2_FINAL is not supported",
        ),
        "not an .ifc name": ("model.ifczip", b"PK\x03\x04" + b"x" * 100, "must be an IFC STEP file"),
    }


@pytest.mark.parametrize("kind", ["not IFC", "truncated", "unsupported schema", "not an .ifc name"])
def test_a_bad_model_file_is_refused_with_its_reason_and_nothing_is_stored(client, cast, bids, bim_dir, house, kind):
    login_verified(client, cast.host)
    name, content, reason = bad_files(house.path.read_bytes())[kind]
    response = upload(client, bids["a"], name, content)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert not BimModel.objects.exists() and not BidDocument.objects.exists()
    assert stored_files(media_root()) == []


def test_the_reason_of_a_refused_model_is_in_the_pages_language(client, cast, bids, bim_dir, house):
    login_verified(client, cast.host)
    truncated = house.path.read_bytes()[:5000]
    response = upload(client, bids["a"], "model.ifc", truncated, language="zh-hans")
    assert response.status_code == 400
    assert "文件不完整" in response.json()["error"]


def media_root() -> Path:
    return Path(django_settings.MEDIA_ROOT)


def test_a_model_over_the_size_limit_is_refused_before_it_is_stored(client, cast, bids, bim_dir, house, settings):
    settings.EVAL_BIM_MAX_BYTES = 10_000
    login_verified(client, cast.host)
    response = upload(client, bids["a"], "model.ifc", house.path.read_bytes())
    assert response.status_code == 413
    assert "the limit is 10000 bytes" in response.json()["error"]
    assert not BimModel.objects.exists()
    assert stored_files(media_root()) == []


def test_the_host_attaches_a_model_stored_by_hash_and_audited_without_its_name(client, cast, bids, bim_dir, house):
    login_verified(client, cast.host)
    response = upload(client, bids["a"], house.path.name, house.path.read_bytes())
    assert response.status_code == 201, response.content
    model = BimModel.objects.get()
    assert (model.schema, model.status, model.original_name) == ("IFC4", ConversionStatus.QUEUED, house.path.name)
    assert model.document.file.name == f"documents/{model.sha256[:2]}/{model.sha256}"
    event = AuditEvent.objects.get(session=cast.session, kind="bim.model_attached")
    assert event.payload["model"] == model.pk and event.payload["bid"] == bids["a"].anonymous_label
    assert house.path.name not in json.dumps(event.payload)


def test_a_bidder_attaches_to_their_own_bid_only(client, cast, bids, bim_dir, house):
    login_verified(client, cast.bidder_a_user)
    assert upload(client, bids["b"], "m.ifc", house.path.read_bytes()).status_code == 403
    assert upload(client, bids["a"], "m.ifc", house.path.read_bytes()).status_code == 201


def test_an_expert_cannot_attach_a_model(client, cast, bids, bim_dir, house):
    login_verified(client, cast.li)
    response = upload(client, bids["a"], "m.ifc", house.path.read_bytes())
    assert response.status_code == 403
    assert not BimModel.objects.exists()


def test_no_model_is_attached_once_the_bids_are_open_for_review(client, cast, bids, bim_dir, house):
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    login_verified(client, cast.host)
    response = upload(client, bids["a"], "m.ifc", house.path.read_bytes())
    assert response.status_code == 409
    assert "before the bids open for review" in response.json()["error"]
    assert not BidDocument.objects.exists()


@pytest.fixture
def ready_model(client, cast, bids, bim_dir, house) -> BimModel:
    login_verified(client, cast.host)
    assert upload(client, bids["a"], house.path.name, house.path.read_bytes()).status_code == 201
    model = BimModel.objects.get()
    jobs.convert_model(model.pk)
    model.refresh_from_db()
    assert model.status == ConversionStatus.READY, model.failure_reason
    client.logout()
    return model


def test_a_second_model_of_the_same_file_is_served_from_the_cache_without_converting(ready_model, bids, house, cast):
    from bim_review.model_actions import attach_model

    with house.path.open("rb") as fh:
        second = attach_model(cast.host, bids["b"], SimpleUploadedFile("again.ifc", fh.read()), convert=False)
    started: list[int] = []
    jobs.convert_model(second.pk, on_start=started.append)
    second.refresh_from_db()
    assert (second.status, second.stage, started) == (ConversionStatus.READY, "cached", [])
    assert second.cache_key == ready_model.cache_key


def test_an_expert_reads_the_gzipped_outputs_in_review_but_never_the_file_or_its_name(client, cast, ready_model):
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    login_verified(client, cast.li)
    listing = client.get(reverse("bim_session_models", args=[cast.session.pk])).json()["models"]
    assert [m["model"] for m in listing] == [ready_model.pk]
    assert "original_name" not in listing[0]
    assert not any(url.endswith(".ifc") for url in listing[0]["urls"].values())
    response = client.get(listing[0]["urls"]["tree.json"])
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip" and response["Content-Type"] == "application/json"
    tree = json.loads(gzip.decompress(b"".join(response.streaming_content)))
    assert tree["schema"] == "IFC4"
    glb = client.get(listing[0]["urls"]["model.glb"])
    assert glb["Content-Type"] == "model/gltf-binary"
    assert b"".join(glb.streaming_content)[:4] == b"glTF"
    assert client.get(reverse("bim_model_file", args=[ready_model.pk, "model.ifc"])).status_code == 404


def test_experts_read_no_model_before_the_review_and_the_host_sees_the_file_name(client, cast, ready_model):
    login_verified(client, cast.li)
    assert client.get(reverse("bim_model_file", args=[ready_model.pk, "tree.json"])).status_code == 403
    assert client.get(reverse("bim_session_models", args=[cast.session.pk])).json() == {"models": []}
    login_verified(client, cast.host)
    listing = client.get(reverse("bim_session_models", args=[cast.session.pk])).json()["models"]
    assert listing[0]["original_name"] == ready_model.original_name
