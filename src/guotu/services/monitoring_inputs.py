"""Inputs of the monitoring indicators: plan targets and statistics tables by year, the units
they are written in, and the catalogue they are matched to
(:mod:`guotu.services.indicator_catalogue`).

Targets (规划目标) and statistics (社会经济统计) belong to the workspace: :func:`import_table`
checks a file exactly as ``--targets``/``--statistics`` read it and records it as a new
version of the workspace's table ``targets`` or ``statistics`` (:mod:`guotu.store.tables`);
:func:`load_inputs` gives a run the table in force on its date (as known at its record
time), unless a file given for the run overrides it, and says which it used
(:class:`~guotu.services.input_source.InputSource`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from guotu.domain.core.catalog import TableVersion, VersionSpec, YearValue
from guotu.domain.core.plan_labels import plan_version_label
from guotu.domain.monitoring.indicators import AREA_UNITS, Catalogue
from guotu.domain.review.tables import indicator_name, to_hectares
from guotu.errors import ConfigError
from guotu.io.year_table import YearSeries, read_year_table
from guotu.ports import FeatureStore
from guotu.services.indicator_catalogue import BUILTIN_CATALOGUES, find_catalogue, load_catalogue
from guotu.services.input_source import TABLE_KINDS, InputSource, check_kind, local_time

__all__ = [
    "BUILTIN_CATALOGUES",
    "TABLE_KINDS",
    "InputSource",
    "Statistics",
    "TableImport",
    "Targets",
    "check_kind",
    "convert_unit",
    "find_catalogue",
    "import_table",
    "inputs_to_dict",
    "load_catalogue",
    "load_inputs",
    "local_time",
    "read_statistics",
    "read_targets",
    "workspace_table",
]

# -- units, targets and statistics -----------------------------------------------------------
_OTHER = {
    "%": {"%": 1.0, "％": 1.0, "百分比": 1.0},
    "m2/person": {"平方米/人": 1.0, "m2/人": 1.0, "m²/人": 1.0, "㎡/人": 1.0},
    "m2/10k-yuan": {"平方米/万元": 1.0, "m2/万元": 1.0, "m²/万元": 1.0},
    "1e8m3": {"亿立方米": 1.0, "亿m3": 1.0, "亿m³": 1.0, "万立方米": 1e-4},
    "person": {"人": 1.0, "万人": 1e4},
    "10k-yuan": {"万元": 1.0, "亿元": 1e4, "元": 1e-4},
    "count": {"个": 1.0, "件": 1.0, "处": 1.0},
    "1": {},
}


def convert_unit(value: float, from_unit: str, to_unit: str) -> float | None:
    """``value`` given in ``from_unit`` (as tables write it: 公顷, 平方公里, 亩, %, 万人 …) in
    the catalogue unit ``to_unit``; an empty ``from_unit`` means already ``to_unit``;
    ``None`` when the two do not convert.

    Examples
    --------
    >>> convert_unit(1.5, "平方公里", "ha"), convert_unit(30, "万人", "person")
    (150.0, 300000.0)
    >>> convert_unit(3.0, "公顷", "%") is None
    True
    """
    unit = from_unit.strip().replace(" ", "")
    if not unit or unit == to_unit:
        return value
    if to_unit in AREA_UNITS:
        ha = to_hectares(value, unit)
        return None if ha is None else ha * 1e4 / AREA_UNITS[to_unit]
    factor = _OTHER.get(to_unit, {}).get(unit)
    return None if factor is None else value * factor


def _match(name: str, candidates: dict[str, list[str]]) -> str | None:
    key = indicator_name(name)
    for target, names in candidates.items():
        if key in names:
            return target
    return None


@dataclass(frozen=True)
class Targets:
    """Plan targets by indicator and year, in the indicators' units."""

    values: dict[str, dict[int, float]]
    source: str = ""
    unmatched: tuple[str, ...] = ()
    origin: InputSource | None = None


@dataclass(frozen=True)
class Statistics:
    """External statistics (population, water use, GDP …) by input and year."""

    values: dict[str, dict[int, float]]
    source: str = ""
    unmatched: tuple[str, ...] = ()
    origin: InputSource | None = None

    def value(self, name: str, year: int) -> tuple[int, float] | None:
        """The value of ``name`` for ``year``, or of the latest earlier year."""
        series = self.values.get(name) or {}
        years = [y for y in series if y <= year]
        if not years:
            return None
        y = max(years)
        return y, series[y]


