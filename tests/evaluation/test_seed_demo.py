"""The demo data: built through the actions, idempotent, with real audit chains and working logins."""

from __future__ import annotations

import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from evaluation.audit import verify_chain
from evaluation.demo import DEMO_PASSWORD, seed_demo
from evaluation.identifiers import is_valid_credit_code
from evaluation.models import (
    AuditEvent,
    Bid,
    Bidder,
    BidDocument,
    Category,
    CommitteeMember,
    DocumentKind,
    EvaluationSession,
    Expert,
    SessionRole,
    TenderProject,
)

LOT1_MODELS = ("AC20-FZK-Haus.ifc", "duplex.ifc", "IfcOpenHouse_IFC4.ifc")


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def demo_mode(settings) -> None:
    settings.EVAL_DEMO = True


@pytest.fixture
def shared_dir() -> Path:
    shared = Path(django_settings.EVAL_SHARED_DIR)
    missing = [name for name in LOT1_MODELS if not (shared / "ifc" / name).is_file()]
    assert not missing, f"the sample IFC models are missing from {shared / 'ifc'}: {missing}"
    return shared


def snapshot(media: Path) -> tuple[str, list[tuple[str, int]]]:
    """Every row of the apps the demo writes, and every stored file with its size."""
    out = StringIO()
    call_command("dumpdata", "auth.user", "auth.group", "evaluation", indent=1, stdout=out)
    files = sorted((str(p.relative_to(media)), p.stat().st_size) for p in media.rglob("*") if p.is_file())
    return out.getvalue(), files


def test_seeding_twice_gives_exactly_the_same_data(db, media, shared_dir):
    first = seed_demo(shared_dir)
    assert first.changed
    before = snapshot(media)

    second = seed_demo(shared_dir)

    assert not second.changed, second.created
    assert snapshot(media) == before


def test_the_command_says_the_data_is_already_there_on_its_second_run(db, media, demo_mode):
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO())
    assert "Seeded the demo data" in out.getvalue()

    again = StringIO()
    call_command("seed_demo", stdout=again, stderr=StringIO())

    assert "already there; nothing changed" in again.getvalue()
    for username in User.objects.values_list("username", flat=True):
        assert username in again.getvalue()
    assert DEMO_PASSWORD in again.getvalue()


def test_the_command_refuses_outside_demo_mode(db, media, settings):
    settings.EVAL_DEMO = False
    settings.DEBUG = False
    with pytest.raises(CommandError, match="EVAL_DEMO"):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.exists()


def test_the_demo_sessions_audit_chains_verify(db, media, shared_dir):
    seed_demo(shared_dir)
    seed_demo(shared_dir)
    sessions = list(EvaluationSession.objects.order_by("lot__code"))
    assert len(sessions) == 2
    for session in sessions:
        report = verify_chain(session.pk)
        assert report.ok, report.describe()
        kinds = list(AuditEvent.objects.filter(session=session).order_by("seq").values_list("kind", flat=True))
        # Made through the actions: creation, the host and four staff, the opening import, five members.
        assert kinds[0] == "session.created"
        assert kinds.count("assignment.added") == 5
        assert kinds.count("opening.imported") == 1
        assert kinds.count("member.added") == 5
        assert report.checked == session.audit_seq == len(kinds)


