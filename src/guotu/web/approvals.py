"""Approval cases over HTTP (多审合一、一窗通办): the window's intake, the 待办 lists, a case as
of any moment, recording what each person did, materials, the issued documents and the
statistics; and the public verification page of an issued document.

* ``GET /cases/procedures.json``: the procedures (stages, who acts, deadlines, materials).
* ``GET /cases.json?box=todo|done|overdue|open|all``: the signed-in user's list.
* ``POST /cases``: intake (一窗受理) — JSON: procedure, applicant, project, location, the site
  as a GeoJSON geometry in lon/lat (drawn on the map), application date, indicators.
* ``GET /cases/{case_id}.json?as_of=…``: the case as of a moment (default now), the site in
  lon/lat, each stage's clock, opinions, the automatic review, materials and documents, and
  what the asking user may do now.
* ``POST /cases/{case_id}/events``: an outcome, opinion, 补正 pause or resume, or a note.
* ``POST /cases/{case_id}/files``: a material (multipart: ``material``, ``file``).
* ``GET /cases/{case_id}/files/{n}``: a material or an issued document, as kept.
* ``GET /cases/stats.json``: cases by stage, working days per stage, overdue by department.
* ``GET /verify/{token}`` and ``/verify/{token}.json``: anyone checks an issued document.

Who may do what is decided by the services (:mod:`guotu.domain.workflow.acting`); every route's
policy is in :mod:`guotu.web.route_policies`.
"""

from __future__ import annotations

import dataclasses
import html
import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

import numpy as np
import shapely
import shapely.geometry
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from guotu.domain.workflow.acting import waiting_for
from guotu.domain.workflow.definition import Workflow
from guotu.errors import InputError, NotFoundError, TooLargeError
from guotu.io.workflows import shipped_workflows, workflow_by_id
from guotu.ports import FeatureStore
from guotu.services.approval_documents import verify_document
from guotu.services.approval_setup import ApprovalSetup, setup_from_settings
from guotu.services.approval_views import CaseView, case_view, require_case_reader, statistics, todo
from guotu.services.approvals import Act, Application, act, attach_material, intake
from guotu.services.features import CRS84, to_output_crs
from guotu.services.site_parsing import parse_polygon
from guotu.web.deps import Who, open_store

__all__ = ["router"]

router = APIRouter(tags=["approval 审批"])
Store = Annotated[FeatureStore, Depends(open_store)]


def _setup(request: Request) -> ApprovalSetup:
    setup: ApprovalSetup | None = getattr(request.app.state, "approvals", None)
    if setup is None:
        setup = setup_from_settings(request.app.state.settings)
        request.app.state.approvals = setup
    if not setup.base_url:
        setup = dataclasses.replace(setup, base_url=str(request.base_url).rstrip("/"))
    return setup


Setup = Annotated[ApprovalSetup, Depends(_setup)]


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _to_lonlat(store: FeatureStore, wkt: str) -> Any:
    """A site kept in the workspace CRS as a GeoJSON geometry in lon/lat (for the map)."""
    geom = shapely.from_wkt(wkt)
    if store.crs is not None:
        geom = to_output_crs(np.array([geom]), store.crs, CRS84)[0]
    return json.loads(shapely.to_geojson(geom))


def _from_lonlat(request: Request, store: FeatureStore, site: SiteGeometry) -> Any:
    """A site drawn on the map (lon/lat) in the workspace CRS, read as the site query reads
    a polygon (checked, at most ``max_query_vertices`` vertices)."""
    doc = site.model_dump()
    if store.crs is None:
        return shapely.geometry.shape(doc)
    limit = request.app.state.settings.max_query_vertices
    found = parse_polygon(doc, "OGC:CRS84", store.crs, max_vertices=limit).geometry
    x0, y0, x1, y1 = shapely.bounds(shapely.geometry.shape(doc))
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise InputError(
            "The site must be given in longitude/latitude (WGS 84).",
            field="site",
            message_zh="用地范围须以经纬度（WGS 84）给出。",
            fix_zh="请在地图上绘制，或把坐标转换为经纬度后再提交。",
        )
    return found


