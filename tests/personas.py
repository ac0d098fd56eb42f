"""The named people of the test suite and the session they meet in.

A host at the main venue in 杭州; a five-member committee in three cities (杭州, 宁波, 温州) that
includes the tenderer's representative; an attendant for each sub-venue; a reviewer; a supervisor;
two bidders; and a spare expert for replacements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from evaluation import actions
from evaluation.identifiers import credit_code_check_char
from evaluation.models import (
    Bidder,
    BidOpeningRecord,
    Category,
    CommitteeMember,
    EvaluationMethod,
    EvaluationSession,
    Expert,
    Lot,
    Phase,
    SessionRole,
    TenderProject,
    Venue,
)
from evaluation.opening import import_opening_record
from evaluation.phases import MAIN_LINE
from scoring import actions as scoring_actions
from scoring import queries as scoring_queries
from scoring.models import LotScheme, ScoringTemplate
from scoring.templates_io import SEEDED

PASSWORD = "correct-horse-battery-staple"
# The seeded templates (scoring/fixtures/templates).
COMPREHENSIVE = SEEDED[EvaluationMethod.COMPREHENSIVE]
LOWEST_PRICE = SEEDED[EvaluationMethod.LOWEST_EVALUATED_PRICE]


def credit_code(seed: str) -> str:
    body = ("91330100" + seed).ljust(17, "0")[:17]
    return body + credit_code_check_char(body)


def make_user(username: str, *groups: str, full_name: str = "", staff: bool = False) -> User:
    user = User.objects.create_user(username, password=PASSWORD, first_name=full_name, is_staff=staff)
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


def make_expert(username: str, full_name: str, city: str) -> User:
    user = make_user(username, "expert", full_name=full_name)
    Expert.objects.create(user=user, full_name=full_name, city=city, specialties=["房建"], employer=f"{city}设计院")
    return user


@dataclass
class Cast:
    session: EvaluationSession
    lot: Lot
    main: Venue
    ningbo: Venue
    wenzhou: Venue
    host: User
    li: User  # expert, 杭州 (main venue)
    zhang: User  # expert, 宁波
    chen: User  # expert, 温州
    liu: User  # expert, 杭州
    zhao: User  # the tenderer's representative, 杭州
    qian: User  # spare expert, 宁波, not seated
    sun: User  # attendant, 宁波
    zhou: User  # attendant, 温州
    wu: User  # reviewer
    zheng: User  # supervisor
    outsider: User  # an expert of another session
    bidder_a: Bidder
    bidder_b: Bidder
    bidder_a_user: User
    bidder_b_user: User

    @property
    def committee(self) -> list[User]:
        return [self.li, self.zhang, self.chen, self.liu, self.zhao]

    def member(self, user: User) -> CommitteeMember:
        return CommitteeMember.objects.get(session=self.session, user=user)

    def refresh(self) -> EvaluationSession:
        self.session.refresh_from_db()
        return self.session


def build_cast(category: str = Category.BUILDING_MUNICIPAL) -> Cast:
    main = Venue.objects.create(city="杭州", center="杭州市公共资源交易中心", room="第一评标室")
    ningbo = Venue.objects.create(city="宁波", center="宁波市公共资源交易中心", room="远程评标室")
    wenzhou = Venue.objects.create(city="温州", center="温州市公共资源交易中心", room="远程评标室")
    project = TenderProject.objects.create(
        code="ZJ-2026-001", name="第一中学教学楼扩建工程", category=category, tenderer="某市教育局", agency="某招标代理"
    )
    lot = Lot.objects.create(project=project, code="BD01", name="土建标段", ceiling_price=Decimal("12500000.00"))
    host = make_user("wang_host", "host", full_name="王主持", staff=True)
    experts = {
        "li": make_expert("li", "李明", "杭州"),
        "zhang": make_expert("zhang", "张华", "宁波"),
        "chen": make_expert("chen", "陈静", "温州"),
        "liu": make_expert("liu", "刘洋", "杭州"),
        "qian": make_expert("qian", "钱进", "宁波"),
        "outsider": make_expert("outsider", "外人", "杭州"),
    }
    zhao = make_user("zhao_rep", full_name="赵代表")
    sun = make_user("sun_attendant", "attendant", full_name="孙核验")
    zhou = make_user("zhou_attendant", "attendant", full_name="周核验")
    wu = make_user("wu_reviewer", "reviewer", full_name="吴审查")
    zheng = make_user("zheng_supervisor", "supervisor", full_name="郑监督")
    bidder_a = Bidder.objects.create(name="甲建设集团有限公司", credit_code=credit_code("AAAA01"))
    bidder_b = Bidder.objects.create(name="乙建工有限公司", credit_code=credit_code("BBBB02"))
    bidder_a_user = make_user("bidder_a", "bidder")
    bidder_b_user = make_user("bidder_b", "bidder")
    bidder_a.users.add(bidder_a_user)
    bidder_b.users.add(bidder_b_user)

    session = actions.create_session(
        host,
        lot,
        scheduled_start=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
        main_venue=main,
        sub_venues=[ningbo, wenzhou],
        title="第一中学教学楼扩建工程 土建标段 评标",
    )
    actions.assign(host, session, sun, SessionRole.ATTENDANT, venue=ningbo)
    actions.assign(host, session, zhou, SessionRole.ATTENDANT, venue=wenzhou)
    actions.assign(host, session, wu, SessionRole.REVIEWER)
    actions.assign(host, session, zheng, SessionRole.SUPERVISOR)
    seats = [("li", main), ("zhang", ningbo), ("chen", wenzhou), ("liu", main)]
    for name, venue in seats:
        actions.do_add_member(session, host, experts[name], venue=venue)
    actions.do_add_member(session, host, zhao, venue=main, kind=CommitteeMember.Kind.TENDERER_REP)
    session.refresh_from_db()
    return Cast(
        session=session,
        lot=lot,
        main=main,
        ningbo=ningbo,
        wenzhou=wenzhou,
        host=host,
        li=experts["li"],
        zhang=experts["zhang"],
        chen=experts["chen"],
        liu=experts["liu"],
        zhao=zhao,
        qian=experts["qian"],
        sun=sun,
        zhou=zhou,
        wu=wu,
        zheng=zheng,
        outsider=experts["outsider"],
        bidder_a=bidder_a,
        bidder_b=bidder_b,
        bidder_a_user=bidder_a_user,
        bidder_b_user=bidder_b_user,
    )


def opening_json(cast: Cast) -> str:
    return (
        '{"lot": "BD01", "opened_at": "2026-12-01T09:00:00+08:00", "ceiling_price": "12500000.00", "bids": ['
        f'{{"bidder": "{cast.bidder_a.name}", "credit_code": "{cast.bidder_a.credit_code}", "price": "11800000.00",'
        ' "decryption": "success", "decrypted_at": "2026-12-01T09:05:00+08:00"},'
        f'{{"bidder": "{cast.bidder_b.name}", "credit_code": "{cast.bidder_b.credit_code}", "price": 12100000.50,'
        ' "decryption": "success", "decrypted_at": "2026-12-01T09:06:00+08:00"}]}'
    )


def verify_all(cast: Cast) -> None:
    for user in cast.committee:
        member = cast.member(user)
        if member.is_seated:
            actions.do_verify_member(cast.session, cast.host, member.pk)


def declare_all(cast: Cast) -> None:
    for user in cast.committee:
        if cast.member(user).is_seated:
            actions.do_declare(cast.session, user, "recusal", grounds=[])
            actions.do_declare(cast.session, user, "integrity")


def elect(cast: Cast, leader: User) -> None:
    target = cast.member(leader).pk
    for user in cast.committee:
        actions.do_cast_vote(cast.session, user, target)


def give_scheme(cast: Cast, template: str = COMPREHENSIVE) -> LotScheme:
    """The lot's copy of a seeded scoring template (made once)."""
    scheme = LotScheme.objects.filter(lot=cast.lot).first()
    if scheme is None:
        scheme = scoring_actions.copy_template(cast.lot, ScoringTemplate.objects.get(name=template), cast.host)
    return scheme


