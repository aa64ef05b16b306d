"""Data-quality checks (质检): the check registry, findings and the per-layer checks.

A *check* is a named operator (``invalid_geometry``, ``overlaps`` …) applied, with
parameters, to the layers of some roles. The list of checks is data (``guotu/data/checks.yaml``,
parsed by :func:`parse_check_list`); the operators are Python functions registered by name
with :func:`register_check`. An unknown operator fails at load time and lists the known ones.

Checks are pure: they take :class:`LayerData` (arrays of fids, shapely geometries and
attribute values, in a projected CRS) and return :class:`Finding` records, never exceptions.
A check that cannot run (no plan boundary for the gap check) returns :class:`Skipped` with
the reason. This module holds the engine; the attribute and code checks are in
:mod:`guotu.domain.attributes`, the geometry and topology checks (validity, duplicates, 碎片,
overlaps, gaps, containment) in :mod:`guotu.domain.topology`.

Tolerances are parameters with their unit in the name (``tolerance_area_m2``). Areas in
findings are ellipsoidal (椭球面积, :func:`guotu.domain.area.ellipsoidal_area_m2`).
Invalid geometries are repaired with ``shapely.make_valid`` only to measure areas and overlay;
findings computed on a repaired geometry say so (``is_repaired``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS

from guotu.domain.roles import ROLES
from guotu.errors import ConfigError

__all__ = [
    "CHECKS",
    "ID_FIELDS",
    "POLYGONAL_TYPES",
    "CheckContext",
    "CheckFunction",
    "CheckRun",
    "CheckSpec",
    "Finding",
    "LayerData",
    "Registry",
    "Severity",
    "Skipped",
    "anchor_points",
    "as_text",
    "feature_label",
    "feature_ref",
    "parse_check_list",
    "polygonal_parts",
    "register_check",
    "repair_polygonal",
    "run_checks",
]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Fields naming a feature for people, in order of preference.
ID_FIELDS: tuple[str, ...] = ("BSM", "DKBH", "DYBH", "TBBH", "XMDM", "YJJBNTTBBH", "XZQDM")
#: The field that names a feature of each role (from :data:`guotu.domain.roles.ROLES`).
ROLE_ID_FIELDS: dict[str, str] = {r.id: r.id_field for r in ROLES}


class Severity(StrEnum):
    """How serious a finding is; ordered ``info < warning < error``."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for error."""
        return ("info", "warning", "error").index(self.value)

    @classmethod
    def parse(cls, value: str) -> Severity:
        """The severity called ``value``; :class:`ConfigError` lists the names.

        Examples
        --------
        >>> Severity.parse("warning").rank
        1
        """
        try:
            return cls(value)
        except ValueError:
            raise ConfigError(
                f"Unknown severity {value!r}.", fix="Use one of: error, warning, info."
            ) from None


@dataclass(frozen=True)
class Finding:
    """One problem found by one check: a record, never an exception.

    Attributes
    ----------
    check
        The check id (``geometry.invalid``).
    layer
        The layer name.
    severity
        error, warning or info.
    message_zh, message_en
        Full sentences naming the layer, feature and field, and the fix.
    fid
        The feature (GeoPackage fid), ``None`` for layer-level findings and gaps.
    id_field, id_value
        The feature's human identifier (DKBH, TBBH, BSM …) when the layer has one.
    field, value, unit, limit
        The attribute checked, the value found, its unit and the limit it broke.
    area_m2
        Ellipsoidal area of the problem (overlap, gap, part outside …).
    location
        A point on the problem (x, y in the workspace CRS).
    geometry
        The problem's geometry (overlap, gap …), or ``None``.
    related_fids
        Other features involved (the other side of an overlap, the duplicates).
    is_repaired
        The feature's geometry was invalid and repaired with make_valid to compute this.
    """

    check: str
    layer: str
    severity: Severity
    message_zh: str
    message_en: str
    fid: int | None = None
    id_field: str | None = None
    id_value: str | None = None
    field: str | None = None
    value: str | float | None = None
    unit: str | None = None
    limit: str | None = None
    area_m2: float | None = None
    location: tuple[float, float] | None = None
    geometry: shapely.Geometry | None = None
    related_fids: tuple[int, ...] = ()
    is_repaired: bool = False

    def sort_key(self) -> tuple[str, str, int, tuple[int, ...], str, float, float]:
        """Deterministic order: check id, layer, feature, related features, field, location."""
        x, y = self.location if self.location is not None else (math.inf, math.inf)
        return (
            self.check,
            self.layer,
            -1 if self.fid is None else self.fid,
            self.related_fids,
            self.field or "",
            x,
            y,
        )


