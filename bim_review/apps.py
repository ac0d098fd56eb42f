from __future__ import annotations

from django.apps import AppConfig


class BimReviewConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "bim_review"

    def ready(self) -> None:
        from bim_review.actions import register

        register()
