"""The detailed plan inside the development boundary, and the project layers.

* XXGHDY: 500 m × 500 m units tiling the 城镇集中建设区.
* XXGHDK: each unit split by jittered integer breaks into about ``parcels / 10`` rectangles,
  with land-use codes and control indicators; unit caps are derived from their parcels.
* JSXM: approved projects on detailed-plan parcels, plus one outside the county.
* BHTB: change patches; most lie inside an approved project, five planted ones do not (no
  project, on farmland, in the red line, inside the boundary; one approved after the image).
* TDZZXM: land-consolidation projects on general farmland blocks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry import Polygon, box

from guotu.demo.classes import ydyh_name
from guotu.demo.layout import COUNTY_CODE, SITES, TOWNS, UDB_ZONES, Layout
from guotu.demo.manifest import Item, workspace_frame
from guotu.demo.planted import FARM_BSM
from guotu.demo.transmission import (
    MasterPlan,
    admits,
    compatible_codes,
    master_uses,
    parcel_areas_m2,
    residential_totals,
    trim_reserve,
    unit_allocations,
)

__all__ = ["DetailedPlan", "make_detailed_plan"]

Geoms = npt.NDArray[np.object_]
Floats = npt.NDArray[np.float64]

_UNIT_M = 500
_NAN = float("nan")
#: Control indicators by code: RJL, JZMD (%), LDL (%), JZXG (m) as (low, high); NaN = none.
_INDICATORS: dict[str, tuple[float, ...]] = {
    "070102": (1.2, 2.8, 18, 28, 30, 40, 24, 80),
    "0702": (0.8, 1.5, 25, 35, 25, 35, 15, 24),
    "0801": (0.8, 2.0, 25, 35, 30, 40, 24, 50),
    "080403": (0.6, 1.2, 20, 30, 35, 40, 15, 24),
    "0806": (1.0, 2.0, 25, 35, 35, 40, 24, 50),
    "090101": (1.5, 3.5, 35, 50, 20, 30, 24, 100),
    "0902": (2.0, 4.0, 35, 50, 20, 30, 50, 100),
    "100101": (1.0, 2.0, 40, 60, 10, 20, 15, 30),
    "1101": (1.0, 1.5, 40, 55, 10, 20, 15, 24),
    "1303": (0.5, 1.0, 30, 40, 20, 30, 10, 15),
    "1401": (_NAN, _NAN, _NAN, _NAN, 65, 85, _NAN, _NAN),
}
_PROJECT_TYPE = {
    "070102": ("住宅", "70"),
    "0702": ("公共服务", "82"),
    "0801": ("公共服务", "82"),
    "080403": ("教育", "83"),
    "0806": ("医疗卫生", "84"),
    "090101": ("商业", "72"),
    "0902": ("商务办公", "72"),
    "100101": ("工业", "36"),
    "1101": ("仓储", "59"),
    "1303": ("公用设施", "44"),
}
#: The planted 传导 conflict: industry where the master plan says housing.
_TRANSMISSION_CODE = "100101"
#: The planted unit's residential allocation is this much below its residential parcels.
_UNIT_DEFICIT_M2 = 2500.0
_PTSS = np.array(["", "幼儿园", "社区服务站", "垃圾收集站", "公共厕所", "配电室"])
#: Image dates of the change detection (前时相/后时相).
QSXRQ = dt.date(2024, 10, 15)
HSXRQ = dt.date(2025, 4, 20)
#: Approval date of the project planted as built before approval (after HSXRQ).
_LATE_APPROVAL = dt.date(2025, 8, 15)
#: Projects are approved on the detailed plan, so after it is in force (2024-03-15): their
#: approval dates are spread over these days (the seeded draw keeps its former range).
APPROVALS_FROM, APPROVALS_TO = dt.date(2024, 4, 1), dt.date(2025, 3, 31)
_DRAW_DAYS = (dt.date(2025, 3, 31) - dt.date(2021, 1, 1)).days
#: 配套设施 a parcel may carry: those serving residents only on housing (07) and public
#: service (08) parcels; the rest on any parcel with buildings (one with a floor-area ratio).
_RESIDENT_FACILITIES = ("幼儿园", "社区服务站")


@dataclass
class DetailedPlan:
    """Geometries (local metres) and columns of XXGHDY, XXGHDK, JSXM, BHTB and TDZZXM."""

    geoms: dict[str, Geoms]
    columns: dict[str, dict[str, Any]]
    items: list[Item] = field(default_factory=list)

    def layers(self) -> dict[str, Any]:
        """The layers as GeoDataFrames in EPSG:4527."""
        return {name: workspace_frame(self.geoms[name], self.columns[name]) for name in self.geoms}


def _indicators(codes: npt.NDArray[Any], rng: np.random.Generator) -> dict[str, Floats]:
    """RJL, JZMD, LDL and JZXG drawn within the ranges of each parcel's code."""
    table = np.array([_INDICATORS.get(c, (_NAN,) * 8) for c in codes], dtype=np.float64)
    table = table.reshape(len(codes), 8)
    u = rng.uniform(0, 1, (len(codes), 4))
    lo, hi = table[:, 0::2], table[:, 1::2]
    val = lo + u * (hi - lo)
    return {
        "RJL": np.round(val[:, 0], 1),
        "JZMD": np.round(val[:, 1]),
        "LDL": np.round(val[:, 2]),
        "JZXG": np.round(val[:, 3]),
    }


