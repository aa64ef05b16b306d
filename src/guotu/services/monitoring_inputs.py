"""Inputs of the monitoring indicators: the catalogue (YAML, schema-checked), plan targets
and statistics tables by year, and the units they are written in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import jsonschema

from guotu.domain.indicators import AREA_UNITS, Catalogue, parse_catalogue
from guotu.domain.roles import ROLES
from guotu.domain.rules.tables import indicator_name, to_hectares
from guotu.errors import ConfigError
from guotu.io.safe_yaml import load_yaml
from guotu.io.year_table import read_year_table

__all__ = ["BUILTIN_CATALOGUES", "Statistics", "Targets", "convert_unit", "find_catalogue",
           "load_catalogue", "read_statistics", "read_targets"]

#: Catalogues shipped in the package (``guotu/catalogues``), by id.
BUILTIN_CATALOGUES = ("cn-core",)


# -- catalogue -------------------------------------------------------------------------------
def find_catalogue(name: str | Path) -> Path:
    """The file of a catalogue: a path, or a built-in id (``cn-core``)."""
    p = Path(name)
    if p.suffix.lower() in (".yaml", ".yml", ".json") or p.exists():
        return p
    builtin = files("guotu") / "catalogues" / f"{name}.yaml"
    if builtin.is_file():
        return Path(str(builtin))
    raise ConfigError(f"There is no indicator catalogue {name!r}.",
                      fix=f"Give a YAML file or one of: {', '.join(BUILTIN_CATALOGUES)}.",
                      message_zh=f"没有名为 {name!r} 的指标目录。",
                      fix_zh=f"请指定 YAML 文件，或内置目录之一：{'、'.join(BUILTIN_CATALOGUES)}。")


def load_catalogue(name: str | Path = "cn-core") -> Catalogue:
    """Read, schema-check and parse a catalogue; every problem is listed at once.

    Raises
    ------
    ConfigError
        A missing file, YAML that does not parse or that :func:`guotu.io.safe_yaml.load_yaml`
        refuses (too large, not UTF-8, anchors, too deep …), or any schema or semantic
        problem (each with its file and JSON path).

    Examples
    --------
    >>> cat = load_catalogue()
    >>> cat.get("cultivated_land").name_zh, cat.get("development_intensity").unit
    ('耕地保有量', '%')
    """
    path = find_catalogue(name)
    if not path.is_file():
        raise ConfigError(f"Indicator catalogue {path} does not exist.", file=str(path),
                          message_zh=f"指标目录文件 {path} 不存在。")
    data = load_yaml(path, what_zh="指标目录", what_en="indicator catalogue")
    schema = json.loads((files("guotu") / "schemas" / "indicators-v1.json")
                        .read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data),
                    key=lambda e: [str(x) for x in e.path])
    problems = [f"{path}: {e.json_path}: {e.message}" for e in errors]
    if not problems:
        catalogue, semantic = parse_catalogue(data, str(path), {r.id for r in ROLES})
        problems += semantic
    if problems:
        listed = "\n  ".join(problems)
        raise ConfigError(f"Indicator catalogue {path} has {len(problems)} problem(s):\n  "
                          f"{listed}", file=str(path),
                          message_zh=f"指标目录 {path} 有 {len(problems)} 处问题：\n  {listed}")
    return catalogue


# -- units, targets and statistics -----------------------------------------------------------
_OTHER = {"%": {"%": 1.0, "％": 1.0, "百分比": 1.0},
          "m2/person": {"平方米/人": 1.0, "m2/人": 1.0, "m²/人": 1.0, "㎡/人": 1.0},
          "m2/10k-yuan": {"平方米/万元": 1.0, "m2/万元": 1.0, "m²/万元": 1.0},
          "1e8m3": {"亿立方米": 1.0, "亿m3": 1.0, "亿m³": 1.0, "万立方米": 1e-4},
          "person": {"人": 1.0, "万人": 1e4},
          "10k-yuan": {"万元": 1.0, "亿元": 1e4, "元": 1e-4},
          "count": {"个": 1.0, "件": 1.0, "处": 1.0}, "1": {}}


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


@dataclass(frozen=True)
class Statistics:
    """External statistics (population, water use, GDP …) by input and year."""

    values: dict[str, dict[int, float]]
    source: str = ""
    unmatched: tuple[str, ...] = ()

    def value(self, name: str, year: int) -> tuple[int, float] | None:
        """The value of ``name`` for ``year``, or of the latest earlier year."""
        series = self.values.get(name) or {}
        years = [y for y in series if y <= year]
        if not years:
            return None
        y = max(years)
        return y, series[y]


def _read_matched(path: str | Path, names: dict[str, list[str]], units: dict[str, str],
                  what: tuple[str, str]) -> tuple[dict[str, dict[int, float]], tuple[str, ...]]:
    """The items of a year table matched by name to ``names`` (key → accepted names), each
    value converted to its key's unit; and the names that matched nothing."""
    values: dict[str, dict[int, float]] = {}
    unmatched = []
    for series in read_year_table(path):
        key = _match(series.name, names)
        if key is None:
            unmatched.append(series.name)
            continue
        unit = units[key]
        converted = {}
        for year, v in series.values.items():
            c = convert_unit(v, series.unit, unit)
            if c is None:
                where = f"row {series.row} ({series.name})" if series.row else series.name
                where_zh = (f"第 {series.row} 行（{series.name}）" if series.row
                            else series.name)
                raise ConfigError(
                    f"{what[0]} {path}, {where}: unit {series.unit!r} does not convert to "
                    f"{unit}.", file=str(path), feature=where, field="单位",
                    fix=f"Give the values in {unit} or a unit of the same kind.",
                    message_zh=f"{what[1]} {path} {where_zh}的单位 {series.unit!r} 无法换算为 "
                               f"{unit}。", fix_zh="请使用同类单位填写。")
            converted[year] = c
        values[key] = converted
    return values, tuple(unmatched)


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
    names = {i.id: [indicator_name(n) for n in (i.name_zh, i.name_en, i.id, *i.aliases)]
             for i in catalogue.indicators}
    values, unmatched = _read_matched(path, names, {i.id: i.unit for i in catalogue.indicators},
                                      ("Targets table", "目标表"))
    return Targets(values, str(path), unmatched)


def read_statistics(path: str | Path, catalogue: Catalogue) -> Statistics:
    """Statistics (population, water use, GDP …) by year, matched to the catalogue's
    ``inputs`` by name or alias and converted to their units."""
    names = {k: [indicator_name(n) for n in (t.name_zh, t.name_en, k, *t.aliases)]
             for k, t in catalogue.inputs.items()}
    values, unmatched = _read_matched(path, names,
                                      {k: t.unit for k, t in catalogue.inputs.items()},
                                      ("Statistics table", "统计表"))
    return Statistics(values, str(path), unmatched)
