"""The plan review gives the same findings on every store (memory, GeoPackage, PostGIS)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guotu.services.review import ReviewOptions, review_plan

from ..services.test_review import AS_OF, EXPECTED, build, ell


def test_review_on_every_backend(store: Any, tmp_path: Path) -> None:
    build(store, tmp_path)
    report = review_plan(store, "master-plan", options=ReviewOptions(as_of=AS_OF))
    got = [f for f in report.findings if f.rule != "data.code_valid"]
    assert [(f.rule, f.features[0].id_value, f.severity.value) for f in got] == [
        (r, b, s) for r, b, _, _, _, s in EXPECTED
    ]
    for f, (_, _, _, geom, _, _) in zip(got, EXPECTED, strict=True):
        assert f.area_m2 == pytest.approx(ell(geom), abs=0.01)
