"""State changes of a session. Each action, in one transaction:

1. locks the session row and checks the actor's role and the current phase (the tables of
   ``evaluation/phases.py``), refusing with a reason (``Refused``) otherwise;
2. writes the change and its audit event (``evaluation/audit.record_event``);
3. broadcasts to the session's room only after commit (``evaluation/events.broadcast``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from evaluation.audit import record_event
from evaluation.declarations import INTEGRITY_STATEMENT, RECUSAL_GROUNDS, RECUSAL_STATEMENT
from evaluation.events import broadcast
from evaluation.exceptions import Refused
from evaluation.models import (
    Assignment,
    Ballot,
    CommitteeMember,
    CoSignRequest,
    Declaration,
    ElectionRound,
    EvaluationSession,
    Lot,
    Phase,
    SessionRole,
    SessionVenue,
    Suspension,
    Venue,
    VoteReceipt,
)
from evaluation.permissions import (
    ROLE_GROUPS,
    Actor,
    Role,
    check_verifier,
    require_host_group,
    require_role,
    seat_of,
    signed_in,
    user_groups,
)
from evaluation.phases import ACTIONS, MAIN_LINE, TRANSITIONS, ActionRule, Transition, check_transition, not_in_phase
from evaluation.rules import RoundResult, tally_round

MAX_TEXT = 2000


def _lock(session: EvaluationSession | int) -> EvaluationSession:
    pk = session if isinstance(session, int) else session.pk
    try:
        return EvaluationSession.objects.select_for_update().select_related("lot__project").get(pk=pk)
    except EvaluationSession.DoesNotExist as exc:
        raise Refused(gettext("session %(pk)s does not exist") % {"pk": pk}, code="not_found") from exc


def _check_action(rule: ActionRule, actor: Actor, session: EvaluationSession) -> frozenset[Role]:
    if session.phase not in rule.phases:
        raise Refused(not_in_phase(rule.name, session), code="wrong_phase")
    return require_role(actor, session, rule.who, rule.name)


def _text(value: str, what: str | Promise, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise Refused(gettext("%(what)s is required") % {"what": what}, code="invalid")
    if len(value) > MAX_TEXT:
        raise Refused(
            gettext("%(what)s is longer than %(max)s characters") % {"what": what, "max": MAX_TEXT}, code="invalid"
        )
    return value


def _member(session: EvaluationSession, member_id: int) -> CommitteeMember:
    member = CommitteeMember.objects.filter(session=session, pk=member_id).select_related("user", "venue").first()
    if member is None:
        raise Refused(gettext("member %(id)s is not on this committee") % {"id": member_id}, code="not_found")
    return member


def _member_data(member: CommitteeMember) -> dict[str, Any]:
    return {"member": member.pk, "name": member.display_name, "venue": member.venue_id}


# --- sessions -----------------------------------------------------------------------------------


@transaction.atomic
def create_session(
    actor: Actor,
    lot: Lot,
    *,
    scheduled_start: datetime,
    main_venue: Venue,
    sub_venues: list[Venue] | tuple[Venue, ...] = (),
    title: str = "",
    host: User | None = None,
    re_evaluation_of: EvaluationSession | None = None,
) -> EvaluationSession:
    """Open a session for a lot; the lot must have no session, or only finished ones linked in a chain."""
    creator = require_host_group(actor, "only a host creates evaluation sessions")
    host = host or creator
    if ROLE_GROUPS[Role.HOST] not in user_groups(host):
        raise Refused("the session's host must be in the host group", code="invalid")
    latest = EvaluationSession.objects.select_for_update().filter(lot=lot).order_by("-id").first()
    if latest is not None and latest != re_evaluation_of:
        raise Refused("the lot already has a session; a new one is only a re-evaluation of the latest", code="invalid")
    if main_venue in sub_venues:
        raise Refused("the main venue cannot also be a sub-venue", code="invalid")
    session = EvaluationSession.objects.create(
        lot=lot,
        title=_text(title, gettext_lazy("title"), required=False) or str(lot),
        scheduled_start=scheduled_start,
        re_evaluation_of=re_evaluation_of,
        phase_changed_at=timezone.now(),
    )
    SessionVenue.objects.create(session=session, venue=main_venue, kind=SessionVenue.Kind.MAIN)
    for venue in sub_venues:
        SessionVenue.objects.create(session=session, venue=venue, kind=SessionVenue.Kind.SUB)
    record_event(
        session,
        actor,
        "session.created",
        {
            "lot": lot.pk,
            "lot_code": lot.code,
            "project": lot.project.code,
            "scheduled_start": scheduled_start,
            "main_venue": main_venue.pk,
            "sub_venues": [v.pk for v in sub_venues],
            "re_evaluation_of": re_evaluation_of.pk if re_evaluation_of else None,
        },
    )
    _add_assignment(actor, session, host, SessionRole.HOST, main_venue)
    return session


def assign(
    actor: Actor, session: EvaluationSession, user: User, role: SessionRole, *, venue: Venue | None = None
) -> Assignment:
    """Assign a host, attendant, reviewer or supervisor; one role per person per session."""
    with transaction.atomic():
        session = _lock(session)
        if not signed_in(actor).is_superuser:
            require_role(actor, session, frozenset({Role.HOST}), "assign")
        return _add_assignment(actor, session, user, role, venue)


def _add_assignment(
    actor: Actor, session: EvaluationSession, user: User, role: SessionRole, venue: Venue | None
) -> Assignment:
    if ROLE_GROUPS[Role(role)] not in user_groups(user):
        raise Refused(f"{user.get_username()} is not in the {role} group", code="invalid")
    if Assignment.objects.filter(session=session, user=user).exists() or seat_of(user, session) is not None:
        raise Refused(f"{user.get_username()} already has a role in this session", code="conflict")
    if role == SessionRole.ATTENDANT and (
        venue is None or not SessionVenue.objects.filter(session=session, venue=venue).exists()
    ):
        raise Refused("an attendant is assigned to one of the session's venues", code="invalid")
    assignment = Assignment.objects.create(session=session, user=user, role=role, venue=venue)
    record_event(
        session,
        actor,
        "assignment.added",
        {
            "user": user.pk,
            "username": user.get_username(),
            "role": role,
            "venue": venue.pk if venue else None,
        },
    )
    broadcast(session.pk, "assignment.added", {"user": user.pk, "role": role}, version=session.audit_seq)
    return assignment


# --- the phase machine --------------------------------------------------------------------------


@dataclass(frozen=True)
class TransitionResult:
    session: EvaluationSession
    # False when the transition waits for its second signature (co-signed transitions).
    changed: bool


def _cosign(t: Transition, actor: Actor, session: EvaluationSession, roles: frozenset[Role]) -> list[str] | None:
    """Record one signature of a two-person transition; return both signers once complete."""
    mine = sorted(roles & t.cosign)[0]
    pending = CoSignRequest.objects.filter(session=session, transition=t.name).select_related("requested_by").first()
    if pending is not None and pending.requested_role != mine:
        signers = [pending.requested_by.get_username(), actor.get_username()]
        pending.delete()
        return signers
    if pending is not None:
        raise Refused(
            gettext("%(name)s: already signed by the %(role)s; waiting for the other signer")
            % {"name": t.name, "role": mine},
            code="pending",
        )
    CoSignRequest.objects.create(
        session=session,
        transition=t.name,
        requested_by=signed_in(actor),
        requested_role=mine,
        requested_at=timezone.now(),
    )
    record_event(session, actor, "cosign.requested", {"transition": t.name, "role": mine})
    broadcast(session.pk, "cosign.requested", {"transition": t.name, "role": mine}, version=session.audit_seq)
    return None


def _target(t: Transition, session: EvaluationSession) -> Phase:
    if t.target is not None:
        return t.target
    if t.name == "roll_back":
        return MAIN_LINE[MAIN_LINE.index(Phase(session.phase)) - 1]
    if not session.return_phase:
        raise Refused(gettext("%(name)s: no phase stored to return to") % {"name": t.name}, code="invalid")
    return Phase(session.return_phase)


@transaction.atomic
def do_transition(session: EvaluationSession | int, actor: Actor, name: str, *, reason: str = "") -> TransitionResult:
    session = _lock(session)
    roles = check_transition(actor, session, name)
    t = TRANSITIONS[name]
    reason = _text(reason, gettext_lazy("a reason"), required=t.needs_reason)
    signers = _cosign(t, actor, session, roles) if t.cosign else [actor.get_username()]
    if signers is None:
        return TransitionResult(session, changed=False)

    old, new, now = Phase(session.phase), _target(t, session), timezone.now()
    payload: dict[str, Any] = {"transition": name, "from": old, "to": new, "signers": signers}
    if reason:
        payload["reason"] = reason
    if new in (Phase.SEALED_OVERNIGHT, Phase.SUSPENDED):
        session.return_phase = old
    elif old in (Phase.SEALED_OVERNIGHT, Phase.SUSPENDED):
        session.return_phase = ""
    if new == Phase.SEALED_OVERNIGHT:
        # The head the seal covers; unsealing checks the chain still leads to it unchanged.
        payload["sealed_head"] = session.audit_head
    if new == Phase.SUSPENDED:
        Suspension.objects.create(session=session, cause=reason, started_at=now, started_by=signed_in(actor))
    if old == Phase.SUSPENDED:
        suspension = Suspension.objects.filter(session=session, ended_at__isnull=True).order_by("-started_at").first()
        if suspension is not None:
            suspension.ended_at, suspension.ended_by = now, signed_in(actor)
            suspension.save(update_fields=["ended_at", "ended_by"])
            payload["suspended_seconds"] = int((now - suspension.started_at).total_seconds())
    if new in (Phase.FAILED, Phase.STOPPED):
        session.outcome_reason = reason
    CoSignRequest.objects.filter(session=session).delete()
    session.phase, session.phase_changed_at = new, now
    session.save(update_fields=["phase", "return_phase", "phase_changed_at", "outcome_reason"])
    record_event(session, actor, "phase.changed", payload)
    broadcast(
        session.pk,
        "phase.changed",
        {
            "from": old,
            "to": new,
            "transition": name,
            "reason": reason,
            "return_phase": session.return_phase,
        },
        version=session.audit_seq,
    )
    if name == "open_election":
        # After the phase change's broadcast: each event goes out with its own version, in order.
        _open_round(session, actor, 1, _eligible_candidates(session))
    return TransitionResult(session, changed=True)


# --- the committee ------------------------------------------------------------------------------


@transaction.atomic
def do_verify_member(
    session: EvaluationSession | int, actor: Actor, member_id: int, *, note: str = ""
) -> CommitteeMember:
    """Record the identity check (ID + face by video) of a seated member."""
    session, member = _seated_member_for("verify_member", session, actor, member_id)
    check_verifier(actor, session, member)
    member.checked_in_at, member.checked_in_by = timezone.now(), signed_in(actor)
    member.check_in_note = _text(note, gettext_lazy("the check-in note"), required=False) or "身份证件与人脸视频核验"
    member.save(update_fields=["checked_in_at", "checked_in_by", "check_in_note"])
    data = {
        **_member_data(member),
        "note": member.check_in_note,
        "again": session.is_sealed,
        "at": member.checked_in_at,
    }
    record_event(session, actor, "member.checked_in", data)
    broadcast(session.pk, "member.checked_in", data, version=session.audit_seq)
    return member


def _recuse(session: EvaluationSession, actor: Actor, member: CommitteeMember, reason: str) -> None:
    member.recused_at, member.recusal_reason = timezone.now(), reason
    if member.role == CommitteeMember.Role.LEADER:
        member.role = CommitteeMember.Role.MEMBER
    member.save(update_fields=["recused_at", "recusal_reason", "role"])
    data = {**_member_data(member), "reason": reason}
    record_event(session, actor, "member.recused", data)
    broadcast(session.pk, "member.recused", data, version=session.audit_seq)


@transaction.atomic
def do_declare(
    session: EvaluationSession | int, actor: Actor, kind: str, *, grounds: list[str] | None = None, details: str = ""
) -> Declaration:
    """The member's own declaration. Any recusal ground locks the member out of the session."""
    session = _lock(session)
    _check_action(ACTIONS["declare"], actor, session)
    member = seat_of(actor, session)
    assert member is not None  # require_role(MEMBER) found the seat
    if kind not in Declaration.Kind.values:
        raise Refused(gettext("unknown declaration %(kind)r") % {"kind": kind}, code="invalid")
    grounds = list(dict.fromkeys(grounds or []))
    unknown = [g for g in grounds if g not in RECUSAL_GROUNDS]
    if unknown or (grounds and kind != Declaration.Kind.RECUSAL):
        raise Refused(gettext("unknown recusal grounds: %(grounds)s") % {"grounds": unknown or grounds}, code="invalid")
    if Declaration.objects.filter(member=member, kind=kind).exists():
        raise Refused(gettext("the %(kind)s declaration has already been made") % {"kind": kind}, code="conflict")
    details = _text(details, gettext_lazy("details"), required="other_interest" in grounds)
    text = str(RECUSAL_STATEMENT if kind == Declaration.Kind.RECUSAL else INTEGRITY_STATEMENT)
    declaration = Declaration.objects.create(
        member=member, kind=kind, text=text, grounds=grounds, details=details, declared_at=timezone.now()
    )
    data = {**_member_data(member), "kind": kind, "grounds": grounds}
    record_event(session, actor, "declaration.made", {**data, "details": details, "text": text})
    broadcast(session.pk, "declaration.made", {**data, "recused": bool(grounds)}, version=session.audit_seq)
    if grounds:
        # The reason is evidence: kept in the official language, whatever the member's page showed.
        with translation.override(settings.LANGUAGE_CODE):
            reason = "；".join(str(RECUSAL_GROUNDS[g]) for g in grounds)
        _recuse(session, actor, member, reason)
    return declaration


