"""The 用地用海 2023 land- and sea-use classification: code table, validation, categories.

The table is the 2023 《国土空间调查、规划、用途管制用地用海分类指南》 list of 175 classes
(24 level-1, 111 level-2, 40 level-3), shipped as ``guotu/data/ydyh_2023.csv``; the 2020
试行 table (``ydyh_2020.csv``) is used to recognise retired codes and names. Level-1 ``23`` is
其他土地 and ``24`` is 其他海域. Sources and caveats are in ``docs/classification.md``.

Crosswalks from other schemes (三调, 2020 试行, GB 50137, OpenStreetMap) and the legal 三大类
live in :mod:`guotu.domain.codes.crosswalks`.

This module is pure: the only I/O is reading the package CSV files once (cached).
"""

from __future__ import annotations

import csv
import functools
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.resources import files
from typing import Final, Literal

from guotu.errors import NotFoundError

__all__ = [
    "CONSTRUCTION",
    "DEFAULT_CONSTRUCTION_LEVEL1",
    "ISSUE_LABELS",
    "NON_CONSTRUCTION",
    "SEA_CLASSES",
    "CodeIssue",
    "CodeLike",
    "CodeTable",
    "IssueKind",
    "LandUseCode",
    "TrialCode",
    "code_label",
    "construction_category",
    "normalize_code",
    "normalize_name",
    "ydyh_2023",
]

CodeLike = str | int | float
"""A code as it comes from a file: text, or a number from a numeric DBF/Excel column."""

IssueKind = Literal["unknown", "retired", "name_mismatch", "malformed"]

#: What a code with an issue of each kind is called, (zh, en): the one label of such a code
#: wherever it is shown (``guotu codes validate``, the 用地平衡表, the code checks of 质检,
#: whose check list names its ``code.retired`` and ``code.name_mismatch`` checks the same).
ISSUE_LABELS: Final[dict[IssueKind, tuple[str, str]]] = {
    "unknown": ("不存在的分类代码", "Land-use code not in the table"),
    "malformed": ("格式错误的分类代码", "Malformed land-use code"),
    "retired": ("已废止的分类代码（2020 试行版）", "Retired land-use code (2020 trial)"),
    "name_mismatch": ("代码与名称不符", "Code and name disagree"),
}

CONSTRUCTION: Final = "建设用地"
NON_CONSTRUCTION: Final = "非建设用地"

DEFAULT_CONSTRUCTION_LEVEL1: Final[frozenset[str]] = frozenset(f"{n:02d}" for n in range(6, 17))
"""Level-1 classes counted as 建设用地 by the planning convention: 06–16."""

#: Level-1 classes that are sea (海域): 18–22 and 24; 23 其他土地 is land.
SEA_CLASSES: Final[tuple[str, ...]] = ("18", "19", "20", "21", "22", "24")

_CODE_RE: Final = re.compile(r"\d{2}(?:\d{2}(?:\d{2})?)?")
_FLOAT_TEXT_RE: Final = re.compile(r"(\d+)\.0*")


@dataclass(frozen=True, slots=True)
class LandUseCode:
    """One class of the 2023 table.

    Attributes
    ----------
    code
        2, 4 or 6 digits, e.g. ``"0101"``.
    name_zh, name_en
        Official Chinese name and guotu's English translation.
    level
        1, 2 or 3.
    parent
        Code of the parent class, ``None`` for level 1.
    """

    code: str
    name_zh: str
    name_en: str
    level: int
    parent: str | None


@dataclass(frozen=True, slots=True)
class TrialCode:
    """One class of the 2020 试行 table and the 2023 class it became."""

    code: str
    name_zh: str
    level: int
    parent: str | None
    code_2023: str


@dataclass(frozen=True, slots=True)
class CodeIssue:
    """A problem with a code (or its name): a finding, never an exception.

    Attributes
    ----------
    kind
        ``"unknown"`` (not in 2023 nor in 2020 试行), ``"retired"`` (a 2020 试行 code, or a
        2020 试行 name, that 2023 replaced), ``"name_mismatch"`` or ``"malformed"``.
    code
        The normalised code that was checked.
    message_zh, message_en
        Full sentences naming the code and, where possible, the fix.
    suggestion
        The 2023 code to use instead, or ``None`` when none can be derived.
    """

    kind: IssueKind
    code: str
    message_zh: str
    message_en: str
    suggestion: str | None = None


