"""The demo data of ``manage.py seed_demo``: one engineering project evaluated across three cities.

Everything that has an action is made through it (sessions, staff, the bid-opening import, the
committees), so the sessions' audit chains are the real ones. Each piece is looked up before it is
made, so a second run finds everything and changes nothing; the whole run is one transaction, so a
failed run leaves nothing half made. Passwords are set only when an account is created.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core.files import File
from django.db import transaction

from bim_review.model_actions import attach_model
from evaluation import actions
from evaluation.identifiers import credit_code_check_char
from evaluation.models import (
    Assignment,
    Bid,
    Bidder,
    BidDocument,
    BidOpeningRecord,
    Category,
    CommitteeMember,
    DocumentKind,
    EvaluationSession,
    Expert,
    Lot,
    SessionRole,
    TenderProject,
    Venue,
)
from evaluation.opening import import_opening_record

# Demo only: every demo account gets this password when it is created, and the table prints it.
DEMO_PASSWORD = "pingbiao-demo-2026"
CST = ZoneInfo("Asia/Shanghai")

HANGZHOU, NINGBO, WENZHOU = "杭州", "宁波", "温州"


@dataclass(frozen=True)
class Person:
    username: str
    full_name: str
    role: str
    groups: tuple[str, ...] = ()
    staff: bool = False
    superuser: bool = False
    city: str = ""  # experts: the city of their pool, and so of their venue
    specialty: str = ""


@dataclass(frozen=True)
class Company:
    name: str
    credit_body: str  # the first 17 characters; the check character is computed
    username: str

    @property
    def credit_code(self) -> str:
        return self.credit_body + credit_code_check_char(self.credit_body)


@dataclass(frozen=True)
class BidPlan:
    company: Company
    price: str
    ifc: str = ""  # a sample model of the shared folder, kept as the bid's BIM model


@dataclass(frozen=True)
class Seat:
    username: str
    city: str
    kind: str = CommitteeMember.Kind.EXPERT


@dataclass(frozen=True)
class LotPlan:
    code: str
    name: str
    ceiling_price: str
    opened_at: datetime
    session_start: datetime
    bids: tuple[BidPlan, ...]
    committee: tuple[Seat, ...]


VENUES = (
    (HANGZHOU, "杭州市公共资源交易中心", "第一评标室"),  # the main venue
    (NINGBO, "宁波市公共资源交易中心", "远程异地评标室"),
    (WENZHOU, "温州市公共资源交易中心", "远程异地评标室"),
)

ADMIN = Person("admin", "系统管理员", "administrator 管理员", staff=True, superuser=True)
HOST = Person("host_wang", "王主持", "host 主持人 (杭州)", ("host",), staff=True)
ATTENDANTS = {
    NINGBO: Person("attendant_sun", "孙核验", "attendant 宁波场地核验", ("attendant",)),
    WENZHOU: Person("attendant_zhou", "周核验", "attendant 温州场地核验", ("attendant",)),
}
REVIEWER = Person("reviewer_wu", "吴审查", "reviewer BIM 审查员", ("reviewer",))
SUPERVISOR = Person("supervisor_zheng", "郑监督", "supervisor 监督人员", ("supervisor",))
REPRESENTATIVES = (
    Person("rep_zhao", "赵代表", "tenderer's representative 招标人代表 (BD01)"),
    Person("rep_feng", "冯代表", "tenderer's representative 招标人代表 (BD02)"),
)
EXPERTS = (
    Person("expert_li", "李明", "expert 评标专家", ("expert",), city=HANGZHOU, specialty="房屋建筑"),
    Person("expert_liu", "刘洋", "expert 评标专家", ("expert",), city=HANGZHOU, specialty="工程造价"),
    Person("expert_he", "何平", "expert 评标专家", ("expert",), city=HANGZHOU, specialty="市政工程"),
    Person("expert_zhang", "张华", "expert 评标专家", ("expert",), city=NINGBO, specialty="结构工程"),
    Person("expert_qian", "钱进", "expert 评标专家", ("expert",), city=NINGBO, specialty="给排水"),
    Person("expert_chen", "陈静", "expert 评标专家", ("expert",), city=WENZHOU, specialty="建筑电气"),
    Person("expert_lin", "林涛", "expert 评标专家", ("expert",), city=WENZHOU, specialty="工程管理"),
)
COMPANIES = (
    Company("浙江甲建设集团有限公司", "91330100MA2A0001X", "bidder_jia"),
    Company("宁波乙建工有限公司", "91330200MA2B0002Y", "bidder_yi"),
    Company("温州丙市政工程有限公司", "91330300MA2C0003W", "bidder_bing"),
    Company("杭州丁建筑安装有限公司", "91330100MA2D0004U", "bidder_ding"),
    Company("绍兴戊城建集团有限公司", "91330600MA2E0005T", "bidder_wu"),
)

PROJECT = {
    "code": "ZJ-DEMO-2026-001",
    "name": "杭州市第一中学教学楼扩建工程",
    "category": Category.BUILDING_MUNICIPAL,
    "tenderer": "杭州市教育局",
    "agency": "浙江省某招标代理有限公司",
}
LOTS = (
    LotPlan(
        code="BD01",
        name="教学楼土建及安装工程",
        ceiling_price="12500000.00",
        opened_at=datetime(2026, 12, 1, 9, 0, tzinfo=CST),
        session_start=datetime(2026, 12, 1, 10, 0, tzinfo=CST),
        bids=(
            BidPlan(COMPANIES[0], "11860000.00", "AC20-FZK-Haus.ifc"),
            BidPlan(COMPANIES[1], "12130000.50", "duplex.ifc"),
            BidPlan(COMPANIES[2], "11990000.00", "IfcOpenHouse_IFC4.ifc"),
        ),
        committee=(
            Seat("expert_li", HANGZHOU),
            Seat("expert_liu", HANGZHOU),
            Seat("expert_zhang", NINGBO),
            Seat("expert_chen", WENZHOU),
            Seat("rep_zhao", HANGZHOU, CommitteeMember.Kind.TENDERER_REP),
        ),
    ),
    LotPlan(
        code="BD02",
        name="室外市政配套工程",
        ceiling_price="3800000.00",
        opened_at=datetime(2026, 12, 2, 9, 0, tzinfo=CST),
        session_start=datetime(2026, 12, 2, 10, 0, tzinfo=CST),
        bids=(BidPlan(COMPANIES[3], "3620000.00"), BidPlan(COMPANIES[4], "3575000.00")),
        committee=(
            Seat("expert_he", HANGZHOU),
            Seat("expert_qian", NINGBO),
            Seat("expert_lin", WENZHOU),
            Seat("expert_chen", WENZHOU),
            Seat("rep_feng", HANGZHOU, CommitteeMember.Kind.TENDERER_REP),
        ),
    ),
)


# Steps that capability apps (scoring, ...) add at start-up for each demo lot, so the core seeds
# their data without importing them: step(lot, host) returns what it made, or "" if it was there.
LotStep = Callable[[Lot, User], str]
LOT_STEPS: list[LotStep] = []


def add_lot_step(step: LotStep) -> None:
    if step not in LOT_STEPS:
        LOT_STEPS.append(step)


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    role: str
    name: str


@dataclass
class SeedResult:
    created: list[str] = field(default_factory=list)  # what this run made, one line per piece
    accounts: list[Account] = field(default_factory=list)
    missing_models: list[Path] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created)


def opening_record_json(plan: LotPlan) -> str:
    """The lot's bid-opening record as the opening system exports it."""
    bids = [
        {
            "bidder": bid.company.name,
            "credit_code": bid.company.credit_code,
            "price": bid.price,
            "decryption": "success",
            "decrypted_at": plan.opened_at.replace(minute=5 + i).isoformat(),
        }
        for i, bid in enumerate(plan.bids)
    ]
    record = {"lot": plan.code, "opened_at": plan.opened_at.isoformat(), "ceiling_price": plan.ceiling_price}
    return json.dumps({**record, "bids": bids}, ensure_ascii=False)


