"""Reading pages of a layer for OGC API - Features (Part 1 core, Part 2 CRS).

The web handlers in :mod:`guotu.web.ogc_features` parse a request into an
:class:`ItemsQuery` and call :func:`read_items`; everything here works on the
:class:`guotu.ports.FeatureStore` protocol, so any store serves.

A page never reads the whole layer: without ``bbox`` or property filters the fids in force
are listed (integers only, from the version's changes) and only the page's revisions are
read; with them, the R-tree read by ``bbox`` gives the candidates. The store has no
``offset``/``limit`` of its own, so paging slices the list of matching fids (ordered by
fid, which keeps pages stable).

Coordinates follow the axis order of each CRS's definition (Part 2): CRS84 is
longitude/latitude, EPSG:4490 latitude/longitude, and the CGCS2000 Gauss-Krüger CRSs
(EPSG:4513-4554) northing/easting. Workspaces store easting/northing.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from guotu.domain.access.policy import RowFilter
from guotu.domain.core.catalog import LayerInfo
from guotu.errors import CRSError, InputError, NotFoundError
from guotu.ports import FeatureStore
from guotu.services.access import LayerAccess, layer_not_found, row_mask

__all__ = [
    "CRS84",
    "CRS84_URI",
    "ItemsPage",
    "ItemsQuery",
    "bbox_to_workspace",
    "crs_uri",
    "fids_in_force",
    "find_layer",
    "layer_extent",
    "lonlat_collection",
    "parse_crs",
    "parse_datetime",
    "parse_filters",
    "read_item",
    "read_items",
    "supported_crs",
    "to_output_crs",
]

#: The OGC URI of WGS 84 longitude/latitude, the default CRS of OGC API - Features.
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84 = CRS.from_user_input("OGC:CRS84")
_CGCS2000 = 4490
_EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
_SHORT = re.compile(r"^\[?(?:EPSG|epsg):(?:0:)?(\d+)\]?$")
_NUMERIC = {"REAL": float, "INTEGER": int, "DOUBLE": float, "FLOAT": float}


def crs_uri(crs: CRS) -> str:
    """The OGC URI of ``crs`` (CRS84, or an EPSG code).

    Examples
    --------
    >>> crs_uri(CRS.from_epsg(4490))
    'http://www.opengis.net/def/crs/EPSG/0/4490'
    >>> crs_uri(CRS84) == CRS84_URI
    True
    """
    if crs == CRS84:
        return CRS84_URI
    epsg = crs.to_epsg()
    if epsg is None:
        raise CRSError(
            f"CRS {crs.name} has no EPSG code, so it cannot be named by a URI.",
            message_zh=f"坐标参考系 {crs.name} 没有 EPSG 代码，无法用 URI 表示。",
        )
    return _EPSG_URI.format(epsg)


def supported_crs(workspace_crs: CRS) -> dict[str, CRS]:
    """The CRSs items can be read in, by URI: CRS84, CGCS2000 (EPSG:4490) and the workspace's.

    Examples
    --------
    >>> list(supported_crs(CRS.from_epsg(4527)))[1:]
    ['http://www.opengis.net/def/crs/EPSG/0/4490', 'http://www.opengis.net/def/crs/EPSG/0/4527']
    """
    out = {CRS84_URI: CRS84, _EPSG_URI.format(_CGCS2000): CRS.from_epsg(_CGCS2000)}
    out.setdefault(crs_uri(workspace_crs), workspace_crs)
    return out


def parse_crs(text: str, workspace_crs: CRS, *, parameter: str = "crs") -> tuple[str, CRS]:
    """The URI and CRS a ``crs`` or ``bbox-crs`` value names; only :func:`supported_crs`.

    Short forms ``EPSG:4490`` and ``[EPSG:4490]`` and ``CRS84`` are accepted too.

    Examples
    --------
    >>> parse_crs("EPSG:4490", CRS.from_epsg(4527))[0]
    'http://www.opengis.net/def/crs/EPSG/0/4490'
    """
    known = supported_crs(workspace_crs)
    value = text.strip()
    match = _SHORT.match(value)
    if match:
        value = _EPSG_URI.format(int(match.group(1)))
    elif value in ("CRS84", "OGC:CRS84", "[OGC:CRS84]"):
        value = CRS84_URI
    elif value.startswith("https://"):
        value = "http://" + value[len("https://") :]
    if value not in known:
        names = ", ".join(known)
        raise InputError(
            f"Parameter {parameter}={text!r} is not a CRS this service offers.",
            field=parameter,
            fix=f"Use one of: {names}.",
            message_zh=f"参数 {parameter}={text!r} 不是本服务支持的坐标参考系。",
            fix_zh=f"可用：{names}。",
        )
    return value, known[value]


@functools.lru_cache(maxsize=64)
def _pipeline(source: CRS, target: CRS) -> str:
    return str(Transformer.from_crs(source, target, always_xy=True).definition)


def _transformer(source: CRS, target: CRS) -> Transformer:
    """An easting/northing transformer. Choosing the operation searches PROJ's database
    (~0.5 s), and a transformer built in one thread is rebuilt in another, so the chosen
    pipeline is cached and each call builds a cheap transformer from it."""
    return Transformer.from_pipeline(_pipeline(source, target))


def _is_northing_first(crs: CRS) -> bool:
    return bool(crs.axis_info) and crs.axis_info[0].direction.lower() in ("north", "south")


def _swap_xy(geoms: np.ndarray) -> np.ndarray:
    return np.asarray(shapely.transform(geoms, lambda c: c[:, ::-1]), dtype=object)


def to_output_crs(geoms: np.ndarray, source: CRS, target: CRS) -> np.ndarray:
    """``geoms`` (easting/northing or lon/lat order in ``source``) in ``target``, with the
    axis order of ``target``'s definition.

    Examples
    --------
    >>> g = to_output_crs(np.array([shapely.Point(120.5, 30.25)]), CRS84, CRS.from_epsg(4490))
    >>> g[0].coords[0]
    (30.25, 120.5)
    """
    out = np.asarray(geoms, dtype=object)
    if source != target:
        move = _transformer(source, target)
        out = np.asarray(
            shapely.transform(out, lambda c: np.column_stack(move.transform(c[:, 0], c[:, 1]))),
            dtype=object,
        )
    return _swap_xy(out) if _is_northing_first(target) else out


def lonlat_collection(
    geoms: Sequence[Any],
    properties: Sequence[dict[str, Any]],
    crs: CRS | str,
    ids: Sequence[int] | None = None,
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection in lon/lat (CRS84) of geometries in ``crs``, for web
    maps; ``ids`` default to 1, 2, 3 …

    Examples
    --------
    >>> fc = lonlat_collection([shapely.Point(39_500_000, 4_000_000)], [{"n": 1}], "EPSG:4527")
    >>> [round(v, 3) for v in fc["features"][0]["geometry"]["coordinates"]]
    [117.0, 36.13]
    """
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    texts = shapely.to_geojson(to_output_crs(arr, CRS.from_user_input(crs), CRS84))
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": ids[k] if ids is not None else k + 1,
                "geometry": json.loads(text),
                "properties": props,
            }
            for k, (text, props) in enumerate(zip(texts.tolist(), properties, strict=True))
        ],
    }