def normalize_code(value: CodeLike) -> str:
    """Normalise a land-use code read from a file.

    Rules:

    * text: Unicode NFKC (full-width digits become ASCII), surrounding whitespace removed;
      otherwise kept as it is (``"101"`` stays ``"101"``: :meth:`CodeTable.validate`
      reports it as malformed and suggests ``"0101"``);
    * a number (``int``, or a ``float`` with no fraction), or text such as ``"101.0"`` that
      can only have passed through a number: its digits, with **one** leading zero added when
      it has 1, 3 or 5 digits. Codes have 2, 4 or 6 digits and never start with ``00``, so a
      number that lost its leading zero has an odd digit count and the padding is unambiguous;
    * anything else (negative numbers, fractions, booleans, NaN) becomes its text, which
      validation then reports as malformed.

    Examples
    --------
    >>> normalize_code(101.0), normalize_code(70101), normalize_code(1), normalize_code(1201)
    ('0101', '070101', '01', '1201')
    >>> normalize_code(" ０７０１ "), normalize_code("101.0"), normalize_code("101")
    ('0701', '0101', '101')
    """
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return str(value)
        return _pad_number(int(value))
    if isinstance(value, int):
        return _pad_number(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    match = _FLOAT_TEXT_RE.fullmatch(text)
    if match:
        return _pad_number(int(match.group(1)))
    return text


def _pad_number(number: int) -> str:
    if number < 0:
        return str(number)
    digits = str(number)
    return "0" + digits if len(digits) in (1, 3, 5) else digits


def normalize_name(name: str) -> str:
    """Normalise a class name for comparison: NFKC, no whitespace, case-folded.

    Examples
    --------
    >>> normalize_name(" 水 田 ") == normalize_name("水田")
    True
    >>> normalize_name("Paddy  Field")
    'paddyfield'
    """
    text = unicodedata.normalize("NFKC", name)
    return "".join(text.split()).casefold()


class CodeTable:
    """The 2023 code table with tree navigation and validation.

    Build it with :func:`ydyh_2023`; the constructor is for tests and local tables.

    Parameters
    ----------
    codes
        The classes, parents before children.
    trial
        The 2020 试行 classes, used to recognise retired codes and names.
    """

    def __init__(self, codes: Iterable[LandUseCode], trial: Iterable[TrialCode] = ()) -> None:
        self._codes: dict[str, LandUseCode] = {c.code: c for c in codes}
        self._trial: dict[str, TrialCode] = {t.code: t for t in trial}
        self._children: dict[str, list[LandUseCode]] = {}
        for c in self._codes.values():
            if c.parent is not None:
                self._children.setdefault(c.parent, []).append(c)
        self._by_name: dict[str, LandUseCode] = {}
        for c in self._codes.values():
            self._by_name.setdefault(normalize_name(c.name_zh), c)
            self._by_name.setdefault(normalize_name(c.name_en), c)

    def __len__(self) -> int:
        return len(self._codes)

    def __iter__(self) -> Iterator[LandUseCode]:
        return iter(self._codes.values())

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str | int | float) and self.get(code) is not None

    def get(self, code: CodeLike) -> LandUseCode | None:
        """The class for ``code`` (normalised), or ``None``.

        Examples
        --------
        >>> ydyh_2023().get(101.0).name_zh
        '水田'
        >>> ydyh_2023().get("9999") is None
        True
        """
        return self._codes.get(normalize_code(code))

    def lookup(self, code: CodeLike) -> LandUseCode:
        """The class for ``code``; raises :class:`~guotu.errors.NotFoundError` if there is none.

        Examples
        --------
        >>> ydyh_2023().lookup("1506").name_zh
        '殡葬用地'
        """
        found = self.get(code)
        if found is None:
            norm = normalize_code(code)
            label_zh, label_en = code_label(norm)
            raise NotFoundError(
                f"Land-use code {norm!r} is not in the 用地用海 2023 table: {label_en}.",
                fix=f"Run `guotu codes validate {norm}` for a suggestion, or `guotu codes list` "
                "for every code.",
                message_zh=f"代码 {norm} 不是用地用海 2023 分类代码：{label_zh}。",
                fix_zh=f"运行 guotu codes validate {norm} 查看建议，或运行 guotu codes list "
                "查看全部代码。",
            )
        return found

    def is_valid(self, code: CodeLike) -> bool:
        """Whether ``code`` (normalised) is a 2023 class.

        Examples
        --------
        >>> ydyh_2023().is_valid("0101"), ydyh_2023().is_valid("090301")
        (True, False)
        """
        return self.get(code) is not None

    def children(self, code: CodeLike) -> tuple[LandUseCode, ...]:
        """The direct sub-classes of ``code``, in table order.

        Examples
        --------
        >>> [c.code for c in ydyh_2023().children("0601")]
        ['060101', '060102']
        """
        return tuple(self._children.get(self.lookup(code).code, ()))

    def descendants(self, code: CodeLike) -> tuple[LandUseCode, ...]:
        """Every sub-class of ``code`` at any depth, depth first in table order.

        Examples
        --------
        >>> len(ydyh_2023().descendants("06"))
        7
        """
        out: list[LandUseCode] = []
        for child in self.children(code):
            out.append(child)
            out.extend(self.descendants(child.code))
        return tuple(out)

    def parent(self, code: CodeLike) -> LandUseCode | None:
        """The parent class, ``None`` for a level-1 class.

        Examples
        --------
        >>> ydyh_2023().parent("060102").code
        '0601'
        >>> ydyh_2023().parent("24") is None
        True
        """
        parent = self.lookup(code).parent
        return None if parent is None else self._codes[parent]

    def ancestors(self, code: CodeLike) -> tuple[LandUseCode, ...]:
        """The chain of parents, from level 1 down to the direct parent.

        Examples
        --------
        >>> [c.code for c in ydyh_2023().ancestors("070101")]
        ['07', '0701']
        """
        chain: list[LandUseCode] = []
        current = self.parent(code)
        while current is not None:
            chain.append(current)
            current = self.parent(current.code)
        return tuple(reversed(chain))

    def level1(self, code: CodeLike) -> LandUseCode:
        """The level-1 class containing ``code`` (itself when it is level 1).

        Examples
        --------
        >>> ydyh_2023().level1("2303").name_zh
        '其他土地'
        """
        return self._codes[self.lookup(code).code[:2]]

    def at_level(self, level: int) -> tuple[LandUseCode, ...]:
        """The classes of one level, in table order.

        Examples
        --------
        >>> len(ydyh_2023().at_level(1)), len(ydyh_2023().at_level(3))
        (24, 40)
        """
        return tuple(c for c in self._codes.values() if c.level == level)

    def find_by_name(self, name: str) -> LandUseCode | None:
        """The class with this Chinese or English name (normalised), or ``None``.

        Examples
        --------
        >>> ydyh_2023().find_by_name("旱地").code
        '0103'
        """
        return self._by_name.get(normalize_name(name))

    def trial_code(self, code: CodeLike) -> TrialCode | None:
        """The 2020 试行 class with this code, or ``None``.

        Examples
        --------
        >>> ydyh_2023().trial_code("090301").code_2023
        '0903'
        """
        return self._trial.get(normalize_code(code))

    def validate(self, code: CodeLike, name: str | None = None) -> list[CodeIssue]:
        """Check a code, and optionally its name, against the 2023 table.

        Returns an empty list when the code is a 2023 class (and ``name``, if given, is its
        Chinese or English name). Problems are returned, never raised:

        * ``malformed``: not 2, 4 or 6 digits after :func:`normalize_code`;
        * ``retired``: a 2020 试行 code that 2023 dropped (e.g. ``090301``), or a valid code
          given with its 2020 试行 name when that name or meaning changed (``0203 橡胶园``,
          ``0204 其他园地``): the suggestion is the 2023 code to use;
        * ``unknown``: in neither table; the suggestion is the class with that name, else
          the nearest existing parent code;
        * ``name_mismatch``: a 2023 code with another class's name or an unknown name.

        A code whose meaning changed (``0204``, ``2302`` …) is valid 2023 on its own; only its
        name can tell it is 2020 data. Translate known 2020 data with
        ``crosswalks.translate(code, "ydyh2020")`` instead.

        Examples
        --------
        >>> ydyh_2023().validate("0101", "水田")
        []
        >>> [(i.kind, i.suggestion) for i in ydyh_2023().validate("0101", "旱地")]
        [('name_mismatch', '0103')]
        >>> [(i.kind, i.suggestion) for i in ydyh_2023().validate("090301")]
        [('retired', '0903')]
        >>> [(i.kind, i.suggestion) for i in ydyh_2023().validate("0199")]
        [('unknown', '01')]
        """
        norm = normalize_code(code)
        if not _CODE_RE.fullmatch(norm):
            return [self._malformed(norm)]
        current = self._codes.get(norm)
        trial = self._trial.get(norm)
        if current is None:
            if trial is not None:
                return [self._retired_code(trial)]
            return [self._unknown(norm, name)]
        if name is None or normalize_name(name) in (
            normalize_name(current.name_zh),
            normalize_name(current.name_en),
        ):
            return []
        if trial is not None and normalize_name(name) == normalize_name(trial.name_zh):
            return [self._retired_name(trial, current)]
        return [self._name_mismatch(current, name)]

    def _malformed(self, norm: str) -> CodeIssue:
        padded = "0" + norm
        suggestion = padded if norm.isdigit() and padded in self._codes else None
        hint_zh = f"，是否为 {padded}（前导零丢失）" if suggestion else ""
        hint_en = f"; did you mean {padded} (leading zero lost)" if suggestion else ""
        return CodeIssue(
            "malformed",
            norm,
            f"代码 {norm!r} 格式不正确：用地用海代码应为 2、4 或 6 位数字{hint_zh}。",
            f"Code {norm!r} is malformed: 用地用海 codes have 2, 4 or 6 digits{hint_en}.",
            suggestion,
        )

    def _retired_code(self, trial: TrialCode) -> CodeIssue:
        target = self._codes[trial.code_2023]
        return CodeIssue(
            "retired",
            trial.code,
            f"代码 {trial.code}（{trial.name_zh}）是 2020 试行版代码，2023 版已不再使用；"
            f"请改为 {target.code} {target.name_zh}。",
            f"Code {trial.code} ({trial.name_zh}) is a 2020 trial code that the 2023 table no "
            f"longer has; use {target.code} {target.name_zh} ({target.name_en}).",
            target.code,
        )

    def _retired_name(self, trial: TrialCode, current: LandUseCode) -> CodeIssue:
        target = self._codes[trial.code_2023]
        if target.code == current.code:
            zh = (
                f"名称“{trial.name_zh}”是 {trial.code} 的 2020 试行版名称，"
                f"2023 版名称为“{current.name_zh}”。"
            )
            en = (
                f"Name {trial.name_zh!r} is the 2020 trial name of {trial.code}; "
                f"the 2023 name is {current.name_zh!r}."
            )
        else:
            zh = (
                f"{trial.code}“{trial.name_zh}”是 2020 试行版的分类；2023 版 {current.code} 为"
                f"“{current.name_zh}”，原分类应改为 {target.code} {target.name_zh}。"
            )
            en = (
                f"{trial.code} {trial.name_zh!r} is the 2020 trial class; in 2023 "
                f"{current.code} means {current.name_zh!r} and the old class is "
                f"{target.code} {target.name_zh}."
            )
        return CodeIssue("retired", current.code, zh, en, target.code)

    def _unknown(self, norm: str, name: str | None) -> CodeIssue:
        by_name = self.find_by_name(name) if name else None
        suggestion = by_name.code if by_name else None
        if suggestion is None:
            for cut in (4, 2):
                if len(norm) > cut and norm[:cut] in self._codes:
                    suggestion = norm[:cut]
                    break
        hint_zh = f"；建议 {suggestion} {self._codes[suggestion].name_zh}" if suggestion else ""
        hint_en = (
            f"; suggestion: {suggestion} {self._codes[suggestion].name_zh}" if suggestion else ""
        )
        return CodeIssue(
            "unknown",
            norm,
            f"代码 {norm} 不在用地用海 2023 分类表（也不在 2020 试行表）中{hint_zh}。",
            f"Code {norm} is in neither the 用地用海 2023 table nor the 2020 trial table{hint_en}.",
            suggestion,
        )

    def _name_mismatch(self, current: LandUseCode, name: str) -> CodeIssue:
        other = self.find_by_name(name)
        if other is None:
            old = next(
                (
                    t
                    for t in self._trial.values()
                    if normalize_name(t.name_zh) == normalize_name(name)
                ),
                None,
            )
            other = self._codes[old.code_2023] if old else None
        hint_zh = f"；名称“{name}”对应 {other.code}" if other else ""
        hint_en = f"; name {name!r} belongs to {other.code}" if other else ""
        return CodeIssue(
            "name_mismatch",
            current.code,
            f"代码 {current.code} 的名称应为“{current.name_zh}”，而不是“{name}”{hint_zh}。",
            f"Code {current.code} is {current.name_zh!r} ({current.name_en}), not {name!r}"
            f"{hint_en}.",
            other.code if other else None,
        )


