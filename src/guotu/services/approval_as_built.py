"""规划核实 of a case: the as-built survey (竣工测量) handed in with the case, compared with
what the permit allowed.

The permit's conditions are the case's own: its site is the 用地红线, its indicators the
limits (``RJL`` 容积率上限, ``JZMD`` 建筑密度上限 %, ``LDL`` 绿地率下限 %, ``JZXG`` 限高 m,
``TXJL`` 退线距离 m), as the window copies them from the 建设工程规划许可证 at intake. The
survey is the latest material named :data:`AS_BUILT_MATERIAL` (GeoJSON, GeoPackage or a
zipped Shapefile with 层数/高度/建筑面积 fields, :func:`guotu.io.as_built.read_as_built`).
Tolerances are the bureau's (:class:`~guotu.domain.workflow.as_built.Tolerances`; strict by
default). A case without a survey, or whose survey cannot be read, is ``non_compliant`` with
the reason on the record, so the window asks for it (补正) instead of the case moving on.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import shapely

from guotu.domain.workflow.as_built import PermitConditions, Tolerances, verify_as_built
from guotu.domain.workflow.records import ApprovalCase
from guotu.errors import InputError
from guotu.io.as_built import read_as_built
from guotu.ports import FeatureStore

__all__ = ["AS_BUILT_MATERIAL", "verify_case"]

#: The material name the survey is handed in under.
AS_BUILT_MATERIAL = "竣工测量成果数据"


def _number(indicators: dict[str, Any], key: str) -> float | None:
    value = indicators.get(key)
    return None if value in (None, "") else float(value)


def verify_case(
    store: FeatureStore, case: ApprovalCase, tolerances: Tolerances | None = None
) -> tuple[str, dict[str, Any], str]:
    """The outcome (``compliant``; ``non_compliant``: no usable survey; ``rejected``: the
    building exceeds the permit beyond tolerance), the comparison for the record and a
    sentence saying what was found."""
    files = [f for f in store.approval_files(case.id) if f.material == AS_BUILT_MATERIAL]
    if not files:
        return (
            "non_compliant",
            {"action": "verify_as_built", "items": [], "missing": True},
            "规划核实：未提交竣工测量成果，请补正",
        )
    survey_file = files[-1]
    content = store.approval_file_content(survey_file.sha256) or b""
    ind = dict(case.detail.get("indicators", {}))
    crs = store.crs
    assert crs is not None
    conditions = PermitConditions(
        site=shapely.from_wkt(case.site_wkt),
        crs=crs,
        max_far=_number(ind, "RJL"),
        max_density_pct=_number(ind, "JZMD"),
        min_green_pct=_number(ind, "LDL"),
        max_height_m=_number(ind, "JZXG"),
        min_setback_m=_number(ind, "TXJL"),
        permit_no=str(ind.get("XKZH", "")),
    )
    with tempfile.TemporaryDirectory(prefix="guotu-asbuilt-") as tmp:
        path = Path(tmp) / Path(survey_file.filename).name
        path.write_bytes(content)
        try:
            survey = read_as_built(path, crs=crs)
        except InputError as exc:
            return (
                "non_compliant",
                {"action": "verify_as_built", "items": [], "unreadable": exc.message_zh},
                f"规划核实：竣工测量成果无法读取（{exc.message_zh}），请补正",
            )
    result = verify_as_built(conditions, survey, tolerances)
    items = [
        {
            "indicator": i.indicator,
            "name_zh": i.name_zh,
            "name_en": i.name_en,
            "unit": i.unit,
            "limit_kind": i.limit_kind,
            "permitted": i.permitted,
            "measured": i.measured,
            "tolerance": i.tolerance,
            "passed": i.passed,
            "message_zh": i.message_zh,
            "building_id": i.building_id,
        }
        for i in result.items
    ]
    detail = {
        "action": "verify_as_built",
        "items": items,
        "survey": survey_file.filename,
        "floor_area_m2": round(result.floor_area_m2, 2),
        "footprint_area_m2": round(result.footprint_area_m2, 2),
        "exceeded": len(result.exceeded),
    }
    if result.passed:
        return "compliant", detail, f"规划核实：{len(items)} 项指标均符合规划许可"
    names = "、".join(dict.fromkeys(i.name_zh for i in result.exceeded))
    return "rejected", detail, f"规划核实：{len(result.exceeded)} 项超出规划许可（{names}）"