@dataclass(frozen=True)
class Skipped:
    """A check that could not run on a layer, and why."""

    check: str
    layer: str
    reason_zh: str
    reason_en: str


@dataclass(frozen=True)
class LayerData:
    """A layer as arrays: what checks read. Geometries are in ``crs`` (projected, metres).

    Attributes
    ----------
    name, role
        Layer name and role id.
    crs
        Projected CRS of the geometries.
    fids
        Feature ids, one per geometry.
    geometries
        Shapely geometries (``None`` for a missing geometry).
    attributes
        Column name → object array of values (``None`` for null).
    """

    name: str
    role: str
    crs: CRS
    fids: IntArray
    geometries: ObjArray
    attributes: Mapping[str, ObjArray] = field(default_factory=dict)

    @functools.cached_property
    def id_field(self) -> str | None:
        """The role's own id field if the layer has it, else the first of :data:`ID_FIELDS`."""
        own = ROLE_ID_FIELDS.get(self.role)
        if own in self.attributes:
            return own
        return next((f for f in ID_FIELDS if f in self.attributes), None)

    @functools.cached_property
    def is_valid(self) -> BoolArray:
        """Validity of each geometry (missing and empty count as valid)."""
        g = self.geometries
        return np.asarray(
            shapely.is_valid(g) | shapely.is_missing(g) | shapely.is_empty(g), dtype=bool
        )

    @functools.cached_property
    def repaired(self) -> ObjArray:
        """The geometries with invalid ones repaired (make_valid, polygonal parts kept)."""
        out = self.geometries.copy()
        bad = ~self.is_valid
        if bad.any():
            out[bad] = repair_polygonal(out[bad])
        return out

    def feature_id(self, pos: int) -> str | None:
        """Value of :attr:`id_field` for the feature at position ``pos``, as text."""
        if self.id_field is None:
            return None
        return as_text(self.attributes[self.id_field][pos])

    def feature_key(self, pos: int) -> tuple[str | None, str | None]:
        """(field, value) naming this feature: the role's own id field (DKBH for parcels,
        DYBH for units …) when filled in, else the first filled of :data:`ID_FIELDS` — so a
        parcel with a blank DKBH is still named by its BSM."""
        own = ROLE_ID_FIELDS.get(self.role)
        order = ((own,) if own else ()) + tuple(f for f in ID_FIELDS if f != own)
        for name in order:
            if name in self.attributes:
                value = as_text(self.attributes[name][pos])
                if value is not None:
                    return name, value
        return None, None


class CheckContext:
    """Every layer a check may look at, by name, with cached unions per role.

    Parameters
    ----------
    layers
        The loaded layers (the ones checked and the ones they refer to).
    """

    def __init__(self, layers: Iterable[LayerData]) -> None:
        self.layers: dict[str, LayerData] = {layer.name: layer for layer in layers}
        self._unions: dict[str, shapely.Geometry | None] = {}

    def with_role(self, role: str) -> list[LayerData]:
        """The layers of ``role``, by name."""
        return [self.layers[n] for n in sorted(self.layers) if self.layers[n].role == role]

    def union_of_role(self, role: str) -> shapely.Geometry | None:
        """Union of every (repaired) polygon of every layer of ``role``; ``None`` if there is none."""
        if role not in self._unions:
            parts = [polygonal_parts(layer.repaired) for layer in self.with_role(role)]
            geoms = np.concatenate(parts) if parts else np.empty(0, dtype=object)
            self._unions[role] = shapely.union_all(geoms) if len(geoms) else None
        return self._unions[role]


CheckResult = Sequence[Finding] | Skipped
CheckFunction = Callable[["CheckSpec", LayerData, CheckContext], CheckResult]
F = TypeVar("F", bound=Callable[..., Any])