def _box_in(bbox: Sequence[float], source: CRS, target: CRS) -> shapely.Polygon:
    """The box ``bbox`` of ``source`` (easting/northing) as a densified polygon of ``target``
    (easting/northing)."""
    x0, y0, x1, y1 = (float(v) for v in bbox)
    ring = shapely.segmentize(shapely.box(x0, y0, x1, y1), max(x1 - x0, y1 - y0) / 20 or 1.0)
    if source == target:
        return ring
    move = _transformer(source, target)
    return shapely.transform(ring, lambda c: np.column_stack(move.transform(c[:, 0], c[:, 1])))


def bbox_to_workspace(
    bbox: Sequence[float], bbox_crs: CRS, workspace_crs: CRS
) -> tuple[float, float, float, float]:
    """A ``bbox`` (axis order of ``bbox_crs``'s definition) as (minx, miny, maxx, maxy) in
    the workspace CRS (easting/northing), densified so curved edges stay covered.

    Examples
    --------
    >>> b = bbox_to_workspace([30.0, 117.0, 30.1, 117.1], CRS.from_epsg(4490),
    ...                       CRS.from_epsg(4527))
    >>> round(b[0]), round(b[1])
    (39500000, 3320113)
    """
    x0, y0, x1, y1 = (float(v) for v in bbox)
    if _is_northing_first(bbox_crs):
        x0, y0, x1, y1 = y0, x0, y1, x1
    if bbox_crs == workspace_crs:
        return x0, y0, x1, y1
    bounds = shapely.bounds(_box_in((x0, y0, x1, y1), bbox_crs, workspace_crs))
    if not np.isfinite(bounds).all():
        raise InputError(
            f"The bbox {list(bbox)} lies outside the area of the workspace CRS.",
            field="bbox",
            message_zh=f"bbox {list(bbox)} 超出工作空间坐标系的适用范围。",
        )
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    return minx, miny, maxx, maxy


