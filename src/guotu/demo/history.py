"""The demo county's five-year history (规划实施监测): yearly land-survey updates with planted
changes, and statistics, all with known answers.

The current survey (``DLTB.shp``) is the 2025 update. The updates of 2021–2024 are the same
patches with the planted changes undone, each with its own 数据年份 (SJNF):

* **occupation** (耕地被占用): eight patches that are construction land today (住宅, 工业,
  商服 …) were 旱地 (0103) until the update of their year (two a year, 2022–2025);
* **supplement** (补充耕地): up to three 耕地 patches inside the land-consolidation projects
  were 其他草地 (0404) until the 2023 update (the projects' acceptance).

So 耕地保有量 falls each year by the occupied area and rises in 2023 by the supplemented area,
and 建设用地总面积 rises by the occupied area: the manifest lists every change with its
ellipsoidal area, and the expected change of each indicator per year. The plan's targets
(``规划目标.xlsx``) and the statuses they give are made by :mod:`guotu.demo.targets`;
``社会经济统计.xlsx`` gives population, water use and GDP by year (:func:`statistics_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from guotu.demo.manifest import Item

__all__ = [
    "HISTORY_YEARS",
    "SURVEY_PLAN",
    "History",
    "SurveyChange",
    "plan_history",
    "statistics_rows",
    "survey_label",
    "survey_valid_from",
]

#: The plan the yearly survey updates are recorded in.
SURVEY_PLAN = "示范县年度国土变更调查"
#: Years of the survey updates (the last is the current ``DLTB.shp``).
HISTORY_YEARS = (2021, 2022, 2023, 2024, 2025)
_OCCUPIED = ("0701", "0702", "0601", "05H1", "08H1", "0508")
_CULTIVATED = ("0101", "0102", "0103")
_NAMES = {"0103": "旱地", "0404": "其他草地"}


def survey_label(year: int) -> str:
    """Version label of a yearly update.

    Examples
    --------
    >>> survey_label(2023)
    '2023年度国土变更调查'
    """
    return f"{year}年度国土变更调查"


def survey_valid_from(year: int) -> date:
    """The update's 统一时点 (31 December of its year)."""
    return date(year, 12, 31)


@dataclass(frozen=True)
class SurveyChange:
    """One planted change of the survey: patch ``bsm`` had ``code_before`` until the update
    of ``year``, and ``code_after`` from then on."""

    year: int
    bsm: str
    kind: str  # occupation | supplement
    code_before: str
    code_after: str
    area_m2: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "year": self.year,
            "bsm": self.bsm,
            "kind": self.kind,
            "code_before": self.code_before,
            "code_after": self.code_after,
            "area_m2": self.area_m2,
        }


@dataclass
class History:
    """The planted history: earlier survey frames, changes, targets and statistics."""

    frames: dict[int, gpd.GeoDataFrame]
    changes: list[SurveyChange]
    targets: list[dict[str, Any]] = field(default_factory=list)
    statistics: list[dict[str, Any]] = field(default_factory=list)
    expected: dict[str, Any] = field(default_factory=dict)
    ledger: dict[str, Any] = field(default_factory=dict)
    geoms: dict[str, Any] = field(default_factory=dict)
    #: The yearly net loss of 耕地 at the planted pace (ha, at least 0.01).
    yearly_loss_ha: float = 0.01

    def manifest(self) -> dict[str, Any]:
        """The ``history`` section of the manifest."""
        return {
            "plan": SURVEY_PLAN,
            "versions": [
                {
                    "year": y,
                    "label": survey_label(y),
                    "valid_from": survey_valid_from(y).isoformat(),
                    "file": (
                        f"年度变更调查/DLTB_{y}.shp" if y != HISTORY_YEARS[-1] else "DLTB.shp"
                    ),
                }
                for y in HISTORY_YEARS
            ],
            "changes": [c.to_dict() for c in self.changes],
            "targets_file": "规划目标.xlsx",
            "statistics_file": "社会经济统计.xlsx",
            "targets": self.targets,
            "expected": self.expected,
            "ledger": self.ledger,
        }


def _avoid(items: list[Item]) -> set[str]:
    out: set[str] = set()
    for item in items:
        if item.layer == "DLTB":
            out.update(item.features)
        if item.other_layer == "DLTB":
            out.update(item.other_features)
    return out


