"""The landing page lists the user's sessions grouped by their role in each."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.urls import reverse

from evaluation import actions
from evaluation.models import Lot, Phase, SessionRole
from evaluation.opening import import_opening_record
from tests.personas import advance_to, login_verified, opening_json


def groups_of(client) -> dict[str, list[str]]:
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return {group.key: [entry.session.title for entry in group.entries] for group in response.context["groups"]}


def test_each_person_finds_the_session_under_their_role(client, cast):
    import_opening_record(cast.lot, opening_json(cast), cast.host)
    title = cast.session.title
    expected = {
        cast.host: "host",
        cast.sun: "attendant",
        cast.wu: "reviewer",
        cast.zheng: "supervisor",
        cast.li: "committee",
        cast.zhao: "committee",
        cast.bidder_a_user: "bidder",
    }
    for user, key in expected.items():
        login_verified(client, user)
        assert groups_of(client) == {key: [title]}, user.username


def test_an_entry_shows_title_lot_phase_start_and_main_venue(client, cast):
    login_verified(client, cast.li)
    page = client.get(reverse("home")).content.decode()
    assert cast.session.title in page
    assert str(cast.lot) in page
    assert "待开始" in page
    assert "2026-12-01 09:00" in page  # 01:00 UTC in Asia/Shanghai
    assert str(cast.main) in page
    assert reverse("session_detail", args=[cast.session.pk]) in page


def test_a_person_with_roles_in_two_sessions_sees_each_under_its_role(client, cast):
    cast.li.groups.add(Group.objects.get(name="reviewer"))
    other_lot = Lot.objects.create(
        project=cast.lot.project, code="BD02", name="安装标段", ceiling_price=Decimal("3000000")
    )
    other = actions.create_session(
        cast.host,
        other_lot,
        scheduled_start=datetime(2026, 12, 2, 1, 0, tzinfo=UTC),
        main_venue=cast.main,
        title="安装标段 评标",
    )
    # A fresh instance: the group membership of cast.li is cached on it.
    actions.assign(cast.host, other, User.objects.get(pk=cast.li.pk), SessionRole.REVIEWER)
    login_verified(client, cast.li)
    assert groups_of(client) == {"committee": [cast.session.title], "reviewer": ["安装标段 评标"]}


def test_the_leader_is_listed_with_the_committee_and_marked_as_leader(client, cast):
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    login_verified(client, cast.li)
    response = client.get(reverse("home"))
    [group] = response.context["groups"]
    assert group.key == "committee"
    assert group.entries[0].is_leader
    assert "组长" in response.content.decode()


def test_a_recused_member_no_longer_finds_the_session(client, cast):
    actions.do_recuse_member(cast.session, cast.host, cast.member(cast.chen).pk, reason="与投标人有利害关系")
    login_verified(client, cast.chen)
    assert groups_of(client) == {}
    assert "您目前没有参加任何评标会" in client.get(reverse("home")).content.decode()


def test_an_expert_of_another_session_sees_nothing_of_this_one(client, cast):
    login_verified(client, cast.outsider)
    assert groups_of(client) == {}


def test_a_bidder_sees_its_session_but_no_expert_names(client, cast):
    import_opening_record(cast.lot, opening_json(cast), cast.host)
    login_verified(client, cast.bidder_a_user)
    page = client.get(reverse("home")).content.decode()
    assert cast.session.title in page
    for name in ("李明", "张华", "陈静", "刘洋", "赵代表"):
        assert name not in page
