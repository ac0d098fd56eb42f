"""Small IFC4 models made with ifcopenshell's API for the conversion tests (B1).

``make_house``: a project, site, building and one storey holding two walls with Qto_WallBaseQuantities
and Pset_WallCommon, a slab, three columns sharing one mapped representation (instancing), a space
with Qto_SpaceBaseQuantities, and an opening in the first wall. The header and IfcOwnerHistory name an
author, an organisation and an application that must never reach an expert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.context
import ifcopenshell.api.feature
import ifcopenshell.api.geometry
import ifcopenshell.api.owner
import ifcopenshell.api.project
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.api.spatial
import ifcopenshell.api.type
import ifcopenshell.api.unit

AUTHOR = "Zhang Sanfeng"
ORGANISATION = "Hangzhou Xinghe Construction Group"
APPLICATION = "XingheCAD Pro"
PERSON = "Li Sixiang"


@dataclass
class House:
    path: Path
    walls: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    slab: str = ""
    space: str = ""
    opening: str = ""
    storey: str = ""
    secrets: tuple[str, ...] = (AUTHOR, ORGANISATION, APPLICATION, PERSON)


def _owner(model: ifcopenshell.file) -> None:
    person = model.createIfcPerson(FamilyName=PERSON.split()[1], GivenName=PERSON.split()[0], Identification=PERSON)
    org = model.createIfcOrganization(Name=ORGANISATION)
    user = model.createIfcPersonAndOrganization(ThePerson=person, TheOrganization=org)
    application = model.createIfcApplication(
        ApplicationDeveloper=org, Version="1.0", ApplicationFullName=APPLICATION, ApplicationIdentifier="xcad"
    )

    def get_user(ifc: ifcopenshell.file) -> ifcopenshell.entity_instance | None:
        return user

    def get_application(ifc: ifcopenshell.file) -> ifcopenshell.entity_instance | None:
        return application

    ifcopenshell.api.owner.settings.get_user = get_user
    ifcopenshell.api.owner.settings.get_application = get_application


def _nobody(ifc: ifcopenshell.file) -> ifcopenshell.entity_instance | None:
    return None


def make_house(path: Path, *, tag: str = "") -> House:
    """Write the model to ``path``; ``tag`` changes the project's name, so the file's hash differs."""
    model = ifcopenshell.api.project.create_file(version="IFC4")
    _owner(model)
    try:
        house = _build(model, path, tag)
    finally:
        ifcopenshell.api.owner.settings.get_user = _nobody
        ifcopenshell.api.owner.settings.get_application = _nobody
    model.header.file_name.author = (AUTHOR,)
    model.header.file_name.organization = (ORGANISATION,)
    model.header.file_name.originating_system = APPLICATION
    model.header.file_name.name = path.name
    model.write(str(path))
    return house


def _build(model: ifcopenshell.file, path: Path, tag: str) -> House:
    house = House(path)
    project = ifcopenshell.api.root.create_entity(model, ifc_class="IfcProject", name=f"Test house {tag}".strip())
    ifcopenshell.api.unit.assign_unit(model, length={"is_metric": True, "raw": "METERS"})
    context = ifcopenshell.api.context.add_context(model, context_type="Model")
    body = ifcopenshell.api.context.add_context(
        model, context_type="Model", context_identifier="Body", target_view="MODEL_VIEW", parent=context
    )
    site = ifcopenshell.api.root.create_entity(model, ifc_class="IfcSite", name="Site")
    building = ifcopenshell.api.root.create_entity(model, ifc_class="IfcBuilding", name="Building")
    storey = ifcopenshell.api.root.create_entity(model, ifc_class="IfcBuildingStorey", name="Ground floor")
    storey.Elevation = 0.0
    ifcopenshell.api.aggregate.assign_object(model, products=[site], relating_object=project)
    ifcopenshell.api.aggregate.assign_object(model, products=[building], relating_object=site)
    ifcopenshell.api.aggregate.assign_object(model, products=[storey], relating_object=building)
    house.storey = storey.GlobalId

    for n, (x, length) in enumerate(((0.0, 5.0), (0.0, 4.0))):
        wall = ifcopenshell.api.root.create_entity(model, ifc_class="IfcWall", name=f"Wall {n + 1}")
        ifcopenshell.api.geometry.edit_object_placement(model, product=wall)
        wall.ObjectPlacement.RelativePlacement.Location.Coordinates = (x, 3.0 * n, 0.0)
        shape = ifcopenshell.api.geometry.add_wall_representation(
            model, context=body, length=length, height=3.0, thickness=0.2
        )
        ifcopenshell.api.geometry.assign_representation(model, product=wall, representation=shape)
        ifcopenshell.api.spatial.assign_container(model, products=[wall], relating_structure=storey)
        pset = ifcopenshell.api.pset.add_pset(model, product=wall, name="Pset_WallCommon")
        ifcopenshell.api.pset.edit_pset(model, pset=pset, properties={"IsExternal": n == 0, "FireRating": "REI60"})
        qto = ifcopenshell.api.pset.add_qto(model, product=wall, name="Qto_WallBaseQuantities")
        ifcopenshell.api.pset.edit_qto(
            model, qto=qto, properties={"Length": length, "Height": 3.0, "Width": 0.2, "NetVolume": length * 0.6}
        )
        house.walls.append(wall.GlobalId)

    slab = ifcopenshell.api.root.create_entity(model, ifc_class="IfcSlab", name="Floor slab")
    ifcopenshell.api.geometry.edit_object_placement(model, product=slab)
    shape = ifcopenshell.api.geometry.add_slab_representation(model, context=body, depth=0.25)
    ifcopenshell.api.geometry.assign_representation(model, product=slab, representation=shape)
    ifcopenshell.api.spatial.assign_container(model, products=[slab], relating_structure=storey)
    qto = ifcopenshell.api.pset.add_qto(model, product=slab, name="Qto_SlabBaseQuantities")
    ifcopenshell.api.pset.edit_qto(model, qto=qto, properties={"Depth": 0.25, "GrossArea": 1.0})
    house.slab = slab.GlobalId

    column_type = ifcopenshell.api.root.create_entity(model, ifc_class="IfcColumnType", name="C30 300x300")
    profile = model.createIfcRectangleProfileDef(ProfileType="AREA", XDim=0.3, YDim=0.3)
    shape = ifcopenshell.api.geometry.add_profile_representation(model, context=body, profile=profile, depth=3.0)
    ifcopenshell.api.geometry.assign_representation(model, product=column_type, representation=shape)
    for n in range(3):
        column = ifcopenshell.api.root.create_entity(model, ifc_class="IfcColumn", name=f"Column {n + 1}")
        ifcopenshell.api.geometry.edit_object_placement(model, product=column)
        column.ObjectPlacement.RelativePlacement.Location.Coordinates = (1.0 + 1.5 * n, 1.5, 0.0)
        ifcopenshell.api.type.assign_type(model, related_objects=[column], relating_type=column_type)
        ifcopenshell.api.spatial.assign_container(model, products=[column], relating_structure=storey)
        house.columns.append(column.GlobalId)

    space = ifcopenshell.api.root.create_entity(model, ifc_class="IfcSpace", name="Living room")
    ifcopenshell.api.geometry.edit_object_placement(model, product=space)
    shape = ifcopenshell.api.geometry.add_wall_representation(model, context=body, length=4, height=2.8, thickness=3)
    ifcopenshell.api.geometry.assign_representation(model, product=space, representation=shape)
    ifcopenshell.api.aggregate.assign_object(model, products=[space], relating_object=storey)
    qto = ifcopenshell.api.pset.add_qto(model, product=space, name="Qto_SpaceBaseQuantities")
    ifcopenshell.api.pset.edit_qto(model, qto=qto, properties={"NetFloorArea": 12.0, "Height": 2.8})
    house.space = space.GlobalId

    opening = ifcopenshell.api.root.create_entity(model, ifc_class="IfcOpeningElement", name="Door hole")
    ifcopenshell.api.geometry.edit_object_placement(model, product=opening)
    opening.ObjectPlacement.RelativePlacement.Location.Coordinates = (1.0, -0.1, 0.0)
    shape = ifcopenshell.api.geometry.add_wall_representation(model, context=body, length=1, height=2, thickness=0.4)
    ifcopenshell.api.geometry.assign_representation(model, product=opening, representation=shape)
    wall = model.by_guid(house.walls[0])
    ifcopenshell.api.feature.add_feature(model, feature=opening, element=wall)
    house.opening = opening.GlobalId
    return house
