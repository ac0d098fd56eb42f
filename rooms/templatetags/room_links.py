"""``{% room_links session %}``: the way into the live room for the viewer's roles in the session."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from bim_review.viewer import viewer_links
from evaluation.models import EvaluationSession
from evaluation.permissions import Role, session_roles
from rooms.views import CONSOLE_ROLES, ROOM_ROLES, VENUE_ROLES

register = template.Library()


def links_for(roles: frozenset[Role], session_id: int) -> list[tuple[str, Promise, str]]:
    """(url, label, id) of each room page these roles open, the most fitting first."""
    links: list[tuple[str, Promise, str]] = []
    if Role.HOST in roles:
        links.append((reverse("room_console", args=[session_id]), _("主持控制台"), "link-console"))
    elif roles & CONSOLE_ROLES:
        links.append((reverse("room_console", args=[session_id]), _("监督视图"), "link-console"))
    if roles & VENUE_ROLES:
        links.append((reverse("room_venue", args=[session_id]), _("场地核验"), "link-venue"))
    if roles & ROOM_ROLES:
        links.append((reverse("room", args=[session_id]), _("进入评标室"), "link-room"))
    return links


@register.inclusion_tag("rooms/_links.html", takes_context=True)
def room_links(context: dict[str, Any], session: EvaluationSession) -> dict[str, Any]:
    request = context.get("request")
    roles = session_roles(request.user, session) if request is not None else frozenset()
    return {"links": links_for(roles, session.pk) + viewer_links(roles, session)}
