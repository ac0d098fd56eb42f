"""``manage.py import_opening LOT_ID FILE --user USERNAME``: all or nothing, a reason and status 1 on refusal."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from evaluation.audit import verify_chain
from evaluation.models import AuditEvent, Bid, Bidder, BidOpeningRecord
from evaluation.uploads import MAX_OPENING_RECORD_BYTES
from tests.personas import opening_json


def write(tmp_path, text: str | bytes, name: str = "opening.json"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def run(*args: object) -> str:
    out = StringIO()
    call_command("import_opening", *(str(a) for a in args), stdout=out)
    return out.getvalue()


def test_wang_imports_the_opening_record_with_the_command(cast, tmp_path):
    path = write(tmp_path, opening_json(cast))

    out = run(cast.lot.pk, path, "--user", "wang_host")

    record = BidOpeningRecord.objects.get(lot=cast.lot)
    assert "2 bids" in out and record.sha256 in out
    assert Bid.objects.get(lot=cast.lot, bidder=cast.bidder_b).price == Decimal("12100000.50")
    assert AuditEvent.objects.filter(session=cast.session, kind="opening.imported", actor=cast.host).exists()
    assert verify_chain(cast.session.pk).ok


def replace(cast, old: str, new: str) -> str:
    text = opening_json(cast)
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda cast: "{not json", "not JSON"),
        (lambda cast: replace(cast, '"lot": "BD01"', '"lot": "BD02"'), "the record is for lot BD02, not BD01"),
        (
            lambda cast: replace(cast, cast.bidder_b.credit_code, cast.bidder_b.credit_code[:17] + "Z"),
            "is not a valid unified social credit code",
        ),
        (lambda cast: replace(cast, "12100000.50", "12100000.505"), "no more than 2 decimal places"),
        (
            lambda cast: replace(cast, cast.bidder_b.credit_code, cast.bidder_a.credit_code),
            "a bidder appears twice",
        ),
        (lambda cast: replace(cast, '"12500000.00"', '"12600000.00"'), "differs from the lot's 12500000.00"),
        (lambda cast: replace(cast, "+08:00", ""), "needs a time zone offset"),
    ],
    ids=["not-json", "wrong-lot", "bad-credit-code", "float-precision", "duplicate-bidder", "ceiling", "naive-time"],
)
def test_a_bad_opening_record_file_is_refused_with_its_reason_and_nothing_is_stored(cast, tmp_path, make, reason):
    path = write(tmp_path, make(cast))
    bidders = Bidder.objects.count()

    with pytest.raises(CommandError, match=reason) as refused:
        run(cast.lot.pk, path, "--user", "wang_host")

    assert refused.value.returncode == 1
    assert not BidOpeningRecord.objects.exists()
    assert not Bid.objects.exists()
    assert Bidder.objects.count() == bidders
    assert not AuditEvent.objects.filter(session=cast.session, kind="opening.imported").exists()


def test_importing_a_lots_opening_record_twice_is_refused(cast, tmp_path):
    path = write(tmp_path, opening_json(cast))
    run(cast.lot.pk, path, "--user", "wang_host")

    with pytest.raises(CommandError, match="already been imported"):
        run(cast.lot.pk, path, "--user", "wang_host")

    assert BidOpeningRecord.objects.count() == 1
    assert Bid.objects.count() == 2


@pytest.mark.parametrize(
    ("lot", "file", "user", "reason"),
    [
        ("lot", "opening.json", "li", "only a host imports"),
        ("lot", "opening.json", "nobody", "user 'nobody' does not exist"),
        (999999, "opening.json", "wang_host", "lot 999999 does not exist"),
        ("lot", "missing.json", "wang_host", "cannot read"),
    ],
)
def test_the_command_refuses_a_wrong_user_lot_or_path(cast, tmp_path, lot, file, user, reason):
    write(tmp_path, opening_json(cast))

    with pytest.raises(CommandError, match=reason):
        run(cast.lot.pk if lot == "lot" else lot, tmp_path / file, "--user", user)

    assert not BidOpeningRecord.objects.exists()


def test_an_oversized_or_non_utf8_file_is_refused_before_parsing(cast, tmp_path):
    big = write(tmp_path, b" " * (MAX_OPENING_RECORD_BYTES + 1), "big.json")
    utf16 = write(tmp_path, opening_json(cast).encode("utf-16"), "utf16.json")

    with pytest.raises(CommandError, match="larger than"):
        run(cast.lot.pk, big, "--user", "wang_host")
    with pytest.raises(CommandError, match="not UTF-8 text"):
        run(cast.lot.pk, utf16, "--user", "wang_host")

    assert not BidOpeningRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_manage_py_prints_the_reason_and_exits_with_status_1(cast, tmp_path, capsys):
    path = write(tmp_path, "{not json")

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "import_opening", str(cast.lot.pk), str(path), "--user", "wang_host"]).execute()

    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "CommandError:" in err
    assert "not JSON" in err
    assert not BidOpeningRecord.objects.exists()
