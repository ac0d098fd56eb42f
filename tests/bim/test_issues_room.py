"""An issue raised reaches the room after commit with its version; an attendant, who may not read
issues, learns only the version."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from bim_review import actions
from tests.bim.issue_support import an_issue, in_review
from tests.rooms.conftest import _fresh_room_state, join  # noqa: F401 (the room's fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def model(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return in_review(cast)


async def test_an_issue_reaches_the_room_and_an_attendant_only_learns_the_version(cast, model, join):  # noqa: F811
    li, sun = await join(cast.li, cast.session.pk), await join(cast.sun, cast.session.pk)
    await li.expect("snapshot")
    await sun.expect("snapshot")

    topic = await database_sync_to_async(actions.create_topic)(cast.session.pk, cast.wu, an_issue(model))

    event = await li.expect("bim.topic_created")
    assert event["data"]["guid"] == str(topic.guid)
    assert event["data"]["title"] == topic.title
    hidden = await sun.expect("hidden")
    assert hidden["version"] == event["version"]
