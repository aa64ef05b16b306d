"""What a review says to people, on the hand-built county of ``test_review.py``: counts that
say what they count, per-rule rows that never count 提示 under 错误, plans and versions by
name (never ``layer:GHYD``), fields by name, and maps that show the zones a finding is about.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import shapely

from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.fields import FIELDS
from guotu.domain.core.model import PlanLevel, PlanType
from guotu.io.review_map import map_layers
from guotu.io.review_model import ReportFinding, ReviewDocument
from guotu.io.review_summary import rule_basis_rows, rule_rows
from guotu.services.review import ReviewOptions, load_rule_pack, review_plan
from guotu.services.review_output import review_document, review_json, summary, summary_text
from guotu.services.review_source import RecordedVersion, WorkspaceLayer
from guotu.store.memory import MemoryStore

from .test_review import AS_OF, PARCELS, _ghyd, box, build

#: A parcel inside the urban development boundary beside I-udb-straddle (no finding of its
#: own): the surroundings of that finding's map.
NEIGHBOUR = {"Z-next": (box(4160, 500, 4260, 600), "0701", {})}


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("county")
    with MemoryStore.open() as mem:
        build(mem, folder, _ghyd(parcels={**PARCELS, **NEIGHBOUR}))
        yield mem


@pytest.fixture(scope="module")
def report(county: Any) -> Any:
    return review_plan(county, "master-plan", options=ReviewOptions(as_of=AS_OF))


@pytest.fixture(scope="module")
def doc(report: Any) -> ReviewDocument:
    return review_document(report, "zh", report.layers)


# -- counts ----------------------------------------------------------------------------------
def test_the_summary_line_counts_findings_and_names_the_rules_apart(report: Any) -> None:
    # 9 findings (5 errors, 2 warnings, 2 declared exemptions) from 6 of the 7 rules run: the
    # line never calls findings rules ("共 7 条规则：错误 5 …")
    assert (
        summary_text(report)
        == "共 9 项问题（涉及 6 条规则，共运行 7 条规则）：错误 5，警告 2，提示 2。"
    )
    assert summary_text(report, "en") == (
        "9 findings (from 6 of the 7 rules run): 5 errors, 2 warnings, 2 notes."
    )
    s = summary(report)
    assert (s["total"], s["rules_run"], s["rules_with_findings"]) == (9, 7, 6)
    assert sum(s["by_severity"].values()) == s["total"]


def test_a_rule_row_counts_and_measures_one_severity(report: Any, doc: ReviewDocument) -> None:
    # sanqu.farmland.construction has an error (G-farm) and a declared exemption (H-farm-exempt,
    # a 提示): two rows, each with its own findings and area, never 2 under 错误
    rows = [r for r in rule_rows(doc) if r.id == "sanqu.farmland.construction"]
    by_sev = {
        f.severity.value: f for f in report.findings if f.rule == "sanqu.farmland.construction"
    }
    assert [(r.severity, r.count) for r in rows] == [("error", 1), ("info", 1)]
    for r in rows:
        assert r.area_m2 == pytest.approx(by_sev[r.severity.value].area_m2, abs=0.01)
    # every row: the count and area are those of its severity's findings
    for r in rule_rows(doc):
        mine = [f for f in doc.findings if f.rule == r.id and f.severity == r.severity]
        assert r.count == len(mine)
        assert (r.area_m2 or 0.0) == pytest.approx(sum(f.area_m2 or 0 for f in mine), abs=0.01)
    assert sum(r.count for r in rule_rows(doc)) == len(doc.findings)
    basis = {r.id: r.count for r in rule_basis_rows(doc)}
    assert basis["sanqu.farmland.construction"] == "错误 1、提示 1"
    assert basis["sanqu.udb.urban_outside"] == "1"


# -- plans and versions by name ----------------------------------------------------------------
def test_labels_name_plans_and_versions_as_people_read_them(report: Any) -> None:
    doc = review_json(report)
    assert doc["source"] == "workspace:GHYD"  # the id stays in the id field
    assert doc["source_label"] == "GHYD（规划用地）数据 v1"
    rows = {r["layer"]: r for r in doc["data_versions"]}
    assert rows["CZKFBJ"]["plan"] == "layer:CZKFBJ" and rows["CZKFBJ"]["version"] == "v1"
    assert rows["CZKFBJ"]["label"] == "CZKFBJ（城镇开发边界）数据 v1"
    assert rows["CZKFBJ"]["status_label"] == "已批复"
    labels = [v for r in doc["data_versions"] for k, v in r.items() if k.endswith("label")]
    assert not [
        t for t in [*labels, doc["source_label"]] if re.search("layer:|table:|workspace:", t)
    ]
    english = review_json(report, "en")
    assert english["source_label"] == "GHYD (Master-plan land use) data v1"


def test_a_recorded_plan_version_is_named_with_its_layer(tmp_path: Path) -> None:
    with MemoryStore.open() as mem:
        build(mem, tmp_path, _ghyd(parcels={"A-inside": PARCELS["A-inside"]}))
        mem.create_plan("示范县总体规划", level=PlanLevel.COUNTY, type=PlanType.MASTER)
        mem.write_layer(
            "总规用地",
            "planned_land_use",
            _ghyd(parcels={"P1": (box(100, 100, 220, 180), "0703", {})}),
            column_types={
                "BSM": "text",
                "YDYHFLDM": "code",
                "HDLX": "text",
                "ZDXMLX": "text",
                "PZJG": "text",
            },
            geometry_type="MULTIPOLYGON",
            version=VersionSpec("示范县总体规划", "2021版", valid_from=date(2021, 1, 1)),
        )
        pinned = review_plan(
            mem,
            "master-plan",
            RecordedVersion("示范县总体规划", "2021版"),
            ReviewOptions(as_of=AS_OF),
        )
        current = review_plan(
            mem, "master-plan", WorkspaceLayer("总规用地"), ReviewOptions(as_of=AS_OF)
        )
    assert review_json(pinned)["source_label"] == "示范县总体规划 2021版（规划用地 总规用地）"
    row = next(r for r in review_json(current)["data_versions"] if r["layer"] == "总规用地")
    assert row["label"] == "示范县总体规划 2021版（规划用地 总规用地）"
    assert row["status_label"] == "已批复，2021-01-01 起施行"


# -- fields by name ------------------------------------------------------------------------------
def test_a_declared_exemption_names_its_fields(report: Any) -> None:
    doc = review_json(report)
    messages = {f["features"][0]["id_value"]: f["message"] for f in doc["findings"]}
    assert "已申报人为活动类型（HDLX）为“原住居民生产生活设施”" in messages["F-exempt"]
    assert (
        "重大项目类型（ZDXMLX）为“交通类”，批准机关（PZJG）为“国务院”" in messages["H-farm-exempt"]
    )
    english = {
        f["features"][0]["id_value"]: f["message"] for f in review_json(report, "en")["findings"]
    }
    assert "declares ZDXMLX=交通类; PZJG=国务院" in english["H-farm-exempt"]


@pytest.mark.parametrize("profile", [None, "sd-example"])
def test_templates_name_standard_fields_by_name_and_code(profile: str | None) -> None:
    # a template that writes a standard field's code writes it as 名称（代码）
    pack = load_rule_pack("cn-base", profile)
    for rule in pack.rules:
        for text in (rule.message_zh, rule.suggestion_zh or ""):
            for code in re.findall(r"[A-Z][A-Z0-9]{1,}", re.sub(r"\{[^}]*\}", "", text)):
                if code in FIELDS:
                    assert f"{FIELDS[code].name_zh}（{code}）" in text, (rule.id, code, text)


# -- maps ------------------------------------------------------------------------------------
def _finding(doc: ReviewDocument, rule: str) -> ReportFinding:
    return next(f for f in doc.findings if f.rule == rule)


def test_an_outside_the_boundary_map_draws_the_boundary(doc: ReviewDocument) -> None:
    # the finding has no zone of its own: the boundary it leaves is drawn from the rule's
    # zone layer, with the parcel beside it as context
    f = _finding(doc, "sanqu.udb.urban_outside")
    assert f.zone is None and f.map is not None
    layers = {layer.role: layer for layer in f.map.layers}
    assert list(layers) == ["zone", "context", "feature", "conflict"]
    assert layers["zone"].name == "城镇开发边界"
    zone = shapely.union_all(layers["zone"].geometries)
    parcel = layers["feature"].geometries[0]
    # the line the parcel crosses is on the map: the parcel is partly in, partly out
    assert zone.intersects(parcel) and not zone.contains(parcel)
    assert layers["context"].name == "周边规划用地"
    context = layers["context"].geometries
    assert any(c.intersects(NEIGHBOUR["Z-next"][0]) for c in context)
    _, drawn = map_layers(doc, f) or (None, [])
    assert [layer.role for layer in drawn] == ["zone", "context", "feature", "conflict"]


def test_a_sub_zone_map_draws_only_that_sub_zone(doc: ReviewDocument) -> None:
    f = _finding(doc, "sanqu.udb.special_use_zone")
    assert f.map is not None
    zone = next(layer for layer in f.map.layers if layer.role == "zone")
    assert zone.name == "特别用途区"
    # KF03 (特别用途区) only, not KF01 (集中建设区) below it
    drawn = shapely.union_all(zone.geometries)
    assert drawn.bounds[1] >= box(0, 1000, 1, 1001).bounds[1] - 1e-6
