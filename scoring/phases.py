"""Scoring's rows in the core's phase tables: its audited actions and its preconditions on the
main line, added at start-up (``ScoringConfig.ready``) so ``docs/PHASES.md`` shows them too."""

from __future__ import annotations

from evaluation.models import Phase
from evaluation.permissions import Role
from evaluation.phases import ActionRule, add_action, add_precondition
from scoring.queries import preliminary_problem, result_problem, scheme_problem, summary_problem

BEFORE_SUMMARY = frozenset(
    {
        Phase.SCHEDULED,
        Phase.CHECK_IN,
        Phase.DECLARATIONS,
        Phase.LEADER_ELECTION,
        Phase.PRELIMINARY_REVIEW,
        Phase.DETAILED_REVIEW,
    }
)
PRICE_MATTERS = frozenset({Phase.PRELIMINARY_REVIEW, Phase.DETAILED_REVIEW})

RULES = (
    ActionRule(
        "draw_float",
        BEFORE_SUMMARY,
        frozenset({Role.HOST}),
        "mean_with_float: draw k once from the lot's published list; the draw is recorded",
    ),
    ActionRule(
        "mark_preliminary",
        frozenset({Phase.PRELIMINARY_REVIEW}),
        frozenset({Role.MEMBER}),
        "a member's own pass/fail per criterion per bid (or a whole bid passed at once), a reason on fail",
    ),
    ActionRule(
        "conclude_preliminary",
        frozenset({Phase.PRELIMINARY_REVIEW}),
        frozenset({Role.LEADER}),
        "the committee's conclusion per bid once every member marked it: unanimous, or the majority with dissent",
    ),
    ActionRule(
        "review_price",
        PRICE_MATTERS,
        frozenset({Role.LEADER}),
        "evaluated price: a correction with the bidder's confirmation, the policy deduction, a low-price explanation",
    ),
    ActionRule(
        "save_score",
        frozenset({Phase.DETAILED_REVIEW}),
        frozenset({Role.MEMBER}),
        "one cell of the member's own sheet (range, step, number; price computed); a stale version is refused",
    ),
    ActionRule(
        "submit_sheet",
        frozenset({Phase.DETAILED_REVIEW}),
        frozenset({Role.MEMBER}),
        "the member submits a complete sheet; read-only to them afterwards",
    ),
    ActionRule(
        "request_recheck",
        frozenset({Phase.DETAILED_REVIEW}),
        frozenset({Role.LEADER}),
        "reopen a member's submitted sheet for a re-check, with a reason",
    ),
    ActionRule(
        "confirm_deviation",
        frozenset({Phase.DETAILED_REVIEW}),
        frozenset({Role.MEMBER}),
        "keep or change a score deviating above the threshold, with a written reason",
    ),
    ActionRule(
        "correct_score",
        frozenset({Phase.SUMMARY}),
        frozenset({Role.MEMBER}),
        "after the summary: change one's own score for one of the four Art. 64 reasons; old and new kept",
    ),
)


def register() -> None:
    for rule in RULES:
        add_action(rule)
    add_precondition("open_preliminary_review", scheme_problem, "scoring: the lot has its copy of a scoring template")
    add_precondition(
        "open_detailed_review",
        preliminary_problem,
        "scoring: every bid concluded in preliminary review and enough valid bids (else the evaluation fails)",
    )
    add_precondition(
        "open_summary",
        summary_problem,
        "scoring: every sheet submitted; no blocking Art. 64 finding; every deviation answered; price matters settled",
    )
    add_precondition(
        "finalise",
        result_problem,
        "scoring: after the summary's corrections, no objective item differs, nothing out of range or miscounted",
    )
