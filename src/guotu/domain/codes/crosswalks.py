"""Crosswalks from other land-use schemes to 用地用海 2023, and the legal 三大类.

Schemes (:class:`Scheme`): ``ydyh2020`` (2020 试行), ``sandiao`` (三调 working classification,
DLBM, with its K/A variants), ``gb50137`` (GB 50137-2011 urban land use), ``osm``
(OpenStreetMap ``key=value`` tags) and ``ydyh2023`` itself. Every answer is a
:class:`Translation` that says how sure it is: a class the source cannot pin down is reported as
``one_to_many`` with its candidates or ``unmapped``, never guessed. The tables are data files in
``guotu/data``; their sources are in ``docs/classification.md``.

A code is named in the classification of its own layer by
:func:`guotu.domain.codes.code_names.name_code`.

Two senses of 三大类 exist and both are needed: the planning convention 建设/非建设
(:func:`guotu.domain.codes.classification.construction_category`) and the legal 农用地 / 建设用地 /
未利用地 of the land survey (:func:`sandiao_three_major_class`,
:func:`ydyh_legal_three_major_class`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal, cast

from guotu.domain.codes.classification import (
    CodeLike,
    normalize_code,
    read_data_csv,
    ydyh_2023,
)
from guotu.errors import InputError, NotFoundError

__all__ = [
    "OSM_KEY_PRIORITY",
    "MappingType",
    "Scheme",
    "ThreeMajorClass",
    "Translation",
    "find_sources",
    "known_three_major_class",
    "normalize_sandiao",
    "parse_scheme",
    "sandiao_name",
    "sandiao_three_major_class",
    "translate",
    "translate_osm",
    "ydyh_legal_three_major_class",
]

MappingType = Literal["one_to_one", "to_level1", "one_to_many", "unmapped"]
ThreeMajorClass = Literal["农用地", "建设用地", "未利用地"]

OSM_KEY_PRIORITY: Final[tuple[str, ...]] = (
    "amenity",
    "leisure",
    "aeroway",
    "railway",
    "power",
    "man_made",
    "military",
    "landuse",
    "water",
    "waterway",
    "natural",
)
"""OSM keys in the order :func:`translate_osm` consults them: function before land cover."""


class Scheme(StrEnum):
    """A classification scheme a code can come from."""

    YDYH2023 = "ydyh2023"
    YDYH2020 = "ydyh2020"
    SANDIAO = "sandiao"
    GB50137 = "gb50137"
    OSM = "osm"


@dataclass(frozen=True, slots=True)
class Translation:
    """Where a code of another scheme lands in 用地用海 2023.

    Attributes
    ----------
    source
        The normalised source code (``key=value`` for OSM).
    from_scheme, to_scheme
        The schemes, as :class:`Scheme` values.
    targets
        ``one_to_one``/``to_level1``: the single 2023 code; ``one_to_many``: every candidate;
        ``unmapped``: empty.
    mapping_type
        ``one_to_one`` (one exact class), ``to_level1`` (only the level-1 class is known),
        ``one_to_many`` (several candidates: needs survey or plan intent) or ``unmapped``.
    note, note_zh
        Why, in the words of the source table where there is one (English), and the same in
        Chinese (codes, class names and cited sources as written).
    is_verified
        ``False`` when no published table backs the answer (GB 50137 same-name matches,
        guotu's OSM convention).
    """

    source: str
    from_scheme: str
    to_scheme: str
    targets: tuple[str, ...]
    mapping_type: MappingType
    note: str
    note_zh: str
    is_verified: bool = True

    @property
    def target(self) -> str | None:
        """The single target code, or ``None`` for ``one_to_many``/``unmapped``."""
        return self.targets[0] if self.mapping_type in ("one_to_one", "to_level1") else None


@dataclass(frozen=True, slots=True)
class _SandiaoRow:
    code: str
    name: str
    level: int
    three_major_class: ThreeMajorClass | None
    translation: Translation


def parse_scheme(value: str) -> Scheme:
    """The :class:`Scheme` named ``value``; :class:`~guotu.errors.InputError` lists the names.

    Examples
    --------
    >>> parse_scheme("sandiao")
    <Scheme.SANDIAO: 'sandiao'>
    """
    try:
        return Scheme(value.strip().lower())
    except ValueError:
        known = ", ".join(s.value for s in Scheme)
        raise InputError(
            f"Unknown classification scheme {value!r}.", fix=f"Use one of: {known}."
        ) from None


def _split(codes: str) -> tuple[str, ...]:
    return tuple(c for c in codes.split(";") if c)


def normalize_sandiao(code: CodeLike) -> str:
    """A 三调 DLBM code normalised like :func:`~guotu.domain.codes.classification.normalize_code`,
    its letters upper-cased.

    Examples
    --------
    >>> normalize_sandiao("0201k"), normalize_sandiao(101)
    ('0201K', '0101')
    """
    norm: str = normalize_code(code)
    return norm.upper()


@functools.cache
def _sandiao() -> dict[str, _SandiaoRow]:
    rows: dict[str, _SandiaoRow] = {}
    for r in read_data_csv("crosswalk_sandiao.csv"):
        tmc = cast(ThreeMajorClass, r["three_major_class"]) if r["three_major_class"] else None
        tr = Translation(
            r["sandiao_code"],
            Scheme.SANDIAO,
            Scheme.YDYH2023,
            _split(r["ydyh_codes"]),
            cast(MappingType, r["mapping_type"]),
            r["note"],
            r["note_zh"],
            is_verified=r["mapping_type"] != "unmapped",
        )
        rows[r["sandiao_code"]] = _SandiaoRow(
            r["sandiao_code"], r["sandiao_name"], int(r["sandiao_level"]), tmc, tr
        )
    return rows


@functools.cache
def _ydyh2020() -> dict[str, Translation]:
    table = ydyh_2023()
    raw = read_data_csv("ydyh_2020.csv")
    merged: dict[str, list[str]] = {}
    for r in raw:
        merged.setdefault(r["code_2023"], []).append(r["code"])
    out: dict[str, Translation] = {}
    for r in raw:
        old, new = r["code"], table.lookup(r["code_2023"])
        if old == new.code and r["name_zh"] == new.name_zh:
            note, note_zh = "unchanged", "代码和名称未变"
        elif old == new.code:
            note = f"renamed: {r['name_zh']} → {new.name_zh}"
            note_zh = f"更名：{r['name_zh']} → {new.name_zh}"
        else:
            note = f"recoded: {old} {r['name_zh']} → {new.code} {new.name_zh}"
            note_zh = f"改码：{old} {r['name_zh']} → {new.code} {new.name_zh}"
        others = [c for c in merged[new.code] if c != old]
        if others:
            note += f" (merged with 2020 {', '.join(others)})"
            note_zh += f"（与 2020 版 {'、'.join(others)} 合并）"
        if r["note"]:
            note += f"; {r['note']}"
            note_zh += f"；{r['note_zh']}"
        out[old] = Translation(
            old, Scheme.YDYH2020, Scheme.YDYH2023, (new.code,), "one_to_one", note, note_zh
        )
    return out


#: The ``status`` values of ``crosswalk_gb50137.csv`` in Chinese.
_GB50137_STATUS_ZH: Final[dict[str, str]] = {"unverified": "未核实"}


@functools.cache
def _gb50137() -> dict[str, Translation]:
    out: dict[str, Translation] = {}
    for r in read_data_csv("crosswalk_gb50137.csv"):
        code = r["gb50137_code"]
        target = r["same_name_ydyh_code"]
        status_zh = _GB50137_STATUS_ZH[r["status"]]
        out[code] = Translation(
            code,
            Scheme.GB50137,
            Scheme.YDYH2023,
            (target,) if target else (),
            "one_to_one" if target else "unmapped",
            f"{r['status']}: {r['note']}",
            f"{status_zh}：{r['note_zh']}",
            is_verified=False,
        )
    return out


@functools.cache
def _osm() -> dict[tuple[str, str], Translation]:
    table = ydyh_2023()
    out: dict[tuple[str, str], Translation] = {}
    for r in read_data_csv("osm_to_ydyh.csv"):
        tag, target = f"{r['key']}={r['value']}", r["ydyh_code"]
        note = f"guotu convention, unverified{': ' + r['note'] if r['note'] else ''}"
        note_zh = f"guotu 自定的对应，未经核实{'：' + r['note_zh'] if r['note_zh'] else ''}"
        if not target:
            mapping: MappingType = "unmapped"
        else:
            mapping = "to_level1" if table.lookup(target).level == 1 else "one_to_one"
        out[(r["key"], r["value"])] = Translation(
            tag,
            Scheme.OSM,
            Scheme.YDYH2023,
            (target,) if target else (),
            mapping,
            note,
            note_zh,
            is_verified=False,
        )
    return out


def translate(code: CodeLike, from_scheme: str, to_scheme: str = "ydyh2023") -> Translation:
    """Translate a code of another scheme to 用地用海 2023.

    Parameters
    ----------
    code
        The source code (normalised like :func:`~guotu.domain.codes.classification.normalize_code`;
        三调 letters are upper-cased); for ``osm`` a ``key=value`` tag.
    from_scheme
        ``ydyh2020``, ``sandiao``, ``gb50137``, ``osm`` or ``ydyh2023``.
    to_scheme
        Only ``ydyh2023`` (use :func:`find_sources` for the reverse direction).

    Raises
    ------
    InputError
        Unknown scheme, unsupported direction or a malformed OSM tag.
    NotFoundError
        A code the source table does not have (OSM tags are open-ended: an unknown tag gives
        an ``unmapped`` translation instead).

    Examples
    --------
    >>> translate("090301", "ydyh2020").targets
    ('0903',)
    >>> t = translate("08H2", "sandiao")
    >>> t.mapping_type, t.targets[:2]
    ('one_to_many', ('0801', '0802'))
    >>> translate("0305", "sandiao").targets
    ('0303',)
    >>> translate("landuse=residential", "osm").targets
    ('0701',)
    >>> translate("G1", "gb50137").is_verified
    False
    """
    source, target = parse_scheme(from_scheme), parse_scheme(to_scheme)
    if target is not Scheme.YDYH2023:
        raise InputError(
            f"Translation to {target.value!r} is not supported.",
            fix="Translate to 'ydyh2023'; for the reverse use find_sources().",
        )
    if source is Scheme.OSM:
        key, sep, value = str(code).partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(
                f"OSM tag {code!r} is not of the form key=value.",
                fix="Write the tag as key=value, e.g. landuse=residential.",
            )
        return translate_osm({key.strip(): value.strip()})
    if source is Scheme.SANDIAO:
        norm = normalize_sandiao(code)
        row = _sandiao().get(norm)
        return _found(row.translation if row else None, norm, source)
    norm = normalize_code(code)
    if source is Scheme.YDYH2023:
        found = ydyh_2023().lookup(norm)
        mapping: MappingType = "one_to_one"
        return Translation(
            found.code, source, target, (found.code,), mapping, "identity", "同一分类体系，代码不变"
        )
    if source is Scheme.YDYH2020:
        return _found(_ydyh2020().get(norm), norm, source)
    gb = str(code).strip().upper()
    return _found(_gb50137().get(gb), gb, source)


def _found(tr: Translation | None, code: str, scheme: Scheme) -> Translation:
    if tr is None:
        raise NotFoundError(
            f"Code {code!r} is not in the {scheme.value} table.",
            fix=f"Check the code; the {scheme.value} table is listed in docs/classification.md.",
        )
    return tr


def translate_osm(tags: Mapping[str, str]) -> Translation:
    """Translate an OpenStreetMap feature's tags to 用地用海 2023.

    Keys are consulted in :data:`OSM_KEY_PRIORITY` order (a function such as
    ``amenity=school`` wins over ``landuse=residential``); the first known tag decides, even
    when it is a deliberately unmapped one such as ``landuse=construction``. The mapping is
    guotu's own convention (``is_verified`` is ``False``).

    Examples
    --------
    >>> translate_osm({"landuse": "residential", "amenity": "school"}).targets
    ('0804',)
    >>> translate_osm({"landuse": "farmland"}).mapping_type
    'to_level1'
    >>> translate_osm({"shop": "bakery"}).mapping_type
    'unmapped'
    """
    table = _osm()
    for key in OSM_KEY_PRIORITY:
        value = tags.get(key)
        if value is None:
            continue
        hit = table.get((key, value.strip())) or table.get((key, "*"))
        if hit is not None:
            return Translation(
                f"{key}={value.strip()}",
                hit.from_scheme,
                hit.to_scheme,
                hit.targets,
                hit.mapping_type,
                hit.note,
                hit.note_zh,
                hit.is_verified,
            )
    shown = ";".join(f"{k}={v}" for k, v in sorted(tags.items()))
    return Translation(
        shown,
        Scheme.OSM,
        Scheme.YDYH2023,
        (),
        "unmapped",
        "no mapped OSM tag",
        "没有已对应的 OSM 标签",
        is_verified=False,
    )


def find_sources(
    ydyh_code: CodeLike, from_scheme: str, *, include_candidates: bool = False
) -> tuple[str, ...]:
    """The codes of another scheme that translate to ``ydyh_code`` (the reverse lookup).

    Parameters
    ----------
    ydyh_code
        A 2023 code (exact match of the translation target, not its sub-classes).
    from_scheme
        ``sandiao``, ``ydyh2020``, ``gb50137`` or ``osm`` (OSM answers are ``key=value``).
    include_candidates
        Also list codes for which ``ydyh_code`` is only one of several candidates.

    Examples
    --------
    >>> find_sources("1311", "sandiao")
    ('1107A', '1109')
    >>> find_sources("0903", "ydyh2020")
    ('0903', '090301', '090302')
    >>> "08H2" in find_sources("0804", "sandiao", include_candidates=True)
    True
    """
    code = ydyh_2023().lookup(ydyh_code).code
    scheme = parse_scheme(from_scheme)
    translations: list[Translation]
    if scheme is Scheme.SANDIAO:
        translations = [row.translation for row in _sandiao().values()]
    elif scheme is Scheme.YDYH2020:
        translations = list(_ydyh2020().values())
    elif scheme is Scheme.GB50137:
        translations = list(_gb50137().values())
    elif scheme is Scheme.OSM:
        translations = list(_osm().values())
    else:
        return (code,)
    kinds = {"one_to_one", "to_level1"} | ({"one_to_many"} if include_candidates else set())
    return tuple(t.source for t in translations if t.mapping_type in kinds and code in t.targets)


def sandiao_three_major_class(dlbm: CodeLike) -> ThreeMajorClass | None:
    """The legal 三大类 of a 三调 DLBM code: 农用地, 建设用地 or 未利用地.

    From the 三调 crosswalk (CCTool 三大类 table, agreeing with the GB/T 21010-2017 lists;
    ``0404 其他草地`` is 未利用地 where the tables conflict). ``None`` for a first-level group
    code other than ``09``, which is not a DLBM value.

    Examples
    --------
    >>> sandiao_three_major_class("0404"), sandiao_three_major_class("1006")
    ('未利用地', '农用地')
    >>> sandiao_three_major_class("0201k"), sandiao_three_major_class("01") is None
    ('农用地', True)
    """
    norm = normalize_sandiao(dlbm)
    row = _sandiao().get(norm)
    if row is None:
        raise NotFoundError(
            f"三调 code {norm!r} is not in the 三调 working classification.",
            fix="Check the DLBM value (K/A variants are accepted).",
        )
    return row.three_major_class


def known_three_major_class(dlbm: CodeLike | None) -> ThreeMajorClass | None:
    """:func:`sandiao_three_major_class`, but ``None`` for a blank code or one outside the 三调
    classification (the quality check reports those) instead of an error: for statistics
    over whole layers.

    Examples
    --------
    >>> known_three_major_class("0701"), known_three_major_class("XX"), known_three_major_class("")
    ('建设用地', None, None)
    """
    if dlbm is None or not str(dlbm).strip():
        return None
    try:
        return sandiao_three_major_class(dlbm)
    except NotFoundError:
        return None


@functools.cache
def _legal_classes() -> dict[str, ThreeMajorClass | None]:
    table = ydyh_2023()
    rows = [
        r
        for r in _sandiao().values()
        if r.three_major_class is not None and r.translation.mapping_type != "unmapped"
    ]

    def classes_touching(codes: set[str]) -> set[ThreeMajorClass]:
        return {
            r.three_major_class
            for r in rows
            if r.three_major_class is not None and codes & set(r.translation.targets)
        }

    out: dict[str, ThreeMajorClass | None] = {}
    for c in table:
        own = {c.code} | {a.code for a in table.ancestors(c.code)}
        own |= {d.code for d in table.descendants(c.code)}
        found = classes_touching(own)
        if not found:
            level1 = table.level1(c.code).code
            found = classes_touching({level1} | {d.code for d in table.descendants(level1)})
        out[c.code] = found.pop() if len(found) == 1 else None
    return out


def ydyh_legal_three_major_class(ydyh_code: CodeLike) -> ThreeMajorClass | None:
    """The legal 三大类 of a 2023 class, where the 三调 crosswalk determines it.

    Derived, not official: the 三大类 of every 三调 class whose translation touches this class
    (itself, a parent or a sub-class); if none does, of those touching its level-1 class. One
    answer is returned only when they all agree. ``None`` means it depends on context: mixed
    classes (1311 水工设施用地 holds 干渠 = 农用地 and 水工建筑 = 建设用地; 17 陆地水域;
    23 其他土地), classes with no 三调 counterpart (16 留白用地, 2302 后备耕地) and every sea class.

    Examples
    --------
    >>> [ydyh_legal_three_major_class(c) for c in ("0601", "0602", "2303", "1003", "2301")]
    ['农用地', '农用地', '农用地', '建设用地', '建设用地']
    >>> ydyh_legal_three_major_class("1701"), ydyh_legal_three_major_class("1311") is None
    ('未利用地', True)
    """
    return _legal_classes()[ydyh_2023().lookup(ydyh_code).code]


def sandiao_name(dlbm: CodeLike) -> str | None:
    """Name of a 三调 working-classification code (``DLBM``), or ``None`` if unknown.

    Examples
    --------
    >>> sandiao_name("0101"), sandiao_name("1104A"), sandiao_name("9999")
    ('水田', '养殖坑塘', None)
    """
    try:
        row = _sandiao().get(normalize_sandiao(dlbm))
    except (InputError, ValueError):
        return None
    return None if row is None else row.name
