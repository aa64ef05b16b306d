"""Land-use compatibility for 传导 checks: which detailed uses a master-plan use admits.

The table is data of the rule pack (``tables.use_compatibility``): a master-plan code prefix
→ the detailed-plan code prefixes it admits. A detailed code is always compatible with a
code on its own branch of the 用地用海 tree (``070102`` under ``07`` or ``0701``, and ``07``
over ``070102``); the table adds the other admitted classes. The master-plan code is looked
up by its longest prefix present in the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["allowed_prefixes", "is_compatible", "nearest_compatible"]

Table = Mapping[str, Sequence[str]]


def allowed_prefixes(master: str, table: Table | None) -> tuple[str, ...]:
    """Detailed-plan code prefixes ``master`` admits (its own code first).

    Examples
    --------
    >>> allowed_prefixes("0701", {"07": ["07", "08", "14"]})
    ('0701', '07', '08', '14')
    """
    own: tuple[str, ...] = (master,)
    if not table:
        return own
    for n in range(len(master), 0, -1):
        key = master[:n]
        if key in table:
            return own + tuple(str(p) for p in table[key] if str(p) != master)
    return own


def is_compatible(detail: str, master: str, table: Table | None) -> bool:
    """Whether a detailed-plan code may lie on a master-plan code.

    Examples
    --------
    >>> t = {"07": ["07", "08", "14"], "14": ["14"]}
    >>> is_compatible("070102", "0701", t), is_compatible("0801", "0701", t)
    (True, True)
    >>> is_compatible("100101", "1401", t), is_compatible("07", "070102", t)
    (False, True)
    """
    if detail.startswith(master) or master.startswith(detail):
        return True
    return any(detail.startswith(p) for p in allowed_prefixes(master, table))


def nearest_compatible(detail: str, master: str, table: Table | None) -> str:
    """The admitted code prefix closest to ``detail`` (longest shared prefix; ties go to the
    master-plan code itself), for suggestions.

    Examples
    --------
    >>> nearest_compatible("100101", "1401", {"14": ["14", "12", "13"]})
    '1401'
    >>> nearest_compatible("0902", "0701", {"07": ["07", "09"]})
    '09'
    """
    best, best_len = master, _shared(detail, master)
    for p in allowed_prefixes(master, table)[1:]:
        n = _shared(detail, p)
        if n > best_len:
            best, best_len = p, n
    return best


def _shared(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    # a prefix shared only in the first digit of a level-1 code says nothing
    return n if n >= 2 else 0
