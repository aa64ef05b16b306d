"""A land-use code named in the classification of its own layer (:func:`name_code`).

三调 for a 现状地类图斑 layer, 用地用海 2023 for a planned one: the 用地平衡表, the diff and its
reports all call it, so ``05H1`` is 商业服务业设施用地 under 05 商业服务业用地 there, never 05 湿地.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from guotu.domain.codes.classification import ISSUE_LABELS, code_label, ydyh_2023
from guotu.domain.codes.crosswalks import Scheme, normalize_sandiao, sandiao_name

__all__ = ["CODE_SCHEMES", "CodeName", "name_code"]


#: The classifications a layer's codes follow (``StandardField.code_scheme``) → their names
#: (zh, en).
CODE_SCHEMES: Final[dict[str, tuple[str, str]]] = {
    Scheme.YDYH2023.value: ("用地用海分类（2023）", "Land and sea use classification (2023)"),
    Scheme.SANDIAO.value: ("三调工作分类", "Third national land survey classification"),
}


@dataclass(frozen=True, slots=True)
class CodeName:
    """A land-use code named by the classification of its own layer (:func:`name_code`).

    Attributes
    ----------
    code
        The code as given.
    name_zh, name_en
        Its class name; ``None`` for a code the classification does not have (the 三调 table
        has no English names: ``name_en`` is ``None`` there too).
    level1, level1_name_zh, level1_name_en
        Its level-1 class (an unknown code is its own level-1 group, as in the 用地平衡表).
    levels
        The code and its ancestors, level 1 first (``("07", "0701", "070101")``); an unknown
        code is only itself, so it never swells a real class.
    """

    code: str
    name_zh: str | None
    name_en: str | None
    level1: str
    level1_name_zh: str | None
    level1_name_en: str | None
    levels: tuple[str, ...]
    scheme: str | None = None

    def label(self, lang: str = "zh") -> str:
        """What a table calls the code in ``lang``: its class name, else what it is (for
        用地用海 codes :func:`~guotu.domain.codes.classification.code_label`: retired, not in the
        table, malformed), so a code is called the same in 质检, the 用地平衡表 and a diff.

        Examples
        --------
        >>> name_code("05H1", "sandiao").label("en"), name_code("090301", "ydyh2023").label()
        ('商业服务业设施用地', '已废止的分类代码（2020 试行版）')
        """
        if self.name_zh is not None:
            return self.name_zh if lang == "zh" else self.name_en or self.name_zh
        zh, en = (
            code_label(self.code) if self.scheme == Scheme.YDYH2023 else ISSUE_LABELS["unknown"]
        )
        return zh if lang == "zh" else en

    def text(self, lang: str = "zh") -> str:
        """The code with its :meth:`label`: ``0103 旱地``.

        Examples
        --------
        >>> name_code("0103", "sandiao").text()
        '0103 旱地'
        """
        return f"{self.code} {self.label(lang)}"

    def to_dict(self) -> dict[str, str | None]:
        """JSON-ready dict (without the code and its levels)."""
        return {
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "level1": self.level1,
            "level1_name_zh": self.level1_name_zh,
            "level1_name_en": self.level1_name_en,
        }


def name_code(code: str, scheme: str | None) -> CodeName:
    """Name ``code`` in the classification ``scheme`` (``ydyh2023`` or ``sandiao``, the
    ``code_scheme`` of the layer's code field), with its level-1 class and levels.

    用地用海 codes roll up by their 2/4/6 digits; 三调 codes by their first two characters
    (level 1) and the code (level 2, so 0201K 可调整果园 stays its own class). A code the
    classification does not have, or any code of another or no scheme, is unnamed and its own
    level-1 group.

    Examples
    --------
    >>> c = name_code("05H1", "sandiao")
    >>> c.name_zh, c.level1_name_zh, c.levels
    ('商业服务业设施用地', '商业服务业用地', ('05', '05H1'))
    >>> c = name_code("070101", "ydyh2023")
    >>> c.level1_name_zh, c.levels
    ('居住用地', ('07', '0701', '070101'))
    >>> name_code("0999", "ydyh2023").name_zh is None, name_code("0999", "ydyh2023").levels
    (True, ('0999',))
    """
    if scheme == Scheme.SANDIAO:
        name = sandiao_name(code)
        if name is not None:
            norm = normalize_sandiao(code)
            groups: tuple[str, ...] = (norm[:2], norm) if len(norm) > 2 else (norm,)
            return CodeName(
                code, name, None, norm[:2], sandiao_name(norm[:2]), None, groups, scheme
            )
    elif scheme == Scheme.YDYH2023:
        table = ydyh_2023()
        entry = table.get(code)
        if entry is not None:
            top = table.level1(entry.code)
            levels = tuple(entry.code[:k] for k in (2, 4, 6) if k <= len(entry.code))
            return CodeName(
                code,
                entry.name_zh,
                entry.name_en,
                top.code,
                top.name_zh,
                top.name_en,
                levels,
                scheme,
            )
    return CodeName(code, None, None, code, None, None, (code,), scheme)
