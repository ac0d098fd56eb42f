"""The full state of a room as one user may see it, with the version it is consistent with.

A client applies the snapshot, then every event with a higher version; any gap it cannot fill it
repairs by asking for a new snapshot. Who the viewer is decides what is in it (DESIGN.md §6): an
attendant sees only their venue's seats; the audit feed is for the host and the supervisor.
Presence and raised hands are not in the database; the consumer adds them from the presence store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from bim_review.sharing import current_floor
from evaluation.declarations import RECUSAL_GROUNDS
from evaluation.exceptions import Refused
from evaluation.models import AuditEvent, CommitteeMember, ElectionRound, EvaluationSession, Phase, SessionVenue
from evaluation.permissions import (
    AUDIT_ROLES,
    WHOLE_COMMITTEE,
    Actor,
    Role,
    attendant_venue_ids,
    seat_of,
    session_roles,
)
from evaluation.phases import ACTIONS, available_transitions
from rooms.scoring_view import scoring_part

NOTICES = 50
CHAT = 200
AUDIT = 100
# Who reads the committee's discussion; only seated members write in it (ACTIONS["post_chat"]).
CHAT_READERS = frozenset({Role.MEMBER, Role.LEADER, Role.HOST, Role.SUPERVISOR, Role.REVIEWER})
SOCKET_ROLES = frozenset({Role.HOST, Role.ATTENDANT, Role.REVIEWER, Role.SUPERVISOR, Role.MEMBER, Role.LEADER})


@dataclass(frozen=True)
class Viewer:
    """Who is in the room: what the consumer keeps for filtering events without a query."""

    user: int
    username: str
    name: str
    roles: frozenset[Role]
    member: int | None
    venue: int | None
    attendant_venues: frozenset[int]

    @property
    def whole_committee(self) -> bool:
        return bool(self.roles & WHOLE_COMMITTEE)

    @property
    def reads_chat(self) -> bool:
        return bool(self.roles & CHAT_READERS)

    @property
    def reads_audit(self) -> bool:
        return bool(self.roles & AUDIT_ROLES)

    def addressed_by(self, venue: int | None) -> bool:
        """Is a notice to ``venue`` (None: to everyone) for this viewer? The host and supervisor read all."""
        return venue is None or self.reads_audit or venue == self.venue or venue in self.attendant_venues

    def sees_venue(self, venue: int | None) -> bool:
        """Does an event about a seat (or a notice) in ``venue`` concern this viewer?"""
        return venue is None or self.whole_committee or venue in self.attendant_venues or venue == self.venue


def admit(user: Actor, session_id: int) -> Viewer:
    """The viewer ``user`` is in the session's room, or ``Refused`` (not_found, forbidden)."""
    session = EvaluationSession.objects.filter(pk=session_id).first()
    if session is None:
        raise Refused(_("session %(pk)s does not exist") % {"pk": session_id}, code="not_found")
    roles = session_roles(user, session)
    if not roles & SOCKET_ROLES:
        raise Refused(_("you have no part in this session's room"), code="forbidden")
    assert isinstance(user, User)
    seat = seat_of(user, session) if roles & {Role.MEMBER, Role.LEADER} else None
    attendant = attendant_venue_ids(user, session) if Role.ATTENDANT in roles else frozenset()
    venue = seat.venue_id if seat else (min(attendant) if attendant else None)
    if venue is None and roles & {Role.HOST, Role.SUPERVISOR, Role.REVIEWER}:
        main = SessionVenue.objects.filter(session=session, kind=SessionVenue.Kind.MAIN).first()
        venue = main.venue_id if main else None
    return Viewer(
        user=user.pk,
        username=user.get_username(),
        name=seat.display_name if seat else (user.get_full_name() or user.get_username()),
        roles=roles,
        member=seat.pk if seat else None,
        venue=venue,
        attendant_venues=attendant,
    )


def head_version(session_id: int) -> int:
    return EvaluationSession.objects.filter(pk=session_id).values_list("audit_seq", flat=True).first() or 0


def _member_row(m: CommitteeMember, declared: set[str]) -> dict[str, Any]:
    return {
        "id": m.pk,
        "user": m.user_id,
        "name": m.display_name,
        "kind": m.kind,
        "venue": m.venue_id,
        "role": m.role,
        "checked_in_at": m.checked_in_at,
        "recused": m.recused_at is not None,
        "recusal_reason": m.recusal_reason,
        "removed": m.removed_at is not None,
        "declared": sorted(declared),
    }


