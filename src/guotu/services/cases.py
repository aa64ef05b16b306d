"""Change patches → monitoring cases (变化图斑比对 → 监测案件), and the cases' check records.

:func:`classify_patches` matches every change patch, as of its later image date, against the
approved projects (their approval dates) and the control lines in force on that date, and
classifies it (:mod:`guotu.domain.monitoring.cases`). It reads the workspace as of a date (``as_of``)
and a record time (``known_at``), like every read (DESIGN §4): a patch whose later image is
after ``as_of`` had not been seen yet and is left out, a project approved after ``as_of`` was
not approved yet, and each case's status and check record are the ones in force then. :func:`record_cases` writes the cases into the
workspace as the layer ``JCAJ`` (role ``monitoring_case``) of the plan ``监测案件``;
:func:`update_case` records a check (status, checker, date, conclusion, rectification) as a
new version of that layer. Nothing is overwritten: every state of every case stays readable
(``guotu history JCAJ:TBBH``) and the audit log says who changed what and why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.model import PlanLevel, PlanType
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.domain.geometry.moments import feature_areas
from guotu.domain.geometry.overlay import overlay
from guotu.domain.geometry.polygons import polygonal
from guotu.domain.geometry.zone_index import ZoneIndex
from guotu.domain.monitoring.cases import (
    CASE_CLASSES,
    CASE_STATUSES,
    PatchFacts,
    classify,
    is_construction_change,
    status_id,
)
from guotu.errors import ConfigError, NotFoundError
from guotu.ports import FeatureStore
from guotu.services.layer_choice import check_chosen_layers, layer_of_role
from guotu.services.workspace import workspace_crs
from guotu.services.zones import ZoneCache, valid_polygons

__all__ = [
    "CASE_LAYER",
    "CASE_PLAN",
    "Case",
    "CaseReport",
    "ProjectMatch",
    "classify_patches",
    "record_cases",
    "update_case",
]

#: The workspace layer and plan the cases are recorded in.
CASE_LAYER = "JCAJ"
CASE_PLAN = "监测案件"
_COLUMN_TYPES = {
    "TBBH": "text",
    "AJLX": "text",
    "AJLXMC": "text",
    "ZT": "text",
    "HSXRQ": "date",
    "BHLX": "text",
    "XZQDM": "text",
    "TBMJ": "real",
    "PZXMMJ": "real",
    "HPXMMJ": "real",
    "HXNMJ": "real",
    "ZYJBNTMJ": "real",
    "KFBJWMJ": "real",
    "XMDM": "text",
    "HCR": "text",
    "HCRQ": "date",
    "HCJL": "text",
    "ZGQK": "text",
}
_CHECK_FIELDS = ("HCR", "HCRQ", "HCJL", "ZGQK")


@dataclass(frozen=True)
class ProjectMatch:
    """An approved project a patch overlaps."""

    xmdm: str
    xmmc: str
    pzrq: date | None
    pzwh: str
    area_m2: float
    approved_before: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "xmdm": self.xmdm,
            "xmmc": self.xmmc,
            "pzrq": None if self.pzrq is None else self.pzrq.isoformat(),
            "pzwh": self.pzwh,
            "area_m2": round(self.area_m2, 4),
            "approved_before_image": self.approved_before,
        }


@dataclass(frozen=True)
class Case:
    """One change patch with its class, overlaps, matched projects and check record."""

    tbbh: str
    case_class: str
    image_date: date | None
    change_type: str
    facts: PatchFacts
    projects: tuple[ProjectMatch, ...]
    geometry: Any
    xzqdm: str = ""
    status: str = "pending"
    check: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """JSON-ready dict (``guotu monitor cases --json``), geometry excluded."""
        zh, en, severity = CASE_CLASSES[self.case_class]
        f = self.facts
        return {
            "tbbh": self.tbbh,
            "class": self.case_class,
            "class_name": zh if lang == "zh" else en,
            "severity": severity,
            "status": self.status,
            "status_name": CASE_STATUSES[self.status][0 if lang == "zh" else 1],
            "image_date": None if self.image_date is None else self.image_date.isoformat(),
            "change_type": self.change_type,
            "xzqdm": self.xzqdm,
            "area_m2": round(f.area_m2, 4),
            "overlaps_m2": {
                "approved": round(f.approved_m2, 4),
                "approved_later": round(f.approved_later_m2, 4),
                "redline": round(f.redline_m2, 4),
                "permanent_farmland": round(f.farmland_m2, 4),
                "outside_urban_boundary": round(f.outside_udb_m2, 4),
            },
            "projects": [p.to_dict() for p in self.projects],
            "check": {
                k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.check.items()
            },
            "versions": self.versions,
        }


@dataclass(frozen=True)
class CaseReport:
    """Every change patch as a case."""

    as_of: date
    patch_layer: str
    patch_version: str
    cases: tuple[Case, ...]
    notes: tuple[tuple[str, str], ...] = ()  # (zh, en)
    later_patches: int = 0  # patches whose later image is after as_of (not seen yet)

    def summary(self) -> dict[str, dict[str, int]]:
        """Counts by class and by status."""
        by_class = {k: sum(1 for c in self.cases if c.case_class == k) for k in CASE_CLASSES}
        by_status = {k: sum(1 for c in self.cases if c.status == k) for k in CASE_STATUSES}
        return {
            "by_class": {k: v for k, v in by_class.items() if v},
            "by_status": {k: v for k, v in by_status.items() if v},
        }

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """The ``guotu monitor cases --json`` document."""
        return {
            "as_of": self.as_of.isoformat(),
            "patch_layer": self.patch_layer,
            "patch_version": self.patch_version,
            "summary": self.summary(),
            "later_patches": self.later_patches,
            "notes": [zh if lang == "zh" else en for zh, en in self.notes],
            "cases": [c.to_dict(lang) for c in self.cases],
        }


def _day(value: Any) -> date | None:
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return None  # None, NaN, NaT (a pandas Timestamp is also a datetime)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    text = str(value).strip()
    if not text or text in ("nan", "NaT", "None"):
        return None
    try:
        return date.fromisoformat(text[:10].replace("/", "-"))
    except ValueError:
        return None


def _inside(geoms: np.ndarray, zone: ZoneIndex) -> tuple[np.ndarray, Any]:
    """Per feature: the area inside the zones, and the overlay's pairs."""
    res = overlay(geoms, zone, geometry=False)
    return np.bincount(res.left, res.area_m2, len(geoms)), res


