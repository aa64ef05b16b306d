"""The site query (空间码) as pure values: an in-memory index of every layer and what applies.

A :class:`SiteIndex` holds every feature of every layer in force on one date (plus the
features pending versions add or remove) in one STRtree over prepared geometries, with the
attributes as arrays. :func:`locate_point` and :func:`locate_polygon` find the features a
site meets and how:

* a point strictly inside a feature: relation ``within``, share of site 1.0;
* a point exactly on a feature's boundary (a shared edge between two neighbours): the
  feature *applies* with relation ``on_boundary`` and share ``None``, so a point on the edge
  between two parcels reports both and says it is ambiguous;
* a polygon meeting a feature in an area > 0: applies with relation ``within`` (the feature
  covers the site), ``contains`` (the site covers the feature) or ``overlaps``, and the planar
  share of the site's area inside the feature;
* a polygon meeting a feature only along its boundary (area 0): ``touches``, reported under
  ``touching`` and never as applying.

:func:`derive_uses` turns the rule pack's zone rules (``forbid_overlap``/``require_within``
scoped to a control-line role) and its ``use_compatibility`` table into the land uses that are
allowed, conditional or forbidden at the site. Nothing here reads files or the clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from guotu.domain.codes.classification import ydyh_2023
from guotu.domain.review.pack import Rule, RulePack

__all__ = [
    "NAME_FIELDS",
    "FeatureGroup",
    "Hit",
    "SiteIndex",
    "UseRestriction",
    "build_site_index",
    "derive_uses",
    "feature_name",
    "locate_point",
    "locate_polygon",
    "restrictions_of",
]

#: Relations of a feature that applies to the site.
APPLIES = ("within", "contains", "overlaps", "on_boundary")
#: Fields that name a feature, tried in this order (行政区名称, 项目名称, 单元名称, 规划分区名称).
NAME_FIELDS: tuple[str, ...] = ("XZQMC", "XMMC", "DYMC", "GHFQMC")


@dataclass(frozen=True)
class FeatureGroup:
    """The features of one layer in one version, as arrays.

    Attributes
    ----------
    layer, role, id_field
        Layer name, role id and the field naming a feature.
    plan, version
        The source plan's name and the version (plain JSON-ready dict) the features come from.
    change
        ``None`` for the version in force; ``added`` or ``removed`` for what a pending version
        (公示/报批) would change.
    fids, ids, geometries, attributes
        Revision ids, id-field values, geometries and attribute columns (same order).
    """

    layer: str
    role: str
    id_field: str
    plan: str | None
    version: Mapping[str, Any] | None
    change: str | None
    fids: npt.NDArray[np.int64]
    ids: npt.NDArray[np.object_]
    geometries: npt.NDArray[np.object_]
    attributes: Mapping[str, npt.NDArray[np.object_]]

    def properties(self, row: int) -> dict[str, Any]:
        """The non-empty attributes of feature ``row``."""
        out: dict[str, Any] = {}
        for name, values in self.attributes.items():
            value = values[row]
            if value is None or (isinstance(value, float) and value != value):
                continue
            out[name] = value.item() if isinstance(value, np.generic) else value
        return out


@dataclass(frozen=True)
class Hit:
    """One feature a site meets: its group and row, relation and share of the site."""

    group: int
    row: int
    relation: str
    share_of_site: float | None
    area_m2: float | None = None


@dataclass
class SiteIndex:
    """Every feature of a workspace on one date in one STRtree (built once, queried often).

    Attributes
    ----------
    crs
        The workspace CRS (all geometries are in it).
    groups
        The layers (in force, then pending changes).
    geometries, owner, row, tree
        Prepared geometries of every group, concatenated; the group and row of each; the tree.
    by_code
        Parcel codes (DKBH of detailed parcels, BSM of master-plan parcels) → (group, row).
    key
        What the index was built for (as-of date, record time, data version, rule pack).
    """

    crs: CRS
    groups: tuple[FeatureGroup, ...]
    geometries: npt.NDArray[np.object_]
    owner: npt.NDArray[np.int32]
    row: npt.NDArray[np.int64]
    tree: shapely.STRtree
    by_code: dict[str, tuple[int, int]]
    key: tuple[Any, ...] = ()
    crs_name: str = ""
    restrictions: tuple[UseRestriction, ...] = ()
    compatibility: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    _uses_memo: dict[Any, dict[str, Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.geometries)


_CODE_ROLES = {"detailed_parcel": "DKBH", "planned_land_use": "BSM"}


def build_site_index(
    crs: CRS,
    groups: Sequence[FeatureGroup],
    *,
    pack: RulePack | None = None,
    key: tuple[Any, ...] = (),
) -> SiteIndex:
    """Concatenate the groups' geometries, prepare them and build one STRtree.

    Empty and missing geometries are left out of the tree.

    Examples
    --------
    >>> from shapely import box
    >>> g = FeatureGroup("XZQ", "admin_boundary", "XZQDM", None, None, None,
    ...                  np.array([1]), np.array(["370999"], dtype=object),
    ...                  np.array([box(0, 0, 10, 10)], dtype=object), {})
    >>> len(build_site_index(CRS.from_epsg(4527), [g]))
    1
    """
    geoms: list[npt.NDArray[np.object_]] = []
    owners: list[npt.NDArray[np.int32]] = []
    rows: list[npt.NDArray[np.int64]] = []
    by_code: dict[str, tuple[int, int]] = {}
    for gi, group in enumerate(groups):
        usable = ~(shapely.is_missing(group.geometries) | shapely.is_empty(group.geometries))
        keep = np.flatnonzero(usable)
        geoms.append(group.geometries[keep])
        owners.append(np.full(len(keep), gi, dtype=np.int32))
        rows.append(keep.astype(np.int64))
        code_field = _CODE_ROLES.get(group.role)
        if group.change is None and code_field and code_field in group.attributes:
            for r in keep.tolist():
                code = group.attributes[code_field][r]
                if code is not None and str(code).strip():
                    by_code.setdefault(str(code).strip(), (gi, r))
    all_geoms = np.concatenate(geoms) if geoms else np.empty(0, dtype=object)
    shapely.prepare(all_geoms)
    if len(all_geoms):
        # GEOS builds a prepared polygon's point locator on its first point test: do it now,
        # so the first queries after a build are as fast as the rest.
        b = shapely.bounds(all_geoms)
        shapely.contains_xy(all_geoms, (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2)
    restrictions = restrictions_of(pack) if pack is not None else ()
    table = pack.table("use_compatibility") if pack is not None else None
    compat = {str(k): tuple(str(v) for v in vs) for k, vs in (table or {}).items()}
    return SiteIndex(
        crs=crs,
        groups=tuple(groups),
        geometries=all_geoms,
        owner=np.concatenate(owners) if owners else np.empty(0, dtype=np.int32),
        row=np.concatenate(rows) if rows else np.empty(0, dtype=np.int64),
        tree=shapely.STRtree(all_geoms),
        by_code=by_code,
        key=key,
        crs_name=crs.to_string(),
        restrictions=restrictions,
        compatibility=compat,
    )


def locate_point(index: SiteIndex, x: float, y: float) -> list[Hit]:
    """The features a point lies in (``within``) or on the boundary of (``on_boundary``).

    Examples
    --------
    >>> from shapely import box
    >>> g = FeatureGroup("GHYD", "planned_land_use", "BSM", None, None, None,
    ...                  np.array([1, 2]), np.array(["A", "B"], dtype=object),
    ...                  np.array([box(0, 0, 10, 10), box(10, 0, 20, 10)], dtype=object), {})
    >>> idx = build_site_index(CRS.from_epsg(4527), [g])
    >>> [(h.row, h.relation) for h in locate_point(idx, 5, 5)]
    [(0, 'within')]
    >>> [(h.row, h.relation) for h in locate_point(idx, 10, 5)]
    [(0, 'on_boundary'), (1, 'on_boundary')]
    """
    cand = index.tree.query(shapely.Point(x, y))
    if not len(cand):
        return []
    cand.sort()
    geoms = index.geometries[cand]
    touching = shapely.intersects_xy(geoms, x, y)
    inside = shapely.contains_xy(geoms, x, y)
    hits = []
    for k in np.flatnonzero(touching).tolist():
        i = int(cand[k])
        if inside[k]:
            hits.append(Hit(int(index.owner[i]), int(index.row[i]), "within", 1.0))
        else:
            hits.append(Hit(int(index.owner[i]), int(index.row[i]), "on_boundary", None))
    return hits


def locate_polygon(index: SiteIndex, site: BaseGeometry) -> list[Hit]:
    """The features a polygonal site meets: overlapping ones with their share, touching
    ones (area 0) with relation ``touches``. Lines (special plans) crossing the site are
    ``crosses`` (share ``None``, ``area_m2`` holds nothing).

    Examples
    --------
    >>> from shapely import box
    >>> g = FeatureGroup("STBHHX", "ecological_redline", "BSM", None, None, None,
    ...                  np.array([1, 2]), np.array(["H1", "H2"], dtype=object),
    ...                  np.array([box(0, 0, 10, 10), box(30, 0, 40, 10)], dtype=object), {})
    >>> idx = build_site_index(CRS.from_epsg(4527), [g])
    >>> [(h.row, h.relation, h.share_of_site) for h in locate_polygon(idx, box(5, 0, 30, 10))]
    [(0, 'overlaps', 0.2), (1, 'touches', 0.0)]
    """
    cand = index.tree.query(site, predicate="intersects")
    if not len(cand):
        return []
    cand.sort()
    site_area = float(site.area)
    geoms = index.geometries[cand]
    parts = shapely.intersection(geoms, site)
    areas = shapely.area(parts)
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    hits = []
    for k, i in enumerate(cand.tolist()):
        gi, r = int(index.owner[i]), int(index.row[i])
        if not polygonal[k]:
            length = float(shapely.length(parts[k]))
            rel = "crosses" if length > 0 else "touches"
            hits.append(Hit(gi, r, rel, None))
            continue
        area = float(areas[k])
        if area <= 0.0:
            hits.append(Hit(gi, r, "touches", 0.0, 0.0))
            continue
        if shapely.covers(geoms[k], site):
            rel = "within"
        elif shapely.covers(site, geoms[k]):
            rel = "contains"
        else:
            rel = "overlaps"
        share = area / site_area if site_area > 0 else None
        hits.append(Hit(gi, r, rel, share, area))
    return hits


# -- land uses from the rule pack --------------------------------------------------------------


@dataclass(frozen=True)
class UseRestriction:
    """A zone rule of a pack, seen from the site: which codes it restricts inside which zones.

    ``inside`` is ``True`` for rules that restrict codes inside the zone (``forbid_overlap``)
    and ``False`` for rules that restrict codes outside every zone of the role
    (``require_within``).
    """

    rule: Rule
    inside: bool

    @property
    def forbids(self) -> bool:
        """Whether the rule forbids (severity error) rather than attaches a condition."""
        return self.rule.severity.value == "error"

    def zone_matches(self, role: str, value: Any) -> bool:
        """Whether a feature of ``role`` with ``zone_field`` value ``value`` is a zone of it."""
        if self.rule.zone_role != role:
            return False
        if not self.rule.zone_field:
            return True
        return value is not None and str(value) in self.rule.zone_values

    def exemptions(self) -> list[dict[str, Any]]:
        """The ``exempt_if`` conditions: ``[{"field", "in"}]``."""
        return [
            {"field": str(c.get("field")), "in": [str(v) for v in c.get("in", ())]}
            for c in self.rule.args.get("exempt_if") or ()
        ]


def restrictions_of(pack: RulePack) -> tuple[UseRestriction, ...]:
    """The pack's zone rules that say which uses a site may have, sorted by rule id.

    Examples
    --------
    >>> from guotu.domain.review.pack import LegalBasis
    >>> from guotu.domain.core.findings import Severity
    >>> r = Rule("sanqu.x", "", "", LegalBasis(""), ("master-plan",), "forbid_overlap",
    ...          Severity.ERROR, "", "", zone_role="ecological_redline")
    >>> p = RulePack("p", "1", "", "", (r,))
    >>> [x.rule.id for x in restrictions_of(p)]
    ['sanqu.x']
    """
    out = []
    for rule in sorted(pack.rules, key=lambda r: r.id):
        if rule.zone_role is None or rule.operator not in ("forbid_overlap", "require_within"):
            continue
        if not ({"master-plan", "detailed-plan", "project"} & set(rule.kinds)):
            continue
        out.append(UseRestriction(rule, rule.operator == "forbid_overlap"))
    return tuple(out)


@lru_cache(maxsize=1)
def _level1() -> tuple[tuple[str, str, str], ...]:
    return tuple((c.code, c.name_zh, c.name_en) for c in ydyh_2023().at_level(1))


def derive_uses(
    index: SiteIndex,
    zones: Sequence[tuple[str, str, str, Any]],
    master_codes: Sequence[tuple[str, str, str]],
) -> dict[str, Any]:
    """Allowed, conditional and forbidden level-1 land uses at a site.

    Parameters
    ----------
    index
        The site index (its pack restrictions and compatibility table).
    zones
        The control-line features that apply: ``(layer, role, feature id, zone_field value)``;
        the value is the feature's ``GHFQDM`` for 开发边界 sub-zones, else ``None``.
    master_codes
        Master-plan land uses that apply: ``(layer, feature id, code)``.

    Returns
    -------
    dict
        ``codes`` (one entry per level-1 class: code, names, status and the reasons, each
        naming its rule, the zone role and sub-zone), ``allowed``/``conditional``/``forbidden``
        code lists, ``zones`` (the control-line features that restrict the site) and
        ``master_plan`` (the detailed codes the pack's ``use_compatibility`` table admits under
        each master-plan use).
    """
    kinds = tuple(
        sorted(
            {(z[1], None if z[3] is None else str(z[3])) for z in zones},
            key=lambda k: (k[0], k[1] or ""),
        )
    )
    out = index._uses_memo.get(kinds)
    if out is None:
        out = _uses_for(index, kinds)
        if len(index._uses_memo) < 1024:
            index._uses_memo[kinds] = out
    master = []
    for layer, fid, code in master_codes:
        admits = index.compatibility.get(code[:2]) if code else None
        master.append(
            {
                "layer": layer,
                "feature": fid,
                "code": code,
                "admits": list(admits) if admits is not None else ([code[:2]] if code else []),
                "table": "use_compatibility",
            }
        )
    return {
        **out,
        "zones": [{"layer": z[0], "role": z[1], "feature": z[2], "value": z[3]} for z in zones],
        "master_plan": master,
    }


def _uses_for(index: SiteIndex, kinds: tuple[tuple[str, str | None], ...]) -> dict[str, Any]:
    roles_present = {k[0] for k in kinds}
    reasons: dict[str, list[dict[str, Any]]] = {}
    for res in index.restrictions:
        rule = res.rule
        if res.inside:
            hits = [k for k in kinds if res.zone_matches(k[0], k[1])]
        else:
            # require_within restricts outside every zone of its role, when the workspace
            # has a layer of that role at all
            if rule.zone_role in roles_present or not any(
                g.role == rule.zone_role and g.change is None for g in index.groups
            ):
                continue
            hits = [(rule.zone_role or "", None)]
        for code, _zh, _en in _level1():
            if not rule.matches_code(code) and not any(
                inc.startswith(code) for inc in rule.subject_codes
            ):
                continue
            partial = [e for e in rule.subject_exclude if e.startswith(code) and len(e) > 2]
            narrower = [i for i in rule.subject_codes if i.startswith(code) and len(i) > 2]
            for role, value in hits:
                reasons.setdefault(code, []).append(
                    {
                        "rule": rule.id,
                        "title_zh": rule.title_zh,
                        "title_en": rule.title_en,
                        "basis": rule.basis.text(),
                        "severity": rule.severity.value,
                        "status": "forbidden" if res.forbids else "conditional",
                        "zone_role": role,
                        "zone_value": value,
                        "where": "inside" if res.inside else "outside",
                        "unless": res.exemptions(),
                        "except_codes": partial,
                        "only_codes": narrower,
                    }
                )
    codes = []
    buckets: dict[str, list[str]] = {"allowed": [], "conditional": [], "forbidden": []}
    for code, zh, en in _level1():
        why = reasons.get(code, [])
        whole = [w for w in why if not w["only_codes"]]
        if any(w["status"] == "forbidden" for w in whole):
            status = "forbidden"
        elif why:
            status = "conditional"
        else:
            status = "allowed"
        buckets[status].append(code)
        codes.append({"code": code, "name_zh": zh, "name_en": en, "status": status, "reasons": why})
    return {"codes": codes, **buckets}


def feature_name(properties: Mapping[str, Any]) -> str | None:
    """The name of a feature: the first of :data:`NAME_FIELDS` it has, else ``None``.

    Examples
    --------
    >>> feature_name({"XZQDM": "370999", "XZQMC": "示范县"}), feature_name({"BSM": "GH1"})
    ('示范县', None)
    """
    return next(
        (str(properties[f]) for f in NAME_FIELDS if properties.get(f) not in (None, "")), None
    )
