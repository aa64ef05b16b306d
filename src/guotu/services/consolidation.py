"""Land consolidation (全域土地综合整治) tracking and the 耕地占补平衡 ledger.

Everything "achieved" is measured from the yearly land-survey versions, not copied from the
projects' own forms: between two survey versions, the ground whose code changed is
intersected old × new (the features the versions do not share, as ``guotu diff`` finds
them), and each piece is classed:

* **occupied** (占用耕地): 耕地 (0101/0102/0103) before, anything else after;
* **supplemented** (补充耕地): anything else before, 耕地 after;
* **construction reduced** (建设用地减少): 建设用地 (三大类) before, not after;

with its ellipsoidal area and, when the survey carries the cultivated-land quality grade
(``GDDB``, 耕地质量等别, 1 best … 15), its grade. The ledger lists occupied and supplemented
farmland per survey year and cumulatively; it must balance (supplemented ≥ occupied, and not
of worse average grade: 占多补少 and 占优补劣 are warnings). Each consolidation project gets the
supplemented, occupied and construction-reduced ground inside its scope, next to its planned
figures (新增耕地面积 ``XZGDMJ``, 建设用地减少面积 ``JSYDJSMJ``, 生态修复面积 ``STXFMJ``) and its
progress ``JD``, and the overlap of its scope with 三区三线.

Everything is read as of a date (``as_of``) and a record time (``known_at``), like every read
(DESIGN §4): the surveys, the projects and the control lines in force then. A project's
progress is a report made on a date: the valid-from date of the project layer's version that
carries it or, for an undated version, the date of the latest survey version (the state the
figures are checked against: guotu's convention for a progress table delivered without a
date). Before that date the progress was not known, so a report as of an earlier date shows
none and warns of nothing: a project the workspace records as finished was not finished in
2023 just because it is finished now.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import shapely

from guotu.domain.codes.crosswalks import known_three_major_class
from guotu.domain.core.model import Version
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.domain.geometry.overlay import overlay
from guotu.domain.geometry.zone_index import prepare_zones
from guotu.errors import NotFoundError
from guotu.ports import FeatureStore
from guotu.services.diff import diff_versions
from guotu.services.layer_choice import check_chosen_layers, layer_of_role
from guotu.services.workspace import workspace_crs

__all__ = ["ConsolidationReport", "LedgerRow", "ProjectProgress", "consolidation_report"]

_CULTIVATED = ("0101", "0102", "0103")
#: A finished project (进度 ≥ this, %) should show at least this share of its planned 新增耕地.
_DONE_PCT = 100.0
_DONE_SHARE = 0.9


def _is_cultivated(code: str | None) -> bool:
    return bool(code) and str(code).startswith(_CULTIVATED)


def _is_construction(code: str | None) -> bool:
    return known_three_major_class(code) == "建设用地"


@dataclass
class _Pieces:
    """The changed ground between two survey versions, piece by piece."""

    geoms: list[Any] = field(default_factory=list)
    old: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    old_grade: list[float | None] = field(default_factory=list)
    new_grade: list[float | None] = field(default_factory=list)
    area_m2: list[float] = field(default_factory=list)


def _pieces(store: FeatureStore, plan: str, old_label: str, new_label: str, layer: str) -> _Pieces:
    diff = diff_versions(store, plan, old_label, new_label, layers=[layer])
    out = _Pieces()
    if not diff.layers:
        return out
    d = diff.layers[0]
    code = d.code_field or "DLBM"
    old, new = d.old, d.new
    if not len(old) or not len(new):
        return out
    og = shapely.make_valid(np.asarray(old.geometry.values, dtype=object))
    ng = shapely.make_valid(np.asarray(new.geometry.values, dtype=object))
    tree = shapely.STRtree(ng)
    left, right = tree.query(og, predicate="intersects")
    parts = shapely.intersection(og[left], ng[right])
    keep = ~shapely.is_empty(parts)
    left, right, parts = left[keep], right[keep], parts[keep]
    if not len(parts):
        return out
    areas = ellipsoidal_area_m2(parts, workspace_crs(store))
    oc = old[code].astype(str).tolist()
    nc = new[code].astype(str).tolist()
    og_grade = old["GDDB"].tolist() if "GDDB" in old.columns else [None] * len(old)
    ng_grade = new["GDDB"].tolist() if "GDDB" in new.columns else [None] * len(new)
    for i, j, g, a in zip(left.tolist(), right.tolist(), parts, areas.tolist(), strict=True):
        if oc[i] == nc[j] or a <= 0:
            continue
        out.geoms.append(g)
        out.old.append(oc[i])
        out.new.append(nc[j])
        out.old_grade.append(_float(og_grade[i]))
        out.new_grade.append(_float(ng_grade[j]))
        out.area_m2.append(float(a))
    return out


def _mean_grade(areas: Sequence[float], grades: Sequence[float | None]) -> float | None:
    known = [(a, g) for a, g in zip(areas, grades, strict=True) if g is not None]
    total = sum(a for a, _ in known)
    return None if not known or total <= 0 else sum(a * g for a, g in known) / total


@dataclass(frozen=True)
class LedgerRow:
    """Occupied and supplemented farmland of one survey update."""

    year_label: str
    occupied_m2: float
    supplemented_m2: float
    occupied_grade: float | None
    supplemented_grade: float | None
    construction_reduced_m2: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "version": self.year_label,
            "occupied_m2": round(self.occupied_m2, 4),
            "supplemented_m2": round(self.supplemented_m2, 4),
            "balance_m2": round(self.supplemented_m2 - self.occupied_m2, 4),
            "occupied_grade": self.occupied_grade,
            "supplemented_grade": self.supplemented_grade,
            "construction_reduced_m2": round(self.construction_reduced_m2, 4),
        }


@dataclass(frozen=True)
class ProjectProgress:
    """One consolidation project: planned, measured, progress and 三区三线 overlaps."""

    xmdm: str
    xmmc: str
    progress_pct: float | None  # None: not reported, or reported after the report's date
    planned_new_farmland_m2: float | None
    planned_construction_reduction_m2: float | None
    planned_restoration_m2: float | None
    new_farmland_m2: float
    lost_farmland_m2: float
    construction_reduced_m2: float
    scope_m2: float
    overlaps_m2: dict[str, float]
    warnings: tuple[tuple[str, str], ...] = ()  # (zh, en)
    progress_date: date | None = None  # when the progress was reported

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "xmdm": self.xmdm,
            "xmmc": self.xmmc,
            "progress_pct": self.progress_pct,
            "progress_as_of": (
                None if self.progress_date is None else self.progress_date.isoformat()
            ),
            "planned": {
                "new_farmland_m2": self.planned_new_farmland_m2,
                "construction_reduction_m2": self.planned_construction_reduction_m2,
                "ecological_restoration_m2": self.planned_restoration_m2,
            },
            "measured": {
                "new_farmland_m2": round(self.new_farmland_m2, 4),
                "lost_farmland_m2": round(self.lost_farmland_m2, 4),
                "construction_reduced_m2": round(self.construction_reduced_m2, 4),
            },
            "scope_m2": round(self.scope_m2, 4),
            "overlaps_m2": {k: round(v, 4) for k, v in self.overlaps_m2.items()},
            "warnings": [w[0] if lang == "zh" else w[1] for w in self.warnings],
        }


@dataclass(frozen=True)
class ConsolidationReport:
    """The ledger and the projects between two survey versions."""

    plan: str
    from_version: str
    to_version: str
    ledger: tuple[LedgerRow, ...]
    projects: tuple[ProjectProgress, ...]
    warnings: tuple[tuple[str, str], ...] = ()  # (zh, en)
    as_of: date | None = None
    notes: tuple[tuple[str, str], ...] = ()  # (zh, en)

    def totals(self) -> dict[str, Any]:
        """Occupied, supplemented and the balance over the whole period (m²)."""
        occ = sum(r.occupied_m2 for r in self.ledger)
        sup = sum(r.supplemented_m2 for r in self.ledger)
        return {
            "occupied_m2": round(occ, 4),
            "supplemented_m2": round(sup, 4),
            "balance_m2": round(sup - occ, 4),
            "balanced": sup >= occ,
        }

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """The ``guotu monitor consolidation --json`` document."""
        return {
            "plan": self.plan,
            "from": self.from_version,
            "to": self.to_version,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "ledger": [r.to_dict() for r in self.ledger],
            "totals": self.totals(),
            "projects": [p.to_dict(lang) for p in self.projects],
            "warnings": [w[0] if lang == "zh" else w[1] for w in self.warnings],
            "notes": [n[0] if lang == "zh" else n[1] for n in self.notes],
        }


def _float(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(v) else v


def consolidation_report(
    store: FeatureStore,
    *,
    from_date: date | None = None,
    as_of: date | None = None,
    known_at: datetime | None = None,
    use_layers: Sequence[str] = (),
) -> ConsolidationReport:
    """The 占补平衡 ledger and the consolidation projects' measured results between the
    survey version in force on ``from_date`` (default: the first one) and the one in force
    on ``as_of`` (default today), as recorded by ``known_at`` (default now); the projects, their
    progress and the control lines as of ``as_of`` too (see the module docstring).
    ``use_layers`` chooses the layer of a role the workspace has several of.

    Raises
    ------
    NotFoundError
        No land-survey layer, or fewer than two of its versions in the period.
    ConfigError
        Several layers of a role it reads, and none of them chosen.
    """
    check_chosen_layers(store, use_layers)
    survey = layer_of_role(store, "land_survey", chosen=use_layers)
    if survey is None:
        raise NotFoundError(
            "The workspace has no land-survey layer (现状地类图斑).",
            message_zh="工作空间中没有现状地类图斑图层。",
            fix_zh="请先导入年度变更调查成果（--role land_survey）。",
        )
    layer = survey.name
    plan = survey.plan
    # the versions recorded by known_at (a later record was not known then)
    versions = [v for v in store.versions(plan) if known_at is None or v.recorded_at <= known_at]
    day = as_of or date.today()
    last = store.layer_version(layer, as_of=day, known_at=known_at)
    first = (
        store.layer_version(layer, as_of=from_date, known_at=known_at)
        if from_date
        else (versions[0] if versions else None)
    )
    if last is None or first is None or first.id == last.id:
        raise NotFoundError(
            f"Layer {layer} has fewer than two versions between the dates; the ledger needs "
            "two survey updates.",
            layer=layer,
            fix="Record each yearly survey update as a version (guotu import … --plan … "
            "--version 2023年度 --valid-from 2023-12-31).",
            message_zh=f"图层 {layer} 在该时段内不足两个版本，占补平衡需要至少两期年度变更调查。",
            fix_zh="请将各年度变更调查按版本入库（guotu import … --plan … --version …）。",
        )
    chain = store.lineage_of(last.id)
    if first.id not in chain:
        chain = [first.id, last.id]
    labels = {v.id: v.label for v in versions}
    steps = chain[chain.index(first.id) :]
    ledger = []
    pieces = _Pieces()
    for a, b in itertools.pairwise(steps):
        p = _pieces(store, plan, labels[a], labels[b], layer)
        occ = [
            k
            for k in range(len(p.geoms))
            if _is_cultivated(p.old[k]) and not _is_cultivated(p.new[k])
        ]
        sup = [
            k
            for k in range(len(p.geoms))
            if not _is_cultivated(p.old[k]) and _is_cultivated(p.new[k])
        ]
        red = [
            k
            for k in range(len(p.geoms))
            if _is_construction(p.old[k]) and not _is_construction(p.new[k])
        ]
        ledger.append(
            LedgerRow(
                labels[b],
                sum(p.area_m2[k] for k in occ),
                sum(p.area_m2[k] for k in sup),
                _mean_grade([p.area_m2[k] for k in occ], [p.old_grade[k] for k in occ]),
                _mean_grade([p.area_m2[k] for k in sup], [p.new_grade[k] for k in sup]),
                sum(p.area_m2[k] for k in red),
            )
        )
        for name in ("geoms", "old", "new", "old_grade", "new_grade", "area_m2"):
            getattr(pieces, name).extend(getattr(p, name))
    dated = [v.valid_from for v in versions if v.valid_from is not None]
    period = _Period(day, known_at, last.valid_from, max(dated) if dated else None)
    projects, notes = _projects(store, pieces, period, use_layers)
    warnings: list[tuple[str, str]] = []
    occ_total = sum(r.occupied_m2 for r in ledger)
    sup_total = sum(r.supplemented_m2 for r in ledger)
    if sup_total < occ_total:
        gap = (occ_total - sup_total) / 1e4
        warnings.append(
            (
                f"耕地占补不平衡：{labels[first.id]}以来占用耕地 {occ_total / 1e4:,.4f} 公顷，"
                f"补充 {sup_total / 1e4:,.4f} 公顷，缺口 {gap:,.4f} 公顷（占多补少）。",
                f"Farmland does not balance: since {labels[first.id]}, {occ_total / 1e4:,.4f} ha "
                f"occupied and {sup_total / 1e4:,.4f} ha supplemented, {gap:,.4f} ha short.",
            )
        )
    occ_grade = _mean_grade([r.occupied_m2 for r in ledger], [r.occupied_grade for r in ledger])
    sup_grade = _mean_grade(
        [r.supplemented_m2 for r in ledger], [r.supplemented_grade for r in ledger]
    )
    if occ_grade is not None and sup_grade is not None and sup_grade > occ_grade:
        warnings.append(
            (
                f"补充耕地平均质量等别 {sup_grade:.1f} 低于占用耕地 {occ_grade:.1f}"
                "（等别数越大质量越低，占优补劣）。",
                f"The supplemented farmland's mean quality grade {sup_grade:.1f} is "
                f"worse than the occupied farmland's {occ_grade:.1f} (higher is worse).",
            )
        )
    for pr in projects:
        warnings.extend(pr.warnings)
    return ConsolidationReport(
        plan,
        labels[first.id],
        labels[last.id],
        tuple(ledger),
        tuple(projects),
        tuple(warnings),
        day,
        tuple(notes),
    )


@dataclass(frozen=True)
class _Period:
    """What the projects are read for: the date, the record time, the date of the last
    survey version in the period and of the latest survey version recorded (``None``:
    undated)."""

    day: date
    known_at: datetime | None
    survey_date: date | None
    latest_survey: date | None


def _progress_date(version: Version, latest_survey: date | None) -> date | None:
    """The date a version's progress figures report: its valid-from date, or for an undated
    version the latest survey's (``None``: nothing dates it, it always holds)."""
    return version.valid_from or latest_survey


