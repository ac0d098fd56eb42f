"""While a session is sealed overnight its page shows nothing but the phase, and each look is logged."""

from __future__ import annotations

from django.urls import reverse

from evaluation import actions
from evaluation.models import AuditEvent, Phase
from tests.personas import advance_to, login_verified


def seal(cast) -> None:
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    actions.do_transition(cast.session, cast.host, "seal")
    actions.do_transition(cast.session, cast.zheng, "seal")
    assert cast.refresh().is_sealed


def test_a_sealed_session_shows_only_its_phase_and_a_sealed_notice(client, cast):
    seal(cast)
    for user in (cast.host, cast.zheng, cast.li, cast.sun, cast.bidder_a_user):
        login_verified(client, user)
        response = client.get(reverse("session_detail", args=[cast.session.pk]))
        assert response.status_code == 200
        # The page body; the header names the viewer.
        html = response.content.decode().split("<main", 1)[1]
        assert "隔夜封存" in html
        assert "已隔夜封存" in html
        for hidden in ("李明", "张华", "孙核验", cast.bidder_a.name, "session.created"):
            assert hidden not in html, (user.username, hidden)


def test_opening_a_sealed_session_logs_a_refused_access(client, cast):
    seal(cast)
    login_verified(client, cast.li)
    client.get(reverse("session_detail", args=[cast.session.pk]))
    event = AuditEvent.objects.filter(session=cast.session).latest("seq")
    assert event.kind == "sealed.access_refused"
    assert event.actor == cast.li
    assert event.payload == {"what": "session page"}


def test_an_outsider_is_refused_a_sealed_session_without_a_trace_in_its_log(client, cast):
    seal(cast)
    before = cast.refresh().audit_seq
    login_verified(client, cast.outsider)
    assert client.get(reverse("session_detail", args=[cast.session.pk])).status_code == 403
    assert cast.refresh().audit_seq == before
