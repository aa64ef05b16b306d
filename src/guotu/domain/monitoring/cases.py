"""Change patches (遥感变化图斑) classified into monitoring cases (监测案件).

A new-construction patch is matched, as of its later image date (后时相), against the approved
projects and the control lines in force then. :func:`classify` turns the measured overlaps
(:class:`PatchFacts`) into one class:

1. ``approved_built`` 已批已建: projects approved on or before the image date cover at least
   :data:`COVER_SHARE` of the patch;
2. ``built_before_approval`` 未批先建: they do only together with projects approved *after*
   the image date (the construction was seen before the approval);
3. otherwise the patch is unapproved, and its class is the first that applies of
   ``redline_construction`` 生态保护红线内新增建设, ``farmland_occupation`` 占用永久基本农田,
   ``outside_urban_boundary`` 城镇开发边界外新增建设, and ``compliant_unapproved``
   符合规划但未批 (inside the boundary, off farmland and red line: still to be approved);
4. a patch whose change type is not construction is ``not_construction``.

Overlaps under :data:`MIN_OVERLAP_M2` are slivers of shared edges, not overlaps. The 90 %
cover share, the order of the unapproved classes and the sliver size are this tool's
conventions (no standard fixes them); all the measured areas are reported with the class.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CASE_CLASSES",
    "CASE_STATUSES",
    "COVER_SHARE",
    "MIN_OVERLAP_M2",
    "PatchFacts",
    "classify",
    "is_construction_change",
    "status_id",
]

#: Share of a patch approved projects must cover for it to count as approved.
COVER_SHARE = 0.9
#: Overlaps not larger than this (m²) are slivers of shared edges.
MIN_OVERLAP_M2 = 1.0

#: Case classes: id → (zh, en, severity).
CASE_CLASSES: dict[str, tuple[str, str, str]] = {
    "redline_construction": (
        "生态保护红线内新增建设",
        "New construction in the ecological red line",
        "error",
    ),
    "farmland_occupation": ("占用永久基本农田", "Occupies permanent basic farmland", "error"),
    "outside_urban_boundary": (
        "城镇开发边界外新增建设",
        "New construction outside the urban development boundary",
        "error",
    ),
    "built_before_approval": ("未批先建", "Built before approval", "warning"),
    "compliant_unapproved": ("符合规划但未批", "Compliant with the plan but unapproved", "warning"),
    "approved_built": ("已批已建", "Approved and built", "info"),
    "not_construction": ("非建设类变化", "Not a construction change", "info"),
}
#: Case statuses: id → (zh, en). A case starts ``pending``.
CASE_STATUSES: dict[str, tuple[str, str]] = {
    "pending": ("待核查", "to be checked"),
    "confirmed": ("核查属实", "confirmed"),
    "rectified": ("已整改", "rectified"),
    "false_positive": ("误报", "false positive"),
}


def status_id(value: str) -> str | None:
    """The status id of an id or a Chinese name; ``None`` if neither.

    Examples
    --------
    >>> status_id("核查属实"), status_id("rectified"), status_id("done")
    ('confirmed', 'rectified', None)
    """
    for key, (zh, en) in CASE_STATUSES.items():
        if value.strip() in (key, zh, en):
            return key
    return None


def is_construction_change(change_type: str | None) -> bool:
    """Whether a 变化类型 means new construction (建设, 建筑, 硬化 …); an empty type counts
    as construction (most change-detection deliveries are construction only).

    Examples
    --------
    >>> is_construction_change("新增建设用地"), is_construction_change("耕地变林地")
    (True, False)
    """
    text = (change_type or "").strip()
    return not text or any(w in text for w in ("建设", "建筑", "硬化", "房屋", "构筑"))


@dataclass(frozen=True)
class PatchFacts:
    """What a patch overlaps, as of its image date (ellipsoidal m²)."""

    area_m2: float
    approved_m2: float
    approved_later_m2: float
    redline_m2: float
    farmland_m2: float
    outside_udb_m2: float
    is_construction: bool = True
    has_udb: bool = True


def classify(f: PatchFacts) -> str:
    """The case class of a patch (see the module docstring).

    Examples
    --------
    >>> classify(PatchFacts(100.0, 95.0, 0.0, 0.0, 0.0, 0.0))
    'approved_built'
    >>> classify(PatchFacts(100.0, 20.0, 75.0, 0.0, 0.0, 0.0))
    'built_before_approval'
    >>> classify(PatchFacts(100.0, 0.0, 0.0, 0.0, 40.0, 100.0))
    'farmland_occupation'
    """
    if not f.is_construction:
        return "not_construction"
    need = COVER_SHARE * f.area_m2
    if f.area_m2 > 0 and f.approved_m2 >= need:
        return "approved_built"
    if (
        f.area_m2 > 0
        and f.approved_later_m2 > MIN_OVERLAP_M2
        and (f.approved_m2 + f.approved_later_m2 >= need)
    ):
        return "built_before_approval"
    if f.redline_m2 > MIN_OVERLAP_M2:
        return "redline_construction"
    if f.farmland_m2 > MIN_OVERLAP_M2:
        return "farmland_occupation"
    if f.has_udb and f.outside_udb_m2 > MIN_OVERLAP_M2:
        return "outside_urban_boundary"
    return "compliant_unapproved"
