from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def demo(request: HttpRequest) -> dict[str, Any]:
    return {"EVAL_DEMO": settings.EVAL_DEMO, "SECOND_FACTOR_ON": settings.EVAL_REQUIRE_SECOND_FACTOR}
