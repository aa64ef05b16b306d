"""Duplicate comments (issue 18): the same text sent again, and near duplicates (the same
opinion rephrased, or a campaign's template), found for the moderator, never rejected.

* Exact: the text normalised (NFKC, case folded, every punctuation mark, symbol and space
  removed) and hashed; ``东河村停车位不足，建议增加停车位。`` and the same with ``。。。！！`` are
  one text.
* Near: Jaccard similarity of the two texts' character 3-grams (of the normalised text). On
  short Chinese comments it separates a rephrasing (0.78 in the research note's trial) from an
  unrelated comment (0.00) where simhash did not (docs/design/participation-research.md §4;
  the threshold :data:`NEAR` is guotu's choice, not a published figure).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping

__all__ = ["NEAR", "near_duplicates", "normalised", "shingles", "similarity", "text_key"]

#: Jaccard similarity of 3-grams from which two comments are shown as near duplicates: a
#: 20-character comment that gains two words keeps about half its 3-grams (0.48 in the tests),
#: an unrelated one shares none. guotu's choice, to be tuned on real comments.
NEAR = 0.4


def normalised(text: str) -> str:
    """The text as compared: NFKC, case folded, without punctuation, symbols and spaces.

    Examples
    --------
    >>> normalised("东河村停车位不足，建议增加停车位。。。！！")
    '东河村停车位不足建议增加停车位'
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PSZC")


def text_key(text: str) -> str:
    """The hash exact duplicates share (SHA-256 of :func:`normalised`, hex)."""
    return hashlib.sha256(normalised(text).encode("utf-8")).hexdigest()


def shingles(text: str, n: int = 3) -> frozenset[str]:
    """The character ``n``-grams of the normalised text (the whole text when shorter)."""
    s = normalised(text)
    return frozenset(s[i : i + n] for i in range(max(len(s) - n + 1, 1))) if s else frozenset()


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two shingle sets (0 when both are empty).

    Examples
    --------
    >>> similarity(shingles("建议增加停车位"), shingles("建议增加停车位！"))
    1.0
    """
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def near_duplicates(
    new: str, others: Mapping[str, frozenset[str]], threshold: float = NEAR
) -> list[tuple[str, float]]:
    """The comments (id → shingles) at least ``threshold`` similar to ``new``, most similar
    first, ties by id."""
    mine = shingles(new)
    found = [(key, similarity(mine, theirs)) for key, theirs in others.items()]
    return sorted(((k, s) for k, s in found if s >= threshold), key=lambda x: (-x[1], x[0]))
