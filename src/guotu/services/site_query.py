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
     "allowed_uses": {"codes", "allowed", "conditional", "forbidden", "master_plan"},
     "restricted_layers_omitted": false}

Asked for a principal (:meth:`SiteQuery.query`'s ``principal``), the answer holds only the
layers they may read, without the fields hidden from them, and only their own 行政区's rows
where a layer limits them (:class:`~guotu.services.site_index.SiteView`); the allowed uses are
derived from what they see. When layers were left out, ``restricted_layers_omitted`` is true
and ``restricted_note`` says so in Chinese and English, never naming them; a region-limited
answer says ``region_limited`` with ``region_note``. A parcel code of a layer they may not
read is not found, in the same words as a code that does not exist.

A point exactly on an edge shared by two features applies to both, with relation
``on_boundary`` and ``share_of_site`` ``null`` (see :mod:`guotu.domain.site.query`). ``name`` is the
feature's name (行政区名称, 项目名称 …; ``null`` when it has none) and ``data_recorded_at`` the
latest record time of the versions the answer was read from.

The site is parsed by :mod:`guotu.services.site_parsing`, the index read by
:mod:`guotu.services.site_index`; the permanent link and the printable sheet of an answer are
:mod:`guotu.services.site_permalink`.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import shapely

from guotu.domain.access.policy import Principal
from guotu.domain.core.plan_labels import plan_version_label
from guotu.domain.core.roles import ROLES
from guotu.domain.site.query import (
    Hit,
    SiteIndex,
    derive_uses,
    feature_name,
    locate_point,
    locate_polygon,
)
from guotu.errors import InputError, NotFoundError
from guotu.ports import FeatureStore
from guotu.services.access import RESTRICTED_NOTE, LayerAccess, access_for
from guotu.services.site_index import SiteView, read_site_index, site_view
from guotu.services.site_parsing import Site, lonlat_hint, parse_point, parse_polygon
from guotu.services.workspace import data_version

__all__ = ["SiteQuery", "SiteReport", "data_version_token", "parcel_site", "report_for"]

_ROLE_ORDER = {r.id: i for i, r in enumerate(ROLES)}
_ZONE_ROLES = ("ecological_redline", "permanent_farmland", "urban_boundary")
#: What a region-limited answer says (the user sees their own 行政区's features only).
REGION_NOTE = {"zh": "仅显示本辖区的要素", "en": "Only features of your own area are shown"}
#: (index, principal) views kept by a :class:`SiteQuery`.
_VIEWS_KEPT = 256


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
    is_omitting: bool = False  # layers the principal may not read were left out
    is_region_limited: bool = False  # some layer shows the principal their own area only
    restricted_layers: tuple[str, ...] = ()  # 受限 layers the answer shows (to audit)

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
        out: dict[str, Any] = {
            "site": site,
            "as_of": self.as_of.isoformat(),
            "known_at": self.known_at.isoformat() if self.known_at else None,
            "data_version": self.data_version,
            "data_recorded_at": self.data_recorded_at,
            "applies": list(self.applies),
            "touching": list(self.touching),
            "pending": list(self.pending),
            "allowed_uses": self.allowed_uses,
            "restricted_layers_omitted": self.is_omitting,
        }
        if self.is_omitting:
            out["restricted_note"] = dict(RESTRICTED_NOTE)
        if self.is_region_limited:
            out["region_limited"] = True
            out["region_note"] = dict(REGION_NOTE)
        return out


def _listify(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_listify(v) for v in value]
    return value


def data_version_token(store: FeatureStore) -> str:
    """A short hash of :func:`data_version` (which names the workspace path, kept out of
    responses and URLs).

    Examples
    --------
    >>> class Store:  # a workspace: its path and the audit id of its last data write
    ...     path = "/data/demo_county.gpkg"
    ...     def data_head(self):
    ...         return 42
    >>> token = data_version_token(Store())
    >>> len(token), token == data_version_token(Store()), "demo_county" in token
    (12, True, False)
    """
    return _token(data_version(store))


def _token(version: str) -> str:
    return hashlib.sha256(version.encode()).hexdigest()[:12]


# -- the query ---------------------------------------------------------------------------------


def _entry(index: SiteIndex, hit: Hit, hidden: frozenset[str] = frozenset()) -> dict[str, Any]:
    g = index.groups[hit.group]
    ident = None if g.id_field in hidden else g.ids[hit.row]
    props = g.properties(hit.row)
    if hidden:
        props = {k: v for k, v in props.items() if k not in hidden}
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
    view: SiteView | None = None,
) -> SiteReport:
    """Shape the hits of one query into a :class:`SiteReport` (the hits ``view`` admits,
    as it shows them)."""
    applies: list[dict[str, Any]] = []
    touching: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    restricted: set[str] = set()
    for hit in hits:
        if view is not None and not view.admits(hit.group, hit.row):
            continue
        if view is not None and view.is_restricted[hit.group]:
            restricted.add(index.groups[hit.group].layer)
        e = _entry(index, hit, view.hidden[hit.group] if view is not None else frozenset())
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
            for k, g in enumerate(index.groups)
            if g.version and g.version.get("recorded_at") and (view is None or view.is_shown[k])
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
        is_omitting=view is not None and view.is_omitting,
        is_region_limited=view is not None and view.is_region_limited,
        restricted_layers=tuple(sorted(restricted)),
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
    An index of one parcel (:meth:`query` reads it from a workspace instead, and keeps it):

    >>> import numpy as np
    >>> from pyproj import CRS
    >>> from shapely import box
    >>> from guotu.domain.site.query import FeatureGroup, build_site_index
    >>> parcels = FeatureGroup("GHYD", "planned_land_use", "BSM", None, None, None,
    ...                        np.array([1]), np.array(["GH1"], dtype=object),
    ...                        np.array([box(0, 0, 100, 100)], dtype=object), {})
    >>> index = build_site_index(CRS.from_epsg(4527), [parcels])
    >>> q = SiteQuery(max_indexes=2)
    >>> doc = q.query_index(index, point="50,50").to_dict()
    >>> [(e["layer"], e["feature"], e["relation"]) for e in doc["applies"]]
    [('GHYD', 'GH1', 'within')]
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
        self._views: OrderedDict[tuple[int, Principal], tuple[SiteIndex, SiteView]] = OrderedDict()
        self._lock = threading.Lock()

    def view(self, index: SiteIndex, access: LayerAccess) -> SiteView:
        """What ``access``'s principal sees of ``index`` (kept per index and principal)."""
        key = (id(index), access.principal)
        with self._lock:
            found = self._views.get(key)
            if found is not None and found[0] is index:
                self._views.move_to_end(key)
                return found[1]
        built = site_view(index, access)
        with self._lock:
            self._views[key] = (index, built)
            while len(self._views) > _VIEWS_KEPT:
                self._views.popitem(last=False)
        return built

    def index(
        self,
        store: FeatureStore,
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
        store: FeatureStore,
        *,
        point: str | None = None,
        polygon: Any = None,
        parcel: str | None = None,
        crs: str | None = None,
        as_of: date | None = None,
        known_at: datetime | None = None,
        pinned: str | None = None,
        principal: Principal | None = None,
    ) -> SiteReport:
        """Answer one query: exactly one of ``point`` (``"X,Y"``), ``polygon`` (GeoJSON) or
        ``parcel`` (DKBH or BSM); as ``principal`` may see it (``None``: everything).

        ``pinned`` is the data version a permanent link was made for: while the workspace
        still has that version, ``known_at`` adds nothing (nothing was recorded since), so it
        is dropped and the current index serves the link; otherwise ``known_at`` reproduces
        the data as recorded then.

        Raises
        ------
        InputError
            Bad coordinates, CRS or GeoJSON; too many vertices; not exactly one site.
        NotFoundError
            Unknown parcel code; a site outside every layer (the principal may read).
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
        version = data_version(store)
        token = _token(version)
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
            access=None if principal is None else access_for(store, principal, version=version),
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
        access: LayerAccess | None = None,
    ) -> SiteReport:
        """:meth:`query` on a built index (no store read at all), as ``access``'s principal
        may see it (``None``: everything)."""
        day = as_of or date.today()
        view = None if access is None else self.view(index, access)
        if point is not None:
            site = parse_point(point, crs, index.crs, crs_parameter=self.crs_parameter)
            hits = locate_point(index, site.geometry.x, site.geometry.y)
        else:
            if parcel is not None:
                site = parcel_site(index, parcel, view)
            else:
                site = parse_polygon(polygon, crs, index.crs, max_vertices=self.max_vertices)
            hits = locate_polygon(index, site.geometry)
        if view is not None:
            hits = [h for h in hits if view.admits(h.group, h.row)]
        if not any(h.relation != "touches" for h in hits):
            hint, hint_zh = lonlat_hint(self.crs_parameter)
            raise NotFoundError(
                "The site lies outside every layer of the workspace.",
                fix=f"Check the coordinates and their CRS ({hint}).",
                message_zh="查询位置不在工作空间任何图层范围内。",
                fix_zh=f"请检查坐标及其坐标系（{hint_zh}）。",
            )
        return report_for(index, site, hits, as_of=day, known_at=known_at, token=token, view=view)


def parcel_site(index: SiteIndex, code: str, view: SiteView | None = None) -> Site:
    """The parcel with this DKBH (detailed plan) or BSM (master plan) as a site; one that
    ``view`` does not admit is not found, in the same words as an unknown code.

    Examples
    --------
    >>> import numpy as np
    >>> from pyproj import CRS
    >>> from shapely import box
    >>> from guotu.domain.site.query import FeatureGroup, build_site_index
    >>> bsm = np.array(["GH1"], dtype=object)
    >>> parcels = FeatureGroup("GHYD", "planned_land_use", "BSM", None, None, None,
    ...                        np.array([1]), bsm, np.array([box(0, 0, 100, 100)], dtype=object),
    ...                        {"BSM": bsm})
    >>> site = parcel_site(build_site_index(CRS.from_epsg(4527), [parcels]), "GH1")
    >>> site.kind, site.geometry.area, dict(site.given)
    ('parcel', 10000.0, {'parcel': 'GH1', 'layer': 'GHYD'})
    """
    found = index.by_code.get(code.strip())
    if found is not None and view is not None and not view.admits(*found):
        found = None
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