class Registry(Generic[F]):
    """Functions registered by name (check operators here; review operators reuse it).

    Examples
    --------
    >>> ops: Registry[Callable[[int], int]] = Registry("operator")
    >>> @ops.register("double")
    ... def _double(x: int) -> int:
    ...     return 2 * x
    >>> ops.get("double")(4)
    8
    """

    def __init__(self, kind: str, loader: Callable[[], None] | None = None) -> None:
        self.kind = kind
        self._functions: dict[str, F] = {}
        self._loader = loader
        self._lock = threading.RLock()
        self._loading = False

    def register(self, name: str) -> Callable[[F], F]:
        """Decorator registering a function under ``name`` (a name is registered once)."""

        def deco(fn: F) -> F:
            if name in self._functions and self._functions[name] is not fn:
                raise ConfigError(f"The {self.kind} {name!r} is registered twice.")
            self._functions[name] = fn
            return fn

        return deco

    def names(self) -> tuple[str, ...]:
        """Every registered name, sorted."""
        self._load()
        return tuple(sorted(self._functions))

    def get(self, name: str) -> F:
        """The function called ``name``; :class:`ConfigError` lists the known names."""
        self._load()
        try:
            return self._functions[name]
        except KeyError:
            raise ConfigError(
                f"Unknown {self.kind} {name!r}.", fix=f"Known: {', '.join(self.names())}."
            ) from None

    def _load(self) -> None:
        # Threads asking at once (the web app's first requests) wait for one load: the
        # loader is only cleared once its operators are registered.
        if self._loader is None:
            return
        with self._lock:
            loader = self._loader
            if loader is None or self._loading:  # done, or asked again while loading
                return
            self._loading = True
            try:
                loader()
            finally:
                self._loading = False
            self._loader = None


def _load_builtin_checks() -> None:
    # Importing these modules registers their operators.
    import guotu.domain.attributes
    import guotu.domain.topology  # noqa: F401


#: The check operators, by name.
CHECKS: Registry[CheckFunction] = Registry("check operator", _load_builtin_checks)


