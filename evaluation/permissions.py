"""Who may do what in a session. Default deny: a user has a role in a session only if both

1. they belong to the role's Django group (the pool the center drew them from), and
2. the session names them: an assignment (host, attendant, reviewer, supervisor), a seat on the
   committee that is neither recused nor removed (member, leader), or a bid on the lot (bidder).

The tenderer's representative sits on the committee by appointment, without a pool group.
"""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AnonymousUser, User
from django.utils.translation import gettext

from evaluation.exceptions import Refused
from evaluation.models import Assignment, Bid, CommitteeMember, EvaluationSession, Phase, SessionRole
from evaluation.protocol import LotRules


class Role(StrEnum):
    HOST = "host"
    ATTENDANT = "attendant"
    REVIEWER = "reviewer"
    SUPERVISOR = "supervisor"
    MEMBER = "member"
    LEADER = "leader"
    BIDDER = "bidder"


# The Django group each role's holders belong to; leader is elected per session and has none.
ROLE_GROUPS: dict[Role, str] = {
    Role.HOST: "host",
    Role.ATTENDANT: "attendant",
    Role.REVIEWER: "reviewer",
    Role.SUPERVISOR: "supervisor",
    Role.MEMBER: "expert",
    Role.BIDDER: "bidder",
}
# Roles that see every seat of the committee; an attendant sees only their venue's seats.
WHOLE_COMMITTEE = frozenset({Role.HOST, Role.SUPERVISOR, Role.REVIEWER, Role.MEMBER, Role.LEADER})
# Roles that see the audit trail and, in anonymous review, the bidders behind the labels.
AUDIT_ROLES = frozenset({Role.HOST, Role.SUPERVISOR})
# DESIGN.md §6: in anonymous (暗标) review the bidder behind each label is revealed to the leader at summary.
REVEAL_TO_LEADER = frozenset({Phase.SUMMARY, Phase.SIGNING, Phase.ARCHIVED})

Actor = User | AnonymousUser


def signed_in(actor: Actor) -> User:
    if not isinstance(actor, User) or not actor.is_authenticated:
        raise Refused(gettext("sign in first"), code="forbidden")
    return actor


def user_groups(user: Actor) -> frozenset[str]:
    if not isinstance(user, User) or not user.is_authenticated:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_eval_groups", None)
    if cached is None:
        # Read once per user object: a request's user, or an action's actor.
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._eval_groups = cached  # type: ignore[attr-defined]
    return cached


def require_host_group(actor: Actor, refusal: str) -> User:
    """For work before or beside a session (creating one, importing a lot's record): a host, or a superuser."""
    user = signed_in(actor)
    if not (user.is_superuser or ROLE_GROUPS[Role.HOST] in user_groups(user)):
        raise Refused(refusal, code="forbidden")
    return user


def seat_of(user: Actor, session: EvaluationSession) -> CommitteeMember | None:
    """The user's seat on the session's committee, recused or not (None if they never sat)."""
    if not isinstance(user, User):
        return None
    return CommitteeMember.objects.filter(session=session, user=user).select_related("venue").first()


def session_roles(user: Actor, session: EvaluationSession) -> frozenset[Role]:
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    groups = user_groups(user)
    roles: set[Role] = set()
    for assignment in Assignment.objects.filter(session=session, user_id=user.pk):
        role = Role(assignment.role)
        if ROLE_GROUPS[role] in groups:
            roles.add(role)
    seat = seat_of(user, session)
    in_pool = seat is not None and (
        seat.kind == CommitteeMember.Kind.TENDERER_REP or ROLE_GROUPS[Role.MEMBER] in groups
    )
    if seat is not None and seat.is_seated and in_pool:
        roles.add(Role.MEMBER)
        if seat.role == CommitteeMember.Role.LEADER:
            roles.add(Role.LEADER)
    if ROLE_GROUPS[Role.BIDDER] in groups and Bid.objects.filter(lot=session.lot_id, bidder__users=user.pk).exists():
        roles.add(Role.BIDDER)
    return frozenset(roles)


def attendant_venue_ids(user: Actor, session: EvaluationSession) -> frozenset[int]:
    if ROLE_GROUPS[Role.ATTENDANT] not in user_groups(user):
        return frozenset()
    return frozenset(
        v
        for v in Assignment.objects.filter(
            session=session, user=signed_in(user), role=SessionRole.ATTENDANT
        ).values_list("venue_id", flat=True)
        if v is not None
    )


def require_role(user: Actor, session: EvaluationSession, allowed: frozenset[Role], action: str) -> frozenset[Role]:
    roles = session_roles(user, session)
    if not roles & allowed:
        names = "、".join(sorted(r.value for r in allowed))
        raise Refused(
            gettext("%(action)s: only %(roles)s may do this in this session") % {"action": action, "roles": names},
            code="forbidden",
        )
    return roles


def can_view_session(user: Actor, session: EvaluationSession) -> bool:
    """Anyone with a role in the session sees its page; a recused or removed member does not."""
    return bool(session_roles(user, session))


def bidder_names_visible(roles: frozenset[Role], session: EvaluationSession) -> bool:
    """May these roles see which bidder is behind each anonymous label (暗标)?"""
    if roles & AUDIT_ROLES:
        return True
    if not LotRules.parse(session.lot.rules).anonymous_technical_review:
        return True
    return Role.LEADER in roles and session.phase in REVEAL_TO_LEADER


def check_verifier(user: Actor, session: EvaluationSession, member: CommitteeMember) -> None:
    """The host verifies anyone; a venue attendant only the members seated in their venue."""
    roles = session_roles(user, session)
    if Role.HOST in roles:
        return
    if Role.ATTENDANT in roles and member.venue_id in attendant_venue_ids(user, session):
        return
    raise Refused(
        gettext("check-in: only the host or the attendant of the member's venue may verify"), code="forbidden"
    )