def _projects(
    store: FeatureStore, pieces: _Pieces, period: _Period, use_layers: Sequence[str]
) -> tuple[list[ProjectProgress], list[tuple[str, str]]]:
    info = layer_of_role(store, "consolidation_project", chosen=use_layers)
    if info is None:
        return [], []
    name = info.name
    day, known_at = period.day, period.known_at
    version = store.layer_version(name, as_of=day, known_at=known_at)
    if version is None:
        return [], []
    cols = [
        c
        for c in ("XMDM", "XMMC", "XZGDMJ", "JSYDJSMJ", "STXFMJ", "JD")
        if c in store.layer(name).columns
    ]
    frame = store.read_layer(name, version_id=version.id, columns=cols)
    if not len(frame):
        return [], []
    reported = _progress_date(version, period.latest_survey)
    progress_known = reported is None or reported <= day
    notes: list[tuple[str, str]] = []
    if (
        reported is not None
        and not progress_known
        and "JD" in frame.columns
        and frame["JD"].notna().any()
    ):
        how_zh = "" if version.valid_from else "（图层未注明日期，按最近一期变更调查计）"
        how_en = "" if version.valid_from else " (undated: taken as of the latest survey)"
        notes.append(
            (
                f"{name} 的项目进度为 {reported.isoformat()} 的情况{how_zh}，晚于现状日期 "
                f"{day.isoformat()}：当日进度未知，不据此预警。",
                f"The progress in {name} is as of {reported.isoformat()}{how_en}, after "
                f"{day.isoformat()}: it was not known on that date and warns of nothing.",
            )
        )
    scope = shapely.make_valid(np.asarray(frame.geometry.values, dtype=object))
    crs = workspace_crs(store)
    index = prepare_zones(scope, crs)
    n = len(frame)
    new_farm = np.zeros(n)
    lost_farm = np.zeros(n)
    reduced = np.zeros(n)
    if pieces.geoms:
        geoms = np.asarray(shapely.make_valid(np.asarray(pieces.geoms, dtype=object)), dtype=object)
        res = overlay(geoms, index, geometry=False)
        for k, j, a in zip(
            res.left.tolist(), res.right.tolist(), res.area_m2.tolist(), strict=True
        ):
            old, new = pieces.old[k], pieces.new[k]
            if _is_cultivated(new) and not _is_cultivated(old):
                new_farm[j] += a
            if _is_cultivated(old) and not _is_cultivated(new):
                lost_farm[j] += a
            if _is_construction(old) and not _is_construction(new):
                reduced[j] += a
    overlaps: dict[str, np.ndarray] = {}
    for role in ("ecological_redline", "permanent_farmland", "urban_boundary"):
        zinfo = layer_of_role(store, role, chosen=use_layers)
        if zinfo is None:
            continue
        zframe = store.read_layer(zinfo.name, as_of=day, known_at=known_at, columns=[])
        zgeoms = shapely.make_valid(np.asarray(zframe.geometry.values, dtype=object))
        res = overlay(np.asarray(scope, dtype=object), prepare_zones(zgeoms, crs), geometry=False)
        overlaps[role] = np.bincount(res.left, res.area_m2, n)
    scope_area = ellipsoidal_area_m2(np.asarray(scope, dtype=object), crs)
    out = []
    for j in range(n):
        row = frame.iloc[j]
        planned = _float(row.get("XZGDMJ"))
        jd = _float(row.get("JD")) if progress_known else None
        warnings: list[tuple[str, str]] = []
        xmmc = str(row.get("XMMC", "") or "")
        share = int(_DONE_SHARE * 100)
        if jd is not None and jd >= _DONE_PCT and planned and new_farm[j] < _DONE_SHARE * planned:
            survey = period.survey_date.isoformat() if period.survey_date else "—"
            warnings.append(
                (
                    f"{xmmc}：进度 {jd:g}% 已完成，但截至变更调查（{survey}）测得新增耕地 "
                    f"{new_farm[j]:,.2f} m²，不足计划 {planned:,.2f} m² 的 {share}%。",
                    f"{xmmc}: reported {jd:g} % done, but the surveys up to {survey} "
                    f"show {new_farm[j]:,.2f} m² of new farmland, under {share} % of "
                    f"the planned {planned:,.2f} m².",
                )
            )
        red = overlaps.get("ecological_redline")
        if red is not None and red[j] > 1:
            warnings.append(
                (
                    f"{xmmc}：项目范围有 {red[j]:,.2f} m² 位于生态保护红线内，整治活动须"
                    "符合红线管控要求。",
                    f"{xmmc}: {red[j]:,.2f} m² of its scope lie in the ecological red "
                    "line; the works must follow the red line's rules.",
                )
            )
        out.append(
            ProjectProgress(
                str(row.get("XMDM", "") or ""),
                xmmc,
                jd,
                planned,
                _float(row.get("JSYDJSMJ")),
                _float(row.get("STXFMJ")),
                float(new_farm[j]),
                float(lost_farm[j]),
                float(reduced[j]),
                float(scope_area[j]),
                {k: float(v[j]) for k, v in overlaps.items()},
                tuple(warnings),
                reported if jd is not None else None,
            )
        )
    return out, notes
