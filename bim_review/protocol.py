"""Shapes of untrusted input to BIM review: issues (BCF topics), comments and viewpoints.

A viewpoint is one JSON shape wherever it travels: the viewer's API body, the room's shared view,
and the content of a ``.bcfv`` file in a ``.bcf`` archive (bim_review/bcf.py maps it to and from the
BCF 3.0 XML). Coordinates are BCF's: the IFC model's world frame in metres, Z up; the viewer turns
them into its own frame.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar, get_args
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from evaluation.exceptions import ProtocolError

MAX_LABELS = 20
MAX_TITLE = 200
MAX_TEXT = 4000
# The statuses, priorities and types our pages offer (BCF 3.0 leaves them to the project's
# extensions.xml; an imported file may use its own words, kept as they are).
Status = Literal["Open", "InProgress", "Resolved", "Closed"]
Priority = Literal["Low", "Normal", "High", "Critical"]
TopicType = Literal["Issue", "Request", "Remark"]
STATUSES: tuple[str, ...] = get_args(Status)
PRIORITIES: tuple[str, ...] = get_args(Priority)
TOPIC_TYPES: tuple[str, ...] = get_args(TopicType)

MAX_IDS = 20_000
MAX_PLANES = 16
MAX_COLOURS = 64

GlobalId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_$]{22}$")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
# Far beyond any building, small enough that no coordinate is an overflow in the browser.
Coordinate = Annotated[float, Field(allow_inf_nan=False, ge=-1e9, le=1e9)]
Vec3 = tuple[Coordinate, Coordinate, Coordinate]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _nonzero(v: Vec3) -> Vec3:
    if math.hypot(*v) < 1e-9:
        raise ValueError("a direction must not be the zero vector")
    return v


class Camera(_Strict):
    kind: Literal["perspective", "orthogonal"]
    position: Vec3
    direction: Vec3
    up: Vec3
    # Perspective: the vertical field of view in degrees. Orthogonal: the view's visible height in metres.
    field_of_view: Annotated[float, Field(gt=0, lt=180)] | None = None
    view_to_world_scale: Annotated[float, Field(gt=0, le=1e9)] | None = None
    aspect_ratio: Annotated[float, Field(gt=0, le=100)] = 1.0

    _direction_nonzero = field_validator("direction", "up")(_nonzero)

    @model_validator(mode="after")
    def _projection_matches_kind(self) -> Camera:
        if self.kind == "perspective" and (self.field_of_view is None or self.view_to_world_scale is not None):
            raise ValueError("a perspective camera has field_of_view (and no view_to_world_scale)")
        if self.kind == "orthogonal" and (self.view_to_world_scale is None or self.field_of_view is not None):
            raise ValueError("an orthogonal camera has view_to_world_scale (and no field_of_view)")
        return self


class ClippingPlane(_Strict):
    location: Vec3
    # Points away from the visible side (BCF 3.0).
    direction: Vec3

    _direction_nonzero = field_validator("direction")(_nonzero)


class Colouring(_Strict):
    # RRGGBB or AARRGGBB, as BCF writes it.
    color: Annotated[str, StringConstraints(pattern=r"^([0-9A-Fa-f]{2})?[0-9A-Fa-f]{6}$")]
    ids: Annotated[list[GlobalId], Field(min_length=1, max_length=MAX_IDS)]


class Viewpoint(_Strict):
    camera: Camera | None = None
    clipping_planes: Annotated[list[ClippingPlane], Field(max_length=MAX_PLANES)] = []
    selected: Annotated[list[GlobalId], Field(max_length=MAX_IDS)] = []
    default_visibility: bool = True
    # Hidden while default_visibility is true; the only elements shown while it is false (BCF's exceptions).
    hidden: Annotated[list[GlobalId], Field(max_length=MAX_IDS)] = []
    coloured: Annotated[list[Colouring], Field(max_length=MAX_COLOURS)] = []

    def to_json(self) -> dict[str, Any]:
        """As stored and served: a camera always has its aspect ratio, BCF-XML requires it."""
        return self.model_dump(mode="json")


class TopicIn(_Strict):
    """A new issue on an element (or on the model as a whole) of one bid's model."""

    model: int
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE)]
    description: Annotated[str, StringConstraints(max_length=MAX_TEXT)] = ""
    topic_type: TopicType = "Issue"
    priority: Priority = "Normal"
    assignee: Annotated[str, StringConstraints(max_length=150)] = ""
    labels: Annotated[list[Label], Field(max_length=MAX_LABELS)] = []
    due_date: datetime | None = None
    # The view the issue was raised in; its snapshot is uploaded with save-viewpoint.
    viewpoint: Viewpoint | None = None

    @field_validator("due_date")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("give the due date with its time zone")
        return v


