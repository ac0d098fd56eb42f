"""Helpers of the scoring action tests: fill every seated member's sheet, with chosen exceptions."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import User

from scoring import actions as scoring
from scoring import queries
from tests.personas import Cast, seated_users


def fill(cast: Cast, overrides: dict[tuple[User, str], str] | None = None, *, submit: bool = True) -> None:
    """Every seated member gives full points on every typed criterion of every bid in review, except
    ``overrides[(user, criterion code)]`` (for every bid); then submits."""
    overrides = overrides or {}
    for user in seated_users(cast):
        sheet = queries.member_sheet(cast.session, user)
        for bid in sheet.bids:
            for criterion in sheet.criteria:
                value = overrides.get((user, criterion.code), str(criterion.max_points))
                cell = sheet.cells.get((bid.id, criterion.id))
                scoring.do_save_score(
                    cast.session, user, bid.id, criterion.id, value, base_version=cell.version if cell else 0
                )
        if submit:
            scoring.do_submit_sheet(cast.session, user)


def cell_version(cast: Cast, user: User, bid: int, code: str) -> tuple[int, int]:
    """(criterion id, current version) of ``user``'s cell for ``bid`` on criterion ``code``."""
    sheet = queries.member_sheet(cast.session, user)
    criterion = next(c for c in sheet.criteria if c.code == code)
    return criterion.id, sheet.cells[(bid, criterion.id)].version


def total_of(values: list[str]) -> Decimal:
    return sum((Decimal(v) for v in values), Decimal(0))
