"""The indicator report of ``guotu monitor indicators`` and the dashboard: every indicator's
series of year-end values up to a date, its target, status, trend and warning.

For a user who may not read every layer, an indicator computed from a layer of a role they
may not read whole (:func:`withheld_indicators`) is shown without its figures (value, series,
status, lineage and forecast), and the cases and the consolidation ledger are left out of the
check-up when they read such a layer (:data:`CASE_ROLES`, :data:`CONSOLIDATION_ROLES`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from guotu.domain.core.plan_labels import plan_version_label
from guotu.domain.monitoring.indicators import Catalogue
from guotu.ports import FeatureStore
from guotu.services.indicator_values import IndicatorValue
from guotu.services.monitoring import IndicatorEngine
from guotu.services.monitoring_inputs import Statistics, Targets

__all__ = [
    "CASE_ROLES",
    "CONSOLIDATION_ROLES",
    "UNIT_LABELS",
    "WITHHELD_NOTE",
    "IndicatorReport",
    "crossing_text",
    "direction_text",
    "in_plan_period",
    "indicator_report",
    "target_text",
    "when_text",
    "withheld_indicators",
]

#: The layer roles the monitoring cases are read from (:mod:`guotu.services.cases`).
CASE_ROLES = frozenset(
    {
        "change_patch",
        "ecological_redline",
        "permanent_farmland",
        "urban_boundary",
        "construction_project",
        "monitoring_case",
    }
)
#: The layer roles the consolidation ledger is read from (:mod:`guotu.services.consolidation`).
CONSOLIDATION_ROLES = frozenset(
    {
        "land_survey",
        "consolidation_project",
        "ecological_redline",
        "permanent_farmland",
        "urban_boundary",
    }
)
#: What an indicator (or a part of the check-up) computed from layers the user may not read
#: says instead of its figures (zh, en).
WITHHELD_NOTE = (
    "依据您无权查看的图层计算，不予显示",
    "Computed from layers you may not read; not shown",
)


def withheld_indicators(catalogue: Catalogue, blocked_roles: Collection[str]) -> frozenset[str]:
    """The indicators computed from a layer of ``blocked_roles`` (the roles of layers the user
    may not read whole), directly or through the indicators they refer to.

    Examples
    --------
    >>> from guotu.services.monitoring_inputs import load_catalogue
    >>> cat = load_catalogue()
    >>> sorted(withheld_indicators(cat, {"permanent_farmland"}))
    ['farmland_occupied_by_cases', 'permanent_farmland_area']
    >>> withheld_indicators(cat, ())
    frozenset()
    """
    blocked = set(blocked_roles)
    by_id = {i.id: i for i in catalogue.indicators}

    def reads_blocked(ind_id: str, seen: set[str]) -> bool:
        ind = by_id.get(ind_id)
        if ind is None or ind_id in seen:
            return False
        seen.add(ind_id)
        roles = {r for t in ind.formula.terms() for r in (t.role, t.within, t.outside) if r}
        return bool(roles & blocked) or any(reads_blocked(r, seen) for r in ind.formula.refs())

    if not blocked:
        return frozenset()
    return frozenset(i.id for i in catalogue.indicators if reads_blocked(i.id, set()))


#: How each catalogue unit is written (zh, en).
UNIT_LABELS: dict[str, tuple[str, str]] = {
    "ha": ("公顷", "ha"),
    "m2": ("平方米", "m²"),
    "km2": ("平方公里", "km²"),
    "mu": ("亩", "mu"),
    "%": ("%", "%"),
    "1": ("", ""),
    "m2/person": ("平方米/人", "m²/person"),
    "m2/10k-yuan": ("平方米/万元", "m²/10k yuan"),
    "1e8m3": ("亿立方米", "10⁸ m³"),
    "person": ("人", "persons"),
    "10k-yuan": ("万元", "10k yuan"),
    "count": ("个", ""),
}
#: Years of year-end values before the report date, by default.
DEFAULT_YEARS = 5


def unit_label(unit: str, lang: str = "zh") -> str:
    """How ``unit`` is written in ``lang``.

    Examples
    --------
    >>> unit_label("ha"), unit_label("m2/person", "en")
    ('公顷', 'm²/person')
    """
    zh, en = UNIT_LABELS.get(unit, (unit, unit))
    return zh if lang == "zh" else en


def _fmt(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


#: How a target's direction is written where a person reads it.
_DIRECTIONS = {">=": "≥", "<=": "≤", ">": "＞", "<": "＜", "==": "="}


def direction_text(direction: str | None) -> str:
    """A target's direction as a person reads it (``>=`` → ``≥``, ``<=`` → ``≤``); the one
    place for it: the terminal table, the reports and ``direction_label`` in JSON (the
    dashboard reads that).

    Examples
    --------
    >>> direction_text(">="), direction_text("<="), direction_text(None)
    ('≥', '≤', '')
    """
    if not direction:
        return ""
    return _DIRECTIONS.get(direction, direction)


def target_text(
    direction: str | None, target: float, target_year: int | None, decimals: int
) -> str:
    """A target as written in tables: ``≤2,161.87（2035）``.

    Examples
    --------
    >>> target_text("<=", 2161.871, 2035, 2)
    '≤2,161.87（2035）'
    """
    year = f"（{target_year}）" if target_year is not None else ""
    return f"{direction_text(direction)}{_fmt(target, decimals)}{year}"


_QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")


def _year_quarter(x: float) -> tuple[int, int]:
    """A decimal year as (year, quarter 1–4)."""
    year = math.floor(x)
    return year, min(int((x - year) * 4), 3) + 1


def when_text(early: float, late: float | None = None, lang: str = "zh") -> str:
    """When a forecast crosses its target, as a reader says it: a quarter when the band's
    edges fall in one (``2027 年第四季度``), the year when they fall in one year, else the
    years (``2027–2029 年``); ``late`` ``None`` (the slow edge does not cross): from the
    early edge on (``最早 2027 年第四季度``).

    Examples
    --------
    >>> when_text(2027.8, 2027.9), when_text(2027.1, 2027.8), when_text(2027.8, 2029.2)
    ('2027 年第四季度', '2027 年', '2027–2029 年')
    >>> when_text(2027.8), when_text(2027.8, lang="en")
    ('最早 2027 年第四季度', 'Q4 2027 or later')
    """
    zh = lang != "en"
    y0, q0 = _year_quarter(min(early, late) if late is not None else early)

    def quarter(y: int, q: int) -> str:
        return f"{y} 年{_QUARTERS[q - 1]}" if zh else f"Q{q} {y}"

    if late is None:
        return f"最早 {quarter(y0, q0)}" if zh else f"{quarter(y0, q0)} or later"
    y1, q1 = _year_quarter(max(early, late))
    if (y0, q0) == (y1, q1):
        return quarter(y0, q0)
    if y0 == y1:
        return f"{y0} 年" if zh else str(y0)
    return f"{y0}–{y1} 年" if zh else f"{y0}–{y1}"


def warning_text(v: IndicatorValue, lang: str = "zh") -> str | None:
    """The warning of a yellow or red value, as a sentence; ``None`` for the others."""
    ind = v.indicator
    if v.status not in ("yellow", "red") or v.value is None or v.target is None:
        return None
    unit = unit_label(ind.unit, lang)
    d = ind.decimals
    gap = abs(v.value - v.target)
    name = ind.name_zh if lang == "zh" else ind.name_en
    floor = ind.direction == ">="
    if v.status == "red":
        if lang == "zh":
            word = "低于" if floor else "高于"
            return (
                f"{name} {_fmt(v.value, d)} {unit}，{word} {v.target_year} 年目标 "
                f"{_fmt(v.target, d)} {unit} {_fmt(gap, d)} {unit}，已突破。"
            )
        word = "below" if floor else "above"
        return (
            f"{name} is {_fmt(v.value, d)} {unit}, {_fmt(gap, d)} {unit} {word} the "
            f"{v.target_year} target of {_fmt(v.target, d)} {unit}: breached."
        )
    share = 100 * gap / abs(v.target) if v.target else 0.0
    f = v.forecast
    early = None if f is None else in_plan_period(f.crossing_early, v.target_year)
    if lang == "zh":
        text = (
            f"{name} {_fmt(v.value, d)} {unit}，距 {v.target_year} 年目标 "
            f"{_fmt(v.target, d)} {unit} 仅 {_fmt(gap, d)} {unit}（{share:.2f}%）"
        )
        if f is not None and early is not None:
            text += (
                f"；按近 {f.points} 期趋势（每年 {f.slope_per_year:+,.{d}f} {unit}），最早约 "
                f"{when_text(early, early)}突破"
            )
        return text + "。"
    text = (
        f"{name} is {_fmt(v.value, d)} {unit}, only {_fmt(gap, d)} {unit} ({share:.2f} %) "
        f"from the {v.target_year} target of {_fmt(v.target, d)} {unit}"
    )
    if f is not None and early is not None:
        text += (
            f"; at the pace of the last {f.points} values ({f.slope_per_year:+,.{d}f} "
            f"{unit} a year) it may be crossed as early as {when_text(early, early, 'en')}"
        )
    return text + "."


def in_plan_period(crossing: float | None, target_year: int | None) -> float | None:
    """A forecast crossing (decimal year) when it falls within the plan period, that is by
    the end of the target year; ``None`` after it (a forecast that far is noise: the plan
    sets its next target by then) or when there is none.

    Examples
    --------
    >>> in_plan_period(2027.8, 2035), in_plan_period(2062.0, 2035), in_plan_period(2036.0, 2035)
    (2027.8, None, 2036.0)
    """
    if crossing is None or (target_year is not None and crossing > target_year + 1):
        return None
    return crossing


def crossing_text(
    *,
    breached: bool,
    since: date | None = None,
    early: float | None = None,
    late: float | None = None,
    target_year: int | None = None,
    forecast: bool = False,
    lang: str = "zh",
    labelled: bool = False,
) -> str | None:
    """When an indicator crosses its target, in words: the one wording of the terminal table,
    the report cards (HTML, PDF) and the dashboard.

    Parameters
    ----------
    breached
        The indicator is past its target now: it reads 已突破, with ``since`` (the first year
        end of the current breach) when the series shows one.
    early, late
        The forecast's crossing years (decimal years: the edges of the prediction band);
        ``late`` is ``None`` when that edge never crosses. They are said as a quarter or
        years (:func:`when_text`), never as decimals.
    target_year
        The year of the target: a crossing after its end is not forecast (:func:`in_plan_period`);
        a late edge after it leaves the band open (最早 …).
    forecast
        A forecast was made (a trend of two or more values against a target): with no
        crossing within the plan period it says so (规划期内不会突破) instead of nothing.
    lang
        ``zh`` or ``en``.
    labelled
        Say that a forecast is one (预计突破 2027 年第四季度), for a card; a table says it in
        its column heading.

    Returns
    -------
    str or None
        ``None`` when nothing is breached and there is no forecast to speak of.

    Examples
    --------
    >>> crossing_text(breached=True, since=date(2024, 12, 31), early=2026.0, late=2026.0)
    '已突破（2024-12-31 起）'
    >>> crossing_text(breached=False, early=2027.8, late=2035.5, target_year=2035)
    '2027–2035 年'
    >>> crossing_text(breached=False, early=2062.0, late=None, target_year=2035, forecast=True)
    '规划期内不会突破'
    >>> crossing_text(breached=False, early=2027.8, late=2040.2, target_year=2035, labelled=True)
    '预计突破 最早 2027 年第四季度'
    >>> crossing_text(breached=False, early=2026.4, late=2026.45, lang="en", labelled=True)
    'Crossing Q2 2026'
    >>> crossing_text(breached=False)
    """
    zh = lang != "en"
    if breached:
        if since is None:
            return "已突破" if zh else ("Breached" if labelled else "breached")
        day = since.isoformat()
        return (
            f"已突破（{day} 起）"
            if zh
            else f"{'Breached' if labelled else 'breached'} (since {day})"
        )
    first = in_plan_period(early, target_year)
    if first is None:
        if not forecast and early is None:
            return None
        return "规划期内不会突破" if zh else "Not crossed within the plan period"
    when = when_text(first, in_plan_period(late, target_year), lang)
    if not labelled:
        return when
    return f"预计突破 {when}" if zh else f"Crossing {when}"


@dataclass(frozen=True)
class IndicatorReport:
    """Every indicator's series up to ``as_of`` (the last value is as of ``as_of``)."""

    as_of: date
    catalogue: Catalogue
    series: dict[str, list[IndicatorValue]]
    targets: Targets
    statistics: Statistics
    layer_roles: dict[str, str] = field(default_factory=dict)  # role id by layer name

    def current(self) -> list[IndicatorValue]:
        """The values as of ``as_of``, in catalogue order."""
        return [self.series[i.id][-1] for i in self.catalogue.indicators]

    def crossing(self, indicator: str, lang: str = "zh", *, labelled: bool = False) -> str | None:
        """:func:`crossing_text` of an indicator as of ``as_of``: breached since the first
        year end of its current run of breaches (when one lies before ``as_of``), else its
        forecast."""
        series = self.series[indicator]
        first = len(series) - 1
        while first > 0 and series[first - 1].status == "red":
            first -= 1
        now = series[-1]
        since = series[first].as_of if first < len(series) - 1 else None
        f = now.forecast
        return crossing_text(
            breached=now.status == "red",
            since=since,
            early=None if f is None else f.crossing_early,
            late=None if f is None else f.crossing_late,
            target_year=now.target_year,
            forecast=f is not None and now.target is not None,
            lang=lang,
            labelled=labelled,
        )

    def version_labels(self, v: IndicatorValue, lang: str = "zh") -> dict[str, str]:
        """The plan and version each layer of ``v`` was read at, as a person reads it
        (:func:`~guotu.domain.core.plan_labels.plan_version_label`), by layer."""
        return {
            t.layer: plan_version_label(t.plan, t.version, lang, role=self.layer_roles.get(t.layer))
            for t in v.lineage
            if t.layer and t.version
        }

    def warnings(
        self, lang: str = "zh", withheld: Collection[str] = frozenset()
    ) -> list[dict[str, Any]]:
        """Red, then yellow indicators with their sentences (none of ``withheld``)."""
        found = [
            {"indicator": v.indicator.id, "status": v.status, "message": warning_text(v, lang)}
            for v in self.current()
            if v.status in ("red", "yellow") and v.indicator.id not in withheld
        ]
        return sorted(found, key=lambda w: 0 if w["status"] == "red" else 1)

    def to_dict(self, lang: str = "zh", withheld: Collection[str] = frozenset()) -> dict[str, Any]:
        """The ``guotu monitor indicators --json`` document (also the dashboard's): each
        indicator's row has ``crossing_text``, its :meth:`crossing` as a card says it. The
        rows of ``withheld`` (:func:`withheld_indicators`) have no figures: ``withheld`` is
        true and ``reason`` says why."""
        rows = []
        for ind in self.catalogue.indicators:
            if ind.id in withheld:
                rows.append(self._withheld_row(ind.id, lang))
                continue
            values = self.series[ind.id]
            row = values[-1].to_dict(lang)
            row["unit_label"] = unit_label(ind.unit, lang)
            row["direction_label"] = direction_text(ind.direction)
            row["crossing_text"] = self.crossing(ind.id, lang, labelled=True)
            row["series"] = [
                {
                    "as_of": v.as_of.isoformat(),
                    "value": None if v.value is None else round(v.value, 6),
                    "version": _versions(v),
                    "version_label": self.version_labels(v, lang),
                }
                for v in values
            ]
            row["targets"] = {
                str(y): t for y, t in sorted(self.targets.values.get(ind.id, {}).items())
            }
            rows.append(row)
        shown = [v for v in self.current() if v.indicator.id not in withheld]
        counts = {s: sum(1 for v in shown if v.status == s) for s in ("green", "yellow", "red")}
        summary: dict[str, int] = {**counts, "no_target": len(shown) - sum(counts.values())}
        if len(shown) < len(rows):
            summary["withheld"] = len(rows) - len(shown)
        return {
            "as_of": self.as_of.isoformat(),
            "catalogue": {
                "id": self.catalogue.id,
                "version": self.catalogue.version,
                "title": self.catalogue.title_zh if lang == "zh" else self.catalogue.title_en,
            },
            "targets": self.targets.source or None,
            "statistics": self.statistics.source or None,
            "summary": summary,
            "indicators": rows,
            "warnings": self.warnings(lang, withheld),
        }

    def _withheld_row(self, indicator: str, lang: str) -> dict[str, Any]:
        """An indicator's row without its figures (value, series, status, lineage, forecast)."""
        values = self.series[indicator]
        row = values[-1].to_dict(lang)
        zh, en = WITHHELD_NOTE
        row.update(
            value=None,
            status=None,
            reason=zh if lang == "zh" else en,
            reason_en=en,
            reason_zh=zh,
            lineage=None,
            forecast=None,
            withheld=True,
        )
        row["unit_label"] = unit_label(values[-1].indicator.unit, lang)
        row["direction_label"] = direction_text(values[-1].indicator.direction)
        row["crossing_text"] = None
        row["series"] = [
            {"as_of": v.as_of.isoformat(), "value": None, "version": {}, "version_label": {}}
            for v in values
        ]
        row["targets"] = {
            str(y): t for y, t in sorted(self.targets.values.get(indicator, {}).items())
        }
        return row