def parse_datetime(text: str | None) -> date | None:
    """The as-of date of an OGC ``datetime`` value: an instant's date, or an interval's end
    (an open end, ``..``, is today: ``None``). The interval's start is not used: a read
    shows the version in force on one day.

    Examples
    --------
    >>> parse_datetime("2021-03-01"), parse_datetime("2020-01-01/2022-06-30T12:00:00Z")
    (datetime.date(2021, 3, 1), datetime.date(2022, 6, 30))
    >>> parse_datetime("2020-01-01/..") is None
    True
    """
    if text is None or not text.strip():
        return None
    end = text.split("/")[-1].strip()
    if end in ("", ".."):
        return None
    try:
        if "T" in end or "t" in end:
            return datetime.fromisoformat(end.replace("z", "Z").replace("Z", "+00:00")).date()
        return date.fromisoformat(end)
    except ValueError:
        raise InputError(
            f"Parameter datetime={text!r} is not an RFC 3339 date, date-time or interval.",
            field="datetime",
            fix="Give e.g. 2024-05-01, 2024-05-01T00:00:00Z or ../2024-05-01.",
            message_zh=f"参数 datetime={text!r} 不是 RFC 3339 日期、时刻或区间。",
            fix_zh="请写成 2024-05-01、2024-05-01T00:00:00Z 或 ../2024-05-01。",
        ) from None


def parse_filters(info: LayerInfo, params: Mapping[str, str]) -> dict[str, Any]:
    """Property filters: each of ``params`` must be a column of the layer; values are
    converted to the column's type (a number for REAL/INTEGER columns, text otherwise).

    Examples
    --------
    >>> info = LayerInfo("GHYD", "planned_land_use", 0, "POLYGON", "EPSG:4527",
    ...                  {"YDYHFLDM": "TEXT", "MJ": "REAL"})
    >>> parse_filters(info, {"YDYHFLDM": "0703", "MJ": "12.5"})
    {'YDYHFLDM': '0703', 'MJ': 12.5}
    """
    out: dict[str, Any] = {}
    for name, text in params.items():
        if name not in info.columns:
            known = ", ".join(info.columns)
            raise InputError(
                f"Layer {info.name} has no column {name!r} to filter on, and {name!r} is not "
                "a parameter of this request.",
                layer=info.name,
                field=name,
                fix=f"Filter on one of: {known}.",
                message_zh=f"图层 {info.name} 没有可筛选的字段 {name!r}，{name!r} 也不是本请求的参数。",
                fix_zh=f"可筛选字段：{known}。",
            )
        kind = _NUMERIC.get(info.columns[name].upper())
        if kind is None:
            out[name] = text
            continue
        try:
            out[name] = kind(text)
        except ValueError:
            raise InputError(
                f"Filter {name}={text!r}: column {name} of layer {info.name} holds numbers.",
                layer=info.name,
                field=name,
                fix="Give a number.",
                message_zh=f"筛选 {name}={text!r}：图层 {info.name} 的字段 {name} 是数值。",
                fix_zh="请给出数值。",
            ) from None
    return out


def find_layer(store: FeatureStore, name: str, access: LayerAccess | None = None) -> LayerInfo:
    """The layer ``name`` of ``store``; a :class:`NotFoundError` naming the layers (and no
    workspace path, since web responses show it). With ``access``, a layer its principal may
    not read is not found either, with the same words, and only the readable ones are named.

    Examples
    --------
    >>> from guotu.store.memory import MemoryStore
    >>> find_layer(MemoryStore(), "GHYD")
    Traceback (most recent call last):
    ...
    guotu.errors.NotFoundError: There is no collection 'GHYD'. Fix: Collections: none yet.
    """
    infos = store.layers()
    for info in infos:
        if info.name == name and (access is None or access.may_read(name)):
            return info
    names = [i.name for i in infos]
    shown = names if access is None else access.readable(names)
    raise layer_not_found(name, shown, noun="collection")


def fids_in_force(store: FeatureStore, name: str, as_of: date | None = None) -> np.ndarray:
    """The sorted fids of layer ``name`` in the version in force on ``as_of``, from the
    version changes along its lineage (no geometry is read)."""
    version = store.layer_version(name, as_of=as_of)
    if version is None:
        return np.zeros(0, dtype=np.int64)
    added: list[int] = []
    retired: list[int] = []
    for version_id in store.lineage_of(version.id):
        plus, minus = store.version_changes(name, version_id)
        added.extend(plus)
        retired.extend(minus)
    fids = np.unique(np.asarray(added, dtype=np.int64))
    return fids[~np.isin(fids, np.asarray(retired, dtype=np.int64))]


