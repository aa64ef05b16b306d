"""The decision document of an approval case (审批决定文书), as the PDF writer reads it.

One typed, frozen :class:`DecisionDocument` holds everything a bureau signs and files for one
of the six decisions of :class:`DecisionKind`: 建设项目用地预审与选址意见书, 建设用地规划许可证,
建设工程规划许可证, 乡村建设规划许可证, 规划核实意见书 and 不予许可决定书. It is plain data
(no store, no I/O): the caller (a service) fills it in, with the serial number (文号) it
allocated, the verification URL it made permanent, and the site and zones in projected metres.
:func:`guotu.io.decision_pdf.write_decision_pdf` draws it.

Every field a kind does not need has an empty default, and a section with nothing in it is
left out of the PDF. Free text (names, conditions, findings) is printed as given; only the
labels follow the language the PDF is written in.

Legal bases are :class:`guotu.domain.workflow.definition.LegalBasis` (document, article,
``verified``), the same records the approval procedures carry: one that was not checked
against the official text is printed marked as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

import shapely
from pyproj import CRS

from guotu.domain.workflow.definition import LegalBasis
from guotu.errors import CRSError, GeometryError, InputError

__all__ = [
    "AsBuiltCheck",
    "Bound",
    "DataSource",
    "DecisionDocument",
    "DecisionKind",
    "DepartmentOpinion",
    "LegalBasis",
    "Opinion",
    "PlanningCondition",
    "ReviewResult",
    "RuleOutcome",
    "RulePackStamp",
    "ZoneExcerpt",
]


def _unknown(what_en: str, what_zh: str, value: object, names: dict[str, str]) -> InputError:
    """The error for a value outside an enumeration, listing every value it has."""
    listed = ", ".join(names)
    listed_zh = "、".join(f"{zh}（{key}）" for key, zh in names.items())
    return InputError(
        f"Unknown {what_en} {value!r}.",
        fix=f"Use one of {listed}.",
        message_zh=f"没有“{value}”这一{what_zh}。",
        fix_zh=f"请用 {listed_zh} 之一。",
    )


class DecisionKind(StrEnum):
    """The decision a document records; its value is the stable English name.

    Examples
    --------
    >>> DecisionKind.parse("建设用地规划许可证"), DecisionKind.REFUSAL.name_en
    (<DecisionKind.LAND_USE_PERMIT: 'land_use_permit'>, 'Decision Not to Grant Permission')
    """

    SITE_SELECTION = "site_selection"
    LAND_USE_PERMIT = "land_use_permit"
    CONSTRUCTION_PERMIT = "construction_permit"
    RURAL_PERMIT = "rural_permit"
    AS_BUILT_VERIFICATION = "as_built_verification"
    REFUSAL = "refusal"

    @property
    def name_zh(self) -> str:
        """The document's official title (建设用地规划许可证 …)."""
        return _KIND_NAMES[self][0]

    @property
    def name_en(self) -> str:
        """The title in English."""
        return _KIND_NAMES[self][1]

    @classmethod
    def parse(cls, value: str) -> DecisionKind:
        """The kind called ``value`` (its English value or Chinese title).

        Raises
        ------
        InputError
            ``value`` is neither; the message lists every kind.
        """
        text = str(value).strip()
        for kind, (zh, _) in _KIND_NAMES.items():
            if text in (kind.value, zh):
                return kind
        raise _unknown("decision kind", "审批决定文书种类", value, _kind_zh())


_KIND_NAMES: dict[DecisionKind, tuple[str, str]] = {
    DecisionKind.SITE_SELECTION: (
        "建设项目用地预审与选址意见书",
        "Opinion on Land-Use Pre-Examination and Site Selection",
    ),
    DecisionKind.LAND_USE_PERMIT: ("建设用地规划许可证", "Planning Permit for Construction Land"),
    DecisionKind.CONSTRUCTION_PERMIT: (
        "建设工程规划许可证",
        "Planning Permit for Construction Works",
    ),
    DecisionKind.RURAL_PERMIT: ("乡村建设规划许可证", "Planning Permit for Rural Construction"),
    DecisionKind.AS_BUILT_VERIFICATION: ("规划核实意见书", "Planning Verification Opinion"),
    DecisionKind.REFUSAL: ("不予许可决定书", "Decision Not to Grant Permission"),
}


def _kind_zh() -> dict[str, str]:
    return {k.value: zh for k, (zh, _) in _KIND_NAMES.items()}


