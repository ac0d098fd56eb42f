"""Pages of the core: the landing page, a session's overview, and the second factor (TOTP).

Every page checks the user's role in the session it shows (evaluation.permissions); default deny.
"""

from __future__ import annotations

from base64 import b32encode
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from evaluation.actions import record_sealed_access
from evaluation.forms import TOTPCodeForm
from evaluation.models import (
    Bid,
    CommitteeMember,
    Declaration,
    EvaluationSession,
    SessionVenue,
    Venue,
)
from evaluation.permissions import (
    AUDIT_ROLES,
    WHOLE_COMMITTEE,
    Role,
    attendant_venue_ids,
    bidder_names_visible,
    can_view_session,
    session_roles,
)

# The landing page's groups, in this order; leader and member share the committee's group.
HOME_GROUPS: tuple[tuple[str, Promise], ...] = (
    ("host", _("我主持的评标会")),
    ("attendant", _("我负责核验的评标会")),
    ("reviewer", _("我参与 BIM 审查的评标会")),
    ("supervisor", _("我监督的评标会")),
    ("committee", _("我参加评审的评标会")),
    ("bidder", _("我投标的评标会")),
)
GROUP_OF_ROLE: dict[Role, str] = {
    Role.HOST: "host",
    Role.ATTENDANT: "attendant",
    Role.REVIEWER: "reviewer",
    Role.SUPERVISOR: "supervisor",
    Role.MEMBER: "committee",
    Role.LEADER: "committee",
    Role.BIDDER: "bidder",
}
# Roles that see the whole committee; an attendant sees only the seats of their own venue.
AUDIT_PAGE = 200


# --- the landing page ---------------------------------------------------------------------------


@dataclass
class SessionEntry:
    session: EvaluationSession
    main_venue: Venue | None
    is_leader: bool = False


@dataclass
class RoleGroup:
    key: str
    title: Promise
    entries: list[SessionEntry] = field(default_factory=list)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    candidates = (
        EvaluationSession.objects.filter(
            Q(assignments__user=user.pk) | Q(members__user=user.pk) | Q(lot__bids__bidder__users=user.pk)
        )
        .distinct()
        .select_related("lot__project")
        .prefetch_related("session_venues__venue")
        .order_by("scheduled_start", "id")
    )
    groups = {key: RoleGroup(key, title) for key, title in HOME_GROUPS}
    for session in candidates:
        # session_roles, not the query above, decides: a recused member or a user who left the
        # role's group is no longer listed.
        roles = session_roles(user, session)
        main = next((link.venue for link in session.session_venues.all() if link.kind == SessionVenue.Kind.MAIN), None)
        for key in sorted({GROUP_OF_ROLE[role] for role in roles}):
            groups[key].entries.append(SessionEntry(session, main, is_leader=Role.LEADER in roles))
    listed = [group for group in groups.values() if group.entries]
    return render(request, "evaluation/home.html", {"groups": listed})


# --- a session's overview -----------------------------------------------------------------------


@dataclass
class MemberRow:
    member: CommitteeMember
    declared: frozenset[str]

    @property
    def recusal_declared(self) -> bool:
        return Declaration.Kind.RECUSAL in self.declared

    @property
    def integrity_declared(self) -> bool:
        return Declaration.Kind.INTEGRITY in self.declared


@dataclass
class BidRow:
    label: str
    # None when the viewer may not know who is behind the label.
    bidder_name: str | None
    price: Decimal | None


