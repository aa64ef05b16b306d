"""The app factory: ``create_app(settings)`` → a FastAPI app.

Routers (one module each, handlers thin over :mod:`guotu.services`):

* :mod:`guotu.web.ogc_features`: OGC API - Features (landing page, conformance, collections,
  items), Part 1 core and Part 2 CRS;
* :mod:`guotu.web.tiles`: Mapbox vector tiles and TileJSON per layer;
* :mod:`guotu.web.query`: the site query (空间码), JSON and the printable sheet;
* :mod:`guotu.web.review`: plan review runs for the web UI (``POST /review/{kind}``), with
  :mod:`guotu.web.review_jobs` (background jobs, uploaded plans) and
  :mod:`guotu.web.review_reports` (the kept reports and their downloads);
* :mod:`guotu.web.monitor`: the monitoring dashboard's data and the 体检评估 report;
* :mod:`guotu.web.ui`: the Chinese-first web map at ``/ui/`` and the monitoring dashboard at
  ``/ui/monitor`` (MapLibre and ECharts from npm, no CDN), with :mod:`guotu.web.ui_config`
  (the map's layers, extent and legends) and :mod:`guotu.web.ui_data` (用地平衡表, plans,
  version diffs);
* :mod:`guotu.web.auth`: signing in and out, ``/auth/me`` and access tokens;
  :mod:`guotu.web.auth_password` a user changing their own password (``/ui/password``);
  :mod:`guotu.web.auth_oidc` signing in through the unified identity platform (OIDC).
* :mod:`guotu.web.admin`: the sign-in page, and the administration page with the system
  administrator's data (accounts, passwords, departments); :mod:`guotu.web.admin_policies`
  the security administrator's (roles, layer policies), :mod:`guotu.web.admin_audit` the
  audit administrator's (the audit log).

Every route has an access policy in :mod:`guotu.web.route_policies` (an app with a route
missing from it is not built); the security middlewares of :mod:`guotu.web.security` find
who is asking, apply the policy, CSRF and the rate limits before any handler runs, and add the
security headers to every answer (the order is in that module's docstring).

The OpenAPI document at ``/api`` is OpenAPI 3.0 (:mod:`guotu.web.openapi30`), the version the
OGC API's ``oas30`` conformance class names, served as
``application/vnd.oai.openapi+json;version=3.0``. It is made true to the app: every route
declares the errors it answers (400 where FastAPI would say 422, 404, 503; the JSON envelope
or, under the OGC routes, the OGC exception form) and its media types, its access
control follows from the route policies and rate limits (:mod:`guotu.web.openapi_access`:
security schemes, each operation's ``security``, 401/403/429), and the OGC part
names ``limit``'s default and maximum and lists each collection's items path with its
property filters (so it is built per data version of the workspace, and cached by it).

Each request borrows an open store of the workspace from ``app.state.stores`` (a
:class:`guotu.services.workspace.StorePool`, see :func:`guotu.web.deps.open_store`): a store serves one
request at a time, is reused by the next, is closed instead when its request failed, and every
idle store is closed when the app shuts down. Caches that outlive a request live in
``app.state`` and are keyed by the data version (read by each request), so an amendment
recorded by any process never serves stale data.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
import typing
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.middleware.cors import CORSMiddleware

from guotu.domain.access.policy import Principal
from guotu.errors import NotFoundError, StoreUnavailableError
from guotu.ports import FeatureStore
from guotu.services.audit_writer import AuditWriter
from guotu.services.identity_sign_in import directory_of, hashing_of
from guotu.services.workspace import StorePool, data_version
from guotu.settings import Settings, load_settings
from guotu.web.api_page import api_html
from guotu.web.deps import Who, open_store
from guotu.web.errors import install_error_handlers, is_ogc_path, routes_of
from guotu.web.limits import BodyLimit, RateLimit
from guotu.web.route_policies import require_declared
from guotu.web.security import (
    CSRF_HEADER,
    Authenticate,
    Gate,
    SecurityHeaders,
    enforce_route_policy,
)

__all__ = ["api_html", "create_app", "open_store"]

log = logging.getLogger(__name__)


#: What a date or date-time query parameter must look like (OpenAPI ``format: date`` /
#: ``date-time``; a date-time may leave out its offset, UTC, or be a bare date, midnight).
#: Pydantic alone would also read a number as a Unix time (``as_of=0`` as 1970-01-01).
_DATE_TEXT = {
    date: re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    datetime: re.compile(
        r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
        r"([Zz]|[+-]\d{2}:?\d{2})?)?$"
    ),
}


def _date_kind(annotation: Any) -> type[date] | None:
    kinds = typing.get_args(annotation) or (annotation,)
    return next((k for k in (datetime, date) if k in kinds), None)


def _strict_dates(request: Request) -> None:
    """App-wide dependency: every date or date-time query parameter of the route is written as
    such (RFC 3339), else 400 like any invalid parameter."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    errors = []
    for field in getattr(dependant, "query_params", ()):
        kind = _date_kind(field.field_info.annotation)
        raw = request.query_params.get(field.alias) if kind else None
        if kind and raw is not None and not _DATE_TEXT[kind].match(raw):
            errors.append(
                {
                    "type": "date_parsing" if kind is date else "datetime_parsing",
                    "loc": ("query", field.alias),
                    "input": raw,
                    "msg": f"Input should be a valid {kind.__name__} (RFC 3339)",
                }
            )
    if errors:
        raise RequestValidationError(errors)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.stores.start()
    app.state.audit_writer.start()
    try:
        yield
    finally:
        app.state.audit_writer.close()  # what is left is written before the stores close
        app.state.stores.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (default :func:`guotu.settings.load_settings`).

    Examples
    --------
    >>> app = create_app(Settings(workspace="demo_county.gpkg"))
    >>> app.title
    'guotu 国土空间规划一张图'
    """
    from guotu.web import (
        admin,
        admin_audit,
        admin_policies,
        approvals,
        auth,
        auth_oidc,
        auth_password,
        monitor,
        ogc_features,
        query,
        review,
        review_jobs,
        review_reports,
        tiles,
        ui,
        ui_config,
        ui_data,
    )
    from guotu.web.ogc_format import OPENAPI
    from guotu.web.openapi30 import as_openapi30, declare_errors
    from guotu.web.openapi_access import declare_access

    settings = settings or load_settings()
    app = FastAPI(
        title="guotu 国土空间规划一张图",
        version="1",
        description="OGC API - Features, vector tiles and site query of a guotu workspace.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=_lifespan,
        dependencies=[Depends(enforce_route_policy), Depends(_strict_dates)],
    )
    app.state.settings = settings
    app.state.stores = StorePool(settings.workspace)
    app.state.audit_writer = AuditWriter(app.state.stores.borrow)
    app.state.directory = directory_of(settings)
    app.state.hashing = hashing_of(settings)
    app.state.oidc = auth_oidc.oidc_of(settings)
    install_error_handlers(app)
    _install_security(app, settings)
    app.include_router(ogc_features.router)
    app.include_router(tiles.router)
    app.include_router(query.router)
    app.include_router(review.router)
    app.include_router(review_reports.router)
    app.include_router(review_jobs.router)
    app.include_router(monitor.router)
    app.include_router(approvals.router)
    app.include_router(ui.router)
    app.include_router(ui_config.router)
    app.include_router(ui_data.router)
    app.include_router(auth.router)
    app.include_router(auth_password.router)
    app.include_router(auth_oidc.router)
    app.include_router(admin.router)
    app.include_router(admin_policies.router)
    app.include_router(admin_audit.router)
    default_openapi = app.openapi

    routes_document: list[dict[str, Any]] = []

    def routes_openapi() -> dict[str, Any]:
        """The routes' document in OpenAPI 3.0 with their error responses and access
        control (a copy)."""
        if not routes_document:
            doc = declare_errors(
                as_openapi30(default_openapi()), _reading_workspace(app), is_ogc_path
            )
            routes_document.append(declare_access(doc, auth=settings.auth, is_ogc=is_ogc_path))
        return copy.deepcopy(routes_document[0])

    def openapi30() -> dict[str, Any]:
        """The document without the workspace's collections (``/api`` adds them)."""
        if app.openapi_schema is None:
            app.openapi_schema = ogc_features.openapi_document(routes_openapi(), None, settings)
        return app.openapi_schema

    app.openapi = openapi30  # type: ignore[method-assign]
    documents: dict[str, bytes] = {}
    lock = threading.Lock()

    def document(store: FeatureStore, principal: Principal) -> bytes:
        # per data version and per principal: the collections and fields a user may not
        # read are neither listed nor named (permissions come from roles or a token's scopes)
        who = (principal.username, principal.roles, principal.department, principal.regions)
        key = f"{data_version(store)}|{who!r}|{sorted(principal.permissions)!r}"
        with lock:
            body = documents.get(key)
        if body is None:
            doc = ogc_features.openapi_document(routes_openapi(), store, settings, principal)
            body = _json_bytes(doc)
            with lock:
                if len(documents) > 64:
                    documents.clear()
                documents[key] = body
        return body

    @app.get("/api", include_in_schema=False)
    def api_document(principal: Who) -> Response:
        """The OpenAPI 3.0 document with the workspace's collections (cached per data
        version); without them while the workspace cannot be opened (its routes say why)."""
        try:
            with app.state.stores.borrow() as store:
                body = document(store, principal)
        except (NotFoundError, StoreUnavailableError) as exc:
            log.warning("/api without collections: %s", exc)
            body = _json_bytes(app.openapi())
        return Response(body, media_type=OPENAPI)

    @app.get("/api.html", include_in_schema=False)
    def api_page(principal: Who, lang: str = "zh") -> HTMLResponse:
        """The API's routes as one self-contained page, Chinese first (``lang=en``: English
        first), with the workspace's collections when it can be opened (FastAPI's Swagger UI
        loads its scripts from a CDN, which a government intranet cannot reach)."""
        try:
            with app.state.stores.borrow() as store:
                doc = json.loads(document(store, principal))
        except (NotFoundError, StoreUnavailableError) as exc:
            log.warning("/api.html without collections: %s", exc)
            doc = app.openapi()
        return HTMLResponse(api_html(doc, "en" if lang == "en" else "zh"))

    require_declared(app)
    return app


