from __future__ import annotations

from django.urls import URLPattern, path

from scoring import views

urlpatterns: list[URLPattern] = [
    path("sessions/<int:pk>/scoring/result.json", views.result_json, name="scoring_result_json"),
    path("sessions/<int:pk>/scoring/ocds-release.json", views.result_ocds, name="scoring_result_ocds"),
]
