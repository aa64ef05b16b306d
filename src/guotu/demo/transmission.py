"""传导 in the demo: detailed-plan codes that agree with the master plan, and unit totals.

The review engine checks every detailed-plan parcel with a construction code against the
master-plan (GHYD) code covering the largest part of it, through the pack's
``use_compatibility`` table (:mod:`guotu.domain.review.compat`), and sums each unit's parcels
by class against the unit's allocations. The demo draws parcel codes only among those the
master plan admits, keeps 留白 (16) within its share and derives the unit allocations from the
parcels, so only the planted conflicts break a rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry import Polygon

from guotu.demo.classes import XXGHDK_CODES, draw_codes
from guotu.demo.manifest import CRS_EPSG, to_workspace
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.domain.review.compat import is_compatible
from guotu.errors import RulePackError
from guotu.io.safe_yaml import load_yaml

__all__ = [
    "RESERVE_MAX_SHARE_PCT",
    "MasterPlan",
    "admits",
    "compatible_codes",
    "master_uses",
    "parcel_areas_m2",
    "reserve_share_pct",
    "residential_totals",
    "trim_reserve",
    "unit_allocations",
    "use_compatibility",
]

Geoms = npt.NDArray[np.object_]
Floats = npt.NDArray[np.float64]

#: 用地用海 level-1 classes of 建设用地 (the rule pack's ``construction`` set).
CONSTRUCTION = tuple(f"{i:02d}" for i in range(6, 17))
#: The pack warns when 留白用地 (16) exceeds this share of a unit's parcel area.
RESERVE_MAX_SHARE_PCT = 15.0
#: Master-plan codes covering within this share of the largest one also bind a parcel, so a
#: near tie cannot make the engine's "dominant" code differ from ours.
_TIE_SHARE = 0.01


@dataclass(frozen=True)
class MasterPlan:
    """The master plan (GHYD) as the detailed plan sees it: local-metre geometries, codes
    and BSM."""

    geoms: Geoms
    codes: npt.NDArray[np.object_]
    bsm: npt.NDArray[np.object_]

    def covering(self, geom: Polygon) -> str:
        """BSM of the one master-plan feature that covers ``geom`` wholly."""
        hits = shapely.STRtree(self.geoms).query(geom, predicate="covered_by")
        assert len(hits) == 1, hits
        return str(self.bsm[int(hits[0])])


@lru_cache(maxsize=1)
def use_compatibility() -> dict[str, tuple[str, ...]]:
    """``tables.use_compatibility`` of the bundled ``cn-base`` rule pack."""
    shipped = (resources.files("guotu") / "rulesets" / "cn-base.yaml").read_bytes()
    pack = load_yaml(
        ("guotu/rulesets/cn-base.yaml", shipped),
        what_zh="规则包",
        what_en="rule pack",
        error=RulePackError,
    )
    table = pack["tables"]["use_compatibility"]
    return {str(k): tuple(str(v) for v in vals) for k, vals in table.items()}


def master_uses(
    geoms: Geoms, master_geoms: Geoms, master_codes: npt.NDArray[Any]
) -> list[tuple[str, ...]]:
    """Master-plan codes binding each parcel: the code covering the largest part first,
    then any code within :data:`_TIE_SHARE` of it (empty when nothing covers the parcel)."""
    a, b = shapely.STRtree(master_geoms).query(geoms)
    area = shapely.area(shapely.intersection(geoms[a], shapely.make_valid(master_geoms[b])))
    keep = area > 0
    frame = pd.DataFrame(
        {
            "parcel": a[keep],
            "code": np.asarray(master_codes, dtype=object)[b[keep]],
            "area": area[keep],
        }
    )
    by_code = frame.groupby(["parcel", "code"], sort=True)["area"].sum().reset_index()
    by_code = by_code.sort_values(
        ["parcel", "area", "code"], ascending=[True, False, True], kind="stable"
    )
    top = by_code.groupby("parcel")["area"].transform("max")
    own = shapely.area(geoms)[by_code["parcel"].to_numpy()]
    binding = by_code[by_code["area"].to_numpy() >= top.to_numpy() - _TIE_SHARE * own]
    out: list[tuple[str, ...]] = [()] * len(geoms)
    for parcel, group in binding.groupby("parcel", sort=True):
        out[int(parcel)] = tuple(str(c) for c in group["code"])
    return out


def _admitted(
    masters: tuple[str, ...], table: Mapping[str, Sequence[str]]
) -> tuple[tuple[str, float], ...]:
    entries = tuple(
        (c, w) for c, w in XXGHDK_CODES if all(is_compatible(c, m, table) for m in masters)
    )
    if entries or not masters:
        return entries
    return tuple((c, w) for c, w in XXGHDK_CODES if is_compatible(c, masters[0], table))


def compatible_codes(
    masters: Sequence[tuple[str, ...]], rng: np.random.Generator
) -> npt.NDArray[np.object_]:
    """A detailed-plan code for each parcel, drawn (weights renormalised) from the entries
    of :data:`~guotu.demo.classes.XXGHDK_CODES` its master-plan codes admit; a parcel whose
    master code admits none of them (a non-construction use) takes that code itself."""
    table = use_compatibility()
    keys = np.array(["|".join(m) for m in masters], dtype=object)
    out = np.empty(len(masters), dtype=object)
    for key in sorted(set(keys.tolist())):
        sel = np.flatnonzero(keys == key)
        ms = tuple(key.split("|")) if key else ()
        entries = _admitted(ms, table) if ms else XXGHDK_CODES
        out[sel] = draw_codes(entries, len(sel), rng) if entries else ms[0]
    return out


def admits(code: str, masters: Sequence[tuple[str, ...]]) -> npt.NDArray[np.bool_]:
    """Whether each parcel's master-plan codes admit ``code``."""
    table = use_compatibility()
    return np.array([bool(m) and all(is_compatible(code, c, table) for c in m) for m in masters])


