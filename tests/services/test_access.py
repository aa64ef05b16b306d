"""Graded access (分级开放) as the services answer it (:mod:`guotu.services.access`), on the
graded workspace of :mod:`tests.graded_workspace`: who reads which layer, the not-found
error that is the same for a restricted layer and an absent one, hidden fields, a town's
rows, the policy cache, the audit of restricted reads, and the review and site query as
each principal sees them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guotu.domain.access.grades import Grade
from guotu.domain.access.policy import Action, LayerPolicy, Principal, RowFilter
from guotu.errors import NotFoundError
from guotu.ports import FeatureStore
from guotu.services import access
from guotu.services import features as svc
from guotu.services.review import ReviewOptions, ReviewReport, review_plan
from guotu.services.site_query import SiteQuery
from guotu.services.tiles import TileCache
from guotu.services.workspace import open_workspace
from tests.graded_workspace import (
    FARMLAND,
    NOBODY,
    OWNER_RIGHTS,
    PLANNER,
    TOWN,
    VIEWER_FARMLAND,
    build_graded_workspace,
    centre,
)


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("graded_services")
    return {
        "graded": build_graded_workspace(base / "graded.gpkg"),
        "bare": build_graded_workspace(base / "bare.gpkg", with_farmland=False),
    }


@pytest.fixture
def store(paths: dict[str, Path]) -> Iterator[FeatureStore]:
    with open_workspace(paths["graded"]) as opened:
        yield opened


@pytest.fixture
def bare(paths: dict[str, Path]) -> Iterator[FeatureStore]:
    with open_workspace(paths["bare"]) as opened:
        yield opened


# -- who reads what ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "readable"),
    [
        # the farmland department reads the 受限 layer its policy names
        (FARMLAND, ["CZKFBJ", "DLTB", "GHYD", "YJJBNT"]),
        (VIEWER_FARMLAND, ["CZKFBJ", "DLTB", "GHYD", "YJJBNT"]),
        # other departments and a town read what is 内部 and 公开
        (PLANNER, ["CZKFBJ", "DLTB", "GHYD"]),
        (TOWN, ["CZKFBJ", "DLTB", "GHYD"]),
        # anonymous users read 公开 only
        (NOBODY, ["CZKFBJ"]),
    ],
)
def test_readable_layer_names(store: FeatureStore, who: Principal, readable: list[str]) -> None:
    assert access.readable_layer_names(store, who) == readable


def test_a_restricted_layer_is_not_found_in_the_words_of_an_absent_one(
    store: FeatureStore, bare: FeatureStore
) -> None:
    with pytest.raises(NotFoundError) as restricted:
        access.require_readable(store, PLANNER, "YJJBNT")
    with pytest.raises(NotFoundError) as absent:
        access.require_readable(bare, PLANNER, "YJJBNT")
    assert restricted.value.to_dict() == absent.value.to_dict()
    assert restricted.value.render("zh") == absent.value.render("zh")
    assert "YJJBNT" not in (restricted.value.fix or "")


def test_the_not_found_error_lists_only_readable_layers(store: FeatureStore) -> None:
    with pytest.raises(NotFoundError) as err:
        access.require_readable(store, NOBODY, "NOPE")
    assert err.value.fix == "Layers: CZKFBJ."
    assert access.require_readable(store, FARMLAND, "YJJBNT").name == "YJJBNT"


@pytest.mark.parametrize(
    ("who", "columns"),
    [
        (PLANNER, ["BSM", "DLBM", "XZQDM"]),  # the owner's name is hidden
        (OWNER_RIGHTS, ["BSM", "DLBM", "XZQDM", "QLRMC"]),  # but not from 确权
    ],
)
def test_visible_columns(store: FeatureStore, who: Principal, columns: list[str]) -> None:
    assert access.visible_columns(store, who, "DLTB", store.layer("DLTB").columns) == columns


def test_a_town_is_limited_to_its_own_rows(store: FeatureStore) -> None:
    rows = access.rows_filter(store, TOWN, "GHYD")
    assert rows == RowFilter("XZQDM", ("370999001",))
    assert access.rows_filter(store, PLANNER, "GHYD") is None
    assert access.rows_filter(store, TOWN, "DLTB") is None  # no region field: every row
    page = svc.read_items(store, svc.ItemsQuery("GHYD", rows=rows))
    assert page.number_matched == 3
    assert sorted(page.frame["BSM"]) == ["GH0", "GH1", "GH2"]


def test_a_region_field_the_layer_lacks_admits_no_row() -> None:
    assert access.row_mask(["x"], RowFilter("XZQDM", ("3709",))).tolist() == [False]
    assert access.row_mask(["x", None], None).tolist() == [True, True]


# -- the policy cache -------------------------------------------------------------------------
def test_policies_are_read_once_per_data_version(paths: dict[str, Path], tmp_path: Path) -> None:
    path = build_graded_workspace(tmp_path / "again.gpkg")
    with open_workspace(path) as store:
        first = access.policies(store)
        assert access.policies(store) is first
        assert access.access_for(store, PLANNER) is access.access_for(store, PLANNER)
        assert access.readable(store, PLANNER, "GHYD")
        store.put_layer_policy(
            dataclasses.replace(first["GHYD"], grade=Grade.RESTRICTED), actor="anquan"
        )
        assert access.policies(store) is not first
        assert not access.readable(store, PLANNER, "GHYD")  # the new policy, at once


# -- the audit of reads of 受限 layers ---------------------------------------------------------
def test_only_reads_of_restricted_layers_are_audited(tmp_path: Path) -> None:
    path = build_graded_workspace(tmp_path / "audited.gpkg")
    with open_workspace(path) as store:
        assert not access.record_restricted_read(store, FARMLAND, "GHYD", "ogc-items", "10.0.0.1")
        assert access.record_restricted_read(store, FARMLAND, "YJJBNT", "ogc-items", "10.0.0.1")
        access.require_export(store, FARMLAND, ["YJJBNT"], "review-report.pdf", "10.0.0.2")
        entries = [e for e in store.audit_log(object_prefix="layer") if "restricted" in e.action]
    assert [(e.actor, e.action, e.object, e.detail["what"]) for e in entries] == [
        ("li", "read_restricted", "layer:YJJBNT", "ogc-items"),
        ("li", "export_restricted", "layer:YJJBNT", "review-report.pdf"),
    ]
    assert (entries[0].department, entries[0].address) == ("gengdi", "10.0.0.1")


def test_an_export_needs_the_export_permission(store: FeatureStore) -> None:
    from guotu.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError) as err:
        access.require_export(store, VIEWER_FARMLAND, ["GHYD", "YJJBNT"], "report")
    assert "YJJBNT" not in str(err.value) and "GHYD" not in str(err.value)


def test_a_layer_without_a_policy_is_internal() -> None:
    view = access.LayerAccess(PLANNER, {})
    assert view.policy("X") == LayerPolicy("X")
    assert view.may_read("X") and not access.LayerAccess(NOBODY, {}).may_read("X")
    assert view.may(Action.EXPORT, "X")


# -- the site query, as each principal sees it --------------------------------------------------
def _layers(doc: dict[str, Any]) -> set[str]:
    return {e["layer"] for e in doc["applies"]}


def test_site_query_leaves_out_the_restricted_layer_and_says_so(store: FeatureStore) -> None:
    q = SiteQuery()
    x, y = centre(0)
    planner = q.query(store, point=f"{x},{y}", principal=PLANNER).to_dict()
    farmland = q.query(store, point=f"{x},{y}", principal=FARMLAND).to_dict()
    assert _layers(planner) == {"GHYD", "DLTB"}
    assert planner["restricted_layers_omitted"] is True
    assert planner["restricted_note"] == {
        "zh": "有受限图层未显示",
        "en": "Some restricted layers are not shown",
    }
    assert "YJJBNT" not in repr(planner)
    assert _layers(farmland) == {"GHYD", "DLTB", "YJJBNT"}
    assert farmland["restricted_layers_omitted"] is False
    assert "restricted_note" not in farmland


def test_site_query_hides_fields_and_other_towns_rows(store: FeatureStore) -> None:
    q = SiteQuery()
    x, y = centre(4)  # town B
    town = q.query(store, point=f"{x},{y}", principal=TOWN).to_dict()
    assert _layers(town) == {"CZKFBJ", "DLTB"} and town["region_limited"] is True
    (parcel,) = [e for e in town["applies"] if e["layer"] == "DLTB"]
    assert "QLRMC" not in parcel["properties"]
    owner = q.query(store, point=f"{x},{y}", principal=OWNER_RIGHTS).to_dict()
    (parcel,) = [e for e in owner["applies"] if e["layer"] == "DLTB"]
    assert parcel["properties"]["QLRMC"] == "钱七"


def test_another_towns_parcel_code_is_not_found_like_an_unknown_one(store: FeatureStore) -> None:
    q = SiteQuery()
    with pytest.raises(NotFoundError) as other_town:
        q.query(store, parcel="GH4", principal=TOWN)
    with pytest.raises(NotFoundError) as unknown:
        q.query(store, parcel="GH9", principal=TOWN)
    assert other_town.value.render().replace("GH4", "X") == unknown.value.render().replace(
        "GH9", "X"
    )
    assert q.query(store, parcel="GH1", principal=TOWN).to_dict()["site"]["kind"] == "parcel"
    assert q.query(store, parcel="GH4", principal=PLANNER).to_dict()["site"]["kind"] == "parcel"


def test_anonymous_site_query_sees_public_layers_only(store: FeatureStore) -> None:
    q = SiteQuery()
    x, y = centre(3)
    doc = q.query(store, point=f"{x},{y}", principal=NOBODY).to_dict()
    assert _layers(doc) == {"CZKFBJ"} and doc["restricted_layers_omitted"] is True
    with pytest.raises(NotFoundError):  # square 0: nothing public there
        q.query(store, point="{},{}".format(*centre(0)), principal=NOBODY)


def test_without_a_principal_the_site_query_shows_everything(store: FeatureStore) -> None:
    doc = SiteQuery().query(store, point="{},{}".format(*centre(0))).to_dict()
    assert _layers(doc) == {"GHYD", "DLTB", "YJJBNT"}
    assert doc["restricted_layers_omitted"] is False


# -- tiles ------------------------------------------------------------------------------------
def test_tile_keys_differ_by_what_the_principal_may_not_see(store: FeatureStore) -> None:
    cache = TileCache(16)
    planner = cache.key(store, "DLTB", 14, 0, 0, principal=PLANNER)
    farmland = cache.key(store, "DLTB", 14, 0, 0, principal=FARMLAND)
    owner = cache.key(store, "DLTB", 14, 0, 0, principal=OWNER_RIGHTS)
    assert planner == farmland and planner.etag == farmland.etag  # they see the same
    assert owner != planner and owner.etag != planner.etag
    town = cache.key(store, "GHYD", 14, 0, 0, principal=TOWN)
    assert town.rows is not None and town != cache.key(store, "GHYD", 14, 0, 0, principal=PLANNER)
    with pytest.raises(NotFoundError):
        cache.key(store, "YJJBNT", 14, 0, 0, principal=PLANNER)


# -- review -----------------------------------------------------------------------------------
def _review(store: FeatureStore, who: Principal) -> ReviewReport:
    return review_plan(
        store, "master-plan", options=ReviewOptions(readable=access.whole_layers(store, who))
    )


def test_review_leaves_out_what_the_reviewer_may_not_read(store: FeatureStore) -> None:
    planner = _review(store, PLANNER)
    farmland = _review(store, FARMLAND)
    assert {r.layer for r in farmland.reads} >= {"GHYD", "YJJBNT"}
    assert "YJJBNT" not in {r.layer for r in planner.reads}
    assert planner.restricted_layers_omitted
    assert not farmland.restricted_layers_omitted
    rules = {f.rule for f in farmland.findings}
    assert "sanqu.farmland.construction" in rules  # square 0 (0701) lies on the farmland
    assert "sanqu.farmland.construction" not in {f.rule for f in planner.findings}
    assert any(s.rule == "sanqu.farmland.construction" for s in planner.skipped)


def test_a_region_limited_reviewer_cannot_review_the_layer_they_see_in_part(
    store: FeatureStore,
) -> None:
    with pytest.raises(NotFoundError) as err:
        _review(store, TOWN)
    assert "planned_land_use" in str(err.value)  # as if the workspace had no such layer
