"""CGCS2000 Gauss-Krüger zones and axis order (EPSG:4490 and the GK CRSs are northing-first)."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import CRS, Transformer

from guotu.domain.geometry.crs import gk_zone_for_longitude, parse_crs, workspace_crs_for_longitude
from guotu.errors import CRSError


@pytest.mark.parametrize(
    ("lon", "zone", "prefixed", "plain"),
    [
        # (longitude, 3° zone, EPSG with zone prefix, EPSG without) — reference/crs.md §2
        (75.2, 25, 4513, 4534),
        (117.0, 39, 4527, 4548),
        (118.49, 39, 4527, 4548),
        (118.51, 40, 4528, 4549),
        (134.9, 45, 4533, 4554),
    ],
)
def test_zone_and_epsg_from_longitude(lon: float, zone: int, prefixed: int, plain: int) -> None:
    assert gk_zone_for_longitude(lon) == zone
    assert workspace_crs_for_longitude(lon) == prefixed
    assert workspace_crs_for_longitude(lon, prefixed=False) == plain
    crs = CRS.from_epsg(prefixed)
    assert f"zone {zone}" in crs.name
    assert crs.ellipsoid.inverse_flattening == pytest.approx(298.257222101)


def test_outside_china_uses_utm() -> None:
    assert workspace_crs_for_longitude(-74.0, 40.7) == 32618
    assert workspace_crs_for_longitude(151.2, -33.9) == 32756


@pytest.mark.parametrize("epsg", [4527, 4548, 4490])
def test_declared_axis_order_is_northing_first(epsg: int) -> None:
    first = CRS.from_epsg(epsg).axis_info[0]
    assert first.direction == "north"


def test_round_trip_gk_lonlat_gk_with_always_xy() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(39_400_000, 39_600_000, 1000)
    y = rng.uniform(3_000_000, 5_000_000, 1000)
    fwd = Transformer.from_crs(4527, 4490, always_xy=True)
    back = Transformer.from_crs(4490, 4527, always_xy=True)
    lon, lat = fwd.transform(x, y)
    assert ((lon > 115) & (lon < 119)).all() and ((lat > 27) & (lat < 46)).all()
    x2, y2 = back.transform(lon, lat)
    assert np.abs(x2 - x).max() < 1e-6 and np.abs(y2 - y).max() < 1e-6


def test_without_always_xy_the_axes_come_back_swapped() -> None:
    # The pitfall the importer guards against: EPSG order gives (lat, lon) for 4490.
    lat, lon = Transformer.from_crs(4527, 4490).transform(4_052_000, 39_540_000)
    assert 36 < lat < 37 and 117 < lon < 118


@pytest.mark.parametrize("text", ["EPSG:4527", "4527", 4527])
def test_parse_crs_accepts_common_forms(text) -> None:
    assert parse_crs(text).to_epsg() == 4527


def test_parse_crs_refuses_nonsense_with_the_fix() -> None:
    with pytest.raises(CRSError, match="EPSG:4527"):
        parse_crs("CGCS2000-ish")