class Opinion(StrEnum):
    """A department's opinion in a co-review (会审), as the workflow records it.

    Examples
    --------
    >>> Opinion.parse("有条件同意").name_zh, Opinion.DISAGREE.name_en
    ('有条件同意', 'Disagree')
    """

    AGREE = "agree"
    CONDITIONAL = "conditional"
    DISAGREE = "disagree"

    @property
    def name_zh(self) -> str:
        """同意, 有条件同意 or 不同意."""
        return _OPINION_NAMES[self][0]

    @property
    def name_en(self) -> str:
        """Agree, Agree with conditions or Disagree."""
        return _OPINION_NAMES[self][1]

    @classmethod
    def parse(cls, value: str) -> Opinion:
        """The opinion called ``value`` (``agree`` or ``同意`` …); the error lists them all."""
        text = str(value).strip()
        for opinion, (zh, _) in _OPINION_NAMES.items():
            if text in (opinion.value, zh):
                return opinion
        names = {k.value: zh for k, (zh, _) in _OPINION_NAMES.items()}
        raise _unknown("opinion", "部门意见", value, names)


_OPINION_NAMES: dict[Opinion, tuple[str, str]] = {
    Opinion.AGREE: ("同意", "Agree"),
    Opinion.CONDITIONAL: ("有条件同意", "Agree with conditions"),
    Opinion.DISAGREE: ("不同意", "Disagree"),
}


class RuleOutcome(StrEnum):
    """What one rule of the automatic review (智能审查) found for the case."""

    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"
    SKIPPED = "skipped"

    @property
    def name_zh(self) -> str:
        """符合, 不符合, 提示 or 未执行."""
        return _OUTCOME_NAMES[self][0]

    @property
    def name_en(self) -> str:
        """Passed, Failed, Warning or Not run."""
        return _OUTCOME_NAMES[self][1]


_OUTCOME_NAMES: dict[RuleOutcome, tuple[str, str]] = {
    RuleOutcome.PASSED: ("符合", "Passed"),
    RuleOutcome.FAILED: ("不符合", "Failed"),
    RuleOutcome.WARNING: ("提示", "Warning"),
    RuleOutcome.SKIPPED: ("未执行", "Not run"),
}


class Bound(StrEnum):
    """How a permitted value limits an as-built measure: an upper limit (容积率, 建筑高度),
    a lower limit (绿地率) or a value to match (建筑退线)."""

    MAX = "max"
    MIN = "min"
    EQUAL = "equal"


_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class ZoneExcerpt:
    """A zone of the one-map excerpt (一张图摘录) around the site: its label (用途 or 分区
    name), its code, its fill colour (``#rrggbb``) and its polygon in the document's CRS."""

    label: str
    code: str
    colour: str
    geometry: shapely.Geometry

    def __post_init__(self) -> None:
        if not _COLOUR.fullmatch(self.colour):
            raise InputError(
                f"Zone {self.label} ({self.code}): colour {self.colour!r} is not #rrggbb.",
                field="colour",
                fix="Give the colour as # and six hexadecimal digits, e.g. #f5d76e.",
                message_zh=f"分区 {self.label}（{self.code}）的颜色 {self.colour!r} 不是 #rrggbb 形式。",
                fix_zh="请用 # 加六位十六进制数表示颜色，如 #f5d76e。",
            )


@dataclass(frozen=True)
class PlanningCondition:
    """One planning condition (规划条件): an indicator, its value as the plan states it
    (``≤2.5``), its unit and where it comes from (``控制性详细规划 单元 A-03 / 地块 A-03-07``)."""

    indicator: str
    value: str
    unit: str = ""
    source: str = ""


@dataclass(frozen=True)
class ReviewResult:
    """One rule of the automatic review: the rule as named to a person, its outcome and the
    finding in words."""

    rule: str
    outcome: RuleOutcome
    finding: str = ""


@dataclass(frozen=True)
class DepartmentOpinion:
    """One department's opinion in the co-review: the department, the opinion, its
    conditions or reasons, and the day it was given."""

    department: str
    opinion: Opinion
    conditions: str = ""
    given_on: date | None = None


@dataclass(frozen=True)
class DataSource:
    """A dataset the decision was made from, and the version read (``v3，2025-06-30 批复``)."""

    name: str
    version: str


@dataclass(frozen=True)
class RulePackStamp:
    """The rule pack the automatic review ran: its id and version."""

    id: str
    version: str