def _units() -> tuple[Geoms, Floats, Floats]:
    """500 m squares tiling the 城镇集中建设区 (its edges lie on the 500 m grid)."""
    core = UDB_ZONES[0][2]
    xmin, ymin, xmax, ymax = core.bounds
    mx, my = np.meshgrid(np.arange(xmin, xmax, _UNIT_M), np.arange(ymin, ymax, _UNIT_M))
    gx, gy = mx.ravel(), my.ravel()
    squares = shapely.box(gx, gy, gx + _UNIT_M, gy + _UNIT_M)
    inside = shapely.contains(core.buffer(1e-6), squares)
    return squares[inside], gx[inside], gy[inside]


def _breaks(n_units: int, k: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Integer split positions 0 = b0 < b1 < … < bk = 500 in each unit, (n_units, k + 1)."""
    inner = (np.arange(1, k) + rng.uniform(-0.3, 0.3, (n_units, k - 1))) * _UNIT_M / k
    return np.column_stack([np.zeros(n_units), np.round(inner), np.full(n_units, _UNIT_M)])


def _town_at(lay: Layout, geoms: Geoms) -> npt.NDArray[np.object_]:
    """Town code at a point on each geometry (county code when outside every town)."""
    out = np.full(len(geoms), COUNTY_CODE, dtype=object)
    g, t = shapely.STRtree(lay.towns).query(shapely.point_on_surface(geoms), predicate="within")
    out[g] = np.array([x[0] for x in TOWNS], dtype=object)[t]
    return out


def make_detailed_plan(
    parcels: int, lay: Layout, master: MasterPlan, rng: np.random.Generator
) -> DetailedPlan:
    """Units, parcels, projects, change patches and consolidation projects.

    Parameters
    ----------
    parcels
        The county's parcel count; the detailed plan gets about a tenth of it.
    lay
        The county layout.
    master
        The master plan (GHYD): every parcel's code is one the master-plan use covering
        most of it admits (:mod:`guotu.demo.transmission`).
    rng
        The seeded generator.

    Returns
    -------
    DetailedPlan
        Geometries, columns and manifest items.
    """
    units, ux, uy = _units()
    n_units = len(units)
    dybh = np.array([f"CG{i + 1:03d}" for i in range(n_units)], dtype=object)
    k = max(1, round(float(np.sqrt(max(300, parcels // 10) / n_units))))
    xb, yb = _breaks(n_units, k, rng), _breaks(n_units, k, rng)
    # Parcel (u, j, i): row j (south to north), column i (west to east) of unit u.
    x0 = np.broadcast_to(ux[:, None, None] + xb[:, None, :-1], (n_units, k, k)).ravel()
    x1 = np.broadcast_to(ux[:, None, None] + xb[:, None, 1:], (n_units, k, k)).ravel()
    y0 = np.broadcast_to(uy[:, None, None] + yb[:, :-1, None], (n_units, k, k)).ravel()
    y1 = np.broadcast_to(uy[:, None, None] + yb[:, 1:, None], (n_units, k, k)).ravel()
    unit_of = np.repeat(np.arange(n_units), k * k)
    geoms = shapely.box(x0, y0, x1, y1)
    n = len(geoms)
    dkbh = np.array(
        [f"{dybh[u]}-{m % (k * k) + 1:03d}" for m, u in enumerate(unit_of)], dtype=object
    )
    # The unit lying wholly under one residential master-plan parcel (planted 传导 conflict).
    tx, ty = SITES["transmission_unit"][:2]
    tu = int(np.flatnonzero((ux == tx) & (uy == ty))[0])

    # Planted: a parcel reaching into the next unit east, by a rectangle E.
    east = {(float(x), float(y)): i for i, (x, y) in enumerate(zip(ux, uy, strict=True))}
    pairs = [
        (a, east[(ux[a] + _UNIT_M, uy[a])])
        for a in range(n_units)
        if (ux[a] + _UNIT_M, uy[a]) in east and tu not in (a, east[(ux[a] + _UNIT_M, uy[a])])
    ]
    ua, ub = pairs[int(rng.integers(len(pairs)))]
    p = ua * k * k + int(rng.integers(k)) * k + (k - 1)  # easternmost column of unit a
    rows_b = ub * k * k + np.arange(k) * k  # westernmost column of unit b
    overlap = np.minimum(y1[p], y1[rows_b]) - np.maximum(y0[p], y0[rows_b])
    q = int(rows_b[int(np.argmax(overlap))])
    e_w = float(max(1.0, min(40.0, np.floor((x1[q] - x0[q]) / 2))))
    e_y0, e_y1 = max(y0[p], y0[q]), min(y1[p], y1[q])
    reach = box(x0[q], e_y0, x0[q] + e_w, e_y1)
    geoms[p] = shapely.union(geoms[p], reach)
    geoms[q] = shapely.difference(geoms[q], reach)
    ptss = _PTSS[np.where(rng.uniform(0, 1, n) < 0.15, rng.integers(1, len(_PTSS), n), 0)]

    # Codes the master plan admits (传导), then the planted exceptions.
    masters = master_uses(geoms, master.geoms, master.codes)
    codes = compatible_codes(masters, rng)
    area = parcel_areas_m2(geoms)

    # Planted: four parcels in four other units become housing with a problem each (only
    # where the master plan admits housing), and a fifth unit gets an empty parcel record.
    housing = admits("070102", masters)
    housing[[p, q]] = False
    eligible = np.setdiff1d(np.unique(unit_of[housing]), [ua, ub, tu])
    chosen_units = rng.choice(eligible, size=5, replace=False)
    special = np.array(
        [int(rng.choice(np.flatnonzero(housing & (unit_of == u)))) for u in chosen_units[:4]]
    )
    codes[special] = "070102"
    # Planted 传导 conflict: an industrial parcel under the residential master-plan parcel.
    t = int(tu * k * k + rng.integers(k * k))
    codes[t] = _TRANSMISSION_CODE
    trim_reserve(area, unit_of, codes, n_units)

    ind = _indicators(codes, rng)
    ptss = _facilities_by_use(ptss, codes, ind["RJL"])
    rjl0, ldl120, no_dkbh, over_cap = (int(i) for i in special)
    ind["RJL"][rjl0] = 0.0
    ind["LDL"][ldl120] = 120.0

    caps = _unit_caps(unit_of, ind, n_units)
    cap = float(caps["RJL"][unit_of[over_cap]])
    ind["RJL"][over_cap] = round(cap + 0.8, 1)
    bsm = np.array([f"DK{i + 1:07d}" for i in range(n)], dtype=object)
    dkbh_missing = bsm[no_dkbh]
    dkbh[no_dkbh] = ""

    # Unit allocations from the parcels; planted: one unit's residential cap D m² too low.
    alloc = unit_allocations(area, unit_of, codes, n_units)
    residential = residential_totals(area, unit_of, codes, n_units)
    quiet = np.setdiff1d(
        np.flatnonzero(residential >= 4 * _UNIT_DEFICIT_M2), [ua, ub, tu, *chosen_units]
    )
    short = int(rng.choice(quiet))
    res_total = round(float(residential[short]), 2)
    alloc["JZYDGM"][short] = round(res_total - _UNIT_DEFICIT_M2, 2)

    # Planted: an extra parcel record with an empty geometry.
    empty_unit = int(chosen_units[4])
    empty_dkbh = f"{dybh[empty_unit]}-900"
    dk_geoms = np.append(geoms, np.array([Polygon()], dtype=object))
    dk_cols = {
        "BSM": np.append(bsm, f"DK{n + 1:07d}"),
        "DKBH": np.append(dkbh, empty_dkbh),
        "DYBH": np.append(dybh[unit_of], dybh[empty_unit]),
        "YDYHFLDM": np.append(codes, "070102"),
        "YDYHFLMC": [ydyh_name(c) for c in np.append(codes, "070102")],
        **{f: np.append(v, _NAN) for f, v in ind.items()},
        "PTSS": np.append(ptss, ""),
    }
    town = _town_at(lay, units)
    dy_cols = {
        "DYBH": dybh,
        "DYMC": [f"城关第{i + 1}单元" for i in range(n_units)],
        "XZQDM": town,
        **alloc,
        **caps,
    }

    t_master = masters[t][0]
    items = [
        Item(
            "qc.unit_overflow.1",
            "outside_parent",
            "XXGHDK",
            [str(dkbh[p])],
            f"详细规划地块越出所属单元 {dybh[ua]}，伸入相邻单元 {e_w:g} m × "
            f"{e_y1 - e_y0:g} m = {e_w * (e_y1 - e_y0):g} m²。",
            f"A detailed-plan parcel reaches out of its unit {dybh[ua]} into the next unit by "
            f"{e_w:g} m × {e_y1 - e_y0:g} m = {e_w * (e_y1 - e_y0):g} m².",
            other_layer="XXGHDY",
            other_features=[str(dybh[ua])],
            geometry=reach,
            planar_area_m2=e_w * (e_y1 - e_y0),
        ),
        Item(
            "qc.range.rjl.1",
            "out_of_range",
            "XXGHDK",
            [str(dkbh[rjl0])],
            "容积率为 0（应大于 0）。",
            "RJL (floor-area ratio) is 0; it must be above 0.",
            field="RJL",
            value=0.0,
        ),
        Item(
            "qc.range.ldl.1",
            "out_of_range",
            "XXGHDK",
            [str(dkbh[ldl120])],
            "绿地率为 120%（应在 0–100% 之间）。",
            "LDL (green ratio) is 120 %; it must be 0–100 %.",
            field="LDL",
            value=120.0,
        ),
        Item(
            "qc.required.dkbh.1",
            "missing_required",
            "XXGHDK",
            [str(dkbh_missing)],
            "必填字段地块编号为空（以 BSM 标识该地块；其指标因无法关联而为空）。",
            "The required DKBH is blank (the parcel is identified by BSM; its indicators stay "
            "empty because the table cannot be joined).",
            id_field="BSM",
            field="DKBH",
            value="",
        ),
        Item(
            "qc.empty_geometry.1",
            "empty_geometry",
            "XXGHDK",
            [empty_dkbh],
            "地块记录的几何为空。",
            "A parcel record has an empty geometry.",
        ),
        Item(
            "conflict.rjl_cap.1",
            "above_unit_cap",
            "XXGHDK",
            [str(dkbh[over_cap])],
            f"地块容积率 {ind['RJL'][over_cap]:g} 超过所属单元 {dybh[unit_of[over_cap]]} 的"
            f"容积率上限 {cap:g}。",
            f"The parcel's RJL {ind['RJL'][over_cap]:g} is above the cap {cap:g} of its unit "
            f"{dybh[unit_of[over_cap]]}.",
            other_layer="XXGHDY",
            other_features=[str(dybh[unit_of[over_cap]])],
            field="RJL",
            value=float(ind["RJL"][over_cap]),
            limit=cap,
        ),
        Item(
            "conflict.transmission.use.1",
            "use_incompatible",
            "XXGHDK",
            [str(dkbh[t])],
            f"详细规划地块用地性质为一类工业用地（{_TRANSMISSION_CODE}），而其完全位于总体规划"
            f"{ydyh_name(t_master)}（{t_master}）图斑内，总体规划用途不容许工业。",
            f"A detailed-plan parcel is planned as industry ({_TRANSMISSION_CODE}) but lies "
            f"wholly inside one master-plan parcel of {t_master}, which does not admit "
            "industry.",
            other_layer="GHYD",
            other_features=[master.covering(geoms[t])],
            field="YDYHFLDM",
            value=t_master,
            geometry=geoms[t],
            planar_area_m2=float((x1[t] - x0[t]) * (y1[t] - y0[t])),
        ),
        Item(
            "conflict.unit_total.residential.1",
            "above_unit_allocation",
            "XXGHDY",
            [str(dybh[short])],
            f"单元 {dybh[short]} 的居住用地（07）地块合计 {res_total:.2f} m²，超过单元居住用地"
            f"规模 JZYDGM {alloc['JZYDGM'][short]:.2f} m² 共 {_UNIT_DEFICIT_M2:.2f} m²。",
            f"Unit {dybh[short]}: its residential (07) parcels total {res_total:.2f} m², "
            f"{_UNIT_DEFICIT_M2:.2f} m² above the unit's JZYDGM "
            f"{alloc['JZYDGM'][short]:.2f} m².",
            field="JZYDGM",
            value=res_total,
            limit=float(alloc["JZYDGM"][short]),
        ),
    ]
    taken = np.zeros(n, dtype=bool)
    taken[[p, q, t, *special]] = True
    js_geoms, js_cols, bh_geoms, bh_cols, js_items = _projects(
        parcels, lay, geoms, codes, ind, dkbh, x1 - x0, y1 - y0, taken, rng
    )
    tz_geoms, tz_cols = _consolidation(lay, rng)
    return DetailedPlan(
        {
            "XXGHDY": units,
            "XXGHDK": dk_geoms,
            "JSXM": js_geoms,
            "TDZZXM": tz_geoms,
            "BHTB": bh_geoms,
        },
        {"XXGHDY": dy_cols, "XXGHDK": dk_cols, "JSXM": js_cols, "TDZZXM": tz_cols, "BHTB": bh_cols},
        items + js_items,
    )


def _facilities_by_use(
    ptss: npt.NDArray[Any], codes: npt.NDArray[Any], rjl: Floats
) -> npt.NDArray[Any]:
    """Keep a drawn 配套设施 only where it belongs: none on roads, green space or reserved
    land (no floor-area ratio); a kindergarten or community centre only on 07/08 parcels."""
    out = np.asarray(ptss, dtype=object).copy()
    text = np.asarray(codes).astype(str)
    out[np.isnan(rjl)] = ""
    residents = np.isin(out, _RESIDENT_FACILITIES)
    out[residents & ~(np.char.startswith(text, "07") | np.char.startswith(text, "08"))] = ""
    return out


def _unit_caps(
    unit_of: npt.NDArray[np.intp], ind: dict[str, Floats], n_units: int
) -> dict[str, Floats]:
    """Unit controls from their parcels: RJL/JZMD/JZXG caps above the parcels, LDL below."""
    frame = pd.DataFrame({"unit": unit_of, **ind})
    g = frame.groupby("unit")
    idx = pd.RangeIndex(n_units)
    rjl = np.ceil(g["RJL"].max().reindex(idx).to_numpy() * 10) / 10 + 0.2
    jzmd = np.minimum(100, g["JZMD"].max().reindex(idx).to_numpy() + 5)
    ldl = np.maximum(0, g["LDL"].min().reindex(idx).to_numpy() - 5)
    jzxg = np.ceil(g["JZXG"].max().reindex(idx).to_numpy() / 10) * 10 + 10
    return {
        "RJL": np.round(np.nan_to_num(rjl, nan=1.0), 1),
        "JZMD": np.nan_to_num(jzmd, nan=30.0),
        "LDL": np.nan_to_num(ldl, nan=30.0),
        "JZXG": np.nan_to_num(jzxg, nan=24.0),
    }


def _projects(
    parcels: int,
    lay: Layout,
    geoms: Geoms,
    codes: npt.NDArray[Any],
    ind: dict[str, Floats],
    dkbh: npt.NDArray[Any],
    width: Floats,
    height: Floats,
    taken: npt.NDArray[np.bool_],
    rng: np.random.Generator,
) -> tuple[Geoms, dict[str, Any], Geoms, dict[str, Any], list[Item]]:
    """Approved projects on detailed-plan parcels, and the change patches."""
    ok = np.isin(codes, list(_PROJECT_TYPE)) & ~taken & (width >= 12) & (height >= 12)
    pool = np.flatnonzero(ok)
    n_js = min(len(pool), max(10, parcels // 1000))
    pick = np.sort(rng.choice(pool, size=n_js, replace=False))
    pick = pick[rng.permutation(n_js)]
    kinds = rng.choice(3, size=n_js, p=[0.5, 0.3, 0.2])
    pzlx = np.array(["建设用地规划许可", "建设工程规划许可", "农用地转用"])[kinds]
    days = rng.integers(0, _DRAW_DAYS, n_js)
    span = (APPROVALS_TO - APPROVALS_FROM).days
    pzrq = [APPROVALS_FROM + dt.timedelta(days=int(d) * span // (_DRAW_DAYS - 1)) for d in days]
    # Planted, on two projects without a change patch (odd positions): a floor-area ratio
    # above the parcel's, and a use of another class than the parcel's.
    r_js, u_js = (int(i) for i in rng.choice(np.arange(1, n_js, 2), size=2, replace=False))
    # Planted: another of them approved only after the later image, with a change patch on it
    # (built before approval, 未批先建).
    late = int(next(i for i in range(1, n_js, 2) if i not in (r_js, u_js)))
    pzrq[late] = _LATE_APPROVAL
    js_codes = codes[pick].astype(object)
    parcel_code = str(js_codes[u_js])
    js_codes[u_js] = "090101" if parcel_code.startswith("07") else "070102"
    js_ind = {f: ind[f][pick].copy() for f in ("RJL", "JZMD", "LDL", "JZXG")}
    parcel_rjl = float(js_ind["RJL"][r_js])
    js_ind["RJL"][r_js] = round(parcel_rjl + 0.5, 1)
    xmlx = [_PROJECT_TYPE[c][0] for c in js_codes]
    xmdm = [
        f"{d.year}-{COUNTY_CODE}-{_PROJECT_TYPE[c][1]}-01-{i + 1:06d}"
        for i, (d, c) in enumerate(zip(pzrq, js_codes, strict=True))
    ]
    pzwh = [
        (f"示自然资规许〔{d.year}〕{i + 1}号" if kinds[i] < 2 else f"鲁政土字〔{d.year}〕{i + 1}号")
        for i, d in enumerate(pzrq)
    ]
    out_code = "100101"
    out_xmdm = f"2024-{COUNTY_CODE}-36-01-999001"
    js_geoms = np.append(geoms[pick], np.array([box(*SITES["project_outside"])], dtype=object))
    js_cols = {
        "XMMC": [
            *(f"{d}{t}项目" for d, t in zip(dkbh[pick], xmlx, strict=True)),
            "邻县飞地工业项目",
        ],
        "XMDM": [*xmdm, out_xmdm],
        "XMLX": [*xmlx, "工业"],
        "PZLX": [*pzlx, "建设用地规划许可"],
        "PZWH": [*pzwh, "示自然资规许〔2024〕999号"],
        "PZRQ": [*pzrq, dt.date(2024, 5, 10)],
        "YDYHFLDM": [*js_codes, out_code],
        **{f: np.append(v, _NAN) for f, v in js_ind.items()},
    }
    # Change patches: the first project's parcel shrunk by 2 m (planted, compliant), two
    # planted patches without approval, then every other project's parcel shrunk by 3 m.
    first = js_geoms[0]
    approved = shapely.buffer(first, -2.0, join_style="mitre")
    fx0, fy0, fx1, fy1 = shapely.bounds(first)
    approved_area = (fx1 - fx0 - 4) * (fy1 - fy0 - 4)
    back = np.arange(2, n_js, 2)
    back_geoms = shapely.buffer(js_geoms[back], -3.0, join_style="mitre")
    late_patch = shapely.buffer(js_geoms[late], -3.0, join_style="mitre")
    lx0, ly0, lx1, ly1 = shapely.bounds(js_geoms[late])
    bh_geoms = np.concatenate(
        [
            np.array([approved, box(*SITES["change_plain"]), box(*SITES["farm_change"])], object),
            back_geoms,
            np.array(
                [late_patch, box(*SITES["change_redline"]), box(*SITES["change_udb"])], object
            ),
        ]
    )
    tbbh = [f"BH2025{i + 1:04d}" for i in range(len(bh_geoms))]
    bh_cols = {
        "TBBH": tbbh,
        "QSXRQ": [QSXRQ] * len(tbbh),
        "HSXRQ": [HSXRQ] * len(tbbh),
        "BHLX": ["新增建设用地"] * len(tbbh),
        "XZQDM": _town_at(lay, bh_geoms),
    }
    u_parcel = int(pick[u_js])
    items = [
        Item(
            "conflict.project.rjl.1",
            "above_parcel_condition",
            "JSXM",
            [xmdm[r_js]],
            f"建设项目容积率 {js_ind['RJL'][r_js]:g} 超过所在详细规划地块 {dkbh[pick[r_js]]} "
            f"规划条件 {parcel_rjl:g}。",
            f"The project's RJL {js_ind['RJL'][r_js]:g} is above the planning condition "
            f"{parcel_rjl:g} of its parcel {dkbh[pick[r_js]]}.",
            other_layer="XXGHDK",
            other_features=[str(dkbh[pick[r_js]])],
            field="RJL",
            value=float(js_ind["RJL"][r_js]),
            limit=parcel_rjl,
        ),
        Item(
            "conflict.project.use.1",
            "use_mismatch",
            "JSXM",
            [xmdm[u_js]],
            f"建设项目用地性质 {js_codes[u_js]}（{ydyh_name(js_codes[u_js])}）与所在详细规划地块 "
            f"{dkbh[u_parcel]} 的 {parcel_code}（{ydyh_name(parcel_code)}）不一致（不同大类）。",
            f"The project's use {js_codes[u_js]} differs from {parcel_code} of its parcel "
            f"{dkbh[u_parcel]} (another level-1 class).",
            other_layer="XXGHDK",
            other_features=[str(dkbh[u_parcel])],
            field="YDYHFLDM",
            value=str(js_codes[u_js]),
            limit=parcel_code,
            geometry=geoms[u_parcel],
            planar_area_m2=float(width[u_parcel] * height[u_parcel]),
        ),
        Item(
            "conflict.project.udb_outside.1",
            "outside_urban_boundary",
            "JSXM",
            [out_xmdm],
            "县域外的工业项目（100101）150 m × 100 m 完全位于城镇开发边界之外（与"
            " qc.outside_county.1 为同一项目），15000 m²。",
            "The industrial project (100101) outside the county, 150 m × 100 m, lies wholly "
            "outside the urban development boundary (the project of qc.outside_county.1): "
            "15000 m².",
            other_layer="CZKFBJ",
            other_features=[],
            geometry=box(*SITES["project_outside"]),
            planar_area_m2=15000.0,
        ),
        Item(
            "qc.outside_county.1",
            "outside_boundary",
            "JSXM",
            [out_xmdm],
            "建设项目 150 m × 100 m 完全位于县域行政区范围之外。",
            "A 150 m × 100 m construction project lies wholly outside the county boundary.",
            other_layer="XZQ",
            other_features=[COUNTY_CODE],
            geometry=box(*SITES["project_outside"]),
            planar_area_m2=15000.0,
        ),
        Item(
            "compliant.change.approved.1",
            "approved_construction",
            "BHTB",
            [tbbh[0]],
            f"新增建设变化图斑位于已批建设项目 {xmdm[0]} 范围内（项目地块内缩 2 m），"
            "批准日期早于后时相，合规。",
            f"A new-construction change patch lies inside approved project {xmdm[0]} (its "
            "parcel shrunk by 2 m), approved before the later image: compliant.",
            other_layer="JSXM",
            other_features=[xmdm[0]],
            geometry=approved,
            planar_area_m2=float(approved_area),
        ),
        Item(
            "conflict.change.unapproved.1",
            "unapproved_construction",
            "BHTB",
            [tbbh[1]],
            "新增建设变化图斑 80 m × 60 m = 4800 m² 无任何批准项目（未批先建）。",
            "A new-construction change patch, 80 m × 60 m = 4800 m², has no approved project "
            "(built without approval).",
            other_layer="JSXM",
            other_features=[],
            geometry=box(*SITES["change_plain"]),
            planar_area_m2=4800.0,
        ),
        Item(
            "conflict.change.unapproved_farmland.1",
            "unapproved_construction_on_farmland",
            "BHTB",
            [tbbh[2]],
            "新增建设变化图斑 60 m × 50 m = 3000 m² 位于永久基本农田内，且无批准项目。",
            "A new-construction change patch, 60 m × 50 m = 3000 m², lies on permanent "
            "farmland and has no approved project.",
            other_layer="YJJBNT",
            other_features=[FARM_BSM],
            geometry=box(*SITES["farm_change"]),
            planar_area_m2=3000.0,
        ),
        Item(
            "conflict.change.before_approval.1",
            "built_before_approval",
            "BHTB",
            [tbbh[-3]],
            f"变化图斑位于建设项目 {xmdm[late]} 范围内（项目地块内缩 3 m），但该项目批准日期 "
            f"{_LATE_APPROVAL.isoformat()} 晚于后时相 {HSXRQ.isoformat()}（未批先建）。",
            f"A change patch lies inside project {xmdm[late]} (its parcel shrunk by 3 m), "
            f"approved on {_LATE_APPROVAL.isoformat()}, after the later image of "
            f"{HSXRQ.isoformat()}: built before approval.",
            other_layer="JSXM",
            other_features=[xmdm[late]],
            geometry=late_patch,
            planar_area_m2=float((lx1 - lx0 - 6) * (ly1 - ly0 - 6)),
        ),
        Item(
            "conflict.change.redline.1",
            "unapproved_construction_in_redline",
            "BHTB",
            [tbbh[-2]],
            "新增建设变化图斑 60 m × 50 m = 3000 m² 位于生态保护红线内，且无批准项目。",
            "A new-construction change patch, 60 m × 50 m = 3000 m², lies in the ecological "
            "red line and has no approved project.",
            other_layer="STBHHX",
            other_features=[],
            geometry=box(*SITES["change_redline"]),
            planar_area_m2=3000.0,
        ),
        Item(
            "conflict.change.compliant_unapproved.1",
            "unapproved_construction_compliant",
            "BHTB",
            [tbbh[-1]],
            "新增建设变化图斑 60 m × 50 m = 3000 m² 位于城镇开发边界（弹性发展区）内，不占永久基本"
            "农田与生态保护红线，但无批准项目（符合规划但未批）。",
            "A new-construction change patch, 60 m × 50 m = 3000 m², lies inside the urban "
            "development boundary (flexible zone), off farmland and red line, without an "
            "approved project (compliant but unapproved).",
            other_layer="CZKFBJ",
            other_features=[],
            geometry=box(*SITES["change_udb"]),
            planar_area_m2=3000.0,
        ),
        Item(
            "compliant.change.approved.background",
            "approved_construction",
            "BHTB",
            tbbh[3 : 3 + len(back)],
            "其余变化图斑均位于对应已批项目范围内（项目地块内缩 3 m），合规。",
            "Every other change patch lies inside its approved project (the parcel shrunk by "
            "3 m): compliant.",
            other_layer="JSXM",
            other_features=[xmdm[i] for i in back],
        ),
    ]
    return js_geoms, js_cols, bh_geoms, bh_cols, items


def _consolidation(lay: Layout, rng: np.random.Generator) -> tuple[Geoms, dict[str, Any]]:
    """Land-consolidation projects (高标准农田) on general farmland blocks."""
    geoms = lay.consolidation
    n = len(geoms)
    area = shapely.area(geoms)
    town = _town_at(lay, geoms)
    names = {t[0]: t[1] for t in TOWNS}
    return geoms, {
        "XMMC": [
            f"{names.get(t, '示范县')}高标准农田建设项目（{i + 1}）" for i, t in enumerate(town)
        ],
        # started 2021–2023 (the one accepted in the 2023 survey cannot start later)
        "XMDM": [f"TZ{COUNTY_CODE}{2021 + i % 3}{i + 1:03d}" for i in range(n)],
        "XZGDMJ": np.round(area * rng.uniform(0.02, 0.06, n), 2),
        "JSYDJSMJ": np.round(area * rng.uniform(0.0, 0.01, n), 2),
        "STXFMJ": np.round(area * rng.uniform(0.0, 0.05, n), 2),
        "JD": rng.integers(0, 101, n).astype(np.float64),
    }
