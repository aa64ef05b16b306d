"""The window corrects an application in 补正: a case whose planned 容积率 exceeded its
parcel's goes back to the automatic review with the corrected value and passes; the record
at intake is unchanged, the correction is an event of its own, and the case as of a moment
before it shows what was asked then. Only the window amends, and only when the case is with
the window."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import shapely
from pyproj import CRS

from guotu.domain.access.policy import Principal
from guotu.errors import InputError, PermissionDeniedError
from guotu.services.approval_setup import ApprovalSetup
from guotu.services.approval_views import case_view
from guotu.services.approvals import Act, Application, act, intake
from guotu.store.memory import MemoryStore

from ..conftest import X0, Y0, import_detailed_parcel

CLERK = Principal("c1", frozenset({"clerk"}), "guihua")
REVIEWER = Principal("r1", frozenset({"reviewer"}), "guihua")
ZJ = Principal("z1", frozenset({"reviewer"}), "zhujian")


class Clock:
    def __init__(self) -> None:
        self.t = datetime(2026, 3, 2, 9, 0)

    def __call__(self) -> datetime:
        self.t += timedelta(minutes=10)
        return self.t


@pytest.fixture
def case(tmp_path: Path) -> tuple[MemoryStore, ApprovalSetup, str]:
    store = MemoryStore.open()
    store.set_crs(CRS.from_epsg(4527))
    import_detailed_parcel(store, tmp_path, rjl=1.5)  # 容积率 ≤ 1.5
    setup = ApprovalSetup(now=Clock())
    site = shapely.box(X0, Y0, X0 + 100, Y0 + 80)
    app = Application(
        "cn-construction-permit", "某公司", "某项目", "城关镇", site, date(2026, 3, 2),
        {"YDYHFLDM": "080403", "RJL": 2.0},
    )  # fmt: skip
    c, state = intake(store, app, CLERK, setup)
    assert state.stage == "supplement"  # 2.0 > 1.5: not compliant
    return store, setup, c.id


def test_a_corrected_application_passes_the_review_again(
    case: tuple[MemoryStore, ApprovalSetup, str],
) -> None:
    store, setup, cid = case
    act(store, cid, Act("amend", note="容积率改为 1.2", indicators={"RJL": 1.2}), CLERK, setup)
    before_retry = store.approval_events(cid)[-1].event.at
    state = act(store, cid, Act("outcome", "done", "补正完成"), CLERK, setup)
    assert state.stage == "co_review"
    reviews = [e for e in store.approval_events(cid) if e.event.kind == "review"]
    assert [e.event.value for e in reviews] == ["non_compliant", "compliant"]
    view = case_view(store, cid, REVIEWER, setup)
    assert view.case.detail["indicators"]["RJL"] == 1.2
    assert store.approval_case(cid).detail["indicators"]["RJL"] == 2.0  # intake's record kept
    earlier = case_view(store, cid, REVIEWER, setup, as_of=before_retry - timedelta(minutes=5))
    assert earlier.case.detail["indicators"]["RJL"] == 2.0


def test_a_new_site_replaces_the_old_one(case: tuple[MemoryStore, ApprovalSetup, str]) -> None:
    store, setup, cid = case
    smaller = shapely.box(X0, Y0, X0 + 50, Y0 + 80)
    act(store, cid, Act("amend", note="缩小用地", site=smaller), CLERK, setup)
    view = case_view(store, cid, REVIEWER, setup)
    assert view.case.site_area_m2 == pytest.approx(4000.0)
    with pytest.raises(InputError):
        act(store, cid, Act("amend", note="x", site=shapely.Point(X0, Y0)), CLERK, setup)
    with pytest.raises(InputError):  # nothing changed, or not said what
        act(store, cid, Act("amend", note="改了"), CLERK, setup)
    with pytest.raises(InputError):
        act(store, cid, Act("amend", indicators={"RJL": 1.0}), CLERK, setup)


def test_only_the_window_amends_when_the_case_is_with_it(
    case: tuple[MemoryStore, ApprovalSetup, str],
) -> None:
    store, setup, cid = case
    with pytest.raises(PermissionDeniedError):
        act(store, cid, Act("amend", note="x", indicators={"RJL": 1.0}), REVIEWER, setup)
    act(store, cid, Act("amend", note="容积率 1.2", indicators={"RJL": 1.2}), CLERK, setup)
    act(store, cid, Act("outcome", "done"), CLERK, setup)
    with pytest.raises(PermissionDeniedError) as caught:  # now in co-review
        act(store, cid, Act("amend", note="x", indicators={"RJL": 1.0}), CLERK, setup)
    assert "窗口" in caught.value.message_zh
    act(store, cid, Act("opinion", "agree"), ZJ, setup)
