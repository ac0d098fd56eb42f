"""Reads of BIM issues for other parts of the system: the evaluation report lists them per bid.

The bids are named by their anonymous labels; the report adds the bidders' names where it may.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bim_review.models import Topic


@dataclass(frozen=True)
class IssueLine:
    guid: str
    title: str
    topic_type: str
    status: str
    priority: str
    assignee: str
    creation_author: str
    creation_date: datetime
    comments: int
    # SHA-256 of each snapshot, for the report's list of hashes.
    snapshots: tuple[str, ...]


@dataclass
class BidIssues:
    bid_id: int
    label: str
    # The SHA-256 of each model the issues are on.
    models: list[str] = field(default_factory=list)
    issues: list[IssueLine] = field(default_factory=list)

    @property
    def open_count(self) -> int:
        return sum(1 for issue in self.issues if issue.status not in ("Resolved", "Closed"))


def issues_per_bid(session_id: int) -> list[BidIssues]:
    """The session's issues grouped by bid (by label), each bid's in the order they were raised."""
    topics = (
        Topic.objects.filter(session_id=session_id)
        .select_related("model__bid")
        .prefetch_related("comments", "viewpoints")
        .order_by("model__bid__anonymous_label", "creation_date", "id")
    )
    groups: dict[int, BidIssues] = {}
    for topic in topics:
        bid = topic.model.bid
        group = groups.setdefault(bid.pk, BidIssues(bid.pk, bid.anonymous_label))
        if topic.model.sha256 not in group.models:
            group.models.append(topic.model.sha256)
        group.issues.append(
            IssueLine(
                guid=str(topic.guid),
                title=topic.title,
                topic_type=topic.topic_type,
                status=topic.status,
                priority=topic.priority,
                assignee=topic.assignee,
                creation_author=topic.creation_author,
                creation_date=topic.creation_date,
                comments=len(topic.comments.all()),
                snapshots=tuple(v.snapshot_sha256 for v in topic.viewpoints.all() if v.snapshot_sha256),
            )
        )
    return list(groups.values())
