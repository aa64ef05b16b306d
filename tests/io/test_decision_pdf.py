"""The decision document (审批决定文书) as a PDF, read back with poppler.

A made-up 建设用地规划许可证 of the demo county: ``pdffonts`` must list only embedded
fonts; ``pdftotext`` must find the title, the serial, the applicant, every department's
opinion, the unverified legal basis marked as such and the verification URL; the QR code, as
``pdftoppm`` renders it, must be segno's code of exactly that URL. A 规划核实 shows its
comparison table; a long document flows onto more pages without losing a row.
"""

from __future__ import annotations

import html
import re
import subprocess
from dataclasses import replace
from datetime import date, datetime
from io import BytesIO
from pathlib import Path

import pytest
import segno
import shapely
from pyproj import CRS

from guotu.errors import CRSError, InputError
from guotu.io.decision_model import (
    AsBuiltCheck,
    Bound,
    DataSource,
    DecisionDocument,
    DecisionKind,
    DepartmentOpinion,
    LegalBasis,
    Opinion,
    PlanningCondition,
    ReviewResult,
    RuleOutcome,
    RulePackStamp,
    ZoneExcerpt,
)
from guotu.io.decision_pdf import write_decision_pdf

URL = "https://gis.shifanxian.gov.cn/verify/3709992026000012?c=8f3a2b"
SERIAL = "地字第3709992026000012号"
X0, Y0 = 39512000.0, 4012000.0  # CGCS2000 3-degree Gauss-Krüger zone 39 (EPSG:4527)
OPINIONS = (
    DepartmentOpinion("示范县住房和城乡建设局", Opinion.AGREE, given_on=date(2026, 2, 27)),
    DepartmentOpinion(
        "示范县生态环境局", Opinion.CONDITIONAL, "施工期须落实扬尘防治措施。", date(2026, 2, 28)
    ),
    DepartmentOpinion("示范县交通运输局", Opinion.AGREE, given_on=date(2026, 3, 1)),
)
VERIFIED = LegalBasis("《中华人民共和国城乡规划法》", "第三十七条", True)
UNVERIFIED = LegalBasis("《示范省城乡规划条例》", "第三十二条", False)


def make_doc(**changes: object) -> DecisionDocument:
    """The permit of the made-up case, with ``changes``."""
    zones = (
        ZoneExcerpt("机关团体用地", "0801", "#ff7fff", shapely.box(X0 - 100, Y0 - 30, X0 + 160, Y0 + 120)),
        ZoneExcerpt("城镇道路用地", "1207", "#a0a0a0", shapely.box(X0 - 200, Y0 - 60, X0 + 400, Y0 - 30)),
        ZoneExcerpt("公园绿地", "1401", "#00ff00", shapely.box(X0 + 160, Y0 - 30, X0 + 400, Y0 + 300)),
    )  # fmt: skip
    doc = DecisionDocument(
        kind=DecisionKind.LAND_USE_PERMIT,
        serial=SERIAL,
        issued_on=date(2026, 3, 5),
        authority="示范县自然资源和规划局",
        case_ref="AJ-2026-000012",
        applicant="示范县城市建设投资有限公司",
        project="示范县文体中心建设项目",
        location="示范县城关镇迎宾路以北、文化路以东",
        site_area_m2=10800.0,
        site=shapely.box(X0, Y0, X0 + 120, Y0 + 90),
        crs=CRS.from_epsg(4527),
        zones=zones,
        statement="经审核，本用地项目符合国土空间规划和用途管制要求，颁发此证。",
        planning_conditions=(
            PlanningCondition("容积率", "≤2.5", "", "控制性详细规划 单元CG-03/地块CG-03-07"),
            PlanningCondition("绿地率", "≥35", "%", "控制性详细规划 单元CG-03/地块CG-03-07"),
        ),
        conditions=("建设工程设计方案须按规划条件编制。", "用地范围内不得擅自改变用途。"),
        opinions=OPINIONS,
        review_results=(
            ReviewResult("不得占用永久基本农田", RuleOutcome.PASSED, "未占用。"),
            ReviewResult("应位于城镇开发边界内", RuleOutcome.PASSED, "全部位于城镇开发边界内。"),
        ),
        legal_basis=(VERIFIED, UNVERIFIED),
        notices=("本证自核发之日起有效期两年。",),
        data_versions=(
            DataSource("示范县国土空间总体规划（2021—2035年）", "v3"),
            DataSource("示范县中心城区控制性详细规划", "v7"),
        ),
        rule_pack=RulePackStamp("cn-base", "2026.1"),
        verification_url=URL,
        generated_at=datetime(2026, 3, 5, 10, 20),
    )
    return replace(doc, **changes)  # type: ignore[arg-type]


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def _write(doc: DecisionDocument, path: Path, lang: str = "zh") -> Path:
    write_decision_pdf(doc, path, lang)
    return path


