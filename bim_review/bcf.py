"""BCF 3.0 files (``.bcf``): export a session's issues, import the issues of a file.

Archive layout (buildingSMART BCF-XML 3.0)::

    bcf.version                  <Version VersionId="3.0"/>
    project.bcfp                 the session as the BCF project
    extensions.xml               the topic types, statuses, priorities, labels and users used
    <topic guid>/markup.bcf      the topic, its comments and the list of its viewpoints
    <topic guid>/<vp guid>.bcfv  one viewpoint (camera, clipping planes, components)
    <topic guid>/<vp guid>.png   its snapshot

Written and read here with the standard library's ElementTree rather than with bcf-client: the
viewpoint is the project's one pydantic shape (bim_review.protocol.Viewpoint, shared with the viewer
and the room), so the XML is only a mapping of it; an untrusted archive needs our own limits before any XML
parser sees it; and the tests then open our files with bcf-client as a reader independent of ours.

Imports are untrusted (``read_archive``):

1. the file's size is capped before it is opened; it must be a ZIP archive;
2. every entry is checked before anything is read: how many, names (no absolute paths, no ``..``,
   no backslashes, at most ``<folder>/<file>``), no symbolic links, no encryption, the declared
   sizes and the compression ratio (a zip bomb declares a small file that inflates enormously);
3. each entry is then read with a hard cap, so a lying size in the archive is caught too;
4. XML with a DOCTYPE or entity declarations is refused (no entity expansion, no external entities);
5. the topics are validated as pydantic models (bim_review.protocol.ImportedTopic).

Any failure raises ``ProtocolError`` with the reason; nothing is written until the whole file has been
read and checked, and then in one transaction (bim_review.actions.import_topics).
"""

from __future__ import annotations

import io
import stat
import uuid
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from pydantic import ValidationError

from bim_review.models import BimModel, Topic
from bim_review.protocol import PRIORITIES, STATUSES, TOPIC_TYPES, ImportedTopic, describe
from bim_review.protocol import Viewpoint as ViewpointData
from evaluation.exceptions import ProtocolError

MAX_BCF_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 2000
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_XML_BYTES = 5 * 1024 * 1024
MAX_IMAGE_BYTES = 4 * 1024 * 1024
MAX_RATIO = 200
MAX_TOPICS = 500
# Entries get a fixed time, so the same issues export to the same bytes.
ZIP_TIME = (2020, 1, 1, 0, 0, 0)
VERSION = "3.0"


# --- writing ------------------------------------------------------------------------------------


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _text(parent: ET.Element, tag: str, value: Any) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = value if isinstance(value, str) else _format(value)
    return element


