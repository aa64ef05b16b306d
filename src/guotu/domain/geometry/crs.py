"""Coordinate reference systems: CGCS2000 Gauss-Krüger zones and the checks around them.

Facts (EPSG database shipped with PROJ; ../shared/reference/crs.md):

* EPSG:4490 is CGCS2000 geographic; axis order latitude, longitude.
* EPSG:4513–4533 are the CGCS2000 3° Gauss-Krüger zones 25–45 with the zone number prefixed
  to the false easting (zone 39, central meridian 117°E → EPSG:4527, false easting 39 500 000);
  EPSG:4534–4554 are the same zones without the prefix. Both are northing-first by definition.
* Outside China's 3° zones (central meridians 75°E–135°E) the workspace uses the WGS 84 UTM
  zone of the data instead; areas are still computed on that CRS's own ellipsoid.

All transformations use ``always_xy=True``: x is easting/longitude, y northing/latitude,
whatever the CRS's declared axis order.
"""

from __future__ import annotations

import math

from pyproj import CRS, Transformer

from guotu.errors import CRSError

__all__ = [
    "CGCS2000_GEOGRAPHIC",
    "check_projected",
    "gk_zone_for_longitude",
    "parse_crs",
    "to_geographic",
    "workspace_crs_for_longitude",
]

#: CGCS2000 geographic 2D.
CGCS2000_GEOGRAPHIC = 4490

_GK3_FIRST_ZONE = 25
_GK3_LAST_ZONE = 45
_GK3_PREFIXED_BASE = 4513  # zone 25
_GK3_PLAIN_BASE = 4534  # CM 75E


def gk_zone_for_longitude(lon_deg: float) -> int:
    """The 3° Gauss-Krüger zone number whose central meridian is nearest ``lon_deg``.

    Zone n has central meridian 3·n degrees east.

    Examples
    --------
    >>> gk_zone_for_longitude(117.3)
    39
    >>> gk_zone_for_longitude(118.6)
    40
    """
    if not math.isfinite(lon_deg):
        raise CRSError(
            f"Longitude {lon_deg!r} is not a number.", message_zh=f"经度 {lon_deg!r} 不是有效数值。"
        )
    return int(math.floor(lon_deg / 3.0 + 0.5))


def workspace_crs_for_longitude(
    lon_deg: float, lat_deg: float = 30.0, *, prefixed: bool = True
) -> int:
    """EPSG code of the projected CRS a new workspace uses for data centred at ``lon_deg``.

    Inside China's 3° zones (central meridian 75°E–135°E) this is the CGCS2000 3° GK zone,
    with the zone prefix in the false easting by default (as 三调 data are delivered);
    elsewhere the WGS 84 UTM zone (north or south by ``lat_deg``).

    Examples
    --------
    >>> workspace_crs_for_longitude(117.3)
    4527
    >>> workspace_crs_for_longitude(117.3, prefixed=False)
    4548
    >>> workspace_crs_for_longitude(2.35, 48.85)
    32631
    """
    zone = gk_zone_for_longitude(lon_deg)
    if _GK3_FIRST_ZONE <= zone <= _GK3_LAST_ZONE and abs(lon_deg - 3 * zone) <= 1.5 + 1e-9:
        base = _GK3_PREFIXED_BASE if prefixed else _GK3_PLAIN_BASE
        return base + zone - _GK3_FIRST_ZONE
    utm = int(math.floor((lon_deg + 180.0) / 6.0)) % 60 + 1
    return (32600 if lat_deg >= 0 else 32700) + utm


def parse_crs(text: str | int | CRS, *, source: str = "--crs") -> CRS:
    """Parse a CRS given by the user (``EPSG:4527``, ``4527``, WKT, PROJ string).

    Raises
    ------
    CRSError
        Naming ``source`` and saying how to write a CRS.
    """
    if isinstance(text, CRS):
        return text
    value = str(text).strip()
    if value.isdigit():
        value = f"EPSG:{value}"
    try:
        return CRS.from_user_input(value)
    except Exception as exc:  # pyproj raises CRSError of its own and others; ours replaces them
        raise CRSError(
            f"{source}: {text!r} is not a coordinate reference system PROJ knows.",
            fix="Write it as EPSG:4527 (CGCS2000 3° GK zone 39), EPSG:4490 (CGCS2000 lon/lat) "
            "or as WKT.",
            message_zh=f"{source}：{text!r} 不是 PROJ 能识别的坐标参考系。",
            fix_zh="请写成 EPSG:4527（CGCS2000 3 度带高斯-克吕格第 39 带）、EPSG:4490"
            "（CGCS2000 经纬度）或 WKT。",
        ) from exc


def check_projected(crs: CRS, what: str, *, what_zh: str | None = None) -> None:
    """Raise :class:`CRSError` unless ``crs`` is projected (metres).

    ``what`` names the computation in the message; ``what_zh`` is its Chinese name (default:
    ``what``).
    """
    if not crs.is_projected:
        raise CRSError(
            f"{what} needs a projected CRS in metres, but has {crs.name}.",
            fix="Reproject it, e.g. to the workspace's CGCS2000 Gauss-Krüger CRS.",
            message_zh=f"{what_zh or what} 需要以米为单位的投影坐标系，但当前为 {crs.name}。",
            fix_zh="请先投影转换，如转换到工作空间的 CGCS2000 高斯-克吕格坐标系。",
        )


def to_geographic(crs: CRS) -> Transformer:
    """Transformer from ``crs`` to its own geographic CRS (lon, lat in degrees)."""
    return Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