def classify_patches(
    store: FeatureStore,
    *,
    as_of: date | None = None,
    known_at: datetime | None = None,
    use_layers: Sequence[str] = (),
) -> CaseReport:
    """Classify every change patch seen by ``as_of`` (see :mod:`guotu.domain.monitoring.cases`) against
    the projects approved by then and the control lines in force on its later image date
    (``HSXRQ``; ``as_of`` when blank), with the cases' status as recorded for ``as_of``.

    A patch whose later image is after ``as_of`` is left out (counted in ``later_patches``);
    a project approved after ``as_of`` counts as not approved (it was not, on that date).

    ``use_layers`` chooses the layer of a role the workspace has several of (several and
    none chosen are refused, see :func:`layer_of_role`).

    Raises
    ------
    NotFoundError
        The workspace has no change-patch layer, or none in force on ``as_of``.
    ConfigError
        Several layers of a role it reads, and none of them chosen.
    """
    day = as_of or date.today()
    check_chosen_layers(store, use_layers)
    info = layer_of_role(store, "change_patch", chosen=use_layers)
    if info is None:
        raise NotFoundError(
            "The workspace has no change-patch layer (变化图斑).",
            fix="Import the patches: guotu import 变化图斑.shp --role change_patch",
            message_zh="工作空间中没有变化图斑图层。",
            fix_zh="请先导入：guotu import 变化图斑.shp --role change_patch",
        )
    name = info.name
    version = store.layer_version(name, as_of=day, known_at=known_at)
    if version is None:
        raise NotFoundError(
            f"No version of {name} is in force on {day.isoformat()}.",
            layer=name,
            message_zh=f"{day.isoformat()} 没有现行的 {name} 版本。",
        )
    cols = [c for c in ("TBBH", "HSXRQ", "BHLX", "XZQDM") if c in store.layer(name).columns]
    patches = store.read_layer(name, version_id=version.id, columns=cols)
    days: dict[Any, date | None] = {}
    image = [
        days[v] if v in days else days.setdefault(v, _day(v))
        for v in (patches["HSXRQ"].tolist() if "HSXRQ" in patches else [None] * len(patches))
    ]
    # a patch imaged after the date had not been seen on it
    seen_by = [d is None or d <= day for d in image]
    later = len(image) - sum(seen_by)
    if later:
        patches = patches[np.asarray(seen_by, dtype=bool)]
        image = [d for d, ok in zip(image, seen_by, strict=True) if ok]
    geoms = valid_polygons(patches.geometry.values)
    n = len(patches)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    area = np.zeros(n)
    crs = workspace_crs(store)
    if ok.any():
        area[ok] = feature_areas(geoms[ok], shapely.bounds(geoms[ok]), crs)
    kinds = [
        str(v) if v is not None else ""
        for v in (patches["BHLX"].tolist() if "BHLX" in patches else [None] * n)
    ]
    tbbh = [
        str(v)
        for v in (
            patches["TBBH"].tolist() if "TBBH" in patches else [f"fid {f}" for f in patches.index]
        )
    ]
    zones = ZoneCache(known_at, use_layers=use_layers)
    redline = np.zeros(n)
    farmland = np.zeros(n)
    outside = np.zeros(n)
    has_udb = np.zeros(n, dtype=bool)
    used: dict[str, str] = {f"{name}": version.label}
    by_day: dict[date, list[int]] = defaultdict(list)
    for k in range(n):
        by_day[image[k] or day].append(k)
    for when, rows in sorted(by_day.items()):
        sub = geoms[rows]
        for role, target in (("ecological_redline", redline), ("permanent_farmland", farmland)):
            z = zones.get(store, role, when)
            if z is not None:
                target[rows] = _inside(sub, z.index)[0]
                used[role] = z.label
        z = zones.get(store, "urban_boundary", when)
        if z is not None:
            outside[rows] = area[rows] - _inside(sub, z.index)[0]
            has_udb[rows] = True
            used["urban_boundary"] = z.label
    approved = np.zeros(n)
    approved_later = np.zeros(n)
    matches: dict[int, list[ProjectMatch]] = defaultdict(list)
    z = zones.get(store, "construction_project", day, ["XMDM", "XMMC", "PZRQ", "PZWH"])
    if z is not None:
        index, frame = z.index, z.frame
        used["construction_project"] = z.label
        _, res = _inside(geoms, index)
        pz = [_day(v) for v in (frame["PZRQ"] if "PZRQ" in frame else [None] * len(frame))]
        pgeoms = valid_polygons(frame.geometry.values)
        seen: dict[int, list[tuple[int, bool]]] = defaultdict(list)
        for k, j, a in zip(
            res.left.tolist(), res.right.tolist(), res.area_m2.tolist(), strict=True
        ):
            if pz[j] is not None and pz[j] > day:
                continue  # approved after the date: not approved on it
            when = image[k] or day
            # a project without an approval date is not counted as approved: to be checked
            before = pz[j] is not None and pz[j] <= when
            if before:
                approved[k] += a
            elif pz[j] is not None:
                approved_later[k] += a
            seen[k].append((j, before))
            row = frame.iloc[j]
            matches[k].append(
                ProjectMatch(
                    str(row.get("XMDM", "") or ""),
                    str(row.get("XMMC", "") or ""),
                    pz[j],
                    str(row.get("PZWH", "") or ""),
                    float(a),
                    before,
                )
            )
        # Projects that overlap one another must not count their common ground twice: a
        # patch under several is measured against their union.
        for k, hits in seen.items():
            if len(hits) < 2:
                continue
            ok_before = [j for j, b in hits if b]
            dated = [j for j, _b in hits if pz[j] is not None]
            in_before = _area_under(geoms[k], pgeoms[ok_before], crs)
            approved[k] = in_before
            approved_later[k] = _area_under(geoms[k], pgeoms[dated], crs) - in_before
    notes: list[tuple[str, str]] = []
    if z is None:
        notes.append(
            (
                "工作空间中没有建设项目图层：所有图斑均按未批处理。",
                "no construction-project layer: every patch counts as unapproved",
            )
        )
    if later:
        notes.append(
            (
                f"{later} 个图斑的后时相晚于 {day.isoformat()}，当日尚未发现，未列入。",
                f"{later} patches imaged after {day.isoformat()} had not been seen on "
                "that date and are left out.",
            )
        )
    existing = _existing_cases(store, day, known_at, use_layers)
    towns = [str(v) for v in patches["XZQDM"].tolist()] if "XZQDM" in patches else [""] * n
    cases = []
    construction = {k: is_construction_change(k) for k in set(kinds)}
    for k in range(n):
        facts = PatchFacts(
            float(area[k]),
            float(approved[k]),
            float(approved_later[k]),
            float(redline[k]),
            float(farmland[k]),
            float(max(outside[k], 0.0)),
            construction[kinds[k]],
            bool(has_udb[k]),
        )
        old = existing.get(tbbh[k], {})
        cases.append(
            Case(
                tbbh[k],
                classify(facts),
                image[k],
                kinds[k],
                facts,
                tuple(sorted(matches[k], key=lambda m: -m.area_m2)),
                geoms[k],
                towns[k],
                status=(status_id(str(old.get("ZT") or "")) or "pending") if old else "pending",
                check={f: old[f] for f in _CHECK_FIELDS if old.get(f) not in (None, "")},
                versions=used,
            )
        )
    rank = {k: i for i, k in enumerate(CASE_CLASSES)}
    cases.sort(key=lambda c: (rank[c.case_class], c.tbbh))
    return CaseReport(day, name, version.label, tuple(cases), tuple(notes), later)


