"""The role groups and the model permissions that come with them, kept in step after each migrate."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

# Hosts keep the reference data in the admin; session phase and the audit log stay read-only there.
HOST_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "tenderproject": ("add", "change", "view"),
    "lot": ("add", "change", "view"),
    "bidder": ("add", "change", "view"),
    "bid": ("add", "change", "view"),
    "biddocument": ("add", "change", "view"),
    "expert": ("add", "change", "view"),
    "venue": ("add", "change", "view"),
    "assignment": ("add", "change", "delete", "view"),
    "bidopeningrecord": ("add", "view"),
    "evaluationsession": ("add", "change", "view"),
    "sessionvenue": ("add", "change", "delete", "view"),
    "committeemember": ("add", "view"),
    "auditevent": ("view",),
}
ROLE_GROUP_NAMES = ("host", "attendant", "reviewer", "supervisor", "expert", "bidder")


def ensure_groups(**kwargs: Any) -> None:
    for name in ROLE_GROUP_NAMES:
        Group.objects.get_or_create(name=name)
    host = Group.objects.get(name="host")
    wanted = [f"{action}_{model}" for model, actions in HOST_PERMISSIONS.items() for action in actions]
    perms = Permission.objects.filter(content_type__app_label="evaluation", codename__in=wanted)
    host.permissions.set(perms)
