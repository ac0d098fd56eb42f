"""Every transition of the phase table: allowed for its roles, refused with a reason for every other
role and for every other phase, and audited in the same step."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from evaluation import actions
from evaluation.audit import verify_chain
from evaluation.exceptions import Refused
from evaluation.models import AuditEvent, EvaluationSession, Phase, Suspension
from evaluation.permissions import Role, session_roles
from evaluation.phases import TRANSITIONS, available_transitions
from tests.personas import MAIN_LINE_TRANSITIONS, Cast, advance_to, prepare, verify_all

REASONS = {
    "roll_back": "分值录入有误，退回重评",
    "suspend": "宁波副场网络中断",
    "fail": "有效投标不足三家",
    "stop": "招标文件存在重大缺陷",
}

# Where each transition is first possible along the main line, and what else must happen first.
ARRANGE = {
    "open_check_in": Phase.SCHEDULED,
    "open_declarations": Phase.CHECK_IN,
    "open_election": Phase.DECLARATIONS,
    "open_preliminary_review": Phase.LEADER_ELECTION,
    "open_detailed_review": Phase.PRELIMINARY_REVIEW,
    "open_summary": Phase.DETAILED_REVIEW,
    "finalise": Phase.SUMMARY,
    "archive": Phase.SIGNING,
    "roll_back": Phase.DETAILED_REVIEW,
    "seal": Phase.DETAILED_REVIEW,
    "unseal": Phase.DETAILED_REVIEW,
    "suspend": Phase.DETAILED_REVIEW,
    "resume": Phase.DETAILED_REVIEW,
    "fail": Phase.DETAILED_REVIEW,
    "stop": Phase.DETAILED_REVIEW,
}
EXPECTED_TARGET = {
    "open_check_in": Phase.CHECK_IN,
    "open_declarations": Phase.DECLARATIONS,
    "open_election": Phase.LEADER_ELECTION,
    "open_preliminary_review": Phase.PRELIMINARY_REVIEW,
    "open_detailed_review": Phase.DETAILED_REVIEW,
    "open_summary": Phase.SUMMARY,
    "finalise": Phase.SIGNING,
    "archive": Phase.ARCHIVED,
    "roll_back": Phase.PRELIMINARY_REVIEW,
    "seal": Phase.SEALED_OVERNIGHT,
    "unseal": Phase.DETAILED_REVIEW,
    "suspend": Phase.SUSPENDED,
    "resume": Phase.DETAILED_REVIEW,
    "fail": Phase.FAILED,
    "stop": Phase.STOPPED,
}


def arrange(cast: Cast, name: str) -> EvaluationSession:
    advance_to(cast, ARRANGE[name])
    if name in MAIN_LINE_TRANSITIONS.values():
        prepare(cast, EXPECTED_TARGET[name])
    if name == "unseal":
        actions.do_transition(cast.session, cast.host, "seal")
        actions.do_transition(cast.session, cast.zheng, "seal")
        verify_all(cast)
    if name == "resume":
        actions.do_transition(cast.session, cast.host, "suspend", reason="主场停电")
    return cast.refresh()


def personas(cast: Cast) -> dict[str, object]:
    return {
        "host": cast.host,
        "attendant": cast.sun,
        "reviewer": cast.wu,
        "supervisor": cast.zheng,
        "member": cast.zhang,
        "leader": cast.li,
        "tenderer_rep": cast.zhao,
        "bidder": cast.bidder_a_user,
        "outsider": cast.outsider,
        "anonymous": AnonymousUser(),
    }


def allowed_actors(cast: Cast, name: str) -> list:
    t = TRANSITIONS[name]
    if t.cosign:
        return [cast.host, cast.zheng]
    return [cast.li if Role.LEADER in t.who else cast.host]


@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_each_transition_is_made_by_its_roles_and_audited(cast, name):
    session = arrange(cast, name)
    before = session.audit_seq
    old = session.phase
    for actor in allowed_actors(cast, name):
        result = actions.do_transition(session, actor, name, reason=REASONS.get(name, ""))
    assert result.changed
    session = cast.refresh()
    assert session.phase == EXPECTED_TARGET[name]
    event = AuditEvent.objects.filter(session=session).order_by("-seq").first()
    phase_event = AuditEvent.objects.get(session=session, kind="phase.changed", seq__gt=before)
    assert phase_event.payload["from"] == old and phase_event.payload["to"] == session.phase
    assert phase_event.payload["transition"] == name
    if name in REASONS:
        assert phase_event.payload["reason"] == REASONS[name]
    assert event is not None and session.audit_seq == event.seq
    assert verify_chain(session.pk).ok


@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_each_transition_is_refused_with_a_reason_for_every_other_role(cast, name):
    session = arrange(cast, name)
    who = TRANSITIONS[name].who
    refused = 0
    for label, person in personas(cast).items():
        roles = session_roles(person, session)  # type: ignore[arg-type]
        if roles & who:
            continue
        before = cast.refresh().audit_seq
        with pytest.raises(Refused) as info:
            actions.do_transition(session, person, name, reason=REASONS.get(name, "原因"))  # type: ignore[arg-type]
        assert info.value.code == "forbidden", label
        assert name in info.value.reason
        assert cast.refresh().audit_seq == before, f"{label}'s refusal wrote an event"
        refused += 1
    assert refused >= 6
    assert cast.refresh().phase == session.phase


@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_each_transition_is_refused_with_a_reason_in_every_other_phase(cast, name):
    advance_to(cast, Phase.PRELIMINARY_REVIEW)  # every role, the leader included, exists from here
    actor = allowed_actors(cast, name)[0]
    for phase in Phase:
        if phase in TRANSITIONS[name].sources:
            continue
        EvaluationSession.objects.filter(pk=cast.session.pk).update(phase=phase)  # arrangement only
        with pytest.raises(Refused) as info:
            actions.do_transition(cast.session, actor, name, reason=REASONS.get(name, "原因"))
        assert info.value.code == "wrong_phase", phase
        assert str(phase.label) in info.value.reason


def test_a_transition_that_needs_a_reason_is_refused_without_one(cast):
    advance_to(cast, Phase.DETAILED_REVIEW)
    for name, actor in (("roll_back", cast.li), ("suspend", cast.host), ("fail", cast.host), ("stop", cast.li)):
        with pytest.raises(Refused, match="reason is required"):
            actions.do_transition(cast.session, actor, name, reason="   ")
    assert cast.refresh().phase == Phase.DETAILED_REVIEW


def test_an_unknown_transition_is_refused(cast):
    with pytest.raises(Refused, match="unknown transition"):
        actions.do_transition(cast.session, cast.host, "skip_to_the_end")


def test_the_host_cannot_roll_a_phase_back_only_the_leader_can(cast):
    advance_to(cast, Phase.SUMMARY)
    with pytest.raises(Refused) as info:
        actions.do_transition(cast.session, cast.host, "roll_back", reason="想重来")
    assert info.value.code == "forbidden"
    actions.do_transition(cast.session, cast.li, "roll_back", reason="价格分需复核")
    assert cast.refresh().phase == Phase.DETAILED_REVIEW


def test_declarations_cannot_open_before_every_member_is_verified(cast):
    advance_to(cast, Phase.CHECK_IN)
    actions.do_verify_member(cast.session, cast.host, cast.member(cast.li).pk)
    with pytest.raises(Refused) as info:
        actions.do_transition(cast.session, cast.host, "open_declarations")
    assert info.value.code == "precondition"
    assert "张华" in info.value.reason and "李明" not in info.value.reason


def test_an_attendant_verifies_only_the_members_of_their_own_venue(cast):
    advance_to(cast, Phase.CHECK_IN)
    actions.do_verify_member(cast.session, cast.sun, cast.member(cast.zhang).pk, note="身份证 + 人脸比对通过")
    member = cast.member(cast.zhang)
    assert member.checked_in_by == cast.sun and member.check_in_note == "身份证 + 人脸比对通过"
    with pytest.raises(Refused, match="attendant of the member's venue"):
        actions.do_verify_member(cast.session, cast.sun, cast.member(cast.chen).pk)
    assert cast.member(cast.chen).checked_in_at is None


def test_the_review_cannot_open_before_the_bid_opening_record_is_imported(cast):
    advance_to(cast, Phase.LEADER_ELECTION)
    from tests.personas import elect

    elect(cast, cast.li)
    with pytest.raises(Refused, match="bid-opening record"):
        actions.do_transition(cast.session, cast.host, "open_preliminary_review")


def test_a_seal_waits_for_both_the_host_and_the_supervisor(cast):
    advance_to(cast, Phase.DETAILED_REVIEW)
    first = actions.do_transition(cast.session, cast.zheng, "seal")
    assert not first.changed and cast.refresh().phase == Phase.DETAILED_REVIEW
    with pytest.raises(Refused) as info:
        actions.do_transition(cast.session, cast.zheng, "seal")
    assert info.value.code == "pending"
    actions.do_transition(cast.session, cast.host, "seal")
    session = cast.refresh()
    assert session.phase == Phase.SEALED_OVERNIGHT and session.return_phase == Phase.DETAILED_REVIEW
    event = AuditEvent.objects.get(session=session, kind="phase.changed", payload__to="sealed_overnight")
    assert sorted(event.payload["signers"]) == ["wang_host", "zheng_supervisor"]


def test_unsealing_needs_a_fresh_identity_check_of_every_member(cast):
    advance_to(cast, Phase.DETAILED_REVIEW)
    actions.do_transition(cast.session, cast.host, "seal")
    actions.do_transition(cast.session, cast.zheng, "seal")
    with pytest.raises(Refused, match="identity not re-checked"):
        actions.do_transition(cast.session, cast.host, "unseal")
    verify_all(cast)
    actions.do_transition(cast.session, cast.host, "unseal")
    actions.do_transition(cast.session, cast.zheng, "unseal")
    session = cast.refresh()
    assert session.phase == Phase.DETAILED_REVIEW and session.return_phase == ""


def test_unsealing_is_refused_when_the_session_changed_while_sealed(cast):
    from django.db import transaction

    from evaluation.audit import record_event

    advance_to(cast, Phase.DETAILED_REVIEW)
    actions.do_transition(cast.session, cast.host, "seal")
    actions.do_transition(cast.session, cast.zheng, "seal")
    verify_all(cast)
    with transaction.atomic():  # a write that went around the seal
        tampered = record_event(cast.session, cast.host, "score.changed", {"cell": "A-1", "value": "9"})
    with pytest.raises(Refused, match=f"changed while sealed \\(event #{tampered.seq}\\)"):
        actions.do_transition(cast.session, cast.host, "unseal")


def test_a_suspension_records_its_cause_and_duration_and_resumes_the_same_phase(cast):
    advance_to(cast, Phase.LEADER_ELECTION)
    actions.do_transition(cast.session, cast.host, "suspend", reason="温州副场视频中断")
    assert cast.refresh().return_phase == Phase.LEADER_ELECTION
    actions.do_transition(cast.session, cast.host, "resume")
    assert cast.refresh().phase == Phase.LEADER_ELECTION
    suspension = Suspension.objects.get(session=cast.session)
    assert suspension.cause == "温州副场视频中断" and suspension.ended_by == cast.host
    resumed = AuditEvent.objects.get(session=cast.session, kind="phase.changed", payload__transition="resume")
    assert resumed.payload["suspended_seconds"] >= 0


def test_failing_records_the_reason_on_the_session(cast):
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    actions.do_transition(cast.session, cast.li, "fail", reason="通过初步评审的投标不足三家")
    session = cast.refresh()
    assert session.phase == Phase.FAILED and session.outcome_reason == "通过初步评审的投标不足三家"


def test_each_person_is_told_which_transitions_they_may_make_now_and_what_blocks_the_rest(cast):
    advance_to(cast, Phase.CHECK_IN)
    for_host = available_transitions(cast.host, cast.refresh())
    assert set(for_host) == {"open_declarations", "suspend", "fail", "stop"}
    blocked = for_host["open_declarations"]
    assert blocked is not None and blocked.code == "precondition" and "not yet verified" in blocked.reason
    assert for_host["suspend"] is None
    assert available_transitions(cast.zhang, cast.session) == {}
    advance_to(cast, Phase.DETAILED_REVIEW)
    assert set(available_transitions(cast.li, cast.refresh())) == {"roll_back", "fail", "stop"}
    assert set(available_transitions(cast.zheng, cast.session)) == {"seal"}
