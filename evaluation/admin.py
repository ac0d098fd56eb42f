"""The hosts' admin for the reference data, and the audit of every admin change to a session's data.

Hosts (staff in the "host" group) keep projects, lots, bids, bidders, experts, venues and assignments
here. Every add, change and delete of data that belongs to a session goes through ``AuditedAdmin``:

1. the sessions the object touches, before and after the change, are found
   (``affected_session_ids``) and locked;
2. the change is refused while any of them is sealed overnight (the attempt is logged on the
   session's chain once the admin's transaction has rolled back), and unless the user hosts each
   of them or is a superuser;
3. the change is saved and written as an ``admin.added`` / ``admin.changed`` / ``admin.deleted``
   event on each of those sessions' chains, in the admin's transaction.

Adds that have an action (sessions, assignments, committee members, the opening record) call it,
and the action writes its own event. Phase and audit head are never editable here, and the audit
log is read-only for everyone, superusers included.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from evaluation import actions
from evaluation.audit import record_event, verify_chain
from evaluation.events import broadcast
from evaluation.exceptions import ProtocolError, Refused
from evaluation.forms_admin import (
    BidDocumentForm,
    BidDocumentFormSet,
    CommitteeMemberFormSet,
    OpeningRecordUploadForm,
    SessionCreateForm,
    SessionVenueFormSet,
)
from evaluation.models import (
    Assignment,
    AuditEvent,
    Bid,
    Bidder,
    BidDocument,
    BidOpeningRecord,
    CommitteeMember,
    EvaluationSession,
    Expert,
    Lot,
    Phase,
    SessionRole,
    SessionVenue,
    TenderProject,
    Venue,
)
from evaluation.opening import IMPORT_PHASES, import_opening_record
from evaluation.permissions import Role, require_role
from evaluation.phases import COMMITTEE_OPEN

HOST_ONLY = frozenset({Role.HOST})
Values = dict[str, str | None]


class _SealedChange(Refused):
    """A refusal that is also evidence: it is logged on each sealed session after the rollback."""

    def __init__(self, reason: str, session_ids: list[int]) -> None:
        super().__init__(reason, code="sealed")
        self.session_ids = session_ids


# --- which sessions a row belongs to ------------------------------------------------------------


def _lot_ids(obj: Model) -> set[int]:
    if isinstance(obj, Lot):
        return {obj.pk} if obj.pk else set()
    if isinstance(obj, Bid | BidOpeningRecord):
        return {obj.lot_id}
    if isinstance(obj, BidDocument):
        return {obj.bid.lot_id}
    if isinstance(obj, TenderProject) and obj.pk:
        return set(Lot.objects.filter(project_id=obj.pk).values_list("pk", flat=True))
    if isinstance(obj, Bidder) and obj.pk:
        return set(Bid.objects.filter(bidder_id=obj.pk).values_list("lot_id", flat=True))
    return set()


def is_lot_data(obj: Model) -> bool:
    """Data of a lot (its bids, documents, opening record, project, bidders), not of one session."""
    return not isinstance(obj, EvaluationSession | Assignment | SessionVenue | CommitteeMember)


def affected_session_ids(obj: Model) -> set[int]:
    """The sessions whose data ``obj`` is: its own session, or every session of the lots it belongs to."""
    if isinstance(obj, EvaluationSession):
        return {obj.pk} if obj.pk else set()
    if isinstance(obj, Assignment | SessionVenue | CommitteeMember):
        return {obj.session_id}
    lots = _lot_ids(obj)
    if not lots:
        return set()
    return set(EvaluationSession.objects.filter(lot_id__in=lots).values_list("pk", flat=True))


# --- field values as the audit records them -----------------------------------------------------


def field_text(field: models.Field[Any, Any], obj: Model) -> str | None:
    """A column's value as a stable string: Decimals at the field's places, times in UTC, JSON sorted."""
    value = field.value_from_object(obj)
    if value is None:
        return None
    if isinstance(field, models.DecimalField) and isinstance(value, Decimal | int | str):
        return format(Decimal(value).quantize(Decimal(1).scaleb(-(field.decimal_places or 0))), "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds") if value.tzinfo else value.isoformat()
    if isinstance(field, models.JSONField):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)


def _m2m_text(objects: Iterable[Model]) -> str:
    return ",".join(sorted((str(o.pk) for o in objects), key=lambda pk: (len(pk), pk)))


def audited_field_names(form_class: type[forms.Form | forms.ModelForm], model: type[Model]) -> list[str]:
    """The model's columns the form edits, plus those it derives (``derived_fields``, e.g. a file's hash)."""
    wanted = set(form_class.base_fields) | set(getattr(form_class, "derived_fields", ()))
    fields = [*model._meta.concrete_fields, *model._meta.many_to_many]
    return [f.name for f in fields if f.name in wanted and not f.primary_key]


def _values(obj: Model, names: Iterable[str], m2m_new: Values | None = None) -> Values:
    out: Values = {}
    for name in names:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            if m2m_new is not None and name in m2m_new:
                out[name] = m2m_new[name]
            else:
                out[name] = _m2m_text(getattr(obj, name).all()) if obj.pk else ""
        else:
            out[name] = field_text(field, obj)  # type: ignore[arg-type]
    return out


# --- the shared audit -----------------------------------------------------------------------------


class AuditedAdmin(admin.ModelAdmin):
    """Audits and seal-guards every add, change and delete of session data (see the module docstring)."""

    #: The lookup from this model to the sessions whose data its rows are, for keeping sealed
    #: sessions' data out of lists (DESIGN.md §6: while sealed nobody reads it); None: not hidden.
    sealed_lookup: str | None = None

    def refuse_delete(self, obj: Model) -> str | None:
        """A reason this row may not be deleted, beyond the seal and the host's role; None if it may."""
        return None

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        # Lists and autocompletes only (both search): opening a row is refused by refuse_sealed_read,
        # and a write reaches guard, which refuses and logs it.
        rows, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if self.sealed_lookup is not None:
            sealed = EvaluationSession.objects.filter(phase=Phase.SEALED_OVERNIGHT).values("pk")
            rows = rows.exclude(**{f"{self.sealed_lookup}__in": sealed})
        return rows, may_have_duplicates

    def refuse_sealed_read(self, request: HttpRequest, object_id: str | None) -> HttpResponse | None:
        """Opening a row of a sealed session is refused, and the attempt logged on its chain.

        A POST is a write: ``guard`` refuses and logs it, with the write's own message.
        """
        if object_id is None or self.sealed_lookup is None or request.method not in ("GET", "HEAD"):
            return None
        try:
            obj = self.model._default_manager.filter(pk=object_id).first()
        except (ValueError, ValidationError):
            return None
        if obj is None:
            return None
        sealed = EvaluationSession.objects.filter(pk__in=affected_session_ids(obj), phase=Phase.SEALED_OVERNIGHT)
        if not sealed:
            return None
        reason = f"{self._what('open', obj)}: refused while the session is sealed overnight"
        for session in sealed:
            actions.record_sealed_access(session.pk, request.user, f"admin: {reason}")
        self.message_user(request, reason, messages.ERROR)
        opts = self.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))

    # 1-2: find, lock and check the sessions.
    def guard(
        self, request: HttpRequest, session_ids: set[int], what: str, *, lot_data: bool = False
    ) -> list[EvaluationSession]:
        if not session_ids:
            return []
        sessions = list(EvaluationSession.objects.select_for_update().filter(pk__in=session_ids).order_by("pk"))
        sealed = [s for s in sessions if s.is_sealed]
        if sealed:
            names = "、".join(str(s) for s in sealed)
            raise _SealedChange(
                f"{what}: refused while the session is sealed overnight ({names}); nothing was saved",
                [s.pk for s in sealed],
            )
        # The bids and their lot are evidence once review starts: from then on a correction goes
        # through the committee (Art. 64) or a re-evaluation, never through the admin.
        frozen = [s for s in sessions if s.phase not in IMPORT_PHASES] if lot_data else []
        if frozen:
            where = "、".join(f"{s} ({s.get_phase_display()})" for s in frozen)
            raise Refused(f"{what}: the lot's data is frozen once review has started: {where}", code="frozen")
        if not request.user.is_superuser:
            for session in sessions:
                require_role(request.user, session, HOST_ONLY, what)
        return sessions

    # 3: write the event on each chain.
    def record(
        self,
        request: HttpRequest,
        sessions: list[EvaluationSession],
        kind: str,
        obj: Model,
        fields: dict[str, dict[str, str | None]],
        *,
        object_id: str | None = None,
        label: str | None = None,
    ) -> None:
        payload = {
            "model": obj._meta.label_lower,
            "object_id": object_id if object_id is not None else str(obj.pk),
            "object": (label if label is not None else str(obj))[:200],
            "fields": fields,
        }
        for session in sessions:
            record_event(session, request.user, kind, payload)
            # The room learns that the session's data changed (and resyncs); the fields stay in the audit.
            broadcast(session.pk, "session.edited", {"model": payload["model"]}, version=session.audit_seq)

    def _what(self, verb: str, obj: Model) -> str:
        return f"{verb} {obj._meta.verbose_name}"

    def save_audited(
        self,
        request: HttpRequest,
        obj: Model,
        form_class: type[forms.Form | forms.ModelForm],
        *,
        change: bool,
        m2m_new: Values | None = None,
    ) -> None:
        """Save ``obj`` (only the columns that changed, when changing) and audit it.

        Only changed columns are written, so a column the form does not edit (a session's phase or
        audit head, moved by an action meanwhile) is never written back stale.
        """
        names = audited_field_names(form_class, type(obj))
        before = type(obj)._default_manager.select_for_update().get(pk=obj.pk) if change else None
        ids = affected_session_ids(obj) | (affected_session_ids(before) if before is not None else set())
        what = self._what("change" if change else "add", obj)
        sessions = self.guard(request, ids, what, lot_data=is_lot_data(obj))
        old = _values(before, names) if before is not None else {}
        new = _values(obj, names, m2m_new)
        changed = {n: {"old": old.get(n), "new": new.get(n)} for n in names if not change or old.get(n) != new.get(n)}
        if change:
            columns = [n for n in changed if not obj._meta.get_field(n).many_to_many]
            if columns:
                obj.save(update_fields=columns)
        else:
            obj.save()
        if changed:
            self.record(request, sessions, "admin.changed" if change else "admin.added", obj, changed)

    def delete_audited(self, request: HttpRequest, obj: Model) -> None:
        reason = self.refuse_delete(obj)
        if reason:
            raise Refused(reason, code="invalid")
        sessions = self.guard(request, affected_session_ids(obj), self._what("delete", obj), lot_data=is_lot_data(obj))
        fields = {f.name: {"old": field_text(f, obj), "new": None} for f in obj._meta.concrete_fields}
        object_id, label = str(obj.pk), str(obj)
        obj.delete()
        self.record(request, sessions, "admin.deleted", obj, fields, object_id=object_id, label=label)

    # The ModelAdmin hooks, all routed through the two methods above.
    def save_model(self, request: HttpRequest, obj: Model, form: forms.ModelForm, change: bool) -> None:
        m2m_new: Values = {
            f.name: _m2m_text(form.cleaned_data.get(f.name) or [])
            for f in obj._meta.many_to_many
            if f.name in form.fields
        }
        self.save_audited(request, obj, type(form), change=change, m2m_new=m2m_new)

    def save_formset(self, request: HttpRequest, form: forms.BaseForm, formset: Any, change: bool) -> None:
        through_action: Callable[[User | AnonymousUser], object] | None = getattr(formset, "save_through_action", None)
        if through_action is not None:
            through_action(request.user)
            return
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            self.delete_audited(request, obj)
        for obj in formset.new_objects:
            self.save_audited(request, obj, formset.form, change=False)
        for obj, _changed in formset.changed_objects:
            self.save_audited(request, obj, formset.form, change=True)
        formset.save_m2m()

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        self.delete_audited(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic(using=router.db_for_write(self.model)):
            for obj in queryset:
                self.delete_audited(request, obj)

    # A refusal rolls back the admin's transaction; it reaches the user as a message.
    def _refusable(self, request: HttpRequest, view: Callable[[], HttpResponse]) -> HttpResponse:
        try:
            return view()
        except _SealedChange as exc:
            for session_id in exc.session_ids:
                actions.record_sealed_access(session_id, request.user, f"admin: {exc.reason}")
            self.message_user(request, exc.reason, messages.ERROR)
        except (Refused, ProtocolError) as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        refused = self.refuse_sealed_read(request, object_id)
        if refused is not None:
            return refused
        view = super().changeform_view
        return self._refusable(request, lambda: view(request, object_id, form_url, extra_context))

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        refused = self.refuse_sealed_read(request, object_id)
        if refused is not None:
            return refused
        view = super().delete_view
        return self._refusable(request, lambda: view(request, object_id, extra_context))

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        view = super().changelist_view
        return self._refusable(request, lambda: view(request, extra_context))


def _adopt(obj: Model, made: Model) -> None:
    """Make the admin's unsaved ``obj`` the row an action created, for the admin's redirect and log."""
    obj.pk = made.pk
    obj.refresh_from_db()
    obj._state.adding = False


def _pretty_json(value: Any) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


# --- reference data -------------------------------------------------------------------------------


@admin.register(TenderProject)
class TenderProjectAdmin(AuditedAdmin):
    sealed_lookup = "lots__sessions"
    list_display = ("code", "name", "category", "tenderer", "agency")
    list_filter = ("category",)
    search_fields = ("code", "name", "tenderer")


@admin.register(Lot)
class LotAdmin(AuditedAdmin):
    sealed_lookup = "sessions"
    list_display = ("__str__", "evaluation_method", "ceiling_price")
    list_filter = ("project", "evaluation_method")
    search_fields = ("code", "name", "project__code", "project__name")
    list_select_related = ("project",)

    def formfield_for_dbfield(self, db_field: models.Field[Any, Any], request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "rules" and field is not None:
            field.help_text = _("JSON 对象；留空 {} 即全部采用默认值。键与取值见 evaluation.protocol.LotRules。")
            field.widget.attrs.update({"rows": 12, "cols": 80, "style": "font-family: monospace"})
        return field


@admin.register(Bidder)
class BidderAdmin(AuditedAdmin):
    sealed_lookup = "bids__lot__sessions"
    list_display = ("name", "credit_code")
    search_fields = ("name", "credit_code")
    filter_horizontal = ("users",)


class BidDocumentInline(admin.TabularInline):
    model = BidDocument
    form = BidDocumentForm
    formset = BidDocumentFormSet
    extra = 1
    fields = ("kind", "file", "original_name", "sha256", "size", "uploaded_at")
    readonly_fields = ("original_name", "sha256", "size", "uploaded_at")


@admin.register(Bid)
class BidAdmin(AuditedAdmin):
    sealed_lookup = "lot__sessions"
    list_display = ("lot", "anonymous_label", "bidder", "price", "opened_at")
    list_filter = ("lot",)
    search_fields = ("bidder__name", "bidder__credit_code", "anonymous_label")
    list_select_related = ("lot__project", "bidder")
    inlines = (BidDocumentInline,)


@admin.register(Expert)
class ExpertAdmin(admin.ModelAdmin):
    list_display = ("full_name", "city", "employer")
    list_filter = ("city",)
    search_fields = ("full_name", "employer", "user__username")


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ("city", "center", "room")
    list_filter = ("city",)
    search_fields = ("city", "center")


@admin.register(Assignment)
class AssignmentAdmin(AuditedAdmin):
    """Adding assigns through ``actions.assign`` (group and one-role checks); an assignment is then
    view-only: to change one, delete it and assign again."""

    list_display = ("session", "user", "role", "venue")
    list_filter = ("role", "session")
    list_select_related = ("session", "user", "venue")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Model, form: forms.ModelForm, change: bool) -> None:
        assert isinstance(obj, Assignment)
        assert not change
        self.guard(request, {obj.session_id}, self._what("add", obj))
        made = actions.assign(request.user, obj.session, obj.user, SessionRole(obj.role), venue=obj.venue)
        _adopt(obj, made)

    def refuse_delete(self, obj: Model) -> str | None:
        assert isinstance(obj, Assignment)
        hosts = Assignment.objects.filter(session_id=obj.session_id, role=SessionRole.HOST)
        if obj.role == SessionRole.HOST and not hosts.exclude(pk=obj.pk).exists():
            return f"{obj.user} is the only host of {obj.session}; assign another host first"
        return None


@admin.register(BidOpeningRecord)
class BidOpeningRecordAdmin(AuditedAdmin):
    """Adding is importing the opening system's JSON file; an imported record is view-only."""

    sealed_lookup = "lot__sessions"

    list_display = ("lot", "opened_at", "sha256", "imported_by", "imported_at")
    list_select_related = ("lot__project", "imported_by")
    readonly_fields = ("lot", "opened_at", "sha256", "imported_by", "imported_at", "parsed", "raw")

    @admin.display(description=_("开标记录"))
    def parsed(self, obj: BidOpeningRecord) -> str:
        return _pretty_json(obj.data)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("lot", "file") if obj is None else self.readonly_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = OpeningRecordUploadForm
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: Model, form: forms.ModelForm, change: bool) -> None:
        assert isinstance(obj, BidOpeningRecord)
        assert not change
        self.guard(request, affected_session_ids(obj), self._what("import", obj))
        _adopt(obj, import_opening_record(obj.lot, form.cleaned_data["file"], request.user))


