"""Scoring fixtures: the personas' session carried into preliminary or detailed review, and the
room's socket fixtures for the sheet's consumer tests."""

from __future__ import annotations

import pytest
from django.utils import timezone

from evaluation import actions
from evaluation.models import Bid, Phase
from scoring import actions as scoring
from scoring.models import Criterion, PreliminaryCriterion, PreliminaryMark
from tests.personas import Cast, advance_to, give_scheme
from tests.rooms.conftest import _fresh_room_state, join  # noqa: F401  (the room's socket fixtures)


def to_preliminary(cast: Cast) -> None:
    give_scheme(cast)
    if cast.refresh().phase != Phase.PRELIMINARY_REVIEW:
        advance_to(cast, Phase.PRELIMINARY_REVIEW)


def to_detailed(cast: Cast, *, failing: Bid | None = None) -> None:
    """Preliminary review done (every member passed every criterion of every bid, but ``failing``
    fails on the first criterion with a reason), the leader concludes, the host opens detailed review.

    The marks are written in one go: they are the preliminary review's subject, not the sheet's, and
    a mark at a time would be most of these tests' time.
    """
    to_preliminary(cast)
    criteria = list(PreliminaryCriterion.objects.filter(scheme__lot=cast.lot).order_by("position", "pk"))
    marks = []
    for user in cast.committee:
        member = cast.member(user)
        if not member.is_seated:
            continue
        for bid in Bid.objects.filter(lot=cast.lot).order_by("pk"):
            for index, criterion in enumerate(criteria):
                fails = failing is not None and bid.pk == failing.pk and index == 0
                marks.append(
                    PreliminaryMark(
                        session=cast.session,
                        member=member,
                        bid=bid,
                        criterion=criterion,
                        passed=not fails,
                        reason="未按要求盖章" if fails else "",
                        marked_at=timezone.now(),
                    )
                )
    PreliminaryMark.objects.bulk_create(marks)
    scoring.do_conclude_preliminary(cast.session, cast.li, None)  # li is the elected leader
    actions.do_transition(cast.session, cast.host, "open_detailed_review")
    assert cast.refresh().phase == Phase.DETAILED_REVIEW


def typed_criteria(cast: Cast) -> list[Criterion]:
    return [c for c in Criterion.objects.filter(scheme__lot=cast.lot).order_by("position", "pk") if not c.computed]


@pytest.fixture
def detailed(cast: Cast) -> Cast:
    to_detailed(cast)
    return cast