def seated_users(cast: Cast) -> list[User]:
    return [u for u in cast.committee if cast.member(u).is_seated]


def pass_preliminary(cast: Cast) -> None:
    """Every seated member passes every open bid on every preliminary criterion; the leader concludes."""
    concluded = {s.bid.id for s in scoring_queries.preliminary_status(cast.session, cast.host) if s.concluded}
    bids = [b for b in cast.lot.bids.order_by("anonymous_label") if b.pk not in concluded]
    if not bids:
        return
    for user in seated_users(cast):
        for bid in bids:
            scoring_actions.do_pass_preliminary(cast.session, user, bid.pk)
    leader = cast.refresh().leader()
    assert leader is not None
    scoring_actions.do_conclude_preliminary(cast.session, leader.user)


def score_all(cast: Cast) -> None:
    """Every seated member whose sheet is open fills its empty cells with full points and submits."""
    for user in seated_users(cast):
        sheet = scoring_queries.member_sheet(cast.session, user)
        if sheet.submitted:
            continue
        for bid in sheet.bids:
            for criterion in sheet.criteria:
                cell = sheet.cells.get((bid.id, criterion.id))
                if cell is None or cell.value is None:
                    scoring_actions.do_save_score(
                        cast.session,
                        user,
                        bid.id,
                        criterion.id,
                        criterion.max_points,
                        base_version=cell.version if cell else 0,
                    )
        scoring_actions.do_submit_sheet(cast.session, user)


