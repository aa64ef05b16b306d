"""An import's coordinate reference systems: the file's (declared or its own), coordinates
that cannot lie where it is used (with a guess at the right one), and the workspace CRS
chosen from the data for a new workspace (:mod:`guotu.services.importing`)."""

from __future__ import annotations

import contextlib
import functools

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as CRSError_

from guotu.domain.geometry.crs import parse_crs, workspace_crs_for_longitude
from guotu.errors import CRSError
from guotu.io.readers import feature_label

__all__ = ["AREA_OF_USE_MARGIN_DEG", "check_coordinates", "crs_for_data", "crs_text", "file_crs"]

#: How far outside its CRS's area of use (degrees) data may lie before it is refused.
AREA_OF_USE_MARGIN_DEG = 3.0


def file_crs(frame: gpd.GeoDataFrame, declared: str | None, where: dict[str, str]) -> CRS:
    if declared:
        return parse_crs(declared)
    if frame.crs is None:
        raise CRSError(
            f"{where['file']} (layer {where['layer']}) has no coordinate reference system "
            "(a Shapefile without .prj, or a file that does not say).",
            **where,
            fix="Declare it: --crs EPSG:4527 (CGCS2000 3° GK zone 39, easting with zone "
            "number) or --crs EPSG:4548 (same zone without it) or --crs EPSG:4490 (lon/lat).",
            message_zh=f"{where['file']}（图层 {where['layer']}）没有坐标参考系"
            "（缺少 .prj 的 Shapefile，或文件本身未注明坐标系）。",
            fix_zh="请用 --crs 声明坐标系：--crs EPSG:4527（CGCS2000 3 度带高斯-克吕格第 39 带，"
            "横坐标含带号）、--crs EPSG:4548（同一带，横坐标不含带号）或 --crs EPSG:4490"
            "（经纬度）。",
        )
    return CRS.from_user_input(frame.crs)


def check_coordinates(frame: gpd.GeoDataFrame, crs: CRS, where: dict[str, str]) -> None:
    """Refuse features that cannot lie where ``crs`` is used: outside its area of use (with
    a margin of :data:`AREA_OF_USE_MARGIN_DEG`), or where the projection does not come back
    to the same point (a Web Mercator x of 39.5 million metres "wraps" round the earth)."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return
    bounds = shapely.bounds(geoms[present])
    x0, y0 = np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1])
    x1, y1 = np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3])
    xs = np.array([x0, x1, x0, x1, (x0 + x1) / 2, (x0 + x1) / 2, x0, x1])
    ys = np.array([y0, y0, y1, y1, y0, y1, (y0 + y1) / 2, (y0 + y1) / 2])
    if not _implausible(crs, xs, ys).any():
        return
    cx = (bounds[:, 0] + bounds[:, 2]) / 2
    cy = (bounds[:, 1] + bounds[:, 3]) / 2
    bad = _implausible(crs, cx, cy)
    if not bad.any():
        bad = _implausible(crs, bounds[:, 0], bounds[:, 1]) | _implausible(
            crs, bounds[:, 2], bounds[:, 3]
        )
    if not bad.any():
        return
    k = int(np.flatnonzero(bad)[0])
    row = int(np.flatnonzero(present)[k])
    hint, hint_zh = _guess_crs(cx[k], cy[k]) or (None, None)
    x, y = _coordinate_text(cx[k]), _coordinate_text(cy[k])
    raise CRSError(
        f"Feature {feature_label(frame, row)} lies at x={x}, y={y}, which "
        f"is not where {crs.name} is used ({int(bad.sum())} features out of range): the "
        "coordinates are absurd or the CRS is wrong.",
        feature=row + 1,
        **where,
        fix=(hint or "Check the coordinates, or declare the right CRS with --crs EPSG:…."),
        message_zh=f"要素 {feature_label(frame, row)} 位于 x={x}，y={y}，"
        f"不在 {crs.name} 的适用范围内（共 {int(bad.sum())} 个要素超出范围）：坐标有误，"
        "或坐标系不对。",
        fix_zh=(hint_zh or "请检查坐标，或用 --crs EPSG:… 声明正确的坐标系。"),
    )


def _coordinate_text(value: float) -> str:
    """A coordinate as a person reads it: metres to the millimetre, absurd ones short."""
    return f"{value:.3f}" if abs(value) < 1e12 else f"{value:.6g}"


def _area_of_use(crs: CRS) -> tuple[float, float, float, float] | None:
    """``(west, south, east, north)`` in degrees where ``crs`` is used: its own, or that of
    the EPSG CRS it matches (a .prj written by ArcGIS names no authority)."""
    aou = crs.area_of_use
    if aou is None:
        with contextlib.suppress(CRSError_, ValueError):
            code = crs.to_epsg(min_confidence=70)
            if code is not None:
                aou = CRS.from_epsg(code).area_of_use
    return None if aou is None else (aou.west, aou.south, aou.east, aou.north)


def _implausible(crs: CRS, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Which points cannot be in ``crs``: not finite, off the globe, outside the area of use
    (plus margin), or (projected CRSs) not mapped back onto themselves within a metre."""
    lon, lat = _to_lonlat(crs, xs, ys)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(lon) | ~np.isfinite(lat) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
        aou = _area_of_use(crs)
        if aou is not None:
            west, south, east, north = aou
            m = AREA_OF_USE_MARGIN_DEG
            bad |= (lon < west - m) | (lon > east + m) | (lat < south - m) | (lat > north + m)
        if crs.is_projected and not bad.all():
            with np.errstate(all="ignore"):
                back_x, back_y = _transformer(crs, inverse=True).transform(lon, lat)
            bad |= ~(np.abs(np.asarray(back_x) - xs) < 1.0) | ~(
                np.abs(np.asarray(back_y) - ys) < 1.0
            )
    return np.asarray(bad, dtype=bool)


