"""Differences between two versions of a plan: features added, removed and changed, with
ellipsoidal areas, and the 用地变化 matrix (from code → to code, area).

Codes are named by the classification of their own layer (the ``code_scheme`` of the role's
code field, :func:`guotu.domain.codes.code_names.name_code`): a 现状地类图斑 layer (DLBM) by the 三调
working classification, a planned land-use layer (YDYHFLDM) by 用地用海 2023, so ``05H1`` is
商业服务业设施用地 under 05 商业服务业用地 there, never 05 湿地 of the other table.

Only the revisions the two versions do not share are read: the versions on each side of the
fork in the lineage say what they added and retired, and everything else is shared. The cost
of a diff therefore grows with the change, not with the plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from guotu.domain.codes.code_names import CodeName, name_code
from guotu.domain.core.fields import FIELDS
from guotu.domain.core.model import Version
from guotu.domain.core.roles import get_role
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.ports import FeatureStore

__all__ = ["FeatureChange", "LayerDiff", "PlanDiff", "diff_versions"]

#: Key for area that appears or disappears without a counterpart in the matrix.
NONE_CODE = "∅"


@dataclass(frozen=True)
class FeatureChange:
    """One feature added, removed or changed between the two versions."""

    kind: str  # "added" | "removed" | "changed"
    key: str | None
    old_fid: int | None
    new_fid: int | None
    area_old_m2: float
    area_new_m2: float
    is_geometry_changed: bool
    changed_fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "kind": self.kind,
            "key": self.key,
            "old_fid": self.old_fid,
            "new_fid": self.new_fid,
            "area_old_m2": self.area_old_m2,
            "area_new_m2": self.area_new_m2,
            "geometry_changed": self.is_geometry_changed,
            "changed_fields": {
                k: [_plain(a), _plain(b)] for k, (a, b) in self.changed_fields.items()
            },
        }


@dataclass(frozen=True)
class LayerDiff:
    """What changed in one layer."""

    layer: str
    key_field: str | None
    code_field: str | None
    changes: tuple[FeatureChange, ...]
    matrix: dict[tuple[str, str], float]  # (from code, to code) → ellipsoidal m²
    old: gpd.GeoDataFrame
    new: gpd.GeoDataFrame
    code_scheme: str | None = None  # "ydyh2023" or "sandiao": how the codes are named

    def count(self, kind: str) -> int:
        """Number of changes of a kind."""
        return sum(1 for c in self.changes if c.kind == kind)

    def code_names(self) -> dict[str, CodeName]:
        """Every code of the changed features and of the matrix, named by this layer's
        classification."""
        codes: set[str] = {c for pair in self.matrix for c in pair if c != NONE_CODE}
        if self.code_field is not None:
            for frame in (self.old, self.new):
                codes.update(
                    v for v in frame[self.code_field].tolist() if isinstance(v, str) and v.strip()
                )
        return {c: name_code(c, self.code_scheme) for c in sorted(codes)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "layer": self.layer,
            "key_field": self.key_field,
            "code_field": self.code_field,
            "code_scheme": self.code_scheme,
            "code_names": {c: n.to_dict() for c, n in self.code_names().items()},
            "added": self.count("added"),
            "removed": self.count("removed"),
            "changed": self.count("changed"),
            "changes": [c.to_dict() for c in self.changes],
            "matrix": [
                {"from": a, "to": b, "area_m2": v, "area_ha": v / 1e4}
                for (a, b), v in sorted(self.matrix.items())
            ],
        }


@dataclass(frozen=True)
class PlanDiff:
    """Differences between two versions of one plan, layer by layer."""

    plan: str
    old: Version
    new: Version
    layers: tuple[LayerDiff, ...]
    crs: str

    def to_dict(self) -> dict[str, Any]:
        """The ``guotu diff --json`` document."""
        return {
            "plan": self.plan,
            "from": self.old.label,
            "to": self.new.label,
            "from_version_id": self.old.id,
            "to_version_id": self.new.id,
            "crs": self.crs,
            "layers": [d.to_dict() for d in self.layers],
        }


def _plain(value: Any) -> Any:
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _touched(
    store: FeatureStore, layer: str, versions: Iterable[int]
) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """For each version on either side of the fork: the fids it added and it retired."""
    added: dict[int, set[int]] = {}
    retired: dict[int, set[int]] = {}
    for v in versions:
        a, r = store.version_changes(layer, v)
        added[v], retired[v] = set(a), set(r)
    return added, retired


def _members(
    candidates: Iterable[int],
    chain: Sequence[int],
    added: dict[int, set[int]],
    retired: dict[int, set[int]],
) -> set[int]:
    """Which of the revisions touched by the fork belong to the version with lineage ``chain``.

    A touched revision was either added by a fork version, or is older than the fork (then
    both sides start with it: no revision is retired before the fork and touched after it).
    """
    in_chain = set(chain)
    by_fork = {f: v for v, fids in added.items() for f in fids}
    gone = set().union(*(fids for v, fids in retired.items() if v in in_chain))
    return {f for f in candidates if (f not in by_fork or by_fork[f] in in_chain) and f not in gone}


def diff_versions(
    store: FeatureStore,
    plan: str,
    old_label: str,
    new_label: str,
    *,
    layers: Sequence[str] | None = None,
) -> PlanDiff:
    """Compare two versions of ``plan`` (any two: parent and amendment, or siblings)."""
    old = store.version(plan, old_label)
    new = store.version(plan, new_label)
    c_old, c_new = store.lineage_of(old.id), store.lineage_of(new.id)
    common = 0
    while common < min(len(c_old), len(c_new)) and c_old[common] == c_new[common]:
        common += 1
    fork = set(c_old[common:]) | set(c_new[common:])
    names = [i.name for i in store.layers() if i.plan == store.plan(plan).name]
    if layers:
        names = [n for n in names if n in set(layers)]
    crs = store.crs
    out = []
    for name in names:
        added, retired = _touched(store, name, sorted(fork))
        touched = set().union(*added.values(), *retired.values())
        if not touched:
            continue
        revisions = store.read_revisions(name, sorted(touched))
        in_old = _members(touched, c_old, added, retired)
        in_new = _members(touched, c_new, added, retired)
        out.append(
            _layer_diff(
                store, name, revisions, sorted(in_old - in_new), sorted(in_new - in_old), crs
            )
        )
    return PlanDiff(
        store.plan(plan).name, old, new, tuple(out), crs.to_string() if crs is not None else ""
    )


def _layer_diff(
    store: FeatureStore,
    name: str,
    revisions: gpd.GeoDataFrame,
    removed: list[int],
    added: list[int],
    crs: CRS | None,
) -> LayerDiff:
    info = store.layer(name)
    role = get_role(info.role)
    key_field = role.id_field if role.id_field in revisions.columns else None
    code_field = role.code_field if role.code_field in revisions.columns else None
    old = revisions.loc[removed]
    new = revisions.loc[added]
    area_old = _areas(old, crs)
    area_new = _areas(new, crs)
    changes: list[FeatureChange] = []
    old_by_key = _by_key(old, key_field)
    fields = [c for c in revisions.columns if c != revisions.geometry.name]
    # Plain Python rows: pandas' per-cell access costs more than the whole comparison.
    old_rows = dict(
        zip(old.index.tolist(), old[fields].itertuples(index=False, name=None), strict=True)
    )
    new_rows = dict(
        zip(new.index.tolist(), new[fields].itertuples(index=False, name=None), strict=True)
    )
    old_geoms = dict(zip(old.index.tolist(), old.geometry.values, strict=True))
    new_geoms = dict(zip(new.index.tolist(), new.geometry.values, strict=True))
    new_keys, old_keys = _keys(new, key_field), _keys(old, key_field)
    paired_old: set[int] = set()
    same: set[int] = set()
    for fid in new.index.tolist():
        key = new_keys[fid]
        match = old_by_key.get(key) if key is not None else None
        if match is not None and match not in paired_old:
            paired_old.add(match)
            diffs = {
                f: (a, b)
                for f, a, b in zip(fields, old_rows[match], new_rows[fid], strict=True)
                if not _same(a, b)
            }
            geom_changed = not _same_geometry(old_geoms[match], new_geoms[fid])
            if not diffs and not geom_changed:
                # Two revisions with the same content (two sides made the same edit, or an
                # edit was undone): not a change.
                same.update({match, fid})
                continue
            changes.append(
                FeatureChange(
                    "changed",
                    key,
                    int(match),
                    int(fid),
                    area_old[match],
                    area_new[fid],
                    geom_changed,
                    diffs,
                )
            )
        else:
            changes.append(FeatureChange("added", key, None, int(fid), 0.0, area_new[fid], True))
    for fid in old.index:
        if fid not in paired_old:
            changes.append(
                FeatureChange("removed", old_keys[fid], int(fid), None, area_old[fid], 0.0, True)
            )
    changes.sort(key=lambda c: (c.kind, c.key or "", c.old_fid or 0, c.new_fid or 0))
    old = old.drop(index=[f for f in old.index if f in same])
    new = new.drop(index=[f for f in new.index if f in same])
    matrix = _code_matrix(old, new, code_field, crs) if code_field else {}
    scheme = FIELDS[code_field].code_scheme if code_field is not None else None
    return LayerDiff(name, key_field, code_field, tuple(changes), matrix, old, new, scheme)


def _areas(frame: gpd.GeoDataFrame, crs: CRS | None) -> dict[int, float]:
    if frame.empty or crs is None:
        return {int(f): 0.0 for f in frame.index}
    geoms = np.asarray(frame.geometry.values, dtype=object)
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    geoms[bad] = shapely.make_valid(geoms[bad])
    return dict(
        zip(frame.index.astype(int).tolist(), ellipsoidal_area_m2(geoms, crs).tolist(), strict=True)
    )


def _by_key(frame: gpd.GeoDataFrame, key_field: str | None) -> dict[str, int]:
    if key_field is None:
        return {}
    out: dict[str, int] = {}
    for fid, value in zip(frame.index, frame[key_field], strict=True):
        if isinstance(value, str) and value.strip():
            out.setdefault(value, int(fid))
    return out


def _keys(frame: gpd.GeoDataFrame, key_field: str | None) -> dict[int, str | None]:
    """The id-field value of each feature (``None`` when blank or without an id field)."""
    if key_field is None:
        return dict.fromkeys(frame.index.tolist())
    return {
        int(f): (v if isinstance(v, str) and v.strip() else None)
        for f, v in zip(frame.index.tolist(), frame[key_field].tolist(), strict=True)
    }


def _same(a: Any, b: Any) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    return bool(a == b)


def _same_geometry(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return bool(shapely.equals_exact(a, b, tolerance=0.0) or shapely.equals(a, b))


def _by_code(frame: gpd.GeoDataFrame, code_field: str) -> tuple[np.ndarray, list[str]]:
    """Valid geometries and their codes; dissolved by code if any two of them overlap."""
    geoms = shapely.make_valid(np.asarray(frame.geometry.values, dtype=object))
    codes = [str(c) if isinstance(c, str) else NONE_CODE for c in frame[code_field]]
    if len(geoms) < 2:
        return geoms, codes
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    shared = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
    if not (shared > 1e-9).any():
        return geoms, codes  # a tiling (the usual case): nothing to dissolve
    kinds = sorted(set(codes))
    code_arr = np.asarray(codes, dtype=object)
    dissolved = np.asarray([shapely.union_all(geoms[code_arr == k]) for k in kinds], dtype=object)
    return dissolved, kinds


def _covered(
    owner: np.ndarray, parts: np.ndarray, areas: np.ndarray, n: int, crs: CRS
) -> np.ndarray:
    """Area of each feature covered by its intersection parts: the sum of the parts, or the
    area of their union where the other side's features overlap one another."""
    covered = np.bincount(owner, weights=areas, minlength=n)
    counts = np.bincount(owner, minlength=n)
    for k in np.flatnonzero(counts > 1).tolist():
        mine = parts[owner == k]
        if shapely.area(shapely.union_all(mine)) < shapely.area(mine).sum() - 1e-9:
            covered[k] = ellipsoidal_area_m2([shapely.union_all(mine)], crs)[0]
    return covered