@dataclass(frozen=True)
class AsBuiltCheck:
    """One row of the as-built comparison of a 规划核实: the indicator, the permitted value,
    the measured value (``None``: the survey does not give it) and the verdict
    (``is_within``: 合格, else 超出), then the tolerance (absolute, in ``unit``), how the
    permitted value limits the measure and the decimals shown.

    The verdict is the verification's (:func:`guotu.domain.workflow.as_built.verify_as_built`
    gives ``passed``, its ``limit_kind`` is a :class:`Bound` value), never recomputed here, so
    the document cannot judge otherwise than the review did. A failing value that would look
    equal to its limit when rounded is printed with more decimals.

    Examples
    --------
    >>> far = AsBuiltCheck("容积率", permitted=2.5, measured=2.62, is_within=False)
    >>> far.bound, far.tolerance
    (<Bound.MAX: 'max'>, 0.0)
    """

    indicator: str
    permitted: float
    measured: float | None
    is_within: bool
    tolerance: float = 0.0
    unit: str = ""
    bound: Bound = Bound.MAX
    decimals: int = 2


@dataclass(frozen=True, kw_only=True)
class DecisionDocument:
    """Everything the decision document shows (see the module docstring).

    ``site`` and the zones' geometries are in ``crs``, a projected CRS in metres (CGCS2000
    Gauss-Krüger); ``site_area_m2`` is the area the decision states, not one measured here.
    ``conditions`` are the conditions attached to a permit, ``reasons`` the reasons of a
    refusal and ``notices`` what the applicant is told (validity, remedies: 复议、诉讼).
    ``verification_url`` is the permanent address where the document can be checked; the
    PDF prints it under its QR code.

    Examples
    --------
    >>> doc = DecisionDocument(kind=DecisionKind.LAND_USE_PERMIT, serial="地字第1号",
    ...                        site_area_m2=12500.0)
    >>> doc.title, doc.site_area_ha
    ('建设用地规划许可证', 1.25)
    """

    kind: DecisionKind
    serial: str
    title: str = ""
    issued_on: date | None = None
    authority: str = ""
    case_ref: str = ""
    applicant: str = ""
    project: str = ""
    location: str = ""
    site_area_m2: float | None = None
    site: shapely.Geometry | None = None
    crs: CRS | None = None
    zones: tuple[ZoneExcerpt, ...] = ()
    statement: str = ""
    planning_conditions: tuple[PlanningCondition, ...] = ()
    as_built: tuple[AsBuiltCheck, ...] = ()
    conditions: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    opinions: tuple[DepartmentOpinion, ...] = ()
    review_results: tuple[ReviewResult, ...] = ()
    legal_basis: tuple[LegalBasis, ...] = ()
    notices: tuple[str, ...] = ()
    data_versions: tuple[DataSource, ...] = ()
    rule_pack: RulePackStamp | None = None
    verification_url: str = ""
    generated_at: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, DecisionKind):
            object.__setattr__(self, "kind", DecisionKind.parse(self.kind))
        if not self.title:
            object.__setattr__(self, "title", self.kind.name_zh)
        if self.crs is not None and not self.crs.is_projected:
            raise CRSError(
                f"Decision {self.serial}: the site's CRS {self.crs.name} is not projected; "
                "the map and areas need metres.",
                fix="Give the site and zones in a projected CRS such as CGCS2000 / 3-degree "
                "Gauss-Kruger (EPSG:4527).",
                message_zh=f"审批决定 {self.serial}：用地范围的坐标系 {self.crs.name} 不是投影坐标系，"
                "地图和面积需要以米为单位。",
                fix_zh="请用投影坐标系（如 CGCS2000 3 度带高斯-克吕格投影 EPSG:4527）给出用地范围和分区。",
            )
        if self.site is not None and shapely.get_dimensions(self.site) != 2:
            raise GeometryError(
                f"Decision {self.serial}: the site is a {self.site.geom_type}, not a polygon.",
                field="site",
                fix="Give the site (用地红线) as a Polygon or MultiPolygon.",
                message_zh=f"审批决定 {self.serial}：用地范围是 {self.site.geom_type}，不是面。",
                fix_zh="请以 Polygon 或 MultiPolygon 给出用地红线。",
            )

    @property
    def site_area_ha(self) -> float | None:
        """The stated site area in 公顷."""
        return None if self.site_area_m2 is None else self.site_area_m2 / 1e4
