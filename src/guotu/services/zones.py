"""Zone layers (三区三线, projects …) indexed for overlays, once per layer version: the case
matching and the indicator engine ask for the same zones date after date.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from guotu.domain.core.model import Version
from guotu.domain.geometry.polygons import polygonal
from guotu.domain.geometry.zone_index import ZoneIndex, prepare_zones
from guotu.ports import FeatureStore
from guotu.services.approval_projects import issued_permits
from guotu.services.layer_choice import layer_of_role
from guotu.services.workspace import workspace_crs

__all__ = ["ZoneCache", "Zones", "valid_polygons"]


def valid_polygons(geoms: Any) -> np.ndarray:
    """``geoms`` as an object array with the invalid ones repaired (``make_valid``, polygonal
    parts kept); missing and empty ones are left as they are."""
    out = np.asarray(geoms, dtype=object).copy()
    bad = ~(shapely.is_missing(out) | shapely.is_empty(out)) & ~shapely.is_valid(out)
    if bad.any():
        out[bad] = polygonal(shapely.make_valid(out[bad]))
    return out


@dataclass(frozen=True)
class Zones:
    """A zone layer's version in force: its index, its features (with the columns asked
    for) and which layer and version they are."""

    index: ZoneIndex
    frame: gpd.GeoDataFrame
    layer: str
    version: Version
    permits: int = 0

    @property
    def label(self) -> str:
        """``LAYER VERSION-LABEL``, for lineage (``+ 审批核发许可 N 件`` when approval cases'
        permits joined the projects)."""
        extra = f" + 审批核发许可 {self.permits} 件" if self.permits else ""
        return f"{self.layer} {self.version.label}{extra}"


class ZoneCache:
    """:class:`Zones` by (layer, version), the oldest dropped beyond ``max_entries``."""

    def __init__(
        self, known_at: datetime | None = None, max_entries: int = 8, use_layers: Sequence[str] = ()
    ) -> None:
        self.known_at = known_at
        self.max_entries = max_entries
        self.use_layers = tuple(use_layers)  # the chosen layer where a role has several
        self._cache: OrderedDict[tuple[str, int, tuple[str, ...]], Zones] = OrderedDict()

    def get(
        self, store: FeatureStore, role: str, day: date, columns: Sequence[str] = ()
    ) -> Zones | None:
        """The layer of ``role`` (see :func:`layer_of_role`: several are refused unless one
        is chosen) in the version in force on ``day``; ``None`` without such a layer or
        version."""
        info = layer_of_role(store, role, chosen=self.use_layers)
        if info is None:
            return None
        name = info.name
        version = store.layer_version(name, as_of=day, known_at=self.known_at)
        if version is None:
            return None
        cols = tuple(c for c in columns if c in store.layer(name).columns)
        key = (name, version.id, cols)
        found = self._cache.get(key)
        if found is None:
            frame = store.read_layer(name, version_id=version.id, columns=list(cols))
            found = Zones(
                prepare_zones(valid_polygons(frame.geometry.values), workspace_crs(store)),
                frame,
                name,
                version,
            )
            self._cache[key] = found
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        if role == "construction_project":
            return self._with_permits(store, found, day)
        return found

    def _with_permits(self, store: FeatureStore, found: Zones, day: date) -> Zones:
        """``found`` (the approved projects' layer) with the building permits approval cases
        issued by ``day`` (:mod:`guotu.services.approval_projects`)."""
        rows = issued_permits(store, day, self.known_at)
        if not rows:
            return found
        geom = found.frame.geometry.name
        attrs = [c for c in found.frame.columns if c != geom]
        extra = gpd.GeoDataFrame(
            [{c: r.get(c) for c in attrs} | {geom: r["geometry"]} for r in rows],
            geometry=geom,
            crs=found.frame.crs,
        )
        extra.index = -1 - np.arange(len(extra))
        frame = gpd.GeoDataFrame(
            pd.concat([found.frame, extra]), geometry=geom, crs=found.frame.crs
        )
        index = prepare_zones(valid_polygons(frame.geometry.values), workspace_crs(store))
        return Zones(index, frame, found.layer, found.version, len(rows))
