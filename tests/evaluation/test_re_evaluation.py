"""A re-evaluation is a new session of the same lot, linked to the first, with a new committee."""

from __future__ import annotations

from datetime import timedelta

import pytest

from evaluation import actions
from evaluation.audit import verify_chain
from evaluation.exceptions import Refused
from evaluation.models import Phase, SessionRole
from tests.personas import advance_to


def test_a_stopped_session_is_re_evaluated_by_a_new_linked_session_with_a_new_committee(cast):
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    actions.do_transition(cast.session, cast.host, "stop", reason="故障超过4小时未排除")
    start = cast.session.scheduled_start + timedelta(days=2)
    new = actions.do_re_evaluate(
        cast.session, cast.host, scheduled_start=start, reason="故障超过4小时，另行组建评标委员会"
    )
    assert new.re_evaluation_of == cast.session and new.lot == cast.lot and new.phase == Phase.SCHEDULED
    assert new.main_venue == cast.main and set(new.venues.all()) == {cast.main, cast.ningbo, cast.wenzhou}
    assert not new.members.exists()
    roles = dict(new.assignments.values_list("user__username", "role"))
    assert roles == {
        "wang_host": SessionRole.HOST,
        "sun_attendant": SessionRole.ATTENDANT,
        "zhou_attendant": SessionRole.ATTENDANT,
        "wu_reviewer": SessionRole.REVIEWER,
        "zheng_supervisor": SessionRole.SUPERVISOR,
    }
    with pytest.raises(Refused, match="new committee"):
        actions.do_add_member(new, cast.host, cast.li, venue=cast.main)
    actions.do_add_member(new, cast.host, cast.qian, venue=cast.ningbo)
    assert verify_chain(new.pk).ok and verify_chain(cast.session.pk).ok
    with pytest.raises(Refused, match="already been re-evaluated"):
        actions.do_re_evaluate(cast.session, cast.host, scheduled_start=start, reason="again")


def test_a_session_still_running_cannot_be_re_evaluated(cast):
    advance_to(cast, Phase.DETAILED_REVIEW)
    with pytest.raises(Refused) as info:
        actions.do_re_evaluate(cast.session, cast.host, scheduled_start=cast.session.scheduled_start, reason="x")
    assert info.value.code == "wrong_phase"


def test_a_lot_gets_a_second_session_only_as_a_re_evaluation(cast):
    with pytest.raises(Refused, match="already has a session"):
        actions.create_session(cast.host, cast.lot, scheduled_start=cast.session.scheduled_start, main_venue=cast.main)
