"""The session phase machine as one table: each transition, who may make it, its precondition.

``docs/PHASES.md`` is rendered from this module (``manage.py render_phases``); a test keeps the two
equal. The actions in ``evaluation/actions.py`` read the same table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext

from evaluation.exceptions import Refused
from evaluation.models import AuditEvent, BidOpeningRecord, EvaluationSession, Phase
from evaluation.permissions import Actor, Role, require_role, session_roles
from evaluation.rules import committee_problem

MAIN_LINE: tuple[Phase, ...] = (
    Phase.SCHEDULED,
    Phase.CHECK_IN,
    Phase.DECLARATIONS,
    Phase.LEADER_ELECTION,
    Phase.PRELIMINARY_REVIEW,
    Phase.DETAILED_REVIEW,
    Phase.SUMMARY,
    Phase.SIGNING,
    Phase.ARCHIVED,
)
REVIEW_PHASES = frozenset({Phase.PRELIMINARY_REVIEW, Phase.DETAILED_REVIEW, Phase.SUMMARY})
BEFORE_SIGNING = frozenset(MAIN_LINE[: MAIN_LINE.index(Phase.SIGNING)])
ACTIVE_PHASES = frozenset(MAIN_LINE[: MAIN_LINE.index(Phase.ARCHIVED)])
TERMINAL_PHASES = frozenset({Phase.ARCHIVED, Phase.FAILED, Phase.STOPPED})
# Phases the committee can be changed in: before the election and before any bid file opens.
COMMITTEE_OPEN = frozenset({Phase.SCHEDULED, Phase.CHECK_IN, Phase.DECLARATIONS})
# Audit kinds that may be written while sealed without breaking the seal: identity re-checks for
# the unseal, its co-signature, and the refused access attempts themselves.
SEAL_NEUTRAL_KINDS = frozenset({"member.checked_in", "cosign.requested", "sealed.access_refused"})

Precondition = Callable[[EvaluationSession], str | None]


def committee_valid(session: EvaluationSession) -> str | None:
    kinds = list(session.seated_members().values_list("kind", flat=True))
    return committee_problem(kinds)


def all_verified(session: EvaluationSession) -> str | None:
    missing = session.seated_members().filter(checked_in_at__isnull=True)
    names = [m.display_name for m in missing.select_related("user")]
    return gettext("not yet verified: %(names)s") % {"names": "、".join(names)} if names else None


def all_declared(session: EvaluationSession) -> str | None:
    missing = [
        m.display_name
        for m in session.seated_members().select_related("user").prefetch_related("declarations")
        if {d.kind for d in m.declarations.all()} != {"recusal", "integrity"}
    ]
    return gettext("declarations missing: %(names)s") % {"names": "、".join(missing)} if missing else None


def leader_elected(session: EvaluationSession) -> str | None:
    return None if session.leader() is not None else gettext("no leader has been elected")


def bids_opened(session: EvaluationSession) -> str | None:
    if not BidOpeningRecord.objects.filter(lot_id=session.lot_id).exists():
        return gettext("the lot's bid-opening record has not been imported")
    return None


def reverified_since_seal(session: EvaluationSession) -> str | None:
    """Unseal: every seated member verified again after the seal, and the seal intact.

    The seal is intact when the event that sealed still carries the head it recorded and nothing but
    seal-neutral events (SEAL_NEUTRAL_KINDS) were appended after it.
    """
    seal = (
        AuditEvent.objects.filter(session=session, kind="phase.changed", payload__to=Phase.SEALED_OVERNIGHT.value)
        .order_by("-seq")
        .first()
    )
    if seal is None:
        return gettext("no seal event found")
    if seal.payload.get("sealed_head") != seal.prev_hash:
        return gettext("the seal event does not match the chain it sealed")
    changed = (
        AuditEvent.objects.filter(session=session, seq__gt=seal.seq)
        .exclude(kind__in=SEAL_NEUTRAL_KINDS)
        .order_by("seq")
        .first()
    )
    if changed is not None:
        return gettext("the session changed while sealed (event #%(seq)s)") % {"seq": changed.seq}
    stale = session.seated_members().filter(Q(checked_in_at__lt=seal.at) | Q(checked_in_at__isnull=True))
    names = [m.display_name for m in stale.select_related("user")]
    if names:
        return gettext("identity not re-checked since the seal: %(names)s") % {"names": "、".join(names)}
    return None


def _all(*checks: Precondition) -> Precondition:
    def check(session: EvaluationSession) -> str | None:
        for c in checks:
            problem = c(session)
            if problem:
                return problem
        return None

    return check


def _none(session: EvaluationSession) -> str | None:
    return None


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[Phase]
    # None: back to the phase stored when sealing or suspending (or one step back, for roll_back).
    target: Phase | None
    who: frozenset[Role]
    precondition: Precondition
    precondition_text: str
    needs_reason: bool = False
    # Two-person rule: the transition happens when one holder of each of these roles has asked.
    cosign: frozenset[Role] = frozenset()


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "open_check_in",
            frozenset({Phase.SCHEDULED}),
            Phase.CHECK_IN,
            frozenset({Role.HOST}),
            committee_valid,
            "committee of 5 or more, odd, at least two thirds experts",
        ),
        Transition(
            "open_declarations",
            frozenset({Phase.CHECK_IN}),
            Phase.DECLARATIONS,
            frozenset({Role.HOST}),
            _all(committee_valid, all_verified),
            "committee valid; every seated member verified",
        ),
        Transition(
            "open_election",
            frozenset({Phase.DECLARATIONS}),
            Phase.LEADER_ELECTION,
            frozenset({Role.HOST}),
            _all(committee_valid, all_verified, all_declared),
            "committee valid; every seated member verified and has made both declarations",
        ),
        Transition(
            "open_preliminary_review",
            frozenset({Phase.LEADER_ELECTION}),
            Phase.PRELIMINARY_REVIEW,
            frozenset({Role.HOST}),
            _all(leader_elected, bids_opened),
            "leader elected; the lot's bid-opening record imported",
        ),
        Transition(
            "open_detailed_review",
            frozenset({Phase.PRELIMINARY_REVIEW}),
            Phase.DETAILED_REVIEW,
            frozenset({Role.HOST}),
            _none,
            "none in the core (scoring adds its own)",
        ),
        Transition(
            "open_summary",
            frozenset({Phase.DETAILED_REVIEW}),
            Phase.SUMMARY,
            frozenset({Role.HOST}),
            _none,
            "none in the core (scoring adds its own)",
        ),
        Transition(
            "finalise",
            frozenset({Phase.SUMMARY}),
            Phase.SIGNING,
            frozenset({Role.LEADER}),
            leader_elected,
            "the leader finalises the result",
        ),
        Transition(
            "archive",
            frozenset({Phase.SIGNING}),
            Phase.ARCHIVED,
            frozenset({Role.HOST}),
            _none,
            "none in the core (the report packet adds: signed by every member)",
        ),
        Transition(
            "roll_back",
            frozenset({Phase.DETAILED_REVIEW, Phase.SUMMARY, Phase.SIGNING}),
            None,
            frozenset({Role.LEADER}),
            _none,
            "a reason; goes one phase back",
            needs_reason=True,
        ),
        Transition(
            "seal",
            REVIEW_PHASES,
            Phase.SEALED_OVERNIGHT,
            frozenset({Role.HOST, Role.SUPERVISOR}),
            _none,
            "host and supervisor both seal (either first)",
            cosign=frozenset({Role.HOST, Role.SUPERVISOR}),
        ),
        Transition(
            "unseal",
            frozenset({Phase.SEALED_OVERNIGHT}),
            None,
            frozenset({Role.HOST, Role.SUPERVISOR}),
            reverified_since_seal,
            "host and supervisor both unseal; every seated member verified again; seal intact",
            cosign=frozenset({Role.HOST, Role.SUPERVISOR}),
        ),
        Transition(
            "suspend",
            ACTIVE_PHASES,
            Phase.SUSPENDED,
            frozenset({Role.HOST}),
            _none,
            "a cause; the phase is stored to resume to",
            needs_reason=True,
        ),
        Transition(
            "resume",
            frozenset({Phase.SUSPENDED}),
            None,
            frozenset({Role.HOST}),
            _none,
            "back to the stored phase; the suspension's duration is recorded",
        ),
        Transition(
            "fail",
            BEFORE_SIGNING | {Phase.SUSPENDED},
            Phase.FAILED,
            frozenset({Role.HOST, Role.LEADER}),
            _none,
            "a reason (too few valid bids, all rejected)",
            needs_reason=True,
        ),
        Transition(
            "stop",
            BEFORE_SIGNING | {Phase.SUSPENDED},
            Phase.STOPPED,
            frozenset({Role.HOST, Role.LEADER}),
            _none,
            "a reason (defective tender documents, an unrepaired fault)",
            needs_reason=True,
        ),
    )
}


# Preconditions and actions that capability apps (scoring, ...) add at start-up (AppConfig.ready), so
# the core keeps one table without importing the apps above it: transition name → [(check, text)].
EXTRA_PRECONDITIONS: dict[str, list[tuple[Precondition, str]]] = {}


def add_precondition(transition: str, check: Precondition, text: str) -> None:
    """Make ``check`` part of ``transition``'s precondition (idempotent: a repeated text is ignored)."""
    if transition not in TRANSITIONS:
        raise KeyError(transition)
    extras = EXTRA_PRECONDITIONS.setdefault(transition, [])
    if text not in [t for _, t in extras]:
        extras.append((check, text))


