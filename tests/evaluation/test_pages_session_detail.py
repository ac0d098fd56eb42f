"""What each role sees on a session's page: the committee, the staff, the bids, the audit trail."""

from __future__ import annotations

from django.urls import reverse

from evaluation.models import Phase
from evaluation.opening import import_opening_record
from tests.personas import advance_to, login_verified, opening_json

MEMBER_NAMES = ("李明", "张华", "陈静", "刘洋", "赵代表")
STAFF_NAMES = ("王主持", "孙核验", "周核验", "吴审查", "郑监督")


def page(client, cast, user) -> str:
    login_verified(client, user)
    response = client.get(reverse("session_detail", args=[cast.session.pk]))
    assert response.status_code == 200
    return response.content.decode()


def open_bids(cast) -> None:
    import_opening_record(cast.lot, opening_json(cast), cast.host)


def anonymous_review(cast) -> None:
    cast.lot.rules = {"anonymous_technical_review": True}
    cast.lot.save(update_fields=["rules"])


def test_the_host_sees_phase_schedule_venues_committee_staff_and_bids(client, cast):
    open_bids(cast)
    html = page(client, cast, cast.host)
    assert "待开始" in html
    assert "2026-12-01 09:00" in html
    for venue in (cast.main, cast.ningbo, cast.wenzhou):
        assert venue.center in html
    for name in (*MEMBER_NAMES, *STAFF_NAMES):
        assert name in html
    assert "招标人代表" in html
    for bidder in (cast.bidder_a, cast.bidder_b):
        assert bidder.name in html


def test_the_committee_shows_check_in_declarations_and_the_leader(client, cast):
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    login_verified(client, cast.zheng)
    response = client.get(reverse("session_detail", args=[cast.session.pk]))
    rows = {row.member.display_name: row for row in response.context["members"]}
    assert all(row.member.checked_in_at for row in rows.values())
    assert all(row.recusal_declared and row.integrity_declared for row in rows.values())
    assert rows["李明"].member.role == "leader"
    assert "组长" in response.content.decode()


def test_a_bidder_sees_only_its_own_bid_and_never_who_the_experts_are(client, cast):
    open_bids(cast)
    html = page(client, cast, cast.bidder_a_user)
    assert cast.bidder_a.name in html
    assert cast.bidder_b.name not in html
    for name in (*MEMBER_NAMES, *STAFF_NAMES):
        assert name not in html
    assert cast.ningbo.center not in html
    assert cast.wenzhou.center not in html


def test_an_attendant_sees_only_the_members_of_their_own_venue(client, cast):
    html = page(client, cast, cast.sun)  # 宁波
    assert "张华" in html
    for name in ("李明", "陈静", "刘洋", "赵代表"):
        assert name not in html
    html = page(client, cast, cast.zhou)  # 温州
    assert "陈静" in html
    assert "张华" not in html


def test_the_committee_sees_bidder_names_when_the_review_is_not_anonymous(client, cast):
    open_bids(cast)
    html = page(client, cast, cast.zhang)
    assert cast.bidder_a.name in html
    assert cast.bidder_b.name in html


def test_bidder_names_and_prices_are_hidden_from_the_committee_in_anonymous_review(client, cast):
    open_bids(cast)
    anonymous_review(cast)
    labels = list(cast.lot.bids.values_list("anonymous_label", flat=True))
    for user in (cast.zhang, cast.li, cast.wu, cast.sun):
        html = page(client, cast, user)
        for label in labels:
            assert label in html
        assert cast.bidder_a.name not in html, user.username
        assert cast.bidder_b.name not in html, user.username
        assert "11800000" not in html, user.username


def test_the_host_and_the_supervisor_see_bidder_names_in_anonymous_review(client, cast):
    open_bids(cast)
    anonymous_review(cast)
    for user in (cast.host, cast.zheng):
        assert cast.bidder_a.name in page(client, cast, user)


def test_the_leader_learns_the_bidders_behind_the_labels_only_at_summary(client, cast):
    anonymous_review(cast)
    advance_to(cast, Phase.DETAILED_REVIEW)
    assert cast.bidder_a.name not in page(client, cast, cast.li)
    advance_to(cast, Phase.SUMMARY)
    assert cast.bidder_a.name in page(client, cast, cast.li)
    assert cast.bidder_a.name not in page(client, cast, cast.zhang)


def test_the_audit_trail_is_shown_to_the_host_and_the_supervisor_only(client, cast):
    for user in (cast.host, cast.zheng):
        html = page(client, cast, user)
        assert "session.created" in html
        assert "member.added" in html
    for user in (cast.li, cast.sun, cast.wu):
        html = page(client, cast, user)
        assert "session.created" not in html, user.username
        assert 'id="audit"' not in html