def _match_series(
    series: Iterable[YearSeries],
    names: dict[str, list[str]],
    units: dict[str, str],
    what: tuple[str, str],
    where: tuple[str, str],
    file: str | None,
) -> tuple[dict[str, dict[int, float]], tuple[str, ...]]:
    """The items of a year table matched by name to ``names`` (key → accepted names), each
    value converted to its key's unit; and the names that matched nothing. ``what`` and
    ``where`` name the table in messages (en, zh)."""
    values: dict[str, dict[int, float]] = {}
    unmatched = []
    for s in series:
        key = _match(s.name, names)
        if key is None:
            unmatched.append(s.name)
            continue
        unit = units[key]
        converted = {}
        for year, v in s.values.items():
            c = convert_unit(v, s.unit, unit)
            if c is None:
                row = f"row {s.row} ({s.name})" if s.row else s.name
                row_zh = f"第 {s.row} 行（{s.name}）" if s.row else s.name
                raise ConfigError(
                    f"{what[0]} {where[0]}, {row}: unit {s.unit!r} does not convert to {unit}.",
                    file=file,
                    feature=row,
                    field="单位",
                    fix=f"Give the values in {unit} or a unit of the same kind.",
                    message_zh=f"{what[1]} {where[1]} {row_zh}的单位 {s.unit!r} 无法换算为 "
                    f"{unit}。",
                    fix_zh="请使用同类单位填写。",
                )
            converted[year] = c
        values[key] = converted
    return values, tuple(unmatched)


_WHAT = {"targets": ("Targets table", "目标表"), "statistics": ("Statistics table", "统计表")}


def _names_units(kind: str, catalogue: Catalogue) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Accepted names and unit of every key a ``kind`` table is matched to: the indicators
    (targets) or the ``inputs`` (statistics)."""
    if kind == "targets":
        return (
            {
                i.id: [indicator_name(n) for n in (i.name_zh, i.name_en, i.id, *i.aliases)]
                for i in catalogue.indicators
            },
            {i.id: i.unit for i in catalogue.indicators},
        )
    return (
        {
            k: [indicator_name(n) for n in (t.name_zh, t.name_en, k, *t.aliases)]
            for k, t in catalogue.inputs.items()
        },
        {k: t.unit for k, t in catalogue.inputs.items()},
    )


def _parse(
    kind: str,
    series: Iterable[YearSeries],
    catalogue: Catalogue,
    where: tuple[str, str],
    file: str | None,
) -> tuple[dict[str, dict[int, float]], tuple[str, ...]]:
    """Match and convert a targets (to the indicators) or statistics (to the ``inputs``)
    table."""
    names, units = _names_units(kind, catalogue)
    return _match_series(series, names, units, _WHAT[kind], where, file)


def read_targets(path: str | Path, catalogue: Catalogue) -> Targets:
    """Targets from a table with a row per indicator and a column per target year, matched
    to the catalogue by name (or alias) and converted from the row's unit.

    Raises
    ------
    LayerError
        An unreadable table or a value that is not a number.
    ConfigError
        A unit that does not convert to the indicator's.
    """
    values, unmatched = _parse(
        "targets", read_year_table(path), catalogue, (str(path), str(path)), str(path)
    )
    return Targets(values, str(path), unmatched, InputSource("targets", "file", str(path)))


def read_statistics(path: str | Path, catalogue: Catalogue) -> Statistics:
    """Statistics (population, water use, GDP …) by year, matched to the catalogue's
    ``inputs`` by name or alias and converted to their units."""
    values, unmatched = _parse(
        "statistics", read_year_table(path), catalogue, (str(path), str(path)), str(path)
    )
    return Statistics(values, str(path), unmatched, InputSource("statistics", "file", str(path)))


# -- the workspace's tables ------------------------------------------------------------------
def _rows_of(series: Sequence[YearSeries]) -> list[YearValue]:
    return [YearValue(s.name, s.unit, y, v, s.row) for s in series for y, v in s.values.items()]


def _series_of(rows: Sequence[YearValue]) -> list[YearSeries]:
    """Stored rows back as the series they came from (by item, unit and row, in order)."""
    grouped: dict[tuple[str, str, int], dict[int, float]] = {}
    for r in rows:
        grouped.setdefault((r.item, r.unit, r.source_row), {})[r.year] = r.value
    return [YearSeries(name, unit, values, row) for (name, unit, row), values in grouped.items()]


@dataclass(frozen=True)
class TableImport:
    """What ``guotu monitor targets|statistics import`` recorded."""

    kind: str
    file: str
    recorded: TableVersion
    matched: tuple[str, ...]
    unmatched: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document."""
        r = self.recorded
        return {
            "kind": self.kind,
            "file": self.file,
            **r.to_dict(),
            "plan_version_label": plan_version_label(r.plan, r.version.label),
            "matched": list(self.matched),
            "unmatched": list(self.unmatched),
        }


