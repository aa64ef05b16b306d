"""The plan-review report document (成果审查报告) the writers read: typed, in one language.

:func:`guotu.services.review_output.review_document` builds a :class:`ReviewDocument` from a
finished review; the HTML, PDF, XLSX and GeoPackage writers of :mod:`guotu.io.review_report`
read it directly. Its text is already in the document's language (:attr:`ReviewDocument.lang`),
its geometries are shapely geometries in the workspace CRS (projected metres) and the CRS is a
:class:`pyproj.CRS`. Nothing in it is JSON: the ``--json`` document is made apart, at the edge
(:func:`guotu.services.review_output.review_json`).

Every field has a default, so a document built by hand (in a test, a preview) may leave out
what it does not show; a missing value is shown as "—".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import shapely
from pyproj import CRS

from guotu.domain.core.findings import SEVERITY_ORDER, Severity

__all__ = [
    "DataVersion",
    "FindingMap",
    "MapLayer",
    "ReportFeature",
    "ReportFinding",
    "ReportRepair",
    "ReportRule",
    "ReportSkipped",
    "ReviewDocument",
    "Stamp",
]


@dataclass(frozen=True)
class Stamp:
    """What the report is stamped with: the rule pack, its version, profile and hash, and the
    dates the plans were read as of (``as_of``) and as known at (``known_at``)."""

    rule_pack: str = ""
    rule_pack_version: str = ""
    profile: str | None = None
    rule_pack_hash: str = ""
    as_of: date | None = None
    known_at: datetime | None = None


@dataclass(frozen=True)
class DataVersion:
    """A workspace layer the review read, as a person reads it: the layer and its role's
    name, the plan and version it belongs to (``label``: with the layer when the plan is the
    bureau's own; ``plan_version_label``: the plan and version only) and its state
    (``已批复，2023-10-01 起施行``)."""

    layer: str
    name: str | None = None
    label: str = ""
    plan_version_label: str = ""
    status_label: str = ""
    version: str | None = None


@dataclass(frozen=True)
class ReportRule:
    """A rule that ran: id, title, declared severity and legal basis."""

    id: str
    title: str = ""
    severity: Severity = Severity.ERROR
    basis: str = ""


@dataclass(frozen=True)
class ReportFeature:
    """A feature or zone a finding names: its layer (and the layer's role name), fid, human
    id, land-use code and the code's name."""

    layer: str = ""
    fid: int | None = None
    id_field: str | None = None
    id_value: str | None = None
    code: str | None = None
    code_name: str | None = None
    layer_name: str | None = None


@dataclass(frozen=True)
class MapLayer:
    """One layer of a finding map: its name, role (``zone``, ``context``, ``feature``,
    ``conflict``, ``alternative`` …) and shapely geometries (clipped)."""

    name: str
    role: str
    geometries: tuple[shapely.Geometry, ...]

    @property
    def kind(self) -> str:
        """``"polygon"``, ``"line"`` or ``"point"``: what the legend shows for this layer
        (polygon when it holds any area, else line when it holds any line)."""
        dims = [int(d) for d in shapely.get_dimensions(list(self.geometries))] or [0]
        return {2: "polygon", 1: "line"}.get(max(dims), "point")


@dataclass(frozen=True)
class FindingMap:
    """The small map of a finding: its layers and the box they are drawn in (metres;
    ``None``: fit the geometries)."""

    layers: tuple[MapLayer, ...]
    bbox: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class ReportFinding:
    """A finding as the report shows it.

    ``measured`` and ``limit`` are in ``unit``; when the unit is ``code`` their names are in
    ``measured_name`` and ``limit_name``. ``tolerance_m2`` is set when the limit is only the
    rule's area tolerance (the measured value is then the conflict area). Shares are
    fractions (0–1); ``geometry`` is the conflict, ``map`` the finding's small map.
    """

    rule: str
    severity: Severity
    title: str = ""
    features: tuple[ReportFeature, ...] = ()
    zone: ReportFeature | None = None
    relation: str | None = None
    area_m2: float | None = None
    share_of_feature: float | None = None
    share_of_zone: float | None = None
    measured: float | str | None = None
    limit: float | str | None = None
    unit: str | None = None
    measured_name: str | None = None
    limit_name: str | None = None
    tolerance_m2: float | None = None
    message: str = ""
    suggestion: str = ""
    basis: str = ""
    is_repaired: bool = False
    geometry: shapely.Geometry | None = None
    map: FindingMap | None = None

    @property
    def area_ha(self) -> float | None:
        """The area in 公顷 (to 6 decimals, as ``--json`` gives it)."""
        return None if self.area_m2 is None else round(self.area_m2 / 1e4, 6)


@dataclass(frozen=True)
class ReportSkipped:
    """A rule that did not run, and why."""

    rule: str
    reason: str = ""


@dataclass(frozen=True)
class ReportRepair:
    """A reviewed feature whose invalid geometry was repaired: layer, feature, GEOS's reason
    in words, and the planar areas before and after."""

    layer: str
    feature: str
    reason: str = ""
    area_before_m2: float | None = None
    area_after_m2: float | None = None


@dataclass(frozen=True)
class ReviewDocument:
    """The whole report: what was reviewed and against what, the stamp, the rules, the
    findings, the rules not run and the repaired geometries.

    Examples
    --------
    >>> doc = ReviewDocument(lang="en", title="Review", findings=(
    ...     ReportFinding("a.b", Severity.ERROR), ReportFinding("a.b", Severity.INFO)))
    >>> doc.severity_counts()
    {'error': 1, 'warning': 0, 'info': 1}
    """

    lang: str = "zh"
    title: str = ""
    kind: str = ""
    source: str = ""
    source_label: str = ""
    workspace: str = ""
    crs: CRS | None = None
    generated_at: datetime | None = None
    stamp: Stamp = field(default_factory=Stamp)
    rule_pack_title: str = ""
    data_versions: tuple[DataVersion, ...] = ()
    rules: tuple[ReportRule, ...] = ()
    findings: tuple[ReportFinding, ...] = ()
    skipped: tuple[ReportSkipped, ...] = ()
    repairs: tuple[ReportRepair, ...] = ()

    @property
    def is_english(self) -> bool:
        """Whether the document is in English (anything else means Chinese)."""
        return self.lang == "en"

    def severity_counts(self) -> dict[str, int]:
        """Findings per severity, worst first (every severity, zero included)."""
        counts = {s.value: 0 for s in SEVERITY_ORDER}
        for f in self.findings:
            counts[f.severity.value] = counts.get(f.severity.value, 0) + 1
        return counts
