"""The overlay kernel against GEOS on the demo county's real configurations.

Demo parcels share edges and vertices with the farmland blocks, the red lines and the
development boundary (they are cut along them), so this is where touching and collinear
cases are dense. Every (feature, zone) pair of the kernel must be a pair with a positive
GEOS intersection area, with the same planar area, and no such pair may be missing.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from guotu.demo.county import generate_county
from guotu.domain.geometry.overlay import overlay
from guotu.domain.geometry.zone_index import prepare_zones

PARCELS = 3000
#: Planar areas must agree to this (m²): GEOS and the kernel round differently.
TOL_M2 = 1e-4


@pytest.fixture(scope="module")
def county():  # type: ignore[no-untyped-def]
    return generate_county(PARCELS, seed=20261122)


def _geos_pairs(features: np.ndarray, zones: np.ndarray) -> dict[tuple[int, int], float]:
    a, b = shapely.STRtree(zones).query(features, predicate="intersects")
    areas = shapely.area(shapely.intersection(features[a], zones[b]))
    return {(int(i), int(j)): float(x) for i, j, x in zip(a, b, areas, strict=True) if x > TOL_M2}


@pytest.mark.parametrize("zone_layer", ["YJJBNT", "STBHHX", "CZKFBJ"])
@pytest.mark.parametrize("geometry", [True, False])
def test_kernel_pairs_and_areas_equal_geos(county, zone_layer: str, geometry: bool) -> None:  # type: ignore[no-untyped-def]
    gh = county.layers["GHYD"]
    feats = shapely.make_valid(np.asarray(gh.geometry.values, dtype=object))
    zones = np.asarray(county.layers[zone_layer].geometry.values, dtype=object)
    res = overlay(feats, prepare_zones(zones, gh.crs), geometry=geometry)
    ours = {
        (int(i), int(j)): float(x)
        for i, j, x in zip(res.left, res.right, res.planar_area_m2, strict=True)
    }
    theirs = _geos_pairs(feats, zones)
    wrong = {
        k: (v, theirs.get(k, 0.0)) for k, v in ours.items() if abs(v - theirs.get(k, 0.0)) > TOL_M2
    }
    missing = {k: v for k, v in theirs.items() if k not in ours}
    assert not wrong, list(wrong.items())[:5]
    assert not missing, list(missing.items())[:5]