def _install_security(app: FastAPI, settings: Settings) -> None:
    """The middlewares, outermost first: security headers (around Starlette's own error
    handler too), CORS when origins are allowed, who is asking, the route policy with CSRF,
    the rate limits (not with ``auth = none``: one local user), the body limit (see
    :mod:`guotu.web.security`)."""
    app.add_middleware(BodyLimit, max_bytes=int(settings.max_upload_mb * 1024 * 1024))
    if settings.auth != "none":  # one local user has nobody to be protected from
        app.add_middleware(
            RateLimit,
            sign_ins_per_minute=settings.sign_ins_per_minute,
            uploads_per_minute=settings.uploads_per_minute,
        )
    app.add_middleware(Gate, settings=settings)
    app.add_middleware(Authenticate, settings=settings)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", CSRF_HEADER],
            allow_credentials=True,
        )
    build = app.build_middleware_stack

    def with_headers() -> Any:
        return SecurityHeaders(build())

    app.build_middleware_stack = with_headers  # type: ignore[method-assign]


def _json_bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _reading_workspace(app: FastAPI) -> set[tuple[str, str]]:
    """The ``(path, METHOD)`` of every route that borrows a store of the workspace."""

    def borrows(dependant: Any) -> bool:
        return any(d.call is open_store or borrows(d) for d in dependant.dependencies)

    return {
        (route.path_format, method)
        for route in routes_of(app)
        if getattr(route, "dependant", None) is not None and borrows(route.dependant)
        for method in route.methods or ()
    }
