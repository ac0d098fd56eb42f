from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "evaluation"
    verbose_name = _("评标核心")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from evaluation.groups import ensure_groups

        post_migrate.connect(ensure_groups, sender=self)