def _procedure(flow: Workflow) -> dict[str, Any]:
    return {
        "id": flow.id,
        "name_zh": flow.name_zh,
        "name_en": flow.name_en,
        "start": flow.start,
        "legal_basis": [dataclasses.asdict(b) for b in flow.legal_basis],
        "stages": [
            {
                "id": s.id,
                "name_zh": s.name_zh,
                "name_en": s.name_en,
                "kind": s.kind,
                "role": s.role,
                "department": s.department,
                "departments": list(s.departments),
                "parallel": s.parallel,
                "deadline_working_days": s.deadline_working_days,
                "outcomes": dict(s.outcomes),
                "issues": s.issues,
                "materials": [dataclasses.asdict(m) for m in s.materials],
                "legal_basis": [dataclasses.asdict(b) for b in s.legal_basis],
            }
            for s in flow.stages.values()
        ],
    }


@router.get("/cases/procedures.json", summary="审批流程")
def procedures(request: Request, who: Who, setup: Setup) -> dict[str, Any]:
    """The procedures a case may be accepted under (shipped, and the bureau's profiles)."""
    require_case_reader(who)
    ids = list(shipped_workflows())
    if setup.profiles_dir is not None and setup.profiles_dir.is_dir():
        ids += sorted(p.stem for p in setup.profiles_dir.glob("*.yaml"))
    return {"procedures": [_procedure(workflow_by_id(i, setup.profiles_dir)) for i in ids]}


def _status(s: Any) -> dict[str, Any]:
    return {
        "case_id": s.case_id,
        "workflow": s.workflow,
        "stage": s.stage,
        "stage_kind": s.stage_kind,
        "entered_at": s.entered_at.isoformat(),
        "due_on": None if s.due_on is None else s.due_on.isoformat(),
        "paused": s.paused,
        "closed": s.closed,
        "waiting": list(s.waiting),
        "events": s.events,
        "project": s.project,
        "applicant": s.applicant,
        "department": s.department,
        "created_at": s.created_at.isoformat(),
        "outcome": s.outcome,
        "updated_at": None if s.updated_at is None else s.updated_at.isoformat(),
    }


@router.get("/cases.json", summary="案件列表（待办/已办/督办）")
def cases(
    who: Who,
    store: Store,
    box: Annotated[str, Query(pattern="^(todo|done|overdue|open|all)$")] = "todo",
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> Response:
    """The signed-in user's cases: 待办 (waiting for them), 已办 (they acted on), 督办
    (overdue), open or all."""
    rows = todo(store, who, box=box, limit=limit)
    names = {d.id: d.name for d in store.departments()}
    body = {
        "box": box,
        "departments": names,
        "cases": [_status(s) for s in rows],
    }
    # the rows are plain JSON already: no encoder pass over a few hundred of them
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")


class SiteGeometry(BaseModel):
    """A site drawn on the map or read from a file: a GeoJSON polygon in lon/lat."""

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any] = Field(min_length=1)


class IntakeBody(BaseModel):
    """An application taken in at the window."""

    procedure: str = Field(max_length=100)
    applicant: str = Field(max_length=200)
    project: str = Field(max_length=300)
    location: str = Field(default="", max_length=300)
    site: SiteGeometry
    application_date: date
    indicators: dict[str, str | float | int | None] = Field(default_factory=dict, max_length=50)
    contact: str = Field(default="", max_length=200)
    public: bool = True
    accept: bool = True


@router.post("/cases", status_code=201, summary="一窗受理")
def new_case(
    body: IntakeBody, request: Request, who: Who, store: Store, setup: Setup
) -> dict[str, Any]:
    """Take in an application; with ``accept`` the automatic review runs at once."""
    site = _from_lonlat(request, store, body.site)
    app = Application(
        body.procedure,
        body.applicant,
        body.project,
        body.location,
        site,
        body.application_date,
        {k: v for k, v in body.indicators.items() if v not in (None, "")},
        body.contact,
        body.public,
    )
    case, _ = intake(store, app, who, setup, accept=body.accept, address=_address(request))
    return _view(store, case_view(store, case.id, who, setup), who)


def _clock(c: Any) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "state": c.state,
        "used": c.used,
        "limit": c.limit,
        "left": c.left,
        "due": None if c.due is None else c.due.isoformat(),
        "late": c.late,
        "provisional": c.provisional,
    }


def _may(view: CaseView, who: Any) -> list[str]:
    from guotu.domain.workflow.acting import check_may_act
    from guotu.errors import PermissionDeniedError

    stage = view.flow.stages[view.state.stage]
    out = []
    for kind in ("outcome", "opinion", "pause", "resume", "amend"):
        try:
            check_may_act(
                view.flow, stage, who, kind, opinions=view.state.opinions, closed=view.state.closed
            )
        except PermissionDeniedError:
            continue
        if kind == "opinion" and (who.department in view.state.opinions):
            continue
        if (kind == "pause" and view.state.paused) or (kind == "resume" and not view.state.paused):
            continue
        out.append(kind)
    return out


