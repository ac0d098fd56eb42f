"""The room's WebSocket route; config/routing.py gathers every app's."""

from __future__ import annotations

from django.urls import URLPattern, path

from rooms.consumers import RoomConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/sessions/<int:session_id>/", RoomConsumer.as_asgi()),
]