def add_action(rule: ActionRule) -> None:
    """Add an app's audited action to the ``ACTIONS`` table (idempotent)."""
    ACTIONS[rule.name] = rule


def precondition_problem(name: str, session: EvaluationSession) -> str | None:
    """The first unmet precondition of transition ``name``: the core's, then the apps' in order."""
    problem = TRANSITIONS[name].precondition(session)
    for check, _ in EXTRA_PRECONDITIONS.get(name, ()):
        if problem:
            break
        problem = check(session)
    return problem


def precondition_text(name: str) -> str:
    t = TRANSITIONS[name]
    extras = [text for _, text in EXTRA_PRECONDITIONS.get(name, ())]
    if extras and t.precondition is _none:
        return "; ".join(extras)
    return "; ".join([t.precondition_text, *extras])


def not_in_phase(name: str, session: EvaluationSession) -> str:
    return gettext("%(name)s: not possible in phase %(phase)s") % {"name": name, "phase": Phase(session.phase).label}


def check_transition(user: Actor, session: EvaluationSession, name: str) -> frozenset[Role]:
    """May ``user`` make transition ``name`` of ``session`` now? Raise ``Refused`` with the reason if
    not (unknown transition, wrong role, wrong phase, unmet precondition); return the user's roles.

    The actions call it before changing anything; pages call it to show what a user may do.
    """
    t = TRANSITIONS.get(name)
    if t is None:
        raise Refused(gettext("unknown transition %(name)r") % {"name": name}, code="invalid")
    roles = require_role(user, session, t.who, name)
    if session.phase not in t.sources:
        raise Refused(not_in_phase(name, session), code="wrong_phase")
    problem = precondition_problem(name, session)
    if problem:
        raise Refused(f"{name}: {problem}", code="precondition")
    return roles


