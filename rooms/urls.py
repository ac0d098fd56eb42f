from __future__ import annotations

from django.urls import URLPattern, path

from rooms import views

urlpatterns: list[URLPattern] = [
    path("sessions/<int:pk>/room/", views.room, name="room"),
    path("sessions/<int:pk>/console/", views.console, name="room_console"),
    path("sessions/<int:pk>/venue/", views.venue, name="room_venue"),
]
