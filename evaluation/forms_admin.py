"""Forms of the hosts' admin that do more than edit columns: uploads, imports, action-backed adds."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.core.files.uploadedfile import UploadedFile
from django.forms.formsets import DELETION_FIELD_NAME
from django.utils.translation import gettext_lazy as _

from evaluation import actions
from evaluation.exceptions import ProtocolError
from evaluation.models import (
    Assignment,
    BidDocument,
    BidOpeningRecord,
    CommitteeMember,
    EvaluationSession,
    Lot,
    SessionVenue,
    Venue,
)
from evaluation.permissions import ROLE_GROUPS, Role
from evaluation.uploads import check_document, read_opening_record, reuse_stored_copy


class BidDocumentForm(forms.ModelForm):
    """A bid's document: the hash, size and name come from the uploaded content, never from the form."""

    # Columns this form sets besides its fields; the audit records their changes too.
    derived_fields: ClassVar[tuple[str, ...]] = ("original_name", "sha256", "size")

    class Meta:
        model = BidDocument
        fields = ("kind", "file")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        upload = cleaned.get("file")
        if not isinstance(upload, UploadedFile):
            return cleaned
        try:
            checked = check_document(upload, cleaned.get("kind") or "")
        except ProtocolError as exc:
            self.add_error("file", str(exc))
            return cleaned
        duplicate = BidDocument.objects.filter(bid_id=self.instance.bid_id, sha256=checked.sha256)
        if self.instance.bid_id is not None and duplicate.exclude(pk=self.instance.pk).exists():
            self.add_error("file", _("这份文件已附在该投标文件上（SHA-256 相同）"))
            return cleaned
        self.instance.sha256, self.instance.size = checked.sha256, checked.size
        self.instance.original_name = checked.original_name
        return cleaned

    def save(self, commit: bool = True) -> BidDocument:
        document = super().save(commit=False)
        if "file" in self.changed_data:
            reuse_stored_copy(document)
        if commit:
            document.save()
        return document


def _deleting(form: forms.BaseForm) -> bool:
    return bool(getattr(form, "cleaned_data", {}).get(DELETION_FIELD_NAME, False))


class BidDocumentFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        seen: set[str] = set()
        for form in self.forms:
            if not form.has_changed() or _deleting(form) or "file" not in form.changed_data:
                continue
            digest = form.instance.sha256
            if digest and digest in seen:
                raise forms.ValidationError(_("同一份文件上传了两次（SHA-256 相同）"))
            seen.add(digest)


class OpeningRecordUploadForm(forms.ModelForm):
    """Adding an opening record is uploading its JSON file; the admin imports it on save."""

    file = forms.FileField(label=_("开标记录 JSON 文件"))

    class Meta:
        model = BidOpeningRecord
        fields = ("lot",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lot_field = self.fields["lot"]
        assert isinstance(lot_field, forms.ModelChoiceField)
        lot_field.queryset = Lot.objects.filter(opening_record__isnull=True).select_related("project")

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        try:
            return read_opening_record(upload, upload.name)
        except ProtocolError as exc:
            raise forms.ValidationError(str(exc)) from exc


class SessionCreateForm(forms.ModelForm):
    """The fields of ``actions.create_session``; the admin calls it instead of saving the form."""

    host = forms.ModelChoiceField(
        label=_("主持人"), queryset=get_user_model().objects.filter(groups__name=ROLE_GROUPS[Role.HOST])
    )
    main_venue = forms.ModelChoiceField(label=_("主场"), queryset=Venue.objects.all())
    sub_venues = forms.ModelMultipleChoiceField(label=_("副场"), queryset=Venue.objects.all(), required=False)

    class Meta:
        model = EvaluationSession
        fields = ("lot", "title", "scheduled_start")


class SessionVenueFormSet(forms.BaseInlineFormSet):
    """A session keeps one main venue, and a venue where someone sits or verifies stays linked."""

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        session = self.instance
        for form in self.initial_forms:
            venue_id = form.initial.get("venue")
            if venue_id is None:
                continue
            leaving = _deleting(form) or "venue" in form.changed_data
            in_use = (
                CommitteeMember.objects.filter(session=session, venue_id=venue_id).exists()
                or Assignment.objects.filter(session=session, venue_id=venue_id).exists()
            )
            if leaving and in_use:
                raise forms.ValidationError(
                    _("有评委或人员在该场地，不能移除或更换：%(venue)s"),
                    params={
                        "venue": form.instance.venue,
                    },
                )
        kept = [form for form in self.forms if not _deleting(form) and (form.instance.pk or form.has_changed())]
        if sum(1 for form in kept if form.cleaned_data.get("kind") == SessionVenue.Kind.MAIN) != 1:
            raise forms.ValidationError(_("评标会须有且只有一个主场"))


class CommitteeMemberFormSet(forms.BaseInlineFormSet):
    """Existing members are read-only; a new row seats a member through ``actions.do_add_member``."""

    def add_fields(self, form: Any, index: int | None) -> None:
        super().add_fields(form, index)
        replaces = form.fields.get("replaces")
        if isinstance(replaces, forms.ModelChoiceField):
            replaces.queryset = CommitteeMember.objects.filter(session=self.instance).select_related("user")
        venue = form.fields.get("venue")
        if isinstance(venue, forms.ModelChoiceField):
            venue.queryset = Venue.objects.filter(session_links__session=self.instance)

    def save_through_action(self, actor: User | AnonymousUser) -> list[CommitteeMember]:
        added = []
        for form in self.extra_forms:
            if not form.has_changed() or _deleting(form):
                continue
            data = form.cleaned_data
            replaces = data.get("replaces")
            added.append(
                actions.do_add_member(
                    self.instance,
                    actor,
                    data["user"],
                    venue=data["venue"],
                    kind=data.get("kind") or CommitteeMember.Kind.EXPERT,
                    replaces_id=replaces.pk if replaces is not None else None,
                )
            )
        # What the admin's change message reads, as after BaseModelFormSet.save().
        self.new_objects, self.changed_objects, self.deleted_objects = added, [], []
        return added
