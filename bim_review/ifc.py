"""The adapter to ifcopenshell: the only module of the project that imports it.

It runs as the conversion's child process (``python -m bim_review.ifc SRC OUT ...``, started by
``bim_review/convert.py``), so a crash or a hang of a geometry kernel ends this process, never the
server. It reads one IFC file and writes the raw outputs of ``bim_review/outputs.py`` into OUT:
``raw.glb`` (GlobalId-named nodes, one shared mesh per repeated representation, local coordinates and
one matrix per element; the supervisor compresses it into ``model.glb``), the gzipped JSON files and
``child.json`` (what it converted, failed elements, stage timings, peak memory).

Progress goes to stdout as one JSON object a line: ``{"stage", "percent"}``, and in isolation mode
``{"try": GlobalId}`` before each element, so the supervisor knows which element a crash belongs to.
Exit status 0: done; 3: the file cannot be read as IFC (no retry helps).

Anonymous review: nothing here writes the IFC header, IfcOwnerHistory, people, organisations or the
file name, and every string written is scrubbed of the names found there (``_Scrubber``).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import resource
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.geom
import ifcopenshell.util.element
import ifcopenshell.util.shape
import ifcopenshell.util.unit
import numpy as np

FAST_KERNEL = "hybrid-cgal-simple-opencascade"
DEFAULT_KERNEL = "opencascade"
# Manifold for booleans (OpenCASCADE where it raises): 5-25x faster than CGAL or OpenCASCADE on walls
# clipped by roofs and cut by openings, but it needs closed solids: a surface model crashes it.
SOLID_KERNEL = "hybrid-manifold-opencascade"
# Not a kernel: each element goes to the kernel its shape suits (``kernel_for``).
BY_SHAPE = "by-shape"
# Body items the manifold kernel has been seen to handle on the samples (closed by construction, or
# faceted breps, which are meant to be closed; one that is not crashes the child and the supervisor
# falls back to the fast kernel for the whole model). Boolean results qualify when their operands do;
# half spaces never: manifold silently leaves out an unbounded clip (FZK-Haus's gable walls came out a
# storey too tall) and some polygon-bounded clips whose sides lie on the solid's faces (duplex's party
# walls, 6 cm too long), so clipped elements go to the fast kernel (tests/bim/test_kernel_choice.py).
SOLID_ITEMS = ("IfcExtrudedAreaSolid", "IfcRevolvedAreaSolid", "IfcFacetedBrep")
SURFACE_MODELS = ("IfcFaceBasedSurfaceModel", "IfcShellBasedSurfaceModel")
# Not a kernel: a clipped solid with openings, for manifold if its clipping agrees with the fast
# kernel's (``clips_agree``), else for the fast kernel. Agreement: volume to 0.01 %, box to 1 mm.
CHECK_CLIP = "check-clip"
CLIP_VOLUME_RTOL = 1e-4
# Not a kernel: surface models whose openings miss them (``openings_miss``), for the fast kernel
# without cutting.
UNCUT = "uncut"
CLIP_BOX_TOLERANCE_M = 0.001
# Never drawn: spaces are volumes for the tree and the quantities, openings are cut from their hosts.
EXCLUDED_CLASSES = ("IfcSpace", "IfcOpeningElement")
EXIT_UNREADABLE = 3
# The 3D shape of a product: "Body", or "Facetation", the faceted body of surface models (a terrain).
BODY_IDENTIFIERS = ("Body", "Facetation")
# Names that the owner records hold as placeholders: scrubbing them would blank ordinary values.
PLACEHOLDER_NAMES = frozenset({"nicht definiert", "not defined", "undefined", "unknown", "nobody", "none", "default"})
# Stages and the share of the percent each ends at.
STAGE_END = {"open": 5, "metadata": 15, "geometry": 85, "write": 90}  # the supervisor: compress 92, done 100
REDACTED = "[redacted]"

# Settings of the geometry and of the GLB writer: part of the cache key (bim_review/convert.py).
GEOMETRY_SETTINGS: dict[str, Any] = {
    "use-world-coords": False,
    "apply-default-materials": True,
    "use-element-guids": True,
    "y-up": True,
}


def version() -> str:
    return str(ifcopenshell.version)


def emit(**message: Any) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def progress(stage: str, fraction: float = 1.0) -> None:
    stages = list(STAGE_END)
    start = STAGE_END[stages[stages.index(stage) - 1]] if stages.index(stage) else 0
    emit(stage=stage, percent=int(start + (STAGE_END[stage] - start) * max(0.0, min(1.0, fraction))))


def cpu_seconds() -> float:
    """CPU time of this process, all threads (the machine is shared: wall time alone misleads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --- which products are drawn ----------------------------------------------------------------------


def is_excluded(product: ifcopenshell.entity_instance) -> bool:
    return any(product.is_a(c) for c in EXCLUDED_CLASSES)


def has_body(product: ifcopenshell.entity_instance) -> bool:
    shape = getattr(product, "Representation", None)
    if shape is None:
        return False
    return any(r.RepresentationIdentifier in BODY_IDENTIFIERS for r in shape.Representations or ())


def body_items(product: ifcopenshell.entity_instance) -> Iterator[ifcopenshell.entity_instance]:
    """The geometric items of a product's body, mapped representations followed."""

    def items(representation: ifcopenshell.entity_instance) -> Iterator[ifcopenshell.entity_instance]:
        for item in representation.Items:
            if item.is_a("IfcMappedItem"):
                yield from items(item.MappingSource.MappedRepresentation)
            else:
                yield item

    for representation in product.Representation.Representations if product.Representation else ():
        if representation.RepresentationIdentifier in BODY_IDENTIFIERS:
            yield from items(representation)


def _shape_kind(item: ifcopenshell.entity_instance) -> str:
    """ "solid" (closed by construction), "clipped" (a solid cut by half spaces) or "other"."""
    if item.is_a("IfcBooleanResult"):
        kinds = {_shape_kind(item.FirstOperand), _shape_kind(item.SecondOperand)}
        return "other" if "other" in kinds else "clipped" if "clipped" in kinds else "solid"
    if item.is_a("IfcHalfSpaceSolid"):
        return "clipped"
    return "solid" if any(item.is_a(kind) for kind in SOLID_ITEMS) else "other"


def kernel_for(product: ifcopenshell.entity_instance) -> str:
    """The kernel of a product in the by-shape plan: manifold for closed solids (their openings cut by
    manifold too); ``CHECK_CLIP`` for clipped solids with openings (``clips_agree`` decides); the fast
    kernel for the rest (surface models, clipped solids without openings, which it does quickly);
    OpenCASCADE for surface models with openings (CGAL leaves those empty: Revit's cabinets)."""
    items = list(body_items(product))
    kinds = {_shape_kind(item) for item in items}
    if kinds == {"solid"}:
        return SOLID_KERNEL
    openings = bool(getattr(product, "HasOpenings", None))
    if kinds and kinds <= {"solid", "clipped"} and openings:
        return CHECK_CLIP
    if openings and any(item.is_a(kind) for item in items for kind in SURFACE_MODELS):
        return DEFAULT_KERNEL
    return FAST_KERNEL


def geometry_settings(*, cut_openings: bool = True) -> ifcopenshell.geom.settings:
    settings = ifcopenshell.geom.settings()
    for key, value in GEOMETRY_SETTINGS.items():
        settings.set(key, value)  # type: ignore[arg-type]
    settings.set("disable-opening-subtractions", not cut_openings)
    return settings


def _shapes(model: ifcopenshell.file, products: list[ifcopenshell.entity_instance], kernel: str) -> Iterator[Any]:
    """Each product's shape by ``kernel``, openings left uncut."""
    settings = geometry_settings(cut_openings=False)
    iterator = ifcopenshell.geom.iterator(settings, model, 1, geometry_library=kernel, include=products)  # type: ignore[arg-type]
    if not iterator.initialize():
        return
    while True:
        yield iterator.get()
        if not iterator.next():
            break


def openings_miss(model: ifcopenshell.file, products: list[ifcopenshell.entity_instance]) -> set[str]:
    """The products none of whose openings touches them: cutting those openings cuts nothing.

    Revit files attach openings to furniture far from it (duplex's eight tall cabinets hold openings
    two metres below them); cutting them is a no-op that costs OpenCASCADE 40 ms a cabinet, the
    only kernel that cuts a surface model. Compared: the world boxes of each product, uncut, and of
    its openings (1 mm apart counts as touching).
    """
    openings = [rel.RelatedOpeningElement for p in products for rel in p.HasOpenings or ()]
    boxes = {
        shape.guid: _world_box(shape)
        for kernel, items in ((FAST_KERNEL, products), (SOLID_KERNEL, openings))
        for shape in _shapes(model, items, kernel)
    }
    missed = set()
    for product in products:
        own = boxes.get(product.GlobalId)
        if own is None or not own.size:
            continue
        cutters = [boxes.get(rel.RelatedOpeningElement.GlobalId) for rel in product.HasOpenings or ()]
        if all(box is not None and box.size and not _touch(own, box) for box in cutters):
            missed.add(product.GlobalId)
    return missed


def _world_box(shape: Any) -> np.ndarray:
    verts = np.frombuffer(shape.geometry.verts_buffer, dtype="d").reshape(-1, 3)
    if not len(verts):
        return np.empty(0)
    matrix = np.asarray(ifcopenshell.util.shape.get_shape_matrix(shape), dtype=float)
    world = verts @ matrix[:3, :3].T + matrix[:3, 3]
    return np.concatenate([world.min(axis=0), world.max(axis=0)])


def _touch(a: np.ndarray, b: np.ndarray, tolerance: float = 0.001) -> bool:
    return bool(np.all(a[:3] <= b[3:] + tolerance) and np.all(b[:3] <= a[3:] + tolerance))


def _volumes_and_boxes(
    model: ifcopenshell.file, products: list[ifcopenshell.entity_instance], kernel: str
) -> dict[str, tuple[float, np.ndarray]]:
    """Each product's mesh volume and box (its own frame), openings left uncut."""
    found: dict[str, tuple[float, np.ndarray]] = {}
    for shape in _shapes(model, products, kernel):
        verts = np.frombuffer(shape.geometry.verts_buffer, dtype="d").reshape(-1, 3)
        faces = np.frombuffer(shape.geometry.faces_buffer, dtype=np.int32).reshape(-1, 3)
        if len(faces):
            a, b, c = verts[faces[:, 0]], verts[faces[:, 1]], verts[faces[:, 2]]
            volume = float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum()) / 6
            found[shape.guid] = (volume, np.concatenate([verts.min(axis=0), verts.max(axis=0)]))
    return found