class _Seeder:
    def __init__(self, shared_dir: Path) -> None:
        self.ifc_dir = shared_dir / "ifc"
        self.result = SeedResult()
        self.users: dict[str, User] = {}
        self.venues: dict[str, Venue] = {}
        self._password_hash = ""

    def made(self, what: str) -> None:
        self.result.created.append(what)

    def password_hash(self) -> str:
        # One hash for the run: the accounts share the demo password, and hashing is slow on purpose.
        if not self._password_hash:
            self._password_hash = make_password(DEMO_PASSWORD)
        return self._password_hash

    def person(self, p: Person) -> User:
        user = User.objects.filter(username=p.username).first()
        if user is None:
            user = User.objects.create(
                username=p.username,
                first_name=p.full_name,
                password=self.password_hash(),
                is_staff=p.staff or p.superuser,
                is_superuser=p.superuser,
            )
            self.made(f"user {p.username}")
        for name in p.groups:
            group, _ = Group.objects.get_or_create(name=name)
            if not user.groups.filter(pk=group.pk).exists():
                user.groups.add(group)
                self.made(f"{p.username} in group {name}")
        if p.city and not Expert.objects.filter(user=user).exists():
            Expert.objects.create(
                user=user,
                full_name=p.full_name,
                city=p.city,
                specialties=[p.specialty],
                employer=f"{p.city}市建筑设计研究院",
            )
            self.made(f"expert profile {p.username}")
        self.users[p.username] = user
        self.result.accounts.append(Account(p.username, DEMO_PASSWORD, p.role, p.full_name))
        return user

    def company(self, c: Company) -> Bidder:
        bidder = Bidder.objects.filter(credit_code=c.credit_code).first()
        if bidder is None:
            bidder = Bidder.objects.create(name=c.name, credit_code=c.credit_code)
            self.made(f"bidder {c.name}")
        user = self.person(Person(c.username, c.name, "bidder 投标人", ("bidder",)))
        if not bidder.users.filter(pk=user.pk).exists():
            bidder.users.add(user)
            self.made(f"{c.username} speaks for {c.name}")
        return bidder

    def venue(self, city: str, center: str, room: str) -> Venue:
        venue, created = Venue.objects.get_or_create(center=center, defaults={"city": city, "room": room})
        if created:
            self.made(f"venue {center}")
        self.venues[city] = venue
        return venue

    def project(self) -> TenderProject:
        project, created = TenderProject.objects.get_or_create(code=PROJECT["code"], defaults=PROJECT)
        if created:
            self.made(f"project {project.code}")
        return project

    def lot(self, project: TenderProject, plan: LotPlan) -> Lot:
        lot, created = Lot.objects.get_or_create(
            project=project,
            code=plan.code,
            defaults={"name": plan.name, "ceiling_price": Decimal(plan.ceiling_price)},
        )
        if created:
            self.made(f"lot {plan.code}")
        return lot

    def session(self, lot: Lot, plan: LotPlan) -> EvaluationSession:
        host = self.users[HOST.username]
        session = EvaluationSession.objects.filter(lot=lot).order_by("id").first()
        if session is None:
            session = actions.create_session(
                host,
                lot,
                scheduled_start=plan.session_start,
                main_venue=self.venues[HANGZHOU],
                sub_venues=[self.venues[NINGBO], self.venues[WENZHOU]],
                host=host,
                title=f"{lot.project.name} {lot.name} 评标",
            )
            self.made(f"session {session.title}")
        staff: list[tuple[Person, SessionRole, Venue | None]] = [
            (ATTENDANTS[NINGBO], SessionRole.ATTENDANT, self.venues[NINGBO]),
            (ATTENDANTS[WENZHOU], SessionRole.ATTENDANT, self.venues[WENZHOU]),
            (REVIEWER, SessionRole.REVIEWER, None),
            (SUPERVISOR, SessionRole.SUPERVISOR, None),
        ]
        for person, role, venue in staff:
            user = self.users[person.username]
            if not Assignment.objects.filter(session=session, user=user).exists():
                actions.assign(host, session, user, role, venue=venue)
                self.made(f"{person.username} assigned to {lot.code} as {role}")
        return session

    def opening(self, lot: Lot, plan: LotPlan) -> None:
        if not BidOpeningRecord.objects.filter(lot=lot).exists():
            import_opening_record(lot, opening_record_json(plan), self.users[HOST.username])
            self.made(f"bid-opening record of {lot.code} ({len(plan.bids)} bids)")

    def committee(self, session: EvaluationSession, plan: LotPlan) -> None:
        host = self.users[HOST.username]
        for seat in plan.committee:
            user = self.users[seat.username]
            if not CommitteeMember.objects.filter(session=session, user=user).exists():
                actions.do_add_member(session, host, user, venue=self.venues[seat.city], kind=seat.kind)
                self.made(f"{seat.username} on the committee of {plan.code}")

    def models(self, lot: Lot, plan: LotPlan) -> None:
        for bid_plan in plan.bids:
            if not bid_plan.ifc:
                continue
            bid = Bid.objects.get(lot=lot, bidder__credit_code=bid_plan.company.credit_code)
            if BidDocument.objects.filter(bid=bid, kind=DocumentKind.BIM_MODEL, original_name=bid_plan.ifc).exists():
                continue
            path = self.ifc_dir / bid_plan.ifc
            if not path.is_file():
                self.result.missing_models.append(path)
                continue
            self.store_model(bid, path)
            self.made(f"BIM model {path.name} of {bid_plan.company.name}")

    def store_model(self, bid: Bid, path: Path) -> BidDocument:
        # Through the audited action, as a host would attach it; the server converts it later.
        with path.open("rb") as fh:
            model = attach_model(self.users[HOST.username], bid, File(fh, name=path.name), convert=False)
        return model.document

    def run(self) -> SeedResult:
        self.person(ADMIN)
        for p in (HOST, *ATTENDANTS.values(), REVIEWER, SUPERVISOR, *REPRESENTATIVES, *EXPERTS):
            self.person(p)
        for company in COMPANIES:
            self.company(company)
        for city, center, room in VENUES:
            self.venue(city, center, room)
        project = self.project()
        for plan in LOTS:
            lot = self.lot(project, plan)
            # The session first, so the import of the opening record goes into its audit chain.
            session = self.session(lot, plan)
            self.opening(lot, plan)
            self.committee(session, plan)
            self.models(lot, plan)
            for step in LOT_STEPS:
                made = step(lot, self.users[HOST.username])
                if made:
                    self.made(made)
        return self.result


def seed_demo(shared_dir: Path) -> SeedResult:
    """Make whatever of the demo data is missing; the IFC models are read from ``shared_dir / "ifc"``."""
    with transaction.atomic():
        return _Seeder(shared_dir).run()
