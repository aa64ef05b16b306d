"""The records every check returns instead of raising: severities, findings, skips, repairs.

A plan or a layer that breaks a rule is not an error (STYLE §4): whatever examines it (the
quality checks of :mod:`guotu.domain.checks`, the plan review of :mod:`guotu.domain.review`,
later the approval workflow and public comments) returns :class:`Finding` records and, for a
rule that could not run, a :class:`Skipped` with the reason. A finding names the features it
is about and the others involved as :class:`FeatureRef`; a geometry repaired before it was
measured is listed as a :class:`Repair`.

The tables every report shares live here too: the severity names in both languages
(:attr:`Severity.name_zh`, :data:`SEVERITY_ORDER`) and the form of a rule id (:data:`RULE_ID`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import shapely

from guotu.errors import ConfigError

__all__ = [
    "RULE_ID",
    "SEVERITY_ORDER",
    "FeatureRef",
    "Finding",
    "Repair",
    "Severity",
    "Skipped",
    "reaches",
]

#: A check or rule id: stable, dotted, lower case (``geometry.invalid``,
#: ``sanqu.redline.construction``); never renumbered or reused (STYLE §2).
RULE_ID = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")

_SEVERITY_NAMES = {
    "error": ("错误", "error"),
    "warning": ("警告", "warning"),
    "info": ("提示", "info"),
}


class Severity(StrEnum):
    """How serious a finding is; ordered ``info < warning < error``."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for error."""
        return ("info", "warning", "error").index(self.value)

    @property
    def name_zh(self) -> str:
        """错误, 警告 or 提示.

        Examples
        --------
        >>> Severity.WARNING.name_zh, Severity.WARNING.name_en
        ('警告', 'warning')
        """
        return _SEVERITY_NAMES[self.value][0]

    @property
    def name_en(self) -> str:
        """error, warning or info."""
        return _SEVERITY_NAMES[self.value][1]

    def text(self, lang: str = "zh") -> str:
        """The name in ``lang`` (anything but ``"en"`` is Chinese)."""
        return self.name_en if lang == "en" else self.name_zh

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
                f"Unknown severity {value!r}.",
                fix="Use one of: error, warning, info.",
                message_zh=f"未知的严重程度 {value!r}。",
                fix_zh="请使用：error（错误）、warning（警告）、info（提示）。",
            ) from None


#: The severities as reports list them: the worst first.
SEVERITY_ORDER: tuple[Severity, ...] = (Severity.ERROR, Severity.WARNING, Severity.INFO)


@dataclass(frozen=True)
class FeatureRef:
    """A feature a finding names: its layer, fid, human id (DKBH, BSM …) and land-use code.

    Examples
    --------
    >>> FeatureRef("GHYD", 3, "BSM", "GH1").label()
    'BSM=GH1'
    >>> FeatureRef("GHYD", 3).label()
    'fid 3'
    """

    layer: str
    fid: int | None
    id_field: str | None = None
    id_value: str | None = None
    code: str | None = None

    def key(self) -> tuple[str, str, int]:
        """Sort key: layer, id value, fid."""
        return (self.layer, self.id_value or "", -1 if self.fid is None else self.fid)

    def label(self) -> str:
        """``BSM=GH00028903``, or ``fid 12`` for a feature without a human id."""
        if self.id_field and self.id_value:
            return f"{self.id_field}={self.id_value}"
        return f"fid {self.fid}"


