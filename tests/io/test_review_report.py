"""The plan-review report writers on a small document built by hand: HTML, PDF, XLSX, GPKG."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import openpyxl
import pyogrio
import pytest
import shapely
from pyproj import CRS

from guotu.domain.core.findings import Severity
from guotu.errors import ConfigError, CRSError, EnvironmentSetupError
from guotu.io import fonts, review_html, review_pdf
from guotu.io.review_document import format_measure
from guotu.io.review_map import MapFrame, map_layers
from guotu.io.review_model import (
    DataVersion,
    FindingMap,
    MapLayer,
    ReportFeature,
    ReportFinding,
    ReportRepair,
    ReportRule,
    ReportSkipped,
    ReviewDocument,
    Stamp,
)
from guotu.io.review_pdf_map import render_map_drawing
from guotu.io.review_report import (
    LINES_LAYER,
    POLYGONS_LAYER,
    write_review_gpkg,
    write_review_html,
    write_review_pdf,
    write_review_xlsx,
)
from guotu.io.review_svg import render_svg_map

#: CGCS2000 3° GK zone 39 (EPSG:4527), as in tests/conftest.py.
X0, Y0 = 39_540_000.0, 4_052_000.0
HASH = "sha256:9f2c51d0a4b7e3f8"


def _box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def _line(*xy: tuple[float, float]) -> shapely.LineString:
    return shapely.LineString([(X0 + x, Y0 + y) for x, y in xy])


ZONE = _box(0, 0, 300, 300)
PARCEL = _box(250, 100, 370, 180)  # 120 × 80 m, 50 × 80 m of it inside the zone
CONFLICT = shapely.intersection(ZONE, PARCEL)
ROUTE = _line((-100, 150), (400, 150))
ROUTE_IN_ZONE = shapely.intersection(ROUTE, ZONE)
ALTERNATIVE = _line((-100, 150), (-100, 350), (400, 350), (400, 150))


def make_doc(lang: str = "zh") -> ReviewDocument:
    """Three findings: a polygon conflict with a full map, a route (LineString) with an
    alternative, and an indicator without geometry."""
    zone_ref = ReportFeature("STBHHX", 12, "BSM", "HX00001")
    return ReviewDocument(
        lang=lang,
        title="详细规划成果审查报告",
        kind="detailed-plan",
        source="规划地块.gpkg（图层 XXGHDK）",
        workspace="demo_county.gpkg",
        crs=CRS.from_epsg(4527),
        generated_at=datetime(2026, 11, 22, 10, 0, tzinfo=timezone(timedelta(hours=8))),
        stamp=Stamp(
            rule_pack="cn-base",
            rule_pack_version="2026.1",
            profile=None,
            rule_pack_hash=HASH,
            as_of=date(2026, 11, 22),
            known_at=None,
        ),
        data_versions=(DataVersion("STBHHX", label="三区三线划定成果 v1（2023-10-01 起施行）"),),
        rules=(
            ReportRule(
                "sanqu.redline.construction",
                "生态保护红线内不得新增建设用地",
                Severity.ERROR,
                "《关于加强生态保护红线管理的通知（试行）》（自然资发〔2022〕142号）第一条",
            ),
            ReportRule(
                "route.redline.crossing",
                "线性工程穿越生态保护红线",
                Severity.WARNING,
                "同上，第二条",
            ),
            ReportRule(
                "indicator.green_ratio",
                "绿地率不低于 35%",
                Severity.ERROR,
                "《城市居住区规划设计标准》GB 50180-2018",
            ),
        ),
        skipped=(ReportSkipped("farmland.permanent", "工作空间没有永久基本农田图层"),),
        repairs=(
            ReportRepair(
                "GHYD",
                "BSM=GH00028913",
                "Self-intersection[39540010 4052010]",
                0.0,
                5000.0,
            ),
        ),
        findings=(
            ReportFinding(
                rule="sanqu.redline.construction",
                severity=Severity.ERROR,
                title="生态保护红线内不得新增建设用地",
                features=(ReportFeature("GHYD", 28903, "BSM", "GH00028903", "0703", "农村宅基地"),),
                zone=zone_ref,
                relation="overlaps",
                area_m2=4000.0,
                share_of_feature=4000 / 9600,
                share_of_zone=4000 / 90000,
                measured=4000.0,
                limit=0.0,
                unit="m2",
                message="地块 BSM=GH00028903（0703 农村宅基地）有 4000.00 m² 位于生态保护红线 HX00001 内。",
                suggestion="调出生态保护红线：核减 4000.00 m² 建设用地，或改为非建设用途。",
                basis="自然资发〔2022〕142号 第一条",
                is_repaired=False,
                geometry=CONFLICT,
                map=FindingMap(
                    (
                        MapLayer("生态保护红线", "zone", (ZONE,)),
                        MapLayer("规划用地", "feature", (PARCEL,)),
                        MapLayer("冲突范围", "conflict", (CONFLICT,)),
                    ),
                    (X0 - 20, Y0 - 20, X0 + 390, Y0 + 320),
                ),
            ),
            ReportFinding(
                rule="route.redline.crossing",
                severity=Severity.WARNING,
                title="线性工程穿越生态保护红线",
                features=(ReportFeature("XXGC", 7, "BSM", "XL0007"),),
                zone=zone_ref,
                relation="crosses",
                area_m2=None,
                share_of_feature=0.6,
                share_of_zone=None,
                measured=300.0,
                limit=0.0,
                unit="m",
                message="线路 XL0007 穿越生态保护红线 300 m。",
                suggestion="按比选线路绕行生态保护红线。",
                basis="同上，第二条",
                is_repaired=False,
                geometry=ROUTE_IN_ZONE,
                map=FindingMap(
                    (
                        MapLayer("生态保护红线", "zone", (ZONE,)),
                        MapLayer("线路", "feature", (ROUTE,)),
                        MapLayer("穿越段", "conflict", (ROUTE_IN_ZONE,)),
                        MapLayer("比选线路", "alternative", (ALTERNATIVE,)),
                    )
                ),
            ),
            ReportFinding(
                rule="indicator.green_ratio",
                severity=Severity.ERROR,
                title="绿地率不低于 35%",
                measured=0.31,
                limit="≥ 0.35",
                unit=None,
                message="规划单元绿地率 31.00%，低于 35%。",
                suggestion="增加公园绿地或防护绿地。",
                basis="GB 50180-2018 第 4.0.2 条",
                is_repaired=True,
                geometry=None,
            ),
        ),
    )


@pytest.fixture
def doc() -> ReviewDocument:
    return make_doc()


# -- shared pieces ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        # areas: 2 decimals in m², 4 in 公顷
        (1234.5, "m2", "1,234.50"),
        (0.4, "ha", "0.4000"),
        # other numbers keep up to 4 decimals, ints stay ints
        (0.31, None, "0.31"),
        (12, "m", "12"),
        # words and missing values
        ("≥ 0.35", None, "≥ 0.35"),
        (None, "m2", "—"),
        (float("nan"), "m2", "—"),
    ],
)
def test_format_measure(value: Any, unit: str | None, shown: str) -> None:
    assert format_measure(value, unit) == shown


def test_map_frame_flips_y_for_svg_only() -> None:
    box = (0.0, 0.0, 100.0, 100.0)
    svg = MapFrame(box, 120.0, 120.0, 10.0, is_y_down=True)
    pdf = MapFrame(box, 120.0, 120.0, 10.0, is_y_down=False)
    assert svg.point(0.0, 100.0) == (10.0, 10.0)
    assert pdf.point(0.0, 100.0) == (10.0, 110.0)


def test_scale_bar_is_a_round_length_in_metres() -> None:
    frame = MapFrame((0.0, 0.0, 410.0, 340.0), 420.0, 320.0, 14.0, is_y_down=True)
    px, text = frame.scale_bar()
    assert text == "100 m"
    assert px == pytest.approx(100 * frame.scale)


def test_map_without_bbox_fits_all_layers_and_orders_roles(doc: ReviewDocument) -> None:
    drawn = map_layers(doc, doc.findings[1])
    assert drawn is not None
    bbox, layers = drawn
    assert [layer.role for layer in layers] == ["zone", "feature", "conflict", "alternative"]
    xmin, _, xmax, ymax = bbox
    assert xmin < X0 - 100 and xmax > X0 + 400 and ymax > Y0 + 350


def test_map_of_a_finding_without_geometry_is_none(doc: ReviewDocument) -> None:
    assert map_layers(doc, doc.findings[2]) is None


def test_svg_scale_bar_and_north_arrow_lie_below_the_map(doc: ReviewDocument) -> None:
    # the zone fills the whole map of finding 1: nothing may be drawn over it
    height = 320
    svg = render_svg_map(doc, doc.findings[0], width=420, height=height)
    for group in ("scale-bar", "north-arrow"):
        body = re.search(rf'<g class="{group}">(.*?)</g>', svg, re.S)
        assert body is not None, group
        ys = [float(y) for y in re.findall(r'\by="([\d.]+)"', body[1])]
        ys += [float(m) for m in re.findall(r"[MV]\s*[\d.]+,([\d.]+)", body[1])]
        ys += [float(m) for m in re.findall(r"V([\d.]+)", body[1])]
        assert ys and min(ys) > height, (group, ys)


def test_pdf_map_furniture_lies_below_the_map(doc: ReviewDocument) -> None:
    drawing = render_map_drawing(doc, doc.findings[0], "Helvetica")
    assert drawing is not None
    the_map, furniture = drawing.contents[0], drawing.contents[1]
    map_bottom = the_map.getBounds()[1]
    x0, _, _, y1 = furniture.getBounds()
    assert y1 < map_bottom  # the scale bar and north arrow stay in the band below the map
    assert x0 > 100  # on the right, beside the legend


# -- HTML ------------------------------------------------------------------------------------


@pytest.fixture
def page(doc: ReviewDocument, tmp_path: Path) -> str:
    return write_review_html(doc, tmp_path / "审查报告.html").read_text(encoding="utf-8")


def test_html_shows_stamp_rules_and_chinese_text(page: str, doc: ReviewDocument) -> None:
    assert HASH in page and "cn-base" in page and "2026-11-22" in page
    assert "三区三线划定成果 v1（2023-10-01 起施行）" in page
    for rule in doc.rules:
        assert rule.id in page
    for heading in ("审查概况", "审查依据", "问题清单", "问题详情"):
        assert f">{heading}</h2>" in page
    assert (
        "地块 BSM=GH00028903（0703 农村宅基地）有 4000.00 m² 位于生态保护红线 HX00001 内。" in page
    )
    assert "调出生态保护红线" in page


def test_html_summary_areas_in_m2_and_ha(page: str) -> None:
    assert '<td class="num">4,000.00</td><td class="num">0.4000</td>' in page
    assert '<td class="num">41.67%</td><td class="num">4.44%</td>' in page


def test_html_has_one_svg_per_finding_with_geometry(page: str) -> None:
    sections = re.findall(r'<section class="finding".*?</section>', page, flags=re.S)
    assert [s.count("<svg") for s in sections] == [1, 1, 0]
    assert "本问题无空间位置" in sections[2]
    # the route map: the alternative dashed blue, the part inside the zone red, a scale bar
    assert 'stroke="#1e63d6" stroke-width="2.2" stroke-dasharray="6 4"' in sections[1]
    assert 'stroke="#e53935" stroke-width="4.0"' in sections[1]
    assert "100 m</text>" in sections[0] and ">北</text>" in sections[0]


def test_html_references_no_external_resource(page: str) -> None:
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, flags=re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//|@import|<script|<link", page, flags=re.I)
    assert "http://" not in page and "https://" not in page


def test_html_escapes_document_text(doc: ReviewDocument, tmp_path: Path) -> None:
    first = dataclasses.replace(doc.findings[0], message='<script>alert("x")</script> & 地块')
    route = doc.findings[1]
    assert route.map is not None
    red = dataclasses.replace(route.map.layers[0], name="<b>红线</b>")
    route = dataclasses.replace(
        route, map=dataclasses.replace(route.map, layers=(red, *route.map.layers[1:]))
    )
    doc = dataclasses.replace(doc, findings=(first, route, *doc.findings[2:]))
    page = write_review_html(doc, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "<b>红线</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; 地块" in page


def test_html_names_what_was_reviewed_and_has_the_signature_block(
    doc: ReviewDocument, tmp_path: Path
) -> None:
    doc = dataclasses.replace(doc, source_label="示范县国土空间总体规划 2021版（规划用地 GHYD）")
    page = write_review_html(doc, tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<p class="subject">审查对象：示范县国土空间总体规划 2021版（规划用地 GHYD）</p>' in page
    sign = re.search(r'<table class="sign">(.*?)</table>', page, re.S)
    assert sign is not None
    assert re.findall(r"<th>(.*?)</th>", sign[1]) == [
        "审查单位",
        "审查人",
        "审核人",
        "签发",
        "日期",
    ]
    assert page.index('class="sign"') < page.index('id="overview"')  # in the 审查意见


def test_html_prints_one_finding_per_page(page: str) -> None:
    assert "@media print" in page and "page-break-before: always" in page


def test_html_in_english(tmp_path: Path) -> None:
    page = write_review_html(make_doc("en"), tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page
    assert ">Findings</h2>" in page and ">Rule pack hash</td>" in page and "审查概况" not in page


# -- PDF ------------------------------------------------------------------------------------

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


@pytest.fixture
def no_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CJK font file anywhere."""
    monkeypatch.setattr(fonts, "_candidates", lambda: iter(()))


