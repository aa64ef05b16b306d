"""Known answers for the 用地用海 2023 table, its validation and the crosswalks."""

from __future__ import annotations

import pytest

from guotu.domain.codes.classification import (
    DEFAULT_CONSTRUCTION_LEVEL1,
    construction_category,
    normalize_code,
    ydyh_2023,
)
from guotu.domain.codes.crosswalks import (
    find_sources,
    sandiao_three_major_class,
    translate,
    translate_osm,
    ydyh_legal_three_major_class,
)
from guotu.errors import InputError, NotFoundError

# --- the table -------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "count"), [(1, 24), (2, 111), (3, 40)])
def test_count_per_level(level: int, count: int) -> None:
    assert len(ydyh_2023().at_level(level)) == count


def test_total_count() -> None:
    assert len(ydyh_2023()) == 175


def test_table_is_loaded_once() -> None:
    assert ydyh_2023() is ydyh_2023()


@pytest.mark.parametrize(
    ("code", "name_zh"),
    [
        ("23", "其他土地"),  # level-1 order: 23 is land …
        ("24", "其他海域"),  # … and 24 is sea
        ("1506", "殡葬用地"),
        ("0903", "娱乐用地"),
        ("1207", "城镇村道路用地"),
    ],
)
def test_names(code: str, name_zh: str) -> None:
    assert ydyh_2023().lookup(code).name_zh == name_zh


@pytest.mark.parametrize(
    ("code", "parent"),
    [
        ("060102", "0601"),  # 田间道 moved here from 2020 2303
        ("060201", "0602"),
        ("1207", "12"),
        ("2303", "23"),
        ("01", None),
    ],
)
def test_parent(code: str, parent: str | None) -> None:
    found = ydyh_2023().lookup(code)
    assert found.parent == parent
    assert (ydyh_2023().parent(code) or found).code == (parent or code)


def test_every_parent_exists_and_is_one_level_up() -> None:
    table = ydyh_2023()
    for c in table:
        if c.parent is not None:
            assert table.lookup(c.parent).level == c.level - 1
            assert c.code.startswith(c.parent)


def test_children() -> None:
    assert [c.code for c in ydyh_2023().children("0602")] == ["060201", "060202", "060203"]


def test_ancestors_root_first() -> None:
    assert [c.code for c in ydyh_2023().ancestors("080403")] == ["08", "0804"]


def test_level1() -> None:
    assert ydyh_2023().level1("120803").code == "12"


def test_lookup_unknown_raises_not_found_with_fix() -> None:
    with pytest.raises(NotFoundError) as info:
        ydyh_2023().lookup("9999")
    assert info.value.fix


def test_get_unknown_is_none() -> None:
    assert ydyh_2023().get("9999") is None


# --- normalisation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # numbers that lost a leading zero: odd digit count gets one zero
        (101.0, "0101"),
        (101, "0101"),
        (70101, "070101"),
        (1, "01"),
        ("101.0", "0101"),
        # numbers with an even digit count stay
        (1201, "1201"),
        (12.0, "12"),
        # text is only stripped (and NFKC-normalised)
        (" 0101 ", "0101"),
        ("０１０１", "0101"),
        ("101", "101"),
        # not codes
        (101.5, "101.5"),
        (True, "True"),
        (-101, "-101"),
    ],
)
def test_normalize_code(value: str | float, expected: str) -> None:
    assert normalize_code(value) == expected


# --- validation --------------------------------------------------------------------------


def test_valid_code_has_no_issues() -> None:
    assert ydyh_2023().validate("0101", "水田") == []


def test_english_name_is_accepted() -> None:
    assert ydyh_2023().validate("0101", "paddy field") == []


def test_unknown_code_is_an_issue_not_an_exception() -> None:
    issues = ydyh_2023().validate("9999")
    assert [(i.kind, i.suggestion) for i in issues] == [("unknown", None)]


@pytest.mark.parametrize(
    ("code", "name", "kind", "suggestion"),
    [
        # 2020 codes that 2023 dropped
        ("090301", None, "retired", "0903"),
        ("0603", None, "retired", "060202"),
        ("1313", None, "retired", "1312"),
        # valid 2023 codes given with their 2020 name
        ("0203", "橡胶园", "retired", "0203"),
        ("0204", "其他园地", "retired", "0205"),
        ("2302", "田坎", "retired", "2303"),
        # wrong names
        ("0101", "旱地", "name_mismatch", "0103"),
        ("0101", "不存在的地类", "name_mismatch", None),
        # unknown: suggest by name, else by the nearest existing parent
        ("0199", None, "unknown", "01"),
        ("0199", "旱地", "unknown", "0103"),
        # malformed
        ("101", None, "malformed", "0101"),
        ("01a", None, "malformed", None),
        ("", None, "malformed", None),
    ],
)
def test_validate_issues(code: str, name: str | None, kind: str, suggestion: str | None) -> None:
    issues = ydyh_2023().validate(code, name)
    assert [(i.kind, i.suggestion) for i in issues] == [(kind, suggestion)]
    assert issues[0].message_zh and issues[0].message_en


