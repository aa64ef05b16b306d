"""The review and monitoring PDFs as a bureau files them, read back with poppler.

The review PDF is made from a real review of the hand-built county of
``tests/services/test_review.py`` (conflicts of known area) plus a parcel with a retired 2020
code; the monitoring PDF from the hand-built document of ``tests/io/test_monitor_report.py``.
``pdffonts`` must list only embedded fonts; ``pdftotext`` must find the units, the 用地用海
names, every area as printed, the header and footer of every page; no two words may overlap.
Page 1 of each PDF is saved as a PNG in ``tests/io/screenshots/`` (ignored by git) to look at.
"""

from __future__ import annotations

import html
import re
import struct
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from guotu.cli import root
from guotu.domain.codes.classification import code_label
from guotu.io import fonts
from guotu.io.monitor_pdf import render_monitor_pdf
from guotu.io.monitor_report import render_monitor_html
from guotu.io.monitor_sections import report_sections
from guotu.io.pdf_layout import lines_cell, make_styles
from guotu.io.review_document import area_mu, format_area_ha, format_area_m2, format_area_mu
from guotu.io.review_model import ReviewDocument
from guotu.io.review_report import write_review_html, write_review_pdf
from guotu.services.review import ReviewOptions, ReviewReport, review_plan
from guotu.services.review_output import review_document
from guotu.store.geopackage import GeoPackageStore
from tests.io.test_monitor_report import CONVENTIONS, FARMLAND, make_monitor_doc
from tests.services.test_review import AS_OF, PARCELS, _ghyd, box, build

