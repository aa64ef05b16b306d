"""An OGC API - Features items request, read and answered (:mod:`guotu.web.ogc_features`):
``bbox`` (four or six numbers in the axis order of ``bbox-crs``, cut to the area of the
workspace CRS), ``datetime`` (a date, date-time or interval: its end), ``crs`` (the CRS of the
answer), the features as GeoJSON or an HTML table, and the paging links.
"""

from __future__ import annotations

import html
import json
import math
import re
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import shapely
from fastapi import Request
from pyproj import CRS

from guotu.errors import InputError
from guotu.services import features as svc
from guotu.web.ogc_format import GEOJSON, HTML, html_table, ogc_link
from guotu.web.openapi30 import DATETIME_PATTERN

__all__ = [
    "as_of_date",
    "bbox_in_workspace",
    "features_geojson",
    "features_html",
    "output_crs",
    "page_links",
    "parse_bbox",
    "timestamp",
]


def parse_bbox(text: str) -> list[float]:
    """Four numbers, lower corner first (six: heights dropped)."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if (
        len(values) != 4
        or not all(math.isfinite(v) for v in values)
        or (values[0] > values[2] or values[1] > values[3])
    ):
        raise InputError(
            f"Parameter bbox={text!r} is not four numbers, lower corner first.",
            field="bbox",
            fix="Give bbox=minx,miny,maxx,maxy in the axis order of bbox-crs (CRS84: lon,lat).",
            message_zh=f"参数 bbox={text!r} 不是先左下角的四个数。",
            fix_zh="请按 bbox-crs 的坐标轴顺序写 bbox=最小1,最小2,最大1,最大2（CRS84 为经度,纬度）。",
        )
    return values


#: How far beyond the area of use of the workspace CRS a bbox still selects features
#: (degrees): a county may reach a little past its Gauss-Krüger zone.
_AREA_MARGIN_DEG = 5.0


def bbox_in_workspace(
    values: list[float], box_crs: CRS, ws_crs: CRS
) -> tuple[float, float, float, float] | None:
    """``values`` (axis order of ``box_crs``) as a box of the workspace CRS; ``None`` when
    the box lies outside the area the workspace CRS covers (so nothing matches). A box in
    longitude/latitude is first cut to the valid ranges and to that area (plus a margin), so
    a continent-sized box never projects to infinities."""
    if box_crs == ws_crs or not box_crs.is_geographic:
        return svc.bbox_to_workspace(values, box_crs, ws_crs)
    lat_first = box_crs.axis_info[0].direction.lower() in ("north", "south")
    lon0, lat0, lon1, lat1 = (
        (values[1], values[0], values[3], values[2]) if lat_first else tuple(values)
    )
    west, south, east, north = -180.0, -90.0, 180.0, 90.0
    area = ws_crs.area_of_use
    if area is not None and not ws_crs.is_geographic:
        m = _AREA_MARGIN_DEG
        west, south = max(west, area.west - m), max(south, area.south - m)
        east, north = min(east, area.east + m), min(north, area.north + m)
    lon0, lon1 = max(lon0, west), min(lon1, east)
    lat0, lat1 = max(lat0, south), min(lat1, north)
    if lon0 > lon1 or lat0 > lat1:
        return None
    cut = [lat0, lon0, lat1, lon1] if lat_first else [lon0, lat0, lon1, lat1]
    return svc.bbox_to_workspace(cut, box_crs, ws_crs)


def as_of_date(text: str | None) -> date | None:
    """The as-of date of ``datetime``: exactly what the OpenAPI document's pattern admits."""
    if text is not None and not re.match(DATETIME_PATTERN, text):
        raise InputError(
            f"Parameter datetime={text!r} is not an RFC 3339 date, date-time or interval.",
            field="datetime",
            fix="Give e.g. 2024-05-01, 2024-05-01T00:00:00Z or ../2024-05-01.",
            message_zh=f"参数 datetime={text!r} 不是 RFC 3339 日期、时刻或区间。",
            fix_zh="请写成 2024-05-01、2024-05-01T00:00:00Z 或 ../2024-05-01。",
        )
    return svc.parse_datetime(text)


def output_crs(request: Request, ws_crs: CRS) -> tuple[str, CRS]:
    """The URI and CRS of the answer's coordinates: ``crs``, CRS84 without it."""
    text = request.query_params.get("crs")
    return (svc.CRS84_URI, svc.CRS84) if text is None else svc.parse_crs(text, ws_crs)


def features_geojson(frame: Any, source: CRS, target: CRS) -> list[dict[str, Any]]:
    """The rows of ``frame`` (indexed by fid, geometry in ``source``) as GeoJSON features in
    ``target``; a missing geometry is ``null``."""
    geoms = svc.to_output_crs(np.asarray(frame.geometry.values, dtype=object), source, target)
    cols = [c for c in frame.columns if c != frame.geometry.name]
    values = {c: frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in cols}
    out = []
    for i, (fid, geom) in enumerate(zip(frame.index.tolist(), geoms, strict=True)):
        shape = (
            None
            if geom is None or shapely.is_missing(geom)
            else json.loads(shapely.to_geojson(geom))
        )
        out.append(
            {
                "type": "Feature",
                "id": int(fid),
                "geometry": shape,
                "properties": {c: values[c][i] for c in cols},
            }
        )
    return out


def features_html(layer: str, feats: list[dict[str, Any]]) -> str:
    """GeoJSON features of ``layer`` as an HTML table, each fid linking to its page."""
    cols: list[str] = list(feats[0]["properties"]) if feats else []
    rows = []
    for feat in feats:
        fid = feat["id"]
        link = f'<a href="/collections/{html.escape(layer)}/items/{fid}?f=html">{fid}</a>'
        rows.append(
            [link]
            + [
                html.escape("" if feat["properties"][c] is None else str(feat["properties"][c]))
                for c in cols
            ]
        )
    return html_table(["fid", *map(html.escape, cols)], rows)


def page_links(request: Request, page: svc.ItemsPage, size: int) -> list[dict[str, str]]:
    """``self``, ``alternate`` and, where there are features, ``next`` and ``prev``: a page
    past the end has no ``next``, and its ``prev`` is the last page that holds features (never
    a page past the end again)."""
    url = request.url
    json_url = url.remove_query_params("f")
    links = [
        ogc_link(str(json_url), "self", GEOJSON, "本页"),
        ogc_link(str(json_url.include_query_params(f="html")), "alternate", HTML, "本页（网页）"),
    ]
    if page.has_next:
        links.append(
            ogc_link(
                str(json_url.include_query_params(offset=page.offset + size, limit=size)),
                "next",
                GEOJSON,
                "下一页",
            )
        )
    if page.offset > 0 and page.number_matched > 0:
        start = max(0, min(page.offset, page.number_matched) - size)
        links.append(
            ogc_link(
                str(json_url.include_query_params(offset=start, limit=size)),
                "prev",
                GEOJSON,
                "上一页",
            )
        )
    return links


def timestamp() -> str:
    """Now, in UTC to the second (``timeStamp`` of a feature collection)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