def clips_agree(model: ifcopenshell.file, products: list[ifcopenshell.entity_instance]) -> set[str]:
    """The clipped solids whose clipping manifold gets right, by the fast kernel's word.

    Manifold cuts openings quickly and well, but leaves out some clips (unbounded half spaces, some
    polygon-bounded ones whose sides lie on the solid's faces), while CGAL and OpenCASCADE are slow on a
    clipped solid with openings (0.6 s for each of FZK-Haus's two gable walls, most of the model's
    time). Clipping alone is quick in both: each product is clipped by both kernels with its openings
    left uncut, and manifold's whole result is trusted where the two agree (volume and box).
    """
    ours = _volumes_and_boxes(model, products, SOLID_KERNEL)
    theirs = _volumes_and_boxes(model, products, FAST_KERNEL)
    agreed = set()
    for guid, (volume, box) in ours.items():
        if guid not in theirs:
            continue
        other_volume, other_box = theirs[guid]
        same_volume = abs(volume - other_volume) <= CLIP_VOLUME_RTOL * max(abs(other_volume), 1e-9)
        if same_volume and np.allclose(box, other_box, rtol=0, atol=CLIP_BOX_TOLERANCE_M):
            agreed.add(guid)
    return agreed


def body_products(model: ifcopenshell.file) -> list[ifcopenshell.entity_instance]:
    """Products with Body geometry, spaces and openings excluded: exactly the nodes of the GLB."""
    return [p for p in model.by_type("IfcProduct") if has_body(p) and not is_excluded(p)]