def test_changed_meaning_code_alone_is_valid_2023() -> None:
    assert ydyh_2023().validate("0204") == []


# --- construction category (planning convention) ----------------------------------------


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("0601", "建设用地"),
        ("16", "建设用地"),
        ("1003", "建设用地"),
        ("0101", "非建设用地"),
        ("1701", "非建设用地"),
        ("2301", "非建设用地"),
    ],
)
def test_construction_category_default(code: str, category: str) -> None:
    assert construction_category(code) == category


def test_construction_category_is_configurable() -> None:
    assert construction_category("0601", DEFAULT_CONSTRUCTION_LEVEL1 - {"06"}) == "非建设用地"


# --- legal 三大类 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dlbm", "expected"),
    [
        ("0404", "未利用地"),
        ("1006", "农用地"),
        ("0603", "建设用地"),
        ("1203", "农用地"),
        ("1201", "建设用地"),
        ("09", "建设用地"),
        ("0307k", "农用地"),
        ("01", None),
    ],
)
def test_sandiao_three_major_class(dlbm: str, expected: str | None) -> None:
    assert sandiao_three_major_class(dlbm) == expected


def test_sandiao_three_major_class_unknown_raises() -> None:
    with pytest.raises(NotFoundError):
        sandiao_three_major_class("9999")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # the planning convention and the legal class disagree here
        ("0601", "农用地"),
        ("060102", "农用地"),
        ("0602", "农用地"),
        ("2303", "农用地"),
        ("1003", "建设用地"),
        ("2301", "建设用地"),
        ("1701", "未利用地"),
        ("1702", "未利用地"),
        ("0403", "未利用地"),
        # derived through the level-1 class
        ("0702", "建设用地"),
        ("080401", "建设用地"),
        # depends on context
        ("1311", None),
        ("17", None),
        ("16", None),
        ("2302", None),
        ("1802", None),
    ],
)
def test_ydyh_legal_three_major_class(code: str, expected: str | None) -> None:
    assert ydyh_legal_three_major_class(code) == expected


# --- crosswalks ----------------------------------------------------------------------------


def test_2020_retired_code_translates() -> None:
    t = translate("090301", "ydyh2020")
    assert (t.mapping_type, t.targets) == ("one_to_one", ("0903",))


def test_2020_field_road_moves_to_level_3() -> None:
    assert translate("2303", "ydyh2020").targets == ("060102",)


@pytest.mark.parametrize(
    ("code", "mapping_type", "targets"),
    [
        ("0101", "one_to_one", ("0101",)),
        ("0305", "one_to_one", ("0303",)),
        ("0201K", "one_to_one", ("0201",)),
        ("1107A", "one_to_one", ("1311",)),
        ("05H1", "to_level1", ("09",)),
        ("0204", "one_to_many", ("0204", "0205")),
        ("08H2A", "unmapped", ()),
    ],
)
def test_sandiao_translation(code: str, mapping_type: str, targets: tuple[str, ...]) -> None:
    t = translate(code, "sandiao")
    assert (t.mapping_type, t.targets) == (mapping_type, targets)


def test_sandiao_undecided_class_is_one_to_many_within_its_level1() -> None:
    t = translate("08H2", "sandiao")
    assert t.mapping_type == "one_to_many"
    assert t.target is None
    assert len(t.targets) > 1 and all(c.startswith("08") for c in t.targets)


def test_sandiao_unknown_code_raises() -> None:
    with pytest.raises(NotFoundError):
        translate("0999", "sandiao")


def test_gb50137_matches_are_unverified() -> None:
    t = translate("G1", "gb50137")
    assert (t.targets, t.is_verified) == (("1401",), False)


def test_gb50137_without_same_name_is_unmapped() -> None:
    assert translate("R1", "gb50137").mapping_type == "unmapped"


