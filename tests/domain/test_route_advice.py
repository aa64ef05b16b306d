"""A route finding's suggestion: the legal wording comes from the rule pack (``args.advice``),
the operator itself only states facts (the detour's length, or why none was found)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import CRS

from guotu.domain.core.findings import Severity
from guotu.domain.core.layers import LayerData
from guotu.domain.review.evaluate import ReviewContext
from guotu.domain.review.operators import OPERATORS
from guotu.domain.review.pack import LegalBasis, Rule, RulePack

GK = CRS.from_epsg(4527)
X0, Y0 = 39_500_000.0, 3_400_000.0


def _layer(name: str, role: str, *geoms: Any) -> LayerData:
    return LayerData(
        name,
        role,
        GK,
        np.arange(1, len(geoms) + 1, dtype=np.int64),
        np.array(geoms, dtype=object),
        {"KD": np.array([10.0] * len(geoms), dtype=object)},
    )


def _review(args: dict[str, Any], route: Any) -> tuple[str, str]:
    rule = Rule(
        "special.route.test",
        "线位穿越红线",
        "Route through the red line",
        LegalBasis("《测试办法》", "第一条"),
        ("special-plan",),
        "route_conflict",
        Severity.ERROR,
        "{feature}穿越 {zone}",
        "{feature} crosses {zone}",
        suggestion_zh="{detour_zh}",
        suggestion_en="{detour_en}",
        zone_role="ecological_redline",
        args={"width_field": "KD", "departure_m": 100.0, **args},
    )
    pack = RulePack("test", "1", "测试", "test", (rule,))
    # a 200 m × 200 m red line the 1 km route crosses in the middle
    zone = shapely.box(X0 + 400, Y0 - 100, X0 + 600, Y0 + 100)
    context = ReviewContext(
        _layer("线位", "special_plan", route),
        [_layer("红线", "ecological_redline", zone)],
        GK,
        pack,
    )
    (finding,) = OPERATORS.get("route_conflict")(rule, context)
    return finding.suggestion_zh, finding.suggestion_en


ROUTE = shapely.LineString([(X0, Y0), (X0 + 1000, Y0)])


def test_without_advice_the_suggestion_states_the_detour_only() -> None:
    zh, en = _review({"corridor_m": 500.0}, ROUTE)
    assert zh.startswith("建议改线避让：绕行线位长 ")
    assert "不可避让" not in zh and "provincial" not in en
    # the detour passes the 200 m box above or below: at least the straight legs to its
    # corners (2·√(400² + 100²) + 200 − 1,000 = 24.6 m longer), at most round its rectangle
    extra = float(zh.split("比原线位增加 ")[1].split(" m")[0])
    assert 2 * (400**2 + 100**2) ** 0.5 + 200 - 1000 <= extra <= 400.0


def test_the_packs_advice_is_filled_with_the_detour_facts() -> None:
    advice = {
        "found": {
            "zh": "绕行增加 {extra_length_m:.0f} 米；依法论证。",
            "en": "+{extra_length_m:.0f} m",
        },
        "not_found": {"zh": "{detour_reason_zh}；依法论证。", "en": "{detour_reason_en}"},
        "not_tried": {"zh": "依法避让。", "en": "Avoid it."},
    }
    zh, en = _review({"corridor_m": 500.0, "advice": advice}, ROUTE)
    assert zh.startswith("绕行增加 ") and zh.endswith(" 米；依法论证。")
    assert en.startswith("+") and en.endswith(" m")
    zh, en = _review({"detour": False, "advice": advice}, ROUTE)
    assert (zh, en) == ("依法避让。", "Avoid it.")


@pytest.mark.parametrize("advice", [None, {"found": "not a mapping"}])
def test_no_or_malformed_advice_falls_back_to_the_facts(advice: Any) -> None:
    args = {"detour": False} if advice is None else {"detour": False, "advice": advice}
    zh, en = _review(args, ROUTE)
    assert (zh, en) == (
        "调整线位或形态避让该区域。",
        "Move or reshape the route to avoid the zone.",
    )
