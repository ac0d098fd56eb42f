"""BCF 3.0: a session's issues exported to a .bcf file read back equal, and open in bcf-client, a reader
independent of ours; a file bcf-client writes imports too."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
import zipfile
from datetime import UTC, datetime
from typing import Any

import numpy
import pytest
from bcf.v3.bcfxml import BcfXml

from bim_review import actions, bcf
from bim_review.models import Comment, Topic, Viewpoint
from bim_review.protocol import CommentIn, TopicChange
from evaluation.models import AuditEvent, Phase
from tests.bim.issue_support import SLAB, WALL, a_viewpoint, an_issue, in_review, png
from tests.personas import advance_to


@pytest.fixture
def issues(cast, settings, tmp_path):
    """Two issues on bid A's model: one with a viewpoint, snapshot, comments and changes; one bare."""
    settings.MEDIA_ROOT = tmp_path / "media"
    model = in_review(cast)
    first = actions.create_topic(cast.session, cast.wu, an_issue(model, assignee=cast.li.username))
    viewpoint = actions.save_viewpoint(cast.session, cast.li, str(first.guid), a_viewpoint(), snapshot=png(32, 18))
    actions.comment_topic(
        cast.session, cast.li, str(first.guid), CommentIn(text="同意，需复核。", viewpoint=viewpoint.guid)
    )
    actions.comment_topic(cast.session, cast.zhang, str(first.guid), CommentIn(text="已核对图纸。"))
    due = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    actions.change_topic(cast.session, cast.wu, str(first.guid), TopicChange(status="InProgress", due_date=due))
    actions.create_topic(cast.session, cast.host, an_issue(model, title="缺少楼板", viewpoint=None, labels=[]))
    return model


def export(session_id: int) -> bytes:
    return bcf.export_archive(uuid.uuid4(), "评标会", bcf.topics_for_export(session_id))


