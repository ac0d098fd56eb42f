from __future__ import annotations

from evaluation.audit import verify_chain
from evaluation.models import Phase
from tests.personas import advance_to


def test_a_session_runs_from_scheduled_to_archived_with_an_intact_chain(cast):
    advance_to(cast, Phase.ARCHIVED)
    assert cast.session.leader().user == cast.li
    report = verify_chain(cast.session.pk)
    assert report.ok, report.describe()
    assert report.checked == cast.session.audit_seq
