"""A building permit an approval case issued is an approved project for the change-patch
matching: the demo's one 符合规划但未批 patch becomes 未批先建 once a permit over it is issued
after its image date, and stays as it was as of a date before the permit."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from guotu.demo.build import build_demo
from guotu.domain.access.policy import Principal
from guotu.services.approval_setup import ApprovalSetup
from guotu.services.approvals import Act, Application, act, intake
from guotu.services.cases import classify_patches
from guotu.store.geopackage import GeoPackageStore


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("permits")
    build_demo(base / "demo.gpkg", base / "files", parcels=1000, seed=20261122)
    return base / "demo.gpkg"


def _planted(store: Any) -> str:
    """The demo's one planted 符合规划但未批 patch."""
    report = classify_patches(store, as_of=date(2026, 11, 30))
    [tbbh] = [
        c.to_dict()["tbbh"] for c in report.cases if c.to_dict()["class"] == "compliant_unapproved"
    ]
    return str(tbbh)


def _class(store: Any, day: date, patch: str) -> tuple[str, list[str]]:
    report = classify_patches(store, as_of=day)
    [case] = [c for c in report.cases if c.to_dict()["tbbh"] == patch]
    d = case.to_dict()
    return d["class"], [m["xmdm"] for m in d.get("projects", [])]


def test_an_issued_permit_is_an_approved_project(workspace: Path) -> None:
    clock = iter(datetime(2026, 11, 2, 9, 0) + timedelta(minutes=i) for i in range(100))
    setup = ApprovalSetup(now=lambda: next(clock))
    with GeoPackageStore.open(workspace) as store:
        patch = _planted(store)
        patches = store.read_layer(store.layers_with_role("change_patch")[0].name)
        site = patches[patches["TBBH"] == patch].geometry.iloc[0]
        # a 乡村建设规划许可证 (no detailed plan covers the patch: a village's house plot);
        # the project's use is the plan's use under the site
        plan = store.read_layer(
            store.layers_with_role("planned_land_use")[0].name, bbox=site.bounds
        )
        under = plan[plan.intersects(site)]
        best = under.iloc[int(under.intersection(site).area.to_numpy().argmax())]
        app = Application(
            "cn-rural-construction-permit",
            "示范县某开发公司",
            "补办许可的厂房",
            "示范县",
            site,
            date(2026, 11, 2),
            {"YDYHFLDM": best["YDYHFLDM"], "RJL": 0.5},
        )
        clerk = Principal("c1", frozenset({"clerk"}), "guihua")
        case, state = intake(store, app, clerk, setup)
        assert state.stage == "co_review", store.approval_events(case.id)[-2].detail
        for dept in ("gengdi", "zhujian"):
            act(
                store,
                case.id,
                Act("opinion", "agree"),
                Principal(dept, frozenset({"reviewer"}), dept),
                setup,
            )
        act(
            store,
            case.id,
            Act("outcome", "done"),
            Principal("r", frozenset({"reviewer"}), "guihua"),
            setup,
        )
        act(
            store,
            case.id,
            Act("outcome", "approved"),
            Principal("a", frozenset({"approver"}), "guihua"),
            setup,
        )
        # issued on 2026-11-02, after the patch's image: built before approval
        assert _class(store, date(2026, 11, 30), patch) == ("built_before_approval", [case.id])
        # as of a day before the permit, the patch had no approval
        assert _class(store, date(2026, 10, 30), patch) == ("compliant_unapproved", [])
