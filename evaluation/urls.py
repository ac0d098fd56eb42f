from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, path

from evaluation import views

urlpatterns: list[URLPattern] = [
    path("", views.home, name="home"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    # django-axes, an authentication backend, refuses a locked-out account inside LoginView's form;
    # its middleware then answers with registration/locked_out.html.
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/otp/verify/", views.otp_verify, name="otp_verify"),
    path("accounts/otp/setup/", views.otp_setup, name="otp_setup"),
]