def read_data_csv(filename: str) -> list[dict[str, str]]:
    """Rows of a CSV file shipped in ``guotu/data`` (UTF-8, header row).

    Examples
    --------
    >>> read_data_csv("ydyh_2023.csv")[0]["name_zh"]
    '耕地'
    """
    text = (files("guotu") / "data" / filename).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@functools.cache
def ydyh_2023() -> CodeTable:
    """The 用地用海 2023 table (loaded once).

    Examples
    --------
    >>> table = ydyh_2023()
    >>> len(table), [len(table.at_level(n)) for n in (1, 2, 3)]
    (175, [24, 111, 40])
    >>> table.lookup("23").name_zh, table.lookup("24").name_zh
    ('其他土地', '其他海域')
    """
    codes = [
        LandUseCode(r["code"], r["name_zh"], r["name_en"], int(r["level"]), r["parent"] or None)
        for r in read_data_csv("ydyh_2023.csv")
    ]
    trial = [
        TrialCode(r["code"], r["name_zh"], int(r["level"]), r["parent"] or None, r["code_2023"])
        for r in read_data_csv("ydyh_2020.csv")
    ]
    return CodeTable(codes, trial)


def code_label(code: CodeLike) -> tuple[str, str]:
    """The label of a 用地用海 code, (zh, en): its class name when it is a 2023 class, else
    what it is (:data:`ISSUE_LABELS`: retired, not in the table, malformed). Every place that
    names a code (用地平衡表, 质检, ``guotu codes``) calls this, so a code is called the same
    everywhere.

    Examples
    --------
    >>> code_label("0101")
    ('水田', 'Paddy field')
    >>> code_label("090301")[0], code_label("0999")[0], code_label("101")[0]
    ('已废止的分类代码（2020 试行版）', '不存在的分类代码', '格式错误的分类代码')
    """
    table = ydyh_2023()
    found = table.get(code)
    if found is not None:
        return found.name_zh, found.name_en
    issues = table.validate(code)
    return ISSUE_LABELS[issues[0].kind if issues else "unknown"]


def construction_category(
    code: CodeLike,
    construction_level1: Iterable[str] = DEFAULT_CONSTRUCTION_LEVEL1,
) -> Literal["建设用地", "非建设用地"]:
    """建设用地 or 非建设用地 by the planning convention (level-1 classes 06–16 by default).

    This is the convention of master-plan statistics, **not** the legal 三大类 of the land
    survey (see :func:`guotu.domain.codes.crosswalks.ydyh_legal_three_major_class`): 0601 农村道路
    is 建设用地 here but 农用地 legally. A local profile may pass another set of level-1 codes.

    Parameters
    ----------
    code
        A 2023 code; unknown codes raise :class:`~guotu.errors.NotFoundError`.
    construction_level1
        The level-1 codes counted as 建设用地.

    Examples
    --------
    >>> construction_category("0701"), construction_category("0101")
    ('建设用地', '非建设用地')
    >>> construction_category("16", construction_level1={"07"})
    '非建设用地'
    """
    level1 = ydyh_2023().level1(code).code
    return CONSTRUCTION if level1 in frozenset(construction_level1) else NON_CONSTRUCTION
