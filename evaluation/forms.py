"""Forms of the account pages: the TOTP code of the second factor."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice


class TOTPCodeForm(forms.Form):
    """A 6-digit code checked against one TOTP device.

    django-otp throttles the device itself (each wrong code doubles the wait before the next try) and
    refuses a code that was already used, so a code read over someone's shoulder cannot be replayed.
    """

    code = forms.CharField(
        label=_("动态验证码"),
        min_length=6,
        max_length=6,
        validators=[RegexValidator(r"^\d{6}$", _("请输入 6 位数字验证码。"))],
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": r"\d{6}", "autofocus": True}
        ),
    )

    def __init__(self, device: TOTPDevice, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.device = device

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        code = cleaned.get("code")
        if code is None:
            return cleaned
        with transaction.atomic():
            # Locked, so two tries at once cannot both pass the throttle or reuse one code.
            device = TOTPDevice.objects.select_for_update().get(pk=self.device.pk)
            allowed, details = device.verify_is_allowed()
            # verify_token counts a failure towards the throttle; raising only after the block
            # keeps that count from being rolled back.
            verified = allowed and device.verify_token(code)
        if not allowed:
            locked_until = (details or {}).get("locked_until")
            wait = max(1, int((locked_until - timezone.now()).total_seconds())) if locked_until else 1
            raise forms.ValidationError(
                _("错误次数过多，请 %(seconds)s 秒后再试。"), code="throttled", params={"seconds": wait}
            )
        if not verified:
            raise forms.ValidationError(_("验证码不正确或已过期。"), code="invalid_code")
        self.device = device
        return cleaned