@pytest.mark.parametrize(
    ("tags", "targets"),
    [
        ({"landuse": "residential"}, ("0701",)),
        ({"landuse": "farmland"}, ("01",)),
        ({"landuse": "cemetery"}, ("1506",)),
        ({"natural": "water", "water": "reservoir"}, ("1703",)),  # water before natural
        ({"landuse": "residential", "amenity": "school"}, ("0804",)),  # function first
        ({"military": "barracks"}, ("1501",)),  # wildcard value
        ({"shop": "bakery"}, ()),
    ],
)
def test_translate_osm(tags: dict[str, str], targets: tuple[str, ...]) -> None:
    assert translate_osm(tags).targets == targets


def test_translate_osm_tag_text() -> None:
    assert translate("leisure=park", "osm").targets == ("1401",)


@pytest.mark.parametrize("bad", ["landuse", "=x", "landuse="])
def test_translate_osm_bad_tag(bad: str) -> None:
    with pytest.raises(InputError):
        translate(bad, "osm")


def test_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match="sandiao"):
        translate("0101", "tdly")


def test_only_translation_to_2023() -> None:
    with pytest.raises(InputError):
        translate("0101", "ydyh2023", "sandiao")


def test_reverse_lookup_sandiao() -> None:
    assert find_sources("0301", "sandiao") == ("0301", "0301K")


def test_reverse_lookup_with_candidates() -> None:
    assert "09" in find_sources("1506", "sandiao", include_candidates=True)
    assert "09" not in find_sources("1506", "sandiao")


def test_every_crosswalk_note_has_its_chinese() -> None:
    """A note in English has its Chinese (issue 14): the CSVs' note_zh column is filled in."""
    from guotu.domain.codes.classification import read_data_csv

    for name in (
        "crosswalk_sandiao.csv",
        "crosswalk_gb50137.csv",
        "osm_to_ydyh.csv",
        "ydyh_2020.csv",
    ):
        for row in read_data_csv(name):
            assert bool(row["note"]) == bool(row["note_zh"]), (name, row)


@pytest.mark.parametrize(
    ("code", "scheme", "note_zh"),
    [
        (
            "090301",
            "ydyh2020",
            "改码：090301 娱乐用地 → 0903 娱乐用地（与 2020 版 0903、090302 合并）",
        ),
        ("0203", "ydyh2020", "更名：橡胶园 → 橡胶园地"),
        ("0101", "ydyh2020", "代码和名称未变"),
        ("R1", "gb50137", "未核实：2023 版没有同名类"),
        (
            "landuse=farmland",
            "osm",
            "guotu 自定的对应，未经核实：水田、水浇地还是旱地不明：仅到一级类",
        ),
        (
            "0404",
            "sandiao",
            "三大类：GB/T 21010-2017 的列表（fubaore 网页）和另一仓库的文档均作 未利用地，"
            "CCTool 表作 农用地；两者冲突，保留 未利用地",
        ),
    ],
)
def test_translation_note_in_chinese(code: str, scheme: str, note_zh: str) -> None:
    t = translate(code, scheme)
    assert t.note_zh == note_zh and t.note  # the English note stays


@pytest.mark.parametrize(
    ("code", "scheme", "levels", "zh", "en"),
    [
        # 用地用海 2023: 2/4/6 digits roll up; a retired or unknown code is what 质检 calls it
        (
            "070101",
            "ydyh2023",
            ("07", "0701", "070101"),
            "一类城镇住宅用地",
            "Class-1 urban residential land",
        ),
        (
            "090301",
            "ydyh2023",
            ("090301",),
            "已废止的分类代码（2020 试行版）",
            "Retired land-use code (2020 trial)",
        ),
        ("0999", "ydyh2023", ("0999",), "不存在的分类代码", "Land-use code not in the table"),
        # 三调: the first two characters, then the code; the same digits, another name
        ("05H1", "sandiao", ("05", "05H1"), "商业服务业设施用地", "商业服务业设施用地"),
        ("0201K", "sandiao", ("02", "0201K"), "可调整果园", "可调整果园"),
        ("05", "sandiao", ("05",), "商业服务业用地", "商业服务业用地"),
        ("XX", "sandiao", ("XX",), "不存在的分类代码", "Land-use code not in the table"),
    ],
)
def test_name_code_in_its_own_classification(
    code: str, scheme: str, levels: tuple[str, ...], zh: str, en: str
) -> None:
    from guotu.domain.codes.code_names import name_code

    named = name_code(code, scheme)
    assert (named.levels, named.label("zh"), named.label("en")) == (levels, zh, en)


def test_every_crosswalk_target_is_a_2023_code() -> None:
    table = ydyh_2023()
    for scheme in ("sandiao", "ydyh2020", "gb50137", "osm"):
        for c in table:
            for source in find_sources(c.code, scheme, include_candidates=True):
                assert c.code in translate(source, scheme).targets
