"""Approval notices leave the app through the outbox: a 待办 notice to each department newly
asked, one to the applicant when 补正 stops the clock and when the case closes, as JSON lines
a gateway reads; a failing outbox neither undoes nor blocks the case."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import shapely
from pyproj import CRS

from guotu.domain.access.policy import Principal
from guotu.domain.workflow.notices import Notice
from guotu.services.approval_setup import ApprovalSetup, setup_from_settings
from guotu.services.approvals import Act, Application, act, intake
from guotu.settings import Settings
from guotu.store.memory import MemoryStore

from ..conftest import import_detailed_parcel

CLERK = Principal("clerk1", frozenset({"clerk"}), "guihua")
ZJ = Principal("zj1", frozenset({"reviewer"}), "zhujian")


class Clock:
    def __init__(self) -> None:
        self.t = datetime(2026, 3, 2, 9, 0)

    def __call__(self) -> datetime:
        self.t += timedelta(minutes=5)
        return self.t


def application() -> Application:
    site = shapely.box(39_540_000, 4_052_000, 39_540_100, 4_052_080)  # in the parcel
    return Application(
        "cn-construction-permit",
        "某公司",
        "某项目",
        "城关镇",
        site,
        date(2026, 3, 1),
        {"YDYHFLDM": "080403", "RJL": 1.2},
    )


def store(folder: Path) -> MemoryStore:
    s = MemoryStore.open()
    s.set_crs(CRS.from_epsg(4527))
    import_detailed_parcel(s, folder)
    return s


def test_notices_go_out_as_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    setup = setup_from_settings(Settings(approval_outbox=str(path)), now=Clock())
    ws = store(tmp_path)
    case, state = intake(ws, application(), CLERK, setup)
    assert state.stage == "co_review"
    act(ws, case.id, Act("pause", note="缺建筑单体设计方案"), CLERK, setup)
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert [(x["to"], x["reason"]) for x in lines] == [
        ("dept:zhujian", "todo"),  # the window took it in: nobody newly waits till the review
        ("dept:shengtai", "todo"),
        ("applicant", "supplement"),
    ]
    assert lines[0]["case"] == case.id and "待您办理" in lines[0]["text_zh"]
    assert "2026-03-16" in lines[0]["text_zh"]  # 10 working days after Mon 2026-03-02


def test_a_failing_outbox_does_not_block_the_case(tmp_path: Path) -> None:
    class Broken:
        def send(self, notice: Notice) -> None:
            raise OSError("gateway down")

    ws = store(tmp_path)
    setup = ApprovalSetup(now=Clock(), outbox=Broken())
    case, state = intake(ws, application(), CLERK, setup)
    state = act(ws, case.id, Act("opinion", "agree"), ZJ, setup)
    assert state.opinions == {"zhujian": "agree"}
    assert len(ws.approval_events(case.id)) == 4
