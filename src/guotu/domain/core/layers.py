"""A layer as the checks and the review read it: arrays of fids, geometries and attributes.

:class:`LayerData` is what crosses from the services into the pure checks (:mod:`guotu.domain.checks`)
and review (:mod:`guotu.domain.review`): geometries in a projected CRS, attribute columns as
object arrays. :func:`feature_label` names one of its features in
messages and findings by its human identifier (DKBH, TBBH, BSM …).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS

from guotu.domain.core.roles import ROLES
from guotu.domain.geometry.polygons import repair_polygonal

__all__ = [
    "ID_FIELDS",
    "ROLE_ID_FIELDS",
    "LayerData",
    "as_text",
    "feature_label",
]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Fields naming a feature for people, in order of preference.
ID_FIELDS: tuple[str, ...] = ("BSM", "DKBH", "DYBH", "TBBH", "XMDM", "YJJBNTTBBH", "XZQDM")
#: The field that names a feature of each role (from :data:`guotu.domain.core.roles.ROLES`).
ROLE_ID_FIELDS: dict[str, str] = {r.id: r.id_field for r in ROLES}


@dataclass(frozen=True)
class LayerData:
    """A layer as arrays: what checks read. Geometries are in ``crs`` (projected, metres).

    Attributes
    ----------
    name, role
        Layer name and role id.
    crs
        Projected CRS of the geometries.
    fids
        Feature ids, one per geometry.
    geometries
        Shapely geometries (``None`` for a missing geometry).
    attributes
        Column name → object array of values (``None`` for null).
    """

    name: str
    role: str
    crs: CRS
    fids: IntArray
    geometries: ObjArray
    attributes: Mapping[str, ObjArray] = field(default_factory=dict)

    @functools.cached_property
    def id_field(self) -> str | None:
        """The role's own id field if the layer has it, else the first of :data:`ID_FIELDS`."""
        own = ROLE_ID_FIELDS.get(self.role)
        if own in self.attributes:
            return own
        return next((f for f in ID_FIELDS if f in self.attributes), None)

    @functools.cached_property
    def is_valid(self) -> BoolArray:
        """Validity of each geometry (missing and empty count as valid)."""
        g = self.geometries
        return np.asarray(
            shapely.is_valid(g) | shapely.is_missing(g) | shapely.is_empty(g), dtype=bool
        )

    @functools.cached_property
    def repaired(self) -> ObjArray:
        """The geometries with invalid ones repaired (make_valid, polygonal parts kept)."""
        out = self.geometries.copy()
        bad = ~self.is_valid
        if bad.any():
            out[bad] = repair_polygonal(out[bad])
        return out

    def feature_id(self, pos: int) -> str | None:
        """Value of :attr:`id_field` for the feature at position ``pos``, as text."""
        if self.id_field is None:
            return None
        return as_text(self.attributes[self.id_field][pos])

    def feature_key(self, pos: int) -> tuple[str | None, str | None]:
        """(field, value) naming this feature: the role's own id field (DKBH for parcels,
        DYBH for units …) when filled in, else the first filled of :data:`ID_FIELDS` — so a
        parcel with a blank DKBH is still named by its BSM."""
        own = ROLE_ID_FIELDS.get(self.role)
        order = ((own,) if own else ()) + tuple(f for f in ID_FIELDS if f != own)
        for name in order:
            if name in self.attributes:
                value = as_text(self.attributes[name][pos])
                if value is not None:
                    return name, value
        return None, None


def feature_label(layer: LayerData, pos: int, lang: str = "zh") -> str:
    """How a message names a feature: ``要素 12（DKBH=A-01）`` / ``feature 12 (DKBH=A-01)``."""
    fid = int(layer.fids[pos])
    name, ident = layer.feature_key(pos)
    if lang == "zh":
        return f"要素 {fid}" + (f"（{name}={ident}）" if ident else "")
    return f"feature {fid}" + (f" ({name}={ident})" if ident else "")


def as_text(value: object) -> str | None:
    """A cell value as stripped text; ``None`` for null, NaN and blank (``101.0`` → ``101``).

    Examples
    --------
    >>> as_text(" A-01 "), as_text(101.0), as_text(float("nan"))
    ('A-01', '101', None)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None
