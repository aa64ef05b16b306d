"""Non-spatial versioned tables (plan targets, statistics) on every store (the contract suite:
memory, geopackage, postgis): round trip, a new write is a new version, as-of and known-at,
tables as plan-version content, refusals, atomicity, immutability, upgrades."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from guotu.domain.core.catalog import VersionSpec, YearValue
from guotu.domain.core.model import PlanLevel, PlanType, VersionStatus
from guotu.errors import ConfigError, GuotuError, NotFoundError, StoreError
from guotu.store.layout import SCHEMA_VERSION

from .conftest import driver_errors, raw_sql, reopen, strip_to_schema_3

PLAN = "示范县国土空间总体规划"


def rows(cultivated: float, years: tuple[int, ...] = (2025, 2035)) -> list[YearValue]:
    return [
        *(YearValue("耕地保有量", "公顷", y, cultivated + k, 2) for k, y in enumerate(years)),
        YearValue("用水总量", "亿立方米", 2035, 1.5, 3),
    ]


def spec(label: str, **kw: Any) -> VersionSpec:
    return VersionSpec(PLAN, label, **kw)


@pytest.fixture
def planned(empty_store: Any) -> Any:
    """A workspace (no CRS: tables need none) with the county's master plan."""
    empty_store.create_plan(PLAN, level=PlanLevel.COUNTY, type=PlanType.MASTER)
    return empty_store


def test_rows_come_back_as_written_in_order(empty_store: Any) -> None:
    written = [
        YearValue("耕地保有量", "万亩", 2035, 12.5, 4),
        YearValue("城镇常住人口", "", 2021, 301234.0),
        YearValue("国土开发强度", "%", 2025, 7.25, 2),
    ]
    recorded = empty_store.write_table("targets", written, source="规划目标.xlsx")
    assert empty_store.read_table("targets") == written
    assert (recorded.plan, recorded.version.label, recorded.rows, recorded.source) == (
        "table:targets",
        "v1",
        3,
        "规划目标.xlsx",
    )
    [info] = empty_store.tables()
    assert (info.name, info.plan, info.versions, info.rows) == ("targets", "table:targets", 1, 3)
    assert empty_store.crs is None  # a table fixes no CRS


def test_a_new_write_is_a_new_version_and_nothing_is_overwritten(empty_store: Any) -> None:
    first = empty_store.write_table("targets", rows(100.0), source="a.xlsx")
    second = empty_store.write_table(
        "targets", rows(90.0), source="b.xlsx", actor="张三", reason="规划修改"
    )
    assert [t.version.label for t in empty_store.table_versions("targets")] == ["v1", "v2"]
    assert empty_store.read_table("targets")[0].value == 90.0
    assert empty_store.read_table("targets", version_id=first.version.id)[0].value == 100.0
    assert empty_store.table_version("targets").version.id == second.version.id
    assert empty_store.table("targets").source == "b.xlsx"
    entries = [e for e in empty_store.audit_log(object_prefix="table") if e.action == "write_table"]
    assert [(e.actor, e.detail["version"], e.detail["rows"]) for e in entries] == [
        ("guotu", "v1", 3),
        ("张三", "v2", 3),
    ]
    assert entries[-1].reason == "规划修改"


def test_known_at_reads_the_table_as_recorded_then(empty_store: Any) -> None:
    first = empty_store.write_table("statistics", rows(1.0))
    between = first.version.recorded_at + timedelta(microseconds=1)
    empty_store.write_table("statistics", rows(2.0))
    assert empty_store.read_table("statistics", known_at=between)[0].value == 1.0
    assert empty_store.read_table("statistics")[0].value == 2.0
    assert empty_store.read_table("statistics", known_at=datetime(2000, 1, 1)) == []
    assert empty_store.table_version("statistics", known_at=datetime(2000, 1, 1)) is None


