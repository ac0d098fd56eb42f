"""The conversion's outputs against ifcopenshell's own reading of the same files (B1)."""

from __future__ import annotations

import gzip
import json
import struct
from collections import Counter
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.util.element
import pytest

from bim_review import outputs
from tests.bim.conftest import SAMPLES, sample


def glb_json(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    assert data[:4] == b"glTF"
    (length,) = struct.unpack("<I", data[12:16])
    return json.loads(data[20 : 20 + length])


def read(folder: Path, name: str) -> Any:
    raw = (folder / name).read_bytes()
    return json.loads(gzip.decompress(raw) if name.endswith(".gz") else raw)


def body_products(model: ifcopenshell.file) -> dict[str, str]:
    """GlobalId -> class of the products with a Body representation (or Facetation, a surface model's
    body, e.g. a terrain), spaces and openings excluded."""
    return {
        p.GlobalId: p.is_a()
        for p in model.by_type("IfcProduct")
        if p.Representation is not None
        and any(r.RepresentationIdentifier in ("Body", "Facetation") for r in p.Representation.Representations)
        and not p.is_a("IfcSpace")
        and not p.is_a("IfcOpeningElement")
    }


def sets(element: Any, **which: bool) -> dict[str, dict[str, Any]]:
    return dict(ifcopenshell.util.element.get_psets(element, **which))


def tree_ids(node: dict[str, Any]) -> list[str]:
    return [*node["elements"], *(i for child in node["children"] for i in tree_ids(child))]


@pytest.fixture(scope="module", params=SAMPLES)
def converted(request, convert_cached) -> tuple[ifcopenshell.file, Path]:
    path = sample(request.param)
    return ifcopenshell.open(str(path)), convert_cached(path)


def test_glb_nodes_are_exactly_the_products_with_body_geometry_and_the_failures_are_listed_apart(converted):
    model, folder = converted
    nodes = {n["name"] for n in glb_json(folder / outputs.GLB)["nodes"] if "mesh" in n}
    failed = {f["id"] for f in read(folder, outputs.SUMMARY)["failed"]}
    assert nodes | failed == set(body_products(model))
    assert not nodes & failed


def test_products_by_class_in_the_glb_equal_ifcopenshells_counts(converted):
    model, folder = converted
    summary = read(folder, outputs.SUMMARY)
    expected = Counter(body_products(model).values())
    for failure in summary["failed"]:
        expected[failure["class"]] -= 1
    glb_classes = Counter(model.by_guid(n["name"]).is_a() for n in glb_json(folder / outputs.GLB)["nodes"])
    assert glb_classes == +expected
    assert summary["products_by_class"] == dict(+expected)


def test_the_tree_lists_every_element_once_by_class_as_ifcopenshell_counts_them(converted):
    model, folder = converted
    tree = read(folder, outputs.TREE)
    ids = tree_ids(tree["root"])
    assert len(ids) == len(set(ids))
    expected = Counter(
        p.is_a()
        for p in model.by_type("IfcProduct")
        if not p.is_a("IfcSpatialStructureElement") and not p.is_a("IfcOpeningElement")
    )
    assert Counter(model.by_guid(i).is_a() for i in ids) == expected
    storeys = {s.GlobalId for s in model.by_type("IfcBuildingStorey")}

    def spatial(node: dict[str, Any]) -> set[str]:
        return {node["id"], *(i for child in node["children"] for i in spatial(child))}

    assert storeys <= spatial(tree["root"])


def test_every_drawn_element_has_a_bounding_box(converted):
    _, folder = converted
    nodes = {n["name"] for n in glb_json(folder / outputs.GLB)["nodes"]}
    boxes = read(folder, outputs.BBOXES)
    assert set(boxes) == nodes
    assert all(len(b) == 6 and b[0] <= b[3] and b[1] <= b[4] and b[2] <= b[5] for b in boxes.values())


def test_the_glb_is_meshopt_compressed_and_the_json_gzipped(converted):
    _, folder = converted
    assert "EXT_meshopt_compression" in glb_json(folder / outputs.GLB)["extensionsUsed"]
    for name in (outputs.TREE, outputs.PROPERTIES, outputs.QUANTITIES, outputs.BBOXES):
        assert (folder / name).read_bytes()[:2] == b"\x1f\x8b"


def test_fzk_haus_properties_and_qto_quantities_match_the_file(convert_cached):
    path = sample("AC20-FZK-Haus.ifc")
    model = ifcopenshell.open(str(path))
    properties = read(convert_cached(path), outputs.PROPERTIES)
    chosen = [model.by_type(cls)[0] for cls in ("IfcWallStandardCase", "IfcSlab", "IfcWindow", "IfcSpace")]
    for element in chosen:
        record = properties[element.GlobalId]
        psets = sets(element, psets_only=True)
        qtos = sets(element, qtos_only=True)
        assert record["class"] == element.is_a()
        assert record["name"] == element.Name
        for name, values in psets.items():
            assert record["psets"][name] == {k: v for k, v in values.items() if k != "id"}
        for name, values in qtos.items():
            assert record["qtos"][name] == pytest.approx({k: v for k, v in values.items() if k != "id"})
    # FZK-Haus carries its base quantities as "BaseQuantities" (the IFC2X3 name of the Qto_* sets).
    assert any(name == "BaseQuantities" for e in chosen for name in properties[e.GlobalId]["qtos"])
    rolled = read(convert_cached(path), outputs.QUANTITIES)["by_class"]["IfcWallStandardCase"]["quantities"]
    walls = model.by_type("IfcWallStandardCase")
    expected = sum(sets(w, qtos_only=True).get("BaseQuantities", {}).get("Length", 0) for w in walls)
    assert rolled["BaseQuantities.Length"] == pytest.approx(expected)


def test_quantity_roll_ups_sum_the_qto_values_per_class_and_per_storey(convert_cached, house):
    folder = convert_cached(house.path)
    quantities = read(folder, outputs.QUANTITIES)
    walls = quantities["by_class"]["IfcWall"]
    assert walls["count"] == 2
    assert walls["quantities"]["Qto_WallBaseQuantities.Length"] == pytest.approx(9.0)
    assert walls["quantities"]["Qto_WallBaseQuantities.NetVolume"] == pytest.approx(5.4)
    storey = quantities["by_storey"][house.storey]
    assert storey["name"] == "Ground floor"
    assert storey["by_class"]["IfcSpace"]["quantities"]["Qto_SpaceBaseQuantities.NetFloorArea"] == 12.0
    assert storey["by_class"]["IfcColumn"]["count"] == 3


def test_repeated_geometry_is_one_mesh_shared_by_the_instances(convert_cached, house):
    gltf = glb_json(convert_cached(house.path) / outputs.GLB)
    mesh_of = {n["name"]: n["mesh"] for n in gltf["nodes"]}
    assert len({mesh_of[c] for c in house.columns}) == 1
    assert house.space not in mesh_of and house.opening not in mesh_of
    assert set(mesh_of) == {*house.walls, *house.columns, house.slab}


def test_no_author_organisation_application_or_file_name_reaches_the_outputs(convert_cached, house):
    folder = convert_cached(house.path)
    assert house.path.read_text().count(house.secrets[0]) >= 1  # the fixture does carry them
    for name in outputs.ALL_FILES:
        raw = (folder / name).read_bytes()
        text = (gzip.decompress(raw) if name.endswith(".gz") else raw).decode("utf-8", errors="replace")
        for secret in (*house.secrets, house.path.name, house.path.stem):
            assert secret.lower() not in text.lower(), f"{secret!r} found in {name}"