def test_the_demo_has_the_project_bids_people_and_committees_it_promises(db, media, shared_dir):
    seed_demo(shared_dir)

    project = TenderProject.objects.get()
    assert project.category == Category.BUILDING_MUNICIPAL
    lot1, lot2 = project.lots.order_by("code")
    assert (lot1.bids.count(), lot2.bids.count()) == (3, 2)
    assert Bidder.objects.count() == 5
    for bidder in Bidder.objects.all():
        assert is_valid_credit_code(bidder.credit_code)
        assert bidder.users.filter(groups__name="bidder").count() == 1

    experts = Expert.objects.select_related("user")
    assert experts.count() == 7
    assert {e.city for e in experts} == {"杭州", "宁波", "温州"}
    assert all(e.user.groups.filter(name="expert").exists() for e in experts)
    assert User.objects.filter(is_superuser=True).count() == 1
    # Staff status means admin access and the second factor: the host and the administrator only.
    assert set(User.objects.filter(is_staff=True).values_list("username", flat=True)) == {"admin", "host_wang"}
    assert User.objects.get(username="host_wang").groups.filter(name="host").exists()

    for session in EvaluationSession.objects.all():
        assert session.main_venue is not None
        assert session.main_venue.city == "杭州"
        assert {v.city for v in session.venues.all()} == {"杭州", "宁波", "温州"}
        roles = sorted(session.assignments.values_list("role", flat=True))
        assert roles == sorted(
            [
                SessionRole.HOST,
                SessionRole.ATTENDANT,
                SessionRole.ATTENDANT,
                SessionRole.REVIEWER,
                SessionRole.SUPERVISOR,
            ]
        )
        attendant_cities = set(
            session.assignments.filter(role=SessionRole.ATTENDANT).values_list("venue__city", flat=True)
        )
        assert attendant_cities == {"宁波", "温州"}
        members = session.seated_members()
        experts_seated = members.filter(kind=CommitteeMember.Kind.EXPERT).count()
        assert members.count() == 5
        assert experts_seated * 3 >= members.count() * 2
        assert {m.venue.city for m in members} == {"杭州", "宁波", "温州"}
    lot1_session = EvaluationSession.objects.get(lot=lot1)
    assert lot1_session.members.filter(kind=CommitteeMember.Kind.TENDERER_REP).count() == 1


def test_each_lot1_bid_carries_its_ifc_model_stored_by_hash(db, media, shared_dir):
    seed_demo(shared_dir)
    documents = BidDocument.objects.filter(kind=DocumentKind.BIM_MODEL).select_related("bid__lot")
    assert sorted(d.original_name for d in documents) == sorted(LOT1_MODELS)
    assert {d.bid.lot.code for d in documents} == {"BD01"}
    assert {d.bid_id for d in documents} == set(Bid.objects.filter(lot__code="BD01").values_list("pk", flat=True))
    for doc in documents:
        content = (shared_dir / "ifc" / doc.original_name).read_bytes()
        assert doc.sha256 == hashlib.sha256(content).hexdigest()
        assert doc.size == len(content)
        assert doc.file.name == f"documents/{doc.sha256[:2]}/{doc.sha256}"
        with doc.file.open("rb") as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == doc.sha256


def test_missing_models_are_reported_and_added_by_a_later_run(db, media, shared_dir, tmp_path):
    without = seed_demo(tmp_path / "no-shared-folder")
    assert [p.name for p in without.missing_models] == list(LOT1_MODELS)
    assert not BidDocument.objects.exists()

    later = seed_demo(shared_dir)

    assert later.created == [
        f"BIM model {name} of {bid.bidder.name}"
        for name, bid in zip(
            LOT1_MODELS, Bid.objects.filter(lot__code="BD01").order_by("bidder__credit_code"), strict=True
        )
    ]
    assert BidDocument.objects.count() == 3


def test_a_second_run_keeps_a_changed_password(db, media, shared_dir):
    seed_demo(shared_dir)
    host = User.objects.get(username="host_wang")
    host.set_password("a-password-the-host-chose")
    host.save()

    seed_demo(shared_dir)

    host.refresh_from_db()
    assert host.check_password("a-password-the-host-chose")


def test_every_demo_login_works(db, media, shared_dir):
    result = seed_demo(shared_dir)
    assert len(result.accounts) == User.objects.count() == 20
    for account in result.accounts:
        request = RequestFactory().post("/accounts/login/")
        user = authenticate(request, username=account.username, password=account.password)
        assert user is not None, account.username
        assert user.get_username() == account.username


def test_a_demo_expert_logs_in_through_the_login_page(db, media, shared_dir, client):
    seed_demo(shared_dir)
    response = client.post("/accounts/login/", {"username": "expert_li", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(User.objects.get(username="expert_li").pk)
