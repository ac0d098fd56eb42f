from __future__ import annotations

from django.apps import AppConfig


class RoomsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "rooms"

    def ready(self) -> None:
        from evaluation.phases import add_action
        from rooms.media import ASK_TO_MUTE

        add_action(ASK_TO_MUTE)
