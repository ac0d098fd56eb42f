"""Exports of a session's scoring result: plain JSON and an OCDS-style release (leader, host,
supervisor; in summary or later). Refusals answer with their reason and status."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse

from evaluation.actions import record_sealed_access
from evaluation.exceptions import Refused
from evaluation.models import EvaluationSession
from evaluation.permissions import Actor, can_view_session
from scoring import ocds, queries

STATUS = {"forbidden": 403, "wrong_phase": 409, "not_found": 404}


def _export(
    request: HttpRequest,
    pk: int,
    build: Callable[[EvaluationSession, Actor], dict[str, Any]],
    text: Callable[[dict[str, Any]], str],
    filename: str,
) -> HttpResponse:
    session = EvaluationSession.objects.select_related("lot__project").filter(pk=pk).first()
    # A missing session is refused like a foreign one, so ids cannot be probed.
    if session is None or not can_view_session(request.user, session):
        raise PermissionDenied
    if session.is_sealed:
        record_sealed_access(session, request.user, "scoring export")
        return JsonResponse({"error": "sealed"}, status=403)
    try:
        body = text(build(session, request.user))
    except Refused as refusal:
        return JsonResponse({"error": refusal.code, "reason": refusal.reason}, status=STATUS.get(refusal.code, 400))
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def result_json(request: HttpRequest, pk: int) -> HttpResponse:
    return _export(
        request,
        pk,
        queries.export_result,
        lambda data: json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        f"session-{pk}-result.json",
    )


@login_required
def result_ocds(request: HttpRequest, pk: int) -> HttpResponse:
    return _export(
        request,
        pk,
        queries.export_ocds,
        lambda release: ocds.release_json(release, indent=2),
        f"session-{pk}-ocds-release.json",
    )
