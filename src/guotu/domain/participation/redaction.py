"""Personal data taken out of a public comment before anything of it is shown (issue 18).

What a member of the public types may carry an ID number, a phone number, a bank card or an
e-mail address; none of it may reach a public page. :func:`redact` finds them and replaces each
with a marker (``【已隐去：手机号码】``), on the text as typed: the search runs on a folded copy
(full-width characters and Chinese numerals made ASCII digits, NFKC) with a map back to the
typed characters, so ``１３８－１２３４－５６７８`` and ``幺三八一二三四五六七八`` are found too.

What is found (docs/design/participation-research.md §2; the patterns' sources there):

* a run of digits (one separator allowed between digits: space, ``-``, dashes, ``.``, ``·``,
  ``/``, brackets; a leading ``+``/``00`` country prefix) classified by its digits:
  mainland mobile ``1[3-9]`` + 9 digits (after ``86``/``0086``); 居民身份证号码 of 18 characters
  (17 digits and a digit or X; the check character of GB 11643-1999, ISO 7064 MOD 11-2, only
  labels it: a mistyped number is still personal data) or an old 15-digit one with a plausible
  date; a 16–19 digit card number (Luhn only labels it); a landline ``0`` + area code + number
  (10–12 digits); a bare 7–8 digit local number only after a cue word (电话, 手机, 联系 …);
* an e-mail address (the WHATWG pattern with a dot in the domain).

Over-redaction is preferred to a leak: an 18-digit code made only of digits is taken for an ID
number. Names in free text are not found here (a person decides: see the research note §2.7).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["KINDS", "Redacted", "Span", "id_check_character", "luhn_ok", "redact"]

#: What is found, by kind: (Chinese, English) names as the marker shows them.
KINDS = {
    "mobile": ("手机号码", "mobile number"),
    "id": ("身份证号码", "ID number"),
    "card": ("银行卡号", "card number"),
    "landline": ("电话号码", "telephone number"),
    "email": ("电子邮箱", "e-mail address"),
}
_NUMERALS = dict(
    zip("〇零一二三四五六七八九壹贰叁肆伍陆柒捌玖幺两", "00123456789123456789" + "12", strict=True)
)
_SEPARATORS = " -‐‑‒–—―.·/()（）"
_RUN = re.compile(r"(?:\+|00)?\d(?:[" + re.escape(_SEPARATORS) + r"]?\d){5,}[Xx]?")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_CUES = ("电话", "手机", "座机", "联系", "热线", "tel", "TEL", "Tel", "号码")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_character(body: str) -> str:
    """The check character of an 18-character 居民身份证号码 from its first 17 digits
    (GB 11643-1999: ISO 7064 MOD 11-2).

    Examples
    --------
    >>> id_check_character("11010519491231002")  # the standard's own example
    'X'
    >>> id_check_character("99999919900101001")  # a made-up number (no such address code)
    '6'
    """
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def luhn_ok(digits: str) -> bool:
    """Whether a card number passes the Luhn check (ISO/IEC 7812-1 Annex B).

    Examples
    --------
    >>> luhn_ok("6200000000001235"), luhn_ok("6200000000001236")
    (True, False)
    """
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


@dataclass(frozen=True)
class Span:
    """A piece of personal data found: where in the typed text, its kind, and a label for
    statistics (``id18`` a valid ID number, ``id18?`` one whose check character does not fit)."""

    start: int
    end: int
    kind: str
    label: str


@dataclass(frozen=True)
class Redacted:
    """The text with every span replaced by its marker, and the spans (in the typed text)."""

    text: str
    spans: tuple[Span, ...]


def _fold(text: str) -> tuple[str, list[int]]:
    """``text`` folded for the search, with the index in ``text`` of each folded character."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        folded = _NUMERALS.get(ch) or unicodedata.normalize("NFKC", ch)
        out.append(folded)
        where += [i] * len(folded)
    return "".join(out), where


def _plausible_date(yymmdd: str) -> bool:
    return 1 <= int(yymmdd[2:4]) <= 12 and 1 <= int(yymmdd[4:6]) <= 31


def _classify(run: str, before: str) -> tuple[str, str] | None:
    """The kind and label of a run of digits (``None``: not personal data)."""
    digits = re.sub(r"[^0-9Xx]", "", run).upper()
    national = digits
    for prefix in ("0086", "86"):
        if (run.startswith(("+", "00")) or len(digits) == 11 + len(prefix)) and digits.startswith(
            prefix
        ):
            national = digits[len(prefix) :]
            break
    if len(national) == 11 and re.fullmatch(r"1[3-9]\d{9}", national):
        return "mobile", "mobile"
    if len(digits) == 18 and digits[:17].isdigit():
        ok = id_check_character(digits[:17]) == digits[17]
        return "id", "id18" if ok else "id18?"
    if "X" in digits:
        return None
    if len(digits) == 15 and _plausible_date(digits[6:12]):
        return "id", "id15"
    if 16 <= len(digits) <= 19:
        return "card", "card" if luhn_ok(digits) else "card?"
    if digits.startswith("0") and 10 <= len(digits) <= 12:
        return "landline", "landline"
    if 7 <= len(digits) <= 8 and any(c in before[-8:] for c in _CUES):
        return "landline", "local"
    return None


def redact(text: str, lang: str = "zh") -> Redacted:
    """``text`` with its personal data replaced by markers (see the module docstring).

    Examples
    --------
    >>> redact("请联系我：138-1234-5678，谢谢").text
    '请联系我：【已隐去：手机号码】，谢谢'
    >>> redact("容积率2.5，限高100米，共1200户").spans
    ()
    """
    folded, where = _fold(text)
    found: list[Span] = []
    for m in _RUN.finditer(folded):
        kind = _classify(m.group(), folded[: m.start()])
        if kind is not None:
            found.append(Span(where[m.start()], where[m.end() - 1] + 1, *kind))
    for m in _EMAIL.finditer(folded):
        found.append(Span(where[m.start()], where[m.end() - 1] + 1, "email", "email"))
    spans: list[Span] = []
    for s in sorted(found, key=lambda s: (s.start, -s.end)):
        if spans and s.start < spans[-1].end:
            continue  # inside one already taken (a number within an e-mail address)
        spans.append(s)
    out, at = [], 0
    for s in spans:
        name = KINDS[s.kind][0 if lang == "zh" else 1]
        out += [text[at : s.start], f"【已隐去：{name}】" if lang == "zh" else f"[{name} removed]"]
        at = s.end
    out.append(text[at:])
    return Redacted("".join(out), tuple(spans))
