"""Monitoring indicators (规划实施监测指标) as data: definitions, formulas, targets, status.

A catalogue (YAML, checked against ``schemas/indicators-v1.json``) defines each indicator:
id, names, unit, type (约束性 ``binding`` / 预期性 ``expected``), direction (``>=`` a floor,
``<=`` a cap), a formula, its basis, and — where the formula is a convention rather than a
standard — a ``convention`` note saying so. Formulas are small trees of named operations,
never code:

* ``{area: {role, codes, class, where, within, outside}}``: ellipsoidal area (m²) of the
  features of the layer with that role, filtered by code prefixes of the role's code field
  (``codes``, a list or a ``@set`` of the catalogue), by 三大类 of a 三调 code (``class``:
  ``agricultural``/``construction``/``unused``), by field values (``where``), and clipped
  to the inside (``within``) or outside (``outside``) of another role's polygons;
* ``{count: {role, codes, where}}``: number of features;
* ``{table: NAME}``: a value of an external statistics table for the year (population, water
  use, GDP …), declared under the catalogue's ``inputs``;
* ``{ref: ID}``: another indicator's value, in base units;
* ``{sum: [F, …]}``, ``{difference: [A, B]}``, ``{ratio: [A, B], scale: K}``.

Base units: m² for areas, 1 for counts and ratios, the input's unit for tables; the
indicator's ``unit`` converts areas (``m2``, ``ha``, ``km2``, ``mu``). :func:`status` and
:func:`forecast` turn values and targets into the green/yellow/red warning and the year a
target will be crossed at the current pace.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AREA_UNITS",
    "AreaTerm",
    "Catalogue",
    "Forecast",
    "Formula",
    "Indicator",
    "TableInput",
    "evaluate",
    "forecast",
    "parse_catalogue",
    "status",
    "target_for_year",
]

#: Square metres per unit of each area unit (亩 = 10,000/15 m²).
AREA_UNITS: dict[str, float] = {"m2": 1.0, "ha": 1e4, "km2": 1e6, "mu": 1e4 / 15.0}
#: Units of ratios: ``%`` multiplies by 100 (the formula's ``scale`` does it), ``1`` keeps it.
_OTHER_UNITS = {"%", "1", "m2/person", "m2/10k-yuan", "count", "1e8m3", "person", "10k-yuan"}
_CLASSES = {"agricultural": "农用地", "construction": "建设用地", "unused": "未利用地"}
_OPS = ("area", "count", "table", "ref", "sum", "difference", "ratio")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class AreaTerm:
    """Which features an ``area``/``count`` formula measures."""

    role: str
    codes: tuple[str, ...] = ()
    major_class: str | None = None
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    within: str | None = None
    outside: str | None = None

    def text(self) -> str:
        """A one-line description for lineage."""
        parts = [self.role]
        if self.codes:
            parts.append("codes " + ",".join(self.codes))
        if self.major_class:
            parts.append(f"class {self.major_class}")
        for name, values in self.where:
            parts.append(f"{name} in {','.join(values)}")
        if self.within:
            parts.append(f"within {self.within}")
        if self.outside:
            parts.append(f"outside {self.outside}")
        return " ".join(parts)


@dataclass(frozen=True)
class Formula:
    """A node of a formula tree (see the module docstring)."""

    op: str
    term: AreaTerm | None = None
    name: str | None = None  # table input or referenced indicator
    args: tuple[Formula, ...] = ()
    scale: float = 1.0

    def text(self) -> str:
        """The formula as readable text, e.g. ``ratio(area(land_survey class construction),
        area(admin_boundary)) × 100``."""
        if self.op in ("area", "count"):
            assert self.term is not None
            body = f"{self.op}({self.term.text()})"
        elif self.op in ("table", "ref"):
            body = f"{self.op}({self.name})"
        else:
            body = f"{self.op}(" + ", ".join(a.text() for a in self.args) + ")"
        return body if self.scale == 1.0 else f"{body} × {self.scale:g}"

    def terms(self) -> list[AreaTerm]:
        """Every area/count term under this node."""
        out = [self.term] if self.term is not None else []
        for a in self.args:
            out += a.terms()
        return out

    def refs(self) -> list[str]:
        """Indicators this node refers to."""
        out = [self.name] if self.op == "ref" and self.name else []
        for a in self.args:
            out += a.refs()
        return out

    def tables(self) -> list[str]:
        """Table inputs this node reads."""
        out = [self.name] if self.op == "table" and self.name else []
        for a in self.args:
            out += a.tables()
        return out


@dataclass(frozen=True)
class TableInput:
    """A value read from an external statistics table (per year)."""

    id: str
    name_zh: str
    name_en: str
    unit: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Indicator:
    """One indicator of a catalogue."""

    id: str
    name_zh: str
    name_en: str
    unit: str
    type: str  # binding | expected
    direction: str | None  # ">=" | "<=" | None
    formula: Formula
    basis_zh: str = ""
    basis_en: str = ""
    convention_zh: str | None = None
    convention_en: str | None = None
    aliases: tuple[str, ...] = ()
    warn_margin: float = 0.02
    decimals: int = 2

    def from_base(self, value: float) -> float:
        """A value in base units (m² for areas) in this indicator's unit."""
        return value / AREA_UNITS[self.unit] if self.unit in AREA_UNITS else value


