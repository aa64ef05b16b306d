"""The human API page (``/api.html``): every route of the OpenAPI document on one plain page.

Chinese first: each operation's Chinese summary (:data:`SUMMARY_ZH`) with the document's
English summary under it, each parameter with its Chinese description
(:data:`PARAMETER_ZH`; a property filter by the standard field's Chinese name) and the
English one on hover, and who may call it (:func:`access_label`, from the operation's
``x-guotu-policy``: public, signed in, a browser session, or a permission with the roles
that carry it); the document's description (its note on access control) heads the page.
``?lang=en`` gives the English-first page. Parameters the document
holds by reference (``$ref: #/components/parameters/…``, as the OGC routes do) are resolved.
The OpenAPI document itself (``/api``) keeps its English summaries, for tools.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from guotu.domain.access.roles import ROLES, Permission
from guotu.domain.core.fields import FIELDS

__all__ = [
    "PARAMETER_ZH",
    "SUMMARY_ZH",
    "access_label",
    "api_html",
    "parameters_of",
    "summary_zh",
]

#: (METHOD, path) → the operation's Chinese summary.
SUMMARY_ZH: dict[tuple[str, str], str] = {
    ("GET", "/"): "服务首页（OGC API 入口）",
    ("GET", "/conformance"): "服务符合的标准一致性类",
    ("GET", "/collections"): "图层（要素集合）列表",
    ("GET", "/collections/{layer}"): "一个图层的说明",
    ("GET", "/collections/{layer}/queryables"): "图层可用于筛选的属性",
    ("GET", "/collections/{layer}/items"): "图层的要素（分页、范围、现行日期、属性筛选）",
    ("GET", "/collections/{layer}/items/{fid}"): "一个要素",
    ("GET", "/tiles/{layer}.json"): "图层的矢量切片说明（TileJSON）",
    ("GET", "/tiles/{layer}/{z}/{x}/{y}.mvt"): "图层的一张矢量切片（MVT）",
    ("GET", "/query"): "地块查询（空间码）：某处适用的全部规划管控",
    ("POST", "/query"): "按提交的 GeoJSON 多边形查询适用的规划管控（空间码）",
    ("GET", "/query/sheet"): "可打印的规划条件查询单",
    ("POST", "/review/{kind}"): "审查工作空间中某类规划成果（成果审查）",
    ("GET", "/review/reports/{report_id}.{fmt}"): "审查报告（HTML 在浏览器中打开；PDF、XLSX）",
    ("POST", "/review/{kind}/jobs"): "后台审查上传的成果文件或工作空间图层",
    ("GET", "/review/jobs/{job_id}"): "审查任务的状态、进度与结果",
    ("GET", "/cases/procedures.json"): "审批流程（环节、办理人、期限、材料、法律依据）",
    ("GET", "/cases.json"): "审批案件列表（待办、已办、督办）",
    ("POST", "/cases"): "一窗受理：登记申请并自动审查",
    ("GET", "/cases/stats.json"): "审批统计（各环节案件数、用时、超期）",
    ("GET", "/cases/{case_id}.json"): "审批案件详情（可回溯到任一时刻）",
    ("POST", "/cases/{case_id}/events"): "办理审批案件（结论、会审意见、补正）",
    ("POST", "/cases/{case_id}/files"): "提交申请材料",
    ("GET", "/cases/{case_id}/files/{n}"): "下载申请材料或决定文书",
    ("GET", "/verify/{token}.json"): "核验决定文书（公开）",
    ("GET", "/verify/{token}"): "决定文书核验页面（公开）",
    ("GET", "/monitor/indicators.json"): "监测指标及其逐年序列、目标与预警",
    ("GET", "/monitor/cases.json"): "变化图斑形成的监测案件（按现状日期）",
    ("GET", "/monitor/consolidation.json"): "土地整治与耕地占补平衡台账（按现状日期）",
    ("GET", "/monitor/report.{fmt}"): "体检评估报告",
    ("GET", "/ui/"): "一张图网页",
    ("GET", "/ui/monitor"): "规划实施监测看板",
    ("GET", "/ui/cases"): "审批案件网页（待办、已办、督办）",
    ("GET", "/ui/cases/new"): "窗口受理网页",
    ("GET", "/ui/cases/case"): "审批案件详情网页（办理、会审意见、补正）",
    ("GET", "/ui/cases/stats"): "审批统计网页",
    ("GET", "/ui/config.json"): "网页所需的图层、范围与图例",
    ("GET", "/ui/balance.json"): "用地平衡表",
    ("GET", "/ui/balance.{fmt}"): "下载用地平衡表（CSV、XLSX）",
    ("GET", "/ui/plans.json"): "规划及其版本",
    ("GET", "/ui/diff.json"): "规划两个版本之间的差异",
    ("POST", "/auth/sign-in"): "登录（设置浏览器会话 Cookie）",
    ("POST", "/auth/sign-out"): "退出登录（结束会话）",
    ("GET", "/auth/me"): "当前用户、角色、权限与 CSRF 令牌",
    ("POST", "/auth/password"): "修改本人密码（结束其他会话）",
    ("GET", "/auth/tokens"): "当前用户的访问令牌",
    ("POST", "/auth/tokens"): "生成访问令牌（仅显示一次）",
    ("DELETE", "/auth/tokens/{token_id}"): "撤销访问令牌",
}
#: The per-collection items paths the OGC part adds (``/collections/GHYD/items``).
_ITEMS_PATH = re.compile(r"^/collections/([^/{}]+)/items$")

#: A Chinese character (the description's Chinese paragraphs go first on the Chinese page).
_CJK = re.compile(r"[\u4e00-\u9fff]")

#: Parameter name → its Chinese description.
PARAMETER_ZH: dict[str, str] = {
    "f": "输出格式：json（要素为 GeoJSON）或 html",
    "lang": "语言：zh（中文）或 en（英文）",
    "limit": "每页要素数（不填取服务器默认值；超过上限按上限）",
    "offset": "跳过的要素数（“下一页”链接已带上）",
    "bbox": "范围：左下角、右上角坐标，按 bbox-crs 的轴序（CRS84 为经度,纬度）",
    "bbox-crs": "bbox 的坐标系（默认 CRS84 经纬度）",
    "crs": "坐标系（输出坐标的，或所给坐标的）",
    "datetime": "现行日期：日期、日期时间或区间（取区间终点；开放终点为今天）",
    "layer": "图层名",
    "fid": "要素编号（fid）",
    "z": "缩放级别（0–22）",
    "x": "切片列号",
    "y": "切片行号（自北向南）",
    "as_of": "现行日期：读取该日现行的规划（默认今天）",
    "known_at": "登记时间：读取系统在该时刻所知的数据（UTC，默认现在）",
    "dv": "永久链接所固定的数据版本",
    "site": "查询对象（三选一）：point=X,Y、parcel=地块编号、polygon=GeoJSON 多边形",
    "kind": "审查类型",
    "source": "已登记的规划版本“规划@版本”（默认审查工作空间图层）",
    "rules": "内置规则包",
    "profile": "内置地方规则配置",
    "report_id": "审查报告编号",
    "fmt": "文件格式",
    "job_id": "审查任务编号",
    "first_year": "序列的起始年份",
    "max_level": "列到第几级代码（1–3）",
    "plan": "规划名称",
    "from": "原版本",
    "to": "新版本",
    "token_id": "访问令牌编号",
}


def summary_zh(method: str, path: str, op: Mapping[str, Any]) -> str | None:
    """The Chinese summary of an operation; ``None`` when there is none.

    Examples
    --------
    >>> summary_zh("get", "/collections/GHYD/items", {})
    '图层 GHYD 的要素（可按属性筛选）'
    >>> summary_zh("get", "/nowhere", {}) is None
    True
    """
    found = SUMMARY_ZH.get((method.upper(), path))
    if found is None and method.upper() == "GET" and (m := _ITEMS_PATH.match(path)):
        found = f"图层 {m[1]} 的要素（可按属性筛选）"
    return found


#: What each simple policy asks of the caller (Chinese, English).
_POLICY_TEXT = {
    "public": ("公开", "public"),
    "signed_in": ("需登录", "signed in"),
    "session": ("需在浏览器中登录（访问令牌不可）", "a browser session (not a token)"),
}


def access_label(policy: object) -> tuple[str, str]:
    """Who may call an operation of ``policy`` (its ``x-guotu-policy``), in Chinese and in
    English; a permission is named with the roles that carry it. ``("", "")`` for none.

    Examples
    --------
    >>> access_label("public")
    ('公开', 'public')
    >>> access_label("permission:read_audit")
    ('需 read_audit 权限（审计管理员）', 'permission read_audit (audit administrator)')
    """
    if not isinstance(policy, str):
        return "", ""
    kind, _, name = policy.partition(":")
    if kind != "permission":
        return _POLICY_TEXT.get(policy, (policy, policy))
    try:
        needed = Permission(name)
    except ValueError:
        return policy, policy
    roles = [r for r in ROLES if needed in r.permissions]
    zh = "、".join(r.name_zh for r in roles)
    en = ", ".join(r.name_en for r in roles)
    return f"需 {name} 权限（{zh}）", f"permission {name} ({en})"


def _resolve(doc: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """``node``, or what its ``$ref`` (``#/…`` within the document) points to."""
    seen = 0
    while "$ref" in node and seen < 8:
        ref = str(node["$ref"])
        target: Any = doc
        if not ref.startswith("#/"):
            return node
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                return node
            target = target[part]
        if not isinstance(target, Mapping):
            return node
        node, seen = target, seen + 1
    return node


def parameters_of(
    doc: Mapping[str, Any], path_item: Mapping[str, Any], op: Mapping[str, Any]
) -> list[Mapping[str, Any]]:
    """The parameters of an operation (its path's and its own), references resolved.

    Examples
    --------
    >>> doc = {"components": {"parameters": {"f": {"name": "f", "in": "query"}}}}
    >>> [p["name"] for p in parameters_of(doc, {}, {"parameters": [
    ...     {"$ref": "#/components/parameters/f"}]})]
    ['f']
    """
    out = [_resolve(doc, p) for p in (*path_item.get("parameters", ()), *op.get("parameters", ()))]
    return [p for p in out if p.get("name")]


def _parameter_zh(p: Mapping[str, Any]) -> str:
    name = str(p["name"])
    found = PARAMETER_ZH.get(name)
    if found is None and name in FIELDS:
        found = f"按{FIELDS[name].name_zh}（{name}）筛选"
    return found or str(p.get("description") or "")


_PLACE = {
    "query": ("查询参数", "query"),
    "path": ("路径参数", "path"),
    "header": ("请求头", "header"),
    "cookie": ("Cookie", "cookie"),
}
_CSS = (
    'body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;'
    "color:#222}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;"
    "padding:4px 8px;text-align:left;vertical-align:top}th{background:#f0f3f7}"
    "code{font-size:.95em}.en{color:#666;font-size:.88em}.req{color:#b00020}"
    "ul{margin:0;padding-left:1.1em}li{margin:.1em 0}td.m{font-weight:bold;width:4em}"
)


def api_html(doc: Mapping[str, Any], lang: str = "zh") -> str:
    """A plain HTML page listing every operation of an OpenAPI document: method, path,
    summary (Chinese first, ``lang="en"`` English first) and parameters, with a link to the
    JSON document.

    Examples
    --------
    >>> page = api_html({"info": {"title": "t"}, "paths": {"/x": {"get": {"summary": "X"}}}})
    >>> "<code>/x</code>" in page and "X" in page
    True
    """
    e = html.escape
    zh = lang != "en"
    rows = []
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method == "parameters" or not isinstance(op, Mapping):
                continue
            en = str(op.get("summary") or "")
            cn = summary_zh(method, path, op) or en
            first, second = (cn, en) if zh else (en, cn)
            summary = e(first) + (
                f'<div class="en">{e(second)}</div>' if second and second != first else ""
            )
            params = []
            for p in parameters_of(doc, item, op):
                desc_zh, desc_en = _parameter_zh(p), str(p.get("description") or "")
                desc, other = (desc_zh, desc_en) if zh else (desc_en or desc_zh, desc_zh)
                where = _PLACE.get(str(p.get("in")), ("", ""))[0 if zh else 1]
                req = '<span class="req" title="必填">*</span>' if p.get("required") else ""
                params.append(
                    f'<li title="{e(other)}"><code>{e(str(p["name"]))}</code>{req} '
                    f"<small>{e(where)}</small> {e(desc)}</li>"
                )
            access_zh, access_en = access_label(op.get("x-guotu-policy"))
            access, access_other = (access_zh, access_en) if zh else (access_en, access_zh)
            rows.append(
                f'<tr><td class="m">{e(method.upper())}</td><td><code>{e(path)}'
                f"</code></td><td>{summary}</td><td><ul>{''.join(params)}</ul></td>"
                f'<td title="{e(access_other)}">{e(access)}</td></tr>'
            )
    title = e(str(doc.get("info", {}).get("title", "API")))
    heading = f"{title} 接口文档" if zh else f"{title}: API"
    other = "<a href='/api.html?lang=en'>English</a>" if zh else "<a href='/api.html'>中文</a>"
    head = (
        ("方法", "路径", "说明", "参数（* 为必填）", "访问")
        if zh
        else ("Method", "Path", "Summary", "Parameters (* required)", "Access")
    )
    parts = [
        part
        for part in str(doc.get("info", {}).get("description") or "").split("\n\n")
        if part.strip()
    ]
    # the description's paragraphs in the page's language first
    parts.sort(key=lambda part: bool(_CJK.search(part)) != zh)
    notes = "".join(f"<p>{e(part)}</p>" for part in parts)
    return (
        f"<!doctype html><html lang='{'zh-CN' if zh else 'en'}'><head><meta charset='utf-8'>"
        f"<title>{heading}</title><style>{_CSS}</style></head><body>"
        f"<h1>{heading}</h1><p>OpenAPI 3.0：<a href='/api'>/api</a>（JSON） · {other}</p>"
        f"{notes}"
        "<table><tr>"
        + "".join(f"<th>{h}</th>" for h in head)
        + "</tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
