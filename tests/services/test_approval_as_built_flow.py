"""规划核实 through the engine: a ``cn-completion-verification`` case whose as-built survey
(竣工测量成果数据, a GeoJSON in the demo county's workspace CRS EPSG:4527) is compared with the
permit by the automatic stage ``auto_verify``.

The permit's site is 100 m × 80 m = 8,000 m². The survey has two buildings inside it:
1号楼 20 × 40 m, 12 floors, 39.6 m, 9,600 m²; 2号楼 20 × 30 m, 11 floors, 36.3 m, 6,600 m².
容积率 as built: (9,600 + 6,600) / 8,000 = 2.025. A workspace in memory in that CRS is enough:
the comparison reads only the case (its site and the permit's indicators) and the survey.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from pyproj import CRS

from guotu.domain.access.policy import Principal
from guotu.errors import ConfigError, EnvironmentSetupError
from guotu.io import fonts
from guotu.services.approval_as_built import AS_BUILT_MATERIAL
from guotu.services.approvals import Act, Application, ApprovalSetup, act, attach_material, intake
from guotu.store.memory import MemoryStore

from ..conftest import X0, Y0, unavailable

WORKSPACE = CRS.from_epsg(4527)
CLERK = Principal("huangmei01", frozenset({"clerk"}), "guihua")
APPROVER = Principal("chenjing01", frozenset({"approver"}), "guihua")
ZHUJIAN = Principal("zhujian01", frozenset({"reviewer"}), "zhujian")
SHENGTAI = Principal("shengtai01", frozenset({"reviewer"}), "shengtai")
REVIEWER = Principal("liuyang01", frozenset({"reviewer"}), "guihua")

BUILDINGS = {
    "编号": ["1号楼", "2号楼"],
    "层数": [12, 11],
    "高度": [39.6, 36.3],
    "建筑面积": [9600.0, 6600.0],
}


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    s.set_crs(WORKSPACE)
    return s


@pytest.fixture
def setup() -> ApprovalSetup:
    return ApprovalSetup(now=lambda: datetime(2026, 3, 2, 9, 0), authority="示范县自然资源和规划局")


def survey(folder: Path, columns: dict[str, list[Any]] = BUILDINGS) -> bytes:
    """The bytes of the survey GeoJSON (1号楼 and 2号楼 where the module docstring says)."""
    path = folder / "竣工测量.geojson"
    frame = gpd.GeoDataFrame(
        columns, geometry=[box(10, 10, 30, 50), box(60, 20, 80, 50)], crs="EPSG:4527"
    )
    frame.to_file(path)
    return path.read_bytes()


def new_case(store: MemoryStore, setup: ApprovalSetup, **indicators: float) -> str:
    """A 规划核实 application received at the window (not yet accepted), with the permit's
    limits as ``indicators``."""
    app = Application(
        "cn-completion-verification",
        "示范县城投公司",
        "示范县文体中心竣工规划核实",
        "城关镇",
        box(0, 0, 100, 80),
        date(2026, 3, 2),
        {"XKZH": "建字第2025000017号", **indicators},
    )
    case, _ = intake(store, app, CLERK, setup, accept=False)
    return case.id


def hand_in(store: MemoryStore, setup: ApprovalSetup, case_id: str, content: bytes) -> None:
    attach_material(store, case_id, AS_BUILT_MATERIAL, "竣工测量.geojson", content, CLERK, setup)


def accept(store: MemoryStore, setup: ApprovalSetup, case_id: str) -> Any:
    return act(store, case_id, Act("outcome", "done", "材料齐全，予以受理"), CLERK, setup)


def verification(store: MemoryStore, case_id: str) -> Any:
    """The last automatic comparison on the record."""
    return [e for e in store.approval_events(case_id) if e.event.kind == "review"][-1]


@pytest.mark.parametrize(
    ("indicators", "exceeded"),
    [
        # 容积率 2.025 above 2.0
        ({"RJL": 2.0}, [("as_built.far", None, 2.0, 2.025)]),
        # 1号楼 39.6 m above a 38 m limit; 2号楼 36.3 m within it
        ({"RJL": 2.5, "JZXG": 38.0}, [("as_built.height", "1号楼", 38.0, 39.6)]),
    ],
    ids=["far", "height"],
)
def test_a_building_beyond_its_permit_goes_on_to_the_co_review_rejected(
    store: MemoryStore,
    setup: ApprovalSetup,
    tmp_path: Path,
    indicators: dict[str, float],
    exceeded: list[tuple[Any, ...]],
) -> None:
    case_id = new_case(store, setup, **indicators)
    hand_in(store, setup, case_id, survey(tmp_path))
    state = accept(store, setup, case_id)
    assert [(v.stage, v.outcome) for v in state.visits] == [
        ("intake", "done"),
        ("auto_verify", "rejected"),
        ("co_review", None),
    ]
    [s] = store.approval_statuses(case_id=case_id)
    assert s.waiting == ("dept:zhujian", "dept:shengtai")
    review = verification(store, case_id)
    assert (review.event.value, review.event.actor) == ("rejected", "system")
    d = review.detail
    failed = [i for i in d["items"] if not i["passed"]]
    got = [(i["indicator"], i["building_id"], i["permitted"], i["measured"]) for i in failed]
    assert got == [(i, b, p, pytest.approx(m)) for i, b, p, m in exceeded]
    assert (d["action"], d["exceeded"], d["survey"]) == ("verify_as_built", 1, "竣工测量.geojson")
    assert (d["floor_area_m2"], d["footprint_area_m2"]) == (16200.0, 1400.0)
    assert "1 项超出规划许可" in review.event.note


def test_the_exceeded_ratio_is_named_with_both_values(
    store: MemoryStore, setup: ApprovalSetup, tmp_path: Path
) -> None:
    case_id = new_case(store, setup, RJL=2.0)
    hand_in(store, setup, case_id, survey(tmp_path))
    accept(store, setup, case_id)
    [far] = [
        i for i in verification(store, case_id).detail["items"] if i["indicator"] == "as_built.far"
    ]
    assert (far["name_zh"], far["limit_kind"], far["tolerance"]) == ("容积率", "max", 0.0)
    # 2.025 rounded half up, as a person reads it
    assert far["message_zh"] == (
        "容积率 2.03，超过许可上限 2.00（容差 0.00）：计容建筑面积合计 16200.00 m²，用地面积 8000.00 m²。"
    )


def test_a_building_within_its_permit_is_compliant(
    store: MemoryStore, setup: ApprovalSetup, tmp_path: Path
) -> None:
    # 容积率 ≤ 2.5 (2.025 built), 限高 40 m (39.6 and 36.3 m built), 建筑密度 ≤ 20 % (footprints
    # 800 + 600 = 1,400 m² of 8,000: 17.5 %).
    case_id = new_case(store, setup, RJL=2.5, JZXG=40.0, JZMD=20.0)
    hand_in(store, setup, case_id, survey(tmp_path))
    state = accept(store, setup, case_id)
    assert (state.visits[1].outcome, state.stage) == ("compliant", "co_review")
    d = verification(store, case_id).detail
    assert d["exceeded"] == 0 and all(i["passed"] for i in d["items"])
    measured = {(i["indicator"], i["building_id"]): i["measured"] for i in d["items"]}
    assert measured[("as_built.far", None)] == pytest.approx(2.025)
    assert measured[("as_built.building_density", None)] == pytest.approx(17.5)
    assert measured[("as_built.height", "1号楼")] == pytest.approx(39.6)


def test_without_a_survey_the_case_goes_to_supplement(
    store: MemoryStore, setup: ApprovalSetup
) -> None:
    case_id = new_case(store, setup, RJL=2.0)
    state = accept(store, setup, case_id)
    assert [(v.stage, v.outcome) for v in state.visits] == [
        ("intake", "done"),
        ("auto_verify", "non_compliant"),
        ("supplement", None),
    ]
    review = verification(store, case_id)
    assert review.detail == {"action": "verify_as_built", "items": [], "missing": True}
    assert "未提交竣工测量成果" in review.event.note
    assert store.approval_statuses(case_id=case_id)[0].waiting == ("role:clerk@guihua",)


def test_a_survey_handed_in_during_supplement_is_compared_again(
    store: MemoryStore, setup: ApprovalSetup, tmp_path: Path
) -> None:
    case_id = new_case(store, setup, RJL=2.5)
    accept(store, setup, case_id)  # no survey: 补正
    hand_in(store, setup, case_id, survey(tmp_path))
    state = act(store, case_id, Act("outcome", "done", "已补交竣工测量成果"), CLERK, setup)
    assert [(v.stage, v.outcome) for v in state.visits] == [
        ("intake", "done"),
        ("auto_verify", "non_compliant"),
        ("supplement", "done"),
        ("auto_verify", "compliant"),
        ("co_review", None),
    ]
    assert verification(store, case_id).detail["exceeded"] == 0


def test_a_survey_without_floor_areas_cannot_be_compared(
    store: MemoryStore, setup: ApprovalSetup, tmp_path: Path
) -> None:
    case_id = new_case(store, setup, RJL=2.0)
    columns = {k: v for k, v in BUILDINGS.items() if k != "建筑面积"}
    hand_in(store, setup, case_id, survey(tmp_path, columns))
    state = accept(store, setup, case_id)
    assert (state.visits[1].outcome, state.stage) == ("non_compliant", "supplement")
    d = verification(store, case_id).detail
    assert d["items"] == [] and "建筑面积" in d["unreadable"]


@pytest.fixture
def refused_case(store: MemoryStore, setup: ApprovalSetup, tmp_path: Path) -> dict[str, Any]:
    """A case whose 容积率 2.025 exceeds its 2.0, taken through 联合验收 and 现场核实 to the
    approver's refusal (核实不合格): its ``issued`` event and the text of its PDF."""
    try:
        fonts.find_cjk_font()
    except (EnvironmentSetupError, ConfigError) as exc:
        unavailable(exc.render("en"))
    if shutil.which("pdftotext") is None:
        unavailable("pdftotext not found (apt-get install poppler-utils)")
    case_id = new_case(store, setup, RJL=2.0)
    hand_in(store, setup, case_id, survey(tmp_path))
    accept(store, setup, case_id)
    act(store, case_id, Act("opinion", "agree"), ZHUJIAN, setup)
    act(store, case_id, Act("opinion", "agree"), SHENGTAI, setup)
    act(store, case_id, Act("outcome", "done", "现场核实：容积率超出"), REVIEWER, setup)
    state = act(store, case_id, Act("outcome", "rejected", "容积率超出规划许可"), APPROVER, setup)
    assert (state.stage, state.closed) == ("refused", True)
    pdf = next(f for f in store.approval_files(case_id) if f.media_type == "application/pdf")
    path = tmp_path / "核实.pdf"
    path.write_bytes(store.approval_file_content(pdf.sha256) or b"")
    text = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    issued = store.approval_events(case_id)[-1]
    return {"id": case_id, "issued": issued, "text": re.sub(r"\s+", "", text)}


def test_the_refusal_issues_the_nonconformity_document_with_the_comparison(
    refused_case: dict[str, Any],
) -> None:
    case_id, issued, text = refused_case["id"], refused_case["issued"], refused_case["text"]
    assert (issued.event.kind, issued.detail["serial"]) == ("issued", f"核字第{case_id}号")
    assert issued.detail["title"] == "建设工程规划核实不合格意见书"
    assert f"核字第{case_id}号" in text and "建设工程规划核实不合格意见书" in text
    # the comparison table's row: indicator, permitted, measured, tolerance, result
    assert re.search(r"容积率≤2\.002\.0\d±0\.00超出", text), text
    assert "用地红线（1号楼）≤0.00m0.00m±0.05m合格" in text


def test_the_document_shows_the_measured_ratio_as_the_record_does(
    refused_case: dict[str, Any],
) -> None:
    # The record says 容积率 2.03 (test_the_exceeded_ratio_is_named_with_both_values).
    assert "容积率≤2.002.03±0.00超出" in refused_case["text"]
