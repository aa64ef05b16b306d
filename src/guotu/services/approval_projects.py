"""Projects approved through approval cases, as the change-patch matching sees approved
projects (已批已建).

A case that issued a 建设用地规划许可证, 建设工程规划许可证 or 乡村建设规划许可证 approved
building on its site on the day the document was issued: its site joins the workspace's layer
of approved projects (role ``construction_project``) for the monitoring cases, with the case
number as 项目代码 (XMDM), the project as 项目名称, the issue date as 批准日期 (PZRQ) and the
document's serial number as 批准文号 (PZWH). A permit issued after a patch's image date makes
the patch 未批先建, as for any project.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import shapely

from guotu.domain.workflow.records import amended
from guotu.ports import FeatureStore

__all__ = ["BUILDING_PERMITS", "issued_permits"]

#: The decision kinds that approve building on the site.
BUILDING_PERMITS = frozenset({"land_use_permit", "construction_permit", "rural_permit"})


def issued_permits(
    store: FeatureStore, day: date, known_at: datetime | None = None
) -> list[dict[str, Any]]:
    """The building permits issued on or before ``day`` (as recorded by ``known_at``), as
    rows of a project layer (``XMDM``, ``XMMC``, ``PZRQ``, ``PZWH``, ``geometry``)."""
    rows = []
    for e in store.approval_events_with("issued"):
        if e.detail.get("kind") not in BUILDING_PERMITS or e.event.at.date() > day:
            continue
        if known_at is not None and e.recorded_at is not None and e.recorded_at > known_at:
            continue
        case = store.approval_case(e.case_id)
        if case is None:  # pragma: no cover - an event always has its case
            continue
        case = amended(case, store.approval_events(e.case_id))  # the site as permitted
        rows.append(
            {
                "XMDM": case.id,
                "XMMC": case.project,
                "PZRQ": e.event.at.date(),
                "PZWH": e.detail.get("serial", ""),
                "geometry": shapely.from_wkt(case.site_wkt),
            }
        )
    return rows
