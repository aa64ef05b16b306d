"""Indicator values with their lineage (规划实施监测): what
:class:`guotu.services.monitoring.IndicatorEngine` gives for one indicator as of a date
(:class:`IndicatorValue`: value, target, status, forecast) and where each of its areas or
counts came from (:class:`TermLineage`: layer, plan, version, features counted), as the JSON
of ``guotu monitor indicators --json`` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from guotu.domain.monitoring.indicators import Forecast, Indicator

__all__ = ["IndicatorValue", "TermLineage"]


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
