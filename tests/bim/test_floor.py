"""The floor of the shared BIM view: the host gives it to a seated expert and takes it back, audited."""

from __future__ import annotations

import pytest

from bim_review.sharing import current_floor, do_give_floor, may_present
from evaluation.exceptions import Refused
from evaluation.models import AuditEvent, Phase
from evaluation.permissions import Role
from tests.personas import advance_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_review(cast):
    advance_to(cast, Phase.PRELIMINARY_REVIEW)
    return cast


def test_host_gives_an_expert_the_floor_and_takes_it_back_each_time_audited(in_review):
    cast = in_review
    zhang = cast.member(cast.zhang)
    do_give_floor(cast.session.pk, cast.host, zhang.pk)
    given = AuditEvent.objects.filter(session=cast.session).latest("seq")
    assert given.kind == "bim.floor" and given.actor_name == "wang_host"
    assert given.payload == {"member": zhang.pk, "name": "张华", "by": "wang_host"}
    assert current_floor(cast.session.pk) == given.payload
    do_give_floor(cast.session.pk, cast.host, None)
    assert AuditEvent.objects.filter(session=cast.session).latest("seq").payload["member"] is None
    assert current_floor(cast.session.pk) is None


def test_only_the_host_gives_the_floor(in_review):
    cast = in_review
    for user in (cast.wu, cast.li, cast.zheng):
        with pytest.raises(Refused) as refused:
            do_give_floor(cast.session.pk, user, cast.member(cast.zhang).pk)
        assert refused.value.code == "forbidden"


def test_the_floor_is_given_only_in_the_review_phases(cast):
    with pytest.raises(Refused) as refused:
        do_give_floor(cast.session.pk, cast.host, cast.member(cast.zhang).pk)
    assert refused.value.code == "wrong_phase"


def test_the_floor_goes_only_to_a_seated_member_of_this_committee(in_review):
    cast = in_review
    with pytest.raises(Refused) as refused:
        do_give_floor(cast.session.pk, cast.host, 10**6)
    assert refused.value.code == "not_found"


def test_taking_back_a_floor_nobody_holds_or_giving_it_twice_is_a_conflict(in_review):
    cast = in_review
    with pytest.raises(Refused) as refused:
        do_give_floor(cast.session.pk, cast.host, None)
    assert refused.value.code == "conflict"
    do_give_floor(cast.session.pk, cast.host, cast.member(cast.zhang).pk)
    with pytest.raises(Refused) as refused:
        do_give_floor(cast.session.pk, cast.host, cast.member(cast.zhang).pk)
    assert refused.value.code == "conflict"


def test_host_and_reviewer_present_without_the_floor_experts_only_with_it():
    floor = {"member": 7, "name": "张华", "by": "wang_host"}
    assert may_present(frozenset({Role.HOST}), None, None)
    assert may_present(frozenset({Role.REVIEWER}), None, None)
    assert not may_present(frozenset({Role.SUPERVISOR}), None, floor)
    assert not may_present(frozenset({Role.MEMBER}), 8, floor)
    assert may_present(frozenset({Role.MEMBER}), 7, floor)
