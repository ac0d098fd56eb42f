"""Untrusted .bcf files: each kind of bad file is refused with its reason (HTTP 4xx), and nothing of it
is written, not a row, not a snapshot file."""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import uuid
import zipfile

import pytest

from bim_review import actions, bcf
from bim_review.models import Comment, Topic, Viewpoint
from evaluation.models import AuditEvent
from tests.bim.issue_support import a_viewpoint, an_issue, in_review, png
from tests.personas import login_verified


@pytest.fixture(autouse=True)
def _english_pages(client):
    # The reasons are asserted as the code writes them (English); the pages' own default is Chinese.
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def model(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return in_review(cast)


@pytest.fixture
def good_file(cast, model) -> bytes:
    """Our own export of one issue with a snapshot; then the issue is gone, as on another server."""
    topic = actions.create_topic(cast.session, cast.wu, an_issue(model))
    actions.save_viewpoint(cast.session, cast.wu, str(topic.guid), a_viewpoint(), snapshot=png())
    data = bcf.export_archive(uuid.uuid4(), "x", bcf.topics_for_export(cast.session.pk))
    Viewpoint.objects.all().delete()
    Topic.objects.all().delete()
    shutil.rmtree(model.document.file.storage.path("bim"), ignore_errors=True)
    return data


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files: dict[str, bytes], *, extra: list[zipfile.ZipInfo] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
        for info in extra or []:
            archive.writestr(info, b"x")
    return buffer.getvalue()


def post(client, cast, model, data: bytes, user=None):
    login_verified(client, user or cast.wu)
    upload = io.BytesIO(data)
    upload.name = "issues.bcf"
    return client.post(f"/bim/sessions/{cast.session.pk}/bcf?model={model.pk}", {"file": upload})


def assert_nothing_written(cast, model):
    assert not Topic.objects.exists() and not Viewpoint.objects.exists() and not Comment.objects.exists()
    assert not AuditEvent.objects.filter(session=cast.session, kind="bim.bcf_imported").exists()
    snapshots = model.document.file.storage.path("bim/snapshots")
    assert not os.path.exists(snapshots) or not any(files for _, _, files in os.walk(snapshots))


def with_markup(good: bytes, change) -> bytes:
    files = entries(good)
    name = next(n for n in files if n.endswith("/markup.bcf"))
    files[name] = change(files[name])
    return rezip(files)


def test_our_own_export_imports_through_the_page(client, cast, model, good_file):
    response = post(client, cast, model, good_file)
    assert response.status_code == 201, response.content
    assert len(response.json()["issues"]) == 1


def bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bcf.version", b'<Version VersionId="3.0"/>')
        archive.writestr(f"{uuid.uuid4()}/markup.bcf", b" " * (4 * 1024 * 1024))
    return buffer.getvalue()


def symlink(good: bytes) -> bytes:
    info = zipfile.ZipInfo(f"{uuid.uuid4()}/link.png")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return rezip(entries(good), extra=[info])


def ZERO_DIRECTION(visinfo: bytes) -> bytes:  # noqa: N802 (reads as the table's words)
    zero = b"<CameraDirection><X>0</X><Y>0</Y><Z>0</Z></CameraDirection>"
    return re.sub(rb"<CameraDirection>.*?</CameraDirection>", zero, visinfo, flags=re.S)


BAD_FILES = {
    "not a zip": (lambda good: b"%PDF-1.7 not a bcf", "not a ZIP file"),
    "no bcf.version": (
        lambda good: rezip({k: v for k, v in entries(good).items() if k != "bcf.version"}),
        "no bcf.version",
    ),
    "BCF 2.1": (
        lambda good: rezip({**entries(good), "bcf.version": b'<Version VersionId="2.1"/>'}),
        "only BCF 3.0",
    ),
    "path traversal": (lambda good: rezip({**entries(good), "../../etc/evil.bcf": b"x"}), "path that is not allowed"),
    "absolute path": (lambda good: rezip({**entries(good), "/tmp/evil.png": b"x"}), "path that is not allowed"),
    "deep path": (lambda good: rezip({**entries(good), "a/b/c.bcfv": b"x"}), "path that is not allowed"),
    "symbolic link": (symlink, "symbolic link"),
    "zip bomb": (lambda good: bomb(), "zip bomb"),
    "entity expansion": (
        lambda good: with_markup(
            good, lambda m: b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]>' + m.split(b"?>", 1)[1]
        ),
        "DOCTYPE",
    ),
    "broken XML": (lambda good: with_markup(good, lambda m: m[: len(m) // 2]), "not well-formed XML"),
    "missing title": (
        lambda good: with_markup(good, lambda m: m.replace(b"<Title>", b"<Stage>").replace(b"</Title>", b"</Stage>")),
        "title",
    ),
    "missing snapshot": (
        lambda good: rezip({k: v for k, v in entries(good).items() if not k.endswith(".png")}),
        "snapshot",
    ),
    "snapshot not a PNG": (
        lambda good: rezip({k: (b"GIF89a" + v if k.endswith(".png") else v) for k, v in entries(good).items()}),
        "not a PNG",
    ),
    "zero camera direction": (
        lambda good: rezip({k: (ZERO_DIRECTION(v) if k.endswith(".bcfv") else v) for k, v in entries(good).items()}),
        "zero vector",
    ),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_bad_bcf_file_is_refused_with_its_reason_and_nothing_is_written(client, cast, model, good_file, kind):
    make, reason = BAD_FILES[kind]
    response = post(client, cast, model, make(good_file))

    assert 400 <= response.status_code < 500, response.content
    assert reason in response.json()["error"]
    assert_nothing_written(cast, model)


def test_a_file_over_the_size_limit_is_refused(client, cast, model, good_file, monkeypatch):
    monkeypatch.setattr(bcf, "MAX_BCF_BYTES", len(good_file) - 1)
    response = post(client, cast, model, good_file)
    assert response.status_code == 413
    assert "limit" in response.json()["error"]
    assert_nothing_written(cast, model)


def test_importing_the_same_file_twice_is_refused_the_second_time(client, cast, model, good_file):
    assert post(client, cast, model, good_file).status_code == 201
    response = post(client, cast, model, good_file)
    assert response.status_code == 409
    assert "already has issues" in response.json()["error"]
    assert Topic.objects.count() == 1


def test_a_supervisor_cannot_import(client, cast, model, good_file):
    response = post(client, cast, model, good_file, user=cast.zheng)
    assert response.status_code == 403
    assert_nothing_written(cast, model)


def test_a_file_whose_second_issue_is_bad_leaves_not_even_the_first_issues_snapshot(client, cast, model):
    for n, title in enumerate(("第一个问题", "第二个问题")):
        topic = actions.create_topic(cast.session, cast.wu, an_issue(model, title=title, viewpoint=None))
        actions.save_viewpoint(cast.session, cast.wu, str(topic.guid), a_viewpoint(), snapshot=png(8 + n))
    second = Topic.objects.get(title="第二个问题")
    data = bcf.export_archive(uuid.uuid4(), "x", bcf.topics_for_export(cast.session.pk))
    Viewpoint.objects.all().delete()
    Topic.objects.all().delete()
    shutil.rmtree(model.document.file.storage.path("bim"), ignore_errors=True)
    files = entries(data)
    bad = next(n for n in files if n.startswith(f"{second.guid}/") and n.endswith(".png"))
    files[bad] = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40

    response = post(client, cast, model, rezip(files))

    assert response.status_code == 400
    assert "not a PNG" in response.json()["error"]
    assert_nothing_written(cast, model)