def test_a_table_is_content_of_plan_versions(planned: Any) -> None:
    planned.write_table("targets", rows(100.0), version=spec("2021版", valid_from=date(2021, 1, 1)))
    planned.write_table(
        "targets",
        rows(80.0),
        version=spec("2024修改", status=VersionStatus.AMENDED, valid_from=date(2024, 1, 1)),
    )
    assert planned.read_table("targets", as_of=date(2020, 6, 1)) == []
    assert planned.read_table("targets", as_of=date(2022, 6, 1))[0].value == 100.0
    assert planned.read_table("targets", as_of=date(2025, 6, 1))[0].value == 80.0
    seen = planned.table_version("targets", as_of=date(2022, 6, 1))
    assert (seen.plan, seen.version.label) == (PLAN, "2021版")


def test_a_plan_version_without_the_table_inherits_it(planned: Any) -> None:
    import geopandas as gpd
    import shapely
    from pyproj import CRS

    from ..conftest import X0, Y0

    planned.write_table("targets", rows(100.0), version=spec("2021版", valid_from=date(2021, 1, 1)))
    frame = gpd.GeoDataFrame(
        {"BSM": ["A"]}, geometry=[shapely.box(X0, Y0, X0 + 1, Y0 + 1)], crs=CRS.from_epsg(4527)
    )
    planned.write_layer(
        "GHYD",
        "planned_land_use",
        frame,
        column_types={"BSM": "text"},
        geometry_type="POLYGON",
        crs=CRS.from_epsg(4527),
        version=spec("2023修改", status=VersionStatus.AMENDED, valid_from=date(2023, 1, 1)),
    )
    seen = planned.table_version("targets", as_of=date(2024, 1, 1))
    assert seen.version.label == "2021版"  # the version that recorded what is read
    assert planned.read_table("targets", as_of=date(2024, 1, 1))[0].value == 100.0
    later = planned.version(PLAN, "2023修改")
    assert planned.read_table("targets", version_id=later.id)[0].value == 100.0


def test_a_recorded_version_is_never_changed(planned: Any) -> None:
    planned.write_table("targets", rows(100.0), version=spec("2021版"))
    with pytest.raises(ConfigError, match="already holds table targets"):
        planned.write_table("targets", rows(90.0), version=spec("2021版"))
    planned.write_table(
        "targets", rows(90.0), version=spec("2022修改", status=VersionStatus.AMENDED)
    )
    with pytest.raises(ConfigError, match="already has amendments"):
        planned.write_table("statistics", rows(1.0), version=spec("2021版"))
    assert (
        planned.read_table("targets", version_id=planned.version(PLAN, "2021版").id)[0].value
        == 100.0
    )


def test_a_table_stays_in_its_plan(planned: Any) -> None:
    planned.write_table("targets", rows(100.0))
    with pytest.raises(ConfigError, match="belongs to plan 'table:targets'"):
        planned.write_table("targets", rows(90.0), version=spec("2021版"))
    with pytest.raises(NotFoundError, match="no plan"):
        planned.write_table("statistics", rows(1.0), version=VersionSpec("没有的规划", "v1"))


@pytest.mark.parametrize(
    "bad",
    [
        YearValue("耕地保有量", "公顷", 2025, math.nan, 2),  # not a number
        YearValue("耕地保有量", "公顷", 2025, math.inf, 2),
        YearValue(" ", "公顷", 2025, 1.0, 2),  # no name
        YearValue("耕地保有量", "公顷", 1850, 1.0, 2),  # not a year of a plan
    ],
    ids=["nan", "inf", "no item", "year"],
)
def test_bad_rows_are_refused_naming_the_row(empty_store: Any, bad: YearValue) -> None:
    with pytest.raises(ConfigError, match="row 2"):
        empty_store.write_table("targets", [*rows(1.0), bad])
    assert empty_store.tables() == [] and empty_store.plans() == []


