"""The host edits scoring templates in the admin, exports and imports them as JSON, and copies one
to a lot; the lot's copy is then read-only there."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from scoring.models import LotScheme, ScoringTemplate
from scoring.templates_io import export_json
from tests.personas import COMPREHENSIVE, LOWEST_PRICE, Cast, login_verified


def test_the_host_s_scoring_admin_pages_render(client, cast: Cast):
    login_verified(client, cast.host)
    template = ScoringTemplate.objects.get(name=COMPREHENSIVE)
    for url in (
        reverse("admin:scoring_scoringtemplate_changelist"),
        reverse("admin:scoring_scoringtemplate_change", args=[template.pk]),
        reverse("admin:scoring_scoringtemplate_import"),
        reverse("admin:scoring_lotscheme_add"),
    ):
        assert client.get(url).status_code == 200, url


def test_a_template_is_exported_and_imported_through_the_admin(client, cast: Cast):
    login_verified(client, cast.host)
    template = ScoringTemplate.objects.get(name=COMPREHENSIVE)
    exported = client.post(
        reverse("admin:scoring_scoringtemplate_changelist"),
        {"action": "export", "_selected_action": [template.pk]},
    )
    assert exported.status_code == 200 and json.loads(exported.content)["name"] == COMPREHENSIVE
    data = json.loads(exported.content) | {"name": "导入的模板"}
    upload = SimpleUploadedFile("t.json", json.dumps(data, ensure_ascii=False).encode(), "application/json")
    response = client.post(reverse("admin:scoring_scoringtemplate_import"), {"file": upload})
    assert response.status_code == 302
    assert export_json(ScoringTemplate.objects.get(name="导入的模板")) == export_json(template).replace(
        COMPREHENSIVE, "导入的模板"
    )


def test_a_bad_import_shows_the_reason_and_creates_nothing(client, cast: Cast):
    login_verified(client, cast.host)
    upload = SimpleUploadedFile("t.json", b'{"name": "x", "method": "auction"}', "application/json")
    response = client.post(reverse("admin:scoring_scoringtemplate_import"), {"file": upload})
    assert response.status_code == 200 and "method" in response.content.decode()
    assert not ScoringTemplate.objects.filter(name="x").exists()


def test_the_host_copies_a_template_to_a_lot_and_the_copy_is_read_only(client, cast: Cast):
    login_verified(client, cast.host)
    template = ScoringTemplate.objects.get(name=LOWEST_PRICE)
    response = client.post(reverse("admin:scoring_lotscheme_add"), {"lot": cast.lot.pk, "template": template.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    scheme = LotScheme.objects.get(lot=cast.lot)
    assert scheme.template_name == LOWEST_PRICE and scheme.preliminary_criteria.count() == 9
    page = client.get(reverse("admin:scoring_lotscheme_change", args=[scheme.pk]))
    assert page.status_code == 200 and 'name="template_name"' not in page.content.decode()


def test_an_expert_cannot_reach_the_scoring_admin(client, cast: Cast):
    login_verified(client, cast.li)
    assert client.get(reverse("admin:scoring_scoringtemplate_changelist")).status_code == 302
