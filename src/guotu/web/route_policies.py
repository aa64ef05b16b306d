"""Who may call each route: one table, keyed by (method, path template), for every route.

A policy is one of:

* ``public``: anyone, anonymous included; what the answer holds is filtered by the layers'
  open grades inside the handler (:mod:`guotu.services.access`);
* ``signed_in``: any signed-in user (a browser session or an access token);
* ``session``: a user signed in through a browser session (not an access token: a token
  cannot make or list tokens);
* ``permission:<name>``: a signed-in user whose roles (and, through a token, its scopes) carry
  that :class:`~guotu.domain.access.roles.Permission`.

:func:`refusal` gives the answer a principal gets before the handler runs: 401 when nobody is
signed in, 403 when someone is but may not. A route missing from :data:`ROUTE_POLICIES` is
never served open: :func:`undeclared_routes` lists it (``create_app`` refuses to build an app
with one, and a test enumerates the app's routes), and a request reaching it answers 500.
A browser session whose password must be changed first (an initial or expired one) reaches
only the routes of :data:`PASSWORD_CHANGE_ROUTES`. The checks themselves run in
:mod:`guotu.web.security`, before the request's body is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from guotu.domain.access.policy import Principal
from guotu.domain.access.roles import Permission
from guotu.errors import AuthenticationError, GuotuError, PermissionDeniedError
from guotu.web.errors import routes_of

__all__ = [
    "PASSWORD_CHANGE_ROUTES",
    "PUBLIC",
    "ROUTE_POLICIES",
    "SESSION",
    "SIGNED_IN",
    "RouteMatch",
    "match_route",
    "policy_of",
    "refusal",
    "route_keys",
    "undeclared_routes",
]

PUBLIC = "public"
SIGNED_IN = "signed_in"
SESSION = "session"
_EXPORT = f"permission:{Permission.EXPORT.value}"
_REVIEW = f"permission:{Permission.REVIEW.value}"
_ACCOUNTS = f"permission:{Permission.MANAGE_ACCOUNTS.value}"
_GRANT = f"permission:{Permission.GRANT.value}"
_SET_POLICY = f"permission:{Permission.SET_POLICY.value}"
_READ_AUDIT = f"permission:{Permission.READ_AUDIT.value}"
_READ = f"permission:{Permission.READ.value}"
_ACCEPT = f"permission:{Permission.ACCEPT.value}"

#: Every route of the app and its policy. Reading data and the pages is public (handlers
#: filter by grade); running a review needs ``review``; downloading a report or a table as a
#: file needs ``export``.
ROUTE_POLICIES: Mapping[tuple[str, str], str] = {
    # OGC API - Features (ogc_features)
    ("GET", "/"): PUBLIC,
    ("GET", "/conformance"): PUBLIC,
    ("GET", "/collections"): PUBLIC,
    ("GET", "/collections/{layer}"): PUBLIC,
    ("GET", "/collections/{layer}/queryables"): PUBLIC,
    ("GET", "/collections/{layer}/items"): PUBLIC,
    ("GET", "/collections/{layer}/items/{fid}"): PUBLIC,
    # vector tiles (tiles)
    ("GET", "/tiles/{layer}.json"): PUBLIC,
    ("GET", "/tiles/{layer}/{z}/{x}/{y}.mvt"): PUBLIC,
    # site query (query): reading, also when the site is a polygon sent in the body
    ("GET", "/query"): PUBLIC,
    ("POST", "/query"): PUBLIC,
    ("GET", "/query/sheet"): PUBLIC,
    # plan review (review): running one, following a job, downloading a report
    ("POST", "/review/{kind}"): _REVIEW,
    ("POST", "/review/{kind}/jobs"): _REVIEW,
    ("GET", "/review/jobs/{job_id}"): _REVIEW,
    ("GET", "/review/reports/{report_id}.{fmt}"): _EXPORT,
    # monitoring (monitor): the dashboard's data, and the 体检评估 report as a file
    ("GET", "/monitor/indicators.json"): PUBLIC,
    ("GET", "/monitor/cases.json"): PUBLIC,
    ("GET", "/monitor/consolidation.json"): PUBLIC,
    ("GET", "/monitor/report.{fmt}"): _EXPORT,
    # the web UI (ui): pages, their own files, their data; the balance table as a file
    ("GET", "/ui"): PUBLIC,
    ("GET", "/ui/"): PUBLIC,
    ("GET", "/ui/monitor"): PUBLIC,
    ("GET", "/ui/login"): PUBLIC,
    ("GET", "/ui/password"): PUBLIC,
    ("GET", "/ui/admin"): PUBLIC,
    ("GET", "/ui/cases"): PUBLIC,
    ("GET", "/ui/cases/new"): PUBLIC,
    ("GET", "/ui/cases/case"): PUBLIC,
    ("GET", "/ui/cases/stats"): PUBLIC,
    ("GET", "/ui/static/{name}"): PUBLIC,
    ("GET", "/ui/vendor/{name}"): PUBLIC,
    ("GET", "/ui/config.json"): PUBLIC,
    ("GET", "/ui/balance.json"): PUBLIC,
    ("GET", "/ui/balance.{fmt}"): _EXPORT,
    ("GET", "/ui/plans.json"): PUBLIC,
    ("GET", "/ui/diff.json"): PUBLIC,
    # approval cases (approvals): reading needs 查看; intake needs 窗口受理; what a person
    # records on a case is decided by the case's stage (the service refuses others); an
    # issued document's verification is public (what it shows depends on the case's grade)
    ("GET", "/cases/procedures.json"): _READ,
    ("GET", "/cases.json"): _READ,
    ("POST", "/cases"): _ACCEPT,
    ("GET", "/cases/stats.json"): _READ,
    ("GET", "/cases/{case_id}.json"): _READ,
    ("POST", "/cases/{case_id}/events"): SIGNED_IN,
    ("POST", "/cases/{case_id}/files"): SIGNED_IN,
    ("GET", "/cases/{case_id}/files/{n}"): _READ,
    ("GET", "/verify/{token}.json"): PUBLIC,
    ("GET", "/verify/{token}"): PUBLIC,
    # the API's own description (app)
    ("GET", "/api"): PUBLIC,
    ("GET", "/api.html"): PUBLIC,
    # signing in and out, who am I, access tokens (auth)
    ("POST", "/auth/sign-in"): PUBLIC,
    ("POST", "/auth/sign-out"): PUBLIC,
    ("GET", "/auth/me"): SIGNED_IN,
    ("POST", "/auth/password"): SESSION,
    ("GET", "/auth/tokens"): SESSION,
    ("POST", "/auth/tokens"): SESSION,
    ("DELETE", "/auth/tokens/{token_id}"): SESSION,
    # the unified identity platform (auth_oidc): how to sign in, the flow out and back
    ("GET", "/auth/methods"): PUBLIC,
    ("GET", "/auth/oidc/start"): PUBLIC,
    ("GET", "/auth/oidc/callback"): PUBLIC,
    # administration (admin, admin_policies, admin_audit): each part needs its
    # administrator's permission (三员分立)
    ("GET", "/admin/accounts.json"): _ACCOUNTS,
    ("POST", "/admin/users"): _ACCOUNTS,
    ("POST", "/admin/users/{username}/disable"): _ACCOUNTS,
    ("POST", "/admin/users/{username}/enable"): _ACCOUNTS,
    ("POST", "/admin/users/{username}/unlock"): _ACCOUNTS,
    ("POST", "/admin/users/{username}/password"): _ACCOUNTS,
    ("POST", "/admin/departments"): _ACCOUNTS,
    ("PUT", "/admin/departments/{department}"): _ACCOUNTS,
    ("GET", "/admin/roles.json"): _GRANT,
    ("PUT", "/admin/users/{username}/roles"): _GRANT,
    ("GET", "/admin/policies.json"): _SET_POLICY,
    ("PUT", "/admin/policies/{layer}"): _SET_POLICY,
    ("GET", "/admin/audit.json"): _READ_AUDIT,
    ("GET", "/admin/audit.csv"): _READ_AUDIT,
}


def _check_table(table: Mapping[tuple[str, str], str]) -> None:
    """Every policy in the table is one of the known forms (at import: a typo is a bug)."""
    for key, policy in table.items():
        kind, _, name = policy.partition(":")
        if kind == "permission":
            Permission(name)  # ValueError for an unknown permission
        elif policy not in (PUBLIC, SIGNED_IN, SESSION):
            raise ValueError(f"unknown route policy {policy!r} for {key}")


_check_table(ROUTE_POLICIES)

#: What a browser session whose password must be changed first (``password_change`` of
#: ``GET /auth/me``: an initial password an administrator set, or an expired one) may still
#: call; the gate (:class:`guotu.web.security.Gate`) answers every other route 403
#: ``password-change-required``. Who am I, change the password, sign out (or in again, as
#: another user too, through 统一认证 as well), the sign-in and password pages, and the pages'
#: own files: the map, monitoring, approval and administration pages are files without data,
#: whose scripts open the password page.
PASSWORD_CHANGE_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/auth/me"),
        ("POST", "/auth/password"),
        ("POST", "/auth/sign-out"),
        ("POST", "/auth/sign-in"),
        ("GET", "/auth/methods"),
        ("GET", "/auth/oidc/start"),
        ("GET", "/auth/oidc/callback"),
        ("GET", "/ui/login"),
        ("GET", "/ui/password"),
        ("GET", "/ui"),
        ("GET", "/ui/"),
        ("GET", "/ui/monitor"),
        ("GET", "/ui/admin"),
        ("GET", "/ui/cases"),
        ("GET", "/ui/cases/new"),
        ("GET", "/ui/cases/case"),
        ("GET", "/ui/cases/stats"),
        ("GET", "/ui/static/{name}"),
        ("GET", "/ui/vendor/{name}"),
    }
)
if PASSWORD_CHANGE_ROUTES - set(ROUTE_POLICIES):  # a typo is a bug
    raise ValueError(f"undeclared routes: {sorted(PASSWORD_CHANGE_ROUTES - set(ROUTE_POLICIES))}")


@dataclass(frozen=True)
class RouteMatch:
    """The route a request goes to: its table key, its policy (``None``: undeclared) and the
    route object the router will run."""

    key: tuple[str, str]
    policy: str | None
    route: Any


def route_keys(route: Any) -> list[tuple[str, str]]:
    """The table keys of one route (of :func:`guotu.web.errors.routes_of`): one per method;
    a mounted app (static files) is keyed ``GET``."""
    methods: Iterable[str] = getattr(route, "methods", None) or ("GET",)
    return [(m, route.path_format) for m in sorted(set(methods) - {"HEAD"} or {"GET"})]


def undeclared_routes(
    app: Any, table: Mapping[tuple[str, str], str] | None = None
) -> list[tuple[str, str]]:
    """The (method, path template) of every route of ``app`` without a policy in ``table``
    (default :data:`ROUTE_POLICIES`)."""
    declared = ROUTE_POLICIES if table is None else table
    return [key for route in routes_of(app) for key in route_keys(route) if key not in declared]


def require_declared(app: Any) -> None:
    """Refuse (:class:`GuotuError`) an app with a route missing from :data:`ROUTE_POLICIES`."""
    missing = undeclared_routes(app)
    if missing:
        listed = ", ".join(f"{m} {p}" for m, p in missing)
        raise GuotuError(
            f"Routes without an access policy: {listed}.",
            fix="Declare a policy for each in guotu.web.route_policies.ROUTE_POLICIES.",
            message_zh=f"以下路由没有声明访问策略：{listed}。",
            fix_zh="请在 guotu.web.route_policies.ROUTE_POLICIES 中为其声明策略。",
        )


def match_route(app: Any, method: str, path: str) -> RouteMatch | None:
    """The route the router will run for ``method`` ``path`` (the first whose path and method
    both match, as Starlette chooses), or ``None`` when none does (the router answers 404 or
    405 without running anything)."""
    wanted = "GET" if method == "HEAD" else method
    for route in routes_of(app):
        regex = getattr(route, "path_regex", None)
        if regex is None or not regex.match(path):
            continue
        methods = getattr(route, "methods", None)
        if methods is None or wanted in methods or method in methods:
            key = (wanted if methods is not None else "GET", route.path_format)
            return RouteMatch(key, ROUTE_POLICIES.get(key), getattr(route, "original_route", route))
    return None


def policy_of(route: Any) -> str | None:
    """The policy of a route object as the router matched it (``request.scope["route"]``)."""
    path = getattr(route, "path_format", None)
    methods = getattr(route, "methods", None) or ("GET",)
    found = {ROUTE_POLICIES.get((m, path)) for m in methods if m != "HEAD"} if path else {None}
    return found.pop() if len(found) == 1 else None


_PERMISSION_ZH = {
    Permission.READ: "查看",
    Permission.EXPORT: "导出",
    Permission.EDIT: "编辑",
    Permission.REVIEW: "审查",
    Permission.APPROVE: "审批",
    Permission.ACCEPT: "窗口受理",
    Permission.MANAGE_DEPARTMENT: "部门管理",
    Permission.MANAGE_ACCOUNTS: "账号管理",
    Permission.CONFIGURE: "系统配置",
    Permission.GRANT: "授权",
    Permission.SET_POLICY: "访问策略设置",
    Permission.READ_AUDIT: "审计查阅",
}


def not_signed_in() -> AuthenticationError:
    """The refusal of an anonymous request to a route that needs a user."""
    return AuthenticationError(
        "Sign in first: this needs a signed-in user.",
        fix="Sign in, or send an access token (Authorization: Bearer gt_…).",
        message_zh="请先登录：此操作需要登录用户。",
        fix_zh="请登录，或在请求中携带访问令牌（Authorization: Bearer gt_…）。",
    )


def refusal(policy: str | None, who: Principal, via: str) -> GuotuError | None:
    """What ``who`` (signed in ``via`` ``session``, ``token``, ``local`` or not at all) gets
    from a route with ``policy``: ``None`` to go on, else the error to answer with (401
    anonymous, 403 signed in without the permission, 500 no policy).

    Examples
    --------
    >>> from guotu.domain.access.policy import ANONYMOUS
    >>> refusal("permission:review", ANONYMOUS, "").http_status
    401
    >>> refusal("permission:review", Principal("li", frozenset({"viewer"})), "session").code
    'forbidden'
    >>> refusal("public", ANONYMOUS, "") is None
    True
    """
    if policy is None:
        return GuotuError(
            "This route has no declared access policy and is not served.",
            message_zh="该地址未声明访问策略，不予提供。",
        )
    if policy == PUBLIC:
        return None
    if who.is_anonymous:
        return not_signed_in()
    if policy == SIGNED_IN:
        return None
    if policy == SESSION:
        if via == "session":
            return None
        return PermissionDeniedError(
            "This needs a browser session: an access token cannot do it.",
            fix="Sign in in the browser.",
            message_zh="此操作须在浏览器中登录后进行，访问令牌不能执行。",
            fix_zh="请在浏览器中登录后操作。",
        )
    needed = Permission(policy.partition(":")[2])
    if needed in who.permissions:
        return None
    return PermissionDeniedError(
        f"Your roles do not allow this: it needs the {needed.value} permission.",
        fix="Ask the security administrator for a role that has it.",
        message_zh=f"您的角色无权执行此操作：需要“{_PERMISSION_ZH[needed]}”权限。",
        fix_zh="如需此权限，请联系安全管理员授予相应角色。",
    )
