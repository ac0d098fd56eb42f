"""What a browser would post back from an admin page: its form and inline formsets, as rendered."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.messages import get_messages
from django.forms.widgets import MultiWidget


def _put(data: dict[str, Any], form: forms.BaseForm) -> None:
    for bound in form:
        if isinstance(bound.field, forms.FileField):
            continue
        value = bound.value()
        widget = bound.field.widget
        if isinstance(widget, MultiWidget):
            parts = (widget.decompress(value) if value is not None else None) or []
            for i, part in enumerate(parts):
                if part is not None:
                    data[f"{bound.html_name}_{i}"] = str(part)
            continue
        if value is None or value is False:
            continue
        if value is True:
            data[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(v) for v in value]
        else:
            data[bound.html_name] = str(value)


def page_data(response: Any) -> dict[str, Any]:
    """The POST body of the admin change (or add) page in ``response``, with nothing changed."""
    assert response.status_code == 200, response.status_code
    data: dict[str, Any] = {}
    _put(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        _put(data, inline.formset.management_form)
        for form in inline.formset.forms:
            _put(data, form)
    return data


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]
