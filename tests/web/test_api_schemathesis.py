"""The served OpenAPI document is true: schemathesis (property-based, from ``/api``) calls every
route in process with generated valid and invalid requests and checks each answer against the
document (status codes, media types, headers, bodies, 405 with ``Allow``, valid data accepted,
invalid data refused).

The run is bounded (a fixed number of examples per operation, deterministic, no shrinking)
so it takes well under a minute on 2 cores. Two kinds of request are left out:

* ``POST /review/{kind}`` and ``POST /review/{kind}/jobs`` run whole plan reviews (seconds
  each, jobs on a worker thread); ``tests/web/test_review_jobs.py`` covers them;
* ``POST /auth/sign-in``: this app runs without sign-in (``auth = none``, the default), so
  every sign-in, valid or not, is refused (400); ``tests/web/test_security.py`` signs in;
* the web UI's page routes are not part of the API (``include_in_schema=False``) anyway.

With ``auth = none`` the document declares no security scheme and no 401: the routes the
local user may not call (an access token's, an administrator's) answer the 403 they declare
(``tests/web/test_openapi_access.py`` checks the document with sign-in on).

What OpenAPI 3.0 cannot state is supplied to the positive (schema-valid) cases by one hook,
and said here: a bbox has its lower corner first; a tile's x and y lie in the zoom's grid
(0 … 2^z - 1); a site-query polygon is a valid GeoJSON polygon, and a point is checked for
plausibility only in the workspace CRS. And one rule of OGC API - Features Part 1 contradicts
a generic check: a ``limit`` above the declared maximum is clamped, not refused
(Requirement 22 C), so such a request is not held against ``negative_data_rejection``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import schemathesis
import shapely
from pyproj import CRS
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status
from schemathesis.engine import events as engine_events

from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.model import PlanLevel, PlanType
from guotu.services.importing import import_file
from guotu.settings import Settings
from guotu.store.geopackage import GeoPackageStore
from guotu.web.app import create_app

GK = CRS.from_epsg(4527)
X0, Y0 = 39_540_000.0, 4_052_000.0
MAX_ITEMS = 50
#: A valid square in the workspace CRS, for positive site queries.
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[X0, Y0], [X0 + 50, Y0], [X0 + 50, Y0 + 50], [X0, Y0 + 50], [X0, Y0]]],
}
#: Routes that run whole plan reviews (covered by test_review_jobs.py).
SLOW = r"^/review/\{kind\}(/jobs)?$"
#: Signing in: refused whatever is sent with auth = none (covered by test_security.py).
SIGN_IN = "/auth/sign-in"

CONFIG = {
    "generation": {
        "mode": "all",
        "max-examples": 12,
        "deterministic": True,
        "no-shrink": True,
        "database": "none",
    },
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
    "checks": {"enabled": True},
}


def _import(
    store: GeoPackageStore,
    tmp: Path,
    name: str,
    role: str,
    frame: gpd.GeoDataFrame,
    version: VersionSpec | None = None,
) -> None:
    path = tmp / f"src_{name}_{version.label if version else 'x'}.gpkg"
    frame.to_file(path, layer=name)
    import_file(store, path, role=role, layer=name, version=version)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """GHYD in two versions of a master plan, and one XZQ, in EPSG:4527."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    path = tmp / "ws.gpkg"
    with GeoPackageStore.open(path, create=True) as store:
        store.create_plan("总规", level=PlanLevel.COUNTY, type=PlanType.MASTER)
        for label, start, n in (("2021版", date(2021, 1, 1), 5), ("2024修改", date(2024, 6, 1), 3)):
            frame = gpd.GeoDataFrame(
                {
                    "BSM": [f"{label}-{i}" for i in range(n)],
                    "YDYHFLDM": ["0703"] * n,
                    "MJ": [10_000.0 + i for i in range(n)],
                },
                geometry=[
                    shapely.box(X0 + 100 * i, Y0, X0 + 100 * (i + 1), Y0 + 100) for i in range(n)
                ],
                crs=GK,
            )
            _import(
                store,
                tmp,
                "GHYD",
                "planned_land_use",
                frame,
                VersionSpec("总规", label, valid_from=start),
            )
        _import(
            store,
            tmp,
            "XZQ",
            "admin_boundary",
            gpd.GeoDataFrame(
                {"XZQDM": ["370999"]}, geometry=[shapely.box(X0, Y0, X0 + 500, Y0 + 100)], crs=GK
            ),
        )
    return path


