"""Compare two models of a lot: exactly the elements added, removed and changed, and the changed
property; nothing for a real sample against itself; cached by the pair of hashes; bids by label only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from bim_review import compare, ifc
from bim_review.models import ModelComparison
from tests.bim.compare_fixtures import make_revision
from tests.bim.ifc_fixtures import ORGANISATION
from tests.bim.issue_support import add_model, bid_of, in_review
from tests.personas import login_verified


@pytest.fixture(autouse=True)
def _english_pages(client):
    # The reasons are asserted as the code writes them (English); the pages' own default is Chinese.
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def revision(house, tmp_path):
    return make_revision(house, tmp_path / "revision-2.ifc")


@pytest.fixture
def two_bids(cast, house, revision, settings, tmp_path):
    """The session in review; bid A's model is the house, bid B's the house's second revision."""
    settings.MEDIA_ROOT = tmp_path / "media"
    in_review(cast)
    old = add_model(bid_of(cast, cast.bidder_a.name), house.path)
    new = add_model(bid_of(cast, cast.bidder_b.name), revision.path, name=f"{cast.bidder_b.name}-投标模型.ifc")
    return old, new


def test_compare_finds_exactly_the_added_removed_and_changed_elements(house, revision):
    result = ifc.compare_files(house.path, revision.path)

    assert [e["id"] for e in result["added"]] == [revision.added]
    assert [e["id"] for e in result["removed"]] == [revision.removed]
    changed = {e["id"]: e for e in result["changed"]}
    assert {guid: e["kinds"] for guid, e in changed.items()} == {
        revision.changed: ["properties"],
        revision.reshaped: ["geometry"],
    }
    assert changed[revision.changed]["properties"] == [
        {"set": "Pset_WallCommon", "name": "FireRating", "old": "REI60", "new": "REI120"}
    ]


def test_compare_of_a_real_sample_with_itself_finds_no_changes():
    path = Path(django_settings.EVAL_SHARED_DIR) / "ifc" / "AC20-FZK-Haus.ifc"
    assert ifc.compare_files(path, path) == {"added": [], "removed": [], "changed": []}


def test_compare_output_does_not_name_the_bidder(house, revision):
    text = json.dumps(ifc.compare_files(house.path, revision.path, house.path.name, revision.path.name))
    assert ORGANISATION not in text
    assert "[redacted]" in text


def test_compare_runs_once_then_comes_from_the_cache_of_the_pair_of_hashes(two_bids, revision):
    old, new = two_bids
    first = compare.compare_models(old, new)
    assert [e["id"] for e in first["added"]] == [revision.added]

    # The second answer is the cached one: the files are not even read again.
    old.document.file.delete(save=False)
    new.document.file.delete(save=False)
    assert compare.compare_models(old, new) == first
    assert ModelComparison.objects.filter(old_sha256=old.sha256, new_sha256=new.sha256).count() == 1


def test_an_expert_sees_the_compare_with_bids_named_by_their_labels_only(client, cast, two_bids, revision):
    old, new = two_bids
    login_verified(client, cast.zhang)
    response = client.get(f"/bim/sessions/{cast.session.pk}/compare?old={old.pk}&new={new.pk}")

    assert response.status_code == 200
    data = response.json()
    assert data["old"] == {"model": old.pk, "bid": old.bid.anonymous_label}
    assert data["new"] == {"model": new.pk, "bid": new.bid.anonymous_label}
    assert data["counts"] == {"added": 1, "removed": 1, "changed": 2}
    text = response.content.decode()
    for secret in (cast.bidder_a.name, cast.bidder_b.name, new.original_name, ORGANISATION):
        assert secret not in text


def test_a_bidder_cannot_compare(client, cast, two_bids):
    old, new = two_bids
    login_verified(client, cast.bidder_a_user)
    response = client.get(f"/bim/sessions/{cast.session.pk}/compare?old={old.pk}&new={new.pk}")
    assert response.status_code == 404


def test_a_model_of_another_lot_is_not_compared(client, cast, two_bids):
    old, _ = two_bids
    login_verified(client, cast.wu)
    response = client.get(f"/bim/sessions/{cast.session.pk}/compare?old={old.pk}&new=999999")
    assert response.status_code == 404
    assert "not a model of this lot" in response.json()["error"]
