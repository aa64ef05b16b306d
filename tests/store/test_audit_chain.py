"""The hash-chained audit log on every store (the contract suite: memory, geopackage,
postgis): every write appends a correctly chained entry; an entry edited or deleted behind
the store's back is named by ``verify_audit``; concurrent writers never chain to the same
entry; a failed write leaves no gap; a schema-3 workspace is chained on open; the search."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely

from guotu.domain.access.audit_chain import GENESIS, chain_hash
from guotu.domain.access.records import UserAccount
from guotu.domain.core.catalog import YearValue
from guotu.errors import StoreError
from guotu.services.audit import search_audit, verify_audit
from guotu.services.audit_writer import audit_event
from guotu.store.geopackage import GeoPackageStore

from ..conftest import X0, Y0
from .conftest import GK39, backend_of, raw_sql, reopen, strip_to_schema_3

TYPES = {"BSM": "text", "MJ": "real"}


def frame(n: int = 3) -> gpd.GeoDataFrame:
    geoms = shapely.box(np.arange(n) * 10.0 + X0, Y0, np.arange(n) * 10.0 + X0 + 10, Y0 + 10)
    return gpd.GeoDataFrame(
        {"BSM": [f"B{i}" for i in range(n)], "MJ": np.full(n, 100.0)}, geometry=geoms, crs=GK39
    )


def write(store: Any, name: str = "L", **kw: Any) -> None:
    store.write_layer(
        name, "planned_land_use", frame(), column_types=TYPES, geometry_type="POLYGON", **kw
    )


def some_writes(store: Any) -> None:
    """One of each kind of write: a layer, a table, an account, an entry of its own."""
    write(store)
    store.write_table("targets", [YearValue("耕地保有量", "公顷", 2035, 1.0)])
    store.put_user(UserAccount("wang", "王工", None, frozenset({"viewer"})), actor="sys")
    store.audit("wang", "sign_in", "user:wang", department="guihua", address="10.0.0.8")


def assert_chained(store: Any) -> None:
    """Ids 1, 2, 3 …, each entry's hash its own, each pointing at the one before."""
    log = store.audit_log()
    assert [e.id for e in log] == list(range(1, len(log) + 1))
    previous = GENESIS
    for e in log:
        assert e.prev_hash == previous and e.hash == chain_hash(previous, e.chain_fields())
        previous = e.hash
    assert verify_audit(store) == []


# -- every write is chained --------------------------------------------------------------------
def test_every_kind_of_write_appends_a_chained_entry(store: Any) -> None:
    some_writes(store)
    assert [(e.action, e.object) for e in store.audit_log()] == [
        ("record_version", "plan:layer:L"),
        ("write_layer", "layer:L"),
        ("record_version", "plan:table:targets"),
        ("write_table", "table:targets"),
        ("update_user", "user:wang"),
        ("sign_in", "user:wang"),
    ]
    assert_chained(store)


def test_audit_returns_the_entry_as_stored(store: Any) -> None:
    write(store)
    entry = store.audit(
        "li",
        "export",
        "layer:L",
        reason="会商",
        detail={"format": "gpkg", "features": 3, "bbox": (1.0, 2.0)},
        department="gengdi",
        address="192.168.1.20",
    )
    assert store.audit_log()[-1] == entry
    assert (entry.id, entry.prev_hash) == (3, store.audit_log()[1].hash)
    assert entry.detail == {"format": "gpkg", "features": 3, "bbox": [1.0, 2.0]}
    assert (entry.department, entry.address) == ("gengdi", "192.168.1.20")
    assert store.audit_head() == (3, 3)


def test_events_do_not_move_the_data_head(store: Any) -> None:
    # caches of tiles, query indexes and policies key on data writes: a sign-in or a read
    # recorded in the log must not throw them away, a write must
    write(store)
    head = store.data_head()
    assert head == store.audit_head()[1] == 2
    store.audit("wang", "sign_in", "user:wang")
    store.audit("wang", "read_restricted", "layer:L")
    assert store.data_head() == head and store.audit_head() == (4, 4)
    store.put_user(UserAccount("wang", "王工", None, frozenset({"viewer"})), actor="sys")
    assert store.data_head() == 5
    write(store, replace=True)
    assert store.data_head() == store.audit_head()[1] > 5


