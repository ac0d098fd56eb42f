"""JSON endpoints of BIM issues (BCF topics), the .bcf export and import, and the model compare.

All under ``/bim/sessions/<session_id>/``; every answer is JSON (errors: ``{"error": reason}``) except
the .bcf download and the snapshots. Reading: the host, the reviewer and the supervisor always, the
committee's members from the preliminary review on (bim_review.actions.readable_session); writing:
not the supervisor, and only from the preliminary review to the summary (bim_review.actions.RULES).
A bidder, an attendant or a stranger gets 404, as for a session that does not exist; a sealed session
answers 423 and the attempt is logged. POST bodies are JSON unless said.

    GET  issues[?model=ID]                     {"issues": [summary]} (summary: bim_review.actions.topic_summary)
    POST issues                                TopicIn → 201 {"issue": detail}
    GET  issues/<guid>                         {"issue": detail}: summary + description, comments, viewpoints
    POST issues/<guid>/comments                CommentIn ({"text", "viewpoint"?}) → 201 {"issue": detail}
    POST issues/<guid>/change                  TopicChange ({"status"?, "priority"?, "title"?, "assignee"?,
                                               "labels"?, "due_date"?}) → {"issue": detail}
    POST issues/<guid>/viewpoints              multipart: "viewpoint" (Viewpoint JSON as a field) and
                                               "snapshot" (PNG file, optional); or a JSON body
                                               {"viewpoint": {...}} → 201 {"viewpoint": {...}}
    GET  issues/<guid>/viewpoints/<vp>/snapshot.png
    GET  bcf[?model=ID]                        the session's issues as a BCF 3.0 file (application/octet-stream)
    POST bcf?model=ID                          multipart "file": a .bcf file → 201 {"issues": [summary]}
    GET  compare?old=ID&new=ID                 {"old": {"model", "bid"}, "new": {...}, "added": [el],
                                               "removed": [el], "changed": [el + "kinds", "properties":
                                               [{"set", "name", "old", "new"}]]} (el: {"id", "class", "name"})

The viewer colours a compare with ``window.bimViewer.showCompare`` (bim_review/static/bim_review).
Bids are named by their anonymous labels only, in the compare as everywhere here.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bim_review import actions, bcf, compare
from bim_review.model_actions import TooLarge
from bim_review.models import BimModel, Topic, Viewpoint
from bim_review.protocol import PRIORITIES, STATUSES, CommentIn, TopicChange, TopicIn, parse
from bim_review.protocol import Viewpoint as ViewpointData
from bim_review.views import STATUS_OF_REFUSAL
from evaluation.actions import record_sealed_access
from evaluation.exceptions import ProtocolError, Refused
from evaluation.models import EvaluationSession
from evaluation.permissions import Role, session_roles

MAX_JSON_BYTES = 1024 * 1024
View = Callable[..., HttpResponseBase]

# Every text of the issue and compare panels (static/bim_review/issues.js), in the page's language.
ISSUE_STRINGS: dict[str, Any] = {
    "issues": _("问题（BCF）"),
    "title": _("标题"),
    "description": _("说明"),
    "priority": _("优先级"),
    "status": _("状态"),
    "raise": _("以当前视图新建问题"),
    "export_bcf": _("导出 BCF"),
    "import_bcf": _("导入 BCF："),
    "imported": _("已导入 {count} 个问题。"),
    "no_issues": _("此模型暂无问题。"),
    "no_comments": _("暂无评论。"),
    "snapshot": _("视点截图"),
    "show_view": _("显示此视点"),
    "add_view": _("保存当前视图为视点"),
    "comment": _("评论"),
    "send": _("发表"),
    "error": _("出错："),
    "statuses": {"Open": _("待处理"), "InProgress": _("处理中"), "Resolved": _("已解决"), "Closed": _("已关闭")},
    "priorities": {"Low": _("低"), "Normal": _("中"), "High": _("高"), "Critical": _("紧急")},
    "compare_title": _("模型对比"),
    "compare_with": _("对比的模型"),
    "compare": _("与当前模型对比"),
    "clear": _("清除着色"),
    "compare_counts": _("{old} → {new}：新增 {added}，删除 {removed}，修改 {changed}"),
    "added": _("新增构件"),
    "removed": _("删除构件"),
    "changed": _("修改构件"),
    "kinds": {
        "attributes": _("属性"),
        "type": _("类型"),
        "container": _("所在楼层"),
        "aggregate": _("组合"),
        "placement": _("位置"),
        "geometry": _("形状"),
        "properties": _("属性集"),
    },
}


def page_config(roles: frozenset[Role], session: EvaluationSession) -> dict[str, Any]:
    """What the viewer page's issue panel needs to know (rendered into the page as JSON)."""
    return {
        "session": session.pk,
        "may_read": bool(roles & actions.STAFF) or session.phase in actions.READ_PHASES,
        "may_write": bool(roles & actions.WRITERS) and session.phase in actions.RULES["create_topic"].phases,
        "statuses": list(STATUSES),
        "priorities": list(PRIORITIES),
    }