def _seated_member_for(
    action: str, session: EvaluationSession | int, actor: Actor, member_id: int
) -> tuple[EvaluationSession, CommitteeMember]:
    locked = _lock(session)
    _check_action(ACTIONS[action], actor, locked)
    member = _member(locked, member_id)
    if not member.is_seated:
        raise Refused(gettext("%(name)s is no longer seated") % {"name": member.display_name}, code="invalid")
    return locked, member


@transaction.atomic
def do_recuse_member(session: EvaluationSession | int, actor: Actor, member_id: int, *, reason: str) -> CommitteeMember:
    session, member = _seated_member_for("recuse_member", session, actor, member_id)
    _recuse(session, actor, member, _text(reason, gettext_lazy("a reason")))
    return member


@transaction.atomic
def do_remove_member(session: EvaluationSession | int, actor: Actor, member_id: int, *, reason: str) -> CommitteeMember:
    session, member = _seated_member_for("remove_member", session, actor, member_id)
    member.removed_at = timezone.now()
    member.save(update_fields=["removed_at"])
    data = {**_member_data(member), "reason": _text(reason, gettext_lazy("a reason"))}
    record_event(session, actor, "member.removed", data)
    broadcast(session.pk, "member.removed", data, version=session.audit_seq)
    return member


@transaction.atomic
def do_readmit_member(
    session: EvaluationSession | int, actor: Actor, member_id: int, *, reason: str
) -> CommitteeMember:
    """Seat again a member the host removed: only the host lets a removed participant back in."""
    session = _lock(session)
    _check_action(ACTIONS["readmit_member"], actor, session)
    member = _member(session, member_id)
    if member.removed_at is None:
        raise Refused(gettext("%(name)s was not removed") % {"name": member.display_name}, code="invalid")
    if member.recused_at is not None or hasattr(member, "replaced_by"):
        raise Refused(gettext("%(name)s has recused or been replaced") % {"name": member.display_name}, code="conflict")
    member.removed_at = None
    member.save(update_fields=["removed_at"])
    data = {**_member_data(member), "reason": _text(reason, gettext_lazy("a reason"))}
    record_event(session, actor, "member.readmitted", data)
    broadcast(session.pk, "member.readmitted", data, version=session.audit_seq)
    return member


