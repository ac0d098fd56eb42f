"""The viewer page: who opens it, what it lists, and that it never leads to the raw IFC file."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from bim_review.models import BimModel
from bim_review.views import members_may_see_models
from evaluation.models import AuditEvent, EvaluationSession, Phase
from evaluation.opening import import_opening_record
from tests.bim.issue_support import HOUSE, add_model, bid_of
from tests.personas import Cast, advance_to, login_verified, opening_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_model(cast, settings) -> tuple[Cast, BimModel]:
    """The personas' session, still scheduled, with bid A's model on file, queued: listing it starts
    no conversion thread (the page's own job in the server), which would outlive the test and its
    database (the conversion itself is tested in test_conversion*.py)."""
    settings.EVAL_BIM_RUNNER = "worker"
    import_opening_record(cast.lot, opening_json(cast), cast.host)
    return cast, add_model(bid_of(cast, cast.bidder_a.name), HOUSE, name="甲建设集团-投标模型.ifc")


def open_viewer(client, user, session):
    login_verified(client, user)
    return client.get(reverse("bim_viewer", args=[session.pk]))


def config_of(response) -> dict:
    page = response.content.decode()
    start = page.index('<script id="viewer-config" type="application/json">') + len(
        '<script id="viewer-config" type="application/json">'
    )
    return json.loads(page[start : page.index("</script>", start)])


@pytest.mark.parametrize("who", ["host", "wu", "zheng"])
def test_host_reviewer_and_supervisor_open_the_viewer_before_the_review(client, with_model, who):
    cast, model = with_model
    response = open_viewer(client, getattr(cast, who), cast.session)
    assert response.status_code == 200
    assert [m["id"] for m in config_of(response)["models"]] == [model.pk]


@pytest.mark.parametrize("who", ["bidder_a_user", "outsider", "sun"])
def test_a_bidder_an_unassigned_expert_and_an_attendant_are_refused(client, with_model, who):
    cast, _ = with_model
    assert open_viewer(client, getattr(cast, who), cast.session).status_code == 403


def test_a_missing_session_is_refused_like_a_foreign_one(client, cast):
    login_verified(client, cast.wu)
    assert client.get(reverse("bim_viewer", args=[cast.session.pk + 1000])).status_code == 403


def test_experts_see_the_models_only_once_their_declarations_are_made(client, with_model):
    cast, _ = with_model
    closed = open_viewer(client, cast.zhang, cast.session)
    assert closed.status_code == 403
    assert "回避声明" in closed.content.decode()
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    assert open_viewer(client, cast.zhang, cast.session).status_code == 200


def test_an_expert_reads_the_model_files_exactly_when_the_viewer_page_opens(client, with_model):
    cast, model = with_model
    glb = reverse("bim_model_file", args=[model.pk, "model.glb"])
    login_verified(client, cast.zhang)
    seen = []
    for phase in (Phase.DECLARATIONS, Phase.LEADER_ELECTION, Phase.PRELIMINARY_REVIEW):
        advance_to(cast, phase)
        page = client.get(reverse("bim_viewer", args=[cast.session.pk])).status_code
        # 409: readable, not converted yet (nothing converts here); 403: not readable.
        files = client.get(glb).status_code
        seen.append((phase, page == 200, files == 409))
    assert seen == [
        (Phase.DECLARATIONS, False, False),
        (Phase.LEADER_ELECTION, True, True),
        (Phase.PRELIMINARY_REVIEW, True, True),
    ]


@pytest.mark.parametrize(
    ("phase", "return_phase", "open"),
    [
        (Phase.SCHEDULED, "", False),
        (Phase.DECLARATIONS, "", False),
        (Phase.LEADER_ELECTION, "", True),
        (Phase.DETAILED_REVIEW, "", True),
        (Phase.SUSPENDED, Phase.CHECK_IN, False),
        (Phase.SUSPENDED, Phase.DETAILED_REVIEW, True),
    ],
)
def test_bid_files_open_to_the_committee_after_the_declarations(phase, return_phase, open):
    assert members_may_see_models(EvaluationSession(phase=phase, return_phase=return_phase)) is open


def test_the_page_links_only_the_converted_outputs_never_the_ifc_file_or_its_name(client, with_model):
    cast, model = with_model
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    response = open_viewer(client, cast.zhang, cast.session)
    page = response.content.decode()
    assert model.original_name not in page and ".ifc" not in page
    assert model.document.file.url not in page
    urls = config_of(response)["models"][0]["urls"]
    assert all(url.startswith(f"/bim/models/{model.pk}/") for url in urls.values())
    assert not any(url.endswith(".ifc") for url in urls.values())
    # Nothing serves the stored file itself.
    assert client.get(model.document.file.url).status_code == 404


def test_in_anonymous_review_experts_see_the_bid_label_and_the_host_the_bidder(client, with_model):
    cast, _ = with_model
    cast.lot.rules = {"anonymous_technical_review": True}
    cast.lot.save()
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    label = bid_of(cast, cast.bidder_a.name).anonymous_label
    expert_page = open_viewer(client, cast.zhang, cast.session)
    assert config_of(expert_page)["models"][0]["label"] == label
    assert cast.bidder_a.name not in expert_page.content.decode()
    client.logout()
    host_page = open_viewer(client, cast.host, cast.session)
    assert cast.bidder_a.name in config_of(host_page)["models"][0]["label"]


def test_a_sealed_session_s_viewer_is_refused_and_the_attempt_is_audited(client, with_model):
    cast, _ = with_model
    cast.session.phase = Phase.SEALED_OVERNIGHT
    cast.session.save(update_fields=["phase"])
    response = open_viewer(client, cast.wu, cast.session)
    assert response.status_code == 403
    event = AuditEvent.objects.filter(session=cast.session).latest("seq")
    assert event.kind == "sealed.access_refused" and event.payload["what"] == "BIM viewer"


def test_the_session_page_links_the_viewer_only_when_the_lot_has_models(client, cast):
    login_verified(client, cast.wu)
    page = client.get(reverse("session_detail", args=[cast.session.pk])).content.decode()
    assert 'id="link-bim"' not in page
    import_opening_record(cast.lot, opening_json(cast), cast.host)
    add_model(bid_of(cast, cast.bidder_a.name), HOUSE)
    page = client.get(reverse("session_detail", args=[cast.session.pk])).content.decode()
    assert reverse("bim_viewer", args=[cast.session.pk]) in page


def test_the_page_s_model_list_is_served_again_by_the_page_s_own_rules(client, with_model):
    """What the open page fetches when a model is attached (bim.model_attached): the same entries."""
    cast, model = with_model
    url = reverse("bim_viewer_models", args=[cast.session.pk])
    login_verified(client, cast.wu)
    listed = client.get(url).json()["models"]
    assert listed == config_of(client.get(reverse("bim_viewer", args=[cast.session.pk])))["models"]
    assert [m["id"] for m in listed] == [model.pk]
    client.logout()
    login_verified(client, cast.zhang)  # an expert before the declarations
    assert client.get(url).status_code == 403
    client.logout()
    login_verified(client, cast.bidder_a_user)
    assert client.get(url).status_code == 403
