"""The site query (空间码): everything that applies to a point, a polygon or a parcel.

:class:`SiteQuery` keeps a small bounded cache of :class:`guotu.domain.site.query.SiteIndex`, one per
(as-of date, record time, data version, rule pack): every layer read once into one STRtree of
prepared geometries plus attribute arrays. A point query is then an STRtree query and a
prepared contains, with no store read; a new import or amendment changes the data version
(:func:`guotu.services.workspace.data_version`), so a stale index is never used.

The answer (:meth:`SiteReport.to_dict`)::

    {"site": {GeoJSON geometry, "crs"}, "as_of", "known_at", "data_version",
     "data_recorded_at",
     "applies":  [{"layer", "role", "feature", "name", "relation", "share_of_site",
                   "properties", "plan", "version", …}],
     "touching": [… same shape, relation "touches": neighbours that only share an edge],
     "pending":  [… same shape plus "change" (added/removed) from versions in 公示/报批],
     "allowed_uses": {"codes", "allowed", "conditional", "forbidden", "master_plan"}}

A point exactly on an edge shared by two features applies to both, with relation
``on_boundary`` and ``share_of_site`` ``null`` (see :mod:`guotu.domain.site.query`). ``name`` is the
feature's name (行政区名称, 项目名称 …; ``null`` when it has none) and ``data_recorded_at`` the
latest record time of the versions the answer was read from.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as ProjCRSError
from shapely.geometry.base import BaseGeometry

from guotu.domain.core.model import Version
from guotu.domain.core.plan_labels import plan_version_label
from guotu.domain.core.roles import ROLES, get_role
from guotu.domain.site.query import (
    FeatureGroup,
    Hit,
    SiteIndex,
    build_site_index,
    derive_uses,
    feature_name,
    locate_point,
    locate_polygon,
)
from guotu.errors import CRSError, GeometryError, InputError, NotFoundError
from guotu.io.site_sheet import render_sheet
from guotu.services.checking import frame_attributes
from guotu.services.review import load_rule_pack
from guotu.services.workspace import data_version

__all__ = [
    "Site",
    "SiteQuery",
    "SiteReport",
    "data_version_token",
    "parse_point",
    "parse_polygon",
    "permalink",
    "sheet_html",
]

log = logging.getLogger(__name__)

_ROLE_ORDER = {r.id: i for i, r in enumerate(ROLES)}
_ZONE_ROLES = ("ecological_redline", "permanent_farmland", "urban_boundary")


@dataclass(frozen=True)
class Site:
    """A parsed site in the workspace CRS.

    Attributes
    ----------
    geometry
        A Point or a (Multi)Polygon in the workspace CRS.
    kind
        ``point``, ``polygon`` or ``parcel``.
    given
        What the user gave (coordinates and CRS, or the parcel code), for the report.
    """

    geometry: BaseGeometry
    kind: str
    given: Mapping[str, Any]


@dataclass(frozen=True)
class SiteReport:
    """The answer of one site query (see the module docstring for the JSON shape)."""

    site: Site
    crs: str
    as_of: date
    known_at: datetime | None
    data_version: str
    applies: tuple[dict[str, Any], ...]
    touching: tuple[dict[str, Any], ...]
    pending: tuple[dict[str, Any], ...]
    allowed_uses: Mapping[str, Any]
    data_recorded_at: str | None = None  # latest record time of the versions read

    def to_dict(self) -> dict[str, Any]:
        """The JSON document."""
        geo = shapely.geometry.mapping(self.site.geometry)
        site: dict[str, Any] = {
            "type": geo["type"],
            "coordinates": _listify(geo["coordinates"]),
            "crs": self.crs,
            "kind": self.site.kind,
            "given": dict(self.site.given),
        }
        if self.site.kind != "point":
            site["area_m2"] = round(float(self.site.geometry.area), 4)
        return {
            "site": site,
            "as_of": self.as_of.isoformat(),
            "known_at": self.known_at.isoformat() if self.known_at else None,
            "data_version": self.data_version,
            "data_recorded_at": self.data_recorded_at,
            "applies": list(self.applies),
            "touching": list(self.touching),
            "pending": list(self.pending),
            "allowed_uses": self.allowed_uses,
        }


def _listify(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_listify(v) for v in value]
    return value


def data_version_token(store: Any) -> str:
    """A short hash of :func:`data_version` (which names the workspace path, kept out of
    responses and URLs).

    Examples
    --------
    >>> # data_version_token(store) -> 'a1b2c3d4e5f6'
    """
    return hashlib.sha256(data_version(store).encode()).hexdigest()[:12]


# -- parsing -----------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(
        CRS.from_user_input(source), CRS.from_user_input(target), always_xy=True
    )


def _crs(text: str | None, workspace: CRS) -> tuple[CRS, str]:
    if not text:
        return workspace, _named_crs(workspace.to_string())[1]
    try:
        return _named_crs(text.strip())
    except ProjCRSError as exc:
        raise CRSError(
            f"Unknown CRS {text!r}.",
            fix="Give an EPSG code such as EPSG:4527, EPSG:4490 or CRS84.",
            message_zh=f"无法识别坐标系 {text!r}。",
            fix_zh="请给出 EPSG 代码，如 EPSG:4527、EPSG:4490 或 CRS84。",
        ) from exc


@lru_cache(maxsize=32)
def _named_crs(text: str) -> tuple[CRS, str]:
    crs = CRS.from_user_input(text)
    return crs, crs.to_string()


def _to_workspace(geom: BaseGeometry, crs: CRS, workspace: CRS) -> BaseGeometry:
    if crs is workspace or crs == workspace:
        return geom
    tr = _transformer(crs.to_wkt(), workspace.to_wkt())
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _lonlat_hint(crs_parameter: str | None) -> tuple[str, str]:
    """How to give longitude and latitude, in English and Chinese: naming the caller's CRS
    parameter (``--crs`` on the command line, ``crs`` over HTTP) when it is known."""
    if crs_parameter:
        return (
            f"for lon,lat set {crs_parameter} to EPSG:4490",
            f"经纬度请用 {crs_parameter} 指定坐标系 EPSG:4490",
        )
    return "for lon,lat give the CRS EPSG:4490", "经纬度须注明坐标系 EPSG:4490"


def parse_point(
    text: str, crs: str | None, workspace: CRS, *, crs_parameter: str | None = None
) -> Site:
    """``"X,Y"`` in ``crs`` (default the workspace CRS) as a point in the workspace CRS.

    In a geographic CRS (EPSG:4490, CRS84, EPSG:4326) X is the longitude and Y the latitude,
    whatever the CRS's official axis order. ``crs_parameter`` is how the caller names the CRS
    (``--crs``, ``crs``) in the fix of an error.

    Examples
    --------
    >>> parse_point("39527060,4056040", None, CRS.from_epsg(4527)).geometry.wkt
    'POINT (39527060 4056040)'
    >>> round(parse_point("117.0,36.0", "EPSG:4490", CRS.from_epsg(4527)).geometry.x)
    39500000
    """
    parts = [p.strip() for p in str(text).replace("，", ",").split(",")]
    try:
        if len(parts) != 2:
            raise ValueError(text)
        x, y = float(parts[0]), float(parts[1])
        if not (np.isfinite(x) and np.isfinite(y)):
            raise ValueError(text)
    except ValueError:
        hint, hint_zh = _lonlat_hint(crs_parameter)
        raise InputError(
            f"Point {text!r} is not two numbers X,Y.",
            fix=f"Write it as X,Y, e.g. 39527060,4056040 ({hint}).",
            message_zh=f"坐标 {text!r} 不是“X,Y”形式的两个数。",
            fix_zh=f"请写成 X,Y，如 39527060,4056040（经纬度写作 经度,纬度；{hint_zh}）。",
        ) from None
    if not crs:
        return Site(shapely.Point(x, y), "point", {"point": [x, y], "crs": None})
    source, name = _crs(crs, workspace)
    if source.is_geographic:
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise InputError(
                f"Point {text!r} is not a longitude,latitude pair in {crs}.",
                fix="Give the longitude first, then the latitude.",
                message_zh=f"坐标 {text!r} 不是 {crs} 下的“经度,纬度”。",
                fix_zh="请先写经度，后写纬度。",
            )
        if abs(x) < 60 and abs(y) > 70:
            raise InputError(
                f"Point {text!r} looks like latitude,longitude.",
                fix=f"Write longitude first: {y},{x}.",
                message_zh=f"坐标 {text!r} 似乎是“纬度,经度”。",
                fix_zh=f"请先写经度：{y},{x}。",
            )
    geom = _to_workspace(shapely.Point(x, y), source, workspace)
    if not np.isfinite(np.asarray(shapely.get_coordinates(geom))).all():
        raise CRSError(
            f"Point {text!r} in {crs} cannot be projected to the workspace CRS.",
            message_zh=f"坐标 {text!r}（{crs}）无法投影到工作空间坐标系。",
        )
    return Site(geom, "point", {"point": [x, y], "crs": name})


def _geojson_error(reason: str, reason_zh: str) -> GeometryError:
    return GeometryError(
        f"The site polygon is not valid GeoJSON: {reason}.",
        fix="Send a GeoJSON Polygon or MultiPolygon (a geometry, a Feature or "
        "a FeatureCollection of one feature).",
        message_zh=f"地块范围不是有效的 GeoJSON：{reason_zh}。",
        fix_zh="请提交 GeoJSON 的 Polygon 或 MultiPolygon（几何、Feature 或只含一个"
        "要素的 FeatureCollection）。",
    )


def parse_polygon(doc: Any, crs: str | None, workspace: CRS, *, max_vertices: int) -> Site:
    """A GeoJSON polygon (text or parsed) as a site in the workspace CRS.

    The CRS is ``crs``, else the document's ``crs`` member (``{"type": "name",
    "properties": {"name": …}}``), else the workspace CRS.

    Examples
    --------
    >>> doc = {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 0]]]}
    >>> parse_polygon(doc, None, CRS.from_epsg(4527), max_vertices=100).geometry.area
    50.0
    """
    if isinstance(doc, str | bytes):
        try:
            doc = json.loads(doc)
        except ValueError as exc:
            raise _geojson_error(f"not JSON ({exc})", f"不是 JSON（{exc}）") from None
    if not isinstance(doc, Mapping):
        raise _geojson_error("not a JSON object", "不是 JSON 对象")
    named = crs
    if not named and isinstance(doc.get("crs"), Mapping):
        named = str((doc["crs"].get("properties") or {}).get("name") or "") or None
    geom_doc: Any = doc
    if doc.get("type") == "FeatureCollection":
        feats = doc.get("features") or []
        if len(feats) != 1:
            raise _geojson_error(
                f"a FeatureCollection of {len(feats)} features",
                f"FeatureCollection 含 {len(feats)} 个要素",
            )
        geom_doc = feats[0]
    if isinstance(geom_doc, Mapping) and geom_doc.get("type") == "Feature":
        geom_doc = geom_doc.get("geometry")
    if not isinstance(geom_doc, Mapping) or geom_doc.get("type") not in ("Polygon", "MultiPolygon"):
        kind = geom_doc.get("type") if isinstance(geom_doc, Mapping) else type(geom_doc).__name__
        raise _geojson_error(
            f"type {kind!r} is not a Polygon or MultiPolygon",
            f"类型 {kind!r} 不是 Polygon 或 MultiPolygon",
        )
    try:
        geom = shapely.geometry.shape(geom_doc)
    except (
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        shapely.errors.GEOSException,
    ) as exc:
        raise _geojson_error(f"bad coordinates ({exc})", f"坐标无效（{exc}）") from None
    vertices = int(shapely.get_num_coordinates(geom))
    if vertices > max_vertices:
        raise InputError(
            f"The site polygon has {vertices} vertices, more than the "
            f"{max_vertices} a query accepts.",
            fix="Simplify the polygon or raise max_query_vertices.",
            message_zh=f"地块范围有 {vertices} 个顶点，超过查询上限 {max_vertices}。",
            fix_zh="请简化多边形，或调高设置 max_query_vertices。",
        )
    if geom.is_empty or not np.isfinite(shapely.get_coordinates(geom)).all():
        raise _geojson_error("empty or non-finite coordinates", "为空或坐标非有限数")
    if not geom.is_valid:
        raise _geojson_error(shapely.is_valid_reason(geom), shapely.is_valid_reason(geom))
    source, name = _crs(named, workspace)
    out = _to_workspace(geom, source, workspace)
    return Site(out, "polygon", {"crs": name, "vertices": vertices})


# -- the index ---------------------------------------------------------------------------------


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _version_dict(v: Version | None) -> dict[str, Any] | None:
    if v is None:
        return None
    return {
        "id": v.id,
        "label": v.label,
        "status": v.status.value,
        "valid_from": _iso(v.valid_from),
        "valid_to": _iso(v.valid_to),
        "approval_no": v.approval_no or None,
        "approval_organ": v.approval_organ or None,
        "approval_date": _iso(v.approval_date),
        "recorded_at": v.recorded_at.isoformat(),
    }


def _id_field(role: str) -> str:
    try:
        return get_role(role).id_field
    except NotFoundError:
        return "BSM"


def _group(
    name: str, role: str, frame: Any, plan: str | None, version: Version | None, change: str | None
) -> FeatureGroup:
    id_field = _id_field(role)
    attrs = frame_attributes(frame)
    fids = np.asarray(frame.index.to_numpy(), dtype=np.int64)
    ids = attrs.get(id_field)
    if ids is None:
        ids = np.asarray([str(f) for f in fids.tolist()], dtype=object)
    return FeatureGroup(
        name,
        role,
        id_field,
        plan,
        _version_dict(version),
        change,
        fids,
        ids,
        np.asarray(frame.geometry.values, dtype=object),
        attrs,
    )


def read_site_index(
    store: Any,
    *,
    as_of: date,
    known_at: datetime | None,
    pack: str = "cn-base",
    key: tuple[Any, ...] = (),
) -> SiteIndex:
    """Read every layer in force on ``as_of`` (and what pending versions change) into a
    :class:`SiteIndex`.

    Examples
    --------
    >>> # read_site_index(store, as_of=date.today(), known_at=None).groups[0].layer
    """
    if store.crs is None:
        raise NotFoundError(
            "The workspace has no layer yet.",
            fix="Import layers first.",
            message_zh="工作空间中还没有图层。",
            fix_zh="请先导入图层。",
        )
    groups: list[FeatureGroup] = []
    pending_groups: list[FeatureGroup] = []
    for info in store.layers():
        version = store.layer_version(info.name, as_of=as_of, known_at=known_at)
        plan = info.plan or None
        if version is not None:
            frame = store.read_layer(info.name, as_of=as_of, known_at=known_at)
            if plan is None:
                plan = store.plan(version.plan_id).name
        else:
            frame = None
        current = set(frame.index.tolist()) if frame is not None else set()
        if frame is not None and len(frame):
            groups.append(_group(info.name, info.role, frame, plan, version, None))
        if plan is None:
            continue
        for pv in store.pending(plan, known_at=known_at):
            future = store.read_layer(info.name, version_id=pv.id)
            fids = set(future.index.tolist())
            added = future.loc[sorted(fids - current)]
            if len(added):
                pending_groups.append(_group(info.name, info.role, added, plan, pv, "added"))
            gone = sorted(current - fids)
            if gone and frame is not None:
                pending_groups.append(
                    _group(info.name, info.role, frame.loc[gone], plan, pv, "removed")
                )
    return build_site_index(store.crs, groups + pending_groups, pack=load_rule_pack(pack), key=key)


# -- the query ---------------------------------------------------------------------------------


def _entry(index: SiteIndex, hit: Hit) -> dict[str, Any]:
    g = index.groups[hit.group]
    ident = g.ids[hit.row]
    props = g.properties(hit.row)
    out: dict[str, Any] = {
        "layer": g.layer,
        "role": g.role,
        "feature": None if ident is None else str(ident),
        "name": feature_name(props),
        "relation": hit.relation,
        "share_of_site": None if hit.share_of_site is None else round(hit.share_of_site, 6),
        "properties": props,
        "plan": g.plan,
        "version": g.version,
    }
    label = g.version.get("label") if g.version else None
    out["plan_label"] = plan_version_label(g.plan, label, "zh", role=g.role)
    out["plan_label_en"] = plan_version_label(g.plan, label, "en", role=g.role)
    if hit.area_m2 is not None:
        out["area_m2"] = round(hit.area_m2, 4)
    if g.change is not None:
        out["change"] = g.change
    return out


def _sort_key(e: Mapping[str, Any]) -> tuple[Any, ...]:
    return (_ROLE_ORDER.get(e["role"], 99), e["layer"], e.get("change") or "", e["feature"] or "")


def report_for(
    index: SiteIndex,
    site: Site,
    hits: Sequence[Hit],
    *,
    as_of: date,
    known_at: datetime | None,
    token: str,
) -> SiteReport:
    """Shape the hits of one query into a :class:`SiteReport`."""
    applies: list[dict[str, Any]] = []
    touching: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    for hit in hits:
        e = _entry(index, hit)
        if "change" in e:
            if hit.relation not in ("touches",):
                pending.append(e)
        elif hit.relation in ("touches",):
            touching.append(e)
        else:
            applies.append(e)
    applies.sort(key=_sort_key)
    touching.sort(key=_sort_key)
    pending.sort(key=_sort_key)
    zones = [
        (e["layer"], e["role"], e["feature"] or "", e["properties"].get("GHFQDM"))
        for e in applies
        if e["role"] in _ZONE_ROLES
    ]
    master = [
        (e["layer"], e["feature"] or "", str(e["properties"].get("YDYHFLDM") or ""))
        for e in applies
        if e["role"] == "planned_land_use"
    ]
    uses = derive_uses(index, zones, master)
    recorded = max(
        (
            str(g.version["recorded_at"])
            for g in index.groups
            if g.version and g.version.get("recorded_at")
        ),
        default=None,
    )
    return SiteReport(
        site,
        index.crs_name,
        as_of,
        known_at,
        token,
        tuple(applies),
        tuple(touching),
        tuple(pending),
        uses,
        recorded,
    )


class SiteQuery:
    """Site queries over a workspace, with a bounded cache of indexes.

    Parameters
    ----------
    max_indexes
        Indexes kept (one per as-of date, record time, data version and pack); the least
        recently used goes first.
    max_vertices
        Largest query polygon (``Settings.max_query_vertices``).
    crs_parameter
        How the caller's user gives the CRS (``--crs`` on the command line, ``crs`` over
        HTTP), named in the fix of a coordinate error; ``None`` phrases it for any caller.

    Examples
    --------
    >>> q = SiteQuery(max_indexes=2)
    >>> # report = q.query(store, point="39527060,4056040"); report.to_dict()["applies"][0]
    """

    def __init__(
        self,
        *,
        max_indexes: int = 4,
        max_vertices: int = 100_000,
        pack: str = "cn-base",
        crs_parameter: str | None = None,
    ) -> None:
        self.max_indexes = max_indexes
        self.max_vertices = max_vertices
        self.pack = pack
        self.crs_parameter = crs_parameter
        self._cache: OrderedDict[tuple[Any, ...], SiteIndex] = OrderedDict()
        self._lock = threading.Lock()

    def index(
        self,
        store: Any,
        *,
        as_of: date | None = None,
        known_at: datetime | None = None,
        token: str | None = None,
    ) -> SiteIndex:
        """The index for these times (built on first use, then reused)."""
        day = as_of or date.today()
        token = token or data_version_token(store)
        key = (day, known_at, token, self.pack)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        built = read_site_index(store, as_of=day, known_at=known_at, pack=self.pack, key=key)
        with self._lock:
            self._cache[key] = built
            while len(self._cache) > self.max_indexes:
                self._cache.popitem(last=False)
        return built

    def query(
        self,
        store: Any,
        *,
        point: str | None = None,
        polygon: Any = None,
        parcel: str | None = None,
        crs: str | None = None,
        as_of: date | None = None,
        known_at: datetime | None = None,
        pinned: str | None = None,
    ) -> SiteReport:
        """Answer one query: exactly one of ``point`` (``"X,Y"``), ``polygon`` (GeoJSON) or
        ``parcel`` (DKBH or BSM).

        ``pinned`` is the data version a permanent link was made for: while the workspace
        still has that version, ``known_at`` adds nothing (nothing was recorded since), so it
        is dropped and the current index serves the link; otherwise ``known_at`` reproduces
        the data as recorded then.

        Raises
        ------
        InputError
            Bad coordinates, CRS or GeoJSON; too many vertices; not exactly one site.
        NotFoundError
            Unknown parcel code; a site outside every layer.
        """
        given = [v for v in (point, polygon, parcel) if v is not None]
        if len(given) != 1:
            raise InputError(
                "Give exactly one site: a point, a polygon or a parcel code.",
                fix="Use one of point=X,Y, a GeoJSON polygon or parcel=DKBH.",
                message_zh="请给出且只给出一个查询对象：坐标点、多边形或地块编号。",
                fix_zh="使用 point=X,Y、GeoJSON 多边形或 parcel=地块编号 之一。",
            )
        day = as_of or date.today()
        token = data_version_token(store)
        if pinned is not None and pinned == token:
            known_at = None
        index = self.index(store, as_of=day, known_at=known_at, token=token)
        return self.query_index(
            index,
            point=point,
            polygon=polygon,
            parcel=parcel,
            crs=crs,
            as_of=day,
            known_at=known_at,
            token=token,
        )

    def query_index(
        self,
        index: SiteIndex,
        *,
        point: str | None = None,
        polygon: Any = None,
        parcel: str | None = None,
        crs: str | None = None,
        as_of: date | None = None,
        known_at: datetime | None = None,
        token: str = "",
    ) -> SiteReport:
        """:meth:`query` on a built index (no store read at all)."""
        day = as_of or date.today()
        if point is not None:
            site = parse_point(point, crs, index.crs, crs_parameter=self.crs_parameter)
            hits = locate_point(index, site.geometry.x, site.geometry.y)
        else:
            if parcel is not None:
                site = parcel_site(index, parcel)
            else:
                site = parse_polygon(polygon, crs, index.crs, max_vertices=self.max_vertices)
            hits = locate_polygon(index, site.geometry)
        if not any(h.relation != "touches" for h in hits):
            hint, hint_zh = _lonlat_hint(self.crs_parameter)
            raise NotFoundError(
                "The site lies outside every layer of the workspace.",
                fix=f"Check the coordinates and their CRS ({hint}).",
                message_zh="查询位置不在工作空间任何图层范围内。",
                fix_zh=f"请检查坐标及其坐标系（{hint_zh}）。",
            )
        return report_for(index, site, hits, as_of=day, known_at=known_at, token=token)


def parcel_site(index: SiteIndex, code: str) -> Site:
    """The parcel with this DKBH (detailed plan) or BSM (master plan) as a site.

    Examples
    --------
    >>> # parcel_site(index, "CG064-033").kind
    """
    found = index.by_code.get(code.strip())
    if found is None:
        raise NotFoundError(
            f"There is no parcel {code!r} (DKBH of a detailed-plan parcel or "
            "BSM of a master-plan parcel) in force.",
            feature=code,
            fix="Check the code and the as-of date.",
            message_zh=f"不存在现行地块 {code!r}（详细规划地块编号 DKBH 或总体规划"
            "图斑标识码 BSM）。",
            fix_zh="请检查编号和查询日期。",
        )
    g = index.groups[found[0]]
    geom = g.geometries[found[1]]
    return Site(geom, "parcel", {"parcel": code.strip(), "layer": g.layer})


# -- permanent link and sheet ------------------------------------------------------------------


def permalink(doc: Mapping[str, Any], base: str = "", *, now: datetime | None = None) -> str:
    """The permanent URL of a sheet: the site, the as-of date, the record time and the data
    version (``dv``), so the same sheet comes back after later amendments.

    Examples
    --------
    >>> doc = {"site": {"kind": "point", "given": {"point": [1.0, 2.0], "crs": None}},
    ...        "as_of": "2026-01-01", "known_at": "2026-01-02T00:00:00", "data_version": "ab"}
    >>> permalink(doc, "http://gis.example/")
    'http://gis.example/query/sheet?point=1.0%2C2.0&as_of=2026-01-01&known_at=2026-01-02T00%3A00%3A00&dv=ab'
    """
    site = doc["site"]
    given = site.get("given") or {}
    params: dict[str, str] = {}
    if site.get("kind") == "point":
        x, y = given["point"]
        params["point"] = f"{x!r},{y!r}"
        if given.get("crs"):
            params["crs"] = str(given["crs"])
    elif site.get("kind") == "parcel":
        params["parcel"] = str(given["parcel"])
    else:
        geo = {"type": site["type"], "coordinates": site["coordinates"]}
        params["polygon"] = json.dumps(geo, separators=(",", ":"))
        params["crs"] = str(site.get("crs"))
    known = (
        doc.get("known_at")
        or (now or datetime.now(UTC).replace(tzinfo=None)).replace(microsecond=0).isoformat()
    )
    params.update(
        {"as_of": str(doc["as_of"]), "known_at": str(known), "dv": str(doc["data_version"])}
    )
    return f"{base.rstrip('/')}/query/sheet?{urlencode(params)}"


def qr_svg(text: str, *, lang: str = "zh") -> str | None:
    """An inline SVG QR code of the permanent link ``text``, titled in ``lang`` (``None``
    when it is too long for a QR code)."""
    import segno
    from segno import DataOverflowError

    try:
        code = segno.make(text, error="m", micro=False)
    except DataOverflowError:
        log.info("Permanent link of %d characters is too long for a QR code.", len(text))
        return None
    title = "Permanent link" if lang == "en" else "永久链接"
    return str(code.svg_inline(scale=3, title=title))


def sheet_html(doc: Mapping[str, Any], base: str = "", *, lang: str = "zh") -> str:
    """The printable sheet of a query answer, with a QR code of its permanent URL.

    Examples
    --------
    >>> # sheet_html(report.to_dict(), "http://127.0.0.1:8000")
    """
    link = permalink(doc, base)
    return render_sheet(doc, permalink=link, qr_svg=qr_svg(link, lang=lang), lang=lang)
