"""The room's pages: who opens which (default deny), what each shell carries, both languages."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from evaluation import actions
from evaluation.models import AuditEvent, Phase
from evaluation.opening import import_opening_record
from tests.personas import advance_to, login_verified, opening_json

ROOM, CONSOLE, VENUE = "room", "room_console", "room_venue"


def url(name, cast):
    return reverse(name, args=[cast.session.pk])


def script_json(response, element_id: str) -> dict:
    """The data a page renders for its scripts with ``json_script``."""
    html = response.content.decode()
    opening = f'<script id="{element_id}" type="application/json">'
    start = html.index(opening) + len(opening)
    return json.loads(html[start : html.index("</script>", start)])


def page_config(response) -> dict:
    return script_json(response, "room-config")


@pytest.mark.parametrize("who", ["li", "zhang", "zhao", "wu", "host", "zheng"])
def test_members_the_reviewer_the_host_and_the_supervisor_open_the_room(client, cast, who):
    login_verified(client, getattr(cast, who))
    response = client.get(url(ROOM, cast))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="phase"' in html
    assert 'id="video-tiles"' in html
    assert 'id="scoring-sheet"' in html
    config = page_config(response)
    assert config["session"] == cast.session.pk
    assert config["page"] == "room"
    assert config["read_only"] is False
    assert config["ws_path"] == f"/ws/sessions/{cast.session.pk}/"
    # A socket closed for a lapsed login or a missing second factor leads back here afterwards.
    assert config["login_url"] == f"/accounts/login/?next=%2Fsessions%2F{cast.session.pk}%2Froom%2F"
    assert config["otp_url"] == f"/accounts/otp/verify/?next=%2Fsessions%2F{cast.session.pk}%2Froom%2F"


def test_an_anonymous_visitor_is_sent_to_log_in(client, cast):
    for name in (ROOM, CONSOLE, VENUE):
        response = client.get(url(name, cast))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_an_outsider_is_refused_every_room_page(client, cast):
    login_verified(client, cast.outsider)
    for name in (ROOM, CONSOLE, VENUE):
        assert client.get(url(name, cast)).status_code == 403, name


def test_a_bidder_is_refused_every_room_page(client, cast):
    import_opening_record(cast.lot, opening_json(cast), cast.host)
    login_verified(client, cast.bidder_a_user)
    assert client.get(reverse("session_detail", args=[cast.session.pk])).status_code == 200
    for name in (ROOM, CONSOLE, VENUE):
        assert client.get(url(name, cast)).status_code == 403, name


def test_a_session_that_does_not_exist_is_refused_like_a_foreign_one(client, cast):
    login_verified(client, cast.host)
    for name in (ROOM, CONSOLE, VENUE):
        assert client.get(reverse(name, args=[cast.session.pk + 1000])).status_code == 403, name


def test_a_recused_member_is_refused_the_room(client, cast):
    actions.do_recuse_member(cast.session, cast.host, cast.member(cast.chen).pk, reason="近三年内在投标人处任职")
    login_verified(client, cast.chen)
    assert client.get(url(ROOM, cast)).status_code == 403


def test_the_attendant_opens_the_venue_view_but_not_the_console_nor_the_room(client, cast):
    login_verified(client, cast.sun)
    response = client.get(url(VENUE, cast))
    assert response.status_code == 200
    assert 'data-page="venue"' in response.content.decode()
    assert client.get(url(CONSOLE, cast)).status_code == 403
    assert client.get(url(ROOM, cast)).status_code == 403


@pytest.mark.parametrize("who", ["li", "wu", "host", "zheng"])
def test_only_attendants_open_the_venue_view(client, cast, who):
    login_verified(client, getattr(cast, who))
    assert client.get(url(VENUE, cast)).status_code == 403


@pytest.mark.parametrize("who", ["li", "zhao", "wu"])
def test_members_and_the_reviewer_are_refused_the_console(client, cast, who):
    login_verified(client, getattr(cast, who))
    assert client.get(url(CONSOLE, cast)).status_code == 403


def test_the_host_console_has_the_controls(client, cast):
    login_verified(client, cast.host)
    response = client.get(url(CONSOLE, cast))
    assert response.status_code == 200
    html = response.content.decode()
    assert page_config(response)["read_only"] is False
    assert 'id="notice-form"' in html
    assert 'id="roll"' in html
    assert 'id="audit"' in html
    assert "read-only-notice" not in html


def test_the_supervisor_watches_the_console_read_only(client, cast):
    login_verified(client, cast.zheng)
    response = client.get(url(CONSOLE, cast))
    assert response.status_code == 200
    html = response.content.decode()
    assert page_config(response)["read_only"] is True
    assert "data-read-only" in html
    assert 'id="read-only-notice"' in html
    assert 'id="notice-form"' not in html
    assert 'id="audit"' in html


def test_the_host_owes_the_second_factor_before_the_console(client, cast):
    client.force_login(cast.host)
    response = client.get(url(CONSOLE, cast))
    assert response.status_code == 302
    assert response.url.startswith(reverse("otp_setup"))


def test_only_participants_get_a_hand_to_raise(client, cast):
    login_verified(client, cast.li)
    assert 'id="hand-toggle"' in client.get(url(ROOM, cast)).content.decode()
    login_verified(client, cast.zheng)
    assert 'id="hand-toggle"' not in client.get(url(ROOM, cast)).content.decode()


def test_a_sealed_session_s_room_still_opens_and_logs_no_access_attempt(client, cast):
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    actions.do_transition(cast.session, cast.host, "seal")
    actions.do_transition(cast.session, cast.zheng, "seal")
    assert cast.refresh().is_sealed
    for user, name in ((cast.li, ROOM), (cast.host, CONSOLE), (cast.sun, VENUE)):
        login_verified(client, user)
        assert client.get(url(name, cast)).status_code == 200, name
    # The pages are shells: the sealed data reaches nobody through them, so there is no attempt to log.
    assert not AuditEvent.objects.filter(session=cast.session, kind="sealed.access_refused").exists()


def test_the_room_renders_in_chinese_by_default(client, cast):
    login_verified(client, cast.li)
    response = client.get(url(ROOM, cast))
    html = response.content.decode()
    assert "评标室" in html
    assert "回避声明" in html
    strings = script_json(response, "room-strings")
    assert strings["ui"]["reconnecting"] == "连接已断开，正在重连…"
    assert strings["phases"]["check_in"] == "签到核验"
    assert strings["transitions"]["open_check_in"] == "开始签到核验"


def test_the_room_renders_in_english(client, cast):
    login_verified(client, cast.li)
    response = client.get(url(ROOM, cast), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Evaluation room" in html
    assert "Submit the recusal declaration" in html
    strings = script_json(response, "room-strings")
    assert strings["ui"]["reconnecting"] == "Connection lost, reconnecting…"
    assert strings["phases"]["check_in"] == "Check-in"
    assert strings["transitions"]["open_check_in"] == "Open check-in"
    assert strings["close"]["4409"] == "The host removed you from the room."
    # The recusal grounds in the page's language: the socket's snapshot has them in the server's.
    assert strings["grounds"]["family"].startswith("Close relative")


@pytest.mark.parametrize(
    ("name", "who", "heading"),
    [(CONSOLE, "host", "Host console"), (CONSOLE, "zheng", "Supervisor view"), (VENUE, "sun", "Venue check-in")],
)
def test_the_staff_pages_render_in_english(client, cast, name, who, heading):
    login_verified(client, getattr(cast, who))
    html = client.get(url(name, cast), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert heading in html


@pytest.mark.parametrize(
    ("who", "links"),
    [
        ("host", ["link-console", "link-room"]),
        ("zheng", ["link-console", "link-room"]),
        ("sun", ["link-venue"]),
        ("li", ["link-room"]),
        ("wu", ["link-room"]),
    ],
)
def test_the_session_page_links_to_the_room_pages_of_the_user_s_roles(client, cast, who, links):
    login_verified(client, getattr(cast, who))
    html = client.get(reverse("session_detail", args=[cast.session.pk])).content.decode()
    for link in ("link-console", "link-venue", "link-room"):
        assert (f'id="{link}"' in html) == (link in links), link


def test_a_bidder_s_session_page_has_no_way_into_the_room(client, cast):
    import_opening_record(cast.lot, opening_json(cast), cast.host)
    login_verified(client, cast.bidder_a_user)
    html = client.get(reverse("session_detail", args=[cast.session.pk])).content.decode()
    assert "/room/" not in html
    assert "/console/" not in html