def _is_spatial(product: ifcopenshell.entity_instance) -> bool:
    return any(product.is_a(c) for c in ("IfcSpatialStructureElement", "IfcSpatialElement", "IfcProject"))


def tree_elements(model: ifcopenshell.file) -> list[ifcopenshell.entity_instance]:
    """Products the tree lists as elements: every product that is neither spatial nor an opening."""
    return [
        p
        for p in model.by_type("IfcProduct")
        if not _is_spatial(p) and not p.is_a("IfcFeatureElementSubtraction") and not p.is_a("IfcOpeningElement")
    ]


# --- anonymity -------------------------------------------------------------------------------------


_NAME_ATTRIBUTES = ("FamilyName", "GivenName", "Identification", "Id", "Name", "ApplicationFullName")


class _Scrubber:
    """Removes the names that would reveal the bidder from every string the outputs carry."""

    def __init__(self, model: ifcopenshell.file, file_name: str) -> None:
        names: set[str] = set()
        header = model.header.file_name
        for value in (*header.author, *header.organization, header.preprocessor_version, header.originating_system):
            names.add(str(value))
        for entity in ("IfcPerson", "IfcOrganization", "IfcApplication"):
            for item in model.by_type(entity):
                info = item.get_info(recursive=False)
                names.update(str(info[a]) for a in _NAME_ATTRIBUTES if isinstance(info.get(a), str))
        # The file name always; its stem only when long enough not to be an ordinary word ("house").
        stem = Path(file_name).stem
        names.update({file_name, Path(file_name).name, stem if len(stem) >= 8 else ""})
        # Names of three characters or more (shorter ones would blank ordinary words), longest first.
        kept = sorted(
            {n.strip() for n in names if len(n.strip()) >= 3 and n.strip().lower() not in PLACEHOLDER_NAMES},
            key=len,
            reverse=True,
        )
        self.pattern = re.compile("|".join(re.escape(n) for n in kept), re.IGNORECASE) if kept else None

    def text(self, value: str) -> str:
        return self.pattern.sub(REDACTED, value) if self.pattern else value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        if isinstance(value, bool | int | float) or value is None:
            return value
        return self.text(str(value))