def _versions(v: IndicatorValue) -> dict[str, str]:
    return {t.layer: t.version for t in v.lineage if t.layer and t.version}


def indicator_report(
    store: FeatureStore,
    catalogue: Catalogue,
    *,
    as_of: date | None = None,
    first_year: int | None = None,
    known_at: datetime | None = None,
    targets: Targets | None = None,
    statistics: Statistics | None = None,
    engine: IndicatorEngine | None = None,
    use_layers: Sequence[str] = (),
) -> IndicatorReport:
    """Values at every year end from ``first_year`` (default five years back) up to
    ``as_of`` (default today), computed incrementally, with targets and forecasts.

    ``engine`` may be an engine kept from an earlier call (the dashboard keeps one): it then
    only reads what changed since. ``use_layers``: see :class:`IndicatorEngine`.
    """
    day = as_of or date.today()
    start = max(first_year if first_year is not None else day.year - DEFAULT_YEARS, date.min.year)
    dates = [date(y, 12, 31) for y in range(start, day.year) if date(y, 12, 31) < day] + [day]
    eng = engine or IndicatorEngine(
        store,
        catalogue,
        statistics=statistics,
        targets=targets,
        known_at=known_at,
        use_layers=use_layers,
    )
    return IndicatorReport(
        day,
        catalogue,
        eng.series(dates),
        eng.targets,
        eng.statistics,
        {i.name: i.role for i in store.layers()},
    )