def _format(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _point(parent: ET.Element, tag: str, vector: list[float]) -> None:
    element = ET.SubElement(parent, tag)
    for axis, value in zip(("X", "Y", "Z"), vector, strict=True):
        _text(element, axis, float(value))


def _components(parent: ET.Element, tag: str, ids: list[str]) -> None:
    element = ET.SubElement(parent, tag)
    for guid in ids:
        ET.SubElement(element, "Component", IfcGuid=guid)


CAMERAS = {
    "perspective": ("PerspectiveCamera", "field_of_view", "FieldOfView"),
    "orthogonal": ("OrthogonalCamera", "view_to_world_scale", "ViewToWorldScale"),
}


def visinfo_xml(guid: uuid.UUID, data: dict[str, Any]) -> bytes:
    """A viewpoint (bim_review.protocol.Viewpoint JSON, as stored) as a BCF 3.0 ``.bcfv`` document."""
    root = ET.Element("VisualizationInfo", Guid=str(guid))
    components = ET.SubElement(root, "Components")
    if data.get("selected"):
        _components(components, "Selection", data["selected"])
    visibility = ET.SubElement(
        components, "Visibility", DefaultVisibility=_format(data.get("default_visibility", True))
    )
    if data.get("hidden"):
        _components(visibility, "Exceptions", data["hidden"])
    if data.get("coloured"):
        coloring = ET.SubElement(components, "Coloring")
        for colour in data["coloured"]:
            _components(ET.SubElement(coloring, "Color", Color=colour["color"]), "Components", colour["ids"])
    camera = data.get("camera")
    if camera is not None:
        tag, scale_key, scale_tag = CAMERAS[camera["kind"]]
        element = ET.SubElement(root, tag)
        _point(element, "CameraViewPoint", camera["position"])
        _point(element, "CameraDirection", camera["direction"])
        _point(element, "CameraUpVector", camera["up"])
        _text(element, scale_tag, float(camera[scale_key]))
        _text(element, "AspectRatio", float(camera["aspect_ratio"]))
    if data.get("clipping_planes"):
        planes = ET.SubElement(root, "ClippingPlanes")
        for plane in data["clipping_planes"]:
            element = ET.SubElement(planes, "ClippingPlane")
            _point(element, "Location", plane["location"])
            _point(element, "Direction", plane["direction"])
    return _xml(root)


def markup_xml(topic: Topic, viewpoint_files: dict[uuid.UUID, tuple[str, str | None]]) -> bytes:
    root = ET.Element("Markup")
    header = ET.SubElement(ET.SubElement(root, "Header"), "Files")
    # The model by its anonymous label: the uploaded file's name could name the bidder.
    file = ET.SubElement(header, "File", IsExternal="true")
    _text(file, "Filename", f"{topic.model.bid.anonymous_label}.ifc")
    _text(file, "Reference", topic.model.sha256)
    element = ET.SubElement(root, "Topic", Guid=str(topic.guid), TopicType=topic.topic_type, TopicStatus=topic.status)
    _text(element, "Title", topic.title)
    if topic.priority:
        _text(element, "Priority", topic.priority)
    if topic.labels:
        labels = ET.SubElement(element, "Labels")
        for label in topic.labels:
            _text(labels, "Label", label)
    _text(element, "CreationDate", topic.creation_date)
    _text(element, "CreationAuthor", topic.creation_author)
    if topic.modified_date is not None:
        _text(element, "ModifiedDate", topic.modified_date)
        _text(element, "ModifiedAuthor", topic.modified_author)
    if topic.due_date is not None:
        _text(element, "DueDate", topic.due_date)
    if topic.assignee:
        _text(element, "AssignedTo", topic.assignee)
    if topic.description:
        _text(element, "Description", topic.description)
    comments = list(topic.comments.all())
    if comments:
        parent = ET.SubElement(element, "Comments")
        for comment in comments:
            c = ET.SubElement(parent, "Comment", Guid=str(comment.guid))
            _text(c, "Date", comment.date)
            _text(c, "Author", comment.author)
            _text(c, "Comment", comment.text)
            if comment.viewpoint is not None:
                ET.SubElement(c, "Viewpoint", Guid=str(comment.viewpoint.guid))
            if comment.modified_date is not None:
                _text(c, "ModifiedDate", comment.modified_date)
                _text(c, "ModifiedAuthor", comment.modified_author)
    viewpoints = list(topic.viewpoints.all())
    if viewpoints:
        parent = ET.SubElement(element, "Viewpoints")
        for viewpoint in viewpoints:
            v = ET.SubElement(parent, "ViewPoint", Guid=str(viewpoint.guid))
            visinfo, snapshot = viewpoint_files[viewpoint.guid]
            _text(v, "Viewpoint", visinfo)
            if snapshot:
                _text(v, "Snapshot", snapshot)
            if viewpoint.index is not None:
                _text(v, "Index", viewpoint.index)
    return _xml(root)


def _extensions_xml(topics: list[Topic]) -> bytes:
    """The words the file uses: ours first, then any an imported topic brought with it."""
    root = ET.Element("Extensions")
    users = {t.creation_author for t in topics} | {t.assignee for t in topics} | {t.modified_author for t in topics}
    users |= {c.author for t in topics for c in t.comments.all()}
    groups = (
        ("TopicTypes", "TopicType", [*TOPIC_TYPES, *(t.topic_type for t in topics)]),
        ("TopicStatuses", "TopicStatus", [*STATUSES, *(t.status for t in topics)]),
        ("Priorities", "Priority", [*PRIORITIES, *(t.priority for t in topics)]),
        ("TopicLabels", "TopicLabel", sorted({label for t in topics for label in t.labels})),
        ("Users", "User", sorted(users)),
    )
    for tag, item, words in groups:
        unique = [w for w in dict.fromkeys(words) if w]
        if unique:
            parent = ET.SubElement(root, tag)
            for word in unique:
                _text(parent, item, word)
    return _xml(root)


def _write(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def export_archive(project_id: uuid.UUID, project_name: str, topics: Iterable[Topic]) -> bytes:
    """The ``.bcf`` file of these topics (with their comments, viewpoints and snapshots)."""
    topics = list(topics)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        version = ET.Element("Version", VersionId=VERSION)
        _write(archive, "bcf.version", _xml(version))
        info = ET.Element("ProjectInfo")
        project = ET.SubElement(info, "Project", ProjectId=str(project_id))
        _text(project, "Name", project_name)
        _write(archive, "project.bcfp", _xml(info))
        _write(archive, "extensions.xml", _extensions_xml(topics))
        for topic in topics:
            files: dict[uuid.UUID, tuple[str, str | None]] = {}
            for viewpoint in topic.viewpoints.all():
                visinfo = f"{viewpoint.guid}.bcfv"
                _write(archive, f"{topic.guid}/{visinfo}", visinfo_xml(viewpoint.guid, viewpoint.data))
                snapshot = None
                if viewpoint.snapshot:
                    snapshot = f"{viewpoint.guid}.png"
                    with viewpoint.snapshot.open("rb") as f:
                        _write(archive, f"{topic.guid}/{snapshot}", f.read())
                files[viewpoint.guid] = (visinfo, snapshot)
            _write(archive, f"{topic.guid}/markup.bcf", markup_xml(topic, files))
    return buffer.getvalue()


def topics_for_export(session_id: int, model: BimModel | None = None) -> list[Topic]:
    topics = Topic.objects.filter(session_id=session_id).select_related("model__bid")
    if model is not None:
        topics = topics.filter(model=model)
    return list(topics.prefetch_related("comments__viewpoint", "viewpoints").order_by("creation_date", "id"))


# --- reading ------------------------------------------------------------------------------------


def _check_entries(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise ProtocolError(f"the archive has {len(entries)} entries; at most {MAX_ENTRIES} are accepted")
    total = 0
    files: dict[str, zipfile.ZipInfo] = {}
    for info in entries:
        name = info.filename
        parts = name.split("/")
        if (
            "\\" in name
            or name.startswith("/")
            or ":" in parts[0]
            or any(p in ("", ".", "..") for p in parts[:-1])
            or len(parts) > 2
        ):
            raise ProtocolError(f"the archive entry {name[:100]!r} has a path that is not allowed")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ProtocolError(f"the archive entry {name[:100]!r} is a symbolic link")
        if info.flag_bits & 0x1:
            raise ProtocolError(f"the archive entry {name[:100]!r} is encrypted")
        if info.is_dir():
            continue
        cap = MAX_IMAGE_BYTES if name.lower().endswith((".png", ".jpg", ".jpeg")) else MAX_XML_BYTES
        if info.file_size > cap:
            raise ProtocolError(f"the archive entry {name[:100]!r} is {info.file_size} bytes; the limit is {cap}")
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ProtocolError(f"the archive entry {name[:100]!r} is compressed suspiciously well (a zip bomb?)")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise ProtocolError(f"the archive unpacks to more than {MAX_TOTAL_BYTES} bytes")
        if name in files:
            raise ProtocolError(f"the archive has the entry {name[:100]!r} twice")
        files[name] = info
    return files


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    cap = MAX_IMAGE_BYTES if info.filename.lower().endswith((".png", ".jpg", ".jpeg")) else MAX_XML_BYTES
    try:
        with archive.open(info) as f:
            data = f.read(cap + 1)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ProtocolError(f"the archive entry {info.filename[:100]!r} cannot be read: {exc}") from None
    if len(data) > cap:
        raise ProtocolError(f"the archive entry {info.filename[:100]!r} is larger than it says")
    return data


def _parse_xml(data: bytes, name: str) -> ET.Element:
    head = data[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data.upper():
        raise ProtocolError(f"{name}: XML with a DOCTYPE or entity declarations is not accepted")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise ProtocolError(f"{name} is not well-formed XML: {exc}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, tag: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == tag:
            return child
    return None


def _children(element: ET.Element | None, tag: str) -> list[ET.Element]:
    return [] if element is None else [c for c in element if _local(c.tag) == tag]


def _child_text(element: ET.Element, tag: str) -> str | None:
    child = _child(element, tag)
    return None if child is None else (child.text or "")


def _date(value: str | None, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ProtocolError(f"{what}: {value[:40]!r} is not a date and time") from None
    # xs:dateTime may omit the zone; BCF tools write UTC then.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _float(element: ET.Element | None, tag: str, where: str) -> float:
    text = None if element is None else _child_text(element, tag)
    if text is None:
        raise ProtocolError(f"{where}: {tag} is missing")
    try:
        return float(text)
    except ValueError:
        raise ProtocolError(f"{where}: {tag} is not a number") from None


def _vector(element: ET.Element, tag: str, where: str) -> list[float]:
    child = _child(element, tag)
    if child is None:
        raise ProtocolError(f"{where}: {tag} is missing")
    return [_float(child, axis, f"{where}/{tag}") for axis in ("X", "Y", "Z")]


def _guids(element: ET.Element | None) -> list[str]:
    # A component may be named only by its authoring tool's id: it has no place in our viewpoint.
    return [guid for c in _children(element, "Component") if (guid := c.get("IfcGuid"))]


def read_visinfo(root: ET.Element, where: str) -> dict[str, Any]:
    """A ``.bcfv`` document as our viewpoint JSON (validated afterwards as bim_review.protocol.Viewpoint).

    What our viewpoint has no place for (lines, bitmaps, view setup hints, components named only by
    an authoring tool's id) is left out.
    """
    if _local(root.tag) != "VisualizationInfo":
        raise ProtocolError(f"{where}: not a VisualizationInfo document")
    data: dict[str, Any] = {}
    for kind, (tag, scale_key, scale_tag) in CAMERAS.items():
        camera = _child(root, tag)
        if camera is not None and "camera" not in data:
            data["camera"] = {
                "kind": kind,
                "position": _vector(camera, "CameraViewPoint", where),
                "direction": _vector(camera, "CameraDirection", where),
                "up": _vector(camera, "CameraUpVector", where),
                scale_key: _float(camera, scale_tag, where),
                "aspect_ratio": _float(camera, "AspectRatio", where),
            }
    data["clipping_planes"] = [
        {"location": _vector(p, "Location", where), "direction": _vector(p, "Direction", where)}
        for p in _children(_child(root, "ClippingPlanes"), "ClippingPlane")
    ]
    components = _child(root, "Components")
    if components is not None:
        data["selected"] = _guids(_child(components, "Selection"))
        visibility = _child(components, "Visibility")
        if visibility is not None:
            default = visibility.get("DefaultVisibility")
            data["default_visibility"] = default is None or default.strip().lower() in ("true", "1")
            data["hidden"] = _guids(_child(visibility, "Exceptions"))
        colours = [
            {"color": c.get("Color", ""), "ids": _guids(_child(c, "Components"))}
            for c in _children(_child(components, "Coloring"), "Color")
        ]
        data["coloured"] = [c for c in colours if c["ids"]]
    return data


def _topic_data(root: ET.Element, folder: str, files: dict[str, bytes]) -> dict[str, Any]:
    where = f"{folder}/markup.bcf"
    topic = _child(root, "Topic") if _local(root.tag) == "Markup" else None
    if topic is None:
        raise ProtocolError(f"{where}: no Topic in a Markup document")
    if topic.get("Guid") != folder:
        raise ProtocolError(f"{where}: the topic's Guid is not its folder's name")
    data: dict[str, Any] = {
        "guid": topic.get("Guid"),
        "topic_type": topic.get("TopicType") or "",
        "status": topic.get("TopicStatus") or "",
        "title": _child_text(topic, "Title") or "",
        "priority": _child_text(topic, "Priority") or "",
        "labels": [label.text or "" for label in _children(_child(topic, "Labels"), "Label")],
        "creation_date": _date(_child_text(topic, "CreationDate"), f"{where}: CreationDate"),
        "creation_author": _child_text(topic, "CreationAuthor") or "",
        "modified_date": _date(_child_text(topic, "ModifiedDate"), f"{where}: ModifiedDate"),
        "modified_author": _child_text(topic, "ModifiedAuthor") or "",
        "due_date": _date(_child_text(topic, "DueDate"), f"{where}: DueDate"),
        "assignee": _child_text(topic, "AssignedTo") or "",
        "description": _child_text(topic, "Description") or "",
    }
    comments = []
    for c in _children(_child(topic, "Comments"), "Comment"):
        ref = _child(c, "Viewpoint")
        comments.append(
            {
                "guid": c.get("Guid"),
                "date": _date(_child_text(c, "Date"), f"{where}: comment Date"),
                "author": _child_text(c, "Author") or "",
                "text": _child_text(c, "Comment") or "",
                "viewpoint": ref.get("Guid") if ref is not None else None,
                "modified_date": _date(_child_text(c, "ModifiedDate"), f"{where}: comment ModifiedDate"),
                "modified_author": _child_text(c, "ModifiedAuthor") or "",
            }
        )
    data["comments"] = comments
    viewpoints = []
    for v in _children(_child(topic, "Viewpoints"), "ViewPoint"):
        visinfo_name = _child_text(v, "Viewpoint") or f"{v.get('Guid')}.bcfv"
        visinfo = files.get(f"{folder}/{visinfo_name}")
        if visinfo is None:
            raise ProtocolError(f"{where}: viewpoint file {visinfo_name[:100]!r} is missing")
        vp = read_visinfo(_parse_xml(visinfo, f"{folder}/{visinfo_name}"), f"{folder}/{visinfo_name}")
        try:
            parsed = ViewpointData.model_validate(vp)
        except ValidationError as exc:
            raise ProtocolError(f"{folder}/{visinfo_name}: {describe(exc)}") from None
        snapshot_name = _child_text(v, "Snapshot")
        snapshot = None
        if snapshot_name:
            snapshot = files.get(f"{folder}/{snapshot_name}")
            if snapshot is None:
                raise ProtocolError(f"{where}: snapshot {snapshot_name[:100]!r} is missing")
        index = _child_text(v, "Index")
        viewpoints.append(
            {
                "guid": v.get("Guid"),
                "data": parsed,
                "snapshot": snapshot,
                "index": int(index) if index and index.strip().isdigit() else None,
            }
        )
    data["viewpoints"] = viewpoints
    return data


def read_archive(data: bytes) -> list[ImportedTopic]:
    """The topics of an untrusted ``.bcf`` file, checked (see the module docstring); ProtocolError if bad."""
    if len(data) > MAX_BCF_BYTES:
        raise ProtocolError(f"the file is {len(data)} bytes; the limit is {MAX_BCF_BYTES}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ProtocolError("the file is not a BCF archive (not a ZIP file)") from None
    with archive:
        entries = _check_entries(archive)
        if "bcf.version" not in entries:
            raise ProtocolError("the archive has no bcf.version: it is not a BCF file")
        version = _parse_xml(_read(archive, entries["bcf.version"]), "bcf.version")
        if _local(version.tag) != "Version" or version.get("VersionId") != VERSION:
            raise ProtocolError(f"only BCF {VERSION} is accepted; the file says {version.get('VersionId')!r}")
        folders = sorted({name.split("/")[0] for name in entries if name.endswith("/markup.bcf")})
        if len(folders) > MAX_TOPICS:
            raise ProtocolError(f"the file has {len(folders)} topics; at most {MAX_TOPICS} are accepted")
        files = {name: _read(archive, info) for name, info in entries.items() if "/" in name}
    topics = []
    for folder in folders:
        where = f"{folder}/markup.bcf"
        raw = _topic_data(_parse_xml(files[where], where), folder, files)
        try:
            topics.append(ImportedTopic.model_validate(raw))
        except ValidationError as exc:
            raise ProtocolError(f"{where}: {describe(exc)}") from None
    if len({t.guid for t in topics}) != len(topics):
        raise ProtocolError("the file has two topics with the same Guid")
    return sorted(topics, key=lambda t: (t.creation_date, str(t.guid)))