def import_table(
    store: FeatureStore,
    kind: str,
    path: str | Path,
    catalogue: Catalogue,
    *,
    version: VersionSpec | None = None,
    actor: str = "",
    reason: str = "",
) -> TableImport:
    """Check a targets or statistics file as ``--targets``/``--statistics`` would read it,
    then record it in the workspace as a new version of its table ``kind`` (or in
    ``version`` of a plan). Every value is kept as written (names matching nothing too);
    matching and units are applied when it is read.

    Raises
    ------
    LayerError
        An unreadable table or a value that is not a number (naming the row and column).
    ConfigError
        A unit that does not convert (naming the row), no row with a value that matches the
        catalogue (the wrong file), or more names of the other kind than of this one (a
        targets table given as statistics, or the reverse).
    """
    check_kind(kind)
    p = Path(path)
    series = read_year_table(p)
    values, unmatched = _parse(kind, series, catalogue, (str(p), str(p)), str(p))
    if not any(values.values()):
        zh_name, en_name = TABLE_KINDS[kind]
        listed = "、".join(unmatched[:8]) or "（无）"
        known = (
            [i.name_zh for i in catalogue.indicators]
            if kind == "targets"
            else [t.name_zh for t in catalogue.inputs.values()]
        )[:3]
        raise ConfigError(
            f"No row of {p} with a value matches the {en_name} of catalogue {catalogue.id} "
            f"(names in it: {', '.join(unmatched[:8]) or 'none'}); nothing was recorded.",
            file=str(p),
            fix=f"Give the {en_name} table, its names as in the catalogue ({', '.join(known)} …).",
            message_zh=f"{p} 中没有与指标目录 {catalogue.id} 的{zh_name}匹配且有数值的行（其中的"
            f"名称：{listed}），未写入任何内容。",
            fix_zh=f"请指定{zh_name}表，名称须与指标目录一致（{'、'.join(known)} …）。",
        )
    _check_not_the_other_kind(kind, series, catalogue, len(values), p)
    recorded = store.write_table(
        kind, _rows_of(series), source=p.name, version=version, actor=actor, reason=reason
    )
    return TableImport(kind, str(p), recorded, tuple(values), unmatched)


def _check_not_the_other_kind(
    kind: str, series: Sequence[YearSeries], catalogue: Catalogue, matched: int, path: Path
) -> None:
    """Refuse a table more of whose names are those of the other kind (a targets table given
    as statistics or the reverse: 用水总量 is both an indicator and a statistic)."""
    other = "statistics" if kind == "targets" else "targets"
    names, _units = _names_units(other, catalogue)
    theirs = [s.name for s in series if s.values and _match(s.name, names) is not None]
    if len(theirs) <= matched:
        return
    zh_name, en_name = TABLE_KINDS[kind]
    other_zh, other_en = TABLE_KINDS[other]
    raise ConfigError(
        f"{path} looks like a table of {other_en}, not of {en_name}: {len(theirs)} of its "
        f"names are {other_en} ({', '.join(theirs[:6])}), {matched} {en_name}; nothing was "
        "recorded.",
        file=str(path),
        fix=f"Import it with guotu monitor {other} import, or give the {en_name} table.",
        message_zh=f"{path} 像是{other_zh}表，而不是{zh_name}表：其中 {len(theirs)} 个名称属于"
        f"{other_zh}（{'、'.join(theirs[:6])}），只有 {matched} 个属于{zh_name}；未写入任何内容。",
        fix_zh=f"请用 guotu monitor {other} import 导入它，或指定{zh_name}表。",
    )


