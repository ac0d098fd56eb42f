"""The issue endpoints the viewer uses: JSON in and out, each role checked, a sealed session refused
and the attempt logged."""

from __future__ import annotations

import io
import json

import pytest

from bim_review import actions
from evaluation.actions import do_transition
from evaluation.models import AuditEvent
from tests.bim.issue_support import WALL, a_viewpoint, an_issue, in_review, png
from tests.personas import login_verified


@pytest.fixture(autouse=True)
def _english_pages(client):
    # The reasons are asserted as the code writes them (English); the pages' own default is Chinese.
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def model(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return in_review(cast)


def url(cast, tail: str = "issues") -> str:
    return f"/bim/sessions/{cast.session.pk}/{tail}"


def post_json(client, path: str, body: object):
    return client.post(path, json.dumps(body), content_type="application/json")


def new_issue(model) -> dict:
    return an_issue(model).model_dump(mode="json")


def test_an_expert_raises_comments_and_resolves_an_issue_through_the_endpoints(client, cast, model):
    login_verified(client, cast.zhang)
    created = post_json(client, url(cast), new_issue(model))
    assert created.status_code == 201, created.content
    guid = created.json()["issue"]["guid"]

    commented = post_json(client, url(cast, f"issues/{guid}/comments"), {"text": "请投标人说明。"})
    assert commented.status_code == 201
    changed = post_json(client, url(cast, f"issues/{guid}/change"), {"status": "Resolved"})
    assert changed.status_code == 200

    issue = client.get(url(cast, f"issues/{guid}")).json()["issue"]
    assert issue["status"] == "Resolved"
    assert [c["text"] for c in issue["comments"]] == ["请投标人说明。"]
    assert issue["viewpoints"][0]["viewpoint"]["selected"] == [WALL]
    listed = client.get(url(cast) + f"?model={model.pk}").json()["issues"]
    assert [i["guid"] for i in listed] == [guid]
    kinds = list(
        AuditEvent.objects.filter(session=cast.session, kind__startswith="bim.").values_list("kind", flat=True)
    )
    assert kinds == ["bim.topic_created", "bim.comment_added", "bim.topic_changed"]


def test_a_viewpoint_and_its_snapshot_are_uploaded_and_served(client, cast, model):
    topic = actions.create_topic(cast.session, cast.wu, an_issue(model, viewpoint=None))
    login_verified(client, cast.wu)
    snapshot = io.BytesIO(png(16, 9))
    snapshot.name = "snapshot.png"
    response = client.post(
        url(cast, f"issues/{topic.guid}/viewpoints"),
        {"viewpoint": json.dumps(a_viewpoint().model_dump(mode="json")), "snapshot": snapshot},
    )
    assert response.status_code == 201, response.content
    served = client.get(response.json()["viewpoint"]["snapshot"])
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == png(16, 9)


def test_a_bad_body_gets_a_400_with_the_reason(client, cast, model):
    login_verified(client, cast.wu)
    assert "not JSON" in client.post(url(cast), "{", content_type="application/json").json()["error"]
    body = {**new_issue(model), "viewpoint": {"camera": {"kind": "perspective", "position": [0, 0, 0]}}}
    response = post_json(client, url(cast), body)
    assert response.status_code == 400
    assert "viewpoint.camera" in response.json()["error"]
    assert post_json(client, url(cast), {**new_issue(model), "title": ""}).status_code == 400


def test_the_supervisor_reads_issues_but_may_not_raise_one(client, cast, model):
    actions.create_topic(cast.session, cast.wu, an_issue(model))
    login_verified(client, cast.zheng)
    assert len(client.get(url(cast)).json()["issues"]) == 1
    response = post_json(client, url(cast), new_issue(model))
    assert response.status_code == 403
    assert "create_topic" in response.json()["error"]


@pytest.mark.parametrize("who", ["bidder_a_user", "sun", "outsider"])
def test_a_bidder_an_attendant_or_a_stranger_is_told_the_session_does_not_exist(client, cast, model, who):
    topic = actions.create_topic(cast.session, cast.wu, an_issue(model))
    login_verified(client, getattr(cast, who))
    for response in (
        client.get(url(cast)),
        client.get(url(cast, f"issues/{topic.guid}")),
        post_json(client, url(cast), new_issue(model)),
        client.get(url(cast, "bcf")),
    ):
        assert response.status_code == 404
    assert client.get("/bim/sessions/999999/issues").status_code == 404


def test_a_sealed_session_refuses_issues_and_logs_the_attempt(client, cast, model):
    do_transition(cast.session, cast.host, "seal")
    do_transition(cast.session, cast.zheng, "seal")
    login_verified(client, cast.li)

    response = client.get(url(cast))

    assert response.status_code == 423
    assert "sealed" in response.json()["error"]
    event = AuditEvent.objects.filter(session=cast.session).order_by("-seq").first()
    assert event is not None and event.kind == "sealed.access_refused"


def test_the_bcf_download_names_the_bid_by_its_label(client, cast, model):
    actions.create_topic(cast.session, cast.wu, an_issue(model))
    login_verified(client, cast.li)
    response = client.get(url(cast, f"bcf?model={model.pk}"))
    assert response.status_code == 200
    assert f"-{model.bid.anonymous_label}.bcf" in response["Content-Disposition"]
    assert cast.bidder_a.name.encode() not in response.content
    assert model.original_name.encode() not in response.content