def prepare(cast: Cast, phase: Phase) -> None:
    """Do what the session's people do before the host may move the session into ``phase``."""
    if phase == Phase.DECLARATIONS:
        verify_all(cast)
    elif phase == Phase.LEADER_ELECTION:
        declare_all(cast)
    elif phase == Phase.PRELIMINARY_REVIEW:
        elect(cast, cast.li)
        if not BidOpeningRecord.objects.filter(lot=cast.lot).exists():
            import_opening_record(cast.lot, opening_json(cast), cast.host)
        give_scheme(cast)
    elif phase == Phase.DETAILED_REVIEW:
        pass_preliminary(cast)
    elif phase == Phase.SUMMARY:
        score_all(cast)


MAIN_LINE_TRANSITIONS = {
    Phase.CHECK_IN: "open_check_in",
    Phase.DECLARATIONS: "open_declarations",
    Phase.LEADER_ELECTION: "open_election",
    Phase.PRELIMINARY_REVIEW: "open_preliminary_review",
    Phase.DETAILED_REVIEW: "open_detailed_review",
    Phase.SUMMARY: "open_summary",
    Phase.SIGNING: "finalise",
    Phase.ARCHIVED: "archive",
}


def _step(cast: Cast, phase: Phase) -> None:
    prepare(cast, phase)
    actor = cast.li if phase == Phase.SIGNING else cast.host
    actions.do_transition(cast.session, actor, MAIN_LINE_TRANSITIONS[phase])


def advance_to(cast: Cast, phase: Phase) -> EvaluationSession:
    """Drive the session along the main line, as its people would, from where it is to ``phase``."""
    start = MAIN_LINE.index(Phase(cast.refresh().phase))
    for reached in MAIN_LINE[start + 1 : MAIN_LINE.index(phase) + 1]:
        _step(cast, reached)
        assert cast.refresh().phase == reached
    assert cast.session.phase == phase, f"could not reach {phase} (stopped at {cast.session.phase})"
    return cast.session


def login_verified(client, user: User) -> None:
    """Log the user in with the second factor passed, as after a correct TOTP code."""
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