def snapshot_hash(viewpoint: Viewpoint) -> str | None:
    if not viewpoint.snapshot:
        return None
    with viewpoint.snapshot.open("rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def as_data(topic: Topic) -> dict[str, Any]:
    """Everything a topic carries, without the database's own ids and the session it sits in."""
    return {
        **{f: getattr(topic, f) for f in ("guid", "topic_type", "status", "priority", "title", "description")},
        **{f: getattr(topic, f) for f in ("labels", "assignee", "due_date", "creation_author", "creation_date")},
        "modified": (topic.modified_author, topic.modified_date),
        "comments": [
            (c.guid, c.author, c.date, c.text, c.viewpoint.guid if c.viewpoint else None) for c in topic.comments.all()
        ],
        "viewpoints": [(v.guid, v.index, v.data, v.snapshot_sha256, snapshot_hash(v)) for v in topic.viewpoints.all()],
    }


def test_exported_issues_import_back_equal(cast, issues):
    data = export(cast.session.pk)
    original = [as_data(t) for t in Topic.objects.filter(session=cast.session).order_by("creation_date")]

    # As on a server that has none of them: the rows go (the snapshot files stay, shared by hash).
    Comment.objects.filter(topic__session=cast.session).delete()
    Viewpoint.objects.filter(topic__session=cast.session).delete()
    Topic.objects.filter(session=cast.session).delete()
    advance_to(cast, Phase.DETAILED_REVIEW)
    actions.import_topics(cast.session, cast.wu, issues.pk, bcf.read_archive(data), sha256="1" * 64)

    imported = [as_data(t) for t in Topic.objects.filter(session=cast.session).order_by("creation_date")]
    assert imported == original
    event = AuditEvent.objects.filter(session=cast.session, kind="bim.bcf_imported").get()
    assert event.payload["topics"] == [str(t["guid"]) for t in original]


def test_the_same_issues_export_to_the_same_bytes(cast, issues):
    project = uuid.uuid4()
    topics = bcf.topics_for_export(cast.session.pk)
    assert bcf.export_archive(project, "x", topics) == bcf.export_archive(project, "x", topics)


def test_the_exported_file_opens_in_bcf_client(cast, issues, tmp_path):
    path = tmp_path / "issues.bcf"
    path.write_bytes(export(cast.session.pk))
    first = Topic.objects.filter(session=cast.session).order_by("creation_date").first()
    assert first is not None

    # bcf-client's types are exact about what a file may leave out; this reader's answers are checked below.
    loaded: Any = BcfXml.load(path)
    with loaded as reader:
        assert reader.version.version_id == "3.0"
        assert len(reader.topics) == 2
        handler = reader.topics[str(first.guid)]
        topic: Any = handler.topic
        assert topic.title == first.title
        assert topic.topic_status == "InProgress"
        assert topic.priority == "High"
        assert topic.assigned_to == cast.li.username
        assert list(topic.labels.label) == ["防火", "结构"]
        assert [c.comment for c in handler.comments] == ["同意，需复核。", "已核对图纸。"]
        assert len(handler.viewpoints) == 2
        # bcf-client keys a topic's viewpoints by their .bcfv file names.
        viewpoint = handler.viewpoints[f"{first.viewpoints.exclude(snapshot='').get().guid}.bcfv"]
        info: Any = viewpoint.visualization_info
        camera = info.perspective_camera
        assert (camera.camera_view_point.x, camera.camera_view_point.y, camera.camera_view_point.z) == (
            12.5,
            -8.25,
            6.0,
        )
        assert camera.field_of_view == 55.0
        assert [c.ifc_guid for c in info.components.selection.component] == [WALL]
        assert info.components.visibility.default_visibility is True
        assert [c.ifc_guid for c in info.components.visibility.exceptions.component] == [SLAB]
        assert info.components.coloring.color[0].color == "FF0000"
        assert len(info.clipping_planes.clipping_plane) == 1
        stored = first.viewpoints.exclude(snapshot="").get()
        assert hashlib.sha256(viewpoint.snapshot or b"").hexdigest() == stored.snapshot_sha256
        assert {"Open", "InProgress", "Resolved", "Closed"} <= set(reader.extensions.topic_statuses.topic_status)


def test_a_file_written_by_bcf_client_imports(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    model = in_review(cast)
    writer = BcfXml.create_new("外部工具的项目")
    handler = writer.add_topic(
        "Pipe clashes with beam", "Move the pipe 200 mm down", "reviewer@example.com", "Clash", "Active"
    )
    handler.add_viewpoint_from_point_and_guids(numpy.array([1.0, 2.0, 3.0]), WALL)
    path = tmp_path / "external.bcf"
    writer.save(path)

    (topic,) = bcf.read_archive(path.read_bytes())
    actions.import_topics(cast.session, cast.wu, model.pk, [topic], sha256="0" * 64)

    stored = Topic.objects.get(session=cast.session, guid=topic.guid)
    # The other tool's words are kept as they are (BCF leaves them to each project).
    assert (stored.title, stored.topic_type, stored.status, stored.creation_author) == (
        "Pipe clashes with beam",
        "Clash",
        "Active",
        "reviewer@example.com",
    )
    (viewpoint,) = stored.viewpoints.all()
    assert viewpoint.data["selected"] == [WALL]
    assert viewpoint.data["camera"]["kind"] == "perspective"


def test_components_named_only_by_an_authoring_tool_are_left_out_of_an_imported_viewpoint(cast, issues):
    source = io.BytesIO(export(cast.session.pk))
    target = io.BytesIO()
    foreign = b"<Component><AuthoringToolId>revit-4711</AuthoringToolId></Component>"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            data = old.read(name)
            if name.endswith(".bcfv"):
                data = data.replace(b"<Selection>", b"<Selection>" + foreign)
                data = re.sub(rb"(<Color [^>]*>\s*<Components>)", rb"\1" + foreign, data)
            new.writestr(name, data)

    topics = bcf.read_archive(target.getvalue())

    viewpoints = [v.data for t in topics for v in t.viewpoints]
    assert [WALL] in [v.selected for v in viewpoints]
    assert [[WALL]] in [[c.ids for c in v.coloured] for v in viewpoints]
