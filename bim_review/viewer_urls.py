from __future__ import annotations

from django.urls import URLPattern, path

from bim_review import viewer

urlpatterns: list[URLPattern] = [
    path("sessions/<int:pk>/bim/", viewer.viewer, name="bim_viewer"),
    path("sessions/<int:pk>/bim/models.json", viewer.viewer_models, name="bim_viewer_models"),
]