def test_a_batch_of_events_is_one_chained_write_in_its_order(store: Any) -> None:
    # the server's audit writer records reads of 受限 layers in batches (one commit)
    write(store)
    head = store.data_head()
    events = [
        audit_event(
            "li",
            "read_restricted",
            f"layer:L{n}",
            detail={"what": "tilejson"},
            department="gengdi",
            address="10.0.0.7",
        )
        for n in range(3)
    ]
    written = store.audit_events(events)
    assert [e.id for e in written] == [3, 4, 5]
    assert store.audit_log()[-3:] == written
    assert [e.object for e in written] == ["layer:L0", "layer:L1", "layer:L2"]
    assert {(e.department, e.address, e.at) for e in written} == {
        ("gengdi", "10.0.0.7", written[0].at)
    }
    assert written[1].prev_hash == written[0].hash and written[0].prev_hash != ""
    assert store.data_head() == head  # events, not data writes
    assert store.audit_events([]) == []
    assert_chained(store)


def test_an_untouched_log_verifies(store: Any) -> None:
    assert verify_audit(store) == []
    some_writes(store)
    write(store, replace=True)
    assert verify_audit(store) == []


def test_a_failed_write_leaves_no_gap(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    write(store)

    def full_disk(*args: Any) -> None:
        raise StoreError("the disk is full")

    monkeypatch.setattr(store, "_after_layer_write", full_disk)  # after record_version's entry
    with pytest.raises(StoreError, match="disk is full"):
        write(store, "M")
    monkeypatch.undo()
    store.audit("wang", "sign_in", "user:wang")
    assert [e.action for e in store.audit_log()] == ["record_version", "write_layer", "sign_in"]
    assert_chained(store)


# -- tampering behind the store's back (SQL stores) ----------------------------------------------
def lift_guard(store: Any, op: str) -> None:
    """Drop the trigger that refuses ``op`` (UPDATE or DELETE) on the audit log."""
    trigger = f"guotu_audit_no_{op.lower()}"
    on = "" if backend_of(store) == "geopackage" else " ON guotu_audit"
    raw_sql(store, f"DROP TRIGGER {trigger}{on}")


def test_an_edited_entry_is_named(sql_store: Any) -> None:
    some_writes(sql_store)
    lift_guard(sql_store, "UPDATE")
    raw_sql(sql_store, "UPDATE guotu_audit SET actor = 'mallory' WHERE id = 3")
    (broken,) = verify_audit(sql_store)
    assert broken.seq == 3 and "changed" in broken.reason_en


def test_an_edited_detail_is_named(sql_store: Any) -> None:
    some_writes(sql_store)
    lift_guard(sql_store, "UPDATE")
    raw_sql(sql_store, """UPDATE guotu_audit SET detail = '{"rows": 99}' WHERE id = 2""")
    assert [b.seq for b in verify_audit(sql_store)] == [2]


def test_a_deleted_entry_is_named_by_the_next_one(sql_store: Any) -> None:
    some_writes(sql_store)
    lift_guard(sql_store, "DELETE")
    raw_sql(sql_store, "DELETE FROM guotu_audit WHERE id = 2")
    (broken,) = verify_audit(sql_store)
    assert broken.seq == 3 and "序号 2" in broken.reason_zh


def test_deleting_the_newest_entries_shows_with_the_next_write(sql_store: Any) -> None:
    some_writes(sql_store)
    lift_guard(sql_store, "DELETE")
    raw_sql(sql_store, "DELETE FROM guotu_audit WHERE id >= 4")
    entry = sql_store.audit("wang", "sign_in", "user:wang")
    assert entry.id == 7
    assert [b.seq for b in verify_audit(sql_store)] == [7]


# -- concurrent writers --------------------------------------------------------------------------
def open_again(store: Any) -> Any:
    if isinstance(store, GeoPackageStore):
        return GeoPackageStore.open(store.path)
    from guotu.store.postgis import PostGISStore

    return PostGISStore.open(store.dsn, schema=store.schema)


def run_together(*jobs: Any) -> None:
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Any) -> None:
        try:
            start.wait()
            job()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_concurrent_writers_keep_one_chain(sql_store: Any) -> None:
    n = 15
    others = [open_again(sql_store) for _ in range(2)]

    def sign_ins(store: Any, who: str) -> Any:
        return lambda: [store.audit(who, "sign_in", f"user:{who}") for _ in range(n)]

    def imports(store: Any) -> Any:
        return lambda: [write(store, f"L{i}") for i in range(3)]

    try:
        run_together(sign_ins(sql_store, "wang"), sign_ins(others[0], "li"), imports(others[1]))
    finally:
        for s in others:
            s.close()
    log = sql_store.audit_log()
    assert len(log) == 2 * n + 6 and {e.actor for e in log} == {"wang", "li", "guotu"}
    assert_chained(sql_store)


