from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from bim_review import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("bim/sessions/<int:session_id>/models", views.session_models, name="bim_session_models"),
    path("bim/bids/<int:bid_id>/models", views.upload_model, name="bim_upload_model"),
    path("bim/models/<int:pk>/retry", views.retry_model, name="bim_retry_model"),
    path("bim/models/<int:pk>/<str:name>", views.model_file, name="bim_model_file"),
    path("", include("bim_review.issue_urls")),
]
