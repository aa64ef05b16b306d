"""Manifest items: the known answers planted in the demo county.

An item names the features involved (by their ID field), the measured value or the conflict
geometry, and its areas: ``planar_area_m2`` is exact by construction (hand-computable
rectangles against straight edges), ``area_m2`` is the ellipsoidal area that
:func:`guotu.domain.geometry.area.ellipsoidal_area_m2` gives for the same geometry in EPSG:4527.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from guotu.demo.layout import ORIGIN
from guotu.domain.geometry.area import ellipsoidal_area_m2

__all__ = ["CRS_EPSG", "ID_FIELDS", "Item", "survey_area_m2", "to_workspace", "workspace_frame"]

#: The CRS of the demo geometry and of the workspace.
CRS_EPSG = "EPSG:4527"

#: The field that identifies a feature of each workspace layer.
ID_FIELDS: dict[str, str] = {
    "XZQ": "XZQDM",
    "DLTB": "BSM",
    "STBHHX": "BSM",
    "YJJBNT": "BSM",
    "CZKFBJ": "BSM",
    "GHYD": "BSM",
    "XXGHDY": "DYBH",
    "XXGHDK": "DKBH",
    "ZXGH": "BSM",
    "JSXM": "XMDM",
    "TDZZXM": "XMDM",
    "BHTB": "TBBH",
}

#: Planar areas stated by construction must match the geometry to this many m².
_EXACT_TOLERANCE_M2 = 1e-6


def to_workspace(geoms: Any) -> Any:
    """Move local-metre geometries into EPSG:4527 (adds :data:`ORIGIN`)."""
    offset = np.asarray(ORIGIN, dtype=np.float64)
    return shapely.transform(geoms, lambda xy: xy + offset)


def workspace_frame(geoms: Any, columns: dict[str, Any]) -> gpd.GeoDataFrame:
    """A layer in EPSG:4527 from local-metre geometries and its columns."""
    return gpd.GeoDataFrame(
        columns, geometry=to_workspace(np.asarray(geoms, dtype=object)), crs=CRS_EPSG
    )


def survey_area_m2(geoms: Any) -> npt.NDArray[np.float64]:
    """Ellipsoidal areas (EPSG:4527) of local-metre geometries, rounded to 0.01 m²."""
    valid = shapely.make_valid(to_workspace(np.asarray(geoms, dtype=object)))
    return np.round(ellipsoidal_area_m2(valid, CRS.from_user_input(CRS_EPSG)), 2)


@dataclass
class Item:
    """One planted problem or conflict (geometries in local metres).

    ``area_geometry`` is what the areas are measured on (defaults to ``geometry``); for a
    bow-tie it is the valid repair. ``planar_area_m2`` is the value stated by construction
    and is checked against the geometry when the item is serialised.
    """

    id: str
    kind: str
    layer: str
    features: list[str]
    description_zh: str
    description_en: str
    id_field: str | None = None
    other_layer: str | None = None
    other_features: list[str] = field(default_factory=list)
    other_id_field: str | None = None
    field: str | None = None
    value: Any = None
    limit: float | str | None = None
    geometry: BaseGeometry | None = None
    area_geometry: BaseGeometry | None = None
    planar_area_m2: float | None = None
    length_m: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, with geometry and areas in EPSG:4527.

        Raises
        ------
        AssertionError
            If a stated planar area does not match the planted geometry (a generator bug).
        """
        wkt = area = planar = None
        if self.geometry is not None:
            geom = to_workspace(self.geometry)
            measured = to_workspace(
                self.area_geometry if self.area_geometry is not None else self.geometry
            )
            wkt = shapely.to_wkt(geom, rounding_precision=-1)
            planar = float(shapely.area(measured))
            if self.planar_area_m2 is not None:
                if abs(planar - self.planar_area_m2) > _EXACT_TOLERANCE_M2:
                    raise AssertionError(
                        f"{self.id}: planted area {planar} m² is not the stated "
                        f"{self.planar_area_m2} m²."
                    )
                planar = self.planar_area_m2
            area = round(
                float(ellipsoidal_area_m2([measured], CRS.from_user_input(CRS_EPSG))[0]), 6
            )
            planar = round(planar, 6)
        return {
            "id": self.id,
            "kind": self.kind,
            "layer": self.layer,
            "id_field": self.id_field or ID_FIELDS.get(self.layer),
            "features": self.features,
            "other_layer": self.other_layer,
            "other_id_field": (self.other_id_field or ID_FIELDS.get(self.other_layer or "")),
            "other_features": self.other_features,
            "field": self.field,
            "value": self.value,
            "limit": self.limit,
            "planar_area_m2": planar,
            "area_m2": area,
            "length_m": self.length_m,
            "geometry_wkt": wkt,
            "description_zh": self.description_zh,
            "description_en": self.description_en,
        }