@dataclass(frozen=True)
class Catalogue:
    """A parsed indicator catalogue."""

    id: str
    version: str
    title_zh: str
    title_en: str
    indicators: tuple[Indicator, ...]
    inputs: dict[str, TableInput] = field(default_factory=dict)

    def get(self, indicator_id: str) -> Indicator:
        """The indicator with this id (KeyError otherwise)."""
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def order(self) -> list[Indicator]:
        """Indicators so that each comes after those it refers to."""
        by_id = {i.id: i for i in self.indicators}
        done: list[Indicator] = []
        seen: set[str] = set()

        def visit(ind: Indicator) -> None:
            if ind.id in seen:
                return
            seen.add(ind.id)
            for r in ind.formula.refs():
                visit(by_id[r])
            done.append(ind)

        for ind in self.indicators:
            visit(ind)
        return done


# -- parsing ---------------------------------------------------------------------------------
def _codes(
    value: Any, sets: Mapping[str, list[str]], where: str, problems: list[str]
) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) and value.startswith("@"):
        if value[1:] not in sets:
            problems.append(
                f"{where}: unknown code set {value} (known: "
                f"{', '.join('@' + s for s in sorted(sets)) or 'none'})"
            )
            return ()
        return tuple(str(c) for c in sets[value[1:]])
    if isinstance(value, list) and all(isinstance(c, str) for c in value):
        return tuple(value)
    problems.append(f"{where}: codes must be a list of quoted strings or a @set, not {value!r}")
    return ()


def _term(
    node: Any,
    sets: Mapping[str, list[str]],
    roles: set[str] | None,
    where: str,
    problems: list[str],
) -> AreaTerm:
    if not isinstance(node, dict) or "role" not in node:
        problems.append(f"{where}: needs at least a role")
        return AreaTerm(role="?")
    for key in ("role", "within", "outside"):
        role = node.get(key)
        if role is not None and roles is not None and role not in roles:
            problems.append(f"{where}.{key}: unknown layer role {role!r}")
    major = node.get("class")
    if major is not None and major not in _CLASSES:
        problems.append(f"{where}.class: {major!r} is not one of {', '.join(_CLASSES)}")
    filters = []
    for name, values in (node.get("where") or {}).items():
        vals = values if isinstance(values, list) else [values]
        filters.append((str(name), tuple(str(v) for v in vals)))
    return AreaTerm(
        role=str(node["role"]),
        codes=_codes(node.get("codes"), sets, where + ".codes", problems),
        major_class=major,
        where=tuple(filters),
        within=node.get("within"),
        outside=node.get("outside"),
    )


