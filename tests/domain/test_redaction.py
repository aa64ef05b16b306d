"""Personal data is taken out of public comments in every form people type it, and what is
not personal data (planning figures, dates, parcel numbers) is left alone; the ID check
character and the Luhn check are the standards' (worked examples by hand)."""

from __future__ import annotations

import pytest

from guotu.domain.participation.redaction import id_check_character, luhn_ok, redact


@pytest.mark.parametrize(
    ("typed", "kind", "label"),
    [
        ("手机 13812345678", "mobile", "mobile"),
        ("138 1234 5678", "mobile", "mobile"),
        ("138-1234-5678", "mobile", "mobile"),
        ("+86 138 1234 5678", "mobile", "mobile"),
        ("+8613812345678", "mobile", "mobile"),
        ("0086-138-1234-5678", "mobile", "mobile"),
        ("8613812345678", "mobile", "mobile"),
        ("１３８－１２３４－５６７８", "mobile", "mobile"),  # full width
        ("幺三八一二三四五六七八", "mobile", "mobile"),  # Chinese numerals
        ("1 3 8 1 2 3 4 5 6 7 8", "mobile", "mobile"),  # digit by digit
        ("身份证11010519491231002X", "id", "id18"),  # GB 11643-1999's own example
        ("身份证 110105 19491231 002x", "id", "id18"),
        ("999999199001010017", "id", "id18?"),  # check character wrong: still personal data
        ("旧证 110105491231002", "id", "id15"),
        ("卡号 6200 0000 0000 1235", "card", "card"),
        ("6200000000001236", "card", "card?"),
        ("座机 0571-8765 4321", "landline", "landline"),
        ("010-62751234", "landline", "landline"),
        ("电话：6275123", "landline", "local"),
        ("邮箱 wang.fang@example.com.cn", "email", "email"),
        ("ｗａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "email", "email"),
    ],
)
def test_personal_data_is_found_in_every_form(typed: str, kind: str, label: str) -> None:
    got = redact(typed)
    assert [(s.kind, s.label) for s in got.spans] == [(kind, label)]
    marker = {"mobile": "手机号码", "id": "身份证号码", "card": "银行卡号", "landline": "电话号码",
              "email": "电子邮箱"}[kind]  # fmt: skip
    assert f"【已隐去：{marker}】" in got.text
    assert not any(ch.isdigit() for ch in got.text.split("【")[-1].split("】")[-1])


@pytest.mark.parametrize(
    "typed",
    [
        "容积率2.5，限高100米，共1200户",
        "2026-12-07 至 2027-01-06 公示",
        "编号GT-2026-000123",
        "地块号 330102-012-0345",
        "面积12345678平方米",  # 8 digits, but no cue word: an area, not a phone
        "第3301020120345号",
        "不动产单元号 330102012345GB00001F00010001",
    ],
)
def test_planning_figures_dates_and_numbers_are_left_alone(typed: str) -> None:
    assert redact(typed).text == typed


def test_the_text_around_is_kept_as_typed_and_several_are_found() -> None:
    typed = "我是村民，电话１３８ １２３４ ５６７８，邮箱 a.b@example.cn，反对拆迁。"
    got = redact(typed)
    assert got.text == "我是村民，电话【已隐去：手机号码】，邮箱 【已隐去：电子邮箱】，反对拆迁。"
    assert [typed[s.start : s.end] for s in got.spans] == [
        "１３８ １２３４ ５６７８",
        "a.b@example.cn",
    ]
    assert redact(typed, lang="en").text.count("removed]") == 2


def test_check_characters_of_the_standards() -> None:
    # 11010519491231002: products 7 9 0 5 0 20 2 9 24 27 7 18 30 5 0 0 4, sum 167, 167 mod 11 = 2 → X
    assert id_check_character("11010519491231002") == "X"
    # 99999919900101001: sum 468, 468 mod 11 = 6 → "10X98765432"[6] = 6
    assert id_check_character("99999919900101001") == "6"
    # 620000000000123 + 5: doubled from the right 3→6, 1→2, 6→12→3; 6+2+2+2+3 = 15 → 5
    assert luhn_ok("6200000000001235") and not luhn_ok("6200000000001236")
