"""Duplicate comments: punctuation, width, case and spaces do not make a text new; a
rephrased opinion is a near duplicate, an unrelated one is not (Jaccard counted by hand)."""

from __future__ import annotations

import pytest

from guotu.domain.participation.duplicates import (
    near_duplicates,
    normalised,
    shingles,
    similarity,
    text_key,
)


def test_the_same_text_typed_differently_is_one_text() -> None:
    a = "东河村停车位不足，建议增加停车位。"
    for b in ("东河村停车位不足，建议增加停车位。。。！！", "东河村 停车位不足, 建议增加停车位",
              "东河村停车位不足，建议增加停车位！"):  # fmt: skip
        assert text_key(a) == text_key(b)
    assert text_key("ABC公园") == text_key("ａｂｃ 公园")
    assert text_key(a) != text_key("西河村停车位不足，建议增加停车位。")


def test_jaccard_of_three_grams_by_hand() -> None:
    # 停车位不足: 停车位, 车位不, 位不足 (3); 停车位紧张: 停车位, 车位紧, 位紧张 (3)
    # shared 1, union 5 → 0.2
    assert similarity(shingles("停车位不足"), shingles("停车位紧张")) == pytest.approx(0.2)
    assert shingles("停车") == frozenset({"停车"}) and shingles("。。") == frozenset()
    assert similarity(frozenset(), frozenset()) == 0.0


def test_a_rephrased_opinion_is_a_near_duplicate_and_an_unrelated_one_is_not() -> None:
    others = {
        "c1": shingles("东河村停车位严重不足，建议在村口增加停车位"),
        "c2": shingles("反对在西山乡建设垃圾焚烧厂，离学校太近"),
        "c3": shingles("东河村停车位不足，建议在村口增加停车位。"),
    }
    got = near_duplicates("东河村停车位不足，建议村口增加停车位", others)
    # c3: 12 of 17 3-grams shared (0.71); c1 (two words added): 10 of 21 (0.48); c2: none
    assert [(k, round(s, 2)) for k, s in got] == [("c3", 0.71), ("c1", 0.48)]
    assert normalised("Ａ，ｂ　Ｃ") == "abc"