def _flat(path: Path) -> str:
    """The whole text without any white space (a wrapped cell reads whole again, and the
    cells of a table row follow each other); compare it with :func:`_bare` text."""
    return _bare(_run("pdftotext", "-raw", str(path), "-"))


def _bare(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _info(path: Path, pattern: str) -> str:
    """What ``pdfinfo`` says in the first group of ``pattern``."""
    found = re.search(pattern, _run("pdfinfo", str(path)))
    assert found is not None, pattern
    return found[1]


def _page_count(path: Path) -> int:
    return int(_info(path, r"Pages:\s+(\d+)"))


@pytest.fixture
def permit(tmp_path: Path, poppler: None) -> Path:
    return _write(make_doc(), tmp_path / "建设用地规划许可证.pdf")


# -- fonts and text --------------------------------------------------------------------------


def test_every_font_is_embedded(permit: Path) -> None:
    rows = _run("pdffonts", str(permit)).splitlines()[2:]
    assert rows, "no font at all"
    for row in rows:
        assert row.split()[-5] == "yes", row


def test_title_serial_applicant_and_url_are_text(permit: Path) -> None:
    text = _flat(permit)
    for shown in ("建设用地规划许可证", SERIAL, "用地单位示范县城市建设投资有限公司", URL):
        assert shown in text
    assert "10,800.00m²（1.0800公顷）" in text and "�" not in text
    assert "发证机关示范县自然资源和规划局发证日期2026年3月5日" in text
    assert "坐标系：CGCS20003度带高斯-克吕格投影第39带" in text


def test_each_department_opinion_is_text(permit: Path) -> None:
    layout = _run("pdftotext", "-layout", str(permit), "-")
    for row in OPINIONS:
        line = next(line for line in layout.splitlines() if row.department in line)
        assert re.search(rf"{row.department}\s+{row.opinion.name_zh}\s", line), line
    assert "施工期须落实扬尘防治措施。" in layout


def test_an_unverified_basis_is_marked_and_a_verified_one_is_not(permit: Path) -> None:
    text = _flat(permit)
    assert "《示范省城乡规划条例》第三十二条〔依据条文未经核对〕" in text
    assert "《中华人民共和国城乡规划法》第三十七条已核对" in text  # no marker after it
    assert text.count("〔依据条文未经核对〕") == 2  # the row, and the note saying what it means


def test_every_page_has_the_serial_and_the_data_versions(permit: Path) -> None:
    pages = _run("pdftotext", "-layout", str(permit), "-").split("\f")[:-1]
    assert len(pages) == _page_count(permit)
    for no, page in enumerate(pages, start=1):
        flat = re.sub(r"\s+", " ", page)
        assert flat.lstrip().startswith(f"建设用地规划许可证 {SERIAL}"), no
        assert "规则包 cn-base 2026.1 · 生成时间 2026-03-05 10:20" in flat
        assert (
            "数据：示范县国土空间总体规划（2021—2035年） v3；示范县中心城区控制性详细规划 v7"
            in flat
        )
        assert f"第 {no} 页，共 {len(pages)} 页" in flat


# -- the QR code -----------------------------------------------------------------------------


def _link_rect(path: Path) -> tuple[float, float, float, float]:
    """The rectangle (points, origin bottom left) of the PDF's one link to :data:`URL`."""
    raw = path.read_bytes().decode("latin-1")
    found = [
        tuple(float(v) for v in m[1].split())
        for m in re.finditer(r"/Rect \[ ([\d. ]+) \][^>]*?>>", raw)
        if f"/URI ({URL})" in raw[max(m.start() - 300, 0) : m.end()]
    ]
    assert len(found) == 1, found
    x0, y0, x1, y1 = found[0]
    return x0, y0, x1, y1


def _grey(path: Path, box: tuple[float, float, float, float], dpi: int) -> list[bytes]:
    """The rows of grey pixels of page 1 inside ``box`` (points), rendered at ``dpi``."""
    x0, y0, x1, y1 = box
    scale = dpi / 72
    page_h = float(_info(path, r"Page size:\s+[\d.]+ x ([\d.]+)"))
    crop = [round(x0 * scale), round((page_h - y1) * scale)]
    size = [round((x1 - x0) * scale), round((y1 - y0) * scale)]
    out = path.with_suffix("")
    _run(
        "pdftoppm", "-gray", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile",
        "-x", str(crop[0]), "-y", str(crop[1]), "-W", str(size[0]), "-H", str(size[1]),
        str(path), str(out),
    )  # fmt: skip
    data = out.with_suffix(".pgm").read_bytes()
    head = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    assert head is not None
    width, height = int(head[1]), int(head[2])
    pixels = data[head.end() :]
    return [pixels[r * width : (r + 1) * width] for r in range(height)]


def test_the_qr_code_is_exactly_the_url(permit: Path) -> None:
    expected = [list(row) for row in segno.make(URL, error="m", micro=False).matrix_iter(border=4)]
    rows = _grey(permit, _link_rect(permit), dpi=300)
    n = len(expected)
    drawn = [
        [rows[int((r + 0.5) * len(rows) / n)][int((c + 0.5) * len(rows[0]) / n)] < 128
         for c in range(n)]
        for r in range(n)
    ]  # fmt: skip
    assert drawn == [[bool(v) for v in row] for row in expected]


def test_a_url_too_long_for_a_qr_code_is_refused(tmp_path: Path, cjk_font: object) -> None:
    with pytest.raises(InputError, match="too long for a QR code"):
        write_decision_pdf(make_doc(verification_url=URL + "x" * 3000), BytesIO())


# -- kinds, length, language -----------------------------------------------------------------


def test_an_as_built_verification_shows_an_exceeded_far(tmp_path: Path, poppler: None) -> None:
    doc = make_doc(
        kind=DecisionKind.AS_BUILT_VERIFICATION,
        title="",
        serial="核字第3709992027000003号",
        as_built=(
            AsBuiltCheck("容积率", permitted=2.5, measured=2.62, is_within=False),
            AsBuiltCheck("绿地率", 35.0, 35.4, True, 0.5, "%", Bound.MIN, decimals=1),
            AsBuiltCheck("建筑高度", 54.0, 54.003, False, 0.0, "m"),
            AsBuiltCheck("建筑退线", 10.0, None, False, 0.1, "m", Bound.EQUAL),
        ),
    )
    layout = _run("pdftotext", "-layout", str(_write(doc, tmp_path / "核实.pdf")), "-")
    assert "规划核实意见书" in layout and "规划核实对照" in layout
    assert "用地单位" not in layout and "建设单位" in layout
    rows = {line.split()[0]: line.split()[1:] for line in layout.splitlines() if line.strip()}
    assert rows["容积率"] == ["≤", "2.50", "2.62", "±0.00", "超出"]
    assert rows["绿地率"] == ["≥", "35.0", "%", "35.4", "%", "±0.5", "%", "合格"]
    # a failing height that would round to its limit shows the decimals that tell them apart
    assert rows["建筑高度"] == ["≤", "54.000", "m", "54.003", "m", "±0.000", "m", "超出"]
    assert rows["建筑退线"] == ["10.00", "m", "未测量", "±0.10", "m", "超出"]


def test_a_long_document_flows_onto_more_pages_without_losing_rows(
    tmp_path: Path, poppler: None
) -> None:
    many = tuple(
        DepartmentOpinion(f"第{i:02d}会审部门", Opinion.CONDITIONAL, f"须落实第{i:02d}项要求。")
        for i in range(1, 61)
    )
    conditions = tuple(f"附加条件第{i:02d}项。" for i in range(1, 31))
    path = _write(make_doc(opinions=many, conditions=conditions), tmp_path / "长.pdf")
    assert _page_count(path) >= 3
    text = _flat(path)
    for row in many:
        assert f"{row.department}有条件同意{row.conditions}" in text
    for i, condition in enumerate(conditions, start=1):
        assert f"{i}．{condition}" in text
    pages = _run("pdftotext", "-raw", str(path), "-").split("\f")[:-1]
    carried = [p for p in pages if "会审部门" in p and "五、部门意见" not in p]
    assert carried and all("部门意见条件或理由日期" in p.replace(" ", "") for p in carried)


def test_english_labels(tmp_path: Path, poppler: None) -> None:
    text = _flat(_write(make_doc(), tmp_path / "en.pdf", lang="en"))
    for shown in (
        "Planning Permit for Construction Land",
        "Land user示范县城市建设投资有限公司",
        "Department opinions",
        "示范县生态环境局Agree with conditions",
        "第三十二条 [article not verified]",
        "10,800.00 m² (1.0800 ha)",
        "Page 1 of",
        URL,
    ):
        assert _bare(shown) in text
    assert "基本情况" not in text and "有条件同意" not in text


def test_a_refusal_names_its_reasons_and_the_applicant(tmp_path: Path, poppler: None) -> None:
    doc = make_doc(
        kind="不予许可决定书",
        title="",
        conditions=(),
        reasons=("拟建项目位于生态保护红线内。",),
        zones=(),
    )
    text = _flat(_write(doc, tmp_path / "不予许可.pdf"))
    assert "不予许可决定书" in text and "申请人示范县城市建设投资有限公司" in text
    assert "不予许可的理由1．拟建项目位于生态保护红线内。" in text and "附加条件" not in text
    assert "决定机关示范县自然资源和规划局" in text and "发证机关" not in text


def test_it_writes_to_a_stream_too(cjk_font: object) -> None:
    out = BytesIO()
    write_decision_pdf(make_doc(), out)
    assert out.getvalue().startswith(b"%PDF-")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_two_words_overlap(lang: str, tmp_path: Path, poppler: None) -> None:
    out = _run("pdftotext", "-bbox", str(_write(make_doc(), tmp_path / "p.pdf", lang)), "-")
    slack = 0.6  # points: glyph boxes of neighbours may touch
    for no, page in enumerate(re.findall(r"<page .*?</page>", out, flags=re.S), start=1):
        words = sorted(
            (float(a), float(b), float(c), float(d), html.unescape(w))
            for a, b, c, d, w in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
                page,
            )
        )
        for i, (_ax0, ay0, ax1, ay1, a) in enumerate(words):
            for bx0, by0, bx1, by1, b in words[i + 1 :]:
                if bx0 >= ax1 - slack:
                    break
                overlap = min(ax1, bx1) - bx0 > slack and min(ay1, by1) - max(ay0, by0) > slack
                assert not overlap, f"page {no}: {a!r} overlaps {b!r}"


# -- the model -------------------------------------------------------------------------------


def test_an_unknown_kind_lists_every_kind() -> None:
    with pytest.raises(InputError) as caught:
        make_doc(kind="建设许可证")
    assert all(kind.value in str(caught.value) for kind in DecisionKind)
    assert "乡村建设规划许可证（rural_permit）" in caught.value.render("zh")


def test_a_site_in_degrees_is_refused() -> None:
    with pytest.raises(CRSError, match="not projected"):
        make_doc(crs=CRS.from_epsg(4490))
