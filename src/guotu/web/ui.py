"""The web UI (一张图): one Chinese-first page at ``/ui/`` over the app's own API.

* ``GET /ui/``: the page (MapLibre GL map of the workspace's vector tiles, layer tree and
  legend, as-of date, site query panel, plan review, 用地平衡表); ``/ui`` redirects there.
* ``GET /ui/monitor``: the monitoring dashboard (规划实施监测) over ``/monitor/*``.
* ``GET /ui/cases``, ``/ui/cases/new``, ``/ui/cases/case?id=…``, ``/ui/cases/stats``: the
  approval pages (审批: the 待办 lists, the window's intake, a case, the statistics) over
  ``/cases/*`` (:mod:`guotu.web.approvals`).
* ``GET /ui/static/{name}``: the page's own script and style (``static/ui/``).
* ``GET /ui/vendor/{name}``: MapLibre GL JS, served from ``static/node_modules`` (installed by
  ``npm ci`` from ``static/package-lock.json``; no CDN and no online basemap: the map shows the
  workspace's layers only).

The data the page asks for has modules of its own: the map's layers, extent and legends
(``/ui/config.json``, :mod:`guotu.web.ui_config`), and the 用地平衡表, the plans and the
version diffs (``/ui/balance.*``, ``/ui/plans.json``, ``/ui/diff.json``,
:mod:`guotu.web.ui_data`).

The page sends ``lang`` (``zh``/``en``, as chosen) with every request it makes.

Answers are the principal's: layers, extent, classes, plans and diffs hold only what they may
read (:mod:`guotu.services.access`); a 用地平衡表 needs the whole layer, its download export.

When the npm assets are missing, ``/ui/`` answers 503 with a page that says how to install
them; the API routes keep working.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from guotu.errors import NotFoundError

__all__ = ["NODE_MODULES", "UI_DIR", "router", "vendor_files"]

STATIC = Path(__file__).parent / "static"
#: The page's own files (``static/ui``).
UI_DIR = STATIC / "ui"
#: Where ``npm ci`` (run in ``static/``) puts the front-end packages.
NODE_MODULES = STATIC / "node_modules"
_VENDOR = {
    "maplibre-gl.js": ("maplibre-gl/dist/maplibre-gl.js", "text/javascript"),
    "maplibre-gl.css": ("maplibre-gl/dist/maplibre-gl.css", "text/css"),
    "echarts.min.js": ("echarts/dist/echarts.min.js", "text/javascript"),
}
_OWN = {
    f"{page}.{ext}": media
    # login, admin: pages of guotu.web.admin; password: of guotu.web.auth_password
    for page in ("app", "monitor", "login", "admin", "password")
    for ext, media in (("js", "text/javascript"), ("css", "text/css"))
}
# the approval pages (审批): one style, a shared script, the map of a site, a script per page
_OWN |= {"cases.css": "text/css"} | {
    f"{name}.js": "text/javascript"
    for name in (
        "cases_common",
        "cases_map",
        "cases",
        "case_new",
        "case",
        "case_actions",
        "cases_stats",
    )
}

router = APIRouter(tags=["web UI 一张图"])

_MISSING_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>一张图：前端资源未安装</title>
<link rel="icon" href="data:,"></head>
<body style="font-family:sans-serif;max-width:44em;margin:3em auto;line-height:1.6">
<h1>一张图网页的前端资源未安装</h1>
<p>地图组件 MapLibre GL JS 由 npm 安装，当前缺少 <code>{missing}</code>。
请在代码仓库中运行：</p>
<pre>make ui        # 即 cd src/guotu/web/static &amp;&amp; npm ci</pre>
<p>然后刷新本页。接口（<a href="/">OGC API</a>、<code>/tiles</code>、<code>/query</code>、
<code>/review</code>）不受影响，仍可使用。</p>
<hr><p lang="en">The web UI's front-end assets are not installed ({missing} is missing). Run
<code>make ui</code> (that is, <code>npm ci</code> in <code>src/guotu/web/static</code>)
and reload. The API keeps working.</p>
</body></html>
"""


def vendor_files() -> dict[str, Path]:
    """The npm files the page loads, by the name it loads them under (may not exist yet)."""
    return {name: NODE_MODULES / rel for name, (rel, _) in _VENDOR.items()}


@router.get("/ui", include_in_schema=False)
def ui_redirect() -> RedirectResponse:
    """``/ui`` → ``/ui/``, so the page's relative links resolve."""
    return RedirectResponse("/ui/", status_code=307)


def _page(name: str) -> Response:
    missing = [
        f"node_modules/{_VENDOR[v][0]}" for v, path in vendor_files().items() if not path.is_file()
    ]
    if missing:
        return HTMLResponse(_MISSING_PAGE.format(missing=", ".join(missing)), status_code=503)
    return FileResponse(
        UI_DIR / name, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )


@router.get("/ui/", response_class=HTMLResponse, summary="The web UI (一张图)")
def ui_page() -> Response:
    """The page, or (503) how to install the npm assets when they are missing."""
    return _page("index.html")


@router.get(
    "/ui/monitor", response_class=HTMLResponse, summary="The monitoring dashboard (规划实施监测)"
)
def ui_monitor_page() -> Response:
    """Indicator cards, trends, warnings, cases on a map and the farmland ledger."""
    return _page("monitor.html")


@router.get("/ui/cases", response_class=HTMLResponse, summary="The approval cases (审批案件)")
def ui_cases_page() -> Response:
    """The signed-in user's 待办, 已办, 督办 and all cases."""
    return _page("cases.html")


@router.get("/ui/cases/new", response_class=HTMLResponse, summary="The window's intake (窗口受理)")
def ui_case_intake_page() -> Response:
    """The intake form: the application, its site drawn on the map, its materials."""
    return _page("case_new.html")


@router.get("/ui/cases/case", response_class=HTMLResponse, summary="An approval case (审批案件)")
def ui_case_page() -> Response:
    """One case (``?id=…``; ``&as_of=…`` as it stood then): stages, review, opinions, actions."""
    return _page("case.html")


@router.get(
    "/ui/cases/stats", response_class=HTMLResponse, summary="Approval statistics (审批统计)"
)
def ui_case_stats_page() -> Response:
    """Cases by stage, working days per stage, overdue by department."""
    return _page("cases_stats.html")


def _not_found(name: str) -> NotFoundError:
    return NotFoundError(
        f"The web UI has no file {name!r}.",
        fix="Run `make ui` (npm ci).",
        message_zh=f"网页没有文件 {name!r}。",
        fix_zh="请运行 make ui（npm ci）。",
    )


@router.get("/ui/static/{name}", include_in_schema=False)
def ui_static(name: str) -> FileResponse:
    """The page's own script and style."""
    if name not in _OWN:
        raise _not_found(name)
    return FileResponse(UI_DIR / name, media_type=_OWN[name], headers={"Cache-Control": "no-cache"})


@router.get("/ui/vendor/{name}", include_in_schema=False)
def ui_vendor(name: str) -> FileResponse:
    """A front-end package file installed by npm (MapLibre GL JS)."""
    path = vendor_files().get(name)
    if path is None or not path.is_file():
        raise _not_found(name)
    return FileResponse(
        path, media_type=_VENDOR[name][1], headers={"Cache-Control": "public, max-age=3600"}
    )