@transaction.atomic
def do_post_notice(session: EvaluationSession | int, actor: Actor, text: str, *, venue_id: int | None = None) -> None:
    """The host's notice to the room or to one venue."""
    session = _lock(session)
    _check_action(ACTIONS["post_notice"], actor, session)
    if venue_id is not None and not SessionVenue.objects.filter(session=session, venue_id=venue_id).exists():
        raise Refused(gettext("venue %(id)s is not a venue of this session") % {"id": venue_id}, code="invalid")
    data = {"text": _text(text, gettext_lazy("the notice")), "venue": venue_id, "by": signed_in(actor).get_username()}
    event = record_event(session, actor, "host.notice", data)
    broadcast(session.pk, "host.notice", {**data, "at": event.at}, version=session.audit_seq)


@transaction.atomic
def do_post_chat(session: EvaluationSession | int, actor: Actor, text: str) -> None:
    """A line of committee discussion, kept as evidence."""
    session = _lock(session)
    _check_action(ACTIONS["post_chat"], actor, session)
    member = seat_of(actor, session)
    assert member is not None  # require_role(MEMBER) found the seat
    data = {**_member_data(member), "text": _text(text, gettext_lazy("the message"))}
    event = record_event(session, actor, "chat.message", data)
    broadcast(session.pk, "chat.message", {**data, "at": event.at}, version=session.audit_seq)