def plan_history(
    dltb: gpd.GeoDataFrame,
    consolidation: gpd.GeoDataFrame,
    items: list[Item],
    seed: int,
    areas_m2: np.ndarray,
) -> History:
    """Choose the planted changes and build the 2021–2024 survey frames.

    ``areas_m2`` are the patches' ellipsoidal areas (full precision), in ``dltb`` order.
    """
    rng = np.random.default_rng([seed, 6])
    avoid = _avoid(items)
    codes = dltb["DLBM"].astype(str).to_numpy()
    bsm = dltb["BSM"].astype(str).to_numpy()
    free = ~np.isin(bsm, list(avoid))
    occupied = np.flatnonzero(np.isin(codes, _OCCUPIED) & free)
    picked = np.sort(rng.choice(occupied, size=min(8, len(occupied)), replace=False))
    years = [2022, 2022, 2023, 2023, 2024, 2024, 2025, 2025][: len(picked)]
    changes = [
        SurveyChange(
            y, str(bsm[i]), "occupation", "0103", str(codes[i]), round(float(areas_m2[i]), 6)
        )
        for y, i in zip(years, picked, strict=True)
    ]
    if len(consolidation):
        scope = shapely.union_all(np.asarray(consolidation.geometry.values, dtype=object))
        geoms = np.asarray(dltb.geometry.values, dtype=object)
        cultivated = np.flatnonzero(np.isin(codes, _CULTIVATED) & free)
        inside = shapely.area(shapely.intersection(geoms[cultivated], scope))
        share = inside / np.maximum(shapely.area(geoms[cultivated]), 1e-9)
        candidates = cultivated[share > 0.99]
        for i in candidates[:3]:
            changes.append(
                SurveyChange(
                    2023,
                    str(bsm[i]),
                    "supplement",
                    "0404",
                    str(codes[i]),
                    round(float(areas_m2[i]), 6),
                )
            )
    row_of = {b: k for k, b in enumerate(bsm)}
    frames: dict[int, gpd.GeoDataFrame] = {}
    for year in HISTORY_YEARS[:-1]:
        frame = dltb.copy()
        dl = frame["DLBM"].astype(str).to_numpy().copy()
        mc = frame["DLMC"].astype(str).to_numpy().copy()
        for c in changes:
            if c.year > year:
                dl[row_of[c.bsm]] = c.code_before
                mc[row_of[c.bsm]] = _NAMES[c.code_before]
        frame["DLBM"] = dl
        frame["DLMC"] = mc
        frame["SJNF"] = np.full(len(frame), year, dtype=np.int64)  # 数据年份: its own year
        frames[year] = frame
    history = History(frames, changes)
    history.geoms = {c.bsm: dltb.geometry.values[row_of[c.bsm]] for c in changes}
    _consolidation_story(history, consolidation)
    _expected_changes(history)
    history.statistics = statistics_rows()
    return history


def _consolidation_story(history: History, consolidation: gpd.GeoDataFrame) -> None:
    """Make the consolidation projects tell the planted story: the project that holds the
    supplemented patches finished in 2023 with exactly that 新增耕地; another one reports
    100 % progress but no farmland was added in it (a planted shortfall). The ledger does not
    balance: more was occupied than supplemented (占多补少)."""
    if not len(consolidation):
        return
    scope = np.asarray(consolidation.geometry.values, dtype=object)
    added = np.zeros(len(scope))
    for c in history.changes:
        if c.kind == "supplement":
            added[
                int(np.argmax(shapely.area(shapely.intersection(scope, history.geoms[c.bsm]))))
            ] += c.area_m2
    done = int(np.argmax(added)) if added.any() else 0
    short = next((k for k in range(len(scope)) if k != done), None)
    updates: dict[int, dict[str, float]] = {
        done: {"XZGDMJ": round(float(added[done]), 2), "JD": 100.0}
    }
    if short is not None:
        updates[short] = {"JD": 100.0}
    for k, values in updates.items():
        for col, v in values.items():
            consolidation.loc[consolidation.index[k], col] = v
    occupied = sum(c.area_m2 for c in history.changes if c.kind == "occupation")
    supplemented = sum(c.area_m2 for c in history.changes if c.kind == "supplement")
    xmdm = consolidation["XMDM"].astype(str).tolist()
    history.ledger = {
        "occupied_m2": round(occupied, 6),
        "supplemented_m2": round(supplemented, 6),
        "balanced": supplemented >= occupied,
        "completed_project": xmdm[done],
        "completed_new_farmland_m2": round(float(added[done]), 6),
        "shortfall_project": None if short is None else xmdm[short],
    }


def _expected_changes(history: History) -> None:
    """The expected per-year changes of 耕地保有量 and 建设用地总面积 (ha), and the pace of
    the 耕地 loss the targets are set against."""
    occupied = {
        y: sum(c.area_m2 for c in history.changes if c.kind == "occupation" and c.year == y) / 1e4
        for y in HISTORY_YEARS
    }
    supplemented = {
        y: sum(c.area_m2 for c in history.changes if c.kind == "supplement" and c.year == y) / 1e4
        for y in HISTORY_YEARS
    }
    history.yearly_loss_ha = max(sum(occupied.values()) / 4, 0.01)
    history.expected = {
        "cultivated_land_change_ha": {
            str(y): round(supplemented[y] - occupied[y], 6) for y in HISTORY_YEARS[1:]
        },
        "construction_land_total_change_ha": {
            str(y): round(occupied[y], 6) for y in HISTORY_YEARS[1:]
        },
    }


def statistics_rows() -> list[dict[str, Any]]:
    """社会经济统计.xlsx: a row per year 2021–2025. About 300 000 residents (53–56 % urban),
    water use about 240 m³ per resident (0.70–0.74 亿立方米, as in the plains of Shandong) and
    GDP about 90 000 yuan per resident.

    Examples
    --------
    >>> statistics_rows()[-1]["用水总量（亿立方米）"]
    0.74
    """
    return [
        {
            "年份": y,
            "常住人口（人）": 300_000 + 2_000 * k,
            "城镇常住人口（人）": 160_000 + 3_000 * k,
            "用水总量（亿立方米）": round(0.70 + 0.01 * k, 2),
            "地区生产总值（万元）": 2_400_000 + 150_000 * k,
        }
        for k, y in enumerate(HISTORY_YEARS)
    ]
