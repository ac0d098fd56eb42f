"""The room's pages: shells the room socket fills (rooms/consumers.py), one per way of taking part.

- the room (``/sessions/<id>/room/``): committee members, the reviewer, the host and the supervisor;
- the host console (``/sessions/<id>/console/``): the host with controls, the supervisor watching;
- the venue view (``/sessions/<id>/venue/``): a sub-venue's attendant, their venue's seats only.

Each page checks the user's role in the session (default deny); a missing session is refused like a
foreign one, so ids cannot be probed. The pages show no evaluation data themselves: the socket sends
what the viewer may see (rooms/snapshot.py), so a sealed session's room opens as a shell too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from evaluation.declarations import INTEGRITY_STATEMENT, RECUSAL_GROUNDS, RECUSAL_STATEMENT
from evaluation.models import CommitteeMember, EvaluationSession, Phase, SessionVenue
from evaluation.permissions import Role, session_roles
from evaluation.phases import TRANSITIONS
from rooms import media
from scoring.ui import sheet_strings

ROOM_ROLES = frozenset({Role.MEMBER, Role.LEADER, Role.REVIEWER, Role.HOST, Role.SUPERVISOR})
CONSOLE_ROLES = frozenset({Role.HOST, Role.SUPERVISOR})
VENUE_ROLES = frozenset({Role.ATTENDANT})
HAND_ROLES = frozenset({Role.MEMBER, Role.LEADER, Role.REVIEWER})

TRANSITION_LABELS: dict[str, Promise] = {
    "open_check_in": _("开始签到核验"),
    "open_declarations": _("开始回避声明"),
    "open_election": _("开始推选组长"),
    "open_preliminary_review": _("开始初步评审"),
    "open_detailed_review": _("开始详细评审"),
    "open_summary": _("开始汇总"),
    "finalise": _("确认评审结果"),
    "archive": _("归档"),
    "roll_back": _("退回上一阶段"),
    "seal": _("隔夜封存评标会"),
    "unseal": _("启封"),
    "suspend": _("暂停评标"),
    "resume": _("恢复评标"),
    "fail": _("宣布废标"),
    "stop": _("宣布终止评标"),
}

# Why the socket closed, by close code (rooms/consumers.Close): these are final, the page stops retrying.
CLOSE_REASONS: dict[str, Promise] = {
    "4401": _("您尚未登录或登录已过期，请重新登录后再进入。"),
    "4402": _("请先完成双因素认证，再进入评标室。"),
    "4403": _("您无权进入此评标室（可能已回避或角色已变更）。"),
    "4404": _("此评标会不存在。"),
    "4409": _("您已被主持人移出评标室。"),
}

# Every text the room's scripts show, in the page's language (rendered as JSON into the page).
UI_STRINGS: dict[str, Promise] = {
    "connecting": _("正在连接…"),
    "connected": _("已连接"),
    "reconnecting": _("连接已断开，正在重连…"),
    "closed": _("连接已关闭。"),
    "not_connected": _("未连接：请等待重连后再试。"),
    "lost_request": _("连接中断，请求可能未送达，请重试。"),
    "active": _("在线"),
    "idle": _("离开"),
    "disconnected": _("已断开"),
    "leader": _("组长"),
    "checked_in": _("已核验"),
    "not_checked_in": _("未核验"),
    "recused": _("已回避"),
    "removed": _("已移出"),
    "seated": _("在席"),
    "declared_recusal": _("回避声明"),
    "declared_integrity": _("廉洁承诺"),
    "hand_raised": _("举手"),
    "raise_hand": _("举手"),
    "lower_hand": _("放下手"),
    "typing": _("正在输入："),
    "everyone": _("全体"),
    "me": _("我"),
    "no_members": _("没有可显示的委员会成员。"),
    "no_notices": _("暂无通知。"),
    "no_chat": _("暂无讨论。"),
    "no_hands": _("无人举手。"),
    "no_transitions": _("当前没有您可以进行的阶段操作。"),
    "blocked": _("暂不可用："),
    "reason": _("原因"),
    "reason_required": _("请填写原因。"),
    "verify": _("核验"),
    "verify_again": _("重新核验"),
    "verify_note": _("核验备注"),
    "remove": _("移出"),
    "readmit": _("重新准入"),
    "my_check_in_done": _("您的身份已核验。"),
    "my_check_in_pending": _("等待核验：请在摄像头前出示身份证件，由主持人或本场地核验人员核验。"),
    "declaration_done": _("已提交"),
    "declaration_pending": _("待提交"),
    "election_round": _("第 {round} 轮"),
    "election_progress": _("已投 {cast} / {seated} 票"),
    "election_voted": _("您已投票，等待其他成员。"),
    "election_closed": _("本轮已结束。"),
    "election_none": _("选举尚未开始。"),
    "blank_ballot": _("弃权（空白票）"),
    "tally_blank": _("空白票"),
    "venue_main": _("主场"),
    "venue_sub": _("副场"),
    "others_online": _("其他在线人员"),
    "audit_actor_unknown": _("—"),
    "sealed": _("评标会已封存：封存期间不能查看或修改评审数据。"),
    "return_phase": _("恢复后回到："),
    "error": _("出错"),
    "sign_in_again": _("重新登录"),
    "pass_second_factor": _("进行双因素认证"),
    "col_name": _("姓名"),
    "col_kind": _("身份"),
    "col_presence": _("在线状态"),
    "col_check_in": _("签到核验"),
    "col_declarations": _("声明"),
    "col_status": _("状态"),
    "col_controls": _("操作"),
}

KIND_LABELS: dict[str, Promise] = {str(k.value): k.label for k in CommitteeMember.Kind}
ROLE_LABELS: dict[str, Promise] = {
    Role.HOST: _("主持人"),
    Role.ATTENDANT: _("场地核验员"),
    Role.REVIEWER: _("BIM 审查员"),
    Role.SUPERVISOR: _("监督人员"),
    Role.MEMBER: _("评标专家"),
    Role.LEADER: _("组长"),
}


def _strings() -> dict[str, Any]:
    """The page's texts for its scripts; DjangoJSONEncoder (json_script) renders the lazy ones."""
    return {
        "ui": UI_STRINGS,
        "phases": {str(p.value): p.label for p in Phase},
        "transitions": TRANSITION_LABELS,
        "needs_reason": sorted(name for name, t in TRANSITIONS.items() if t.needs_reason),
        "close": CLOSE_REASONS,
        "grounds": RECUSAL_GROUNDS,
        "kinds": KIND_LABELS,
        "roles": ROLE_LABELS,
        "venue_kinds": {str(k.value): k.label for k in SessionVenue.Kind},
        "media": media.MEDIA_STRINGS,
        "scoring": sheet_strings(),
    }


