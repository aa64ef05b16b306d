"""Plan review (成果审查) over HTTP, for the web UI and scripts.

* ``POST /review/{kind}?as_of=…&known_at=…&rules=…&profile=…&lang=…``: review the workspace's
  layer of ``kind`` (``master-plan``, ``detailed-plan``, ``special-plan``, ``project``) or a
  recorded plan version (``source=PLAN@LABEL``) with a bundled rule pack; the answer is the
  ``guotu review --json`` document plus ``report_id``, ``links`` to the report downloads and
  ``map``, the findings as a GeoJSON FeatureCollection in CRS84 for web maps.
* ``POST /review/{kind}/jobs`` (multipart): the same review as a background job, of the
  workspace layer or of an uploaded plan (``file``: a zipped Shapefile or FileGDB, GeoPackage,
  GeoJSON or FlatGeobuf; for ``indicators`` the CSV/XLSX indicator table; ``table``: an
  attribute table joined to the plan, as ``guotu import --table``). Answers 202 with the job's
  ``id`` and its ``monitor`` link.
* ``GET /review/jobs/{id}``: the job's ``status`` (queued, running, done, failed), its
  ``progress`` (the rule being run, rules done, rule count) and, when done, the ``result``
  (the document of ``POST /review/{kind}``) or the ``error``.
* ``GET /review/reports/{report_id}.{html,pdf,xlsx}``: the report of that run, written by the
  same writers as ``guotu review --html/--pdf/--xlsx``. HTML and PDF are served inline (the
  browser opens them; its own save keeps the file name), XLSX as a download.

A review reads only the layers its user may read whole (others are left out as if absent;
``restricted_layers_omitted`` says so, never which). A report download needs export on every
layer it read (one holding an unreadable layer is not found, as an expired one; 403 without
export); a job is its starter's only. Exports of 受限 layers are audited.

Files on the server are never read from a request: ``source`` is only a recorded version and
``rules``/``profile`` only a built-in id; an upload is written into a temporary folder of its
own within the limits of :mod:`guotu.services.uploads` and removed when its review ends. Jobs
run one at a time on a worker thread, each with its own store. The last few reports and jobs
are kept in memory (``app.state``); an expired ``report_id`` answers 404 and the fix is to run
the review again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import tempfile
import threading
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from guotu.domain.access.policy import Principal
from guotu.domain.review.pack import KINDS
from guotu.errors import ConfigError, GuotuError, NotFoundError
from guotu.io.review_report import write_review_html, write_review_pdf, write_review_xlsx
from guotu.ports import FeatureStore
from guotu.services.access import access_for, require_export, whole_layers
from guotu.services.features import lonlat_collection
from guotu.services.review import ReviewOptions, ReviewReport, review_plan
from guotu.services.review_output import review_document, review_json
from guotu.services.review_source import (
    VERSION_REF,
    ImportOptions,
    ReviewSource,
    SourceFile,
    parse_review_source,
)
from guotu.services.rule_packs import load_rule_pack
from guotu.services.uploads import UploadLimits, find_dataset, save_upload, unpack_zip
from guotu.services.workspace import open_workspace
from guotu.settings import Settings
from guotu.web.deps import Who, open_store
from guotu.web.errors import scrub_text

__all__ = ["JOBS_KEPT", "REPORTS_KEPT", "router"]

log = logging.getLogger(__name__)

#: How many review reports the app keeps for download (oldest dropped first).
REPORTS_KEPT = 8
#: How many finished review jobs the app remembers (oldest dropped first).
JOBS_KEPT = 32
#: Job states that hold a slot of ``review_jobs_queued``.
_ACTIVE = ("receiving", "queued", "running")
#: Review kinds that run on the workspace alone (``indicators`` needs an uploaded table).
WORKSPACE_KINDS = tuple(k for k in KINDS if k != "indicators")

router = APIRouter(tags=["plan review 成果审查"])
_LOCK = threading.Lock()

Store = Annotated[FeatureStore, Depends(open_store)]
#: The kinds a review of the workspace runs; an upload (``/jobs``) may be ``indicators`` too.
Kind = Annotated[
    str,
    PathParam(
        description="Plan kind of the review.", json_schema_extra={"enum": list(WORKSPACE_KINDS)}
    ),
]
JobKind = Annotated[
    str,
    PathParam(
        description="Plan kind of the review (indicators needs the uploaded table).",
        json_schema_extra={"enum": list(KINDS)},
    ),
]
#: Report and job ids are 16 hexadecimal digits.
HexId = Annotated[str, PathParam(json_schema_extra={"pattern": "^[0-9a-f]{16}$"})]
_ERRORS: dict[int | str, Any] = {
    400: {"description": "A kind, rule pack or source the web review cannot run."},
    404: {"description": "A recorded version or a file inside the upload is not there."},
}
_FORMATS = {
    "html": ("text/html; charset=utf-8", write_review_html),
    "pdf": ("application/pdf", write_review_pdf),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        write_review_xlsx,
    ),
}
#: Formats a browser shows itself: served inline, so the link opens them.
_INLINE = ("html", "pdf")


def _state_dict(state: Any, name: str) -> OrderedDict[str, Any]:
    with _LOCK:
        found: OrderedDict[str, Any] | None = getattr(state, name, None)
        if found is None:
            found = OrderedDict()
            setattr(state, name, found)
    return found


def _reports(request: Request) -> OrderedDict[str, tuple[ReviewReport, str]]:
    return _state_dict(request.app.state, "review_reports")


def _check_kind(kind: str, source: str | None, *, has_file: bool = False) -> None:
    """Refuse kinds and sources a web review cannot run."""
    if kind not in KINDS or (kind not in WORKSPACE_KINDS and not has_file):
        raise ConfigError(
            f"Review kind {kind!r} cannot run over HTTP on the workspace alone.",
            fix=f"Use one of: {', '.join(WORKSPACE_KINDS)}; indicators needs "
            "the indicator table uploaded (POST /review/indicators/jobs).",
            message_zh=f"审查类型 {kind!r} 不能仅凭工作空间在网页上运行。",
            fix_zh=f"请使用：{'、'.join(WORKSPACE_KINDS)}；指标审查需上传规划指标表。",
        )
    if source is not None and not VERSION_REF.match(source):
        raise ConfigError(
            "source must be a recorded plan version PLAN@LABEL.",
            fix="Upload the file instead (POST /review/KIND/jobs with file=…).",
            message_zh="source 只能是已登记的规划版本 PLAN@LABEL。",
            fix_zh="文件请通过上传提交审查。",
        )


def _builtin(name: str | None, what: str) -> str | None:
    """Refuse anything but a built-in rule pack or profile id (no server paths)."""
    if name is None:
        return None
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(
            f"{what} must be a built-in id such as cn-base, not {name!r}.",
            fix="Run a review of your own pack file with `guotu review`.",
            message_zh=f"{what} 只能是内置规则包编号（如 cn-base），不能是 {name!r}。",
            fix_zh="自定义规则包文件请用命令行 guotu review 审查。",
        )
    return name


def _map(doc: dict[str, Any], report: ReviewReport) -> dict[str, Any]:
    """The findings as a CRS84 FeatureCollection (``n`` = 1-based finding number)."""
    drawn = [
        (n, f, out)
        for n, (f, out) in enumerate(zip(report.findings, doc["findings"], strict=True), start=1)
        if f.geometry is not None and not f.geometry.is_empty
    ]
    return lonlat_collection(
        [f.geometry for _n, f, _out in drawn],
        [
            {"n": n, "rule": out["rule"], "severity": out["severity"], "title": out["title"]}
            for n, _f, out in drawn
        ],
        report.crs,
        ids=[n for n, _f, _out in drawn],
    )


@router.post(
    "/review/{kind}", summary="Review the workspace's plan of a kind (成果审查)", responses=_ERRORS
)
def post_review(
    request: Request,
    store: Store,
    who: Who,
    kind: Kind,
    source: Annotated[
        str | None,
        Query(description="A recorded version PLAN@LABEL (default: the workspace layer)"),
    ] = None,
    rules: Annotated[str, Query(description="Built-in rule pack id")] = "cn-base",
    profile: Annotated[str | None, Query(description="Built-in profile id")] = None,
    as_of: Annotated[date | None, Query(description="Plans in force on this date")] = None,
    known_at: Annotated[datetime | None, Query(description="Record time (UTC)")] = None,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
) -> dict[str, Any]:
    """Run the review and answer the ``--json`` document with ``report_id``, ``links``, ``map``.

    Raises
    ------
    ConfigError
        An unknown kind, ``indicators`` (needs a table), or a pack that is not built in.
    """
    _check_kind(kind, source)
    pack = load_rule_pack(_builtin(rules, "rules") or "cn-base", _builtin(profile, "profile"))
    subject = parse_review_source(source, kind=kind, files_allowed=False)
    options = ReviewOptions(
        pack=pack, as_of=as_of, known_at=known_at, readable=whole_layers(store, who)
    )
    report = review_plan(store, kind, subject, options)
    return _publish(request.app.state, report, lang)


def _publish(state: Any, report: ReviewReport, lang: str) -> dict[str, Any]:
    """The ``--json`` document of ``report`` with ``report_id``, ``links`` and ``map``; the
    report is kept for download. The workspace is named by its file name only (a response
    never shows a server path or a database URL)."""
    where = report.workspace
    shown = "PostGIS" if "://" in where or where.startswith("env:") else Path(where).name
    report = dataclasses.replace(report, workspace=shown)
    doc = review_json(report, lang)
    stamp = repr(
        (report.kind, report.source, doc["stamp"], lang, [f["message"] for f in doc["findings"]])
    )
    report_id = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    reports: OrderedDict[str, tuple[ReviewReport, str]] = _state_dict(state, "review_reports")
    with _LOCK:
        reports[report_id] = (report, lang)
        reports.move_to_end(report_id)
        while len(reports) > REPORTS_KEPT:
            reports.popitem(last=False)
    doc["report_id"] = report_id
    doc["links"] = [
        {
            "rel": "alternate",
            "type": media,
            "title": fmt.upper(),
            "href": f"/review/reports/{report_id}.{fmt}",
        }
        for fmt, (media, _) in _FORMATS.items()
    ]
    doc["map"] = _map(doc, report)
    return doc


@router.get(
    "/review/reports/{report_id}.{fmt}",
    summary="A review report (HTML, PDF or XLSX)",
    response_class=Response,
    responses={
        200: {
            "description": "The report.",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media, _write in _FORMATS.values()
            },
        },
        404: {"description": "An unknown format, or a report no longer kept."},
    },
)
def get_report(
    request: Request,
    store: Store,
    who: Who,
    report_id: HexId,
    fmt: Annotated[str, PathParam(json_schema_extra={"enum": list(_FORMATS)})],
) -> Response:
    """The HTML page (inline), PDF (inline) or XLSX workbook (a download) of a review run
    by ``POST /review/{kind}`` (export needed on every layer it read).

    Raises
    ------
    NotFoundError
        An unknown format, a report no longer kept (run the review again) or holding a
        layer the user may not read (the same answer); 403 without export on one.
    """
    if fmt not in _FORMATS:
        raise NotFoundError(
            f"No report format {fmt!r}.",
            fix="Use .html, .pdf or .xlsx.",
            message_zh=f"没有 {fmt!r} 格式的报告。",
            fix_zh="请用 .html、.pdf 或 .xlsx。",
        )
    reports = _reports(request)
    with _LOCK:
        kept = reports.get(report_id)
    access = access_for(store, who)
    layers = sorted({r.layer for r in kept[0].reads}) if kept is not None else []
    if kept is None or not all(access.is_whole(name) for name in layers):
        raise NotFoundError(
            f"Review report {report_id} is no longer kept.",
            fix="Run the review again (POST /review/KIND).",
            message_zh=f"审查报告 {report_id} 已不在缓存中。",
            fix_zh="请重新运行审查。",
        )
    address = request.client.host if request.client is not None else ""
    require_export(store, access, layers, f"review-report.{fmt}", address)
    report, lang = kept
    media, write = _FORMATS[fmt]
    doc = review_document(report, lang, report.layers)
    with tempfile.TemporaryDirectory(prefix="guotu-review-") as tmp:
        path = Path(tmp) / f"report.{fmt}"
        write(doc, path)
        body = path.read_bytes()
    name = f"review-{report.kind}-{report_id}.{fmt}"
    how = "inline" if fmt in _INLINE else "attachment"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'{how}; filename="{name}"'}
    )


# -- background jobs (uploaded plans) --------------------------------------------------------
@dataclass
class _Job:
    """One review job; fields change under ``_LOCK`` only."""

    id: str
    kind: str
    lang: str
    status: str = "queued"
    rule: str | None = None
    done: int = 0
    total: int = 0
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    created: str = field(
        default_factory=lambda: datetime.now().astimezone().isoformat(timespec="seconds")
    )
    owner: Principal | None = None  # who started it: the only one who sees it

    def to_dict(self) -> dict[str, Any]:
        with _LOCK:
            return {
                "id": self.id,
                "kind": self.kind,
                "status": self.status,
                "created": self.created,
                "progress": {"rule": self.rule, "done": self.done, "total": self.total},
                "result": self.result,
                "error": self.error,
                "links": [
                    {"rel": "self", "type": "application/json", "href": f"/review/jobs/{self.id}"}
                ],
            }


def _executor(state: Any) -> ThreadPoolExecutor:
    with _LOCK:
        pool: ThreadPoolExecutor | None = getattr(state, "review_executor", None)
        if pool is None:
            pool = ThreadPoolExecutor(1, thread_name_prefix="guotu-review")
            state.review_executor = pool
    return pool


def _error_dict(exc: GuotuError, folder: Path, lang: str, workspace: str) -> dict[str, Any]:
    """The error of a failed job as the web app answers errors: the job folder's location
    cut out of every text (the user sees the names of their own files), the workspace's
    location hidden, and no other server file named."""
    prefixes = (str(folder.resolve()) + "/", str(folder) + "/")

    def cut(text: Any) -> Any:
        if not isinstance(text, str):
            return text
        for prefix in prefixes:
            text = text.replace(prefix, "")
        return scrub_text(text, workspace)

    own = exc.file if exc.file and exc.file.startswith(prefixes) else None
    shown = type(exc)(
        cut(exc.message),
        file=cut(own),
        layer=exc.layer,
        feature=exc.feature,
        field=exc.field,
        fix=cut(exc.fix),
        message_zh=cut(exc.message_zh),
        fix_zh=cut(exc.fix_zh),
    )
    out = {k: v for k, v in shown.to_dict().items() if k not in ("message", "message_zh")}
    out["message"] = shown.render(lang)
    return out


def _run_job(
    state: Any,
    job: _Job,
    settings: Settings,
    folder: tempfile.TemporaryDirectory[str],
    source: ReviewSource,
    options: ReviewOptions,
) -> None:
    def tick(rule: str, n: int, total: int) -> None:
        with _LOCK:
            job.rule, job.done, job.total = rule, n - 1, total

    with _LOCK:
        job.status = "running"
    try:
        store = open_workspace(settings.workspace)
        try:
            readable = None if job.owner is None else whole_layers(store, job.owner)
            report = review_plan(
                store,
                job.kind,
                source,
                dataclasses.replace(options, progress=tick, readable=readable),
            )
        finally:
            store.close()
        if isinstance(source, SourceFile):  # the user's file name, not the job folder
            report = dataclasses.replace(
                report, source=source.path.relative_to(Path(folder.name)).as_posix()
            )
        doc = _publish(state, report, job.lang)
        with _LOCK:
            job.status, job.result, job.done = "done", doc, job.total
    except GuotuError as exc:
        with _LOCK:
            job.status, job.error = (
                "failed",
                _error_dict(exc, Path(folder.name), job.lang, settings.workspace),
            )
    except Exception:
        log.exception("Review job %s failed", job.id)
        with _LOCK:
            job.status = "failed"
            job.error = {
                "code": "internal-error",
                "status": 500,
                "message": "服务器内部错误，已记录日志。"
                if job.lang == "zh"
                else "Internal server error; it was logged.",
            }
    finally:
        folder.cleanup()


def _limits(settings: Settings) -> UploadLimits:
    mib = 1024 * 1024
    return UploadLimits(
        max_bytes=int(settings.max_upload_mb * mib),
        max_unzipped_bytes=int(settings.max_unzipped_mb * mib),
        max_members=settings.max_zip_members,
    )


def _receive(
    upload: UploadFile, folder: Path, limits: UploadLimits, source_layer: str | None
) -> Path:
    """Save an upload into ``folder``; a zip is unpacked and its one dataset returned."""

    def chunks() -> Any:
        while block := upload.file.read(1024 * 1024):
            yield block

    path = save_upload(chunks(), upload.filename, folder, limits)
    if path.suffix.lower() != ".zip":
        return path
    return find_dataset(unpack_zip(path, folder, limits), path.name, source_layer)


@router.post(
    "/review/{kind}/jobs",
    status_code=202,
    summary="Start a review of an uploaded plan or of the workspace (background job)",
    responses={
        **_ERRORS,
        413: {"description": "The upload is larger than the limits."},
        429: {"description": "Too many review jobs are waiting."},
    },
)
def post_review_job(
    request: Request,
    who: Who,
    kind: JobKind,
    file: Annotated[
        UploadFile | None,
        File(
            description="The plan: a zipped Shapefile or "
            "FileGDB, .gpkg, .geojson or .fgb; for "
            "indicators the CSV/XLSX table"
        ),
    ] = None,
    table: Annotated[
        UploadFile | None, File(description="Attribute table joined to the plan (CSV/XLSX)")
    ] = None,
    source_layer: Annotated[
        str | None, Form(description="Layer or file name inside the upload, when it holds several")
    ] = None,
    table_key: Annotated[str | None, Form(description="Join field of the table")] = None,
    allow_empty_geometry: Annotated[
        bool, Form(description="Review a plan whose file holds features without geometry")
    ] = False,
    source: Annotated[str | None, Query(description="A recorded version PLAN@LABEL")] = None,
    rules: Annotated[str, Query(description="Built-in rule pack id")] = "cn-base",
    profile: Annotated[str | None, Query(description="Built-in profile id")] = None,
    as_of: Annotated[date | None, Query(description="Plans in force on this date")] = None,
    known_at: Annotated[datetime | None, Query(description="Record time (UTC)")] = None,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
) -> JSONResponse:
    """Queue the review; answer 202 with the job (poll its ``self`` link).

    Raises
    ------
    ConfigError, LayerError, TooLargeError
        A kind or pack we cannot run, an upload we cannot read or beyond the limits.
    """
    has_file = file is not None and bool(file.filename)
    _check_kind(kind, source, has_file=has_file)
    if has_file and source is not None:
        raise ConfigError(
            "Give either an uploaded file or source=PLAN@LABEL, not both.",
            message_zh="上传文件与 source=PLAN@LABEL 只能二选一。",
        )
    pack = load_rule_pack(_builtin(rules, "rules") or "cn-base", _builtin(profile, "profile"))
    settings: Settings = request.app.state.settings
    state = request.app.state
    jobs: OrderedDict[str, _Job] = _state_dict(state, "review_jobs")
    job = _Job(id=uuid.uuid4().hex[:16], kind=kind, lang=lang, status="receiving", owner=who)
    with _LOCK:  # the slot is taken before the upload is read, so the limit holds
        busy = sum(1 for j in jobs.values() if j.status in _ACTIVE)
        if busy < settings.review_jobs_queued:
            jobs[job.id] = job
    if job.id not in jobs:
        raise HTTPException(
            429,
            "审查任务已满，请稍后再试。"
            if lang == "zh"
            else "Too many review jobs are waiting; try again later.",
        )
    folder = tempfile.TemporaryDirectory(prefix="guotu-upload-")
    try:
        limits = _limits(settings)
        where = Path(folder.name)
        subject: ReviewSource = parse_review_source(source, kind=kind, files_allowed=False)
        if has_file and file is not None:
            plan = _receive(file, where, limits, source_layer)
            joined = None
            if table is not None and table.filename:
                joined = _receive(table, where, limits, None)
            reading = ImportOptions(
                table=joined, table_key=table_key, allow_empty_geometry=allow_empty_geometry
            )
            subject = SourceFile(plan, reading)
    except BaseException:
        folder.cleanup()
        with _LOCK:
            jobs.pop(job.id, None)
        raise
    with _LOCK:
        job.status = "queued"
        while len(jobs) > JOBS_KEPT:
            oldest = next(iter(jobs))
            if jobs[oldest].status in _ACTIVE:
                break
            jobs.popitem(last=False)
    options = ReviewOptions(pack=pack, as_of=as_of, known_at=known_at)
    _executor(state).submit(_run_job, state, job, settings, folder, subject, options)
    return JSONResponse(
        job.to_dict(), status_code=202, headers={"Location": f"/review/jobs/{job.id}"}
    )


@router.get(
    "/review/jobs/{job_id}",
    summary="A review job's status, progress and result",
    responses={404: {"description": "An unknown or forgotten job."}},
)
def get_review_job(request: Request, who: Who, job_id: HexId) -> dict[str, Any]:
    """The job document (see :func:`post_review_job`), for the user who started it.

    Raises
    ------
    NotFoundError
        An unknown or forgotten job, or another user's (the same answer).
    """
    jobs: OrderedDict[str, _Job] = _state_dict(request.app.state, "review_jobs")
    with _LOCK:
        job = jobs.get(job_id)
    if job is None or job.owner != who:
        raise NotFoundError(
            f"Review job {job_id} is unknown or no longer kept.",
            fix="Start the review again (POST /review/KIND/jobs).",
            message_zh=f"审查任务 {job_id} 不存在或已过期。",
            fix_zh="请重新提交审查。",
        )
    return job.to_dict()