@transaction.atomic
def do_add_member(
    session: EvaluationSession | int,
    actor: Actor,
    user: User,
    *,
    venue: Venue,
    kind: str = CommitteeMember.Kind.EXPERT,
    replaces_id: int | None = None,
) -> CommitteeMember:
    """Seat a member (or the replacement of a recused or removed one)."""
    session = _lock(session)
    _check_action(ACTIONS["add_member"], actor, session)
    if kind not in CommitteeMember.Kind.values:
        raise Refused(f"unknown member kind {kind!r}", code="invalid")
    if kind == CommitteeMember.Kind.EXPERT and ROLE_GROUPS[Role.MEMBER] not in user_groups(user):
        raise Refused(f"{user.get_username()} is not in the expert pool", code="invalid")
    if kind == CommitteeMember.Kind.EXPERT and not hasattr(user, "expert"):
        raise Refused(f"{user.get_username()} has no expert profile", code="invalid")
    if seat_of(user, session) is not None or Assignment.objects.filter(session=session, user=user).exists():
        raise Refused(f"{user.get_username()} already has a role in this session", code="conflict")
    if not SessionVenue.objects.filter(session=session, venue=venue).exists():
        raise Refused(f"{venue} is not a venue of this session", code="invalid")
    previous = session.re_evaluation_of
    if previous is not None and CommitteeMember.objects.filter(session=previous, user=user).exists():
        raise Refused("a re-evaluation needs a new committee: this person sat on the previous one", code="conflict")
    replaces = None
    if replaces_id is not None:
        replaces = _member(session, replaces_id)
        if replaces.is_seated or hasattr(replaces, "replaced_by"):
            raise Refused("only a recused or removed member, not yet replaced, can be replaced", code="invalid")
    member = CommitteeMember.objects.create(session=session, user=user, kind=kind, venue=venue, replaces=replaces)
    data = {**_member_data(member), "kind": kind, "replaces": replaces_id}
    record_event(session, actor, "member.added", data)
    broadcast(session.pk, "member.added", data, version=session.audit_seq)
    return member


