"""The models' endpoints: upload, the list of a session's models, the outputs, a retry.

Who reads a model (``readable``): through a session of the bid's lot, the host, reviewer and
supervisor always; the committee's members once their declarations are made
(``members_may_see_models``, the viewer page's rule too); a bidder only their own bid's models. A
sealed session is read by nobody. The outputs are anonymous (bim_review/outputs.py); the original
file name is listed only to host, reviewer and supervisor, and the raw IFC file is never served here.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from bim_review import jobs, outputs
from bim_review.model_actions import TooLarge, attach_model
from bim_review.models import BimModel, ConversionStatus
from evaluation.exceptions import ProtocolError, Refused
from evaluation.models import Bid, EvaluationSession, Phase
from evaluation.permissions import Actor, Role, session_roles
from evaluation.phases import COMMITTEE_OPEN

STAFF = frozenset({Role.HOST, Role.REVIEWER, Role.SUPERVISOR})
COMMITTEE = frozenset({Role.MEMBER, Role.LEADER})
STATUS_OF_REFUSAL = {"forbidden": 403, "not_found": 404, "conflict": 409, "wrong_phase": 409}


def _error(reason: str, status: int) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


def members_may_see_models(session: EvaluationSession) -> bool:
    """Bid files open to the committee only after the declarations (DESIGN.md §2); a suspended
    session keeps the rule of the phase it returns to. The one rule of the outputs and the viewer."""
    phase = session.return_phase if session.phase == Phase.SUSPENDED else session.phase
    return phase not in COMMITTEE_OPEN


def _may_read(roles: frozenset[Role], session: EvaluationSession, bid: Bid, user: Actor) -> bool:
    if session.is_sealed:
        return False
    if roles & STAFF:
        return True
    if roles & COMMITTEE and members_may_see_models(session):
        return True
    return Role.BIDDER in roles and user.pk is not None and bid.bidder.users.filter(pk=user.pk).exists()


def readable(user: Actor, model: BimModel) -> frozenset[Role] | None:
    """The user's roles in the first session of the lot through which they may read the model."""
    for session in EvaluationSession.objects.filter(lot=model.bid.lot_id).select_related("lot"):
        roles = session_roles(user, session)
        if roles and _may_read(roles, session, model.bid, user):
            return roles
    return None


def model_json(model: BimModel, roles: frozenset[Role]) -> dict[str, Any]:
    data: dict[str, Any] = {
        **jobs.progress_data(model),
        "schema": model.schema,
        "failed_elements": len(model.failed_elements),
        "urls": {name: reverse("bim_model_file", args=[model.pk, name]) for name in outputs.SERVED}
        if model.is_ready
        else {},
    }
    if roles & STAFF:
        data["original_name"] = model.original_name
    return data


@login_required
@require_GET
def session_models(request: HttpRequest, session_id: int) -> JsonResponse:
    session = get_object_or_404(EvaluationSession.objects.select_related("lot"), pk=session_id)
    roles = session_roles(request.user, session)
    models = list(BimModel.objects.filter(bid__lot=session.lot_id).select_related("bid__bidder"))
    visible = [m for m in models if roles and _may_read(roles, session, m.bid, request.user)]
    if not visible and not (roles & (STAFF | COMMITTEE | {Role.BIDDER})):
        return _error(gettext("no role in this session"), 403)
    jobs.ensure_started(visible)
    return JsonResponse({"models": [model_json(m, roles) for m in visible]})


@login_required
@require_GET
def model_file(request: HttpRequest, pk: int, name: str) -> HttpResponseBase:
    model = get_object_or_404(BimModel.objects.select_related("bid__bidder"), pk=pk)
    stored = outputs.SERVED.get(name)
    if stored is None:
        return _error(gettext("no output named %(name)s") % {"name": name}, 404)
    if readable(request.user, model) is None:
        return _error(gettext("you may not read this model"), 403)
    if not model.is_ready:
        jobs.ensure_started([model])
        return JsonResponse({"status": model.status, "stage": model.stage, "percent": model.percent}, status=409)
    etag = f'"{model.cache_key}-{name}"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=304)
    path = outputs.output_dir(model.cache_key) / stored
    if not path.is_file():
        return _error(gettext("the model's outputs are missing; ask the host to convert it again"), 410)
    response = FileResponse(path.open("rb"))
    if stored.endswith(".gz"):
        response["Content-Type"] = "application/json"
        response["Content-Encoding"] = "gzip"
    elif stored.endswith(".glb"):
        response["Content-Type"] = "model/gltf-binary"
    else:
        response["Content-Type"] = "application/json"
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=3600"
    response["Vary"] = "Cookie"
    return response


def _refusal(exc: Refused) -> JsonResponse:
    return _error(exc.reason, STATUS_OF_REFUSAL.get(exc.code, 403))


@login_required
@require_POST
def upload_model(request: HttpRequest, bid_id: int) -> JsonResponse:
    bid = get_object_or_404(Bid.objects.select_related("bidder"), pk=bid_id)
    upload = request.FILES.get("file")
    if not isinstance(upload, UploadedFile):
        return _error(gettext("send the IFC file as the form field 'file'"), 400)
    try:
        model = attach_model(request.user, bid, upload)
    except TooLarge as exc:
        return _error(str(exc), 413)
    except ProtocolError as exc:
        return _error(str(exc), 400)
    except Refused as exc:
        return _refusal(exc)
    return JsonResponse(model_json(model, frozenset({Role.HOST})), status=201)


@login_required
@require_POST
def retry_model(request: HttpRequest, pk: int) -> JsonResponse:
    model = get_object_or_404(BimModel.objects.select_related("bid"), pk=pk)
    roles = readable(request.user, model)
    if roles is None or not roles & {Role.HOST, Role.REVIEWER}:
        return _error(gettext("only the host or a reviewer converts a model again"), 403)
    if model.status != ConversionStatus.FAILED or not jobs.retry(model):
        return _error(gettext("only a failed conversion is tried again"), 409)
    jobs.start(model.pk)
    model.refresh_from_db()
    return JsonResponse(model_json(model, roles), status=202)