def workspace_table(
    store: FeatureStore,
    kind: str,
    catalogue: Catalogue,
    *,
    as_of: date | None = None,
    known_at: datetime | None = None,
    cache: dict[Any, Any] | None = None,
) -> Targets | Statistics:
    """The workspace's ``kind`` table in force on ``as_of`` as known at ``known_at``, matched
    to ``catalogue``; empty, with origin ``"none"``, when there is none. ``cache`` (a dict the
    caller keeps) returns the same object for the same recording, so an engine's memo holds.

    Raises
    ------
    ConfigError
        A unit that does not convert to ``catalogue``'s (a catalogue other than the one the
        table was checked against at import).
    """
    check_kind(kind)
    found = None
    if any(t.name == kind for t in store.tables()):
        found = store.table_version(kind, as_of=as_of, known_at=known_at)
    make = Targets if kind == "targets" else Statistics
    if found is None:
        return make({}, "", (), InputSource(kind, "none", as_of=as_of or date.today()))
    key = (kind, found.version.id, catalogue.id, catalogue.version, id(catalogue))
    if cache is not None and key in cache:
        return cache[key]  # type: ignore[no-any-return]
    label = f"{found.plan}/{found.version.label}"
    rows = store.read_table(kind, version_id=found.version.id)
    values, unmatched = _parse(
        kind,
        _series_of(rows),
        catalogue,
        (
            f"{plan_version_label(found.plan, found.version.label, 'en')}"
            f" ({kind}, from {found.source})",
            f"{plan_version_label(found.plan, found.version.label)}"
            f"（{kind}，导入自 {found.source}）",
        ),
        None,
    )
    parsed = make(values, label, unmatched, InputSource(kind, "workspace", table=found))
    if cache is not None:
        cache[key] = parsed
    return parsed


def load_inputs(
    store: FeatureStore,
    catalogue: Catalogue,
    *,
    targets_file: str | Path | None = None,
    statistics_file: str | Path | None = None,
    as_of: date | None = None,
    known_at: datetime | None = None,
    cache: dict[Any, Any] | None = None,
) -> tuple[Targets, Statistics]:
    """The targets and statistics of a monitoring run: a file given (``--targets``,
    ``--statistics``, the server's settings) overrides the workspace's table for this run;
    otherwise the workspace's table in force on ``as_of`` as known at ``known_at``; otherwise
    none. Each carries its :class:`InputSource` (``origin``). With ``cache`` (a dict a
    long-running caller keeps for one workspace) a file is read once and the same recording
    gives the same object.

    Examples
    --------
    >>> from guotu.store.memory import MemoryStore
    >>> targets, statistics = load_inputs(MemoryStore(), load_catalogue())
    >>> targets.origin.origin, statistics.values
    ('none', {})
    """
    found: list[Any] = []
    for kind, path in (("targets", targets_file), ("statistics", statistics_file)):
        own = workspace_table(store, kind, catalogue, as_of=as_of, known_at=known_at, cache=cache)
        found.append(own if not path else _file_input(kind, path, catalogue, own, cache))
    return found[0], found[1]


def _file_input(
    kind: str,
    path: str | Path,
    catalogue: Catalogue,
    own: Targets | Statistics,
    cache: dict[Any, Any] | None,
) -> Targets | Statistics:
    """The file's table, its origin naming the workspace recording it overrides."""
    overridden = None if own.origin is None else own.origin.table
    key = (
        "file",
        kind,
        str(path),
        id(catalogue),
        None if overridden is None else overridden.version.id,
    )
    if cache is not None and key in cache:
        return cache[key]  # type: ignore[no-any-return]
    read: Targets | Statistics = (
        read_targets(path, catalogue) if kind == "targets" else read_statistics(path, catalogue)
    )
    parsed = replace(read, origin=InputSource(kind, "file", str(path), overridden))
    if cache is not None:
        cache[key] = parsed
    return parsed


def inputs_to_dict(
    targets: Targets, statistics: Statistics, *, bare_names: bool = False
) -> dict[str, Any]:
    """``{"targets": …, "statistics": …}``: where each came from (the ``inputs`` part of
    ``guotu monitor indicators --json`` and of the dashboard's JSON)."""
    return {
        kind: (None if t.origin is None else t.origin.to_dict(bare_names=bare_names))
        for kind, t in (("targets", targets), ("statistics", statistics))
    }