def parcel_areas_m2(geoms: Geoms) -> Floats:
    """Ellipsoidal areas (EPSG:4527, unrounded) of local-metre geometries."""
    return np.asarray(
        ellipsoidal_area_m2(to_workspace(geoms), CRS.from_user_input(CRS_EPSG)), dtype=np.float64
    )


def _starts(codes: npt.NDArray[Any], prefixes: tuple[str, ...]) -> npt.NDArray[np.bool_]:
    return np.array([str(c).startswith(prefixes) for c in codes], dtype=bool)


def _unit_sums(
    area: Floats, unit_of: npt.NDArray[np.intp], mask: npt.NDArray[np.bool_], n_units: int
) -> Floats:
    sums = np.bincount(unit_of, weights=np.where(mask, area, 0.0), minlength=n_units)
    return np.asarray(sums, dtype=np.float64)


def reserve_share_pct(
    area: Floats, unit_of: npt.NDArray[np.intp], codes: npt.NDArray[Any], n_units: int
) -> Floats:
    """Share (%) of 留白用地 (16) in each unit's parcel area."""
    total = _unit_sums(area, unit_of, np.ones(len(area), dtype=bool), n_units)
    reserve = _unit_sums(area, unit_of, _starts(codes, ("16",)), n_units)
    return np.divide(100.0 * reserve, total, out=np.zeros(n_units), where=total > 0)


def trim_reserve(
    area: Floats, unit_of: npt.NDArray[np.intp], codes: npt.NDArray[Any], n_units: int
) -> None:
    """Recode 16 parcels to 1401 (admitted wherever 16 is), largest first, until no unit's
    留白 share exceeds :data:`RESERVE_MAX_SHARE_PCT` (with a margin of 0.5 points)."""
    limit = RESERVE_MAX_SHARE_PCT - 0.5
    share = reserve_share_pct(area, unit_of, codes, n_units)
    for unit in np.flatnonzero(share > limit):
        mine = np.flatnonzero((unit_of == unit) & _starts(codes, ("16",)))
        for parcel in mine[np.argsort(-area[mine], kind="stable")]:
            codes[parcel] = "1401"
            if reserve_share_pct(area, unit_of, codes, n_units)[unit] <= limit:
                break
    assert (reserve_share_pct(area, unit_of, codes, n_units) <= limit).all()


def unit_allocations(
    area: Floats, unit_of: npt.NDArray[np.intp], codes: npt.NDArray[Any], n_units: int
) -> dict[str, Floats]:
    """Unit allocations (m², 0.01) from the parcels: 建设用地 and 居住 caps at or above their
    totals, 公共服务 and 绿地 floors at or below.

    JSYDGM is the construction total (06–16 but 14) rounded up to 0.01 m²; JZYDGM the
    residential (07) total plus 5 %, rounded up to 100 m²; GGFWYDGM (08) and LDKJYDGM (14)
    their totals less 5 %, rounded down to 100 m².
    """
    built = _starts(codes, CONSTRUCTION) & ~_starts(codes, ("14",))
    jsyd = np.ceil(np.round(_unit_sums(area, unit_of, built, n_units) * 100, 6)) / 100
    jzyd = _unit_sums(area, unit_of, _starts(codes, ("07",)), n_units)
    ggfw = _unit_sums(area, unit_of, _starts(codes, ("08",)), n_units)
    ldkj = _unit_sums(area, unit_of, _starts(codes, ("14",)), n_units)
    return {
        "JSYDGM": np.round(jsyd, 2),
        "JZYDGM": np.ceil(jzyd * 1.05 / 100) * 100,
        "GGFWYDGM": np.maximum(0.0, np.floor(ggfw * 0.95 / 100) * 100),
        "LDKJYDGM": np.maximum(0.0, np.floor(ldkj * 0.95 / 100) * 100),
    }


def residential_totals(
    area: Floats, unit_of: npt.NDArray[np.intp], codes: npt.NDArray[Any], n_units: int
) -> Floats:
    """Residential (07) parcel area of each unit, m² (unrounded)."""
    return _unit_sums(area, unit_of, _starts(codes, ("07",)), n_units)
