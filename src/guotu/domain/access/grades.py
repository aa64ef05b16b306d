"""How open a layer is (开放等级): 公开 < 内部 < 受限.

The three grades follow the way the one map shares data across departments (分级开放): what
is 公开 may be shown to anyone, including the public; 内部 to signed-in staff of the bureau and
the departments it shares with; 受限 (永久基本农田 parcels with owners, 自然资源确权 data …)
only to the roles and departments its policy names. A layer with no grade recorded is 内部:
nothing becomes public by omission.
"""

from __future__ import annotations

from enum import StrEnum

from guotu.errors import ConfigError

__all__ = ["DEFAULT_GRADE", "Grade"]


class Grade(StrEnum):
    """A layer's open grade, ordered ``public < internal < restricted``."""

    PUBLIC = "public"
    INTERNAL = "internal"
    RESTRICTED = "restricted"

    @property
    def rank(self) -> int:
        """0 for 公开, 1 for 内部, 2 for 受限."""
        return _ORDER.index(self)

    @property
    def name_zh(self) -> str:
        """公开, 内部 or 受限."""
        return _ZH[self]

    @classmethod
    def parse(cls, value: str) -> Grade:
        """The grade called ``value`` (``public``/``公开`` …); :class:`ConfigError` lists them.

        Examples
        --------
        >>> Grade.parse("受限"), Grade.parse("Public").rank
        (<Grade.RESTRICTED: 'restricted'>, 0)
        """
        text = value.strip()
        for grade, zh in _ZH.items():
            if text.lower() == grade.value or text == zh:
                return grade
        raise ConfigError(
            f"Unknown open grade {value!r}.",
            fix="Use public, internal or restricted.",
            message_zh=f"没有“{value}”这一开放等级。",
            fix_zh="请用 公开（public）、内部（internal）或 受限（restricted）。",
        )


_ORDER = (Grade.PUBLIC, Grade.INTERNAL, Grade.RESTRICTED)
_ZH = {Grade.PUBLIC: "公开", Grade.INTERNAL: "内部", Grade.RESTRICTED: "受限"}

#: The grade of a layer whose grade was never recorded.
DEFAULT_GRADE = Grade.INTERNAL