def available_transitions(user: Actor, session: EvaluationSession) -> dict[str, Refused | None]:
    """Every transition the user's roles allow from the current phase, with why it is blocked (or None)."""
    roles = session_roles(user, session)
    out: dict[str, Refused | None] = {}
    for name, t in TRANSITIONS.items():
        if not roles & t.who or session.phase not in t.sources:
            continue
        try:
            check_transition(user, session, name)
            out[name] = None
        except Refused as refusal:
            out[name] = refusal
    return out


@dataclass(frozen=True)
class ActionRule:
    """An audited action that is not a phase change, with where and by whom it may happen."""

    name: str
    phases: frozenset[Phase]
    who: frozenset[Role]
    text: str


ACTIONS: dict[str, ActionRule] = {
    a.name: a
    for a in (
        ActionRule(
            "verify_member",
            frozenset({Phase.CHECK_IN, Phase.DECLARATIONS, Phase.SEALED_OVERNIGHT}),
            frozenset({Role.HOST, Role.ATTENDANT}),
            "identity (ID + face by video) of a seated member; an attendant only in their own venue",
        ),
        ActionRule(
            "declare",
            frozenset({Phase.DECLARATIONS}),
            frozenset({Role.MEMBER}),
            "the member's own recusal declaration and integrity commitment; grounds lock them out",
        ),
        ActionRule(
            "recuse_member",
            COMMITTEE_OPEN,
            frozenset({Role.HOST}),
            "record a recusal found by the center, with a reason; the member is locked out",
        ),
        ActionRule(
            "remove_member",
            COMMITTEE_OPEN,
            frozenset({Role.HOST}),
            "take an absent member off the committee, with a reason",
        ),
        ActionRule(
            "readmit_member",
            COMMITTEE_OPEN,
            frozenset({Role.HOST}),
            "seat again a member the host removed (not one already replaced), with a reason",
        ),
        ActionRule(
            "post_notice",
            ACTIVE_PHASES | {Phase.SUSPENDED},
            frozenset({Role.HOST}),
            "a notice to the whole room or to one venue; kept in the audit trail",
        ),
        ActionRule(
            "post_chat",
            (ACTIVE_PHASES - {Phase.SCHEDULED}) | {Phase.SUSPENDED},
            frozenset({Role.MEMBER}),
            "a line of committee discussion; every line is kept in the audit trail",
        ),
        ActionRule(
            "add_member",
            COMMITTEE_OPEN,
            frozenset({Role.HOST}),
            "seat a member or a replacement; never one of the previous committee of a re-evaluation",
        ),
        ActionRule(
            "cast_vote",
            frozenset({Phase.LEADER_ELECTION}),
            frozenset({Role.MEMBER}),
            "one secret ballot per seated member per round; blank allowed",
        ),
        ActionRule(
            "re_evaluate",
            TERMINAL_PHASES,
            frozenset({Role.HOST}),
            "a new session of the same lot linked to this one, with a new committee",
        ),
    )
}


