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

The values it gives (:class:`~guotu.services.indicator_values.IndicatorValue` with their
:class:`~guotu.services.indicator_values.TermLineage`) are in
:mod:`guotu.services.indicator_values`; what it keeps between dates (the layer states and the
exact per-feature contributions) in :mod:`guotu.services.indicator_state`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
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
    Indicator,
    evaluate,
    forecast,
    status,
    target_for_year,
)
from guotu.ports import FeatureStore
from guotu.services.indicator_state import LayerState, TermState
from guotu.services.indicator_values import IndicatorValue, TermLineage
from guotu.services.layer_choice import check_chosen_layers, layer_of_role
from guotu.services.monitoring_inputs import Statistics, Targets
from guotu.services.workspace import workspace_crs
from guotu.services.zones import ZoneCache, Zones, valid_polygons

__all__ = ["IndicatorEngine"]

_CLASS_ZH = {"agricultural": "农用地", "construction": "建设用地", "unused": "未利用地"}
#: Dates whose values the engine keeps.
_MEMO_ENTRIES = 64
#: Zone layer versions the engine keeps indexed.
_ZONE_INDEXES = 8
#: Change-log entries of a layer kept unfolded before they are folded into its attributes.
_FOLD_AFTER = 8


class IndicatorEngine:
    """Indicator values of a workspace, as of any date, with lineage.

    Parameters
    ----------
    store
        The workspace (any :class:`~guotu.ports.FeatureStore`).
    catalogue
        The indicator definitions
        (:func:`~guotu.services.monitoring_inputs.load_catalogue`).
    statistics, targets
        External statistics and plan targets (optional;
        :func:`~guotu.services.monitoring_inputs.load_inputs` gives a run's, from the
        workspace or a file). Setting either later (the dashboard does, when the
        workspace records a new version of a table) forgets the values computed so far.
    known_at
        Record time of the data (default: now).
    use_layers
        The layer to read for a role the workspace has several layers of (``--use-layer``);
        several and none chosen are refused (:func:`layer_of_role`).
    """

    def __init__(
        self,
        store: FeatureStore,
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
        self._layers: dict[str, LayerState] = {}
        self._terms: dict[tuple[str, AreaTerm], TermState] = {}
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
        crs = workspace_crs(self.store)
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
    ) -> tuple[LayerState | None, Any, tuple[str, str] | None]:
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
        state = LayerState(name, version.id, attrs, areas, geoms, count=len(attrs))
        self._layers[name] = state
        for key in [k for k in self._terms if k[1].role == role_id]:
            del self._terms[key]  # their contributions were of other features
        return state, version, None

    def _advance(self, state: LayerState, versions: Sequence[int], columns: list[str]) -> None:
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

    def _inside(self, state: LayerState, fids: list[int], zone: ZoneIndex) -> dict[int, float]:
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
            ts = TermState(zone_version, state, {})
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
            if len(state.log) - state.folded >= _FOLD_AFTER:
                state.current_attrs()  # fold the changes into the attributes, so they can go
            followers = [ts for ts in self._terms.values() if ts.layer is state]
            done = min((ts.synced for ts in followers), default=0)
            done = min(done, state.folded) if state.folded else 0
            if done <= 0:
                continue
            del state.log[:done]
            state.folded -= done
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
