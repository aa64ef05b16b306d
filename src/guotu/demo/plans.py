"""The plans the demo county's layers belong to, with their approvals, as a bureau records them.

A planner calls the master plan, the 三区三线 delimitation, the detailed plan and the special
plan *plans*: each is recorded as a plan with one approved version (批复文号, approving organ,
in force from its approval), and its handed-over layers are imported into that version
(``guotu import … --plan … --version … --valid-from … --approval-no …``). The yearly survey
updates have their own plan (:mod:`guotu.demo.history`); XZQ, JSXM, TDZZXM and BHTB are data
(boundaries, approvals and projects that carry their own dates) and keep the implicit plan of
a layer imported without one.

The dates follow the order of the real procedure: the 三区三线 were delimited nationally in
2022 (in force from their transmission to the county), the master plan takes them in and is
approved after them, and the detailed and special plans follow the master plan. Every
批复文号 is **synthetic** (demo data, not a real document).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from guotu.demo.layout import COUNTY_CODE
from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.model import PlanLevel, PlanType, VersionStatus
from guotu.ports import FeatureStore

__all__ = [
    "DETAILED_PLAN",
    "MASTER_PLAN",
    "PLANS",
    "SANQU_PLAN",
    "SPECIAL_PLAN",
    "DemoPlan",
    "plan_of",
    "record_plans",
]


@dataclass(frozen=True)
class DemoPlan:
    """A plan of the demo county, its one approved version and the layers recorded in it."""

    name: str
    level: PlanLevel
    type: PlanType
    layers: tuple[str, ...]
    label: str
    valid_from: date
    approval_no: str
    approval_organ: str
    description: str
    parent: str | None = None

    def version(self) -> VersionSpec:
        """The version its layers are imported into (approved, in force from approval)."""
        return VersionSpec(
            self.name,
            self.label,
            status=VersionStatus.APPROVED,
            valid_from=self.valid_from,
            approval_no=self.approval_no,
            approval_organ=self.approval_organ,
            approval_date=self.valid_from,
            reason=f"{self.name}{self.label}成果入库（演示数据）",
        )

    def to_dict(self) -> dict[str, Any]:
        """The manifest's entry."""
        return {
            "name": self.name,
            "level": self.level.value,
            "type": self.type.value,
            "xzqdm": COUNTY_CODE,
            "parent": self.parent,
            "layers": list(self.layers),
            "version": self.label,
            "status": VersionStatus.APPROVED.value,
            "valid_from": self.valid_from.isoformat(),
            "approval_date": self.valid_from.isoformat(),
            "approval_no": self.approval_no,
            "approval_organ": self.approval_organ,
        }


#: 三区三线 delimited nationally in 2022; the province transmits the county's result.
SANQU_PLAN = DemoPlan(
    "示范县三区三线划定成果",
    PlanLevel.COUNTY,
    PlanType.MASTER,
    ("STBHHX", "YJJBNT", "CZKFBJ"),
    "2022年划定成果",
    date(2022, 10, 28),
    "鲁自然资字〔2022〕178号",
    "山东省自然资源厅",
    "生态保护红线、永久基本农田、城镇开发边界划定成果（2022 年全国统一划定）",
)
#: The county master plan, approved by the province after the 三区三线.
MASTER_PLAN = DemoPlan(
    "示范县国土空间总体规划（2021—2035年）",
    PlanLevel.COUNTY,
    PlanType.MASTER,
    ("GHYD",),
    "批复版",
    date(2023, 12, 26),
    "鲁政字〔2023〕236号",
    "山东省人民政府",
    "县级国土空间总体规划，规划期 2021—2035 年，近期至 2025 年",
)
#: The detailed plan of the county seat, approved by the county after the master plan.
DETAILED_PLAN = DemoPlan(
    "示范县中心城区控制性详细规划",
    PlanLevel.COUNTY,
    PlanType.DETAILED,
    ("XXGHDY", "XXGHDK"),
    "批复版",
    date(2024, 3, 15),
    "示政字〔2024〕9号",
    "示范县人民政府",
    "城镇集中建设区内 82 个详细规划单元及其地块",
    parent=MASTER_PLAN.name,
)
#: The special plan of the highway and the gas pipeline.
SPECIAL_PLAN = DemoPlan(
    "示范县基础设施专项规划（2021—2035年）",
    PlanLevel.COUNTY,
    PlanType.SPECIAL,
    ("ZXGH",),
    "批复版",
    date(2024, 6, 20),
    "示政字〔2024〕21号",
    "示范县人民政府",
    "高速公路与天然气支线管道等线性基础设施",
    parent=MASTER_PLAN.name,
)

#: In the order they are created (a parent before its children).
PLANS: tuple[DemoPlan, ...] = (SANQU_PLAN, MASTER_PLAN, DETAILED_PLAN, SPECIAL_PLAN)


def plan_of(layer: str) -> DemoPlan | None:
    """The plan ``layer`` is recorded in (``None``: a data layer with its implicit plan).

    Examples
    --------
    >>> plan_of("GHYD").name, plan_of("JSXM") is None
    ('示范县国土空间总体规划（2021—2035年）', True)
    """
    return next((p for p in PLANS if layer in p.layers), None)


def record_plans(store: FeatureStore, actor: str = "guotu demo") -> None:
    """Create every plan of :data:`PLANS` in ``store`` (versions are made by the imports)."""
    for p in PLANS:
        store.create_plan(
            p.name,
            level=p.level,
            type=p.type,
            xzqdm=COUNTY_CODE,
            parent_plan=p.parent,
            description=p.description,
            actor=actor,
            reason="示范县演示数据",
        )