# --- metadata: tree, properties, quantities ----------------------------------------------------------


def _children(item: ifcopenshell.entity_instance) -> Iterator[ifcopenshell.entity_instance]:
    for rel in getattr(item, "IsDecomposedBy", ()) or ():
        yield from rel.RelatedObjects


def _contained(item: ifcopenshell.entity_instance) -> Iterator[ifcopenshell.entity_instance]:
    for rel in getattr(item, "ContainsElements", ()) or ():
        yield from rel.RelatedElements


def _with_parts(element: ifcopenshell.entity_instance) -> Iterator[ifcopenshell.entity_instance]:
    yield element
    for part in _children(element):
        yield from _with_parts(part)


def build_tree(model: ifcopenshell.file, listed: set[int], scrub: _Scrubber) -> dict[str, Any]:
    """Project → site → building → storeys → spaces, each with the elements contained there."""
    seen: set[int] = set()

    def node(item: ifcopenshell.entity_instance) -> dict[str, Any]:
        elements = [e for c in _contained(item) for e in _with_parts(c) if e.id() in listed and e.id() not in seen] + [
            e for e in _children(item) if not _is_spatial(e) and e.id() in listed and e.id() not in seen
        ]
        seen.update(e.id() for e in elements)
        return {
            "id": item.GlobalId,
            "class": item.is_a(),
            "name": scrub.text(item.Name or ""),
            "elevation": getattr(item, "Elevation", None) if item.is_a("IfcBuildingStorey") else None,
            "children": [node(c) for c in _children(item) if _is_spatial(c)],
            "elements": [e.GlobalId for e in elements],
        }

    projects = model.by_type("IfcProject")
    root: dict[str, Any] = (
        node(projects[0]) if projects else {"id": "", "class": "IfcProject", "name": "", "children": [], "elements": []}
    )
    orphans = [e.GlobalId for e in model.by_type("IfcProduct") if e.id() in listed and e.id() not in seen]
    root["elements"] = [*root["elements"], *orphans]
    return root


def storey_of(element: ifcopenshell.entity_instance) -> ifcopenshell.entity_instance | None:
    item: ifcopenshell.entity_instance | None = element
    for _ in range(32):
        if item is None:
            return None
        if item.is_a("IfcBuildingStorey"):
            return item
        parent = ifcopenshell.util.element.get_container(item) or ifcopenshell.util.element.get_aggregate(item)
        item = parent
    return None


def _clean_sets(sets: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: {k: v for k, v in values.items() if k != "id"} for name, values in sorted(sets.items())}


def properties_of(element: ifcopenshell.entity_instance, scrub: _Scrubber) -> dict[str, Any]:
    kind = ifcopenshell.util.element.get_type(element)
    storey = storey_of(element)
    record = {
        "class": element.is_a(),
        "name": element.Name or "",
        "type": (kind.Name or "") if kind is not None else "",
        "storey": storey.GlobalId if storey is not None else None,
        "psets": _clean_sets(ifcopenshell.util.element.get_psets(element, psets_only=True)),
        "qtos": _clean_sets(ifcopenshell.util.element.get_psets(element, qtos_only=True)),
    }
    return dict(scrub.value(record))


def is_standard_quantity_set(name: str) -> bool:
    """The sets the roll-ups sum: buildingSMART's Qto_* base quantities, and "BaseQuantities", their name
    in files written for IFC2X3 (ArchiCAD, Revit). Vendor sets stay per element, not summed."""
    return name.startswith("Qto_") or name == "BaseQuantities"