def _error(reason: str, status: int) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


def session_view(view: View) -> View:
    """Load the session, refuse who may not read its issues, and turn refusals into JSON errors."""

    @wraps(view)
    def wrapper(request: HttpRequest, session_id: int, **kwargs: Any) -> HttpResponseBase:
        session = EvaluationSession.objects.select_related("lot").filter(pk=session_id).first()
        # A missing session and one the user has no part in look the same, so ids cannot be probed.
        if session is None or not session_roles(request.user, session) & actions.READERS:
            return _error(gettext("not found"), 404)
        if session.is_sealed:
            record_sealed_access(session, request.user, f"BIM issues: {request.method} {request.path}")
            return _error(gettext("the session is sealed overnight: nobody reads or writes its data"), 423)
        try:
            actions.readable_session(request.user, session)
            return view(request, session, **kwargs)
        except TooLarge as exc:
            return _error(str(exc), 413)
        except ProtocolError as exc:
            return _error(str(exc), 400)
        except Refused as exc:
            return _error(exc.reason, STATUS_OF_REFUSAL.get(exc.code, 400 if exc.code == "invalid" else 403))

    return wrapper


def _body(request: HttpRequest) -> Any:
    if len(request.body) > MAX_JSON_BYTES:
        raise TooLarge(gettext("the request body is larger than the limit of %(max)s bytes") % {"max": MAX_JSON_BYTES})
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        raise ProtocolError(gettext("the request body is not JSON")) from None


def _model_param(request: HttpRequest, session: EvaluationSession, name: str = "model") -> BimModel | None:
    raw = request.GET.get(name)
    if raw is None:
        return None
    model = BimModel.objects.filter(pk=int(raw) if raw.isdigit() else 0, bid__lot_id=session.lot_id).first()
    if model is None:
        raise Refused(gettext("model %(id)s is not a model of this lot") % {"id": raw[:20]}, code="not_found")
    return model


def _snapshot_url(session: EvaluationSession, viewpoint: Viewpoint) -> str | None:
    if not viewpoint.snapshot:
        return None
    return reverse("bim_issue_snapshot", args=[session.pk, viewpoint.topic.guid, viewpoint.guid])


def _viewpoint_json(session: EvaluationSession, viewpoint: Viewpoint) -> dict[str, Any]:
    return {
        "guid": str(viewpoint.guid),
        "index": viewpoint.index,
        "viewpoint": viewpoint.data,
        "snapshot": _snapshot_url(session, viewpoint),
        "created_by": viewpoint.created_by,
        "created_at": viewpoint.created_at,
    }


def topic_detail(session: EvaluationSession, topic: Topic) -> dict[str, Any]:
    return {
        **actions.topic_summary(topic),
        "description": topic.description,
        "comments": [
            {
                "guid": str(c.guid),
                "author": c.author,
                "date": c.date,
                "text": c.text,
                "viewpoint": str(c.viewpoint.guid) if c.viewpoint else None,
            }
            for c in topic.comments.select_related("viewpoint")
        ],
        "viewpoints": [_viewpoint_json(session, v) for v in topic.viewpoints.select_related("topic")],
    }


def _topic(session: EvaluationSession, guid: uuid.UUID) -> Topic:
    topic = Topic.objects.filter(session=session, guid=guid).select_related("model__bid").first()
    if topic is None:
        raise Refused(gettext("issue %(guid)s does not exist in this session") % {"guid": guid}, code="not_found")
    return topic


# --- issues -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@session_view
def issues(request: HttpRequest, session: EvaluationSession) -> JsonResponse:
    if request.method == "POST":
        topic = actions.create_topic(session, request.user, parse(TopicIn, _body(request)))
        return JsonResponse({"issue": topic_detail(session, topic)}, status=201)
    model = _model_param(request, session)
    topics = Topic.objects.filter(session=session).select_related("model__bid")
    if model is not None:
        topics = topics.filter(model=model)
    return JsonResponse({"issues": [actions.topic_summary(t) for t in topics]})