class TopicChange(_Strict):
    """Fields to change on an issue; those left out stay as they are."""

    status: Status | None = None
    priority: Priority | None = None
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE)] | None = None
    assignee: Annotated[str, StringConstraints(max_length=150)] | None = None
    labels: Annotated[list[Label], Field(max_length=MAX_LABELS)] | None = None
    due_date: datetime | None = None

    @model_validator(mode="after")
    def _something(self) -> TopicChange:
        if not self.model_fields_set:
            raise ValueError("nothing to change")
        if self.due_date is not None and self.due_date.tzinfo is None:
            raise ValueError("give the due date with its time zone")
        return self


class CommentIn(_Strict):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]
    viewpoint: UUID | None = None


# --- a .bcf file's topics, as bim_review/bcf.py reads them (limits wider than our own forms: other
# tools write longer texts; still bounded) ---------------------------------------------------------

Word = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=150)]
MAX_IMPORTED_TEXT = 20_000
MAX_IMPORTED_COMMENTS = 500
MAX_IMPORTED_VIEWPOINTS = 50


class ImportedViewpoint(_Strict):
    guid: UUID
    data: Viewpoint
    snapshot: bytes | None = None
    index: int | None = Field(default=None, ge=0, le=1_000_000)


class ImportedComment(_Strict):
    guid: UUID
    author: Annotated[Name, StringConstraints(min_length=1)]
    date: AwareDatetime
    text: Annotated[str, StringConstraints(max_length=MAX_IMPORTED_TEXT)]
    viewpoint: UUID | None = None
    modified_author: Name = ""
    modified_date: AwareDatetime | None = None


class ImportedTopic(_Strict):
    """One topic of a .bcf file, its comments and viewpoints."""

    guid: UUID
    topic_type: Annotated[Word, StringConstraints(min_length=1)]
    status: Annotated[Word, StringConstraints(min_length=1)]
    priority: Word = ""
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE)]
    description: Annotated[str, StringConstraints(max_length=MAX_IMPORTED_TEXT)] = ""
    labels: Annotated[list[Label], Field(max_length=MAX_LABELS)] = []
    assignee: Name = ""
    due_date: AwareDatetime | None = None
    creation_author: Annotated[Name, StringConstraints(min_length=1)]
    creation_date: AwareDatetime
    modified_author: Name = ""
    modified_date: AwareDatetime | None = None
    comments: Annotated[list[ImportedComment], Field(max_length=MAX_IMPORTED_COMMENTS)] = []
    viewpoints: Annotated[list[ImportedViewpoint], Field(max_length=MAX_IMPORTED_VIEWPOINTS)] = []

    @model_validator(mode="after")
    def _comments_point_at_own_viewpoints(self) -> ImportedTopic:
        mine = {v.guid for v in self.viewpoints}
        for c in self.comments:
            if c.viewpoint is not None and c.viewpoint not in mine:
                raise ValueError(f"comment {c.guid} refers to viewpoint {c.viewpoint}, which the topic does not have")
        return self


T = TypeVar("T", bound=BaseModel)


def parse(model: type[T], data: Any) -> T:
    """Validate untrusted data; a failure becomes a ProtocolError with a short reason."""
    if not isinstance(data, dict):
        raise ProtocolError("expected a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(describe(exc)) from None