def _area_under(patch: Any, projects: np.ndarray, crs: Any) -> float:
    """Ellipsoidal area of ``patch`` under the union of ``projects``."""
    if not len(projects):
        return 0.0
    part = shapely.intersection(patch, shapely.union_all(projects))
    if shapely.is_empty(part):
        return 0.0
    return float(
        ellipsoidal_area_m2(
            np.array([polygonal(np.array([part], dtype=object))[0]], dtype=object), crs
        )[0]
    )


def _existing_cases(
    store: FeatureStore, day: date, known_at: datetime | None = None, use_layers: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """The recorded cases (status, check record) in force on ``day`` as known at
    ``known_at``: a check made after ``day`` is not shown on it."""
    info = layer_of_role(store, "monitoring_case", chosen=use_layers)
    if info is None:
        return {}
    frame = store.read_layer(info.name, as_of=day, known_at=known_at)
    return {str(r["TBBH"]): r for r in frame.drop(columns=frame.geometry.name).to_dict("records")}


def _frame(cases: tuple[Case, ...], crs: Any) -> gpd.GeoDataFrame:
    rows = []
    for c in cases:
        f = c.facts
        check = c.check
        rows.append(
            {
                "TBBH": c.tbbh,
                "AJLX": c.case_class,
                "AJLXMC": CASE_CLASSES[c.case_class][0],
                "ZT": CASE_STATUSES[c.status][0],
                "HSXRQ": c.image_date,
                "BHLX": c.change_type,
                "XZQDM": c.xzqdm,
                "TBMJ": round(f.area_m2, 2),
                "PZXMMJ": round(f.approved_m2, 2),
                "HPXMMJ": round(f.approved_later_m2, 2),
                "HXNMJ": round(f.redline_m2, 2),
                "ZYJBNTMJ": round(f.farmland_m2, 2),
                "KFBJWMJ": round(f.outside_udb_m2, 2),
                "XMDM": ";".join(p.xmdm for p in c.projects),
                **{k: check.get(k) for k in _CHECK_FIELDS},
            }
        )
    return gpd.GeoDataFrame(
        rows, geometry=[c.geometry for c in cases], crs=crs, columns=[*_COLUMN_TYPES, "geometry"]
    )


def _next_label(store: FeatureStore, day: date, what: str) -> str:
    try:
        count = len(store.versions(CASE_PLAN))
    except NotFoundError:
        count = 0
    return f"{day.isoformat()} {what}（第{count + 1}版）"


def record_cases(
    store: FeatureStore,
    report: CaseReport,
    *,
    actor: str = "",
    reason: str = "",
    use_layers: Sequence[str] = (),
) -> Any:
    """Write the cases as a new version of ``JCAJ``: new patches start 待核查, cases already
    recorded keep their status and check record. Returns the layer info."""
    check_chosen_layers(store, use_layers)
    found = layer_of_role(store, "monitoring_case", chosen=use_layers)
    try:
        store.plan(CASE_PLAN)
    except NotFoundError:
        store.create_plan(
            CASE_PLAN,
            level=PlanLevel.COUNTY,
            type=PlanType.SURVEY,
            description="变化图斑比对形成的监测案件及其核查记录",
        )
    label = _next_label(store, report.as_of, "比对")
    frame = _frame(report.cases, store.crs)
    valid_from = report.as_of
    if found is not None:
        # Cases already recorded whose patch is no longer delivered stay as they are: a case
        # and its check record are never dropped by a later comparison.
        old = store.read_layer(found.name).reset_index(drop=True)
        keep = old[~old["TBBH"].astype(str).isin(set(frame["TBBH"].astype(str)))]
        if len(keep):
            keep = keep[[c for c in frame.columns if c in keep.columns]]
            frame = gpd.GeoDataFrame(
                pd.concat([frame, keep], ignore_index=True), geometry="geometry", crs=store.crs
            )
        # never before the state in force: a backdated comparison would hide the later checks
        current = store.layer_version(found.name)
        if current is not None and current.valid_from and current.valid_from > valid_from:
            valid_from = current.valid_from
    return store.write_layer(
        CASE_LAYER,
        "monitoring_case",
        frame,
        column_types=_COLUMN_TYPES,
        geometry_type="MULTIPOLYGON",
        actor=actor,
        reason=reason or f"变化图斑比对（{report.patch_layer} {report.patch_version}）",
        version=VersionSpec(CASE_PLAN, label, valid_from=valid_from, author=actor, reason=reason),
    )


def update_case(
    store: FeatureStore,
    tbbh: str,
    status: str,
    *,
    checker: str = "",
    check_date: date | None = None,
    conclusion: str = "",
    rectification: str = "",
    reason: str = "",
    use_layers: Sequence[str] = (),
) -> dict[str, Any]:
    """Record a field check of case ``tbbh`` as a new version of ``JCAJ``; returns its row.

    Raises
    ------
    ConfigError
        An unknown status.
    NotFoundError
        No case layer, or no case ``tbbh`` in it.
    """
    sid = status_id(status)
    if sid is None:
        names = "、".join(zh for zh, _ in CASE_STATUSES.values())
        raise ConfigError(
            f"Unknown case status {status!r}.",
            fix=f"Use one of: {', '.join(CASE_STATUSES)} ({names}).",
            message_zh=f"未知的案件状态 {status!r}。",
            fix_zh=f"可选：{names}。",
        )
    check_chosen_layers(store, use_layers)
    found = layer_of_role(store, "monitoring_case", chosen=use_layers)
    if found is None:
        raise NotFoundError(
            "The workspace has no monitoring cases yet.",
            fix="Record them first: guotu monitor cases --record",
            message_zh="工作空间中还没有监测案件。",
            fix_zh="请先运行：guotu monitor cases --record",
        )
    name = found.name
    frame = store.read_layer(name)
    hits = np.flatnonzero(frame["TBBH"].astype(str).to_numpy() == tbbh)
    if not len(hits):
        raise NotFoundError(
            f"There is no case {tbbh} in {name}.",
            layer=name,
            feature=tbbh,
            message_zh=f"{name} 中没有案件 {tbbh}。",
        )
    frame = frame.reset_index(drop=True)
    for col in ("ZT", *_CHECK_FIELDS):  # as read back, a column may be typed (e.g. Arrow text)
        if col in frame.columns:
            frame[col] = frame[col].astype(object)
    row = int(hits[0])
    rows = hits.tolist()  # a patch delivered in several parts: every part gets the check
    frame.loc[rows, "ZT"] = CASE_STATUSES[sid][0]
    day = check_date or date.today()
    for col, value in (
        ("HCR", checker),
        ("HCRQ", day),
        ("HCJL", conclusion),
        ("ZGQK", rectification),
    ):
        if value:
            for r in rows:
                frame.at[r, col] = value
    label = _next_label(store, day, f"{tbbh} {CASE_STATUSES[sid][0]}")
    info = store.layer(name)
    # The new state holds from the check on, but never before the state it follows (a check
    # entered late, dated before the latest comparison, must not hide that comparison).
    current = store.layer_version(name)
    valid_from = max(day, current.valid_from) if current and current.valid_from else day
    store.write_layer(
        name,
        "monitoring_case",
        frame,
        column_types=info.columns,
        geometry_type=info.geometry_type,
        actor=checker,
        reason=reason or f"案件 {tbbh} 核查：{CASE_STATUSES[sid][0]}",
        version=VersionSpec(CASE_PLAN, label, valid_from=valid_from, author=checker, reason=reason),
    )
    out: dict[str, Any] = frame.drop(columns=frame.geometry.name).iloc[row].to_dict()
    return out