def _is_positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode.is_positive


def _ordered_bbox(value: Any) -> Any:
    """A bbox with its lower corner first (four or six numbers, list or text)."""
    text = isinstance(value, str)
    try:
        numbers = [float(v) for v in (value.split(",") if text else value)]
    except (TypeError, ValueError):
        return value
    half = len(numbers) // 2
    if len(numbers) not in (4, 6):
        return value
    low = [min(a, b) for a, b in zip(numbers[:half], numbers[half:], strict=True)]
    high = [max(a, b) for a, b in zip(numbers[:half], numbers[half:], strict=True)]
    return ",".join(map(repr, low + high)) if text else low + high


def map_case(context: Any, case: Any) -> Any:
    """Positive cases only: the constraints OpenAPI 3.0 cannot state (module docstring)."""
    if not _is_positive(case):
        return case
    path = case.operation.path
    query = case.query if isinstance(case.query, dict) else None
    if query and "bbox" in query:
        query["bbox"] = _ordered_bbox(query["bbox"])
    if path.startswith("/tiles/") and path.endswith(".mvt") and case.path_parameters:
        z = int(case.path_parameters.get("z", 0))
        for axis in ("x", "y"):
            if axis in case.path_parameters:
                case.path_parameters[axis] = int(case.path_parameters[axis]) % 2**z
    if path.startswith("/query") and query is not None:
        query.pop("crs", None)
        if "polygon" in query:
            query["polygon"] = json.dumps(SQUARE)
        if case.method.upper() == "POST":
            case.body = SQUARE
    return case


def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but this one: a ``limit`` above the declared maximum accepted
    (clamped, as OGC API - Features Part 1 Requirement 22 C asks)."""
    limit = case.query.get("limit") if isinstance(case.query, dict) else None
    try:
        clamped = int(str(limit)) > MAX_ITEMS
    except ValueError:
        clamped = False
    return not (clamped and type(failure).__name__ == "AcceptedNegativeData")


def _failures(events: Any) -> list[str]:
    """One line per distinct failure (operation, check, message) and per engine error."""
    found: dict[str, str] = {}
    for event in events:
        if isinstance(event, engine_events.NonFatalError):
            found[f"{event.label}: error"] = f"{event.label}: {event.value!r}"
        if not isinstance(event, engine_events.ScenarioFinished):
            continue
        for nodes in event.recorder.checks.values():
            for node in nodes:
                info = node.failure_info
                if info is None:
                    continue
                title = getattr(info.failure, "title", node.name)
                message = str(getattr(info.failure, "message", "")).splitlines()[:2]
                key = f"{event.recorder.label}: {title}: {' '.join(message)}"
                found.setdefault(key, f"{key}\n    {info.code_sample}")
    return sorted(found.values())


def test_the_api_document_is_true(workspace: Path) -> None:
    app = create_app(
        Settings(workspace=str(workspace), max_items_limit=MAX_ITEMS, default_items_limit=5)
    )
    schema = (
        schemathesis.openapi.from_asgi("/api", app, config=SchemathesisConfig.from_dict(CONFIG))
        .exclude(method="POST", path_regex=SLOW)
        .exclude(method="POST", path=SIGN_IN)
    )
    schema.hook(map_case)
    schema.hook(filter_failure)
    events = list(schemathesis.engine.from_schema(schema).execute())
    tested = {
        e.recorder.label
        for e in events
        if isinstance(e, engine_events.ScenarioFinished) and e.status is not Status.SKIP
    }
    assert len(tested) >= 25, sorted(tested)  # every route of the document, and per collection
    failures = _failures(events)
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)