def test_unknown_tables_and_bad_names(empty_store: Any) -> None:
    empty_store.write_table("targets", rows(1.0))
    with pytest.raises(NotFoundError, match="Tables in it: targets"):
        empty_store.read_table("statistics")
    with pytest.raises(NotFoundError, match="no table"):
        empty_store.table_versions("statistics")
    with pytest.raises(ConfigError, match="table name"):
        empty_store.write_table("<b>", rows(1.0))


def test_a_write_failing_at_its_last_step_leaves_the_store_as_it_was(
    empty_store: Any, monkeypatch
) -> None:
    empty_store.write_table("targets", rows(1.0))
    before = (
        empty_store.tables(),
        empty_store.plans(),
        empty_store.versions(),
        len(empty_store.audit_log()),
    )
    audit = empty_store._audit

    def failing_audit(actor: str, action: str, *args: Any) -> None:
        if action == "write_table":
            raise StoreError("the disk is full")
        audit(actor, action, *args)

    monkeypatch.setattr(empty_store, "_audit", failing_audit)
    for name in ("targets", "statistics"):
        with pytest.raises(StoreError, match="disk is full"):
            empty_store.write_table(name, rows(2.0))
    monkeypatch.undo()
    assert (
        empty_store.tables(),
        empty_store.plans(),
        empty_store.versions(),
        len(empty_store.audit_log()),
    ) == before
    assert empty_store.read_table("targets")[0].value == 1.0
    assert empty_store.write_table("statistics", rows(3.0)).version.label == "v1"


# -- SQL stores: immutability, driver errors, upgrades ------------------------------------------
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE guotu_table_rows SET value = 0",
        "DELETE FROM guotu_table_rows",
        "UPDATE guotu_table_versions SET row_count = 0",
        "DELETE FROM guotu_table_versions",
    ],
)
def test_recorded_rows_cannot_be_changed_behind_the_stores_back(
    sql_store: Any, statement: str
) -> None:
    sql_store.write_table("targets", rows(1.0))
    with pytest.raises(driver_errors(), match="never"):
        raw_sql(sql_store, statement)
    assert sql_store.read_table("targets") == rows(1.0)


def test_no_driver_exception_escapes_when_the_table_tables_go(sql_store: Any) -> None:
    sql_store.write_table("targets", rows(1.0))
    raw_sql(sql_store, "DROP TABLE guotu_table_rows")
    raised = []
    for op in (
        sql_store.tables,
        lambda: sql_store.read_table("targets"),
        lambda: sql_store.write_table("targets", rows(2.0)),
    ):
        try:
            op()
        except GuotuError as exc:
            raised.append(exc)
        except driver_errors() as exc:  # pragma: no cover - what the test is here to catch
            pytest.fail(f"{type(exc).__name__} escaped the store: {exc}")
    assert raised and all(isinstance(e, StoreError) for e in raised)


def test_a_schema_2_workspace_gets_the_tables_on_open(sql_store: Any, tmp_path: Path) -> None:
    sql_store.write_table("kept", rows(1.0))
    strip_to_schema_3(sql_store)
    for statement in (
        "DROP TABLE guotu_table_rows",
        "DROP TABLE guotu_table_versions",
        "UPDATE guotu_meta SET value = '2' WHERE key = 'schema_version'",
    ):
        raw_sql(sql_store, statement)
    with reopen(sql_store) as reopened:
        assert reopened.meta("schema_version") == str(SCHEMA_VERSION) == "5"
        assert reopened.tables() == []
        upgrades = [e for e in reopened.audit_log() if e.action == "upgrade"]
        assert [(e.reason, e.detail) for e in upgrades] == [
            ("工作空间结构版本 2 → 3", {}),
            ("工作空间结构版本 3 → 4", {}),
            ("工作空间结构版本 4 → 5", {}),
        ]
        reopened.write_table("targets", rows(5.0))
        assert reopened.read_table("targets") == rows(5.0)