def _election(session: EvaluationSession, viewer: Viewer) -> dict[str, Any] | None:
    current = ElectionRound.objects.filter(session=session).order_by("-number").first()
    if current is None:
        return None
    return {
        "round": current.number,
        "open": current.closed_at is None,
        "candidates": [{"member": c.pk, "name": c.display_name} for c in current.candidates.select_related("user")],
        "cast": current.receipts.count(),
        "seated": session.seated_members().count(),
        "voted": viewer.member is not None and current.receipts.filter(member_id=viewer.member).exists(),
        "tally": current.tally if current.closed_at else None,
    }


def _feed(session: EvaluationSession, kind: str, limit: int) -> list[dict[str, Any]]:
    events = AuditEvent.objects.filter(session=session, kind=kind).order_by("-seq")[:limit]
    return [{**e.payload, "at": e.at, "version": e.seq} for e in reversed(events)]


def _actions(session: EvaluationSession, roles: frozenset[Role]) -> list[str]:
    return [name for name, rule in ACTIONS.items() if session.phase in rule.phases and roles & rule.who]


def build(user: Actor, session_id: int, viewer: Viewer, language: str | None = None) -> tuple[int, dict[str, Any]]:
    """The room as ``viewer`` sees it now, and the version it is consistent with, its texts in ``language``.

    Read in one transaction, repeatable-read on PostgreSQL, so the version and the data agree.
    """
    with translation.override(language), transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        session = EvaluationSession.objects.select_related("lot__project").get(pk=session_id)
        roles = session_roles(user, session)
        viewer = Viewer(**{**viewer.__dict__, "roles": roles})
        members = session.members.select_related("user__expert", "venue").prefetch_related("declarations")
        if not viewer.whole_committee:
            members = members.filter(venue_id__in=viewer.attendant_venues)
        links = session.session_venues.select_related("venue").order_by("-kind", "venue__city")
        leader = session.leader()
        data: dict[str, Any] = {
            "session": {
                "id": session.pk,
                "title": str(session),
                "project": str(session.lot.project),
                "lot": f"{session.lot.code} {session.lot.name}",
                "phase": session.phase,
                "phase_label": str(Phase(session.phase).label),
                "return_phase": session.return_phase,
                "outcome_reason": session.outcome_reason,
                "sealed": session.is_sealed,
            },
            "me": {
                "user": viewer.user,
                "username": viewer.username,
                "name": viewer.name,
                "roles": sorted(r.value for r in roles),
                "member": viewer.member,
                "venue": viewer.venue,
                "attendant_venues": sorted(viewer.attendant_venues),
            },
            "venues": [
                {"id": link.venue_id, "city": link.venue.city, "center": link.venue.center, "kind": link.kind}
                for link in links
                if viewer.whole_committee or link.venue_id in viewer.attendant_venues
            ],
            "members": [_member_row(m, {d.kind for d in m.declarations.all()}) for m in members],
            "leader": leader.pk if leader else None,
            "election": _election(session, viewer) if viewer.whole_committee else None,
            "transitions": [
                {"name": name, "blocked": refusal.reason if refusal else None}
                for name, refusal in available_transitions(user, session).items()
            ],
            "actions": _actions(session, roles),
            "recusal_grounds": {code: str(text) for code, text in RECUSAL_GROUNDS.items()},
            "notices": [n for n in _feed(session, "host.notice", NOTICES) if viewer.addressed_by(n.get("venue"))],
            "chat": _feed(session, "chat.message", CHAT) if viewer.reads_chat and not session.is_sealed else [],
            "audit": None,
            # The expert who drives the shared BIM view, if the host gave anyone the floor.
            "floor": current_floor(session.pk),
        }
        if viewer.reads_audit:
            events = AuditEvent.objects.filter(session=session).order_by("-seq")[:AUDIT]
            data["audit"] = [
                {"version": e.seq, "kind": e.kind, "actor": e.actor_name, "at": e.at, "hash": e.hash[:12]}
                for e in reversed(events)
            ]
        data["scoring"] = (
            scoring_part(user, session, viewer.member, viewer.whole_committee) if isinstance(user, User) else None
        )
        if session.is_sealed:
            data["sealed_notice"] = _("评标会已封存：封存期间不能查看或修改评审数据。")
        return session.audit_seq, data