def test_pdf_is_valid_with_one_page_per_finding(
    doc: ReviewDocument, tmp_path: Path, cjk_font: fonts.PdfFont
) -> None:
    pdf = write_review_pdf(doc, tmp_path / "审查报告.pdf").read_bytes()
    empty = write_review_pdf(dataclasses.replace(doc, findings=()), tmp_path / "empty.pdf")
    empty_bytes = empty.read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert _pages(pdf) >= _pages(empty_bytes) + len(doc.findings)
    assert b"/Count %d" % _pages(pdf) in pdf


def test_pdf_without_a_font_is_an_environment_error(
    doc: ReviewDocument, tmp_path: Path, no_font: None
) -> None:
    # issue 14: never a PDF whose Chinese shows as boxes (it used to reference STSong-Light)
    with pytest.raises(EnvironmentSetupError) as info:
        write_review_pdf(doc, tmp_path / "r.pdf")
    assert info.value.exit_code == 3
    assert "apt-get install fonts-wqy-microhei" in info.value.render("zh")
    assert "中文" in info.value.render("zh") and "GUOTU_PDF_FONT" in info.value.render("en")
    assert list(tmp_path.iterdir()) == []


def test_pdf_embeds_the_font_of_guotu_pdf_font(
    doc: ReviewDocument, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cjk_font: fonts.PdfFont
) -> None:
    own = tmp_path / "my-cjk.ttc"
    own.symlink_to(cjk_font.path)
    monkeypatch.setenv(fonts.FONT_ENV, str(own))
    assert fonts.find_cjk_font().path == own
    pdf = write_review_pdf(doc, tmp_path / "r.pdf").read_bytes()
    assert b"/FontFile2" in pdf and re.search(rb"/BaseFont /[A-Z]{6}\+", pdf)
    assert b"STSong-Light" not in pdf and b"/Helvetica" not in pdf