def checkup_document(
    store: FeatureStore,
    catalogue: Catalogue,
    *,
    as_of: date | None = None,
    known_at: datetime | None = None,
    first_year: int | None = None,
    targets: Targets | None = None,
    statistics: Statistics | None = None,
    lang: str = "zh",
    use_layers: Sequence[str] = (),
    blocked_roles: Collection[str] = (),
) -> dict[str, Any]:
    """The 体检评估 document: indicators with series, warnings, monitoring cases and the land
    consolidation ledger as of ``as_of`` as known at ``known_at``; a part whose layers are
    missing says why instead, and so does a part read from a layer of ``blocked_roles`` (the
    roles of layers the reader may not export whole; its indicators have no figures).
    Written by :mod:`guotu.io.monitor_report` as HTML, PDF and XLSX."""
    from guotu.errors import GuotuError
    from guotu.services.cases import classify_patches
    from guotu.services.consolidation import consolidation_report

    day = as_of or date.today()
    report = indicator_report(
        store,
        catalogue,
        as_of=day,
        known_at=known_at,
        first_year=first_year,
        targets=targets,
        statistics=statistics,
        use_layers=use_layers,
    )
    doc: dict[str, Any] = {
        "lang": lang,
        "as_of": day.isoformat(),
        "workspace": getattr(store, "path", ""),
        "indicators": report.to_dict(lang, withheld_indicators(catalogue, blocked_roles)),
        "cases": None,
        "consolidation": None,
        "notes": [],
    }
    blocked = set(blocked_roles)
    note = WITHHELD_NOTE[0] if lang == "zh" else WITHHELD_NOTE[1]
    try:
        if blocked & CASE_ROLES:
            doc["notes"].append(note)
        else:
            doc["cases"] = classify_patches(
                store, as_of=day, known_at=known_at, use_layers=use_layers
            ).to_dict(lang)
    except GuotuError as exc:
        doc["notes"].append(exc.render(lang))
    try:
        if blocked & CONSOLIDATION_ROLES:
            doc["notes"].append(note)
        else:
            doc["consolidation"] = consolidation_report(
                store, as_of=day, known_at=known_at, use_layers=use_layers
            ).to_dict(lang)
    except GuotuError as exc:
        doc["notes"].append(exc.render(lang))
    return doc
