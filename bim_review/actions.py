"""Changes to BIM issues (BCF topics), each one audited like the core's actions (evaluation/actions.py).

Each action, in one transaction: locks the session row, checks the actor's role and the phase
(``RULES`` below), writes the change and its audit event, and broadcasts to the session's room after
commit with the version the event produced. Reading goes through ``readable_session``.

Who: the host, the reviewer and the committee's members raise, comment and change issues; the
supervisor reads them; the attendant and bidders never see them. When: they are raised from the
preliminary review (the bids are open) to the summary, read only after that; members read them once
the bids are open, the staff always; while sealed nobody reads or writes.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from bim_review.models import BimModel, Comment, Topic, Viewpoint, snapshot_path
from bim_review.protocol import CommentIn, ImportedTopic, TopicChange, TopicIn
from bim_review.protocol import Viewpoint as ViewpointData
from evaluation.audit import record_event
from evaluation.events import broadcast
from evaluation.exceptions import Refused
from evaluation.models import EvaluationSession, Phase
from evaluation.permissions import Actor, Role, require_role, session_roles, signed_in
from evaluation.phases import REVIEW_PHASES, TERMINAL_PHASES, ActionRule, add_action, not_in_phase

WRITERS = frozenset({Role.HOST, Role.REVIEWER, Role.MEMBER, Role.LEADER})
READERS = WRITERS | {Role.SUPERVISOR}
STAFF = frozenset({Role.HOST, Role.REVIEWER, Role.SUPERVISOR})
# The bids are open from the preliminary review on; after the summary the issues are evidence.
READ_PHASES = REVIEW_PHASES | {Phase.SIGNING} | TERMINAL_PHASES
MAX_SNAPSHOT_BYTES = 4 * 1024 * 1024
MAX_SNAPSHOT_SIDE = 8192
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

RULES: dict[str, ActionRule] = {
    a.name: a
    for a in (
        ActionRule("create_topic", REVIEW_PHASES, WRITERS, "raise an issue on a bid's model, with a viewpoint"),
        ActionRule("comment_topic", REVIEW_PHASES, WRITERS, "comment on an issue, optionally at a viewpoint"),
        ActionRule("change_topic", REVIEW_PHASES, WRITERS, "change an issue's status, priority, assignee ..."),
        ActionRule("save_viewpoint", REVIEW_PHASES, WRITERS, "add a viewpoint (camera, planes, snapshot PNG)"),
        ActionRule("import_bcf", REVIEW_PHASES, WRITERS, "import the issues of a .bcf file onto a bid's model"),
        ActionRule(
            "give_floor",
            REVIEW_PHASES,
            frozenset({Role.HOST}),
            "give an expert the floor in the shared BIM view (they drive it for everyone), or take it back",
        ),
    )
}


def register() -> None:
    """Add the app's actions to the core's table (the room's action list, docs/PHASES.md)."""
    for rule in RULES.values():
        add_action(rule)


def _lock(session: EvaluationSession | int) -> EvaluationSession:
    pk = session if isinstance(session, int) else session.pk
    try:
        return EvaluationSession.objects.select_for_update().select_related("lot").get(pk=pk)
    except EvaluationSession.DoesNotExist as exc:
        raise Refused(gettext("session %(pk)s does not exist") % {"pk": pk}, code="not_found") from exc


def _check(name: str, actor: Actor, session: EvaluationSession) -> None:
    rule = RULES[name]
    # The role first: someone without one learns nothing about the session's phase.
    require_role(actor, session, rule.who, name)
    if session.phase not in rule.phases:
        raise Refused(not_in_phase(name, session), code="wrong_phase")


def readable_session(actor: Actor, session: EvaluationSession) -> frozenset[Role]:
    """May ``actor`` read the session's issues (and compare its models) now? Refuse with the reason
    if not; return the roles.

    The host, the reviewer and the supervisor read them in any phase (as they read the models); the
    committee's members once the bids are open. A sealed session refuses everyone (the caller logs the
    attempt: evaluation.actions.record_sealed_access).
    """
    roles = require_role(actor, session, READERS, "read issues")
    phase = Phase(session.return_phase) if session.phase == Phase.SUSPENDED and session.return_phase else session.phase
    if session.is_sealed or not (roles & STAFF or phase in READ_PHASES):
        raise Refused(not_in_phase("read issues", session), code="wrong_phase")
    return roles


def _author(actor: Actor) -> str:
    return signed_in(actor).get_username()


def _model(session: EvaluationSession, model_id: int) -> BimModel:
    model = BimModel.objects.filter(pk=model_id, bid__lot_id=session.lot_id).select_related("bid").first()
    if model is None:
        raise Refused(gettext("model %(id)s is not a model of this lot") % {"id": model_id}, code="not_found")
    return model


def _topic(session: EvaluationSession, guid: str | uuid.UUID) -> Topic:
    try:
        key = uuid.UUID(str(guid))
    except ValueError:
        key = None
    topic = Topic.objects.filter(session=session, guid=key).select_related("model__bid").first() if key else None
    if topic is None:
        raise Refused(gettext("issue %(guid)s does not exist in this session") % {"guid": guid}, code="not_found")
    return topic


def _check_assignee(session: EvaluationSession, username: str) -> str:
    """An issue is assigned to someone who may work on it in this session, or to nobody."""
    if not username:
        return ""
    user = User.objects.filter(username=username).first()
    if user is None or not session_roles(user, session) & WRITERS:
        raise Refused(
            gettext("%(name)s may not be assigned issues in this session") % {"name": username}, code="invalid"
        )
    return username


def viewpoint_digest(data: dict[str, Any]) -> str:
    """SHA-256 of a viewpoint's JSON, for the audit trail (whose payloads admit no floats)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_snapshot(data: bytes) -> None:
    """A snapshot is a PNG of sensible size: checked by its signature and its IHDR header.

    The header is read by hand: it is 24 bytes at a fixed place, and the server never decodes the image.
    """
    if len(data) > MAX_SNAPSHOT_BYTES:
        raise Refused(
            gettext("the snapshot is larger than %(max)s bytes") % {"max": MAX_SNAPSHOT_BYTES}, code="invalid"
        )
    if len(data) < 33 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise Refused(gettext("the snapshot is not a PNG image"), code="invalid")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if not (0 < width <= MAX_SNAPSHOT_SIDE and 0 < height <= MAX_SNAPSHOT_SIDE):
        raise Refused(
            gettext("the snapshot is %(w)s×%(h)s pixels; at most %(max)s a side")
            % {"w": width, "h": height, "max": MAX_SNAPSHOT_SIDE},
            code="invalid",
        )


def topic_summary(topic: Topic) -> dict[str, Any]:
    """What the room is told about an issue (and what the list endpoint shows per issue)."""
    return {
        "guid": str(topic.guid),
        "model": topic.model_id,
        "bid": topic.model.bid.anonymous_label,
        "title": topic.title,
        "topic_type": topic.topic_type,
        "status": topic.status,
        "priority": topic.priority,
        "assignee": topic.assignee,
        "labels": list(topic.labels),
        "due_date": topic.due_date,
        "creation_author": topic.creation_author,
        "creation_date": topic.creation_date,
        "modified_author": topic.modified_author,
        "modified_date": topic.modified_date,
    }


def _audit_and_broadcast(session: EvaluationSession, actor: Actor, kind: str, data: dict[str, Any]) -> None:
    record_event(session, actor, kind, data)
    broadcast(session.pk, kind, data, version=session.audit_seq)


def _add_viewpoint(
    topic: Topic,
    data: ViewpointData,
    author: str,
    *,
    snapshot: bytes | None = None,
    guid: uuid.UUID | None = None,
    index: int | None = None,
) -> Viewpoint:
    if snapshot is not None:
        check_snapshot(snapshot)
    viewpoint = Viewpoint(
        topic=topic,
        guid=guid or uuid.uuid4(),
        index=topic.viewpoints.count() if index is None else index,
        data=data.to_json(),
        created_by=author,
        created_at=timezone.now(),
    )
    if snapshot is not None:
        viewpoint.snapshot_sha256 = hashlib.sha256(snapshot).hexdigest()
        name = snapshot_path(viewpoint, "")
        if viewpoint.snapshot.storage.exists(name):
            # Stored by hash: the same picture is one file, whoever saved it first.
            viewpoint.snapshot.name = name
        else:
            viewpoint.snapshot.save("snapshot.png", ContentFile(snapshot), save=False)
            written = _written.get()
            if written is not None and viewpoint.snapshot.name:
                written.append(viewpoint.snapshot.name)
    viewpoint.save()
    return viewpoint


# Snapshot files written by the action running now, removed again if it fails (see _no_files_left).
_written: ContextVar[list[str] | None] = ContextVar("bim_snapshots_written", default=None)
F = TypeVar("F", bound=Callable[..., Any])


def _no_files_left(action: F) -> F:
    """Around an action's transaction: a failed action leaves no snapshot file behind, as no row."""

    @wraps(action)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = _written.set([])
        try:
            return action(*args, **kwargs)
        except BaseException:
            for name in _written.get() or []:
                default_storage.delete(name)
            raise
        finally:
            _written.reset(token)

    return cast(F, wrapper)


def _viewpoint_data(viewpoint: Viewpoint) -> dict[str, Any]:
    return {
        "topic": str(viewpoint.topic.guid),
        "viewpoint": str(viewpoint.guid),
        "digest": viewpoint_digest(viewpoint.data),
        "snapshot_sha256": viewpoint.snapshot_sha256,
    }


# --- the actions --------------------------------------------------------------------------------


@_no_files_left
@transaction.atomic
def create_topic(session: EvaluationSession | int, actor: Actor, data: TopicIn) -> Topic:
    session = _lock(session)
    _check("create_topic", actor, session)
    model = _model(session, data.model)
    author, now = _author(actor), timezone.now()
    topic = Topic.objects.create(
        session=session,
        model=model,
        guid=uuid.uuid4(),
        topic_type=data.topic_type,
        status="Open",
        priority=data.priority,
        title=data.title,
        description=data.description,
        labels=list(dict.fromkeys(data.labels)),
        assignee=_check_assignee(session, data.assignee),
        due_date=data.due_date,
        creation_author=author,
        creation_date=now,
    )
    payload = {**topic_summary(topic), "description": topic.description}
    if data.viewpoint is not None:
        payload["viewpoint"] = _viewpoint_data(_add_viewpoint(topic, data.viewpoint, author))
    _audit_and_broadcast(session, actor, "bim.topic_created", payload)
    return topic


@transaction.atomic
def change_topic(session: EvaluationSession | int, actor: Actor, guid: str, change: TopicChange) -> Topic:
    """Change the fields named in ``change``; the audit event keeps each old and new value."""
    session = _lock(session)
    _check("change_topic", actor, session)
    topic = _topic(session, guid)
    changes: dict[str, dict[str, Any]] = {}
    for field in sorted(change.model_fields_set):
        new = getattr(change, field)
        if field == "assignee":
            new = _check_assignee(session, new or "")
        elif field == "labels":
            new = list(dict.fromkeys(new or []))
        old = getattr(topic, field)
        if new != old:
            changes[field] = {"old": old, "new": new}
            setattr(topic, field, new)
    if not changes:
        raise Refused(gettext("nothing changes"), code="invalid")
    topic.modified_author, topic.modified_date = _author(actor), timezone.now()
    topic.save()
    _audit_and_broadcast(session, actor, "bim.topic_changed", {**topic_summary(topic), "changes": changes})
    return topic


@transaction.atomic
def comment_topic(session: EvaluationSession | int, actor: Actor, guid: str, data: CommentIn) -> Comment:
    session = _lock(session)
    _check("comment_topic", actor, session)
    topic = _topic(session, guid)
    viewpoint = None
    if data.viewpoint is not None:
        viewpoint = topic.viewpoints.filter(guid=data.viewpoint).first()
        if viewpoint is None:
            raise Refused(
                gettext("viewpoint %(guid)s is not a viewpoint of this issue") % {"guid": data.viewpoint},
                code="not_found",
            )
    comment = Comment.objects.create(
        topic=topic, guid=uuid.uuid4(), author=_author(actor), date=timezone.now(), text=data.text, viewpoint=viewpoint
    )
    _audit_and_broadcast(
        session,
        actor,
        "bim.comment_added",
        {
            "topic": str(topic.guid),
            "comment": str(comment.guid),
            "author": comment.author,
            "date": comment.date,
            "text": comment.text,
            "viewpoint": str(viewpoint.guid) if viewpoint else None,
        },
    )
    return comment


@_no_files_left
@transaction.atomic
def save_viewpoint(
    session: EvaluationSession | int, actor: Actor, guid: str, data: ViewpointData, *, snapshot: bytes | None = None
) -> Viewpoint:
    session = _lock(session)
    _check("save_viewpoint", actor, session)
    topic = _topic(session, guid)
    viewpoint = _add_viewpoint(topic, data, _author(actor), snapshot=snapshot)
    _audit_and_broadcast(session, actor, "bim.viewpoint_saved", _viewpoint_data(viewpoint))
    return viewpoint


# --- import -------------------------------------------------------------------------------------


@_no_files_left
@transaction.atomic
def import_topics(
    session: EvaluationSession | int, actor: Actor, model_id: int, topics: Iterable[ImportedTopic], *, sha256: str
) -> list[Topic]:
    """Add the topics of a .bcf file to a bid's model, all or none.

    Authors and dates are kept as the file has them (they are the issue's history); the audit event
    names who imported it and the file's hash. A topic whose GUID the session already has is refused
    (an import never overwrites), which also makes importing one file twice a clear error.
    """
    session = _lock(session)
    _check("import_bcf", actor, session)
    model = _model(session, model_id)
    topics = list(topics)
    clashes = Topic.objects.filter(session=session, guid__in=[t.guid for t in topics]).values_list("guid", flat=True)
    if clashes:
        raise Refused(
            gettext("the session already has issues %(guids)s") % {"guids": ", ".join(str(g) for g in clashes)},
            code="conflict",
        )
    created = []
    for item in topics:
        topic = Topic.objects.create(
            session=session,
            model=model,
            guid=item.guid,
            topic_type=item.topic_type,
            status=item.status,
            priority=item.priority,
            title=item.title,
            description=item.description,
            labels=list(item.labels),
            assignee=item.assignee,
            due_date=item.due_date,
            creation_author=item.creation_author,
            creation_date=item.creation_date,
            modified_author=item.modified_author,
            modified_date=item.modified_date,
        )
        viewpoints: dict[uuid.UUID, Viewpoint] = {}
        for v in item.viewpoints:
            viewpoints[v.guid] = _add_viewpoint(
                topic, v.data, item.creation_author, snapshot=v.snapshot, guid=v.guid, index=v.index
            )
        for c in item.comments:
            Comment.objects.create(
                topic=topic,
                guid=c.guid,
                author=c.author,
                date=c.date,
                text=c.text,
                viewpoint=viewpoints.get(c.viewpoint) if c.viewpoint else None,
                modified_author=c.modified_author,
                modified_date=c.modified_date,
            )
        created.append(topic)
    _audit_and_broadcast(
        session,
        actor,
        "bim.bcf_imported",
        {
            "model": model.pk,
            "bid": model.bid.anonymous_label,
            "sha256": sha256,
            "topics": [str(t.guid) for t in created],
        },
    )
    return created
