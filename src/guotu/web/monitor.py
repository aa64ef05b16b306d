"""Implementation monitoring over HTTP: the dashboard's data and the 体检评估 report.

* ``GET /monitor/indicators.json?as_of=…&lang=…``: ``guotu monitor indicators --json``. The app
  keeps one :class:`~guotu.services.monitoring.IndicatorEngine`, so after an amendment only
  what changed is read again.
* ``GET /monitor/cases.json?as_of=…&known_at=…``: ``guotu monitor cases --json`` plus ``map``,
  the cases in lon/lat (class, severity, status) for the dashboard map: the patches seen by
  ``as_of``, the projects approved by then and the cases' status on that date.
* ``GET /monitor/consolidation.json?as_of=…&known_at=…``: ``guotu monitor consolidation
  --json`` as of that date (surveys, projects and their progress as reported by then;
  ``null`` parts become a ``note`` when the workspace lacks the layers).
* ``GET /monitor/report.{html,pdf,xlsx}``: the 体检评估 report.

Targets and statistics are the workspace's tables ``targets`` and ``statistics`` (``guotu
monitor targets|statistics import``), in force on the request's ``as_of``; the server's
settings ``monitor_targets`` and ``monitor_statistics`` (CSV/XLSX paths; ``guotu serve
--targets``, ``GUOTU_MONITOR_TARGETS`` …) override them for the whole server. A request never
names a file; the JSON says which source was used (``inputs``, file names without their
folders).

What a user sees is bounded by what they may read: an indicator computed from a layer of a
role they may not read whole (a 受限 layer not granted to them, or one that shows them their
own 行政区 only) is shown without its figures (``withheld``); the cases and the consolidation
ledger, read from such a layer, answer a ``note`` instead. The report (a download) needs the
export permission likewise, and its exports of 受限 layers are audited.
"""

from __future__ import annotations

import os
import tempfile
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from guotu.domain.access.policy import Action, Principal
from guotu.errors import NotFoundError
from guotu.ports import FeatureStore
from guotu.services.access import access_for, record_restricted_read
from guotu.services.features import lonlat_collection
from guotu.services.monitoring import IndicatorEngine
from guotu.services.monitoring_inputs import (
    Statistics,
    Targets,
    inputs_to_dict,
    load_catalogue,
    load_inputs,
)
from guotu.services.monitoring_report import (
    CASE_ROLES,
    CONSOLIDATION_ROLES,
    WITHHELD_NOTE,
    checkup_document,
    indicator_report,
    withheld_indicators,
)
from guotu.settings import Settings
from guotu.web.deps import Who, open_store

__all__ = ["router"]

router = APIRouter(tags=["monitoring 实施监测"])
_LOCK = threading.Lock()
Store = Annotated[FeatureStore, Depends(open_store)]
AsOf = Annotated[date | None, Query(description="Date of the values (default today)")]
KnownAt = Annotated[
    datetime | None, Query(description="Record time: the data as recorded then (UTC; default now)")
]
Lang = Annotated[str, Query(pattern="^(zh|en)$")]


def _identity(workspace: str) -> Any:
    """Which workspace file the engine's state belongs to: a replaced GeoPackage (``guotu
    demo --force``) is another file, even under the same name."""
    if "://" in workspace or workspace.startswith("env:"):
        return workspace
    try:
        st = os.stat(workspace)
    except OSError:
        return workspace
    return (st.st_dev, st.st_ino)


def _inputs(
    request: Request, store: FeatureStore, as_of: date | None
) -> tuple[Any, Targets, Statistics]:
    """The catalogue (read once per app) and the targets and statistics of a request: the
    settings' files if given, else the workspace's tables in force on ``as_of``. Call with
    ``_LOCK`` held."""
    state = request.app.state
    settings: Settings = state.settings
    cat = getattr(state, "monitor_catalogue", None)
    if cat is None:
        cat = state.monitor_catalogue = load_catalogue()
    identity = _identity(settings.workspace)
    if getattr(state, "monitor_identity", None) != identity:
        # a new workspace file: its version ids mean other things
        state.monitor_identity = identity
        state.monitor_engine = None
        state.monitor_tables = {}
    tgt, stats = load_inputs(
        store,
        cat,
        targets_file=settings.monitor_targets or None,
        statistics_file=settings.monitor_statistics or None,
        as_of=as_of,
        cache=state.monitor_tables,
    )
    return cat, tgt, stats


def _blocked(store: FeatureStore, who: Principal, action: Action = Action.READ) -> set[str]:
    """The roles of the layers ``who`` may not ``action`` whole: figures read from a layer of
    one of them are not shown."""
    access = access_for(store, who)
    return {i.role for i in store.layers() if not access.is_whole(i.name, action)}


def _note(lang: str) -> str:
    return WITHHELD_NOTE[0] if lang == "zh" else WITHHELD_NOTE[1]


def _sources(doc: dict[str, Any], tgt: Targets, stats: Statistics) -> dict[str, Any]:
    """``doc`` saying where its targets and statistics came from, without server folders."""
    doc["inputs"] = inputs_to_dict(tgt, stats, bare_names=True)
    for key, table in (("targets", tgt), ("statistics", stats)):
        if table.origin is not None and table.origin.origin == "file":
            doc[key] = Path(table.source).name
    return doc


