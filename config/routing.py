"""WebSocket routes of every app; the room consumers add theirs here."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

from rooms.routing import websocket_urlpatterns as room_routes

websocket_urlpatterns: list[URLPattern | URLResolver] = [*room_routes]
