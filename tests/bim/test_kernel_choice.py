"""Each element goes to the kernel its shape suits, and the shapes agree with OpenCASCADE's (B1).

The by-shape plan (bim_review/ifc.py ``kernel_for``) sends solids to the manifold kernel, which is
many times faster on walls cut by openings but crashes on surface models and gets some clippings
wrong; surface models go to the CGAL hybrid, surface models with openings to OpenCASCADE, and clipped
solids with openings to manifold only where their clipping agrees with the CGAL hybrid's
(``clips_agree``). Its meshes differ from OpenCASCADE's in triangulation only, so each element's
bounding box must match.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import ifcopenshell
import pytest

from bim_review import ifc, outputs
from bim_review.convert import DEFAULT_KERNEL, Limits, run_child
from tests.bim.conftest import sample

TOLERANCE_M = 0.01


def boxes(folder: Path) -> dict[str, list[float]]:
    return dict(json.loads(gzip.decompress((folder / outputs.BBOXES).read_bytes())))


def test_solids_go_to_manifold_clipped_solids_and_surface_models_to_cgal_cut_surface_models_to_opencascade():
    duplex = ifcopenshell.open(str(sample("duplex.ifc")))
    products = {p.GlobalId: p for p in ifc.body_products(duplex)}
    wall = next(p for p in products.values() if p.is_a("IfcWallStandardCase"))
    party_wall = products["2O2Fr$t4X7Zf8NOew3FKRi"]  # clipped at its ends: manifold got it 6 cm long
    cabinet = products["0wkEuT1wr1kOyafLY4vyu$"]  # a Revit cabinet: a surface model with an opening
    surfaces = [
        p
        for p in ifc.body_products(duplex)
        if not p.HasOpenings and all(i.is_a("IfcFaceBasedSurfaceModel") for i in ifc.body_items(p))
    ]
    assert ifc.kernel_for(wall) == ifc.SOLID_KERNEL
    assert ifc.kernel_for(party_wall) == ifc.FAST_KERNEL
    assert ifc.kernel_for(cabinet) == ifc.DEFAULT_KERNEL
    assert surfaces and {ifc.kernel_for(p) for p in surfaces} == {ifc.FAST_KERNEL}


def products_of(name: str) -> tuple[ifcopenshell.file, dict[str, ifcopenshell.entity_instance]]:
    model = ifcopenshell.open(str(sample(name)))
    return model, {p.GlobalId: p for p in ifc.body_products(model)}


def test_manifold_takes_a_clipped_wall_only_where_its_clipping_agrees_with_the_fast_kernel():
    fzk, products = products_of("AC20-FZK-Haus.ifc")
    # The two upper gable walls: clipped by the roof (polygon-bounded half spaces), a window each.
    gables = [products["3VCarUKgH1buLo22Ozxe6J"], products["0knNIAVBPBFvBy_m5QVHsU"]]
    assert {ifc.kernel_for(p) for p in gables} == {ifc.CHECK_CLIP}
    assert ifc.clips_agree(fzk, gables) == {p.GlobalId for p in gables}
    # The eaves walls, clipped by unbounded half spaces: manifold leaves the clip out.
    eaves = [products["25OWQvmXj5BPgyergP43tY"], products["3Ttjr$59XEWfWN1WUHjelZ"]]
    assert ifc.clips_agree(fzk, eaves) == set()
    # Duplex's party walls, clipped where their ends meet others: manifold gets them wrong too.
    duplex, products = products_of("duplex.ifc")
    party = [products[g] for g in ("2O2Fr$t4X7Zf8NOew3FNbT", "2O2Fr$t4X7Zf8NOew3FKRi", "2O2Fr$t4X7Zf8NOew3FKRH")]
    assert ifc.clips_agree(duplex, party) == set()


def test_openings_that_miss_their_element_are_not_cut_and_those_that_touch_it_are():
    duplex, products = products_of("duplex.ifc")
    cabinets = [p for p in products.values() if ifc.kernel_for(p) == ifc.DEFAULT_KERNEL]
    # Revit's tall cabinets: each holds an opening two metres below it.
    assert len(cabinets) == 8 and {p.Name.split(":")[0] for p in cabinets} == {"M_Tall Cabinet-Single Door(2)"}
    assert ifc.openings_miss(duplex, cabinets) == {p.GlobalId for p in cabinets}
    fzk, products = products_of("AC20-FZK-Haus.ifc")
    windowed = [p for p in products.values() if p.is_a("IfcWallStandardCase") and p.HasOpenings]
    assert windowed and ifc.openings_miss(fzk, windowed) == set()


@pytest.mark.parametrize("name", ["AC20-FZK-Haus.ifc", "duplex.ifc"])
def test_every_element_by_shape_has_opencascades_bounding_box_within_a_centimetre(name, convert_cached, tmp_path):
    path = sample(name)
    by_shape = convert_cached(path)
    run = run_child([str(path), str(tmp_path), "--kernel", DEFAULT_KERNEL], Limits(), lambda stage, percent: None)
    assert run.returncode == 0, run.failure(Limits())
    ours, theirs = boxes(by_shape), boxes(tmp_path)
    assert set(ours) == set(theirs)
    off = {
        guid: (ours[guid], theirs[guid]) for guid in ours if ours[guid] != pytest.approx(theirs[guid], abs=TOLERANCE_M)
    }
    assert not off, f"{len(off)} elements differ: {off}"
    summary = json.loads((by_shape / outputs.SUMMARY).read_text())
    assert summary["kernel"] == ifc.BY_SHAPE
    assert summary["products_by_kernel"][ifc.SOLID_KERNEL] > 0
    if name == "AC20-FZK-Haus.ifc":
        assert summary["clip_checks"] == {"checked": 2, "agreed": 2}
    if name == "duplex.ifc":
        assert summary["openings_missed"] == 8
