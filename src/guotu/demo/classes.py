"""Which land-use codes each zone of the demo county gets, and their names.

Every zone class has a weighted list of 用地用海 (2023) codes for the plan (GHYD) and of 三调
codes (DLBM) for the current survey (DLTB). The lists keep the background free of conflicts:
no construction code (用地用海 06–16) inside a red line or on permanent farmland, and urban
construction (07 except 0703, 08–11, 1207, 13, 14) only inside the development boundary.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from guotu.domain.codes import crosswalks
from guotu.domain.codes.classification import ydyh_2023

__all__ = [
    "DLTB_CODES",
    "GHYD_CODES",
    "XXGHDK_CODES",
    "ZoneClass",
    "draw_codes",
    "sandiao_name",
    "ydyh_name",
]


class ZoneClass:
    """Names of the zone classes (plain strings, used as array values)."""

    RED = "redline"  # 生态保护红线
    ECO = "mountain"  # mountain region outside the red lines
    RIVER = "river"
    UDB01 = "udb01"  # 城镇集中建设区
    UDB02 = "udb02"  # 城镇弹性发展区
    UDB03 = "udb03"  # 特别用途区
    FARM = "farmland"  # 永久基本农田
    VILLAGE = "village"
    PLAIN = "plain"  # general farmland and countryside


#: 用地用海 codes of the master plan by zone class, with weights.
GHYD_CODES: dict[str, tuple[tuple[str, float], ...]] = {
    ZoneClass.RED: (("0301", 0.55), ("0303", 0.2), ("0304", 0.1), ("0403", 0.1), ("2307", 0.05)),
    ZoneClass.ECO: (
        ("0301", 0.45),
        ("0303", 0.15),
        ("0201", 0.15),
        ("0205", 0.05),
        ("0403", 0.15),
        ("0304", 0.05),
    ),
    ZoneClass.RIVER: (("1701", 1.0),),
    ZoneClass.UDB01: (
        ("070102", 0.3),
        ("0702", 0.04),
        ("0801", 0.03),
        ("080403", 0.04),
        ("0806", 0.02),
        ("090101", 0.08),
        ("0902", 0.04),
        ("100101", 0.12),
        ("1101", 0.04),
        ("1207", 0.12),
        ("1303", 0.01),
        ("1401", 0.07),
        ("1402", 0.04),
        ("1403", 0.01),
        ("16", 0.04),
    ),
    ZoneClass.UDB02: (("0103", 0.5), ("0102", 0.2), ("16", 0.2), ("0301", 0.1)),
    ZoneClass.UDB03: (("1401", 0.5), ("1402", 0.3), ("0301", 0.2)),
    ZoneClass.VILLAGE: (("0703", 0.8), ("0704", 0.08), ("060101", 0.12)),
    ZoneClass.PLAIN: (
        ("0103", 0.5),
        ("0102", 0.2),
        ("0201", 0.1),
        ("1704", 0.04),
        ("1705", 0.04),
        ("060102", 0.05),
        ("060201", 0.03),
        ("0301", 0.04),
    ),
    # permanent farmland takes the code of its block (0101/0102/0103), see county.py
}

#: 三调 DLBM codes of the current survey by zone class, with weights.
DLTB_CODES: dict[str, tuple[tuple[str, float], ...]] = {
    ZoneClass.RED: (("0301", 0.6), ("0305", 0.2), ("0307", 0.1), ("0404", 0.05), ("1207", 0.05)),
    ZoneClass.ECO: (("0301", 0.45), ("0305", 0.15), ("0201", 0.15), ("0404", 0.15), ("0307", 0.1)),
    ZoneClass.RIVER: (("1101", 0.9), ("1106", 0.1)),
    ZoneClass.UDB01: (
        ("0701", 0.3),
        ("05H1", 0.1),
        ("0601", 0.12),
        ("08H2", 0.05),
        ("08H1", 0.03),
        ("1004", 0.12),
        ("0810", 0.05),
        ("0103", 0.18),
        ("1201", 0.05),
    ),
    ZoneClass.UDB02: (("0103", 0.7), ("0102", 0.2), ("0301", 0.1)),
    ZoneClass.UDB03: (("0810", 0.4), ("0301", 0.4), ("0404", 0.2)),
    ZoneClass.VILLAGE: (("0702", 0.8), ("1004", 0.12), ("08H1", 0.03), ("1201", 0.05)),
    ZoneClass.PLAIN: (
        ("0103", 0.5),
        ("0102", 0.2),
        ("0201", 0.1),
        ("1104", 0.04),
        ("1107", 0.04),
        ("1006", 0.06),
        ("1202", 0.02),
        ("0301", 0.04),
    ),
}

#: 用地用海 codes of detailed-plan parcels, with weights.
XXGHDK_CODES: tuple[tuple[str, float], ...] = (
    ("070102", 0.34),
    ("0702", 0.05),
    ("0801", 0.03),
    ("080403", 0.05),
    ("0806", 0.02),
    ("090101", 0.09),
    ("0902", 0.05),
    ("100101", 0.12),
    ("1101", 0.04),
    ("1207", 0.08),
    ("1303", 0.01),
    ("1401", 0.07),
    ("1402", 0.03),
    ("16", 0.01),
)


def draw_codes(
    table: tuple[tuple[str, float], ...], n: int, rng: np.random.Generator
) -> npt.NDArray[np.str_]:
    """``n`` codes drawn from a weighted table.

    Examples
    --------
    >>> draw_codes((("0101", 1.0),), 2, np.random.default_rng(0)).tolist()
    ['0101', '0101']
    """
    codes = np.array([c for c, _ in table])
    weights = np.array([w for _, w in table], dtype=np.float64)
    return codes[rng.choice(len(codes), size=n, p=weights / weights.sum())]


def ydyh_name(code: str) -> str:
    """Name of a 用地用海 2023 code (empty if unknown).

    Examples
    --------
    >>> ydyh_name("0703")
    '农村宅基地'
    """
    entry = ydyh_2023().get(code)
    return "" if entry is None else entry.name_zh


def sandiao_name(code: str) -> str:
    """Name of a 三调 DLBM code (empty if unknown).

    Examples
    --------
    >>> sandiao_name("0103")
    '旱地'
    """
    return crosswalks.sandiao_name(code) or ""