@functools.lru_cache(maxsize=32)
def _cached_transformer(wkt: str, inverse: bool) -> Transformer:
    crs = CRS.from_wkt(wkt)
    if inverse:
        return Transformer.from_crs(crs.geodetic_crs, crs, always_xy=True)
    return Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)


def _transformer(crs: CRS, *, inverse: bool = False) -> Transformer:
    return _cached_transformer(crs.to_wkt(), inverse)


def _to_lonlat(crs: CRS, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (degrees, x first) of points in ``crs``; NaN where PROJ fails."""
    if crs.is_geographic:
        return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    with np.errstate(all="ignore"):
        lon, lat = _transformer(crs).transform(xs, ys)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _guess_crs(x: float, y: float) -> tuple[str, str] | None:
    """A likely fix for coordinates out of range, in English and Chinese."""
    if 73 <= x <= 136 and 3 <= y <= 54:
        return (
            "The numbers look like longitude/latitude: declare --crs EPSG:4490.",
            "这些数值看起来是经纬度：请声明 --crs EPSG:4490。",
        )
    if 3e5 <= y <= 6e6 and 25e6 <= x < 46e6:
        zone = int(x // 1e6)
        return (
            f"The eastings carry zone number {zone}: declare --crs EPSG:"
            f"{4513 + zone - 25} (CGCS2000 3° GK zone {zone}).",
            f"横坐标含带号 {zone}：请声明 --crs EPSG:{4513 + zone - 25}"
            f"（CGCS2000 3 度带高斯-克吕格第 {zone} 带）。",
        )
    if 3e5 <= x <= 6e6 and 25e6 <= y < 46e6:
        return (
            "x and y look swapped (northing first); swap them or fix the CRS's axis order.",
            "x 与 y 似乎颠倒了（纵坐标在前）：请互换坐标，或更正坐标系的轴顺序。",
        )
    return None


def crs_for_data(frame: gpd.GeoDataFrame, crs: CRS) -> CRS:
    minx, miny, maxx, maxy = frame.total_bounds
    if not np.isfinite([minx, miny, maxx, maxy]).all():
        raise CRSError(
            "The first layer of a new workspace has no geometry to choose the workspace CRS from.",
            fix="Give it: --workspace-crs EPSG:4527 (or the Gauss-Krüger zone of your area).",
            message_zh="新工作空间的第一个图层没有几何图形，无法据此选定工作空间坐标系。",
            fix_zh="请指定：--workspace-crs EPSG:4527（或本地区的高斯-克吕格分带）。",
        )
    lons, lats = _to_lonlat(crs, np.array([(minx + maxx) / 2]), np.array([(miny + maxy) / 2]))
    lon, lat = float(lons[0]), float(lats[0])
    if crs.is_projected and not _is_china_gk(crs) and not (73 <= lon <= 136):
        return crs  # a user's own projected CRS outside China: keep it
    return CRS.from_epsg(workspace_crs_for_longitude(float(lon), float(lat)))


def _is_china_gk(crs: CRS) -> bool:
    auth = crs.to_authority()
    return bool(auth) and auth[0] == "EPSG" and 4491 <= int(auth[1]) <= 4554


def crs_text(crs: CRS) -> str:
    auth = crs.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else crs.name