SCREENSHOTS = Path(__file__).parent / "screenshots"
#: A parcel with a retired 2020 试行 code (090301 娱乐用地, 0903 in 2023).
TRIAL = {"Z-trial": (box(7000, 0, 7100, 100), "090301", {})}


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-built county as a GeoPackage workspace."""
    folder = tmp_path_factory.mktemp("county")
    store = GeoPackageStore.open(folder / "示范县.gpkg", create=True)
    try:
        build(store, folder, _ghyd(parcels={**PARCELS, **TRIAL}))
    finally:
        store.close()
    return folder / "示范县.gpkg"


@pytest.fixture(scope="module")
def report(county: Path) -> ReviewReport:
    store = GeoPackageStore.open(county)
    try:
        return review_plan(store, "master-plan", options=ReviewOptions(as_of=AS_OF))
    finally:
        store.close()


@pytest.fixture(scope="module")
def review(report: ReviewReport) -> ReviewDocument:
    return review_document(report, "zh", report.layers)


@pytest.fixture
def review_pdf(review: ReviewDocument, tmp_path: Path, poppler: None) -> Path:
    return write_review_pdf(review, tmp_path / "总体规划审查报告.pdf")


@pytest.fixture
def monitor_pdf(tmp_path: Path, poppler: None) -> Path:
    path = tmp_path / "体检评估报告.pdf"
    path.write_bytes(render_monitor_pdf(make_monitor_doc()))
    return path


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def _pages(path: Path, *mode: str) -> list[str]:
    return _run("pdftotext", *mode, str(path), "-").split("\f")[:-1]


def _joined(path: Path) -> str:
    """The whole text with line breaks removed (a wrapped table cell reads whole again)."""
    return re.sub(r"\s*\n\s*", "", _run("pdftotext", "-raw", str(path), "-"))


# -- fonts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["review_pdf", "monitor_pdf"])
def test_every_font_is_embedded(which: str, request: pytest.FixtureRequest) -> None:
    rows = _run("pdffonts", str(request.getfixturevalue(which))).splitlines()[2:]
    assert rows, "no font at all"
    for row in rows:
        name, emb = row.split()[0], row.split()[-5]
        assert emb == "yes", row
        assert re.fullmatch(r"[A-Z]{6}\+\S+", name), row  # a subset


def test_lines_cell_shrinks_an_id_rather_than_breaking_it(cjk_font: fonts.PdfFont) -> None:
    st = make_styles(cjk_font)
    cell = lines_cell(st, ["生态保护红线", "BSM=GH000289061234"], 60.0)
    cell.wrap(60.0, 1000.0)
    assert len(cell.blPara.lines) == 2


# -- the review PDF --------------------------------------------------------------------------


def test_review_pdf_has_units_code_names_and_every_area(
    review: ReviewDocument, review_pdf: Path
) -> None:
    text = _joined(review_pdf)
    assert "m²" in text and "公顷" in text and "亩" in text and "�" not in text
    names = {ref.code_name for f in review.findings for ref in f.features}
    assert {
        "农村宅基地",
        "果园",
        "公路用地",
        "畜禽养殖设施建设用地",
        "城镇住宅用地",
        "商业用地",
        "零售商业用地",
        code_label("090301")[0],
    } == names  # one label per code
    for name in names:
        assert name in text
    for f in review.findings:
        m2 = f.area_m2
        assert m2 is not None
        assert format_area_m2(m2) in text and format_area_ha(m2 / 1e4) in text
        assert format_area_mu(area_mu(m2)) in text
    layout = _run("pdftotext", "-layout", str(review_pdf), "-")
    for f in review.findings:  # ids stand whole on one line of the tables
        assert f"BSM={f.features[0].id_value}" in layout


def test_review_pdf_page_one_is_the_opinion(review: ReviewDocument, review_pdf: Path) -> None:
    page = re.sub(r"\s+", " ", _pages(review_pdf, "-layout")[0])
    assert "审查意见" in page and "审查概况" not in page
    # 7 errors: 5 planted conflicts, and Z-trial's retired code and its place outside the
    # urban development boundary (a 09 commercial use)
    assert "不通过" in page and "发现7项错误，须按下列要求修改后重新报审。" in page.replace(" ", "")
    assert re.search(r"错误 +警告 +提示 +合计 7 2 2 11", page)
    # the largest conflict first: G-farm in permanent farmland, 11,999.47 m² (it is finding 2)
    raw = re.sub(r"\s+", "", _pages(review_pdf, "-raw")[0])
    assert (
        "问题编号问题涉及地块面积（公顷）面积（亩）修改要求2永久基本农田不得擅自占用（非农建设）（错误）"
        "规划用地BSM=G-farm0703农村宅基地1.199918.00调整选址或边界"
    ) in raw
    assert "调整选址或边界，退出永久基本农田" in page.replace(" ", "")
    assert "另有 4 项错误或警告，详见问题清单。" in page  # 9, of which 5 are shown


def test_review_pdf_page_one_names_the_plan_and_has_the_signature_block(review_pdf: Path) -> None:
    page = re.sub(r"\s+", "", _pages(review_pdf, "-raw")[0])
    assert page.startswith("总体规划用地成果审查报告GHYD（规划用地）数据v1")  # the header
    assert "总体规划用地成果审查报告审查对象：GHYD（规划用地）数据v1审查类型" in page  # the title
    assert "审查签章审查单位审查人审核人签发日期年月日" in page


def test_review_pdf_tables_speak_chinese(review_pdf: Path) -> None:
    text = _joined(review_pdf)
    assert "审查对象：GHYD（规划用地）数据 v1" in text
    assert "GHYD（规划用地）数据 v1（已批复）" in text
    assert "workspace:GHYD" not in text and "layer:GHYD" not in text and "approved" not in text
    assert "面积小于 1 平方米的碎片不计" in text and "1.00 m²" not in text
    assert "090301已废止的分类代码（2020试行版）→应为0903娱乐用地" in text.replace(" ", "")
    assert " code" not in text


def test_every_review_page_has_header_and_footer(review: ReviewDocument, review_pdf: Path) -> None:
    pages = _pages(review_pdf, "-layout")
    assert len(pages) == int(re.search(r"Pages:\s+(\d+)", _run("pdfinfo", str(review_pdf)))[1])
    for no, page in enumerate(pages, start=1):
        flat = re.sub(r"\s+", " ", page)
        # the header names the plan reviewed, not the workspace file
        assert flat.lstrip().startswith("总体规划用地成果审查报告 GHYD（规划用地）数据 v1"), no
        assert (
            f"规则包 cn-base 2026.1 · 审查基准日 {AS_OF.isoformat()} · 生成日期 "
            f"{review.generated_at.date().isoformat() if review.generated_at else ''}" in flat
        )
        assert "数据：CZKFBJ（城镇开发边界）数据 v1；GHYD（规划用地）数据 v1" in flat
        assert f"第 {no} 页，共 {len(pages)} 页" in flat


def test_review_pdf_has_the_sections_of_the_html(
    review: ReviewDocument, review_pdf: Path, tmp_path: Path
) -> None:
    page = write_review_html(review, tmp_path / "r.html").read_text(encoding="utf-8")
    headings = [html.unescape(h) for h in re.findall(r'<h2 id="\w+">(.*?)</h2>', page)]
    assert headings == ["审查意见", "审查概况", "问题汇总", "审查依据", "问题清单", "问题详情"]
    assert _heading_lines(review_pdf, headings) == headings


def test_review_pdf_in_english(report: ReviewReport, tmp_path: Path, poppler: None) -> None:
    path = write_review_pdf(review_document(report, "en", report.layers), tmp_path / "r.pdf")
    first = re.sub(r"\s+", " ", _pages(path, "-raw")[0])
    assert "Review opinion" in first and "Not passed" in first and "Page 1 of " in first
    assert "7 errors were found" in first and "Area (mu)" in first


def test_review_cli_without_a_font_exits_3_and_writes_nothing(
    county: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fonts, "_candidates", lambda: iter(()))
    pdf = tmp_path / "审查报告.pdf"
    out = CliRunner().invoke(
        root,
        [
            "review",
            "master-plan",
            "-w",
            str(county),
            "--as-of",
            AS_OF.isoformat(),
            "--pdf",
            str(pdf),
        ],
    )
    assert out.exit_code == 3, out.output
    assert "apt-get install fonts-wqy-microhei" in out.output and not pdf.exists()


# -- the monitoring PDF ----------------------------------------------------------------------


def _heading_lines(path: Path, headings: list[str]) -> list[str]:
    """The lines of the PDF that are exactly one of ``headings``, in order."""
    return [
        line.strip()
        for line in _run("pdftotext", "-raw", str(path), "-").splitlines()
        if line.strip() in headings
    ]


def test_monitor_pdf_has_the_sections_of_the_html(monitor_pdf: Path) -> None:
    doc = make_monitor_doc()
    page = render_monitor_html(doc)
    headings = [html.unescape(h) for h in re.findall(r"<h2>(.*?)</h2>", page)]
    assert headings == [h for h, _ in report_sections(doc)]
    assert _heading_lines(monitor_pdf, headings) == headings
    assert "一、总体情况" in _pages(monitor_pdf)[0]


def test_monitor_pdf_charts_have_years_values_and_ticks(monitor_pdf: Path) -> None:
    text = _run("pdftotext", "-raw", str(monitor_pdf), "-")
    for year in ("2021", "2022", "2023", "2024", "2025"):
        assert year in text
    for value in FARMLAND:
        assert f"{value:,.2f}" in text
    assert "18,540" in text and "18,560" in text  # the value axis


def test_monitor_pdf_gives_the_conventions_and_the_ledger(monitor_pdf: Path) -> None:
    text = _joined(monitor_pdf)
    for convention in CONVENTIONS.values():
        assert convention.replace(" ", "") in text.replace(" ", "")
    assert "带*的指标按约定算法计算，见六、说明。" in text.replace(" ", "")
    assert "平原镇高标准农田建设项目（1）（TZ3709992022001）" in text
    assert "BH20250019" in text and "2022-370999-70-01-000001" in text
    assert "面积(m²)" in text and "公顷" in text and "�" not in text


def test_every_monitor_page_has_header_and_footer(monitor_pdf: Path) -> None:
    pages = _pages(monitor_pdf, "-layout")
    for no, page in enumerate(pages, start=1):
        flat = re.sub(r"\s+", " ", page)
        assert flat.lstrip().startswith("规划实施监测与体检评估报告 工作空间 示范县.gpkg"), no
        assert "指标目录 cn-core 2026.1 · 现状日期 2025-12-31" in flat
        assert "数据：示范县年度国土变更调查 2025年度国土变更调查" in flat
        assert f"第 {no} 页，共 {len(pages)} 页" in flat
    assert "/srv/data" not in "".join(pages)


# -- layout ----------------------------------------------------------------------------------


def _words(path: Path) -> list[list[tuple[str, float, float, float, float]]]:
    out = _run("pdftotext", "-bbox", str(path), "-")
    pages = []
    for page in re.findall(r"<page .*?</page>", out, flags=re.S):
        pages.append(
            [
                (html.unescape(w), float(a), float(b), float(c), float(d))
                for a, b, c, d, w in re.findall(
                    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                    r'yMax="([\d.]+)">(.*?)</word>',
                    page,
                )
            ]
        )
    return pages


@pytest.mark.parametrize("which", ["review_pdf", "monitor_pdf"])
def test_no_two_words_overlap(which: str, request: pytest.FixtureRequest) -> None:
    slack = 0.6  # points: glyph boxes of neighbours may touch
    for no, words in enumerate(_words(request.getfixturevalue(which)), start=1):
        words.sort(key=lambda w: w[1])
        for i, (a, ax0, ay0, ax1, ay1) in enumerate(words):
            for b, bx0, by0, bx1, by1 in words[i + 1 :]:
                if bx0 >= ax1 - slack:
                    break
                overlaps = (
                    min(ax1, bx1) - max(ax0, bx0) > slack and min(ay1, by1) - max(ay0, by0) > slack
                )
                assert not overlaps, f"page {no}: {a!r} overlaps {b!r}"


# -- screenshots -----------------------------------------------------------------------------


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("which", ["review_pdf", "monitor_pdf"])
def test_page_one_screenshot(which: str, request: pytest.FixtureRequest) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    stem = SCREENSHOTS / f"{which.removesuffix('_pdf')}-page-1"
    _run(
        "pdftoppm",
        "-png",
        "-r",
        "60",
        "-f",
        "1",
        "-l",
        "1",
        "-singlefile",
        str(request.getfixturevalue(which)),
        str(stem),
    )
    assert _png_size(stem.with_suffix(".png")) == (497, 702)  # A4 at 60 dpi, rounded up