def _code_matrix(
    old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, code_field: str, crs: CRS | None
) -> dict[tuple[str, str], float]:
    """Area (m², ellipsoidal) by (old code, new code) over the changed ground.

    Old and new features are intersected; area of old features no new one covers counts as
    (old code → ∅), area of new features over nothing old as (∅ → new code). A side whose
    features overlap one another is first dissolved by code, so shared ground of one code
    is counted once.
    """
    if crs is None:
        return {}
    og, oc = _by_code(old, code_field)
    ng, nc = _by_code(new, code_field)
    matrix: dict[tuple[str, str], float] = {}

    def add(key: tuple[str, str], value: float) -> None:
        if value > 0:
            matrix[key] = matrix.get(key, 0.0) + value

    covered_old = np.zeros(len(og))
    covered_new = np.zeros(len(ng))
    if len(og) and len(ng):
        tree = shapely.STRtree(ng)
        left, right = tree.query(og, predicate="intersects")
        parts = shapely.intersection(og[left], ng[right])
        areas = ellipsoidal_area_m2(parts, crs)
        for i, j, a in zip(left.tolist(), right.tolist(), areas.tolist(), strict=True):
            add((oc[i], nc[j]), a)
        covered_old = _covered(left, parts, areas, len(og), crs)
        covered_new = _covered(right, parts, areas, len(ng), crs)
    # What no counterpart covers appeared or disappeared.
    for i, rest in enumerate((ellipsoidal_area_m2(og, crs) - covered_old).tolist()):
        add((oc[i], NONE_CODE), rest)
    for j, rest in enumerate((ellipsoidal_area_m2(ng, crs) - covered_new).tolist()):
        add((NONE_CODE, nc[j]), rest)
    # Tiny areas from floating-point noise along shared edges are not changes.
    return {k: v for k, v in matrix.items() if v >= 1e-6}