def register_check(name: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check operator under ``name``.

    Examples
    --------
    >>> @register_check("doc_example_nothing")
    ... def _nothing(spec: CheckSpec, layer: LayerData, ctx: CheckContext) -> list[Finding]:
    ...     return []
    >>> "doc_example_nothing" in CHECKS.names()
    True
    """
    return CHECKS.register(name)


@dataclass(frozen=True)
class CheckSpec:
    """One configured check (an entry of ``checks.yaml``).

    ``roles`` holds role ids (``"*"`` = every role), ``layers`` layer names; a layer is
    checked when its role or its name is listed and its role is not in ``exclude_roles``.
    """

    id: str
    name_zh: str
    name_en: str
    severity: Severity
    operator: str
    roles: tuple[str, ...] = ("*",)
    layers: tuple[str, ...] = ()
    exclude_roles: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)

    def applies_to(self, layer: LayerData) -> bool:
        """Whether this check runs on ``layer``."""
        if layer.role in self.exclude_roles:
            return False
        return layer.name in self.layers or "*" in self.roles or layer.role in self.roles

    def number(self, name: str, default: float) -> float:
        """A numeric parameter (its unit is in its name)."""
        return float(self.params.get(name, default))

    def text(self, name: str, default: str | None = None) -> str | None:
        """A text parameter."""
        value = self.params.get(name, default)
        return None if value is None else str(value)

    def texts(self, name: str) -> tuple[str, ...]:
        """A list-of-text parameter."""
        return tuple(str(v) for v in self.params.get(name, ()))

    def finding(self, layer: LayerData, zh: str, en: str, **kw: Any) -> Finding:
        """A :class:`Finding` of this check on ``layer``."""
        return Finding(self.id, layer.name, self.severity, zh, en, **kw)


_ID_RE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")


def parse_check_list(data: Mapping[str, Any], *, source: str = "checks") -> tuple[CheckSpec, ...]:
    """Turn the parsed YAML check list into :class:`CheckSpec` objects.

    The structure is validated by ``schemas/checks-v1.json`` first (in the service); this step
    checks what the schema cannot: unique ids, known operators and known roles.

    Raises
    ------
    ConfigError
        Naming the check and listing the known operators or roles.

    Examples
    --------
    >>> specs = parse_check_list({"schema_version": 1, "checks": [
    ...     {"id": "geometry.empty", "name_zh": "空几何", "name_en": "Empty geometry",
    ...      "severity": "error", "operator": "empty_geometry"}]})
    >>> specs[0].roles
    ('*',)
    """
    specs: list[CheckSpec] = []
    seen: set[str] = set()
    known_roles = {r.id for r in ROLES} | {"*"}
    for n, raw in enumerate(data.get("checks", ())):
        where = f"{source}: checks[{n}]"
        cid = str(raw.get("id", ""))
        if not _ID_RE.fullmatch(cid):
            raise ConfigError(
                f"{where}: id {cid!r} is not a dotted lower-case id.",
                fix="Write ids like geometry.invalid.",
            )
        if cid in seen:
            raise ConfigError(
                f"{where}: check id {cid!r} appears twice.", fix="Give every check its own id."
            )
        seen.add(cid)
        operator = str(raw.get("operator", ""))
        if operator not in CHECKS.names():
            raise ConfigError(
                f"{where} ({cid}): unknown operator {operator!r}.",
                fix=f"Known operators: {', '.join(CHECKS.names())}.",
            )
        scope = raw.get("applies_to") or {}
        roles = tuple(scope.get("roles", ("*",) if not scope.get("layers") else ()))
        excluded = tuple(scope.get("exclude_roles", ()))
        for role in (*roles, *excluded):
            if role not in known_roles:
                raise ConfigError(
                    f"{where} ({cid}): unknown role {role!r}.",
                    fix=f"Roles: {', '.join(sorted(known_roles))}.",
                )
        specs.append(
            CheckSpec(
                id=cid,
                name_zh=str(raw.get("name_zh", cid)),
                name_en=str(raw.get("name_en", cid)),
                severity=Severity.parse(str(raw.get("severity", "error"))),
                operator=operator,
                roles=roles,
                layers=tuple(scope.get("layers", ())),
                exclude_roles=excluded,
                params=dict(raw.get("params") or {}),
            )
        )
    return tuple(specs)


@dataclass(frozen=True)
class CheckRun:
    """The findings of a run (sorted) and the checks that were skipped."""

    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...]


def run_checks(
    specs: Iterable[CheckSpec], context: CheckContext, layers: Iterable[str] | None = None
) -> CheckRun:
    """Run every check on every layer it applies to; sorted, deterministic output.

    Parameters
    ----------
    specs
        The checks (see :func:`parse_check_list`).
    context
        All loaded layers.
    layers
        Names of the layers to check (default: every layer in ``context``).

    Examples
    --------
    >>> run_checks([], CheckContext([])).findings
    ()
    """
    names = sorted(context.layers) if layers is None else sorted(set(layers))
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    for spec in specs:
        fn = CHECKS.get(spec.operator)
        for name in names:
            layer = context.layers[name]
            if not spec.applies_to(layer):
                continue
            result = fn(spec, layer, context)
            if isinstance(result, Skipped):
                skipped.append(result)
            else:
                findings.extend(result)
    findings = _locate(findings, context)
    findings.sort(key=Finding.sort_key)
    skipped.sort(key=lambda s: (s.check, s.layer))
    return CheckRun(tuple(findings), tuple(skipped))


def _locate(findings: list[Finding], context: CheckContext) -> list[Finding]:
    """Give findings on a feature without a location a point on that feature."""
    wanted: dict[str, set[int]] = {}
    for f in findings:
        if f.location is None and f.fid is not None and f.layer in context.layers:
            wanted.setdefault(f.layer, set()).add(f.fid)
    points: dict[tuple[str, int], tuple[float, float] | None] = {}
    for name, fids in wanted.items():
        layer = context.layers[name]
        pos = np.flatnonzero(np.isin(layer.fids, sorted(fids)))
        for p, pt in zip(pos.tolist(), anchor_points(layer.geometries[pos]), strict=True):
            points[(name, int(layer.fids[p]))] = pt
    return [
        dataclasses.replace(f, location=points.get((f.layer, f.fid)))
        if f.location is None and f.fid is not None
        else f
        for f in findings
    ]


# -- geometry helpers ----------------------------------------------------------------------
#: Type ids of polygonal geometries.
POLYGONAL_TYPES: tuple[int, ...] = (
    int(shapely.GeometryType.POLYGON),
    int(shapely.GeometryType.MULTIPOLYGON),
)


def polygonal_parts(geoms: ObjArray) -> ObjArray:
    """Each geometry reduced to its polygonal parts (a MultiPolygon, Polygon or empty).

    Examples
    --------
    >>> g = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.Point(5, 5)])
    >>> polygonal_parts(np.array([g], dtype=object))[0].geom_type
    'Polygon'
    """
    arr = np.asarray(geoms, dtype=object)
    out = arr.copy()
    kinds = shapely.get_type_id(arr)
    odd = ~np.isin(kinds, POLYGONAL_TYPES) & ~shapely.is_missing(arr)
    if odd.any():
        parts, owner = shapely.get_parts(arr[odd], return_index=True)
        keep = np.isin(shapely.get_type_id(parts), POLYGONAL_TYPES)
        polys = shapely.get_parts(parts[keep]) if keep.any() else np.empty(0, dtype=object)
        idx = (
            np.repeat(owner[keep], shapely.get_num_geometries(parts[keep]))
            if keep.any()
            else np.empty(0, dtype=np.int64)
        )
        merged = np.full(int(odd.sum()), shapely.Polygon(), dtype=object)
        if len(polys):
            uniq = np.unique(idx)
            for u in uniq:  # one per odd geometry (few: collections from make_valid)
                merged[u] = shapely.union_all(polys[idx == u])
        out[odd] = merged
    return out


def repair_polygonal(geoms: ObjArray) -> ObjArray:
    """Repair geometries with ``make_valid`` (structure method); polygons keep only polygonal parts.

    Examples
    --------
    >>> bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> repair_polygonal(np.array([bowtie], dtype=object))[0].area
    2.0
    """
    arr = np.asarray(geoms, dtype=object)
    was_polygonal = np.isin(shapely.get_type_id(arr), POLYGONAL_TYPES)
    fixed = np.asarray(
        shapely.make_valid(arr, method="structure", keep_collapsed=False), dtype=object
    )
    if was_polygonal.any():
        fixed[was_polygonal] = polygonal_parts(fixed[was_polygonal])
    return fixed


def anchor_points(geoms: ObjArray) -> list[tuple[float, float] | None]:
    """A point on each geometry (point on surface of the repaired geometry), ``None`` if empty.

    Examples
    --------
    >>> anchor_points(np.array([shapely.box(0, 0, 2, 2), None], dtype=object))
    [(1.0, 1.0), None]
    """
    arr = np.asarray(geoms, dtype=object)
    usable = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    out: list[tuple[float, float] | None] = [None] * len(arr)
    if not usable.any():
        return out
    sub = arr[usable]
    bad = ~shapely.is_valid(sub)
    if bad.any():
        sub = sub.copy()
        sub[bad] = shapely.make_valid(sub[bad])
    pts = shapely.point_on_surface(sub)
    xy = shapely.get_coordinates(pts, return_index=True)
    coords = np.full((len(sub), 2), np.nan)
    coords[xy[1]] = xy[0]
    for pos, (x, y) in zip(np.flatnonzero(usable), coords.tolist(), strict=True):
        if not (math.isnan(x) or math.isnan(y)):
            out[int(pos)] = (round(x, 3), round(y, 3))
    return out


def feature_label(layer: LayerData, pos: int, lang: str = "zh") -> str:
    """How a message names a feature: ``要素 12（DKBH=A-01）`` / ``feature 12 (DKBH=A-01)``."""
    fid = int(layer.fids[pos])
    name, ident = layer.feature_key(pos)
    if lang == "zh":
        return f"要素 {fid}" + (f"（{name}={ident}）" if ident else "")
    return f"feature {fid}" + (f" ({name}={ident})" if ident else "")


def feature_ref(layer: LayerData, pos: int) -> dict[str, Any]:
    """``fid``, ``id_field`` and ``id_value`` of the feature at ``pos``, as Finding keywords."""
    name, ident = layer.feature_key(pos)
    return {"fid": int(layer.fids[pos]), "id_field": name, "id_value": ident}


def as_text(value: object) -> str | None:
    """A cell value as stripped text; ``None`` for null, NaN and blank (``101.0`` → ``101``).

    Examples
    --------
    >>> as_text(" A-01 "), as_text(101.0), as_text(float("nan"))
    ('A-01', '101', None)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None