def _view(store: FeatureStore, view: CaseView, who: Any) -> dict[str, Any]:
    c = view.case
    stage = view.flow.stages[view.state.stage]
    names = {d.id: d.name for d in store.departments()}
    return {
        "id": c.id,
        "as_of": view.as_of.isoformat(timespec="seconds"),
        "procedure": {
            "id": view.flow.id,
            "name_zh": view.flow.name_zh,
            "name_en": view.flow.name_en,
        },
        "applicant": c.applicant,
        "project": c.project,
        "location": c.location,
        "application_date": c.application_date.isoformat(),
        "created_at": c.created_at.isoformat(),
        "created_by": c.created_by,
        "public": c.public,
        "site_area_m2": round(c.site_area_m2, 2),
        "site": _to_lonlat(store, c.site_wkt),
        "indicators": c.detail.get("indicators", {}),
        "stage": {
            "id": stage.id,
            "name_zh": stage.name_zh,
            "kind": stage.kind,
            "outcomes": list(stage.outcomes),
            "departments": [{"id": d, "name": names.get(d, d)} for d in stage.departments],
            "role": stage.role,
            "department": stage.department,
            "materials": [dataclasses.asdict(m) for m in stage.materials],
        },
        "closed": view.state.closed,
        "paused": view.state.paused,
        "opinions": dict(view.state.opinions),
        "waiting": list(waiting_for(stage, view.state.opinions, view.state.closed)),
        "department_names": names,
        "stages": [
            {
                "stage": s.stage,
                "name_zh": s.name_zh,
                "kind": s.kind,
                "entered": s.entered.isoformat(),
                "left": None if s.left is None else s.left.isoformat(),
                "outcome": s.outcome,
                "clock": _clock(s.clock),
            }
            for s in view.stages
        ],
        "events": [
            {
                "seq": e.seq,
                "at": e.event.at.isoformat(),
                "kind": e.event.kind,
                "value": e.event.value,
                "department": e.event.department,
                "department_name": names.get(e.event.department, e.event.department),
                "actor": e.event.actor,
                "note": e.event.note,
                "detail": dict(e.detail),
            }
            for e in view.events
        ],
        "files": [
            {
                "n": f.seq,
                "material": f.material,
                "filename": f.filename,
                "size": f.size,
                "sha256": f.sha256,
                "uploaded_by": f.uploaded_by,
            }
            for f in view.files
        ],
        "may": _may(view, who),
        "events_count": len(view.events),
    }


@router.get("/cases/stats.json", summary="审批统计")
def stats(
    who: Who, store: Store, procedure: Annotated[str | None, Query(max_length=100)] = None
) -> dict[str, Any]:
    """Cases by stage, working days per stage (mean, 90th percentile), overdue by department."""
    figures = statistics(store, who, workflow=procedure)
    return figures | {"departments": {d.id: d.name for d in store.departments()}}


@router.get("/cases/{case_id}.json", summary="案件详情（可回溯到任一时刻）")
def show_case(
    case_id: str,
    who: Who,
    store: Store,
    setup: Setup,
    as_of: Annotated[
        datetime | None, Query(description="The case as it stood then (default now)")
    ] = None,
) -> dict[str, Any]:
    """A case as of a moment."""
    moment = None if as_of is None else as_of.replace(tzinfo=None)
    return _view(store, case_view(store, case_id, who, setup, as_of=moment), who)


class EventBody(BaseModel):
    """What a person records on a case."""

    kind: str = Field(pattern="^(outcome|opinion|pause|resume|amend|note)$")
    value: str = Field(default="", max_length=40)
    note: str = Field(default="", max_length=2000)
    conditions: list[str] = Field(default_factory=list, max_length=30)
    expected: int | None = Field(default=None, ge=0)
    indicators: dict[str, str | float | int | None] = Field(default_factory=dict, max_length=50)
    site: SiteGeometry | None = None


@router.post("/cases/{case_id}/events", summary="办理（意见、结论、补正）")
def record(
    case_id: str, body: EventBody, request: Request, who: Who, store: Store, setup: Setup
) -> dict[str, Any]:
    """Record an outcome, an opinion, a 补正 pause or resume, the window's correction of the
    application (``amend``: indicators, a site in lon/lat), or a note; the case as it is then
    (the automatic steps it led to done)."""
    action = Act(
        body.kind,
        body.value,
        body.note,
        tuple(c for c in body.conditions if c.strip()),
        body.expected,
        body.indicators if body.kind == "amend" else {},
        None
        if body.site is None or body.kind != "amend"
        else _from_lonlat(request, store, body.site),
    )
    act(store, case_id, action, who, setup, address=_address(request))
    return _view(store, case_view(store, case_id, who, setup), who)


