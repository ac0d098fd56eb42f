"""Where a converted model's outputs live and how they are served (the contract for the viewer and BCF).

Files, written once per cache key by the conversion (``bim_review/convert.py``) and never changed:

    <MEDIA_ROOT>/bim/<cache_key>/
        model.glb            glTF binary, meshopt-compressed (EXT_meshopt_compression); one node per
                             product with Body geometry, node name = the product's GlobalId; repeated
                             geometry is one mesh shared by many nodes (local coordinates + a matrix).
                             Y up (glTF), metres. No IFC header, owner or file name inside.
        tree.json.gz         spatial tree: {"schema", "root": node}; node = {"id": GlobalId, "class",
                             "name", "children": [node], "elements": [GlobalId]} for project, site,
                             building, storeys, spaces; "elements" are the products contained there.
        properties.json.gz   {GlobalId: {"class", "name", "type", "storey": GlobalId|None,
                             "psets": {set: {prop: value}}, "qtos": {set: {quantity: value}}}}
                             for every product (also IfcSpace; also those without geometry).
        quantities.json.gz   roll-ups of Qto_* quantities: {"by_class": {class: {"count", "quantities":
                             {"Qto_X.Name": sum}}}, "by_storey": {storey GlobalId: {"name", "elevation",
                             "by_class": {...same...}}}, "units": {"length", "area", "volume"}}
        bboxes.json.gz       {GlobalId: [minx, miny, minz, maxx, maxy, maxz]} in the GLB's frame.
        summary.json         {"schema", "products_by_class" (in the GLB), "failed" [{"id", "class",
                             "reason"}], "kernel" (of the child that succeeded: "by-shape" first),
                             "products_by_kernel", "clip_checks" {"checked", "agreed"},
                             "retried_with_default_kernel", "fallbacks", "timings" {stage: seconds;
                             "geometry_cpu": CPU seconds}, "peak_rss_mb", "sizes" {file: bytes},
                             "ifcopenshell"}

Everything above is anonymous: the IFC header's author, organisation and application, IfcOwnerHistory
people and organisations and the file name are never written there, so experts in anonymous
technical review receive the same files as everyone else. The raw IFC file is never served to experts.

URLs (``bim_review/urls.py``, role-checked: anyone with a role in a session of the bid's lot; the bidder
only their own bid's models):

    /bim/sessions/<session_id>/models      JSON list of the lot's models: {"id", "bid" (anonymous
                                            label), "schema", "status", "stage", "percent",
                                            "failure_reason", "urls": {name: url}}; "original_name"
                                            only for host, reviewer and supervisor.
    /bim/models/<id>/model.glb             model/gltf-binary
    /bim/models/<id>/tree.json             application/json, Content-Encoding: gzip
    /bim/models/<id>/properties.json       (the same, each from its .json.gz)
    /bim/models/<id>/quantities.json
    /bim/models/<id>/bboxes.json
    /bim/models/<id>/summary.json          plain JSON
    A model not yet ready answers 409 with {"status", "stage", "percent"}.

Progress reaches the room as the ephemeral socket event ``bim.progress`` (docs/PROTOCOL.md):
{"model": id, "bid": label, "status", "stage", "percent", "reason"}.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

GLB = "model.glb"
TREE = "tree.json.gz"
PROPERTIES = "properties.json.gz"
QUANTITIES = "quantities.json.gz"
BBOXES = "bboxes.json.gz"
SUMMARY = "summary.json"
# The public names of the served files, mapped to the stored file.
SERVED: dict[str, str] = {
    "model.glb": GLB,
    "tree.json": TREE,
    "properties.json": PROPERTIES,
    "quantities.json": QUANTITIES,
    "bboxes.json": BBOXES,
    "summary.json": SUMMARY,
}
ALL_FILES = (GLB, TREE, PROPERTIES, QUANTITIES, BBOXES, SUMMARY)


def bim_root() -> Path:
    return Path(settings.EVAL_BIM_DIR)


def output_dir(cache_key: str) -> Path:
    return bim_root() / cache_key


def is_complete(directory: Path) -> bool:
    """All outputs present: the conversion writes into a temporary folder and renames it at the end."""
    return all((directory / name).is_file() for name in ALL_FILES)
