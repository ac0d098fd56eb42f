"""Who may open a session's page at all: anyone with a role in it, nobody else."""

from __future__ import annotations

from django.urls import reverse

from evaluation import actions
from tests.personas import login_verified


def page_of(cast):
    return reverse("session_detail", args=[cast.session.pk])


def test_everyone_with_a_role_opens_the_session_page(client, cast):
    for user in [cast.host, cast.sun, cast.zhou, cast.wu, cast.zheng, *cast.committee]:
        login_verified(client, user)
        assert client.get(page_of(cast)).status_code == 200, user.username


def test_an_anonymous_visitor_is_sent_to_log_in(client, cast):
    response = client.get(page_of(cast))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_an_expert_of_another_session_is_refused(client, cast):
    login_verified(client, cast.outsider)
    response = client.get(page_of(cast))
    assert response.status_code == 403
    assert "李明" not in response.content.decode()


def test_a_recused_member_is_locked_out_of_the_session_page(client, cast):
    actions.do_recuse_member(cast.session, cast.host, cast.member(cast.chen).pk, reason="近三年内在投标人处任职")
    login_verified(client, cast.chen)
    assert client.get(page_of(cast)).status_code == 403


def test_a_bidder_without_a_bid_on_the_lot_is_refused(client, cast):
    # Before the opening record is imported the bidders have no bid, hence no role.
    login_verified(client, cast.bidder_a_user)
    assert client.get(page_of(cast)).status_code == 403


def test_a_session_that_does_not_exist_is_refused_like_a_foreign_one(client, cast):
    login_verified(client, cast.li)
    assert client.get(reverse("session_detail", args=[cast.session.pk + 1000])).status_code == 403