@router.get("/monitor/indicators.json", summary="Monitoring indicators with series")
def get_indicators(
    request: Request,
    store: Store,
    who: Who,
    as_of: AsOf = None,
    first_year: Annotated[int | None, Query(ge=1949, le=2100)] = None,
    lang: Lang = "zh",
) -> dict[str, Any]:
    """Every indicator as of ``as_of`` with its year-end series, target, status, forecast;
    ``inputs`` says which targets and statistics were used. One computed from a layer the
    user may not read whole has no figures (``withheld``)."""
    state = request.app.state
    blocked = _blocked(store, who)
    with _LOCK:  # one engine per app, used by one request at a time
        cat, tgt, stats = _inputs(request, store, as_of)
        engine: IndicatorEngine | None = getattr(state, "monitor_engine", None)
        if engine is None:
            engine = IndicatorEngine(store, cat, targets=tgt, statistics=stats)
            state.monitor_engine = engine
        engine.store = store
        engine.targets, engine.statistics = tgt, stats  # the same objects: the memo holds
        report = indicator_report(store, cat, as_of=as_of, first_year=first_year, engine=engine)
        doc = report.to_dict(lang, withheld_indicators(cat, blocked))
        return _sources(doc, tgt, stats)


def _lonlat_features(cases: Any, crs: Any) -> dict[str, Any]:
    """The cases with a geometry, in lon/lat, with what the dashboard map colours them by."""
    drawn = [
        (k + 1, c)
        for k, c in enumerate(cases)
        if c.geometry is not None and not shapely.is_empty(c.geometry)
    ]
    props = []
    for _k, c in drawn:
        d = c.to_dict()
        props.append(
            {
                key: d[key]
                for key in ("tbbh", "class", "class_name", "severity", "status", "area_m2")
            }
        )
    return lonlat_collection(
        [c.geometry for _k, c in drawn], props, crs, ids=[k for k, _c in drawn]
    )


@router.get("/monitor/cases.json", summary="Change patches as monitoring cases")
def get_cases(
    store: Store, who: Who, as_of: AsOf = None, known_at: KnownAt = None, lang: Lang = "zh"
) -> dict[str, Any]:
    """The cases (see ``guotu monitor cases``) as of ``as_of`` with ``map`` in lon/lat; a
    ``note`` and no case when they are read from a layer the user may not read whole."""
    from guotu.services.cases import classify_patches

    if _blocked(store, who) & CASE_ROLES:
        day = as_of or date.today()
        return {
            "as_of": day.isoformat(),
            "note": _note(lang),
            "withheld": True,
            "summary": {"by_class": {}, "by_status": {}},
            "notes": [_note(lang)],
            "cases": [],
            "map": {"type": "FeatureCollection", "features": []},
        }
    report = classify_patches(store, as_of=as_of, known_at=_utc(known_at))
    doc = report.to_dict(lang)
    doc["map"] = _lonlat_features(report.cases, store.crs)
    return doc


@router.get("/monitor/consolidation.json", summary="Land consolidation and the farmland ledger")
def get_consolidation(
    store: Store, who: Who, as_of: AsOf = None, known_at: KnownAt = None, lang: Lang = "zh"
) -> dict[str, Any]:
    """``guotu monitor consolidation --json`` as of ``as_of``; ``{"note": …}`` when it cannot
    be made, or is read from a layer the user may not read whole."""
    from guotu.services.consolidation import consolidation_report

    if _blocked(store, who) & CONSOLIDATION_ROLES:
        return {"note": _note(lang), "ledger": [], "projects": [], "warnings": [], "notes": []}
    try:
        return consolidation_report(store, as_of=as_of, known_at=_utc(known_at)).to_dict(lang)
    except NotFoundError as exc:
        return {"note": exc.render(lang), "ledger": [], "projects": [], "warnings": [], "notes": []}


def _utc(moment: datetime | None) -> datetime | None:
    """A record time as the store keeps them: naive UTC (an offset-less one is UTC)."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


_REPORTS = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/monitor/report.{fmt}", summary="The 体检评估 report", response_class=Response)
def get_report(
    request: Request, store: Store, who: Who, fmt: str, as_of: AsOf = None, lang: Lang = "zh"
) -> Response:
    """The check-up report as HTML, PDF or XLSX, with the figures read from layers the user
    may export whole (the others say why they are left out).

    Raises
    ------
    NotFoundError
        Another format.
    """
    if fmt not in _REPORTS:
        raise NotFoundError(
            f"No report format {fmt!r}.",
            fix="Use .html, .pdf or .xlsx.",
            message_zh=f"没有 {fmt!r} 格式的报告。",
            fix_zh="请用 .html、.pdf 或 .xlsx。",
        )
    from guotu.io.monitor_pdf import render_monitor_pdf  # reportlab loads only here
    from guotu.io.monitor_report import render_monitor_html, write_monitor_xlsx

    with _LOCK:
        cat, tgt, stats = _inputs(request, store, as_of)
    blocked = _blocked(store, who, Action.EXPORT)
    doc = checkup_document(
        store, cat, as_of=as_of, targets=tgt, statistics=stats, lang=lang, blocked_roles=blocked
    )
    address = request.client.host if request.client is not None else ""
    access = access_for(store, who)
    for info in store.layers():
        if info.role not in blocked:
            what = f"checkup-report.{fmt}"
            record_restricted_read(store, access, info.name, what, address, action=Action.EXPORT)
    doc["workspace"] = Path(str(doc["workspace"])).name
    _sources(doc["indicators"], tgt, stats)
    if fmt == "html":
        return HTMLResponse(render_monitor_html(doc))
    if fmt == "pdf":
        body = render_monitor_pdf(doc)
    else:
        with tempfile.TemporaryDirectory(prefix="guotu-monitor-") as tmp:
            path = Path(tmp) / "report.xlsx"
            write_monitor_xlsx(doc, path)
            body = path.read_bytes()
    name = f"checkup-{doc['as_of']}.{fmt}"
    return Response(
        body,
        media_type=_REPORTS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
