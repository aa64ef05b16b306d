"""Implementation monitoring (规划实施监测): indicator values with lineage, as of any date,
recomputed incrementally; targets, warnings and forecasts.

:class:`IndicatorEngine` keeps, for every layer a catalogue reads, the features of the
version it last saw (their codes, fields, ellipsoidal areas and — for ``within``/``outside``
terms — their area inside the zones) and each term's contribution per feature. Asked for
another date, it finds the versions in force; when the new version descends from the one it
holds, it reads only the revisions added along the way and drops those retired
(:meth:`~guotu.ports.FeatureStore.version_changes`): the cost follows the change, not the
layer. Values are exact sums (of integers of 2⁻⁸⁰ m²) of per-feature contributions that
depend on their feature only, so the incremental and the full computation give the same
bits, and each step costs what changed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import shapely

from guotu.domain.codes.crosswalks import known_three_major_class
from guotu.domain.core.roles import get_role
from guotu.domain.geometry.moments import feature_areas
from guotu.domain.geometry.overlay import overlay
from guotu.domain.geometry.zone_index import ZoneIndex
from guotu.domain.monitoring.indicators import (
    AreaTerm,
    Catalogue,
    Forecast,
    Indicator,
    evaluate,
    forecast,
    status,
    target_for_year,
)
from guotu.services.layer_choice import check_chosen_layers, layer_of_role
from guotu.services.monitoring_inputs import Statistics, Targets
from guotu.services.zones import ZoneCache, Zones, valid_polygons

__all__ = ["IndicatorEngine", "IndicatorValue", "TermLineage"]

_CLASS_ZH = {"agricultural": "农用地", "construction": "建设用地", "unused": "未利用地"}
#: Dates whose values the engine keeps.
_MEMO_ENTRIES = 64
#: Zone layer versions the engine keeps indexed.
_ZONE_INDEXES = 8
#: Change-log entries of a layer kept unfolded before they are folded into its attributes.
_FOLD_AFTER = 8


# -- values with lineage ---------------------------------------------------------------------
@dataclass(frozen=True)
class TermLineage:
    """Where one area or count of a value came from."""

    term: str
    layer: str | None
    plan: str | None
    version: str | None
    version_id: int | None
    features: int
    features_in_version: int
    value: float | None
    zone_layer: str | None = None
    zone_version: str | None = None
    note: str | None = None
    note_zh: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "term": self.term,
            "note": self.note,
            "note_zh": self.note_zh,
            "layer": self.layer,
            "plan": self.plan,
            "version": self.version,
            "version_id": self.version_id,
            "features": self.features,
            "features_in_version": self.features_in_version,
            "value": self.value,
            "zone_layer": self.zone_layer,
            "zone_version": self.zone_version,
        }


@dataclass(frozen=True)
class IndicatorValue:
    """One indicator as of a date: value, target, status, forecast and lineage."""

    indicator: Indicator
    as_of: date
    value: float | None
    reason: str | None = None
    target_year: int | None = None
    target: float | None = None
    status: str | None = None
    lineage: tuple[TermLineage, ...] = ()
    tables: dict[str, tuple[int, float]] = field(default_factory=dict)
    forecast: Forecast | None = None
    reason_zh: str | None = None

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """JSON-ready dict (``guotu monitor indicators --json``)."""
        ind = self.indicator
        f = self.forecast
        return {
            "id": ind.id,
            "name": ind.name_zh if lang == "zh" else ind.name_en,
            "name_zh": ind.name_zh,
            "name_en": ind.name_en,
            "unit": ind.unit,
            "type": ind.type,
            "direction": ind.direction,
            "as_of": self.as_of.isoformat(),
            "value": None if self.value is None else round(self.value, 6),
            "reason": self.reason_zh if lang == "zh" else self.reason,
            "reason_en": self.reason,
            "reason_zh": self.reason_zh,
            "target_year": self.target_year,
            "target": self.target,
            "status": self.status,
            "convention": ind.convention_zh if lang == "zh" else ind.convention_en,
            "basis": ind.basis_zh if lang == "zh" else ind.basis_en,
            "lineage": {
                "formula": ind.formula.text(),
                "terms": [t.to_dict() for t in self.lineage],
                "tables": {k: {"year": y, "value": v} for k, (y, v) in self.tables.items()},
            },
            "forecast": None
            if f is None
            else {
                "slope_per_year": f.slope_per_year,
                "points": f.points,
                "crossing_year": f.crossing_year,
                "crossing_early": f.crossing_early,
                "crossing_late": f.crossing_late,
            },
        }


@dataclass
class _LayerState:
    """The features of one version of a layer, as the engine last saw them.

    ``attrs`` holds the code field and the fields terms filter on, by fid, as of the full
    read; what later versions changed is in ``log`` (one ``(retired fids, added attrs)`` per
    step), so a term follows the change without touching the rest. ``current_attrs()``
    applies the log when a term first needs every feature."""

    name: str
    version_id: int
    attrs: pd.DataFrame
    area_m2: dict[int, float]
    geoms: dict[int, Any]
    log: list[tuple[set[int], pd.DataFrame]] = field(default_factory=list)
    count: int = 0
    _folded: int = 0

    def current_attrs(self) -> pd.DataFrame:
        """Every feature's attributes at the current version."""
        if self._folded < len(self.log):
            frames = [self.attrs]
            gone: set[int] = set()
            for retired, added in self.log[self._folded :]:
                gone |= retired
                frames.append(added)
            frame = pd.concat(frames)
            self.attrs = frame[~frame.index.isin(list(gone))]
            self._folded = len(self.log)
        return self.attrs