def _numeric(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def roll_up(properties: dict[str, dict[str, Any]], storeys: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Sums of the Qto_* quantities per class, and per storey and class (the file's own values)."""

    def empty() -> dict[str, Any]:
        return {"count": 0, "quantities": defaultdict(float)}

    by_class: dict[str, dict[str, Any]] = defaultdict(empty)
    by_storey: dict[str, dict[str, dict[str, Any]]] = defaultdict(lambda: defaultdict(empty))
    for record in properties.values():
        targets = [by_class[record["class"]]]
        if record["storey"] is not None:
            targets.append(by_storey[record["storey"]][record["class"]])
        for target in targets:
            target["count"] += 1
            for qto, values in record["qtos"].items():
                if not is_standard_quantity_set(qto):
                    continue
                for name, value in values.items():
                    number = _numeric(value)
                    if number is not None:
                        target["quantities"][f"{qto}.{name}"] += number
    return {
        "by_class": {
            k: {"count": v["count"], "quantities": dict(v["quantities"])} for k, v in sorted(by_class.items())
        },
        "by_storey": {
            guid: {
                **storeys.get(guid, {}),
                "by_class": {
                    k: {"count": v["count"], "quantities": dict(v["quantities"])} for k, v in sorted(classes.items())
                },
            }
            for guid, classes in by_storey.items()
        },
    }


def units_of(model: ifcopenshell.file) -> dict[str, str]:
    units = {}
    for key, unit_type in (("length", "LENGTHUNIT"), ("area", "AREAUNIT"), ("volume", "VOLUMEUNIT")):
        unit = ifcopenshell.util.unit.get_project_unit(model, unit_type)
        units[key] = ifcopenshell.util.unit.get_full_unit_name(unit) if unit is not None else ""
    return units


def write_json(path: Path, data: Any) -> None:
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    path.write_bytes(gzip.compress(raw, compresslevel=6, mtime=0) if path.suffix == ".gz" else raw)


# --- geometry ----------------------------------------------------------------------------------------

# glTF is Y up: the writer's "y-up" maps IFC's (x, y, z) to (x, z, -y); bounding boxes follow it.
_Y_UP = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]], dtype=float)


def _bbox(shape: Any) -> list[float]:
    verts = np.frombuffer(shape.geometry.verts_buffer, dtype="d").reshape(-1, 3)
    if not len(verts):
        return []
    matrix = _Y_UP @ np.asarray(ifcopenshell.util.shape.get_shape_matrix(shape), dtype=float)
    world = verts @ matrix[:3, :3].T + matrix[:3, 3]
    return [round(float(v), 4) for v in (*world.min(axis=0), *world.max(axis=0))]


class GeometryWriter:
    """One GLB for the whole model, fed by one or more iterators (a kernel, a fallback, isolation)."""

    def __init__(self, model: ifcopenshell.file, path: Path) -> None:
        self.model = model
        self.settings = geometry_settings()
        self.serializer = ifcopenshell.geom.serializers.gltf(str(path), self.settings)
        self.serializer.setFile(model)
        self.serializer.setUnitNameAndMagnitude("METER", 1.0)
        self.serializer.writeHeader()
        self.written: dict[str, str] = {}
        self.bboxes: dict[str, list[float]] = {}
        self.retried = 0  # elements the first kernel missed, given to the default kernel
        self.by_kernel: Counter[str] = Counter()  # elements written, by the kernel that made them
        self.clips = {"checked": 0, "agreed": 0}  # clipped solids with openings given to manifold
        self.uncut = 0  # products drawn without cutting openings that miss them

    def run(
        self,
        kernel: str,
        include: list[ifcopenshell.entity_instance] | None,
        threads: int,
        report: tuple[float, float] | None = (0.0, 1.0),
        cut_openings: bool = True,
    ) -> None:
        """Write what ``kernel`` makes of ``include`` (or of the whole model); ``report`` is the share
        (start, width) of the geometry stage this pass covers, for progress, or None for silence;
        ``cut_openings`` False only for products whose openings miss them (``openings_miss``)."""
        settings = self.settings if cut_openings else geometry_settings(cut_openings=False)
        kwargs: dict[str, Any] = {"include": include} if include is not None else {"exclude": list(EXCLUDED_CLASSES)}
        iterator = ifcopenshell.geom.iterator(settings, self.model, threads, geometry_library=kernel, **kwargs)  # type: ignore[arg-type]
        if not iterator.initialize():
            return
        last = -1
        while True:
            shape = iterator.get()
            # An empty mesh (a kernel whose boolean cut failed) counts as not converted: retried or reported.
            # (Spaces and openings never come: the whole-model pass excludes them, the others include
            # only body products.)
            if shape.guid not in self.written and len(shape.geometry.faces_buffer):
                _fault_point(shape.guid)
                self.serializer.write(shape)
                self.written[shape.guid] = shape.type
                self.bboxes[shape.guid] = _bbox(shape)
                self.by_kernel[kernel] += 1
            done = iterator.progress()
            if report is not None and done != last:
                last = done
                progress("geometry", report[0] + report[1] * done / 100)
            if not iterator.next():
                break

    def finish(self) -> None:
        self.serializer.finalize()