# --- the leader election ------------------------------------------------------------------------


def _eligible_candidates(session: EvaluationSession) -> list[CommitteeMember]:
    """Seated members; in government procurement, not the purchaser's representative (Order 87 Art. 45)."""
    members = session.seated_members()
    if session.lot.is_gov_procurement:
        members = members.exclude(kind=CommitteeMember.Kind.TENDERER_REP)
    return list(members.select_related("user"))


def _open_round(session: EvaluationSession, actor: Actor, number: int, candidates: list[CommitteeMember]) -> None:
    election_round = ElectionRound.objects.create(session=session, number=number)
    election_round.candidates.set(candidates)
    data = {"round": number, "candidates": [_member_data(c) for c in candidates]}
    record_event(session, actor, "election.round_opened", data)
    broadcast(session.pk, "election.round_opened", data, version=session.audit_seq)


@transaction.atomic
def do_cast_vote(session: EvaluationSession | int, actor: Actor, candidate_id: int | None) -> None:
    """One secret ballot; the last ballot of a round counts it (rules.tally_round)."""
    session = _lock(session)
    _check_action(ACTIONS["cast_vote"], actor, session)
    voter = seat_of(actor, session)
    assert voter is not None
    current = ElectionRound.objects.filter(session=session, closed_at__isnull=True).order_by("-number").first()
    if current is None:
        raise Refused(gettext("no election round is open"), code="invalid")
    if VoteReceipt.objects.filter(round=current, member=voter).exists():
        raise Refused(gettext("you have already voted in round %(round)s") % {"round": current.number}, code="conflict")
    candidates = {c.pk: c for c in current.candidates.select_related("user")}
    if candidate_id is not None and candidate_id not in candidates:
        raise Refused(
            gettext("member %(id)s is not a candidate in round %(round)s")
            % {"id": candidate_id, "round": current.number},
            code="invalid",
        )
    VoteReceipt.objects.create(round=current, member=voter)
    Ballot.objects.create(round=current, candidate_id=candidate_id)
    seated = session.seated_members().count()
    cast = current.receipts.count()
    data = {"round": current.number, "cast": cast, "seated": seated}
    record_event(session, actor, "vote.cast", data)
    broadcast(session.pk, "vote.cast", data, version=session.audit_seq)
    if cast >= seated:
        _close_round(session, actor, current, candidates, seated)