@login_required
@require_GET
@session_view
def issue(request: HttpRequest, session: EvaluationSession, guid: uuid.UUID) -> JsonResponse:
    return JsonResponse({"issue": topic_detail(session, _topic(session, guid))})


@login_required
@require_POST
@session_view
def comment(request: HttpRequest, session: EvaluationSession, guid: uuid.UUID) -> JsonResponse:
    actions.comment_topic(session, request.user, str(guid), parse(CommentIn, _body(request)))
    return JsonResponse({"issue": topic_detail(session, _topic(session, guid))}, status=201)


@login_required
@require_POST
@session_view
def change(request: HttpRequest, session: EvaluationSession, guid: uuid.UUID) -> JsonResponse:
    topic = actions.change_topic(session, request.user, str(guid), parse(TopicChange, _body(request)))
    return JsonResponse({"issue": topic_detail(session, topic)})


@login_required
@require_POST
@session_view
def viewpoints(request: HttpRequest, session: EvaluationSession, guid: uuid.UUID) -> JsonResponse:
    snapshot: bytes | None = None
    if request.content_type == "multipart/form-data":
        try:
            data = json.loads(request.POST.get("viewpoint") or "null")
        except ValueError:
            raise ProtocolError(gettext("the viewpoint field is not JSON")) from None
        upload = request.FILES.get("snapshot")
        if isinstance(upload, UploadedFile):
            if upload.size is not None and upload.size > actions.MAX_SNAPSHOT_BYTES:
                raise TooLarge(
                    gettext("the snapshot is larger than the limit of %(max)s bytes")
                    % {"max": actions.MAX_SNAPSHOT_BYTES}
                )
            snapshot = upload.read(actions.MAX_SNAPSHOT_BYTES + 1)
    else:
        body = _body(request)
        data = body.get("viewpoint") if isinstance(body, dict) else None
    viewpoint = actions.save_viewpoint(session, request.user, str(guid), parse(ViewpointData, data), snapshot=snapshot)
    return JsonResponse({"viewpoint": _viewpoint_json(session, viewpoint)}, status=201)


@login_required
@require_GET
@session_view
def snapshot(request: HttpRequest, session: EvaluationSession, guid: uuid.UUID, vp: uuid.UUID) -> HttpResponseBase:
    viewpoint = Viewpoint.objects.filter(topic__session=session, topic__guid=guid, guid=vp).first()
    if viewpoint is None or not viewpoint.snapshot:
        return _error(gettext("no such snapshot"), 404)
    response = FileResponse(viewpoint.snapshot.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- .bcf files ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@session_view
def bcf_file(request: HttpRequest, session: EvaluationSession) -> HttpResponseBase:
    model = _model_param(request, session)
    if request.method == "POST":
        if model is None:
            raise ProtocolError(gettext("name the bid's model the issues belong to: ?model=ID"))
        upload = request.FILES.get("file")
        if not isinstance(upload, UploadedFile):
            raise ProtocolError(gettext("send the .bcf file as the form field 'file'"))
        if upload.size is not None and upload.size > bcf.MAX_BCF_BYTES:
            raise TooLarge(
                gettext("the file is %(size)s bytes; the limit is %(max)s")
                % {"size": upload.size, "max": bcf.MAX_BCF_BYTES}
            )
        data = upload.read(bcf.MAX_BCF_BYTES + 1)
        topics = bcf.read_archive(data)
        digest = hashlib.sha256(data).hexdigest()
        created = actions.import_topics(session, request.user, model.pk, topics, sha256=digest)
        return JsonResponse({"issues": [actions.topic_summary(t) for t in created]}, status=201)
    # A stable project id per session, so every export of one session names the same BCF project.
    project = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:pingbiao:session:{session.pk}")
    archive = bcf.export_archive(project, str(session), bcf.topics_for_export(session.pk, model))
    label = f"-{model.bid.anonymous_label}" if model is not None else ""
    response = HttpResponse(archive, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="session-{session.pk}{label}.bcf"'
    return response


# --- compare ------------------------------------------------------------------------------------


@login_required
@require_GET
@session_view
def compare_view(request: HttpRequest, session: EvaluationSession) -> JsonResponse:
    old, new = _model_param(request, session, "old"), _model_param(request, session, "new")
    if old is None or new is None:
        raise ProtocolError(gettext("name the two models to compare: ?old=ID&new=ID"))
    try:
        result = compare.compare_models(old, new)
    except compare.CompareFailed as exc:
        return _error(exc.reason, 422)
    return JsonResponse(compare.labelled(result, old, new))
