"""BIM issues are audited actions: who may raise, comment and change them, and in which phases."""

from __future__ import annotations

import pytest

from bim_review import actions, queries
from bim_review.models import Topic
from bim_review.protocol import CommentIn, TopicChange
from evaluation.actions import do_transition
from evaluation.audit import verify_chain
from evaluation.exceptions import Refused
from evaluation.models import AuditEvent, Phase
from evaluation.opening import import_opening_record
from tests.bim.issue_support import HOUSE, WALL, a_viewpoint, add_model, an_issue, bid_of, in_review, png
from tests.personas import advance_to, opening_json


@pytest.fixture
def model(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return in_review(cast)


def last_event(cast) -> AuditEvent:
    return AuditEvent.objects.filter(session=cast.session).order_by("-seq")[0]


def test_the_reviewer_raises_an_issue_with_its_viewpoint_and_the_audit_trail_keeps_it(cast, model):
    topic = actions.create_topic(cast.session, cast.wu, an_issue(model, assignee=cast.zhang.username))

    assert (topic.status, topic.creation_author, topic.assignee) == ("Open", cast.wu.username, cast.zhang.username)
    (viewpoint,) = topic.viewpoints.all()
    assert viewpoint.data["selected"] == [WALL]
    event = last_event(cast)
    assert (event.kind, event.actor, event.payload["guid"]) == ("bim.topic_created", cast.wu, str(topic.guid))
    assert event.payload["bid"] == model.bid.anonymous_label
    assert event.payload["viewpoint"]["digest"] == actions.viewpoint_digest(viewpoint.data)
    assert verify_chain(cast.session.pk).ok


def test_members_comment_and_change_the_status_each_change_audited_with_old_and_new(cast, model):
    topic = actions.create_topic(cast.session, cast.li, an_issue(model))
    actions.comment_topic(cast.session, cast.zhao, str(topic.guid), CommentIn(text="招标人代表意见：需澄清。"))
    assert last_event(cast).kind == "bim.comment_added"

    actions.change_topic(cast.session, cast.chen, str(topic.guid), TopicChange(status="Resolved", priority="Low"))

    event = last_event(cast)
    assert event.kind == "bim.topic_changed"
    assert event.payload["changes"] == {
        "priority": {"old": "High", "new": "Low"},
        "status": {"old": "Open", "new": "Resolved"},
    }
    topic.refresh_from_db()
    assert (topic.status, topic.modified_author) == ("Resolved", cast.chen.username)


def test_a_viewpoint_with_its_snapshot_is_saved_by_hash(cast, model):
    topic = actions.create_topic(cast.session, cast.host, an_issue(model, viewpoint=None))
    picture = png(64, 36)
    viewpoint = actions.save_viewpoint(cast.session, cast.liu, str(topic.guid), a_viewpoint(), snapshot=picture)

    with viewpoint.snapshot.open("rb") as f:
        assert f.read() == picture
    assert str(viewpoint.snapshot.name).endswith(f"{viewpoint.snapshot_sha256}.png")
    assert last_event(cast).payload["snapshot_sha256"] == viewpoint.snapshot_sha256


@pytest.mark.parametrize(
    ("snapshot", "reason"),
    [
        (b"GIF89a not a png", "not a PNG"),
        (png(9000, 10), "at most 8192"),
        (png() + b"\0" * actions.MAX_SNAPSHOT_BYTES, "larger than"),
    ],
)
def test_a_snapshot_that_is_no_sensible_png_is_refused(cast, model, snapshot, reason):
    topic = actions.create_topic(cast.session, cast.wu, an_issue(model, viewpoint=None))
    seq = cast.refresh().audit_seq
    with pytest.raises(Refused, match=reason):
        actions.save_viewpoint(cast.session, cast.wu, str(topic.guid), a_viewpoint(), snapshot=snapshot)
    assert cast.refresh().audit_seq == seq
    assert not topic.viewpoints.exists()


def test_the_supervisor_cannot_raise_or_change_an_issue(cast, model):
    with pytest.raises(Refused) as refused:
        actions.create_topic(cast.session, cast.zheng, an_issue(model))
    assert refused.value.code == "forbidden"
    topic = actions.create_topic(cast.session, cast.wu, an_issue(model))
    with pytest.raises(Refused, match="only"):
        actions.change_topic(cast.session, cast.zheng, str(topic.guid), TopicChange(status="Closed"))
    with pytest.raises(Refused, match="only"):
        actions.comment_topic(cast.session, cast.zheng, str(topic.guid), CommentIn(text="监督意见"))


@pytest.mark.parametrize("who", ["bidder_a_user", "sun", "outsider", "qian"])
def test_bidders_attendants_and_strangers_cannot_raise_issues(cast, model, who):
    with pytest.raises(Refused) as refused:
        actions.create_topic(cast.session, getattr(cast, who), an_issue(model))
    assert refused.value.code == "forbidden"
    assert not Topic.objects.exists()


def test_an_issue_is_assigned_only_to_someone_who_works_on_the_session(cast, model):
    for username in (cast.zheng.username, cast.bidder_a_user.username, "nobody"):
        with pytest.raises(Refused, match="may not be assigned"):
            actions.create_topic(cast.session, cast.wu, an_issue(model, assignee=username))


def test_an_issue_is_on_a_model_of_the_sessions_lot(cast, model):
    with pytest.raises(Refused, match="not a model of this lot"):
        actions.create_topic(cast.session, cast.wu, an_issue(model).model_copy(update={"model": model.pk + 1000}))


def test_no_issue_before_the_bids_are_open(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    advance_to(cast, Phase.LEADER_ELECTION)
    import_opening_record(cast.lot, opening_json(cast), cast.host)
    early = add_model(bid_of(cast, cast.bidder_a.name), HOUSE)
    with pytest.raises(Refused) as refused:
        actions.create_topic(cast.session, cast.wu, an_issue(early))
    assert refused.value.code == "wrong_phase"


def test_nobody_raises_or_changes_issues_while_sealed(cast, model):
    topic = actions.create_topic(cast.session, cast.wu, an_issue(model))
    do_transition(cast.session, cast.host, "seal")
    do_transition(cast.session, cast.zheng, "seal")
    assert cast.refresh().phase == Phase.SEALED_OVERNIGHT

    for call in (
        lambda: actions.create_topic(cast.session, cast.wu, an_issue(model)),
        lambda: actions.comment_topic(cast.session, cast.li, str(topic.guid), CommentIn(text="夜间")),
        lambda: actions.change_topic(cast.session, cast.host, str(topic.guid), TopicChange(status="Closed")),
    ):
        with pytest.raises(Refused) as refused:
            call()
        assert refused.value.code == "wrong_phase"
    with pytest.raises(Refused):
        actions.readable_session(cast.zheng, cast.refresh())


def test_issues_are_read_only_once_archived(cast, model):
    topic = actions.create_topic(cast.session, cast.wu, an_issue(model))
    advance_to(cast, Phase.ARCHIVED)

    assert actions.readable_session(cast.zheng, cast.refresh())
    with pytest.raises(Refused) as refused:
        actions.comment_topic(cast.session, cast.wu, str(topic.guid), CommentIn(text="归档后"))
    assert refused.value.code == "wrong_phase"


def test_the_report_reads_the_issues_per_bid_by_label(cast, model):
    other = add_model(bid_of(cast, cast.bidder_b.name), HOUSE)
    first = actions.create_topic(cast.session, cast.wu, an_issue(model, title="甲的问题"))
    actions.save_viewpoint(cast.session, cast.wu, str(first.guid), a_viewpoint(), snapshot=png())
    actions.create_topic(cast.session, cast.li, an_issue(other, title="乙的问题一"))
    second = actions.create_topic(cast.session, cast.li, an_issue(other, title="乙的问题二"))
    actions.change_topic(cast.session, cast.li, str(second.guid), TopicChange(status="Closed"))

    groups = queries.issues_per_bid(cast.session.pk)

    assert [(g.label, [i.title for i in g.issues]) for g in groups] == [
        (model.bid.anonymous_label, ["甲的问题"]),
        (other.bid.anonymous_label, ["乙的问题一", "乙的问题二"]),
    ]
    assert [g.open_count for g in groups] == [1, 1]
    assert groups[0].models == [model.sha256]
    assert len(groups[0].issues[0].snapshots) == 1


def test_members_read_issues_once_the_bids_are_open_and_the_staff_always(cast):
    advance_to(cast, Phase.CHECK_IN)
    assert actions.readable_session(cast.wu, cast.refresh())
    with pytest.raises(Refused) as refused:
        actions.readable_session(cast.li, cast.session)
    assert refused.value.code == "wrong_phase"