# --- sessions ------------------------------------------------------------------------------------


class SessionVenueInline(admin.TabularInline):
    model = SessionVenue
    formset = SessionVenueFormSet
    extra = 0


class AssignmentInline(admin.TabularInline):
    model = Assignment
    fields = ("user", "role", "venue")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CommitteeMemberInline(admin.TabularInline):
    """Members are read-only; while the committee is open a new row seats one (``do_add_member``)."""

    model = CommitteeMember
    formset = CommitteeMemberFormSet
    fk_name = "session"
    fields = ("user", "kind", "venue", "replaces", "role", "checked_in_at", "recused_at", "removed_at")
    readonly_fields = ("role", "checked_in_at", "recused_at", "removed_at")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            isinstance(obj, EvaluationSession)
            and obj.phase in COMMITTEE_OPEN
            and super().has_add_permission(request, obj)
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(EvaluationSession)
class EvaluationSessionAdmin(AuditedAdmin):
    """Created through ``actions.create_session``; afterwards only title and schedule are editable."""

    list_display = ("__str__", "lot", "phase", "scheduled_start", "audit_seq")
    list_filter = ("phase",)
    search_fields = ("title", "lot__code", "lot__project__code")
    list_select_related = ("lot__project",)
    editable = ("title", "scheduled_start", "scheduled_end")
    shown = (
        "lot",
        "title",
        "scheduled_start",
        "scheduled_end",
        "re_evaluation_of",
        "phase",
        "return_phase",
        "phase_changed_at",
        "outcome_reason",
        "audit_seq",
        "audit_head",
        "audit_chain",
        "created_at",
    )
    create_fields = ("lot", "title", "scheduled_start", "host", "main_venue", "sub_venues")

    @admin.display(description=_("审计链校验"))
    def audit_chain(self, obj: EvaluationSession) -> str:
        return verify_chain(obj.pk).describe()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.create_fields if obj is None else self.shown

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else tuple(f for f in self.shown if f not in self.editable)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = SessionCreateForm
        return super().get_form(request, obj, change, **kwargs)

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        if obj is None or obj._state.adding:
            return ()
        return (SessionVenueInline, AssignmentInline, CommitteeMemberInline)

    def save_model(self, request: HttpRequest, obj: Model, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        assert isinstance(obj, EvaluationSession)
        data = form.cleaned_data
        session = actions.create_session(
            request.user,
            obj.lot,
            scheduled_start=obj.scheduled_start,
            main_venue=data["main_venue"],
            sub_venues=list(data["sub_venues"]),
            title=obj.title,
            host=data["host"],
        )
        _adopt(obj, session)


# --- the audit log ---------------------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included; a host sees the sessions they are assigned to."""

    list_display = ("session", "seq", "kind", "actor_name", "at")
    list_filter = (("session", admin.RelatedOnlyFieldListFilter), "kind")
    search_fields = ("kind", "actor_name")
    list_select_related = ("session",)
    fields = ("session", "seq", "kind", "actor_name", "at", "pretty_payload", "prev_hash", "hash")
    readonly_fields = fields

    @admin.display(description=_("内容"))
    def pretty_payload(self, obj: AuditEvent) -> str:
        return _pretty_json(obj.payload)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        events = super().get_queryset(request)
        if request.user.is_superuser:
            return events
        return events.filter(session__assignments__user_id=request.user.pk)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
