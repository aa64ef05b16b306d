"""Which answered questions are closest to a new comment (issue 18's FAQ suggestions): Okapi
BM25 over words, as Lucene computes it.

For query terms q, an answer D of length |D| (words), the average length avgdl, N answers and
n(q) answers containing q:

    score(D) = Σ_q idf(q) · f(q, D)·(k1 + 1) / (f(q, D) + k1·(1 − b + b·|D|/avgdl))
    idf(q)   = ln(1 + (N − n(q) + 0.5) / (n(q) + 0.5))

with k1 = 1.2 and b = 0.75 (Lucene ``BM25Similarity``'s defaults and idf, cited in
docs/design/participation-research.md §3.2; the original paper, Robertson et al., "Okapi at
TREC-3", 1994, was not read). Words come from a segmenter outside the domain; a repeated query
word counts once. Ties are broken by the answer's id, so the same question always gets the
same suggestions. The suggestions go to a person, never straight to the public.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["K1", "B", "Bm25Index"]

#: Lucene's defaults (BM25Similarity).
K1 = 1.2
B = 0.75


@dataclass(frozen=True)
class Bm25Index:
    """The answers' words, indexed for BM25 (build with :meth:`of`)."""

    postings: Mapping[str, tuple[tuple[str, int], ...]]
    lengths: Mapping[str, int]
    average: float

    @classmethod
    def of(cls, answers: Mapping[str, Sequence[str]]) -> Bm25Index:
        """The index of ``answers`` (id → its words).

        Examples
        --------
        >>> idx = Bm25Index.of({"a": ["公示", "期限"], "b": ["停车", "规划"]})
        >>> idx.search(["公示"])[0][0]
        'a'
        """
        postings: dict[str, list[tuple[str, int]]] = {}
        for key, words in sorted(answers.items()):
            for word, count in sorted(Counter(words).items()):
                postings.setdefault(word, []).append((key, count))
        lengths = {k: len(w) for k, w in answers.items()}
        average = sum(lengths.values()) / len(lengths) if lengths else 0.0
        return cls({w: tuple(p) for w, p in postings.items()}, lengths, average)

    def idf(self, word: str) -> float:
        """The word's inverse document frequency (0 for a word no answer has)."""
        n, total = len(self.postings.get(word, ())), len(self.lengths)
        return math.log(1 + (total - n + 0.5) / (n + 0.5)) if n else 0.0

    def search(self, words: Sequence[str], limit: int = 5) -> list[tuple[str, float]]:
        """The ``limit`` best answers for ``words`` with their scores, best first (answers
        sharing no word are left out)."""
        scores: dict[str, float] = {}
        for word in dict.fromkeys(words):
            weight = self.idf(word)
            for key, f in self.postings.get(word, ()):
                norm = K1 * (1 - B + B * self.lengths[key] / self.average)
                scores[key] = scores.get(key, 0.0) + weight * f * (K1 + 1) / (f + norm)
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
