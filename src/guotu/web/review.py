"""Plan review (成果审查) over HTTP, for the web UI and scripts.

* ``POST /review/{kind}?as_of=…&known_at=…&rules=…&profile=…&lang=…``: review the workspace's
  layer of ``kind`` (``master-plan``, ``detailed-plan``, ``special-plan``, ``project``) or a
  recorded plan version (``source=PLAN@LABEL``) with a bundled rule pack; the answer is the
  ``guotu review --json`` document plus ``report_id``, ``links`` to the report downloads and
  ``map``, the findings as a GeoJSON FeatureCollection in CRS84 for web maps.
* ``POST /review/{kind}/jobs``, ``GET /review/jobs/{id}``: the same review as a background job,
  of the workspace or of an uploaded plan (:mod:`guotu.web.review_jobs`).
* ``GET /review/reports/{report_id}.{html,pdf,xlsx}``: the report of a run
  (:mod:`guotu.web.review_reports`, which also keeps the reports).

A review reads only the layers its user may read whole (others are left out as if absent;
``restricted_layers_omitted`` says so, never which). A report download needs export on every
layer it read (one holding an unreadable layer is not found, as an expired one; 403 without
export); a job is its starter's only. Exports of 受限 layers are audited.

Files on the server are never read from a request: ``source`` is only a recorded version and
``rules``/``profile`` only a built-in id (:func:`check_kind`, :func:`builtin_id`, which the
jobs share); an upload is written into a temporary folder of its own within the limits of
:mod:`guotu.services.uploads` and removed when its review ends. The last few reports and jobs
are kept in memory (``app.state``); an expired ``report_id`` answers 404 and the fix is to run
the review again.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam

from guotu.domain.review.pack import KINDS
from guotu.errors import ConfigError
from guotu.ports import FeatureStore
from guotu.services.access import record_restricted_read, whole_layers
from guotu.services.review import ReviewOptions, review_plan
from guotu.services.review_source import VERSION_REF, parse_review_source
from guotu.services.rule_packs import load_rule_pack
from guotu.web.deps import Who, audit_sink, open_store
from guotu.web.review_reports import publish
from guotu.web.security import client_address

__all__ = ["REVIEW_ERRORS", "WORKSPACE_KINDS", "builtin_id", "check_kind", "router"]

#: Review kinds that run on the workspace alone (``indicators`` needs an uploaded table).
WORKSPACE_KINDS = tuple(k for k in KINDS if k != "indicators")
#: The errors a review route answers for its request (the jobs add theirs).
REVIEW_ERRORS: dict[int | str, Any] = {
    400: {"description": "A kind, rule pack or source the web review cannot run."},
    404: {"description": "A recorded version or a file inside the upload is not there."},
}

router = APIRouter(tags=["plan review 成果审查"])

Store = Annotated[FeatureStore, Depends(open_store)]
#: The kinds a review of the workspace runs; an upload (``/jobs``) may be ``indicators`` too.
Kind = Annotated[
    str,
    PathParam(
        description="Plan kind of the review.", json_schema_extra={"enum": list(WORKSPACE_KINDS)}
    ),
]


def check_kind(kind: str, source: str | None, *, has_file: bool = False) -> None:
    """Refuse kinds and sources a web review cannot run.

    Examples
    --------
    >>> check_kind("master-plan", "总体规划@v1")
    >>> check_kind("indicators", None, has_file=True)
    """
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


def builtin_id(name: str | None, what: str) -> str | None:
    """Refuse anything but a built-in rule pack or profile id (no server paths).

    Examples
    --------
    >>> builtin_id("cn-base", "rules"), builtin_id(None, "profile")
    ('cn-base', None)
    """
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


@router.post(
    "/review/{kind}",
    summary="Review the workspace's plan of a kind (成果审查)",
    responses=REVIEW_ERRORS,
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
    check_kind(kind, source)
    pack = load_rule_pack(builtin_id(rules, "rules") or "cn-base", builtin_id(profile, "profile"))
    subject = parse_review_source(source, kind=kind, files_allowed=False)
    options = ReviewOptions(
        pack=pack, as_of=as_of, known_at=known_at, readable=whole_layers(store, who)
    )
    report = review_plan(store, kind, subject, options)
    sink, address = audit_sink(request), client_address(request.scope)
    for layer in sorted({r.layer for r in report.reads}):
        record_restricted_read(store, who, layer, "review", address, sink=sink)
    return publish(request.app.state, report, lang)