#: Contributions are summed as integers of 2⁻⁸⁰ m² (exact for any area above ~10⁻⁸ m²): the
#: sum is then exact and independent of order, so following a version's change (subtract
#: the retired features, add the new ones) gives the same bits as summing every feature.
_SCALE = 2.0**80


def _scaled(value: float) -> int:
    return int(value * _SCALE) if value else 0


@dataclass
class _TermState:
    """One term's contributions (scaled integers) by fid of its layer's state — only the
    features it counts — and their exact total, for the zone version it was computed
    against and the layer state's log position it has followed to."""

    zone_version: int | None
    layer: _LayerState
    contributions: dict[int, int]
    total: int = 0
    synced: int = 0

    def put(self, fid: int, value: float) -> None:
        scaled = _scaled(value)
        if scaled:
            self.contributions[fid] = scaled
            self.total += scaled

    def drop(self, fid: int) -> None:
        self.total -= self.contributions.pop(fid, 0)

    def value(self) -> float:
        return self.total / _SCALE


class IndicatorEngine:
    """Indicator values of a workspace, as of any date, with lineage.

    Parameters
    ----------
    store
        The workspace (any :class:`~guotu.ports.FeatureStore`).
    catalogue
        The indicator definitions (:func:`load_catalogue`).
    statistics, targets
        External statistics and plan targets (optional; :func:`~guotu.services.monitoring_inputs.load_inputs`
        gives a run's,
        from the workspace or a file). Setting either later (the dashboard does, when the
        workspace records a new version of a table) forgets the values computed so far.
    known_at
        Record time of the data (default: now).
    use_layers
        The layer to read for a role the workspace has several layers of (``--use-layer``);
        several and none chosen are refused (:func:`layer_of_role`).
    """

    def __init__(
        self,
        store: Any,
        catalogue: Catalogue,
        *,
        statistics: Statistics | None = None,
        targets: Targets | None = None,
        known_at: datetime | None = None,
        use_layers: Sequence[str] = (),
    ) -> None:
        self.store = store
        self.catalogue = catalogue
        self._statistics = statistics or Statistics({})
        self._targets = targets or Targets({})
        self.known_at = known_at
        self.use_layers = tuple(use_layers)
        check_chosen_layers(store, self.use_layers)
        self._layers: dict[str, _LayerState] = {}
        self._terms: dict[tuple[str, AreaTerm], _TermState] = {}
        self._zones = ZoneCache(known_at, max_entries=_ZONE_INDEXES, use_layers=self.use_layers)
        #: Feature revisions read so far: (full reads, incremental reads).
        self.reads = [0, 0]
        # compute() results by (date, the versions in force then): a date whose data did not
        # change is answered from here (the dashboard asks for the same year ends each time).
        self._memo: OrderedDict[tuple[Any, ...], list[IndicatorValue]] = OrderedDict()

    # -- targets and statistics ------------------------------------------------------------
    @property
    def targets(self) -> Targets:
        """The plan targets values are compared with."""
        return self._targets

    @targets.setter
    def targets(self, value: Targets) -> None:
        if value is not self._targets:
            self._targets = value
            self._memo.clear()  # statuses were of the other targets

    @property
    def statistics(self) -> Statistics:
        """The statistics ``table`` terms read."""
        return self._statistics

    @statistics.setter
    def statistics(self, value: Statistics) -> None:
        if value is not self._statistics:
            self._statistics = value
            self._memo.clear()  # values were of the other statistics

    # -- layers ------------------------------------------------------------------------------
    def _columns(self, name: str, role_id: str) -> list[str]:
        info = self.store.layer(name)
        wanted: set[str] = set()
        code = get_role(role_id).code_field
        if code:
            wanted.add(code)
        for term in self._all_terms():
            if term.role == role_id:
                wanted.update(f for f, _ in term.where)
        return [c for c in info.columns if c in wanted]

    def _all_terms(self) -> list[AreaTerm]:
        return [t for i in self.catalogue.indicators for t in i.formula.terms()]

    def _frame_parts(self, frame: Any) -> tuple[pd.DataFrame, dict[int, float], dict[int, Any]]:
        crs = self.store.crs
        geoms = valid_polygons(frame.geometry.values)
        fids = [int(f) for f in frame.index]
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        areas = np.zeros(len(geoms))
        if ok.any():
            areas[ok] = feature_areas(geoms[ok], shapely.bounds(geoms[ok]), crs)
        attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name)).copy()
        attrs.index = fids
        return (
            attrs,
            dict(zip(fids, areas.tolist(), strict=True)),
            dict(zip(fids, geoms, strict=True)),
        )

    def _layer(
        self, role_id: str, as_of: date
    ) -> tuple[_LayerState | None, Any, tuple[str, str] | None]:
        """The state of the layer of ``role_id`` at the version in force, the version, and
        why there is none (in English and Chinese)."""
        info = layer_of_role(self.store, role_id, chosen=self.use_layers)
        if info is None:
            return (
                None,
                None,
                (
                    f"no layer of role {role_id}",
                    f"工作空间中没有{get_role(role_id).name_zh}图层（{role_id}）",
                ),
            )
        name = info.name
        version = self.store.layer_version(name, as_of=as_of, known_at=self.known_at)
        if version is None:
            return (
                None,
                None,
                (
                    f"no version of {name} in force on {as_of.isoformat()}",
                    f"图层 {name} 在 {as_of.isoformat()} 没有现行版本",
                ),
            )
        state = self._layers.get(name)
        if state is not None and state.version_id == version.id:
            return state, version, None
        columns = self._columns(name, role_id)
        chain_new = self.store.lineage_of(version.id)
        if state is not None:
            chain_old = self.store.lineage_of(state.version_id)
            if chain_new[: len(chain_old)] == chain_old:
                self._advance(state, chain_new[len(chain_old) :], columns)
                state.version_id = version.id
                return state, version, None
        frame = self.store.read_layer(name, version_id=version.id, columns=columns)
        self.reads[0] += len(frame)
        attrs, areas, geoms = self._frame_parts(frame)
        state = _LayerState(name, version.id, attrs, areas, geoms, count=len(attrs))
        self._layers[name] = state
        for key in [k for k in self._terms if k[1].role == role_id]:
            del self._terms[key]  # their contributions were of other features
        return state, version, None

    def _advance(self, state: _LayerState, versions: Sequence[int], columns: list[str]) -> None:
        """Move ``state`` along ``versions`` (descendants): drop what they retire, read what
        they add."""
        added: set[int] = set()
        retired: set[int] = set()
        for vid in versions:
            a, r = self.store.version_changes(state.name, vid)
            for f in r:
                if f in added:
                    added.discard(f)
                else:
                    retired.add(f)
            added.update(a)
        for f in retired:
            state.area_m2.pop(f, None)
            state.geoms.pop(f, None)
        attrs = state.attrs.iloc[:0]
        if added:
            frame = self.store.read_revisions(state.name, sorted(added), columns=columns)
            self.reads[1] += len(frame)
            attrs, areas, geoms = self._frame_parts(frame)
            state.area_m2.update(areas)
            state.geoms.update(geoms)
        state.log.append((retired, attrs))
        state.count += len(attrs) - len(retired)

    # -- terms -------------------------------------------------------------------------------
    def _mask(self, term: AreaTerm, attrs: pd.DataFrame, code_field: str | None) -> np.ndarray:
        mask = np.ones(len(attrs), dtype=bool)
        if term.codes or term.major_class:
            if code_field is None or code_field not in attrs.columns:
                return np.zeros(len(attrs), dtype=bool)
            codes = attrs[code_field].astype("string").fillna("").to_numpy(dtype=object)
            if term.codes:
                prefixes = tuple(term.codes)
                mask &= np.fromiter((c.startswith(prefixes) for c in codes), bool, len(codes))
            if term.major_class:
                wanted = _CLASS_ZH[term.major_class]
                mask &= np.fromiter(
                    (known_three_major_class(c) == wanted for c in codes), bool, len(codes)
                )
        for name, values in term.where:
            if name not in attrs.columns:
                return np.zeros(len(attrs), dtype=bool)
            col = attrs[name].astype("string").fillna("").to_numpy(dtype=object)
            mask &= np.isin(col, list(values))
        return mask

    def _zone_index(self, role_id: str, as_of: date) -> Zones | None:
        return self._zones.get(self.store, role_id, as_of)

    def _inside(self, state: _LayerState, fids: list[int], zone: ZoneIndex) -> dict[int, float]:
        """Area (m²) of each feature ``fids`` inside the zone polygons."""
        if not fids:
            return {}
        geoms = np.empty(len(fids), dtype=object)
        geoms[:] = [state.geoms[f] for f in fids]
        res = overlay(geoms, zone, geometry=False)
        out = dict.fromkeys(fids, 0.0)
        sums = np.bincount(res.left, res.area_m2, len(fids))
        for k, f in enumerate(fids):
            out[f] = float(sums[k])
        return out

    def _term(
        self, op: str, term: AreaTerm, as_of: date, lineage: list[TermLineage]
    ) -> float | None:
        state, version, why = self._layer(term.role, as_of)
        text = f"{op}({term.text()})"
        if state is None:
            assert why is not None
            lineage.append(
                TermLineage(text, None, None, None, None, 0, 0, None, note=why[0], note_zh=why[1])
            )
            return None
        zone_role = term.within or term.outside
        zone = self._zone_index(zone_role, as_of) if zone_role else None
        if zone_role and zone is None:
            lineage.append(
                TermLineage(
                    text,
                    state.name,
                    None,
                    version.label,
                    version.id,
                    0,
                    state.count,
                    None,
                    zone_role,
                    note=f"no layer of role {zone_role} in force on {as_of.isoformat()}",
                    note_zh=f"{as_of.isoformat()} 没有现行的"
                    f"{get_role(zone_role).name_zh}图层（{zone_role}）",
                )
            )
            return None
        zone_version = zone.version.id if zone else None
        ts = self._terms.get((op, term))
        code_field = get_role(term.role).code_field
        steps: list[pd.DataFrame]
        if ts is not None and ts.zone_version == zone_version and ts.layer is state:
            # the layer state moved on incrementally: follow its change only
            steps = []
            for retired, added in state.log[ts.synced :]:
                for f in retired:
                    ts.drop(f)
                steps.append(added)
        else:
            ts = _TermState(zone_version, state, {})
            self._terms[(op, term)] = ts
            steps = [state.current_attrs()]
        ts.synced = len(state.log)
        for sub in steps:
            if not len(sub):
                continue
            todo = [int(f) for f in sub.index]
            mask = self._mask(term, sub, code_field)
            picked = [f for f, m in zip(todo, mask.tolist(), strict=True) if m]
            if op == "count":
                for f in picked:
                    ts.put(f, 1.0)
            elif zone is not None:
                inside = self._inside(state, picked, zone.index)
                for f in picked:
                    ts.put(f, inside[f] if term.within else state.area_m2[f] - inside[f])
            else:
                for f in picked:
                    ts.put(f, state.area_m2[f])
        value = ts.value()
        plan = self.store.plan(version.plan_id).name
        lineage.append(
            TermLineage(
                text,
                state.name,
                plan,
                version.label,
                version.id,
                len(ts.contributions),
                state.count,
                value,
                zone.layer if zone else None,
                zone.version.label if zone else None,
            )
        )
        return value

    # -- values ------------------------------------------------------------------------------
    def compute(self, as_of: date | None = None) -> list[IndicatorValue]:
        """Every indicator of the catalogue as of ``as_of`` (default today), in catalogue
        order, with targets and status (no forecast: see :meth:`series`)."""
        day = as_of or date.today()
        key = (day, self._versions_in_force(day))
        found = self._memo.get(key)
        if found is not None:
            self._memo.move_to_end(key)
            return found
        values = self._compute(day)
        self._memo[key] = values
        while len(self._memo) > _MEMO_ENTRIES:
            self._memo.popitem(last=False)
        return values

    def _versions_in_force(self, day: date) -> tuple[tuple[str, int | None], ...]:
        roles = sorted({r for t in self._all_terms() for r in (t.role, t.within, t.outside) if r})
        out = []
        for role in roles:
            info = layer_of_role(self.store, role, chosen=self.use_layers)
            if info is not None:
                v = self.store.layer_version(info.name, as_of=day, known_at=self.known_at)
                out.append((info.name, None if v is None else v.id))
        return tuple(out)

    def _compute(self, day: date) -> list[IndicatorValue]:
        base: dict[str, float | None] = {}
        out: dict[str, IndicatorValue] = {}
        for ind in self.catalogue.order():
            lineage: list[TermLineage] = []
            tables: dict[str, tuple[int, float]] = {}

            def table(name: str, _t: dict[str, tuple[int, float]] = tables) -> float | None:
                found = self.statistics.value(name, day.year)
                if found is None:
                    return None
                _t[name] = found
                return found[1]

            def term_value(
                op: str, term: AreaTerm, _l: list[TermLineage] = lineage
            ) -> float | None:
                return self._term(op, term, day, _l)

            raw = evaluate(ind.formula, term_value, table, base.get)
            base[ind.id] = raw
            value = None if raw is None else ind.from_base(raw)
            reason = reason_zh = None
            if raw is None:
                whys = sorted({_why(t) for t in lineage if t.value is None})
                if whys:
                    reason = "; ".join(en for en, _ in whys)
                    reason_zh = "；".join(zh for _, zh in whys)
                else:
                    reason, reason_zh = _missing_table(ind, tables, self.statistics, day)
            target = target_for_year(self.targets.values.get(ind.id, {}), day.year)
            out[ind.id] = IndicatorValue(
                ind,
                day,
                value,
                reason,
                target[0] if target else None,
                target[1] if target else None,
                status(ind.direction, value, target[1] if target else None, ind.warn_margin),
                tuple(lineage),
                tables,
                reason_zh=reason_zh,
            )
        self._trim_logs()
        return [out[i.id] for i in self.catalogue.indicators]

    def _trim_logs(self) -> None:
        """Drop the change-log entries every term of a layer has followed (a long-running
        server would otherwise keep every version's changes)."""
        for state in self._layers.values():
            if len(state.log) - state._folded >= _FOLD_AFTER:
                state.current_attrs()  # fold the changes into the attributes, so they can go
            followers = [ts for ts in self._terms.values() if ts.layer is state]
            done = min((ts.synced for ts in followers), default=0)
            done = min(done, state._folded) if state._folded else 0
            if done <= 0:
                continue
            del state.log[:done]
            state._folded -= done
            for ts in followers:
                ts.synced -= done

    def series(self, dates: Iterable[date]) -> dict[str, list[IndicatorValue]]:
        """Values at each of ``dates`` (computed in date order, incrementally), with the
        forecast of the last one from the trend of all of them, and its status including
        the forecast (yellow when the target is crossed within 3 years)."""
        days = sorted(set(dates))
        rows = [self.compute(d) for d in days]
        out: dict[str, list[IndicatorValue]] = {}
        for k, ind in enumerate(self.catalogue.indicators):
            values = [r[k] for r in rows]
            # One point per state of the data: a date that saw the same versions as the date
            # before adds no observation to the trend.
            points: list[tuple[date, float]] = []
            seen = None
            for v in values:
                state = (
                    tuple((t.layer, t.version_id, t.zone_version) for t in v.lineage),
                    tuple(sorted(v.tables.items())),
                )
                if v.value is not None and state != seen:
                    points.append((v.as_of, v.value))
                seen = state
            last = values[-1]
            fc = (
                forecast(
                    [_decimal_year(d) for d, _ in points],
                    [v for _, v in points],
                    last.target,
                    ind.direction,
                    start=_decimal_year(last.as_of),
                )
                if len(points) >= 2
                else None
            )
            crossing = None
            if fc is not None and fc.crossing_early is not None:
                crossing = fc.crossing_early - _decimal_year(last.as_of)
            values[-1] = IndicatorValue(
                ind,
                last.as_of,
                last.value,
                last.reason,
                last.target_year,
                last.target,
                status(ind.direction, last.value, last.target, ind.warn_margin, crossing),
                last.lineage,
                last.tables,
                fc,
                reason_zh=last.reason_zh,
            )
            out[ind.id] = values
        return out


def _decimal_year(day: date) -> float:
    start = date(day.year, 1, 1)
    length = (date(day.year + 1, 1, 1) - start).days
    return day.year + (day - start).days / length


def _why(t: TermLineage) -> tuple[str, str]:
    """Why a term has no value, in English and Chinese."""
    return (t.note or f"{t.term} has no value", t.note_zh or f"{t.term} 没有取值")


def _missing_table(
    ind: Indicator, tables: dict[str, tuple[int, float]], statistics: Statistics, day: date
) -> tuple[str, str]:
    wanted = [t for t in ind.formula.tables() if t not in tables]
    if wanted:
        return (
            f"no statistics for {', '.join(wanted)} in or before {day.year}",
            f"{day.year} 年及以前没有统计数据：{'、'.join(wanted)}",
        )
    return "a ratio divides by zero", "比值的分母为零"
