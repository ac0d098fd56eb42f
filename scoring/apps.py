from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "scoring"
    verbose_name = _("评分")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from evaluation.demo import add_lot_step
        from scoring.groups import ensure_host_permissions
        from scoring.phases import register
        from scoring.templates_io import ensure_seed_templates, seed_demo_scheme

        register()
        add_lot_step(seed_demo_scheme)
        post_migrate.connect(ensure_seed_templates, sender=self)
        post_migrate.connect(ensure_host_permissions, sender=self)