def _fault_point(guid: str) -> None:
    """Test hook: EVAL_BIM_FAULT=crash:<GlobalId> or hang:<GlobalId> makes this element kill the kernel."""
    fault = os.environ.get("EVAL_BIM_FAULT", "")
    kind, _, target = fault.partition(":")
    if target and target == guid:
        if kind == "crash":
            os.abort()
        if kind == "hang":
            time.sleep(3600)


def convert_geometry(
    model: ifcopenshell.file, path: Path, kernel: str, isolate: bool, skip: set[str], threads: int
) -> tuple[GeometryWriter, list[dict[str, str]]]:
    """Geometry of every body product: the kernel (or, by shape, each element's kernel), then the default
    kernel for what it left out, then (in isolation mode) element by element, each announced first so a
    crash names its element."""
    writer = GeometryWriter(model, path)
    wanted = body_products(model)
    by_default: set[str] = set()  # elements the default kernel had already: no retry with it
    if isolate:
        for n, product in enumerate(wanted):
            if product.GlobalId in skip:
                continue
            emit(**{"try": product.GlobalId})
            _fault_point(product.GlobalId)
            writer.run(DEFAULT_KERNEL, [product], 1, report=None)
            progress("geometry", (n + 1) / max(1, len(wanted)))
    elif kernel == BY_SHAPE:
        groups: dict[str, list[ifcopenshell.entity_instance]] = defaultdict(list)
        for product in wanted:
            groups[kernel_for(product)].append(product)
        checked = groups.pop(CHECK_CLIP, [])
        agreed = clips_agree(model, checked) if checked else set()
        for product in checked:
            groups[SOLID_KERNEL if product.GlobalId in agreed else FAST_KERNEL].append(product)
        writer.clips = {"checked": len(checked), "agreed": len(agreed)}
        cut = groups.pop(DEFAULT_KERNEL, [])
        missed = openings_miss(model, cut) if cut else set()
        groups[DEFAULT_KERNEL] = [p for p in cut if p.GlobalId not in missed]
        groups[UNCUT] = [p for p in cut if p.GlobalId in missed]
        writer.uncut = len(groups[UNCUT])
        done = 0
        for each in (SOLID_KERNEL, FAST_KERNEL, UNCUT, DEFAULT_KERNEL):
            if groups[each]:
                share = (done / len(wanted), len(groups[each]) / len(wanted))
                kernel_of_group = FAST_KERNEL if each == UNCUT else each
                writer.run(kernel_of_group, groups[each], threads, report=share, cut_openings=each != UNCUT)
                done += len(groups[each])
        by_default = {p.GlobalId for p in groups[DEFAULT_KERNEL]}
    else:
        writer.run(kernel, None, threads)
        by_default = {p.GlobalId for p in wanted} if kernel == DEFAULT_KERNEL else set()
    missing = [p for p in wanted if p.GlobalId not in writer.written and p.GlobalId not in by_default]
    if missing and not isolate:
        writer.run(DEFAULT_KERNEL, missing, 1, report=None)
        writer.retried = len(missing)
    writer.finish()
    failed = []
    for product in wanted:
        if product.GlobalId in writer.written:
            continue
        reason = (
            "the element crashed or hung the geometry kernel and was left out"
            if product.GlobalId in skip
            else "no kernel produced geometry for the element"
        )
        failed.append({"id": product.GlobalId, "class": product.is_a(), "reason": reason})
    return writer, failed


# --- the whole conversion ------------------------------------------------------------------------------


def open_model(src: Path) -> ifcopenshell.file:
    return ifcopenshell.open(str(src))


