"""The center's admin for scoring templates, and the lots' copies of them.

Templates are edited here (criteria inline) and exported or imported as JSON
(``scoring/templates_io.py``). A lot's copy is made here from a template (``copy_template``) and
then only read: later template edits never reach it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from evaluation.admin import _adopt, _pretty_json
from evaluation.exceptions import ProtocolError, Refused
from scoring.actions import copy_template
from scoring.models import (
    Criterion,
    LotScheme,
    PreliminaryCriterion,
    ScoringTemplate,
    TemplateCriterion,
    TemplatePreliminaryCriterion,
)
from scoring.templates_io import export_json, import_template

MAX_IMPORT_BYTES = 1024 * 1024


class TemplatePreliminaryInline(admin.TabularInline):
    model = TemplatePreliminaryCriterion
    fields = ("position", "code", "group", "title", "description")
    extra = 0


class TemplateCriterionInline(admin.TabularInline):
    model = TemplateCriterion
    fields = ("position", "code", "group", "title", "max_points", "step", "objective", "description")
    extra = 0


class TemplateImportForm(forms.Form):
    file = forms.FileField(label=_("评分模板 JSON 文件"))
    replace = forms.BooleanField(label=_("替换同名模板"), required=False)

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("文件过大（上限 1 MiB）"))
        data: bytes = upload.read()
        return data


@admin.register(ScoringTemplate)
class ScoringTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "method", "updated_at")
    inlines = (TemplatePreliminaryInline, TemplateCriterionInline)
    actions = ("export",)
    change_list_template = "admin/scoring/template_changelist.html"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="scoring_scoringtemplate_import"), *super().get_urls()]

    @admin.action(description=_("导出为 JSON"))
    def export(self, request: HttpRequest, queryset: QuerySet[ScoringTemplate]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, _("请只选择一个模板导出"), messages.WARNING)
            return None
        template = queryset.get()
        response = HttpResponse(export_json(template), content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="scoring-template-{template.pk}.json"'
        return response

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = TemplateImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                template = import_template(
                    form.cleaned_data["file"], request.user, replace=form.cleaned_data["replace"]
                )
            except (ProtocolError, Refused) as exc:
                form.add_error("file", getattr(exc, "reason", str(exc)))
            else:
                self.message_user(request, _("已导入评分模板：%(name)s") % {"name": template.name})
                return HttpResponseRedirect(reverse("admin:scoring_scoringtemplate_change", args=[template.pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.model._meta,
            "title": _("导入评分模板"),
        }
        return render(request, "admin/scoring/import_template.html", context)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SchemePreliminaryInline(ReadOnlyInline):
    model = PreliminaryCriterion
    fields = ("position", "code", "group", "title", "description")
    readonly_fields = fields


class SchemeCriterionInline(ReadOnlyInline):
    model = Criterion
    fields = ("position", "code", "group", "title", "max_points", "step", "objective", "description")
    readonly_fields = fields


class SchemeCopyForm(forms.ModelForm):
    """Adding a lot's scheme is copying a template to the lot (replacing its copy before review)."""

    class Meta:
        model = LotScheme
        fields = ("lot", "template")


@admin.register(LotScheme)
class LotSchemeAdmin(admin.ModelAdmin):
    list_display = ("lot", "template_name", "method", "float_draw", "copied_at")
    list_select_related = ("lot__project",)
    readonly_fields = ("lot", "template_name", "method", "settings", "float_draw", "float_drawn_at", "copied_at")
    inlines = (SchemePreliminaryInline, SchemeCriterionInline)

    @admin.display(description=_("评审规则"))
    def settings(self, obj: LotScheme) -> str:
        return _pretty_json(obj.rules)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("lot", "template") if obj is None else self.readonly_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.inlines if obj is not None else ()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = SchemeCopyForm
        return super().get_form(request, obj, change, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None) -> Any:
        try:
            return super().add_view(request, form_url, extra_context)
        except Refused as refusal:
            self.message_user(request, refusal.reason, messages.ERROR)
            return HttpResponseRedirect(request.path)

    def save_model(self, request: HttpRequest, obj: Model, form: forms.ModelForm, change: bool) -> None:
        assert isinstance(obj, LotScheme) and not change and obj.template is not None
        _adopt(obj, copy_template(obj.lot, obj.template, request.user))
