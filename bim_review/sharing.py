"""The shared BIM view in the live room (issue 6, item 5): who sees models, who drives the view.

The host and the reviewer may always present; an expert only while holding the floor, which the host
gives and takes back. Giving the floor is audited: the latest ``bim.floor`` event of the session's
audit chain *is* the floor, so there is no second copy of it to drift from the evidence.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from bim_review.actions import RULES
from bim_review.models import BimModel
from evaluation.audit import record_event
from evaluation.events import broadcast
from evaluation.exceptions import Refused
from evaluation.models import AuditEvent, EvaluationSession
from evaluation.permissions import Actor, Role, require_role, signed_in
from evaluation.phases import not_in_phase

FLOOR_EVENT = "bim.floor"
# Who opens the viewer and follows the shared view; bidders and attendants never do.
VIEWER_ROLES = frozenset({Role.HOST, Role.REVIEWER, Role.SUPERVISOR, Role.MEMBER, Role.LEADER})
# Who presents without being given the floor.
PRESENTER_ROLES = frozenset({Role.HOST, Role.REVIEWER})


def current_floor(session_id: int) -> dict[str, Any] | None:
    """The expert holding the floor, ``{"member", "name", "by"}``, or None."""
    event = AuditEvent.objects.filter(session_id=session_id, kind=FLOOR_EVENT).order_by("-seq").only("payload").first()
    if event is None or event.payload.get("member") is None:
        return None
    return dict(event.payload)


def session_model_ids(session_id: int) -> frozenset[int]:
    """The BIM models of the bids of the session's lot: the only ones its room may show."""
    return frozenset(BimModel.objects.filter(bid__lot__sessions=session_id).values_list("pk", flat=True))


def may_present(roles: frozenset[Role], member: int | None, floor: dict[str, Any] | None) -> bool:
    if roles & PRESENTER_ROLES:
        return True
    return member is not None and floor is not None and floor.get("member") == member


@transaction.atomic
def do_give_floor(session_id: int, actor: Actor, member_id: int | None) -> None:
    """Give a seated member the floor, or take it back (``member_id`` None)."""
    session = EvaluationSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None:
        raise Refused(gettext("session %(pk)s does not exist") % {"pk": session_id}, code="not_found")
    rule = RULES["give_floor"]
    if session.phase not in rule.phases:
        raise Refused(not_in_phase(rule.name, session), code="wrong_phase")
    require_role(actor, session, rule.who, rule.name)
    data: dict[str, Any] = {"member": None, "name": "", "by": signed_in(actor).get_username()}
    holder = current_floor(session.pk)
    if member_id is not None and holder is not None and holder.get("member") == member_id:
        raise Refused(gettext("the member already holds the floor"), code="conflict")
    if member_id is not None:
        member = session.seated_members().filter(pk=member_id).select_related("user__expert").first()
        if member is None:
            raise Refused(
                gettext("member %(id)s is not seated on this committee") % {"id": member_id}, code="not_found"
            )
        data.update(member=member.pk, name=member.display_name)
    elif holder is None:
        raise Refused(gettext("nobody holds the floor"), code="conflict")
    event = record_event(session, actor, FLOOR_EVENT, data)
    broadcast(session.pk, FLOOR_EVENT, {**data, "at": event.at}, version=session.audit_seq)
