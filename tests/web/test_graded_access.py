"""Graded access (分级开放) end to end, in process, on the graded workspace of
:mod:`tests.graded_workspace`: every way data leaves (OGC API, tiles and TileJSON, site
query and its sheet, the UI's layer tree, plans and diffs, review and its report, monitoring)
shows each principal what they may read and nothing else. A 受限 layer answers exactly what an
absent one answers (the same workspace built without it is the control).

The principal of a request is set with FastAPI's ``dependency_overrides`` on
:func:`guotu.web.deps.current_principal`, so these tests do not depend on how one signs in.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer

from guotu.domain.access.policy import Principal
from guotu.services.workspace import open_workspace
from guotu.settings import Settings
from guotu.web import ogc_features
from guotu.web.app import create_app
from guotu.web.deps import current_principal
from tests.graded_workspace import (
    FARMLAND,
    GK,
    LINES,
    MASTER,
    NOBODY,
    OWNER_RIGHTS,
    PLANNER,
    SURVEY,
    TOWN,
    VIEWER_FARMLAND,
    build_graded_workspace,
    centre,
)
from tests.web.test_tiles import decode, tile_of

TO_LONLAT = Transformer.from_crs(GK, "EPSG:4326", always_xy=True)


@dataclass
class Served:
    """The graded workspace and its control (without YJJBNT), each served in process; the
    principal of every request is ``who``."""

    graded: TestClient
    bare: TestClient
    path: Path
    who: dict[str, Principal] = field(default_factory=lambda: {"p": PLANNER})

    def get(self, who: Principal, url: str, *, bare: bool = False, **kw: Any) -> httpx.Response:
        self.who["p"] = who
        return (self.bare if bare else self.graded).get(url, **kw)

    def post(self, who: Principal, url: str, **kw: Any) -> httpx.Response:
        self.who["p"] = who
        return self.graded.post(url, **kw)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("graded_web")
    graded = build_graded_workspace(base / "graded.gpkg")
    bare = build_graded_workspace(base / "bare.gpkg", with_farmland=False)
    who: dict[str, Principal] = {"p": PLANNER}
    clients = []
    for path in (graded, bare):
        app = create_app(Settings(workspace=str(path)))
        app.dependency_overrides[current_principal] = lambda: who["p"]
        clients.append(TestClient(app))
    yield Served(clients[0], clients[1], graded, who)
    for client in clients:
        client.close()


def _tile(i: int, z: int = 16) -> tuple[int, int]:
    """The tile (z) holding the centre of square ``i``."""
    return tile_of(*TO_LONLAT.transform(*centre(i)), z)


# -- OGC API - Features -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "ids"),
    [
        (FARMLAND, ["CZKFBJ", "DLTB", "GHYD", "YJJBNT"]),  # the department the policy names
        (PLANNER, ["CZKFBJ", "DLTB", "GHYD"]),  # 受限 hidden, as GeoServer's HIDE mode
        (TOWN, ["CZKFBJ", "DLTB", "GHYD"]),
        (NOBODY, ["CZKFBJ"]),  # anonymous: 公开 only
    ],
)
def test_collections_lists_readable_layers_only(
    served: Served, who: Principal, ids: list[str]
) -> None:
    body = served.get(who, "/collections").json()
    assert [c["id"] for c in body["collections"]] == ids
    page = served.get(who, "/collections", params={"f": "html"}).text
    assert ("YJJBNT" in page) == ("YJJBNT" in ids)


#: Every way to ask for one layer: OGC API, TileJSON, a tile.
LAYER_PATHS = [
    "/collections/{layer}",
    "/collections/{layer}/items",
    "/collections/{layer}/items/1",
    "/collections/{layer}/queryables",
    "/collections/{layer}?f=html",
    "/tiles/{layer}.json",
    "/tiles/{layer}/16/{x}/{y}.mvt",
]


@pytest.mark.parametrize("path", LAYER_PATHS)
@pytest.mark.parametrize("who", [PLANNER, TOWN, NOBODY], ids=["planner", "town", "anonymous"])
def test_a_restricted_layer_answers_exactly_as_an_absent_one(
    served: Served, who: Principal, path: str
) -> None:
    x, y = _tile(0)
    url = path.format(layer="YJJBNT", x=x, y=y)
    restricted = served.get(who, url)
    absent = served.get(who, url, bare=True)
    assert restricted.status_code == absent.status_code == 404
    assert restricted.json() == absent.json()
    assert restricted.headers.get("content-type") == absent.headers.get("content-type")


@pytest.mark.parametrize("path", LAYER_PATHS)
def test_an_internal_layer_is_absent_for_anonymous_users(served: Served, path: str) -> None:
    x, y = _tile(0)
    hidden = served.get(NOBODY, path.format(layer="GHYD", x=x, y=y))
    unknown = served.get(NOBODY, path.format(layer="NOPE", x=x, y=y))
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.text.replace("GHYD", "?") == unknown.text.replace("NOPE", "?")


def test_the_authorised_department_reads_the_restricted_layer(served: Served) -> None:
    body = served.get(FARMLAND, "/collections/YJJBNT/items").json()
    assert body["numberMatched"] == 2
    assert sorted(f["properties"]["BSM"] for f in body["features"]) == ["NT1", "NT2"]


def test_hidden_fields_are_absent_from_items_and_queryables(served: Served) -> None:
    items = served.get(PLANNER, "/collections/DLTB/items").json()
    assert items["numberMatched"] == 6
    assert all("QLRMC" not in f["properties"] for f in items["features"])
    one = served.get(PLANNER, f"/collections/DLTB/items/{items['features'][0]['id']}").json()
    assert "QLRMC" not in one["properties"] and "DLBM" in one["properties"]
    queryables = served.get(PLANNER, "/collections/DLTB/queryables").json()
    assert "QLRMC" not in queryables["properties"] and "DLBM" in queryables["properties"]
    html = served.get(PLANNER, "/collections/DLTB", params={"f": "html"}).text
    assert "QLRMC" not in html


def test_a_hidden_field_cannot_be_filtered_on(served: Served) -> None:
    probe = served.get(PLANNER, "/collections/DLTB/items", params={"QLRMC": "张三"})
    unknown = served.get(PLANNER, "/collections/DLTB/items", params={"NOPE": "张三"})
    assert probe.status_code == unknown.status_code == 400
    assert "QLRMC" not in probe.json()["description"].replace("'QLRMC'", "")
    allowed = served.get(OWNER_RIGHTS, "/collections/DLTB/items", params={"QLRMC": "张三"})
    assert allowed.json()["numberMatched"] == 1
    assert allowed.json()["features"][0]["properties"]["QLRMC"] == "张三"


def test_a_town_sees_its_own_rows_and_counts(served: Served) -> None:
    town = served.get(TOWN, "/collections/GHYD/items").json()
    assert town["numberMatched"] == 3
    assert sorted(f["properties"]["BSM"] for f in town["features"]) == ["GH0", "GH1", "GH2"]
    assert served.get(PLANNER, "/collections/GHYD/items").json()["numberMatched"] == 6
    filtered = served.get(TOWN, "/collections/GHYD/items", params={"YDYHFLDM": "0101"}).json()
    assert [f["properties"]["BSM"] for f in filtered["features"]] == ["GH1"]
    fid = {
        f["properties"]["BSM"]: f["id"]
        for f in served.get(PLANNER, "/collections/GHYD/items").json()["features"]
    }
    assert served.get(TOWN, f"/collections/GHYD/items/{fid['GH1']}").status_code == 200
    other = served.get(TOWN, f"/collections/GHYD/items/{fid['GH4']}")
    missing = served.get(TOWN, "/collections/GHYD/items/999999")
    assert other.status_code == missing.status_code == 404
    assert other.json()["code"] == missing.json()["code"]


def test_a_towns_extent_is_its_own(served: Served) -> None:
    # EPSG:4527 is northing, easting: the town's squares 0-2 end 300 m before the county's
    (town,) = served.get(TOWN, "/collections/GHYD").json()["extent"]["spatial"]["storageCrsBbox"]
    (whole,) = served.get(PLANNER, "/collections/GHYD").json()["extent"]["spatial"][
        "storageCrsBbox"
    ]
    assert town[:3] == whole[:3] and town[3] == pytest.approx(whole[3] - 300)


def test_the_openapi_document_of_a_principal_names_what_they_may_read(served: Served) -> None:
    with open_workspace(served.path) as store:
        settings = Settings(workspace=str(served.path))
        base = served.graded.app.openapi()  # type: ignore[attr-defined]
        planner = ogc_features.openapi_document(copy.deepcopy(base), store, settings, PLANNER)
        owner = ogc_features.openapi_document(copy.deepcopy(base), store, settings, OWNER_RIGHTS)
    paths = planner["paths"]
    assert "/collections/DLTB/items" in paths and "/collections/YJJBNT/items" not in paths
    names = {p.get("name") for p in paths["/collections/DLTB/items"]["get"]["parameters"]}
    assert "DLBM" in names and "QLRMC" not in names
    owner_names = {
        p.get("name") for p in owner["paths"]["/collections/DLTB/items"]["get"]["parameters"]
    }
    assert "QLRMC" in owner_names


def test_the_served_api_document_and_page_name_only_what_the_user_may_read(
    served: Served,
) -> None:
    # /api and /api.html are cached per data version: per principal too, or the first reader
    # would decide what everyone sees
    for _ in range(2):
        owner = served.get(VIEWER_FARMLAND, "/api").json()
        planner = served.get(PLANNER, "/api").json()
        assert "/collections/YJJBNT/items" in owner["paths"]
        assert "/collections/YJJBNT/items" not in planner["paths"]
    page = served.get(PLANNER, "/api.html").text
    assert "YJJBNT" not in page and "QLRMC" not in page
    assert "YJJBNT" in served.get(VIEWER_FARMLAND, "/api.html").text


# -- vector tiles -----------------------------------------------------------------------------
def test_tiles_of_the_restricted_layer_for_its_department_only(served: Served) -> None:
    x, y = _tile(0)
    shown = served.get(FARMLAND, f"/tiles/YJJBNT/16/{x}/{y}.mvt")
    assert shown.status_code == 200
    assert {f["props"]["BSM"] for f in decode(shown.content)["YJJBNT"]["features"]} == {"NT1"}
    assert "private" in shown.headers["cache-control"]  # never kept by a shared cache
    tilejson = served.get(FARMLAND, "/tiles/YJJBNT.json")
    assert tilejson.status_code == 200 and tilejson.json()["name"] == "YJJBNT"


def test_tiles_and_tilejson_carry_no_hidden_field(served: Served) -> None:
    x, y = _tile(0)
    planner = decode(served.get(PLANNER, f"/tiles/DLTB/16/{x}/{y}.mvt").content)
    owner = decode(served.get(OWNER_RIGHTS, f"/tiles/DLTB/16/{x}/{y}.mvt").content)
    assert all("QLRMC" not in f["props"] for f in planner["DLTB"]["features"])
    assert any(f["props"].get("QLRMC") == "张三" for f in owner["DLTB"]["features"])
    fields = served.get(PLANNER, "/tiles/DLTB.json").json()["vector_layers"][0]["fields"]
    assert "QLRMC" not in fields and "DLBM" in fields
    assert (
        "QLRMC" in served.get(OWNER_RIGHTS, "/tiles/DLTB.json").json()["vector_layers"][0]["fields"]
    )


def test_a_towns_tiles_hold_its_own_rows_and_are_cached_apart(served: Served) -> None:
    x, y = _tile(2, z=14)  # all six squares lie in one z14 tile
    town = served.get(TOWN, f"/tiles/GHYD/14/{x}/{y}.mvt")
    planner = served.get(PLANNER, f"/tiles/GHYD/14/{x}/{y}.mvt")
    again = served.get(TOWN, f"/tiles/GHYD/14/{x}/{y}.mvt")
    assert {f["props"]["BSM"] for f in decode(town.content)["GHYD"]["features"]} == {
        "GH0",
        "GH1",
        "GH2",
    }
    assert len(decode(planner.content)["GHYD"]["features"]) == 6
    assert town.headers["etag"] != planner.headers["etag"]
    assert again.headers["etag"] == town.headers["etag"] and again.content == town.content
    # the planner's ETag does not get the town a 304 of the planner's tile
    revalidated = served.get(
        TOWN, f"/tiles/GHYD/14/{x}/{y}.mvt", headers={"If-None-Match": planner.headers["etag"]}
    )
    assert revalidated.status_code == 200


def test_public_tiles_may_be_shared(served: Served) -> None:
    x, y = _tile(3)
    r = served.get(NOBODY, f"/tiles/CZKFBJ/16/{x}/{y}.mvt")
    assert r.status_code == 200 and r.headers["cache-control"].startswith("public")


# -- site query -------------------------------------------------------------------------------
def _query(served: Served, who: Principal, i: int) -> httpx.Response:
    return served.get(who, "/query", params={"point": "{},{}".format(*centre(i))})


def test_site_query_says_restricted_layers_were_left_out(served: Served) -> None:
    planner = _query(served, PLANNER, 0)
    assert planner.status_code == 200
    doc = planner.json()
    assert {e["layer"] for e in doc["applies"]} == {"GHYD", "DLTB"}
    assert doc["restricted_layers_omitted"] is True
    assert doc["restricted_note"]["zh"] == "有受限图层未显示"
    assert doc["restricted_note"]["en"] == "Some restricted layers are not shown"
    assert "YJJBNT" not in planner.text
    farmland = _query(served, FARMLAND, 0).json()
    assert "YJJBNT" in {e["layer"] for e in farmland["applies"]}
    assert farmland["restricted_layers_omitted"] is False


def test_site_query_hides_fields_and_other_towns(served: Served) -> None:
    doc = _query(served, TOWN, 4).json()
    assert {e["layer"] for e in doc["applies"]} == {"CZKFBJ", "DLTB"}
    assert doc["region_limited"] is True
    assert "QLRMC" not in str(doc) and "钱七" not in str(doc)
    assert {e["layer"] for e in _query(served, TOWN, 1).json()["applies"]} == {"GHYD", "DLTB"}


def test_anonymous_site_query_sees_public_layers_only(served: Served) -> None:
    doc = _query(served, NOBODY, 3).json()
    assert {e["layer"] for e in doc["applies"]} == {"CZKFBJ"}
    outside = _query(served, NOBODY, 0)  # only non-public layers there: nothing to say
    assert outside.status_code == 404


def test_the_sheet_carries_the_note(served: Served) -> None:
    page = served.get(PLANNER, "/query/sheet", params={"point": "{},{}".format(*centre(0))})
    assert page.status_code == 200
    assert "有受限图层未显示" in page.text and "YJJBNT" not in page.text
    farmland = served.get(FARMLAND, "/query/sheet", params={"point": "{},{}".format(*centre(0))})
    assert "有受限图层未显示" not in farmland.text


# -- the UI: layer tree, plans, diffs, balance ------------------------------------------------
@pytest.mark.parametrize(
    ("who", "layers"),
    [
        (FARMLAND, {"CZKFBJ", "DLTB", "GHYD", "YJJBNT"}),
        (PLANNER, {"CZKFBJ", "DLTB", "GHYD"}),
        (NOBODY, {"CZKFBJ"}),
    ],
)
def test_the_layer_tree_holds_readable_layers(
    served: Served, who: Principal, layers: set[str]
) -> None:
    config = served.get(who, "/ui/config.json").json()
    assert {layer["name"] for layer in config["layers"]} == layers


def test_plans_are_listed_when_their_layers_may_be_read(served: Served) -> None:
    assert {p["name"] for p in served.get(NOBODY, "/ui/plans.json").json()} == {LINES}
    assert {p["name"] for p in served.get(PLANNER, "/ui/plans.json").json()} == {
        LINES,
        MASTER,
        SURVEY,
    }
    hidden = served.get(NOBODY, "/ui/diff.json", params={"plan": MASTER, "from": "a", "to": "b"})
    unknown = served.get(NOBODY, "/ui/diff.json", params={"plan": "NOPE", "from": "a", "to": "b"})
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["message"].replace(MASTER, "?") == unknown.json()["message"].replace(
        "NOPE", "?"
    )


def test_the_balance_of_a_layer(served: Served) -> None:
    assert served.get(PLANNER, "/ui/balance.json", params={"layer": "GHYD"}).status_code == 200
    hidden = served.get(PLANNER, "/ui/balance.json", params={"layer": "YJJBNT"})
    unknown = served.get(PLANNER, "/ui/balance.json", params={"layer": "NOPE"})
    assert hidden.status_code == unknown.status_code == 404
    town = served.get(TOWN, "/ui/balance.json", params={"layer": "GHYD"})
    assert town.status_code == 403  # the table sums the whole county's parcels
    assert served.get(PLANNER, "/ui/balance.csv", params={"layer": "GHYD"}).status_code == 200
    viewer = served.get(VIEWER_FARMLAND, "/ui/balance.csv", params={"layer": "GHYD"})
    assert viewer.status_code == 403  # a viewer may not export


# -- review -----------------------------------------------------------------------------------
def test_review_does_not_reveal_layers_the_reviewer_may_not_read(served: Served) -> None:
    planner = served.post(PLANNER, "/review/master-plan")
    assert planner.status_code == 200, planner.text
    assert "YJJBNT" not in planner.text
    doc = planner.json()
    assert doc["restricted_layers_omitted"] is True and doc["restricted_note"]["zh"]
    farmland = served.post(FARMLAND, "/review/master-plan").json()
    assert farmland["restricted_layers_omitted"] is False
    assert "sanqu.farmland.construction" in {f["rule"] for f in farmland["findings"]}
    assert "sanqu.farmland.construction" not in {f["rule"] for f in doc["findings"]}


def test_a_report_download_needs_export_on_every_layer(served: Served) -> None:
    doc = served.post(FARMLAND, "/review/master-plan").json()
    url = f"/review/reports/{doc['report_id']}.html"
    assert served.get(FARMLAND, url).status_code == 200
    hidden = served.get(PLANNER, url)  # holds YJJBNT, which the planner may not read
    expired = served.get(PLANNER, "/review/reports/0123456789abcdef.html")
    assert hidden.status_code == expired.status_code == 404
    assert hidden.json()["message"].replace(doc["report_id"], "?") == expired.json()[
        "message"
    ].replace("0123456789abcdef", "?")
    assert served.get(VIEWER_FARMLAND, url).status_code == 403  # reads it, may not export


# -- monitoring -------------------------------------------------------------------------------
def _indicator(doc: dict[str, Any], indicator: str) -> dict[str, Any]:
    return next(row for row in doc["indicators"] if row["id"] == indicator)


def test_indicators_from_unreadable_layers_are_shown_without_figures(served: Served) -> None:
    planner = served.get(PLANNER, "/monitor/indicators.json").json()
    farmland = served.get(FARMLAND, "/monitor/indicators.json").json()
    shown = _indicator(farmland, "permanent_farmland_area")
    withheld = _indicator(planner, "permanent_farmland_area")
    assert shown["value"] is not None and not shown.get("withheld")
    assert withheld["withheld"] is True and withheld["value"] is None
    assert withheld["lineage"] is None and all(p["value"] is None for p in withheld["series"])
    assert "YJJBNT" not in str(planner)
    assert planner["summary"]["withheld"] >= 1


def test_a_town_sees_no_county_wide_figure_of_a_layer_it_sees_in_part(served: Served) -> None:
    def over_land_use(doc: dict[str, Any]) -> set[str]:
        return {
            row["id"]
            for row in doc["indicators"]
            if "planned_land_use" in str((row.get("lineage") or {}).get("formula"))
        }

    planner = served.get(PLANNER, "/monitor/indicators.json").json()
    town = served.get(TOWN, "/monitor/indicators.json").json()
    assert over_land_use(planner)  # the planner sees them whole
    assert not over_land_use(town)  # withheld from a town, which sees part of 规划用地
    assert all(_indicator(town, i)["withheld"] for i in over_land_use(planner))


def test_cases_and_ledger_read_from_unreadable_layers_answer_a_note(served: Served) -> None:
    cases = served.get(PLANNER, "/monitor/cases.json").json()
    assert cases["withheld"] is True and cases["cases"] == [] and cases["note"]
    ledger = served.get(PLANNER, "/monitor/consolidation.json").json()
    assert ledger["note"] and ledger["ledger"] == []


# -- the audit log ----------------------------------------------------------------------------
def test_reads_of_the_restricted_layer_are_audited(served: Served) -> None:
    def restricted_reads() -> list[tuple[str, str, str]]:
        with open_workspace(served.path) as store:
            return [
                (e.actor, e.action, e.detail.get("what", ""))
                for e in store.audit_log(object_prefix="layer:YJJBNT")
                if e.action.endswith("_restricted")
            ]

    before = restricted_reads()
    served.get(FARMLAND, "/collections/YJJBNT/items")
    served.get(FARMLAND, "/collections/GHYD/items")  # 内部: not audited
    _query(served, FARMLAND, 0)
    assert served.post(FARMLAND, "/review/master-plan").status_code == 200  # reads YJJBNT
    assert served.post(PLANNER, "/review/master-plan").status_code == 200  # YJJBNT left out
    assert restricted_reads()[len(before) :] == [
        ("li", "read_restricted", "ogc-items"),
        ("li", "read_restricted", "site-query"),
        ("li", "read_restricted", "review"),
    ]
    job = served.post(FARMLAND, "/review/master-plan/jobs")
    assert job.status_code == 202, job.text
    url = f"/review/jobs/{job.json()['id']}"
    deadline = time.monotonic() + 60
    while served.get(FARMLAND, url).json()["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert served.get(FARMLAND, url).json()["status"] == "done"
    assert restricted_reads()[-1] == ("li", "read_restricted", "review-job")
