"""Plans, versions and time, on every store (the contract suite: memory, geopackage,
postgis): as-of, known-at, amendments that share unchanged features, retroactive corrections,
immutability and the audit log. The schema-1 upgrade is GeoPackage's own."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from pyproj import CRS

from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.model import PlanLevel, PlanType, VersionStatus
from guotu.errors import ConfigError, NotFoundError
from guotu.services.audit import verify_audit
from guotu.store.geopackage import GeoPackageStore

from ..conftest import X0, Y0
from .conftest import driver_errors, index_is_sound, raw_sql, revision_count

GK39 = CRS.from_epsg(4527)


def parcels(
    codes: list[str], keys: list[str] | None = None, shift: float = 0.0
) -> gpd.GeoDataFrame:
    n = len(codes)
    keys = keys or [f"P{i}" for i in range(n)]
    geoms = [
        shapely.box(X0 + i * 100 + shift, Y0, X0 + i * 100 + 100 + shift, Y0 + 100)
        for i in range(n)
    ]
    return gpd.GeoDataFrame({"BSM": keys, "YDYHFLDM": codes}, geometry=geoms, crs=GK39)


def write(
    store: Any,
    frame: gpd.GeoDataFrame,
    spec: VersionSpec | None = None,
    name: str = "GHYD",
    replace: bool = False,
) -> None:
    store.write_layer(
        name,
        "planned_land_use",
        frame,
        column_types={"BSM": "text", "YDYHFLDM": "code"},
        geometry_type="POLYGON",
        version=spec,
        replace=replace,
    )


@pytest.fixture
def store(store: Any) -> Any:
    """The conftest's store of each backend, with the county's master plan."""
    store.create_plan(
        "示范县总体规划", level=PlanLevel.COUNTY, type=PlanType.MASTER, xzqdm="370999"
    )
    return store


def spec(label: str, **kw) -> VersionSpec:
    return VersionSpec("示范县总体规划", label, **kw)


def codes(frame: gpd.GeoDataFrame) -> list[str]:
    return frame.sort_values("BSM")["YDYHFLDM"].tolist()


def test_amendment_shares_unchanged_features(store) -> None:
    base = parcels(["0701"] * 100)
    write(store, base, spec("2021版", valid_from=date(2021, 5, 1)))
    amended = base.copy()
    amended.loc[[3, 7], "YDYHFLDM"] = "0901"
    write(
        store, amended, spec("2023修改", status=VersionStatus.AMENDED, valid_from=date(2023, 9, 1))
    )
    assert revision_count(store, "GHYD") == 102  # 100 + the 2 changed features, not 200
    v2 = store.version("示范县总体规划", "2023修改")
    added, retired = store.version_changes("GHYD", v2.id)
    assert len(added) == 2 and len(retired) == 2
    assert codes(store.read_layer("GHYD", as_of=date(2024, 1, 1))).count("0901") == 2
    assert codes(store.read_layer("GHYD", as_of=date(2022, 1, 1))).count("0901") == 0
    assert store.read_layer("GHYD", as_of=date(2020, 1, 1)).empty  # nothing in force yet


def test_known_at_answers_as_recorded_then(store) -> None:
    write(store, parcels(["0101"] * 3), spec("2021版", valid_from=date(2021, 1, 1)))
    later = parcels(["0101", "0701", "0101"])
    write(store, later, spec("2024修改", status=VersionStatus.AMENDED, valid_from=date(2024, 1, 1)))
    v2 = store.version("示范县总体规划", "2024修改")
    before_record = v2.recorded_at - timedelta(microseconds=1)
    assert (
        codes(store.read_layer("GHYD", as_of=date(2024, 6, 1), known_at=before_record))
        == ["0101"] * 3
    )
    assert codes(store.read_layer("GHYD", as_of=date(2024, 6, 1))) == ["0101", "0701", "0101"]


def test_retroactive_correction_is_answered_on_both_axes(store) -> None:
    write(store, parcels(["0701", "0701"]), spec("A", valid_from=date(2022, 1, 1)))
    write(
        store,
        parcels(["0701", "0801"]),
        spec("B", status=VersionStatus.AMENDED, valid_from=date(2023, 1, 1)),
    )
    # Recorded later, but valid from 2022-06-01: it corrects the past.
    write(
        store,
        parcels(["1401", "0701"]),
        spec("C更正", status=VersionStatus.AMENDED, parent="A", valid_from=date(2022, 6, 1)),
    )
    c = store.version("示范县总体规划", "C更正")
    before_c = c.recorded_at - timedelta(microseconds=1)
    assert codes(store.read_layer("GHYD", as_of=date(2022, 8, 1))) == ["1401", "0701"]
    assert codes(store.read_layer("GHYD", as_of=date(2022, 8, 1), known_at=before_c)) == [
        "0701",
        "0701",
    ]
    assert codes(store.read_layer("GHYD", as_of=date(2023, 6, 1))) == ["0701", "0801"]


def test_valid_to_ends_a_version_and_drafts_are_not_in_force(store) -> None:
    write(
        store,
        parcels(["0701"]),
        spec("2021版", valid_from=date(2021, 1, 1), valid_to=date(2025, 1, 1)),
    )
    write(store, parcels(["0901"]), spec("草案", status=VersionStatus.DRAFTING))
    assert codes(store.read_layer("GHYD", as_of=date(2024, 12, 31))) == ["0701"]
    assert store.read_layer("GHYD", as_of=date(2025, 1, 1)).empty
    draft = store.version("示范县总体规划", "草案")
    assert codes(store.read_layer("GHYD", version_id=draft.id)) == ["0901"]


def test_a_recorded_version_is_not_written_again(store) -> None:
    write(store, parcels(["0701"]), spec("2021版"))
    with pytest.raises(ConfigError, match="never modified"):
        write(store, parcels(["0901"]), spec("2021版"))
    assert codes(store.read_layer("GHYD")) == ["0701"]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        # versions: triggers refuse changes
        ("UPDATE guotu_versions SET label = 'x'", "never modified"),
        ("DELETE FROM guotu_versions", "never deleted"),
        # the audit log: append-only
        ("UPDATE guotu_audit SET actor = 'x'", "append-only"),
        ("DELETE FROM guotu_audit", "append-only"),
    ],
)
def test_sql_triggers_keep_versions_and_the_audit_log(sql_store, statement, message) -> None:
    sql_store.create_plan("示范县总体规划", level=PlanLevel.COUNTY, type=PlanType.MASTER)
    write(sql_store, parcels(["0701"]), spec("2021版"))
    with pytest.raises(driver_errors(), match=message):
        raw_sql(sql_store, statement)
    assert [v.label for v in sql_store.versions("示范县总体规划")] == ["2021版"]


def test_every_write_is_in_the_audit_log(store) -> None:
    write(store, parcels(["0701"]), spec("2021版", author="张工", reason="批复入库"))
    write(store, parcels(["0901"]), name="DLTB")
    actions = [(e.action, e.object) for e in store.audit_log()]
    assert ("create_plan", "plan:示范县总体规划") in actions
    assert ("record_version", "plan:示范县总体规划") in actions
    assert ("write_layer", "layer:GHYD") in actions and ("write_layer", "layer:DLTB") in actions
    entry = next(e for e in store.audit_log(object_prefix="layer:GHYD"))
    assert entry.detail["added"] == 1 and entry.reason == "批复入库"


def test_layer_without_plan_gets_versions_on_replace(store) -> None:
    write(store, parcels(["0101", "0101"]), name="DLTB")
    write(store, parcels(["0101", "0701"]), name="DLTB", replace=True)
    versions = store.versions("layer:DLTB")
    assert [v.label for v in versions] == ["v1", "v2"]
    assert codes(store.read_layer("DLTB")) == ["0101", "0701"]
    assert codes(store.read_layer("DLTB", version_id=versions[0].id)) == ["0101", "0101"]


def test_layer_belongs_to_one_plan(store) -> None:
    write(store, parcels(["0701"]), spec("2021版"))
    store.create_plan("某专项规划", level=PlanLevel.COUNTY, type=PlanType.SPECIAL)
    with pytest.raises(ConfigError, match="belongs to plan"):
        write(store, parcels(["0701"]), VersionSpec("某专项规划", "v1"))
    with pytest.raises(NotFoundError):
        write(store, parcels(["0701"]), VersionSpec("没有的规划", "v1"))


def test_duplicates_are_counted_not_merged(store) -> None:
    frame = parcels(["0701", "0701"], keys=["A", "A"], shift=0)
    frame.geometry = [frame.geometry.iloc[0]] * 2  # two identical features
    write(store, frame, spec("1"))
    write(store, frame.iloc[:1], spec("2", status=VersionStatus.AMENDED))
    assert len(store.read_layer("GHYD")) == 1
    v1 = store.version("示范县总体规划", "1")
    assert len(store.read_layer("GHYD", version_id=v1.id)) == 2


def test_bbox_and_versions_combine(store) -> None:
    write(store, parcels(["0701"] * 10), spec("1"))
    moved = parcels(["0701"] * 10)
    moved.loc[0, "geometry"] = shapely.box(X0 + 5000, Y0, X0 + 5100, Y0 + 100)
    write(store, moved, spec("2", status=VersionStatus.AMENDED))
    near_origin = (X0 + 10, Y0 + 10, X0 + 20, Y0 + 20)
    v1 = store.version("示范县总体规划", "1")
    assert store.read_layer("GHYD", bbox=near_origin).empty
    assert store.read_layer("GHYD", bbox=near_origin, version_id=v1.id)["BSM"].tolist() == ["P0"]
    assert index_is_sound(store, "GHYD")


def test_schema_1_workspace_is_upgraded_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.gpkg"
    with GeoPackageStore.open(path, create=True) as s:
        s.set_crs(GK39)
        write(s, parcels(["0701", "0901"]), name="GHYD")
    # Turn it back into a schema-1 file: unversioned layer, no versioning tables.
    conn = sqlite3.connect(path)
    conn.executescript("""
        DROP VIEW "GHYD_现行";
        DELETE FROM gpkg_geometry_columns WHERE table_name = 'GHYD_现行';
        DELETE FROM gpkg_contents WHERE table_name = 'GHYD_现行';
        DROP TRIGGER guotu_versions_no_update; DROP TRIGGER guotu_versions_no_delete;
        DROP TRIGGER guotu_audit_no_update; DROP TRIGGER guotu_audit_no_delete;
        DROP TABLE guotu_departments; DROP TABLE guotu_users; DROP TABLE guotu_tokens;
        DROP TABLE guotu_layer_policies; DROP TABLE guotu_sessions;
        DROP TABLE guotu_approval_cases; DROP TABLE guotu_approval_events;
        DROP TABLE guotu_approval_files; DROP TABLE guotu_approval_blobs;
        DROP TABLE guotu_approval_visits; DROP TABLE guotu_approval_status;
        DELETE FROM guotu_meta WHERE key = 'audit_head';
        DROP TABLE guotu_table_rows; DROP TABLE guotu_table_versions;
        DROP TABLE guotu_retired; DROP TABLE guotu_layer_versions; DROP TABLE guotu_audit;
        DROP TABLE guotu_versions; ALTER TABLE guotu_layers DROP COLUMN plan_id;
        DROP TABLE guotu_plans; DROP INDEX "GHYD_guotu_added_in";
        ALTER TABLE "GHYD" DROP COLUMN guotu_added_in; ALTER TABLE "GHYD" DROP COLUMN guotu_hash;
        UPDATE guotu_meta SET value = '1' WHERE key = 'schema_version';
    """)
    conn.close()
    with GeoPackageStore.open(path) as s:
        assert s.meta("schema_version") == "5"
        assert codes(s.read_layer("GHYD")) == ["0701", "0901"]
        assert s.tables() == []
        assert [v.label for v in s.versions("layer:GHYD")] == ["v1"]
        assert s.audit_log()[-1].action == "upgrade"
        # the reasons are read by people in a bureau: Chinese
        assert [e.reason for e in s.audit_log() if e.action == "upgrade"] == [
            "工作空间结构版本 1 → 2",
            "工作空间结构版本 2 → 3",
            "工作空间结构版本 3 → 4",
            "工作空间结构版本 4 → 5",
        ]
        assert verify_audit(s) == []
        assert s._conn.execute('SELECT count(*) FROM "GHYD_现行"').fetchone()[0] == 2
        # The upgrade hashed the old rows, so a re-import shares the unchanged feature.
        write(s, parcels(["0701", "1401"]), name="GHYD", replace=True)
        assert codes(s.read_layer("GHYD")) == ["0701", "1401"]
        assert s._conn.execute('SELECT count(*) FROM "GHYD"').fetchone()[0] == 3


def test_feature_history_lists_every_revision(store) -> None:
    write(store, parcels(["0701", "0701"]), spec("A"))
    write(store, parcels(["0701", "0901"]), spec("B", status=VersionStatus.AMENDED))
    hist = store.feature_history("GHYD", "P1")
    assert [h["added_in"] for h in hist] == ["示范县总体规划/A", "示范县总体规划/B"]
    assert hist[0]["retired_in"] == ["示范县总体规划/B"] and hist[1]["retired_in"] == []
    assert [h["added_in"] for h in store.feature_history("GHYD", "P0")] == ["示范县总体规划/A"]
    assert store.feature_history("GHYD", "nope") == []


# -- found in review --------------------------------------------------------------------------
def test_a_version_with_amendments_takes_no_new_layer(store) -> None:
    write(store, parcels(["0701"]), spec("A"))
    write(store, parcels(["0901"]), spec("B", status=VersionStatus.AMENDED))
    with pytest.raises(ConfigError, match="already has amendments"):
        write(store, parcels(["1401"]), spec("A"), name="CZKFBJ")


def test_default_parent_is_the_version_in_force_not_a_later_correction(store) -> None:
    write(store, parcels(["0701"]), spec("2021版", valid_from=date(2021, 1, 1)), name="CZKFBJ")
    write(
        store,
        parcels(["0901"]),
        spec("2023修改", status=VersionStatus.AMENDED, valid_from=date(2023, 1, 1)),
        name="CZKFBJ",
    )
    write(
        store,
        parcels(["0101"]),
        spec(
            "2021版更正", status=VersionStatus.AMENDED, parent="2021版", valid_from=date(2021, 6, 1)
        ),
    )
    write(
        store,
        parcels(["0102"]),
        spec("2025修改", status=VersionStatus.AMENDED, valid_from=date(2025, 1, 1)),
    )
    latest = store.version("示范县总体规划", "2025修改")
    assert store.version_by_id(latest.parent_id).label == "2023修改"
    assert codes(store.read_layer("CZKFBJ")) == ["0901"]  # not undone by the correction


def test_reordered_columns_share_every_feature(store) -> None:
    frame = parcels(["0701", "0901"])
    write(store, frame, spec("A"))
    write(store, frame[["YDYHFLDM", "BSM", "geometry"]], spec("B", status=VersionStatus.AMENDED))
    b = store.version("示范县总体规划", "B")
    assert store.version_changes("GHYD", b.id) == ([], [])


def test_a_repeal_ends_what_came_before(store) -> None:
    write(store, parcels(["0701"]), spec("A", valid_from=date(2021, 1, 1)))
    write(
        store,
        parcels(["0701"]),
        spec("废止", status=VersionStatus.REPEALED, valid_from=date(2025, 1, 1)),
    )
    assert codes(store.read_layer("GHYD", as_of=date(2024, 1, 1))) == ["0701"]
    assert store.read_layer("GHYD", as_of=date(2025, 6, 1)).empty
    assert store.read_layer("GHYD").empty  # today: repealed, no fallback to a draft


def test_aware_known_at_is_accepted(store) -> None:
    from datetime import UTC, timezone

    write(store, parcels(["0701"]), spec("A"))
    beijing = timezone(timedelta(hours=8))
    assert len(store.read_layer("GHYD", known_at=datetime.now(beijing))) == 1
    assert store.read_layer("GHYD", known_at=datetime(2000, 1, 1, tzinfo=UTC)).empty


def test_replace_without_a_version_corrects_the_version_in_force(store) -> None:
    write(store, parcels(["0701", "0701"]), spec("2021版", valid_from=date(2021, 1, 1)))
    write(store, parcels(["0701", "0901"]), replace=True)  # e.g. guotu check --repair
    assert codes(store.read_layer("GHYD")) == ["0701", "0901"]
    assert codes(store.read_layer("GHYD", as_of=date(2022, 1, 1))) == ["0701", "0901"]
    correction = store.versions("示范县总体规划")[-1]
    assert correction.valid_from == date(2021, 1, 1)
    assert store.version_by_id(correction.parent_id).label == "2021版"