@pytest.mark.skipif(not DEJAVU.is_file(), reason=f"no TrueType font at {DEJAVU}")
def test_pdf_font_env_naming_a_font_without_chinese_is_a_config_error(
    doc: ReviewDocument, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # issue 14: a Latin-only font would print Chinese as boxes (it used to be embedded)
    monkeypatch.setenv(fonts.FONT_ENV, str(DEJAVU))
    with pytest.raises(ConfigError, match="no glyphs for 国土空间") as info:
        write_review_pdf(doc, tmp_path / "r.pdf")
    assert "中文会显示为方框" in info.value.render("zh")
    assert not (tmp_path / "r.pdf").exists()


def test_pdf_font_env_naming_a_non_font_is_a_config_error(
    doc: ReviewDocument, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "not-a-font.ttf"
    bad.write_text("not a font")
    monkeypatch.setenv(fonts.FONT_ENV, str(bad))
    with pytest.raises(ConfigError, match="GUOTU_PDF_FONT"):
        write_review_pdf(doc, tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


def test_pdf_text_has_the_chinese_content(
    doc: ReviewDocument, tmp_path: Path, poppler: None
) -> None:
    path = write_review_pdf(doc, tmp_path / "r.pdf")
    pages = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    whole = "".join(pages)
    assert "详细规划成果审查报告" in whole and HASH in whole
    assert "生态保护红线 HX00001 内" in whole.replace("\n", "")
    starts = [i for i, p in enumerate(pages) if re.search(r"问题 \d：", p)]
    assert len(starts) == 3 and starts == list(range(starts[0], starts[0] + 3))


# -- XLSX ------------------------------------------------------------------------------------


@pytest.fixture
def book(doc: ReviewDocument, tmp_path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(write_review_xlsx(doc, tmp_path / "审查报告.xlsx"))


def _rows(ws: Any) -> list[dict[str, Any]]:
    head = [c.value for c in ws[1]]
    return [dict(zip(head, [c.value for c in row], strict=True)) for row in ws.iter_rows(min_row=2)]


def test_xlsx_has_the_three_sheets(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == ["概况", "问题清单", "规则", "几何修复"]


def test_xlsx_findings_sheet_one_row_per_finding(book: openpyxl.Workbook) -> None:
    rows = _rows(book["问题清单"])
    assert [r["规则"] for r in rows] == [
        "sanqu.redline.construction",
        "route.redline.crossing",
        "indicator.green_ratio",
    ]
    first = rows[0]
    assert first["面积（平方米）"] == 4000.0 and first["面积（公顷）"] == 0.4
    assert first["占要素比例"] == pytest.approx(4000 / 9600)
    assert first["要素编号"] == "BSM=GH00028903" and first["用地名称"] == "农村宅基地"
    assert first["严重程度"] == "错误" and first["管控区"] == "BSM=HX00001"
    assert rows[1]["面积（平方米）"] == "—" and rows[1]["单位"] == "米"
    assert rows[2]["实测值"] == 0.31 and rows[2]["限值"] == "≥ 0.35"
    assert rows[2]["几何已修复"] == "是"


def test_xlsx_number_formats(book: openpyxl.Workbook) -> None:
    ws = book["问题清单"]
    head = [c.value for c in ws[1]]
    row = ws[2]
    assert row[head.index("面积（平方米）")].number_format == "#,##0.00"
    assert row[head.index("面积（公顷）")].number_format == "#,##0.0000"
    assert row[head.index("占管控区比例")].number_format == "0.00%"


def test_xlsx_overview_and_rules(book: openpyxl.Workbook) -> None:
    overview = {r[0]: r[1] for r in book["概况"].iter_rows(values_only=True) if r and r[0]}
    assert overview["规则包哈希"] == HASH and overview["地方配置"] == "—"
    assert overview["错误"] == 2 and overview["合计"] == 3
    rules = {r["规则"]: r for r in _rows(book["规则"])}
    assert rules["sanqu.redline.construction"]["问题数"] == 1
    assert "142号" in rules["sanqu.redline.construction"]["依据"]
    assert rules["farmland.permanent"]["状态"] == "未执行：工作空间没有永久基本农田图层"


def test_xlsx_in_english(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(write_review_xlsx(make_doc("en"), tmp_path / "r.xlsx"))
    assert book.sheetnames == ["Overview", "Findings", "Rules", "Repairs"]
    assert [c.value for c in book["Findings"][1]][:3] == ["No.", "Rule", "Severity"]


# -- GeoPackage ------------------------------------------------------------------------------


def test_gpkg_polygons_and_lines_in_two_layers(doc: ReviewDocument, tmp_path: Path) -> None:
    path = write_review_gpkg(doc, tmp_path / "审查问题.gpkg")
    assert sorted(name for name, _ in pyogrio.list_layers(path)) == sorted(
        [POLYGONS_LAYER, LINES_LAYER]
    )
    polygons = pyogrio.read_dataframe(path, layer=POLYGONS_LAYER)
    lines = pyogrio.read_dataframe(path, layer=LINES_LAYER)
    assert len(polygons) == 1 and len(lines) == 1
    assert polygons.crs.to_epsg() == 4527
    row = polygons.iloc[0]
    assert row["rule"] == "sanqu.redline.construction" and row["feature_ids"] == "BSM=GH00028903"
    assert row["area_m2"] == 4000.0 and row["area_ha"] == 0.4
    assert row["share_of_feature"] == pytest.approx(4000 / 9600)
    assert row["measured"] == "4000.0" and row["unit"] == "m2"
    assert polygons.geometry.iloc[0].area == pytest.approx(4000.0)
    assert lines.iloc[0]["no"] == 2 and lines.geometry.iloc[0].length == pytest.approx(300.0)


def test_gpkg_without_geometries_has_an_empty_polygon_layer(
    doc: ReviewDocument, tmp_path: Path
) -> None:
    doc = dataclasses.replace(doc, findings=doc.findings[2:])
    path = write_review_gpkg(doc, tmp_path / "r.gpkg")
    assert [name for name, _ in pyogrio.list_layers(path)] == [POLYGONS_LAYER]
    assert len(pyogrio.read_dataframe(path, layer=POLYGONS_LAYER)) == 0


def test_gpkg_open_in_qgis_is_not_replaced(doc: ReviewDocument, tmp_path: Path) -> None:
    path = tmp_path / "r.gpkg"
    path.write_bytes(b"old")
    (tmp_path / "r.gpkg-wal").write_bytes(b"log")
    with pytest.raises(ConfigError, match="open in another program"):
        write_review_gpkg(doc, path)
    assert path.read_bytes() == b"old"


def test_gpkg_is_in_the_documents_crs(doc: ReviewDocument, tmp_path: Path) -> None:
    other = dataclasses.replace(doc, crs=CRS.from_epsg(4528))
    path = write_review_gpkg(other, tmp_path / "r.gpkg")
    assert pyogrio.read_info(path, layer=POLYGONS_LAYER)["crs"] == "EPSG:4528"


def test_gpkg_without_a_crs_is_a_crs_error(doc: ReviewDocument, tmp_path: Path) -> None:
    with pytest.raises(CRSError, match="no coordinate reference system"):
        write_review_gpkg(dataclasses.replace(doc, crs=None), tmp_path / "r.gpkg")
    assert list(tmp_path.iterdir()) == []


# -- every writer ----------------------------------------------------------------------------

WRITERS = {
    "html": lambda doc, path: write_review_html(doc, path),
    "pdf": lambda doc, path: write_review_pdf(doc, path),
    "xlsx": lambda doc, path: write_review_xlsx(doc, path),
    "gpkg": lambda doc, path: write_review_gpkg(doc, path),
}


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_missing_folder_is_a_config_error(fmt: str, doc: ReviewDocument, tmp_path: Path) -> None:
    path = tmp_path / "没有的文件夹" / f"r.{fmt}"
    with pytest.raises(ConfigError, match="does not exist") as info:
        WRITERS[fmt](doc, path)
    assert info.value.file == str(path) and "创建文件夹" in info.value.render("zh")
    assert not path.parent.exists()


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_failed_write_leaves_the_old_file_and_no_temporary(
    fmt: str, doc: ReviewDocument, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    def partial_gpkg(frame: Any, path: Any, **kwargs: Any) -> None:
        Path(path).write_bytes(b"SQLite format 3\0partial")
        raise RuntimeError("disk full")

    def partial_xlsx(self: Any, filename: Any) -> None:
        Path(filename).write_bytes(b"PK\3\4partial")
        raise RuntimeError("disk full")

    patches = {
        "html": (review_html, "render_review_html", fail),
        "pdf": (review_pdf, "render_review_pdf", fail),
        "xlsx": (openpyxl.Workbook, "save", partial_xlsx),
        "gpkg": (pyogrio, "write_dataframe", partial_gpkg),
    }
    path = tmp_path / f"r.{fmt}"
    path.write_bytes(b"old report")
    monkeypatch.setattr(*patches[fmt])
    with pytest.raises(RuntimeError, match="disk full"):
        WRITERS[fmt](doc, path)
    assert path.read_bytes() == b"old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_writers_accept_a_minimal_document(
    fmt: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if fmt == "pdf":
        request.getfixturevalue("cjk_font")
    minimal = ReviewDocument(title="审查报告", crs=CRS.from_epsg(4527))
    path = WRITERS[fmt](minimal, tmp_path / f"r.{fmt}")
    assert path.stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
