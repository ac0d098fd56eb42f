"""Sessions in the admin: created through the action, then only title and schedule change, audited."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from evaluation.audit import verify_chain
from evaluation.models import (
    Assignment,
    AuditEvent,
    CommitteeMember,
    EvaluationSession,
    Lot,
    SessionRole,
    SessionVenue,
    Venue,
)
from tests.evaluation.admin_forms import messages_of, page_data
from tests.personas import login_verified


def add_form(client) -> tuple[str, dict]:
    url = reverse("admin:evaluation_evaluationsession_add")
    return url, page_data(client.get(url))


def seat_through_inline(client, cast, user, kind, venue):
    """The host adds a row to the session's committee inline and saves the page."""
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_evaluationsession_change", args=[cast.session.pk])
    data = page_data(client.get(url))
    index = int(data["members-TOTAL_FORMS"])
    data["members-TOTAL_FORMS"] = str(index + 1)
    data.update(
        {
            f"members-{index}-user": str(user.pk),
            f"members-{index}-kind": kind,
            f"members-{index}-venue": str(venue.pk),
            f"members-{index}-session": str(cast.session.pk),
        }
    )
    return client.post(url, data)


def test_a_host_creates_a_session_in_the_admin_with_its_venues_and_host(client, cast):
    lot = Lot.objects.create(
        project=cast.lot.project, code="BD02", name="安装标段", ceiling_price=Decimal("3000000.00")
    )
    login_verified(client, cast.host)
    url, data = add_form(client)
    data.update(
        {
            "lot": str(lot.pk),
            "title": "安装标段 评标",
            "scheduled_start_0": "2026-12-02",
            "scheduled_start_1": "09:00:00",
            "host": str(cast.host.pk),
            "main_venue": str(cast.main.pk),
            "sub_venues": [str(cast.wenzhou.pk)],
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302, messages_of(response)
    session = EvaluationSession.objects.get(lot=lot)
    assert session.title == "安装标段 评标"
    links = {(link.venue_id, link.kind) for link in SessionVenue.objects.filter(session=session)}
    assert links == {(cast.main.pk, SessionVenue.Kind.MAIN), (cast.wenzhou.pk, SessionVenue.Kind.SUB)}
    assert Assignment.objects.filter(session=session, user=cast.host, role=SessionRole.HOST).exists()
    kinds = list(AuditEvent.objects.filter(session=session).order_by("seq").values_list("kind", flat=True))
    assert kinds == ["session.created", "assignment.added"]
    assert verify_chain(session.pk).ok


def test_a_second_session_for_a_lot_is_refused_in_the_admin_with_the_reason(client, cast):
    login_verified(client, cast.host)
    url, data = add_form(client)
    data.update(
        {
            "lot": str(cast.lot.pk),
            "scheduled_start_0": "2026-12-02",
            "scheduled_start_1": "09:00:00",
            "host": str(cast.host.pk),
            "main_venue": str(cast.main.pk),
        }
    )

    response = client.post(url, data)

    assert EvaluationSession.objects.filter(lot=cast.lot).count() == 1
    assert any("the lot already has a session" in m for m in messages_of(response))


def test_a_host_changing_the_session_schedule_is_audited_with_old_and_new_values(client, cast):
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_evaluationsession_change", args=[cast.session.pk])
    data = page_data(client.get(url))
    data.update({"title": "土建标段 评标（改期）", "scheduled_start_0": "2026-12-03", "scheduled_start_1": "09:30:00"})

    response = client.post(url, data)

    assert response.status_code == 302, messages_of(response)
    session = cast.refresh()
    event = AuditEvent.objects.filter(session=session).latest("seq")
    assert event.kind == "admin.changed"
    assert event.payload["model"] == "evaluation.evaluationsession"
    assert event.payload["fields"] == {
        "title": {"old": "第一中学教学楼扩建工程 土建标段 评标", "new": "土建标段 评标（改期）"},
        "scheduled_start": {"old": "2026-12-01T01:00:00.000000+00:00", "new": "2026-12-03T01:30:00.000000+00:00"},
    }
    assert verify_chain(session.pk).ok


def test_a_host_seats_the_spare_expert_through_the_committee_inline(client, cast):
    response = seat_through_inline(client, cast, cast.qian, CommitteeMember.Kind.EXPERT, cast.ningbo)

    assert response.status_code == 302, messages_of(response)
    member = CommitteeMember.objects.get(session=cast.session, user=cast.qian)
    event = AuditEvent.objects.filter(session=cast.session).latest("seq")
    assert (event.kind, event.payload["member"]) == ("member.added", member.pk)
    assert verify_chain(cast.session.pk).ok


def test_a_host_cannot_seat_someone_who_already_has_a_role_in_the_session(client, cast):
    head = cast.refresh().audit_seq

    response = seat_through_inline(client, cast, cast.sun, CommitteeMember.Kind.TENDERER_REP, cast.ningbo)

    assert not CommitteeMember.objects.filter(session=cast.session, user=cast.sun).exists()
    assert any("already has a role in this session" in m for m in messages_of(response))
    assert cast.refresh().audit_seq == head


def test_a_venue_where_members_sit_cannot_be_removed_from_the_session(client, cast):
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_evaluationsession_change", args=[cast.session.pk])
    data = page_data(client.get(url))
    link = SessionVenue.objects.get(session=cast.session, venue=cast.wenzhou)
    index = next(
        k.split("-")[1]
        for k, v in data.items()
        if k.startswith("session_venues-") and k.endswith("-id") and v == str(link.pk)
    )
    data[f"session_venues-{index}-DELETE"] = "on"

    response = client.post(url, data)

    assert response.status_code == 200
    assert SessionVenue.objects.filter(pk=link.pk).exists()
    assert "有评委或人员在该场地" in response.content.decode()


def test_a_host_adding_a_sub_venue_through_the_session_page_is_audited(client, cast):
    taizhou = Venue.objects.create(city="台州", center="台州市公共资源交易中心", room="远程评标室")
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_evaluationsession_change", args=[cast.session.pk])
    data = page_data(client.get(url))
    index = int(data["session_venues-TOTAL_FORMS"])
    data["session_venues-TOTAL_FORMS"] = str(index + 1)
    data[f"session_venues-{index}-venue"] = str(taizhou.pk)
    data[f"session_venues-{index}-kind"] = SessionVenue.Kind.SUB
    data[f"session_venues-{index}-session"] = str(cast.session.pk)

    response = client.post(url, data)

    assert response.status_code == 302, messages_of(response)
    link = SessionVenue.objects.get(session=cast.session, venue=taizhou)
    event = AuditEvent.objects.filter(session=cast.session).latest("seq")
    assert (event.kind, event.payload["model"], event.payload["object_id"]) == (
        "admin.added",
        "evaluation.sessionvenue",
        str(link.pk),
    )
    assert event.payload["fields"]["venue"] == {"old": None, "new": str(taizhou.pk)}
    assert verify_chain(cast.session.pk).ok