def test_threads_sharing_one_postgis_store_keep_one_chain(pg_schema: tuple[str, str]) -> None:
    from guotu.store.postgis import PostGISStore

    dsn, schema = pg_schema
    with PostGISStore.open(dsn, create=True, schema=schema) as store:
        run_together(
            *(lambda w=w: [store.audit(w, "read", "layer:L") for _ in range(10)] for w in "abcd")
        )
        assert len(store.audit_log()) == 40
        assert_chained(store)


def test_an_import_does_not_hold_up_a_sign_in(pg_schema: tuple[str, str]) -> None:
    """The audit log has a lock of its own: an entry waits for the commit of a write, not for
    the workspace's writer lock that a long import holds."""
    import psycopg

    from guotu.store.postgis import PostGISStore

    dsn, schema = pg_schema
    with PostGISStore.open(dsn, create=True, schema=schema, lock_timeout_s=0.5) as store:
        with psycopg.connect(dsn) as other:  # an import under way elsewhere
            other.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"guotu:{schema}",)
            )
            assert store.audit("wang", "sign_in", "user:wang").id == 1
            other.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"guotu-audit:{schema}",)
            )
            with pytest.raises(StoreError, match="another process"):
                store.audit("li", "sign_in", "user:li")
        assert [e.actor for e in store.audit_log()] == ["wang"]


# -- the upgrade from schema 3 ------------------------------------------------------------------
def test_a_schema_3_workspace_is_chained_on_open(sql_store: Any) -> None:
    write(sql_store)
    write(sql_store, replace=True)
    sql_store.write_table("targets", [YearValue("耕地保有量", "公顷", 2035, 1.0)])
    before = [(e.id, e.actor, e.action, e.object, e.detail) for e in sql_store.audit_log()]
    strip_to_schema_3(sql_store)
    with reopen(sql_store) as reopened:
        assert reopened.meta("schema_version") == "5"
        log = reopened.audit_log()
        assert [(e.id, e.actor, e.action, e.object, e.detail) for e in log[:-2]] == before
        assert [(e.action, e.reason) for e in log[-2:]] == [
            ("upgrade", "工作空间结构版本 3 → 4"),
            ("upgrade", "工作空间结构版本 4 → 5"),
        ]
        assert_chained(reopened)
        reopened.put_user(UserAccount("wang", "王工", None, frozenset()), actor="sys")
        assert reopened.user("WANG") is not None
        assert_chained(reopened)


def test_the_upgrade_numbers_a_log_with_gaps(sql_store: Any) -> None:
    """A PostgreSQL log of schema 3 took its ids from a sequence, which a failed write skips."""
    some_writes(sql_store)
    strip_to_schema_3(sql_store)
    at = "2026-12-07T08:00:00"
    raw_sql(
        sql_store,
        "INSERT INTO guotu_audit (id, at, actor, action, object, reason, detail) VALUES "
        f"(40, '{at}', 'zhao', 'write_layer', 'layer:X', '', '{{}}')",
    )
    with reopen(sql_store) as reopened:
        log = reopened.audit_log()
        assert [e.actor for e in log[-3:]] == ["zhao", "guotu", "guotu"] and log[-3].id == 7
        assert_chained(reopened)


# -- the search ------------------------------------------------------------------------------------
def test_the_search_finds_entries_newest_first(store: Any) -> None:
    for who, action, obj in (
        ("wang", "sign_in", "user:wang"),
        ("li", "sign_in", "user:li"),
        ("wang", "export", "layer:永久基本农田"),
        ("wang", "read", "layer:GHYD"),
        ("li", "sign_in_failed", "user:li"),
    ):
        store.audit(who, action, obj, department="guihua" if who == "wang" else "gengdi")
    ids = [e.id for e in search_audit(store, actor="wang")]
    assert ids == [4, 3, 1]
    assert [e.id for e in search_audit(store, action="sign_in")] == [2, 1]
    assert [e.id for e in search_audit(store, object_prefix="layer")] == [4, 3]
    assert [e.id for e in search_audit(store, department="gengdi")] == [5, 2]
    assert [e.id for e in search_audit(store, limit=2)] == [5, 4]
    assert [e.id for e in search_audit(store, before_id=4, limit=2)] == [3, 2]
    assert search_audit(store, actor="nobody") == []


def test_the_search_by_time(store: Any) -> None:
    store.audit("wang", "sign_in", "user:wang")
    at = datetime.fromisoformat(store.audit_log()[0].at)
    assert len(search_audit(store, since=at)) == 1
    assert search_audit(store, since=at + timedelta(seconds=1)) == []
    assert search_audit(store, until=at) == []
    assert len(search_audit(store, until=at + timedelta(microseconds=1))) == 1
    assert len(search_audit(store, since=(at - timedelta(hours=1)).replace(tzinfo=UTC))) == 1