def _close_round(
    session: EvaluationSession,
    actor: Actor,
    current: ElectionRound,
    candidates: dict[int, CommitteeMember],
    seated: int,
) -> None:
    votes: dict[int, int] = {}
    blank = 0
    for candidate_id in current.ballots.values_list("candidate_id", flat=True):
        if candidate_id is None:
            blank += 1
        else:
            votes[candidate_id] = votes.get(candidate_id, 0) + 1
    outcome = tally_round(votes, sorted(candidates), seated, current.number)
    current.closed_at = timezone.now()
    current.tally = {**{str(c): votes.get(c, 0) for c in sorted(candidates)}, "blank": blank}
    current.save(update_fields=["closed_at", "tally"])
    closed = {
        "round": current.number,
        "tally": current.tally,
        "result": outcome.result,
        "candidates": list(outcome.candidates),
    }
    record_event(session, actor, "election.round_closed", closed)
    broadcast(session.pk, "election.round_closed", closed, version=session.audit_seq)
    if outcome.result == RoundResult.RUNOFF:
        _open_round(session, actor, current.number + 1, [candidates[c] for c in outcome.candidates])
        return
    how = "majority"
    winner_id = outcome.candidates[0]
    if outcome.result == RoundResult.DRAW:
        winner_id = secrets.SystemRandom().choice(outcome.candidates)
        how = "draw"
    winner = candidates[winner_id]
    winner.role = CommitteeMember.Role.LEADER
    winner.save(update_fields=["role"])
    data = {**_member_data(winner), "round": current.number, "by": how, "among": list(outcome.candidates)}
    record_event(session, actor, "leader.elected", data)
    broadcast(session.pk, "leader.elected", data, version=session.audit_seq)


# --- re-evaluation ------------------------------------------------------------------------------


@transaction.atomic
def do_re_evaluate(
    session: EvaluationSession | int, actor: Actor, *, scheduled_start: datetime, reason: str
) -> EvaluationSession:
    """A new session of the same lot, linked to this one, with the same venues and a new committee."""
    old = _lock(session)
    _check_action(ACTIONS["re_evaluate"], actor, old)
    if EvaluationSession.objects.filter(re_evaluation_of=old).exists():
        raise Refused("this session has already been re-evaluated", code="conflict")
    reason = _text(reason, gettext_lazy("a reason"))
    links = list(old.session_venues.select_related("venue"))
    main = next(link.venue for link in links if link.kind == SessionVenue.Kind.MAIN)
    subs = [link.venue for link in links if link.kind == SessionVenue.Kind.SUB]
    new = create_session(
        actor,
        old.lot,
        scheduled_start=scheduled_start,
        main_venue=main,
        sub_venues=subs,
        title=f"{old.title}（重新评审）",
        re_evaluation_of=old,
    )
    # The staff carry over (the host is already assigned); the committee does not.
    for staff in old.assignments.exclude(role=SessionRole.HOST).select_related("user", "venue"):
        _add_assignment(actor, new, staff.user, SessionRole(staff.role), staff.venue)
    record_event(old, actor, "re_evaluation.created", {"new_session": new.pk, "reason": reason})
    broadcast(old.pk, "re_evaluation.created", {"new_session": new.pk}, version=old.audit_seq)
    return new


# --- refusals that are evidence -----------------------------------------------------------------


def record_sealed_access(session: EvaluationSession | int, actor: Actor, what: str) -> None:
    """Log an attempt to read or write a sealed session's data (DESIGN.md §6), in its own transaction.

    The caller refuses the access; this only keeps the attempt. It is seal-neutral: unsealing does
    not count it as a change of the sealed data.
    """
    with transaction.atomic():
        session = _lock(session)
        if not session.is_sealed:
            return
        data = {"what": what[:200], "by": actor.get_username() if actor.is_authenticated else ""}
        record_event(session, actor, "sealed.access_refused", {"what": data["what"]})
        broadcast(session.pk, "sealed.access_refused", data, version=session.audit_seq)
