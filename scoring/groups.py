"""Model permissions of scoring for the host group (the center edits templates and copies them to
lots in the admin), kept in step after each migrate like the core's (evaluation/groups.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

HOST_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "scoringtemplate": ("add", "change", "delete", "view"),
    "templatepreliminarycriterion": ("add", "change", "delete", "view"),
    "templatecriterion": ("add", "change", "delete", "view"),
    "lotscheme": ("add", "view"),
    "preliminarycriterion": ("view",),
    "criterion": ("view",),
}


def ensure_host_permissions(**kwargs: Any) -> None:
    host, _ = Group.objects.get_or_create(name="host")
    wanted = [f"{action}_{model}" for model, actions in HOST_PERMISSIONS.items() for action in actions]
    host.permissions.add(*Permission.objects.filter(content_type__app_label="scoring", codename__in=wanted))