def _formula(
    node: Any,
    sets: Mapping[str, list[str]],
    roles: set[str] | None,
    where: str,
    problems: list[str],
) -> Formula:
    if not isinstance(node, dict):
        problems.append(f"{where}: a formula is a mapping such as {{area: {{role: …}}}}")
        return Formula("table", name="?")
    ops = [k for k in node if k in _OPS]
    if len(ops) != 1:
        problems.append(
            f"{where}: give exactly one of {', '.join(_OPS)} (got "
            f"{', '.join(map(str, node)) or 'nothing'})"
        )
        return Formula("table", name="?")
    op = ops[0]
    scale = float(node.get("scale", 1.0))
    value = node[op]
    if op in ("area", "count"):
        return Formula(op, term=_term(value, sets, roles, f"{where}.{op}", problems), scale=scale)
    if op in ("table", "ref"):
        return Formula(op, name=str(value), scale=scale)
    if not isinstance(value, list) or not value:
        problems.append(f"{where}.{op}: needs a list of formulas")
        return Formula(op, scale=scale)
    if op in ("difference", "ratio") and len(value) != 2:
        problems.append(f"{where}.{op}: needs exactly two formulas")
    args = tuple(
        _formula(v, sets, roles, f"{where}.{op}[{k}]", problems) for k, v in enumerate(value)
    )
    return Formula(op, args=args, scale=scale)


def parse_catalogue(
    doc: Mapping[str, Any], where: str = "catalogue", roles: set[str] | None = None
) -> tuple[Catalogue, list[str]]:
    """The catalogue of a schema-valid document, and the semantic problems found (unknown
    refs, tables, roles or code sets, reference cycles, duplicate ids, bad units). The
    document's structure is the schema's business (checked before)."""
    problems: list[str] = []
    sets: dict[str, list[str]] = {k: list(v) for k, v in (doc.get("sets") or {}).items()}
    inputs = {
        k: TableInput(k, v["name"]["zh"], v["name"]["en"], v["unit"], tuple(v.get("aliases", ())))
        for k, v in (doc.get("inputs") or {}).items()
    }
    indicators = []
    seen: set[str] = set()
    for k, raw in enumerate(doc.get("indicators") or []):
        at = f"{where}: indicators[{k}] ({raw.get('id')})"
        iid = str(raw.get("id"))
        if iid in seen:
            problems.append(f"{at}: duplicate id {iid}")
        if not _ID.match(iid):
            problems.append(f"{at}: id must be lower_snake_case")
        seen.add(iid)
        unit = raw["unit"]
        if unit not in AREA_UNITS and unit not in _OTHER_UNITS:
            problems.append(
                f"{at}: unknown unit {unit!r} (known: "
                f"{', '.join(sorted(AREA_UNITS) + sorted(_OTHER_UNITS))})"
            )
        formula = _formula(raw.get("formula"), sets, roles, f"{at}.formula", problems)
        conv = raw.get("convention") or {}
        indicators.append(
            Indicator(
                id=iid,
                name_zh=raw["name"]["zh"],
                name_en=raw["name"]["en"],
                unit=unit,
                type=raw.get("type", "expected"),
                direction=raw.get("direction"),
                formula=formula,
                basis_zh=(raw.get("basis") or {}).get("zh", ""),
                basis_en=(raw.get("basis") or {}).get("en", ""),
                convention_zh=conv.get("zh"),
                convention_en=conv.get("en"),
                aliases=tuple(raw.get("aliases", ())),
                warn_margin=float(raw.get("warn_margin", 0.02)),
                decimals=int(raw.get("decimals", 2)),
            )
        )
    ids = {i.id for i in indicators}
    for ind in indicators:
        for r in ind.formula.refs():
            if r not in ids:
                problems.append(f"{where}: {ind.id} refers to unknown indicator {r!r}")
        for t in ind.formula.tables():
            if t not in inputs:
                problems.append(
                    f"{where}: {ind.id} reads unknown table input {t!r} (declare it under inputs)"
                )
    cat = Catalogue(
        id=str(doc.get("id")),
        version=str(doc.get("version", "")),
        title_zh=(doc.get("title") or {}).get("zh", ""),
        title_en=(doc.get("title") or {}).get("en", ""),
        indicators=tuple(indicators),
        inputs=inputs,
    )
    by_id = {i.id: i for i in indicators}
    state: dict[str, int] = {}

    def cyclic(iid: str) -> bool:
        if state.get(iid) == 1:
            return True
        if state.get(iid) == 2 or iid not in by_id:
            return False
        state[iid] = 1
        found = any(cyclic(r) for r in by_id[iid].formula.refs())
        state[iid] = 2
        return found

    for ind in indicators:
        if cyclic(ind.id):
            problems.append(f"{where}: {ind.id} refers to itself through its references")
            break
    return cat, problems


