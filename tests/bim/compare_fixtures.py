"""A second revision of the small house (tests/bim/ifc_fixtures.py) for the compare tests.

From the first revision: one column removed, one beam added (named after the bidder's organisation,
which the compare must not reveal), the second wall's fire rating changed, and the first wall made
taller (its extrusion only: same placement, same properties); nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.api.spatial
import ifcopenshell.util.element

from tests.bim.ifc_fixtures import ORGANISATION, House


@dataclass(frozen=True)
class Revision:
    path: Path
    removed: str
    added: str
    changed: str
    reshaped: str


def make_revision(house: House, path: Path) -> Revision:
    model = ifcopenshell.open(str(house.path))
    removed = house.columns[0]
    ifcopenshell.api.root.remove_product(model, product=model.by_guid(removed))
    changed = model.by_guid(house.walls[1])
    pset: Any = model.by_id(ifcopenshell.util.element.get_pset(changed, "Pset_WallCommon")["id"])
    ifcopenshell.api.pset.edit_pset(model, pset=pset, properties={"FireRating": "REI120"})
    reshaped = model.by_guid(house.walls[0])
    (solid,) = [e for e in model.traverse(reshaped.Representation) if e.is_a("IfcExtrudedAreaSolid")]
    solid.Depth = solid.Depth + 0.5
    beam = ifcopenshell.api.root.create_entity(model, ifc_class="IfcBeam", name=f"Beam by {ORGANISATION}")
    ifcopenshell.api.spatial.assign_container(model, products=[beam], relating_structure=model.by_guid(house.storey))
    model.write(str(path))
    return Revision(path, removed=removed, added=beam.GlobalId, changed=changed.GlobalId, reshaped=reshaped.GlobalId)
