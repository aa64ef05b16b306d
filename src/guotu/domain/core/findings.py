"""The records checks and reviews return instead of raising: severities, findings, skips.

A plan or a layer that breaks a rule is not an error (STYLE §4): a check returns
:class:`Finding` records and, when it cannot run, a :class:`Skipped` with the reason. The
review engine (:mod:`guotu.domain.review`) grades its own findings with the same
:class:`Severity`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import shapely

from guotu.errors import ConfigError

__all__ = ["Finding", "Severity", "Skipped"]


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