# -- evaluation ------------------------------------------------------------------------------
def evaluate(
    formula: Formula,
    term_value: Callable[[str, AreaTerm], float | None],
    table_value: Callable[[str], float | None],
    ref_value: Callable[[str], float | None],
) -> float | None:
    """The value of ``formula`` in base units; ``None`` when an input is missing (a table
    without the year, a referenced indicator without a value) or a ratio divides by 0."""
    op = formula.op
    value: float | None
    if op in ("area", "count"):
        assert formula.term is not None
        value = term_value(op, formula.term)
    elif op == "table":
        value = table_value(formula.name or "")
    elif op == "ref":
        value = ref_value(formula.name or "")
    else:
        parts = [evaluate(a, term_value, table_value, ref_value) for a in formula.args]
        if any(p is None for p in parts):
            return None
        nums = [float(p) for p in parts if p is not None]
        if op == "sum":
            value = sum(nums)
        elif op == "difference":
            value = nums[0] - nums[1]
        else:
            value = None if nums[1] == 0 else nums[0] / nums[1]
    return None if value is None else value * formula.scale


# -- targets, status, forecast ---------------------------------------------------------------
def target_for_year(targets: Mapping[int, float], year: int) -> tuple[int, float] | None:
    """The milestone a value of ``year`` answers to: the first target year at or after
    ``year`` (the next milestone to reach), else the last one.

    Examples
    --------
    >>> target_for_year({2025: 10.0, 2035: 9.0}, 2027)
    (2035, 9.0)
    >>> target_for_year({2025: 10.0, 2035: 9.0}, 2040)
    (2035, 9.0)
    """
    if not targets:
        return None
    ahead = [y for y in sorted(targets) if y >= year]
    y = ahead[0] if ahead else max(targets)
    return y, float(targets[y])


def status(
    direction: str | None,
    value: float | None,
    target: float | None,
    warn_margin: float,
    crossing_years: float | None = None,
    horizon_years: float = 3.0,
) -> str | None:
    """``red`` when the target is breached, ``yellow`` when the value is within
    ``warn_margin`` (relative) of it or the forecast crosses it within ``horizon_years``,
    ``green`` otherwise; ``None`` without a direction, value or target.

    Examples
    --------
    >>> status(">=", 99.0, 100.0, 0.02), status(">=", 101.0, 100.0, 0.02)
    ('red', 'yellow')
    >>> status("<=", 50.0, 100.0, 0.02), status("<=", 50.0, 100.0, 0.02, crossing_years=2)
    ('green', 'yellow')
    """
    if direction is None or value is None or target is None:
        return None
    gap = (value - target) if direction == ">=" else (target - value)
    if gap < 0:
        return "red"
    if gap < warn_margin * abs(target) or (
        crossing_years is not None and 0 <= crossing_years <= horizon_years
    ):
        return "yellow"
    return "green"