def _session_for(request: HttpRequest, pk: int, allowed: frozenset[Role]) -> tuple[EvaluationSession, frozenset[Role]]:
    session = EvaluationSession.objects.select_related("lot__project").filter(pk=pk).first()
    # A missing session is refused like a foreign one, so ids cannot be probed.
    if session is None:
        raise PermissionDenied
    roles = session_roles(request.user, session)
    if not roles & allowed:
        raise PermissionDenied
    return session, roles


def _render(
    request: HttpRequest,
    template: str,
    session: EvaluationSession,
    roles: frozenset[Role],
    page: str,
    *,
    read_only: bool = False,
) -> HttpResponse:
    config = {
        "session": session.pk,
        "page": page,
        "read_only": read_only,
        "ws_path": f"/ws/sessions/{session.pk}/",
        "ping_seconds": settings.ROOM_PING_SECONDS,
        # Where a socket closed for a missing login (4401) or second factor (4402) sends the user.
        "login_url": f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}",
        "otp_url": f"{reverse('otp_verify')}?{urlencode({'next': request.get_full_path()})}",
        "rtc": media.page_config(request.user.pk or 0, roles),
    }
    context = {
        "session": session,
        "roles": roles,
        "read_only": read_only,
        "room_config": config,
        "room_strings": _strings(),
        "recusal_statement": RECUSAL_STATEMENT,
        "integrity_statement": INTEGRITY_STATEMENT,
        # Supervisors are never seen or heard (DESIGN.md §1), so only participants raise a hand.
        "can_raise_hand": bool(roles & HAND_ROLES) and page == "room",
    }
    return render(request, template, context)


@login_required
def room(request: HttpRequest, pk: int) -> HttpResponse:
    session, roles = _session_for(request, pk, ROOM_ROLES)
    return _render(request, "rooms/room.html", session, roles, "room")


@login_required
def console(request: HttpRequest, pk: int) -> HttpResponse:
    session, roles = _session_for(request, pk, CONSOLE_ROLES)
    # The supervisor watches the console; the controls are the host's (DESIGN.md §1).
    return _render(request, "rooms/console.html", session, roles, "console", read_only=Role.HOST not in roles)


@login_required
def venue(request: HttpRequest, pk: int) -> HttpResponse:
    session, roles = _session_for(request, pk, VENUE_ROLES)
    return _render(request, "rooms/venue.html", session, roles, "venue")