_MAX_FILE_MB = 50.0


@router.post("/cases/{case_id}/files", status_code=201, summary="提交材料")
async def upload(
    case_id: str,
    request: Request,
    who: Who,
    store: Store,
    setup: Setup,
    material: Annotated[str, Form(min_length=1, max_length=100)],
    file: Annotated[UploadFile, File()],
) -> dict[str, Any]:
    """Keep a material the procedure asks for."""
    limit = min(_MAX_FILE_MB, float(request.app.state.settings.max_upload_mb))
    content = await file.read(int(limit * 1024 * 1024) + 1)
    if len(content) > limit * 1024 * 1024:
        raise TooLargeError(
            f"The file is larger than {limit:g} MB.",
            message_zh=f"材料文件超过 {limit:g} MB。",
            fix_zh="请压缩或拆分后再提交。",
        )
    kept = attach_material(
        store,
        case_id,
        material,
        file.filename or "",
        content,
        who,
        setup,
        media_type=file.content_type or "application/octet-stream",
        address=_address(request),
    )
    return {"n": kept.seq, "material": kept.material, "filename": kept.filename, "size": kept.size}


@router.get("/cases/{case_id}/files/{n}", summary="下载材料或决定文书")
def download(case_id: str, n: int, who: Who, store: Store, setup: Setup) -> Response:
    """A material or issued document of a case, as kept."""
    view = case_view(store, case_id, who, setup)
    f = next((f for f in view.files if f.seq == n), None)
    content = None if f is None else store.approval_file_content(f.sha256)
    if f is None or content is None:
        raise NotFoundError(
            f"Case {case_id} has no file {n}.",
            message_zh=f"案件 {case_id} 没有第 {n} 个材料。",
            fix_zh="请从案件页面的材料列表下载。",
        )
    from urllib.parse import quote

    return Response(
        content,
        media_type=f.media_type
        if f.media_type == "application/pdf"
        else "application/octet-stream",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(f.filename)}"},
    )


#: A verification id as issued (``secrets.token_urlsafe``).
Token = Annotated[str, PathParam(pattern="^[A-Za-z0-9_-]{1,64}$")]


@router.get("/verify/{token}.json", summary="文书核验（公开）")
def verify_json(token: Token, store: Store) -> dict[str, Any]:
    """What anyone may know of an issued document."""
    return verify_document(store, token)


_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;color:#222}}
h1{{font-size:1.3em}} .ok{{color:#0a6b2d}} .no{{color:#a11}} th{{text-align:left;padding-right:1em;
font-weight:normal;color:#555}} td,th{{padding:.3em 0}}</style></head><body>{body}</body></html>"""


_HTML = {"text/html": {"schema": {"type": "string"}}}


@router.get(
    "/verify/{token}",
    response_class=HTMLResponse,
    summary="文书核验页面（公开）",
    responses={
        404: {"description": "No document has this id (a page saying so).", "content": _HTML}
    },
)
def verify_page(token: Token, store: Store) -> HTMLResponse:
    """The page the QR code on an issued document opens."""
    try:
        shown = verify_document(store, token)
    except NotFoundError:
        body = '<h1 class="no">查无此文书</h1><p>该验证码不存在：文书可能不是本机关核发的，请向发证机关核实。</p>'
        return HTMLResponse(_PAGE.format(title="文书核验", body=body), status_code=404)
    rows = [("文书编号", shown["serial"])]
    labels = (("title", "文书"), ("project", "项目名称"), ("applicant", "申请单位"), ("location", "位置"),
              ("issued_on", "核发日期"), ("site_area_m2", "用地面积（平方米）"))  # fmt: skip
    rows += [(zh, shown[k]) for k, zh in labels if k in shown]
    table = "".join(
        f"<tr><th>{html.escape(a)}</th><td>{html.escape(str(b))}</td></tr>" for a, b in rows
    )
    note = "" if shown["public"] else "<p>该文书的内容不公开，此处仅证明编号真实有效。</p>"
    body = f'<h1 class="ok">✔ 文书真实有效</h1><table>{table}</table>{note}'
    return HTMLResponse(_PAGE.format(title=f"文书核验 {html.escape(shown['serial'])}", body=body))