#: Two-sided 80 % Student t quantiles (t₀.₉) by degrees of freedom (standard tables).
_T80 = {
    1: 3.078,
    2: 1.886,
    3: 1.638,
    4: 1.533,
    5: 1.476,
    6: 1.440,
    7: 1.415,
    8: 1.397,
    9: 1.383,
    10: 1.372,
    12: 1.356,
    15: 1.341,
    20: 1.325,
    30: 1.310,
}


def _t80(df: int) -> float:
    if df <= 0:
        return math.inf
    for k in sorted(_T80):
        if df <= k:
            return _T80[k]
    return 1.282


@dataclass(frozen=True)
class Forecast:
    """A linear trend fitted to yearly values and when it crosses a target.

    Attributes
    ----------
    slope_per_year, intercept
        value ≈ intercept + slope × year (least squares).
    residual_sd
        Standard deviation of the residuals (0 with two points).
    crossing_year
        Decimal year at which the trend reaches the target, if it is heading there.
    crossing_early, crossing_late
        The same for the edges of the 80 % prediction band (the band is ± t · s ·
        √(1 + 1/n + (x − x̄)²/Sxx)); ``None`` when that edge never crosses within 50 years.
    """

    slope_per_year: float
    intercept: float
    residual_sd: float
    points: int
    crossing_year: float | None
    crossing_early: float | None
    crossing_late: float | None

    def value_at(self, year: float) -> float:
        """The trend's value at ``year``."""
        return self.intercept + self.slope_per_year * year


def forecast(
    years: Sequence[float],
    values: Sequence[float],
    target: float | None,
    direction: str | None,
    horizon: float = 50.0,
    start: float | None = None,
) -> Forecast | None:
    """The linear trend of ``values`` over ``years`` and when it crosses ``target`` from
    the allowed side (a floor falling through it, a cap rising through it), looking from
    ``start`` (default the last observation) on. ``None`` with fewer than two points.

    Examples
    --------
    >>> f = forecast([2021, 2022, 2023, 2024], [110.0, 108.0, 106.0, 104.0], 100.0, ">=")
    >>> round(f.slope_per_year, 6), round(f.crossing_year, 6)
    (-2.0, 2026.0)
    """
    n = len(years)
    if n < 2:
        return None
    xs = [float(y) for y in years]
    ys = [float(v) for v in values]
    xm, ym = sum(xs) / n, sum(ys) / n
    sxx = sum((x - xm) ** 2 for x in xs)
    if sxx == 0:
        return None
    slope = sum((x - xm) * (y - ym) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = ym - slope * xm
    resid = [y - (intercept + slope * x) for x, y in zip(xs, ys, strict=True)]
    sd = math.sqrt(sum(r * r for r in resid) / (n - 2)) if n > 2 else 0.0
    if target is None or direction is None:
        return Forecast(slope, intercept, sd, n, None, None, None)
    last = max(xs) if start is None else max(max(xs), start)
    t = _t80(n - 2) if n > 2 else 0.0

    def half_width(x: float) -> float:
        return t * sd * math.sqrt(1 + 1 / n + (x - xm) ** 2 / sxx) if sd > 0 else 0.0

    def crossing(edge: float) -> float | None:
        # first year after the last observation where trend + edge·band passes the target
        step = 1 / 12
        x = last
        while x <= last + horizon:
            v = intercept + slope * x + edge * half_width(x)
            if (direction == ">=" and v < target) or (direction == "<=" and v > target):
                return round(x, 3)
            x += step
        return None

    central = None
    heading = (slope < 0) if direction == ">=" else (slope > 0)
    if heading and slope != 0:
        central = (target - intercept) / slope
        central = central if central >= last - 1e-9 else None
    worse = -1.0 if direction == ">=" else 1.0
    return Forecast(slope, intercept, sd, n, central, crossing(worse), crossing(-worse))