def convert(
    src: Path, out: Path, *, kernel: str, isolate: bool, skip: set[str], threads: int, name: str
) -> dict[str, Any]:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    progress("open", 0)
    try:
        model = open_model(src)
    except Exception as exc:  # the file is not readable IFC: report it, no retry will help
        emit(error=f"the file cannot be read as IFC: {exc}")
        raise SystemExit(EXIT_UNREADABLE) from exc
    timings["open"] = time.perf_counter() - started
    progress("open")

    mark = time.perf_counter()
    scrub = _Scrubber(model, name)
    listed = {e.id() for e in tree_elements(model)}
    tree = {"schema": model.schema, "root": build_tree(model, listed, scrub)}
    properties = {
        p.GlobalId: properties_of(p, scrub)
        for p in model.by_type("IfcProduct")
        if p.id() in listed or p.is_a("IfcSpace")
    }
    storeys = {
        s.GlobalId: {"name": scrub.text(s.Name or ""), "elevation": s.Elevation}
        for s in model.by_type("IfcBuildingStorey")
    }
    quantities = {**roll_up(properties, storeys), "units": units_of(model)}
    timings["metadata"] = time.perf_counter() - mark
    progress("metadata")

    mark, cpu_mark = time.perf_counter(), cpu_seconds()
    writer, failed = convert_geometry(model, out / "raw.glb", kernel, isolate, skip, threads)
    timings["geometry"] = time.perf_counter() - mark
    timings["geometry_cpu"] = cpu_seconds() - cpu_mark

    mark = time.perf_counter()
    write_json(out / "tree.json.gz", tree)
    write_json(out / "properties.json.gz", properties)
    write_json(out / "quantities.json.gz", quantities)
    write_json(out / "bboxes.json.gz", writer.bboxes)
    timings["write"] = time.perf_counter() - mark
    result = {
        "schema": model.schema,
        "products_by_class": dict(sorted(Counter(writer.written.values()).items())),
        "failed": failed,
        "kernel": "isolation" if isolate else kernel,
        "retried_with_default_kernel": writer.retried,
        "products_by_kernel": dict(sorted(writer.by_kernel.items())),
        "clip_checks": writer.clips,
        "openings_missed": writer.uncut,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "peak_rss_mb": peak_rss_mb(),
        "ifcopenshell": version(),
    }
    write_json(out / "child.json", result)
    progress("write")
    return result


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Convert one IFC file (the conversion's child process).")
    parser.add_argument("src", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--kernel", default=BY_SHAPE, help=f"a geometry library, or {BY_SHAPE!r}")
    parser.add_argument("--isolate", action="store_true")
    parser.add_argument("--skip", action="append", default=[])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--memory-mb", type=int, default=0, help="address-space limit of this process")
    parser.add_argument("--name", default="", help="the original file name, to scrub from the outputs")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.memory_mb:
        limit = args.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    convert(
        args.src,
        args.out,
        kernel=args.kernel,
        isolate=args.isolate,
        skip=set(args.skip),
        threads=args.threads,
        name=args.name,
    )


# --- compare two models (B3; bim_review/compare.py runs it as a child process) ---------------------

# What ifcdiff compares for each element in both files; its geometry pass is left out, because it
# runs the geometry kernel in this process (a bad element can hang it): placement and openings are
# compared without the kernel (below), property and quantity values one by one.
COMPARE_RELATIONSHIPS = ["attributes", "type", "container", "aggregate"]
COMPARE_KINDS = {
    "attributes_changed": "attributes",
    "type_changed": "type",
    "container_changed": "container",
    "aggregate_changed": "aggregate",
}
FLOAT_TOLERANCE = 1e-6


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool | None):
            return abs(a - b) <= FLOAT_TOLERANCE * max(1.0, abs(a), abs(b))
        return False
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _property_values(element: ifcopenshell.entity_instance) -> dict[tuple[str, str], Any]:
    sets = ifcopenshell.util.element.get_psets(element)
    return {(name, key): value for name, values in sets.items() for key, value in values.items() if key != "id"}


def changed_properties(old: ifcopenshell.entity_instance, new: ifcopenshell.entity_instance) -> list[dict[str, Any]]:
    """Property and quantity values that differ, were added or were removed, sorted by set and name."""
    before, after = _property_values(old), _property_values(new)
    changes = []
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)
        if key not in before or key not in after or not _same(a, b):
            changes.append({"set": key[0], "name": key[1], "old": _plain(a), "new": _plain(b)})
    return changes


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _element(item: ifcopenshell.entity_instance) -> dict[str, Any]:
    return {"id": item.GlobalId, "class": item.is_a(), "name": item.Name or ""}


def _compared(model: ifcopenshell.file) -> set[str]:
    """The GlobalIds ifcdiff compares: elements and spatial elements, without openings and projections."""
    spatial = "IfcSpatialStructureElement" if model.schema == "IFC2X3" else "IfcSpatialElement"
    items = [*model.by_type("IfcElement"), *model.by_type(spatial)]
    return {e.GlobalId for e in items if not e.is_a("IfcFeatureElement")}


# In a STEP line: a quoted string (kept as it is), a reference, or a real.
_STEP_TOKEN = re.compile(r"'(?:[^']|'')*'|#(\d+)|(?<![\w.])(-?\d+\.\d*(?:E[-+]?\d+)?)")


