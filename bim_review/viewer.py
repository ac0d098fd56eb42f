"""The BIM viewer page (``/sessions/<id>/bim/``): the lot's models in three.js, shared in the room.

Who opens it: the host, the reviewer, the supervisor and the seated committee (``VIEWER_ROLES``);
never a bidder or an attendant. Experts see bid files only once their declarations are made
(DESIGN.md §2), so members wait until the phase is past ``declarations``. In anonymous (暗标)
technical review the models are listed by their bid's label, and the bidder's name only where
``bidder_names_visible`` allows. The page embeds no model data: the files come from
``bim_review/outputs.py``'s URLs, which check the role again, and the raw IFC file is never linked.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from bim_review import issue_views, jobs
from bim_review.models import BimModel
from bim_review.outputs import SERVED
from bim_review.sharing import PRESENTER_ROLES, VIEWER_ROLES
from bim_review.views import members_may_see_models
from evaluation.actions import record_sealed_access
from evaluation.models import EvaluationSession
from evaluation.permissions import Role, bidder_names_visible, session_roles

MEMBER_ROLES = frozenset({Role.MEMBER, Role.LEADER})

# Every text the viewer's scripts show, in the page's language.
UI_STRINGS: dict[str, Promise] = {
    "loading": _("正在加载模型…"),
    "loaded": _("模型已加载"),
    "not_ready": _("模型尚未转换完成："),
    "failed": _("模型转换失败："),
    "load_error": _("模型加载失败："),
    "no_models": _("本标段没有 BIM 模型。"),
    "no_selection": _("单击模型中的构件查看其属性与工程量。"),
    "properties": _("属性"),
    "quantities": _("工程量"),
    "class": _("类型"),
    "name": _("名称"),
    "global_id": _("GlobalId"),
    "storey": _("楼层"),
    "count": _("数量"),
    "all_storeys": _("全部楼层"),
    "show": _("显示"),
    "hide": _("隐藏"),
    "isolate": _("单独显示"),
    "show_all": _("全部显示"),
    "no_results": _("没有匹配的构件。"),
    "results": _("{n} 个结果"),
    "measure_hint": _("在模型上依次单击两点测量距离。"),
    "distance": _("距离：{d} 米"),
    "section_added": _("已添加剖切面"),
    "presenting": _("您正在主讲：其他人跟随您的视图。"),
    "view_too_large": _(
        "视图过大（{bytes} 字节，上限 {limit}），未发送给跟随者：请减少选中、着色或隐藏/显示列表中的构件。"
    ),
    "following": _("正在跟随 {name} 的视图"),
    "not_following": _("未跟随主讲人"),
    "nobody_presents": _("目前无人主讲"),
    "floor_holder": _("发言权：{name}"),
    "no_floor": _("无专家持有发言权"),
    "connecting": _("正在连接评标室…"),
    "reconnecting": _("与评标室的连接已断开，正在重连…"),
    "closed": _("与评标室的连接已关闭。"),
    "error": _("出错"),
    "draw_calls": _("绘制调用 {calls} 次 · {ms} 毫秒/帧"),
    "section": _("剖切面"),
    "flip": _("反向"),
    "follow": _("跟随主讲人"),
    "stop_following": _("停止跟随"),
    "present": _("开始主讲"),
    "stop_presenting": _("停止主讲"),
}


def _session_and_roles(request: HttpRequest, pk: int) -> tuple[EvaluationSession, frozenset[Role]]:
    """The session and the viewer's roles in it; a missing session is refused like a foreign one,
    so ids cannot be probed."""
    session = EvaluationSession.objects.select_related("lot__project").filter(pk=pk).first()
    roles = session_roles(request.user, session) if session is not None else frozenset()
    if session is None or not roles & VIEWER_ROLES:
        raise PermissionDenied
    return session, roles


def may_open_viewer(roles: frozenset[Role], session: EvaluationSession) -> bool:
    if roles & (VIEWER_ROLES - MEMBER_ROLES):
        return True
    return bool(roles & MEMBER_ROLES) and members_may_see_models(session)


def model_url(model_id: int, name: str) -> str:
    return f"/bim/models/{model_id}/{name}"


def _model_entry(model: BimModel, names_visible: bool) -> dict[str, Any]:
    bid = model.bid
    label = f"{bid.anonymous_label} {bid.bidder.name}" if names_visible else bid.anonymous_label
    return {
        "id": model.pk,
        "label": label,
        "schema": model.schema,
        "status": model.status,
        "stage": model.stage,
        "percent": model.percent,
        "failure_reason": model.failure_reason,
        "urls": {name: model_url(model.pk, name) for name in SERVED},
    }


def _session_models(request: HttpRequest, session: EvaluationSession) -> list[dict[str, Any]]:
    roles = session_roles(request.user, session)
    names_visible = bidder_names_visible(roles, session)
    models = list(BimModel.objects.filter(bid__lot=session.lot).select_related("bid__bidder").order_by("bid", "id"))
    jobs.ensure_started(models)
    return [_model_entry(m, names_visible) for m in models]


@login_required
def viewer(request: HttpRequest, pk: int) -> HttpResponse:
    session, roles = _session_and_roles(request, pk)
    if session.is_sealed:
        record_sealed_access(session, request.user, "BIM viewer")
        return render(request, "evaluation/session_sealed.html", {"session": session}, status=403)
    if not may_open_viewer(roles, session):
        return render(request, "bim_review/viewer_closed.html", {"session": session}, status=403)
    config = {
        "session": session.pk,
        "models": _session_models(request, session),
        "models_url": reverse("bim_viewer_models", args=[session.pk]),
        "ws_path": f"/ws/sessions/{session.pk}/",
        "ping_seconds": settings.ROOM_PING_SECONDS,
        "max_frame_bytes": settings.ROOM_MAX_FRAME_BYTES,
        "may_present": bool(roles & PRESENTER_ROLES),
        "may_give_floor": Role.HOST in roles,
        "login_url": f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}",
    }
    context = {
        "session": session,
        "viewer_config": config,
        "viewer_strings": UI_STRINGS,
        "issue_config": issue_views.page_config(roles, session),
        "issue_strings": issue_views.ISSUE_STRINGS,
        "static_three": settings.STATIC_URL + "vendor/three/",
    }
    return render(request, "bim_review/viewer.html", context)


@login_required
@require_GET
def viewer_models(request: HttpRequest, pk: int) -> JsonResponse:
    """The page's list of models again (a model was attached while it was open), by the page's rules."""
    session, roles = _session_and_roles(request, pk)
    if session.is_sealed or not may_open_viewer(roles, session):
        raise PermissionDenied
    return JsonResponse({"models": _session_models(request, session)})


def viewer_links(roles: frozenset[Role], session: EvaluationSession) -> list[tuple[str, Promise, str]]:
    """The link to the viewer for the room pages and the session page, when the lot has models."""
    if not may_open_viewer(roles, session) or session.is_sealed:
        return []
    if not BimModel.objects.filter(bid__lot=session.lot_id).exists():
        return []
    return [(reverse("bim_viewer", args=[session.pk]), _("BIM 模型审查"), "link-bim")]
