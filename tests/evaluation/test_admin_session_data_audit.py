"""Every admin change to a session's data is an event on that session's chain."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from evaluation.audit import verify_chain
from evaluation.models import Assignment, AuditEvent, Bid, Lot, SessionRole
from evaluation.opening import import_opening_record
from tests.evaluation.admin_forms import messages_of, page_data
from tests.personas import credit_code, login_verified, make_user, opening_json


@pytest.fixture
def bids(cast):
    import_opening_record(cast.lot, opening_json(cast), cast.host)
    return {bid.bidder_id: bid for bid in Bid.objects.filter(lot=cast.lot)}


def last_event(cast) -> AuditEvent:
    return AuditEvent.objects.filter(session=cast.session).latest("seq")


def assert_chain_ok(cast) -> None:
    report = verify_chain(cast.session.pk)
    assert report.ok, report.describe()


def test_a_host_changing_a_bid_price_in_the_admin_is_audited(client, cast, bids):
    bid = bids[cast.bidder_a.pk]
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_bid_change", args=[bid.pk])
    data = page_data(client.get(url))
    data["price"] = "11750000.00"

    response = client.post(url, data)

    assert response.status_code == 302, messages_of(response)
    bid.refresh_from_db()
    assert bid.price == Decimal("11750000.00")
    event = last_event(cast)
    assert event.kind == "admin.changed"
    assert event.actor_name == "wang_host"
    assert event.payload["model"] == "evaluation.bid"
    assert event.payload["object_id"] == str(bid.pk)
    assert event.payload["fields"] == {"price": {"old": "11800000.00", "new": "11750000.00"}}
    assert_chain_ok(cast)


def test_saving_a_bid_unchanged_in_the_admin_writes_no_event(client, cast, bids):
    bid = bids[cast.bidder_a.pk]
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_bid_change", args=[bid.pk])
    head = cast.refresh().audit_seq

    response = client.post(url, page_data(client.get(url)))

    assert response.status_code == 302, messages_of(response)
    assert cast.refresh().audit_seq == head


def test_a_host_adding_a_bid_in_the_admin_is_audited_on_the_lots_session(client, cast):
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_bid_add")
    data = page_data(client.get(url))
    data.update(
        {
            "lot": str(cast.lot.pk),
            "bidder": str(cast.bidder_a.pk),
            "price": "11800000.00",
            "opened_at_0": "2026-12-01",
            "opened_at_1": "09:05:00",
            "anonymous_label": "A",
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302, messages_of(response)
    bid = Bid.objects.get(lot=cast.lot, bidder=cast.bidder_a)
    event = last_event(cast)
    assert event.kind == "admin.added"
    assert event.payload["object_id"] == str(bid.pk)
    assert event.payload["fields"]["price"] == {"old": None, "new": "11800000.00"}
    assert event.payload["fields"]["opened_at"]["new"] == "2026-12-01T01:05:00.000000+00:00"
    assert_chain_ok(cast)


def test_a_host_removing_an_assignment_in_the_admin_is_audited(client, cast):
    assignment = Assignment.objects.get(session=cast.session, user=cast.sun)
    login_verified(client, cast.host)

    response = client.post(reverse("admin:evaluation_assignment_delete", args=[assignment.pk]), {"post": "yes"})

    assert response.status_code == 302, messages_of(response)
    assert not Assignment.objects.filter(pk=assignment.pk).exists()
    event = last_event(cast)
    assert event.kind == "admin.deleted"
    assert event.payload["model"] == "evaluation.assignment"
    assert event.payload["fields"]["user"] == {"old": str(cast.sun.pk), "new": None}
    assert event.payload["fields"]["role"] == {"old": "attendant", "new": None}
    assert_chain_ok(cast)


def test_a_host_removing_two_assignments_at_once_writes_an_event_for_each(client, cast):
    pks = [Assignment.objects.get(session=cast.session, user=u).pk for u in (cast.sun, cast.zhou)]
    login_verified(client, cast.host)

    response = client.post(
        reverse("admin:evaluation_assignment_changelist"),
        {"action": "delete_selected", "_selected_action": [str(pk) for pk in pks], "post": "yes"},
    )

    assert response.status_code == 302, messages_of(response)
    assert not Assignment.objects.filter(pk__in=pks).exists()
    deleted = AuditEvent.objects.filter(session=cast.session, kind="admin.deleted")
    assert sorted(int(e.payload["object_id"]) for e in deleted) == sorted(pks)
    assert_chain_ok(cast)


def test_the_only_host_of_a_session_cannot_be_unassigned_in_the_admin(client, cast):
    assignment = Assignment.objects.get(session=cast.session, role=SessionRole.HOST)
    login_verified(client, cast.host)
    head = cast.refresh().audit_seq

    response = client.post(reverse("admin:evaluation_assignment_delete", args=[assignment.pk]), {"post": "yes"})

    assert Assignment.objects.filter(pk=assignment.pk).exists()
    assert any("only host" in m for m in messages_of(response))
    assert cast.refresh().audit_seq == head


def test_a_host_assigning_a_supervisor_in_the_admin_goes_through_the_assign_action(client, cast):
    second = make_user("feng_supervisor", "supervisor", full_name="冯监督")
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_assignment_add")
    data = page_data(client.get(url))
    data.update({"session": str(cast.session.pk), "user": str(second.pk), "role": SessionRole.SUPERVISOR})

    response = client.post(url, data)

    assert response.status_code == 302, messages_of(response)
    assert Assignment.objects.filter(session=cast.session, user=second, role=SessionRole.SUPERVISOR).exists()
    assert last_event(cast).kind == "assignment.added"
    assert_chain_ok(cast)


def test_assigning_someone_outside_the_roles_group_is_refused_with_the_reason(client, cast):
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_assignment_add")
    data = page_data(client.get(url))
    data.update({"session": str(cast.session.pk), "user": str(cast.qian.pk), "role": SessionRole.SUPERVISOR})

    response = client.post(url, data)

    assert not Assignment.objects.filter(session=cast.session, user=cast.qian).exists()
    assert any("is not in the supervisor group" in m for m in messages_of(response))


def test_a_host_renaming_the_project_of_a_lot_with_a_session_is_audited_on_that_session(client, cast):
    project = cast.lot.project
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_tenderproject_change", args=[project.pk])
    data = page_data(client.get(url))
    data["name"] = "第一中学教学楼及食堂扩建工程"

    response = client.post(url, data)

    assert response.status_code == 302, messages_of(response)
    event = last_event(cast)
    assert event.kind == "admin.changed"
    assert event.payload["model"] == "evaluation.tenderproject"
    assert event.payload["fields"] == {"name": {"old": "第一中学教学楼扩建工程", "new": "第一中学教学楼及食堂扩建工程"}}
    assert_chain_ok(cast)


def test_a_host_changing_a_bidders_name_is_audited_on_the_sessions_of_its_bids(client, cast, bids):
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_bidder_change", args=[cast.bidder_b.pk])
    data = page_data(client.get(url))
    data["name"] = "乙建工集团有限公司"

    response = client.post(url, data)

    assert response.status_code == 302, messages_of(response)
    event = last_event(cast)
    assert event.payload["model"] == "evaluation.bidder"
    assert event.payload["fields"]["name"] == {"old": "乙建工有限公司", "new": "乙建工集团有限公司"}
    assert_chain_ok(cast)


def test_a_bidder_with_a_wrong_credit_code_check_digit_is_refused_in_the_admin(client, cast):
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_bidder_add")
    good = credit_code("CCCC03")
    wrong = good[:17] + ("0" if good[17] != "0" else "1")

    response = client.post(url, {"name": "丙建设有限公司", "credit_code": wrong})

    assert response.status_code == 200
    assert "credit_code" in response.context["adminform"].form.errors


def test_a_host_changing_lot_rules_is_audited_and_invalid_rules_are_refused(client, cast):
    login_verified(client, cast.host)
    url = reverse("admin:evaluation_lot_change", args=[cast.lot.pk])
    data = page_data(client.get(url))
    head = cast.refresh().audit_seq

    refused = client.post(url, {**data, "rules": '{"e1": "0.5", "e2": "1"}'})

    assert refused.status_code == 200
    assert "E2 must not exceed E1" in str(refused.context["adminform"].form.errors["rules"])
    assert cast.refresh().audit_seq == head
    assert Lot.objects.get(pk=cast.lot.pk).rules == {}

    response = client.post(url, {**data, "rules": '{"aggregation": "trim_high_low"}'})

    assert response.status_code == 302, messages_of(response)
    assert Lot.objects.get(pk=cast.lot.pk).rules == {"aggregation": "trim_high_low"}
    event = last_event(cast)
    assert event.payload["fields"] == {"rules": {"old": "{}", "new": '{"aggregation":"trim_high_low"}'}}
    assert_chain_ok(cast)


def test_a_host_who_does_not_host_the_session_cannot_change_its_bids(client, cast, bids):
    other_host = make_user("lin_host", "host", full_name="林主持", staff=True)
    bid = bids[cast.bidder_a.pk]
    login_verified(client, other_host)
    url = reverse("admin:evaluation_bid_change", args=[bid.pk])
    data = page_data(client.get(url))
    data["price"] = "1.00"
    head = cast.refresh().audit_seq

    response = client.post(url, data)

    bid.refresh_from_db()
    assert bid.price == Decimal("11800000.00")
    assert any("只有 host 可以进行此操作" in m for m in messages_of(response))
    assert cast.refresh().audit_seq == head
