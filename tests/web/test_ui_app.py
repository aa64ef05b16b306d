"""The web UI's routes and the review endpoint, in process (no browser)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from guotu.demo.build import build_demo
from guotu.settings import Settings
from guotu.web import ui, ui_config
from guotu.web.app import create_app


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("ui_app")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=3000, seed=20261122)
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    survey = amend_survey(result.workspace)
    client = TestClient(create_app(Settings(workspace=str(result.workspace))))
    return {"client": client, "items": {i["id"]: i for i in manifest["items"]}, "survey": survey}


def test_ui_page_or_install_message(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    assert client.get("/ui", follow_redirects=False).headers["location"] == "/ui/"
    r = client.get("/ui/")
    if all(p.is_file() for p in ui.vendor_files().values()):
        assert r.status_code == 200 and "国土空间规划一张图" in r.text
        assert client.get("/ui/vendor/maplibre-gl.js").status_code == 200
    else:
        assert r.status_code == 503 and "npm ci" in r.text
    assert client.get("/ui/static/app.js").status_code == 200
    assert client.get("/ui/static/../ui.py").status_code == 404
    assert client.get("/ui/vendor/package.json").status_code == 404


def test_missing_assets_page_says_how_to_install(
    demo: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ui, "NODE_MODULES", tmp_path / "node_modules")
    r = demo["client"].get("/ui/")
    assert r.status_code == 503
    assert "make ui" in r.text and "npm ci" in r.text and "maplibre-gl" in r.text
    assert demo["client"].get("/collections").status_code == 200  # the API still works


def test_config_lists_layers_bounds_and_colours(demo: dict[str, Any]) -> None:
    doc = demo["client"].get("/ui/config.json").json()
    layers = {entry["name"]: entry for entry in doc["layers"]}
    assert layers["GHYD"]["code_field"] == "YDYHFLDM"
    assert layers["STBHHX"]["role_zh"] == "生态保护红线"
    lon0, lat0, lon1, lat1 = doc["bounds"]
    assert 116 < lon0 < lon1 < 119 and 35 < lat0 < lat1 < 38
    codes = [c["code"] for c in doc["land_use_colours"]]
    assert codes == [f"{n:02d}" for n in range(1, 25)]


def test_config_names_the_standard_fields_with_their_units(demo: dict[str, Any]) -> None:
    fields = demo["client"].get("/ui/config.json").json()["fields"]
    assert fields["MJ"] == {"name_zh": "面积", "kind": "real", "unit": "m2"}
    assert fields["XZQDM"]["name_zh"] == "行政区代码"
    assert fields["JZXG"]["unit"] == "m" and fields["SJNF"]["kind"] == "integer"


def test_balance(demo: dict[str, Any]) -> None:
    doc = demo["client"].get("/ui/balance.json", params={"layer": "GHYD"}).json()
    level1 = [r for r in doc["rows"] if r["level"] == 1]
    assert level1 and abs(sum(r["share"] for r in level1) - 1) < 0.01
    assert demo["client"].get("/ui/balance.json", params={"layer": "NOPE"}).status_code == 404


def test_review_answers_findings_map_and_reports(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    doc = client.post("/review/master-plan").json()
    parcel = demo["items"]["conflict.redline.inside.1"]["features"][0]
    hits = [
        f
        for f in doc["findings"]
        if f["rule"] == "sanqu.redline.construction"
        and any(ref["id_value"] == parcel for ref in f["features"])
    ]
    assert len(hits) == 1
    assert doc["summary"]["total"] == len(doc["findings"])
    lon, lat = doc["map"]["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 116 < lon < 119 and 35 < lat < 38
    html = client.get(f"/review/reports/{doc['report_id']}.html")
    assert html.status_code == 200 and parcel in html.text
    xlsx = client.get(f"/review/reports/{doc['report_id']}.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert "attachment" in xlsx.headers["content-disposition"]


def test_review_reports_open_in_the_browser_and_include_a_pdf(
    demo: dict[str, Any], cjk_font: object
) -> None:
    client: TestClient = demo["client"]
    doc = client.post("/review/master-plan").json()
    assert [link["title"] for link in doc["links"]] == ["HTML", "PDF", "XLSX"]
    html = client.get(f"/review/reports/{doc['report_id']}.html")
    assert html.headers["content-disposition"].startswith("inline")  # opens, not downloads
    pdf = client.get(f"/review/reports/{doc['report_id']}.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("inline")


def test_config_colours_land_survey_classes_and_lists_the_classes_present(
    demo: dict[str, Any],
) -> None:
    doc = demo["client"].get("/ui/config.json").json()
    layers = {entry["name"]: entry for entry in doc["layers"]}
    assert layers["DLTB"]["code_scheme"] == "sandiao"
    assert layers["GHYD"]["code_scheme"] == "ydyh2023"
    survey = {c["code"]: c for c in doc["land_survey_colours"]}
    assert [*survey] == ["00", *(f"{n:02d}" for n in range(1, 13))]
    assert survey["01"]["name_zh"] == "耕地" and survey["00"]["name_zh"] == "湿地"
    assert len({c["colour"] for c in survey.values()}) == len(survey)  # each class its own
    assert "1106" in doc["sandiao_wetland_codes"]
    # an inland county: its layers hold no sea class, so the legend lists none
    present = doc["present"]
    assert "01" in present["ydyh2023"] and "01" in present["sandiao"]
    assert not {"18", "19", "20", "21", "22", "24"} & set(present["ydyh2023"])
    assert {c["code"] for c in doc["land_use_colours"] if c["sea"]} == {
        "18",
        "19",
        "20",
        "21",
        "22",
        "24",
    }


def test_level1_class_of_survey_wetlands() -> None:
    assert ui_config.level1_class("1106", "sandiao") == "00"  # 内陆滩涂 is 湿地 in 三调
    assert ui_config.level1_class("1106", "ydyh2023") == "11"
    assert ui_config.level1_class("0103", "sandiao") == "01"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_balance_downloads_with_mu_and_the_version_read(demo: dict[str, Any], fmt: str) -> None:
    import io

    import pandas as pd

    r = demo["client"].get(f"/ui/balance.{fmt}", params={"layer": "GHYD"})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    doc = demo["client"].get("/ui/balance.json", params={"layer": "GHYD"}).json()
    sentence = doc["data_version"]["text_zh"]
    if fmt == "csv":
        text = r.content.decode("utf-8-sig")
        table = pd.read_csv(io.StringIO(text.split("\n\n")[0]), dtype={"代码": str})
        assert sentence in text
    else:
        import openpyxl

        assert r.content[:2] == b"PK"
        book = openpyxl.load_workbook(io.BytesIO(r.content))
        sheet = book["用地平衡表"]
        assert any(sentence == c.value for row in sheet.iter_rows() for c in row)
        table = pd.read_excel(io.BytesIO(r.content), dtype={"代码": str}, nrows=len(doc["rows"]))
    assert "面积(亩)" in table.columns
    first = table.iloc[0]
    assert first["面积(亩)"] == pytest.approx(doc["rows"][0]["area_mu"], abs=0.01)
    assert demo["client"].get("/ui/balance.doc").status_code == 404


def test_review_errors(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    assert client.post("/review/indicators").status_code == 400
    assert client.post("/review/nonsense").status_code == 400
    r = client.post("/review/master-plan", params={"rules": "/etc/passwd"})
    assert r.status_code == 400 and "/etc/passwd" not in r.json().get("fix", "")
    assert client.post("/review/master-plan", params={"source": "/tmp/x.shp"}).status_code == 400
    assert client.get("/review/reports/0000.html").status_code == 404
    assert client.get("/review/reports/0000.pdf").status_code == 404


def amend_land_use(workspace: Path, avoid: set[str] | None = None) -> dict[str, Any]:
    """Record 2025修改 of the master-plan land use: two parcels recoded (to 0701 and 1401),
    one removed, none of them in ``avoid``. Returns their BSM and old codes."""
    from datetime import date

    from guotu.domain.core.catalog import VersionSpec
    from guotu.store.geopackage import GeoPackageStore

    with GeoPackageStore.open(workspace) as store:
        info = store.layer("GHYD")
        frame = store.read_layer("GHYD")
        frame = frame.sort_values("BSM")
        pickable = frame.index[~frame["BSM"].isin(avoid or set())]
        first, second, gone = pickable[:3]
        old = {frame.at[i, "BSM"]: frame.at[i, "YDYHFLDM"] for i in (first, second, gone)}
        frame.loc[first, "YDYHFLDM"] = "0701" if old[frame.at[first, "BSM"]] != "0701" else "1401"
        frame.loc[second, "YDYHFLDM"] = "1401" if old[frame.at[second, "BSM"]] != "1401" else "0701"
        new = {frame.at[i, "BSM"]: frame.at[i, "YDYHFLDM"] for i in (first, second)}
        removed = frame.at[gone, "BSM"]
        frame = frame.drop(index=[gone]).reset_index(drop=True)
        store.write_layer(
            "GHYD",
            info.role,
            frame,
            column_types=info.columns,
            geometry_type=info.geometry_type,
            version=VersionSpec(
                info.plan, "2025修改", valid_from=date(2025, 7, 1), approval_no="示政字〔2025〕12号"
            ),
            reason="test amendment",
        )
    return {"plan": info.plan, "old": old, "new": new, "removed": removed}


def test_plans_and_version_diff(tmp_path: Path) -> None:
    result = build_demo(tmp_path / "demo.gpkg", tmp_path / "files", parcels=3000, seed=7)
    change = amend_land_use(result.workspace)
    client = TestClient(create_app(Settings(workspace=str(result.workspace))))
    plans = {p["name"]: p for p in client.get("/ui/plans.json").json()}
    plan = plans[change["plan"]]
    first_label = plan["versions"][0]["label"]
    assert [v["label"] for v in plan["versions"]] == [first_label, "2025修改"]
    assert plan["versions"][1]["parent"] == first_label
    assert plan["versions"][1]["approval_no"] == "示政字〔2025〕12号"
    doc = client.get(
        "/ui/diff.json", params={"plan": change["plan"], "from": first_label, "to": "2025修改"}
    ).json()
    (layer,) = doc["layers"]
    assert (layer["layer"], layer["changed"], layer["removed"], layer["added"]) == ("GHYD", 2, 1, 0)
    drawn = {f["properties"]["key"]: f["properties"] for f in doc["map"]["features"]}
    assert drawn[change["removed"]]["kind"] == "removed"
    for bsm, code in change["new"].items():
        assert drawn[bsm]["kind"] == "changed"
        assert (drawn[bsm]["from_code"], drawn[bsm]["to_code"]) == (change["old"][bsm], code)
    lon, lat = doc["map"]["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 116 < lon < 119 and 35 < lat < 38
    assert layer["code_scheme"] == "ydyh2023"
    assert layer["code_names"]["0701"]["name_zh"] == "城镇住宅用地"
    assert layer["code_names"]["1401"]["level1_name_zh"] == "绿地与开敞空间用地"
    moved = sum(m["area_m2"] for m in layer["matrix"] if m["from"] != m["to"])
    assert moved > 0
    missing = client.get(
        "/ui/diff.json", params={"plan": change["plan"], "from": first_label, "to": "2030版"}
    )
    assert missing.status_code == 404


def amend_survey(workspace: Path, avoid: set[str] | None = None) -> dict[str, Any]:
    """Record 2026年度国土变更调查 (编制中, so nothing in force changes) of the demo's DLTB: one
    旱地 (0103) parcel, none of ``avoid``, becomes 商业服务业设施用地 (05H1). Returns the plan,
    the two labels, its BSM and ellipsoidal area."""
    from guotu.domain.core.catalog import VersionSpec
    from guotu.domain.core.model import VersionStatus
    from guotu.domain.geometry.area import ellipsoidal_area_m2
    from guotu.store.geopackage import GeoPackageStore

    with GeoPackageStore.open(workspace) as store:
        info = store.layer("DLTB")
        latest = store.versions(info.plan)[-1].label
        frame = store.read_layer("DLTB").sort_values("BSM")
        dry = frame.index[(frame["DLBM"] == "0103") & ~frame["BSM"].isin(avoid or set())][0]
        bsm = frame.at[dry, "BSM"]
        area_m2 = float(ellipsoidal_area_m2([frame.geometry.loc[dry]], store.crs)[0])
        frame.loc[dry, ["DLBM", "DLMC"]] = ["05H1", "商业服务业设施用地"]
        store.write_layer(
            "DLTB",
            info.role,
            frame.reset_index(drop=True),
            column_types=info.columns,
            geometry_type=info.geometry_type,
            version=VersionSpec(info.plan, "2026年度国土变更调查", status=VersionStatus.DRAFTING),
            reason="test survey update",
        )
    return {
        "plan": info.plan,
        "from": latest,
        "to": "2026年度国土变更调查",
        "bsm": bsm,
        "area_m2": area_m2,
    }


def test_survey_diff_names_codes_by_the_survey_classification(demo: dict[str, Any]) -> None:
    change = demo["survey"]
    doc = (
        demo["client"]
        .get(
            "/ui/diff.json",
            params={"plan": change["plan"], "from": change["from"], "to": change["to"]},
        )
        .json()
    )
    (layer,) = doc["layers"]
    assert (layer["layer"], layer["code_field"], layer["code_scheme"]) == (
        "DLTB",
        "DLBM",
        "sandiao",
    )
    names = layer["code_names"]
    # 三调 names, never the 用地用海 class of the same digits (05 湿地, 0103 旱地 by chance)
    assert (names["0103"]["name_zh"], names["0103"]["level1_name_zh"]) == ("旱地", "耕地")
    assert names["05H1"] == {
        "name_zh": "商业服务业设施用地",
        "name_en": None,
        "level1": "05",
        "level1_name_zh": "商业服务业用地",
        "level1_name_en": None,
    }
    drawn = {f["properties"]["key"]: f["properties"] for f in doc["map"]["features"]}
    parcel = drawn[change["bsm"]]
    assert (parcel["kind"], parcel["from_code"], parcel["to_code"]) == ("changed", "0103", "05H1")
    # a recoded parcel keeps its area: before and after are its ellipsoidal area, not 0
    assert parcel["area_old_m2"] == pytest.approx(change["area_m2"], abs=0.01)
    assert parcel["area_new_m2"] == pytest.approx(change["area_m2"], abs=0.01)