def layer_extent(
    store: FeatureStore, name: str, rows: RowFilter | None = None
) -> tuple[float, float, float, float] | None:
    """(minx, miny, maxx, maxy) of the layer in force today (of the ``rows`` a principal is
    limited to), in the workspace CRS; ``None`` when it has no such feature. Reads every
    geometry: callers cache it by data version."""
    frame = store.read_layer(name, columns=[] if rows is None else [rows.field])
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if rows is not None:
        geoms = geoms[row_mask(frame[rows.field].to_numpy(), rows)]
    if not len(geoms):
        return None
    bounds = shapely.total_bounds(geoms)
    if not np.isfinite(bounds).all():
        return None
    x0, y0, x1, y1 = (float(v) for v in bounds)
    return x0, y0, x1, y1


@dataclass(frozen=True)
class ItemsQuery:
    """One items request, parsed: ``bbox`` is in the workspace CRS (easting/northing)."""

    layer: str
    offset: int = 0
    limit: int = 100
    bbox: tuple[float, float, float, float] | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)
    as_of: date | None = None
    columns: Sequence[str] | None = None  # the columns shown (``None``: all)
    rows: RowFilter | None = None  # the rows a principal is limited to (``None``: all)


@dataclass(frozen=True)
class ItemsPage:
    """A page of features (in the workspace CRS, indexed by fid) and how many matched."""

    frame: gpd.GeoDataFrame
    number_matched: int
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        """Whether features follow this page."""
        return self.offset + len(self.frame) < self.number_matched


def _matches(frame: pd.DataFrame, filters: Mapping[str, Any]) -> np.ndarray:
    keep = np.ones(len(frame), dtype=bool)
    for name, value in filters.items():
        column = frame[name]
        present = column.notna().to_numpy()
        if isinstance(value, str):
            text = (
                column.astype(object)
                .where(column.notna(), None)
                .map(lambda v: v.isoformat() if isinstance(v, date) else str(v))
            )
            keep &= present & (text == value).to_numpy()
        else:
            numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
            keep &= present & (numbers == float(value))
    return keep


def read_items(store: FeatureStore, query: ItemsQuery) -> ItemsPage:
    """The page of layer ``query.layer`` a query asks for, ordered by fid (only the rows of
    ``query.rows`` count, and only ``query.columns`` are read)."""
    info = find_layer(store, query.layer)
    rows = query.rows
    if query.bbox is None and not query.filters and rows is None:
        fids = fids_in_force(store, query.layer, query.as_of)
    else:
        read = list(query.filters) + ([rows.field] if rows is not None else [])
        frame = store.read_layer(
            query.layer, bbox=query.bbox, columns=list(dict.fromkeys(read)), as_of=query.as_of
        )
        fids = np.asarray(frame.index.to_numpy(), dtype=np.int64)
        keep = np.ones(len(fids), dtype=bool)
        if query.filters:
            keep &= _matches(frame, query.filters)
        if rows is not None:
            keep &= row_mask(frame[rows.field].to_numpy(), rows)
        fids = fids[keep]
    page = fids[query.offset : query.offset + query.limit]
    frame = store.read_revisions(
        info.name, page.tolist(), None if query.columns is None else list(query.columns)
    )
    return ItemsPage(frame=frame, number_matched=len(fids), offset=query.offset, limit=query.limit)


def read_item(
    store: FeatureStore,
    name: str,
    fid: int,
    as_of: date | None = None,
    *,
    columns: Sequence[str] | None = None,
    rows: RowFilter | None = None,
) -> gpd.GeoDataFrame:
    """The feature ``fid`` of layer ``name`` as in force on ``as_of`` (one row, with
    ``columns``); one outside ``rows`` (the rows a principal is limited to) is not found."""
    info = find_layer(store, name)
    missing = NotFoundError(
        f"Collection {name} has no feature {fid} in force then.",
        layer=name,
        feature=fid,
        message_zh=f"要素集合 {name} 中没有当时有效的要素 {fid}。",
    )
    if rows is not None:
        region = store.read_revisions(info.name, [fid], [rows.field])
        if not len(region) or not row_mask(region[rows.field].to_numpy(), rows).all():
            raise missing
    frame = store.read_revisions(info.name, [fid], None if columns is None else list(columns))
    if not len(frame):
        raise missing
    geom = frame.geometry.iloc[0]
    if geom is None or geom.is_empty:
        in_force = fids_in_force(store, name, as_of)
        if fid not in set(in_force.tolist()):
            raise missing
        return frame
    here = store.read_layer(name, bbox=geom.bounds, columns=[], as_of=as_of)
    if fid not in set(here.index.tolist()):
        raise missing
    return frame
