"""Review jobs over HTTP: a plan review in the background, of an uploaded plan or of the
workspace.

* ``POST /review/{kind}/jobs`` (multipart): the review of :mod:`guotu.web.review` as a
  background job, of the workspace layer or of an uploaded plan (``file``: a zipped Shapefile
  or FileGDB, GeoPackage, GeoJSON or FlatGeobuf; for ``indicators`` the CSV/XLSX indicator
  table; ``table``: an attribute table joined to the plan, as ``guotu import --table``).
  Answers 202 with the job's ``id`` and its ``monitor`` link.
* ``GET /review/jobs/{id}``: the job's ``status`` (queued, running, done, failed), its
  ``progress`` (the rule being run, rules done, rule count) and, when done, the ``result``
  (the document of ``POST /review/{kind}``, with its report kept as
  :mod:`guotu.web.review_reports` keeps it) or the ``error``.

A job is its starter's only, and reads only the layers they may read whole. An upload is
written into a temporary folder of its own within the limits of :mod:`guotu.services.uploads`
and removed when its review ends. Jobs run one at a time on a worker thread, each with its own
store; at most ``review_jobs_queued`` wait, and the last :data:`JOBS_KEPT` finished ones are
remembered (``app.state``).
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from guotu.domain.access.policy import Principal
from guotu.domain.review.pack import KINDS
from guotu.errors import ConfigError, GuotuError, NotFoundError
from guotu.services.access import record_restricted_read, whole_layers
from guotu.services.review import ReviewOptions, review_plan
from guotu.services.review_source import (
    ImportOptions,
    ReviewSource,
    SourceFile,
    parse_review_source,
)
from guotu.services.rule_packs import load_rule_pack
from guotu.services.uploads import UploadLimits, find_dataset, save_upload, unpack_zip
from guotu.services.workspace import open_workspace
from guotu.settings import Settings
from guotu.web.deps import Who
from guotu.web.errors import scrub_text
from guotu.web.review import REVIEW_ERRORS, builtin_id, check_kind
from guotu.web.review_reports import LOCK, HexId, kept, publish
from guotu.web.security import client_address

__all__ = ["JOBS_KEPT", "router"]

log = logging.getLogger(__name__)

#: How many finished review jobs the app remembers (oldest dropped first).
JOBS_KEPT = 32
#: Job states that hold a slot of ``review_jobs_queued``.
_ACTIVE = ("receiving", "queued", "running")

router = APIRouter(tags=["plan review 成果审查"])

JobKind = Annotated[
    str,
    PathParam(
        description="Plan kind of the review (indicators needs the uploaded table).",
        json_schema_extra={"enum": list(KINDS)},
    ),
]


@dataclass
class _Job:
    """One review job; fields change under ``LOCK`` only."""

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
    address: str = ""  # where from (the audit log's)

    def to_dict(self) -> dict[str, Any]:
        with LOCK:
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
    with LOCK:
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
        with LOCK:
            job.rule, job.done, job.total = rule, n - 1, total

    with LOCK:
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
            if job.owner is not None:  # its reads of 受限 layers, as a review on the request
                for layer in sorted({r.layer for r in report.reads}):
                    record_restricted_read(store, job.owner, layer, "review-job", job.address)
        finally:
            store.close()
        if isinstance(source, SourceFile):  # the user's file name, not the job folder
            report = dataclasses.replace(
                report, source=source.path.relative_to(Path(folder.name)).as_posix()
            )
        doc = publish(state, report, job.lang)
        with LOCK:
            job.status, job.result, job.done = "done", doc, job.total
    except GuotuError as exc:
        with LOCK:
            job.status, job.error = (
                "failed",
                _error_dict(exc, Path(folder.name), job.lang, settings.workspace),
            )
    except Exception:
        log.exception("Review job %s failed", job.id)
        with LOCK:
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
        **REVIEW_ERRORS,
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
    check_kind(kind, source, has_file=has_file)
    if has_file and source is not None:
        raise ConfigError(
            "Give either an uploaded file or source=PLAN@LABEL, not both.",
            message_zh="上传文件与 source=PLAN@LABEL 只能二选一。",
        )
    pack = load_rule_pack(builtin_id(rules, "rules") or "cn-base", builtin_id(profile, "profile"))
    settings: Settings = request.app.state.settings
    state = request.app.state
    jobs: OrderedDict[str, _Job] = kept(state, "review_jobs")
    job = _Job(
        id=uuid.uuid4().hex[:16],
        kind=kind,
        lang=lang,
        status="receiving",
        owner=who,
        address=client_address(request.scope),
    )
    with LOCK:  # the slot is taken before the upload is read, so the limit holds
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
        with LOCK:
            jobs.pop(job.id, None)
        raise
    with LOCK:
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
    jobs: OrderedDict[str, _Job] = kept(request.app.state, "review_jobs")
    with LOCK:
        job = jobs.get(job_id)
    if job is None or job.owner != who:
        raise NotFoundError(
            f"Review job {job_id} is unknown or no longer kept.",
            fix="Start the review again (POST /review/KIND/jobs).",
            message_zh=f"审查任务 {job_id} 不存在或已过期。",
            fix_zh="请重新提交审查。",
        )
    return job.to_dict()
