"""FAQ suggestions rank answers by BM25 as Lucene computes it: scores by hand on a tiny set,
ties broken by id, repeated query words counted once."""

from __future__ import annotations

import math

import pytest

from guotu.domain.participation.ranking import Bm25Index

ANSWERS = {
    "q1": ["公示", "期限", "三十", "日"],  # 4 words
    "q2": ["停车", "规划", "停车"],  # 3 words
    "q3": ["公示", "停车"],  # 2 words
}


def test_scores_by_hand() -> None:
    idx = Bm25Index.of(ANSWERS)
    # N = 3, avgdl = 9 / 3 = 3. 公示 is in 2 answers: idf = ln(1 + (3 - 2 + .5) / (2 + .5))
    idf = math.log(1 + 1.5 / 2.5)
    assert idx.idf("公示") == pytest.approx(idf)
    # q1: f = 1, |D| = 4: 1·2.2 / (1 + 1.2·(0.25 + 0.75·4/3)) = 2.2 / 2.5
    # q3: f = 1, |D| = 2: 2.2 / (1 + 1.2·(0.25 + 0.75·2/3)) = 2.2 / 1.9 (shorter: higher)
    got = idx.search(["公示"])
    assert [k for k, _ in got] == ["q3", "q1"]
    assert got[0][1] == pytest.approx(idf * 2.2 / 1.9)
    assert got[1][1] == pytest.approx(idf * 2.2 / 2.5)


def test_term_frequency_saturates_and_unknown_words_score_nothing() -> None:
    idx = Bm25Index.of(ANSWERS)
    # 停车 in q2 (f = 2, |D| = 3) and q3 (f = 1, |D| = 2); idf = ln(1 + 1.5 / 2.5)
    idf = math.log(1 + 1.5 / 2.5)
    q2 = idf * 2 * 2.2 / (2 + 1.2 * (0.25 + 0.75))
    q3 = idf * 1 * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 2 / 3))
    got = dict(idx.search(["停车", "停车", "违章"]))  # a repeated word counts once
    assert got == pytest.approx({"q2": q2, "q3": q3})
    assert idx.search(["违章"]) == [] and idx.idf("违章") == 0.0


def test_ties_are_broken_by_id_and_the_limit_holds() -> None:
    idx = Bm25Index.of({"b": ["x"], "a": ["x"], "c": ["x"]})
    assert [k for k, _ in idx.search(["x"], limit=2)] == ["a", "b"]