def _phase_list(phases: frozenset[Phase]) -> str:
    ordered = dict.fromkeys(MAIN_LINE + tuple(Phase))
    return ", ".join(f"`{p.value}`" for p in ordered if p in phases)


def render_markdown() -> str:
    """docs/PHASES.md, from the tables above."""
    lines = [
        "# Session phases",
        "",
        "Rendered from `evaluation/phases.py` by `manage.py render_phases`; do not edit by hand.",
        "",
        "```",
        " → ".join(p.value for p in MAIN_LINE),
        "```",
        "",
        "| transition | from | to | who | precondition |",
        "|---|---|---|---|---|",
    ]
    for t in TRANSITIONS.values():
        target = (
            f"`{t.target.value}`" if t.target else ("one phase back" if t.name == "roll_back" else "the stored phase")
        )
        who = " + ".join(sorted(t.who)) if t.cosign else " or ".join(sorted(t.who))
        lines.append(f"| `{t.name}` | {_phase_list(t.sources)} | {target} | {who} | {precondition_text(t.name)} |")
    lines += [
        "",
        "Every transition checks the actor's role in the session and the current phase, writes the new",
        "phase and a `phase.changed` audit event in one transaction, and broadcasts after commit. A",
        "refusal names its reason. Co-signed transitions record the first signature as",
        "`cosign.requested` and change the phase on the second, by the other role.",
        "",
        "## Other audited actions",
        "",
        "| action | in phases | who | what |",
        "|---|---|---|---|",
    ]
    for a in ACTIONS.values():
        lines.append(f"| `{a.name}` | {_phase_list(a.phases)} | {' or '.join(sorted(a.who))} | {a.text} |")
    lines.append("")
    return "\n".join(lines)
