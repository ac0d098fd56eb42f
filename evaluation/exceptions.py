"""The core's named exceptions; callers turn them into data (an error frame, a form error)."""

from __future__ import annotations


class Refused(Exception):
    """An action was not allowed: wrong role, wrong phase or an unmet precondition."""

    def __init__(self, reason: str, code: str = "refused") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class ProtocolError(ValueError):
    """Untrusted input (an import file, a frame, a form body) did not validate."""