@login_required
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = EvaluationSession.objects.select_related("lot__project").filter(pk=pk).first()
    # A missing session is refused like a foreign one, so ids cannot be probed.
    if session is None or not can_view_session(request.user, session):
        raise PermissionDenied
    roles = session_roles(request.user, session)
    if session.is_sealed:
        record_sealed_access(session, request.user, "session page")
        return render(request, "evaluation/session_sealed.html", {"session": session})

    is_bidder = Role.BIDDER in roles
    context: dict[str, object] = {
        "session": session,
        "main_venue": session.main_venue,
        "is_bidder": is_bidder,
        "names_visible": False,
        "members": [],
        "assignments": [],
        "venue_links": [],
        "audit_events": None,
    }
    # A bidder learns nothing about the people of the session: neither the committee, nor the staff,
    # nor the cities the experts sit in (DESIGN.md §6).
    if not is_bidder:
        context["venue_links"] = list(session.session_venues.select_related("venue").order_by("kind", "venue__city"))
        context["assignments"] = list(
            session.assignments.select_related("user", "venue").order_by("role", "user__username")
        )
        context["members"] = _visible_members(request, session, roles)

    bids = session.lot.bids.select_related("bidder").order_by("anonymous_label")
    if is_bidder:
        bids = bids.filter(bidder__users=request.user.pk)
    names_visible = is_bidder or bidder_names_visible(roles, session)
    context["names_visible"] = names_visible
    context["bids"] = [_bid_row(bid, names_visible) for bid in bids]

    if roles & AUDIT_ROLES and not is_bidder:
        events = list(session.audit_events.order_by("-seq")[:AUDIT_PAGE])
        context["audit_events"] = events
        context["audit_total"] = session.audit_seq
    return render(request, "evaluation/session_detail.html", context)


def _visible_members(request: HttpRequest, session: EvaluationSession, roles: frozenset[Role]) -> list[MemberRow]:
    members = session.members.select_related("user__expert", "venue").prefetch_related("declarations")
    if not roles & WHOLE_COMMITTEE:
        members = members.filter(venue_id__in=attendant_venue_ids(request.user, session))
    return [MemberRow(m, frozenset(d.kind for d in m.declarations.all())) for m in members]


def _bid_row(bid: Bid, names_visible: bool) -> BidRow:
    # The price goes with the name: the opening record lists both, so a price would reveal the bidder.
    if names_visible:
        return BidRow(bid.anonymous_label, bid.bidder.name, bid.price)
    return BidRow(bid.anonymous_label, None, None)


# --- the second factor --------------------------------------------------------------------------


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _redirect_keeping_next(request: HttpRequest, url_name: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse(url_name)}?{urlencode({'next': _next_url(request)})}")


def _pass_second_factor(request: HttpRequest, device: TOTPDevice) -> HttpResponseRedirect:
    # A new session key once the second factor is passed, so a key planted before it is worthless.
    request.session.cycle_key()
    otp_login(request, device)
    return HttpResponseRedirect(_next_url(request))


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    device = TOTPDevice.objects.filter(user=request.user.pk, confirmed=True).order_by("id").first()
    if device is None:
        return _redirect_keeping_next(request, "otp_setup")
    form = TOTPCodeForm(device, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        return _pass_second_factor(request, form.device)
    return render(request, "evaluation/otp_verify.html", {"form": form, "next": _next_url(request)})


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP device: show its secret as a QR code, confirm it with a first valid code.

    A user who already has a confirmed device verifies instead: replacing a device is the
    administrator's job, so a stolen password cannot swap in the thief's phone.
    """
    user = request.user
    if TOTPDevice.objects.filter(user=user.pk, confirmed=True).exists():
        return _redirect_keeping_next(request, "otp_verify")
    device = TOTPDevice.objects.filter(user=user.pk, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)
    form = TOTPCodeForm(device, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        device = form.device
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return _pass_second_factor(request, device)
    config_url = device.config_url
    # segno writes the SVG from our own otpauth URL only, so it is safe to inline.
    qr_svg = mark_safe(segno.make(config_url, error="m").svg_inline(scale=5, border=2, light="#fff"))
    context = {
        "form": form,
        "next": _next_url(request),
        "qr_svg": qr_svg,
        "secret": b32encode(device.bin_key).decode("ascii"),
        "issuer": settings.OTP_TOTP_ISSUER,
    }
    return render(request, "evaluation/otp_setup.html", context)