@dataclass(frozen=True)
class Finding:
    """One problem found by one rule: a record, never an exception.

    Attributes
    ----------
    rule
        The id of the check or rule that found it (``geometry.invalid``,
        ``sanqu.redline.construction``; :data:`RULE_ID`).
    severity
        error, warning or info.
    message_zh, message_en
        Full sentences naming the layer, feature and field, and the fix.
    suggestion_zh, suggestion_en
        What to change, when the rule says more than the message (``""`` otherwise).
    layer
        The layer it is about (``None``: not about a layer, e.g. a row of an indicator table).
    features
        The features it is about (none for a layer-level problem or a gap).
    related
        Other features involved: the other side of an overlap, the duplicates, the
        neighbours of a gap, the zone (管控区) or parent feature it was checked against.
    relation
        How the feature and the first related feature meet (``within``, ``overlaps`` …).
    field, measured, limit, unit
        The attribute or quantity checked, the value found, the limit it broke and its unit.
    area_m2
        Ellipsoidal area of the problem (overlap, gap, part outside …).
    share_of_feature, share_of_zone
        ``area_m2`` as a fraction (0–1) of the feature's and of the related feature's area.
    location
        A point on the problem (x, y in the workspace CRS).
    geometry
        The problem's geometry (overlap, gap, conflict …) in the workspace CRS, or ``None``.
    is_repaired
        A geometry involved was invalid and repaired with make_valid to compute this.
    details
        What only some rules measure (route segments, a detour, the indicator's table row …).
    """

    rule: str
    severity: Severity
    message_zh: str
    message_en: str
    suggestion_zh: str = ""
    suggestion_en: str = ""
    layer: str | None = None
    features: tuple[FeatureRef, ...] = ()
    related: tuple[FeatureRef, ...] = ()
    relation: str | None = None
    field: str | None = None
    measured: float | str | None = None
    limit: float | str | None = None
    unit: str | None = None
    area_m2: float | None = None
    share_of_feature: float | None = None
    share_of_zone: float | None = None
    location: tuple[float, float] | None = None
    geometry: shapely.Geometry | None = None
    is_repaired: bool = False
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def feature(self) -> FeatureRef | None:
        """The (first) feature it is about, ``None`` for a layer-level problem."""
        return self.features[0] if self.features else None

    @property
    def fid(self) -> int | None:
        """The fid of the feature it is about."""
        return None if not self.features else self.features[0].fid

    @property
    def id_field(self) -> str | None:
        """The id field naming the feature it is about (DKBH, BSM …)."""
        return None if not self.features else self.features[0].id_field

    @property
    def id_value(self) -> str | None:
        """The id of the feature it is about."""
        return None if not self.features else self.features[0].id_value

    @property
    def related_fids(self) -> tuple[int, ...]:
        """The fids of the related features."""
        return tuple(r.fid for r in self.related if r.fid is not None)

    @property
    def zone(self) -> FeatureRef | None:
        """The (first) related feature: the zone or parent feature it was checked against."""
        return self.related[0] if self.related else None

    def message(self, lang: str = "zh") -> str:
        """The message in ``lang`` (anything but ``"en"`` is Chinese)."""
        return self.message_en if lang == "en" else self.message_zh

    def suggestion(self, lang: str = "zh") -> str:
        """The suggestion in ``lang``."""
        return self.suggestion_en if lang == "en" else self.suggestion_zh


@dataclass(frozen=True)
class Skipped:
    """A rule that could not run (on ``layer``, when it runs per layer), and why."""

    rule: str
    reason_zh: str
    reason_en: str
    layer: str | None = None

    def reason(self, lang: str = "zh") -> str:
        """The reason in ``lang``."""
        return self.reason_en if lang == "en" else self.reason_zh


@dataclass(frozen=True)
class Repair:
    """A feature whose invalid geometry was repaired with make_valid: where, GEOS's reason,
    the planar areas before and after, and the geometry type it became."""

    feature: FeatureRef
    reason: str
    area_before_m2: float
    area_after_m2: float
    geometry_type: str | None = None

    @property
    def layer(self) -> str:
        """The feature's layer."""
        return self.feature.layer

    @property
    def fid(self) -> int | None:
        """The feature's fid."""
        return self.feature.fid


def reaches(findings: Iterable[Finding], threshold: str) -> bool:
    """Whether any finding is at or above ``threshold`` (``never``: never), for ``--fail-on``.

    Examples
    --------
    >>> f = Finding("a.b", Severity.WARNING, "", "")
    >>> reaches([f], "warning"), reaches([f], "error"), reaches([f], "never")
    (True, False, False)
    """
    if threshold == "never":
        return False
    level = Severity.parse(threshold).rank
    return any(f.severity.rank >= level for f in findings)