class ShapeDigests:
    """Digests of what products' shapes are made of, without the geometry kernel.

    An entity's digest covers its class and attribute values, with each reference replaced by the
    referenced entity's digest and each real rounded to 9 significant digits: the same shape written
    with other step ids digests the same, any changed number, item or profile differently. Digests
    are kept per entity, so shared parts (contexts, type geometry) are read once per file.
    """

    def __init__(self, model: ifcopenshell.file) -> None:
        self.model = model
        self.known: dict[int, str] = {}

    def of_product(self, product: Any) -> str:
        representation = getattr(product, "Representation", None)
        return "" if representation is None else self.of(representation.id())

    def of(self, step_id: int) -> str:
        # Depth first without recursion: a deep chain of boolean results must not hit the limit.
        stack = [step_id]
        while stack:
            current = stack[-1]
            if current in self.known:
                stack.pop()
                continue
            line = str(self.model.by_id(current)).split("=", 1)[1]
            missing = [int(m[1]) for m in _STEP_TOKEN.finditer(line) if m[1] and int(m[1]) not in self.known]
            if missing:
                stack.extend(missing)
                continue
            self.known[current] = hashlib.sha256(_STEP_TOKEN.sub(self._token, line).encode()).hexdigest()[:32]
            stack.pop()
        return self.known[step_id]

    def _token(self, match: re.Match[str]) -> str:
        if match[1]:
            return f"#{self.known[int(match[1])]}"
        if match[2]:
            return format(float(match[2]), ".9g")
        return match[0]


def compare_files(old_path: Path, new_path: Path, old_name: str = "", new_name: str = "") -> dict[str, Any]:
    """Elements added, removed and changed (by GlobalId) from one IFC file to another.

    1. ifcdiff lists the elements of both files (IfcElement and spatial elements, no openings) and
       flags, for those in both, changed attributes, type, container or aggregate;
    2. placement and openings are compared with ifcdiff's kernel-free check, the shape itself by its
       definition (``ShapeDigests``), also without the kernel;
    3. property and quantity set values are compared one by one (changed, added, removed);
    4. every string is scrubbed of the names that would reveal either bidder (``_Scrubber``).
    """
    import contextlib
    import io

    import ifcdiff  # here, not at the top: only the compare's child needs it (and deepdiff)

    old, new = ifcopenshell.open(str(old_path)), ifcopenshell.open(str(new_path))
    differ = ifcdiff.IfcDiff(old, new, relationships=list(COMPARE_RELATIONSHIPS), is_shallow=False)
    # ifcdiff prints its progress; the child's stdout is the JSON result.
    with contextlib.redirect_stdout(io.StringIO()):
        differ.diff()
    changed = []
    old_shapes, new_shapes = ShapeDigests(old), ShapeDigests(new)
    for guid in sorted(_compared(old) & _compared(new)):
        a, b = old.by_guid(guid), new.by_guid(guid)
        kinds = {COMPARE_KINDS[k] for k in differ.change_register.get(guid, {}) if k in COMPARE_KINDS}
        placed = getattr(a, "ObjectPlacement", None) is not None and getattr(b, "ObjectPlacement", None) is not None
        if placed and differ.diff_element_basic_geometry(a, b):
            kinds.add("placement")
        if old_shapes.of_product(a) != new_shapes.of_product(b):
            kinds.add("geometry")
        properties = changed_properties(a, b)
        if properties:
            kinds.add("properties")
        if kinds:
            changed.append({**_element(b), "kinds": sorted(kinds), "properties": properties})
    result = {
        "added": sorted((_element(new.by_guid(g)) for g in differ.added_elements), key=lambda e: e["id"]),
        "removed": sorted((_element(old.by_guid(g)) for g in differ.deleted_elements), key=lambda e: e["id"]),
        "changed": changed,
    }
    for scrub in (_Scrubber(old, old_name), _Scrubber(new, new_name)):
        result = scrub.value(result)
    return result


def compare_main(argv: Iterable[str] | None = None) -> None:
    """The compare's child process (``python -m bim_review.ifc compare OLD NEW OUT``): writes the result."""
    parser = argparse.ArgumentParser(description="Compare two IFC files (the compare's child process).")
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("out", type=Path, help="where the JSON result is written")
    parser.add_argument("--old-name", default="")
    parser.add_argument("--new-name", default="")
    parser.add_argument("--memory-mb", type=int, default=0, help="address-space limit of this process")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.memory_mb:
        limit = args.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        result = compare_files(args.old, args.new, args.old_name, args.new_name)
    except Exception as exc:  # the child reports any failure as data; the server decides
        emit(error=f"{type(exc).__name__}: {exc}"[:500])
        raise SystemExit(EXIT_UNREADABLE) from exc
    args.out.write_text(json.dumps(result, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:2] == ["compare"]:
        compare_main(sys.argv[2:])
    else:
        main()
