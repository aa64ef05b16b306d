"""Graded access (分级开放) as every way out of the system asks it.

The decisions are :mod:`guotu.domain.access.policy`'s (:func:`~guotu.domain.access.policy.decide`
and its helpers); this module reads the workspace's layer policies through the store port,
keeps them per store and data version (the OGC, tile and site-query paths ask on every
request), and answers the questions a surface has:

* which layers a principal may read (:func:`readable_layer_names`, :func:`readable`), and the
  :class:`~guotu.errors.NotFoundError` for a layer they may not (:func:`require_readable`):
  **the same error as for a layer that does not exist**, listing only what they may read, so
  a restricted layer is never named or confirmed;
* which columns they see (:func:`visible_columns`) and which rows (:func:`rows_filter`,
  :func:`row_mask`: a 乡镇 user's own 行政区);
* recording reads and exports of 受限 layers in the audit log (:func:`record_restricted_read`).

:class:`LayerAccess` is one principal's view of one workspace's policies, with its answers
memoised; :func:`access_for` gives it (cached per store, data version and principal).
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from guotu.domain.access.grades import Grade
from guotu.domain.access.policy import (
    Action,
    LayerPolicy,
    Principal,
    RowFilter,
    decide,
    row_filter,
    visible_fields,
)
from guotu.domain.core.catalog import AuditEntry, LayerInfo
from guotu.domain.core.model import Plan
from guotu.domain.core.roles import get_role
from guotu.errors import NotFoundError, PermissionDeniedError
from guotu.ports import FeatureStore
from guotu.services.audit_writer import audit_event
from guotu.services.workspace import data_version

if TYPE_CHECKING:
    from guotu.services.diff import FeatureChange, LayerDiff, PlanDiff

__all__ = [
    "BUSINESS_ROLES",
    "RESTRICTED_NOTE",
    "LayerAccess",
    "access_for",
    "layer_not_found",
    "local_principal",
    "policies",
    "readable",
    "readable_layer_names",
    "record_restricted_read",
    "require_export",
    "require_plan",
    "require_readable",
    "require_whole",
    "restrict_diff",
    "row_mask",
    "rows_filter",
    "visible_columns",
    "visible_plans",
    "whole_layers",
]

#: The business roles (who work with plan data); a local command acts with all of them.
BUSINESS_ROLES = frozenset({"viewer", "editor", "reviewer", "approver"})

#: What an answer says when layers the user may not read were left out (never which).
RESTRICTED_NOTE = {"zh": "有受限图层未显示", "en": "Some restricted layers are not shown"}

#: Principals whose views of one store's policies are kept (per data version).
_VIEWS_KEPT = 256


def local_principal(username: str | None = "local") -> Principal:
    """The principal of a local command on a workspace: a user with every business role
    (no department, no region).

    Examples
    --------
    >>> sorted(local_principal().roles)
    ['approver', 'editor', 'reviewer', 'viewer']
    """
    return Principal(username or "local", BUSINESS_ROLES)


@dataclass(frozen=True)
class LayerAccess:
    """What ``principal`` may do with the layers of one workspace, whose current policies
    are ``policies`` (a layer without one is 内部). Answers are memoised: a view is kept per
    store, data version and principal (:func:`access_for`).

    Examples
    --------
    >>> from guotu.domain.access.policy import AccessList
    >>> farmland = LayerPolicy("YJJBNT", Grade.RESTRICTED,
    ...     {Action.READ: AccessList(departments=frozenset({"gengdi"}))})
    >>> view = LayerAccess(Principal("wang", frozenset({"viewer"}), "guihua"),
    ...                    {"YJJBNT": farmland})
    >>> view.readable(["GHYD", "YJJBNT"])
    ['GHYD']
    """

    principal: Principal
    policies: Mapping[str, LayerPolicy]
    _memo: dict[tuple[Any, ...], Any] = field(
        default_factory=dict, compare=False, repr=False, hash=False
    )

    def policy(self, layer: str) -> LayerPolicy:
        """The policy of ``layer`` (the default, 内部 and naming nobody, when it has none)."""
        return self.policies.get(layer) or LayerPolicy(layer)

    def may(self, action: Action, layer: str) -> bool:
        """May the principal do ``action`` to ``layer``?"""
        key = ("may", action, layer)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = decide(self.principal, action, self.policy(layer))
        return bool(found)

    def may_read(self, layer: str) -> bool:
        """May the principal read ``layer``?"""
        return self.may(Action.READ, layer)

    def readable(self, layers: Iterable[str]) -> list[str]:
        """The layers of ``layers`` the principal may read, in their order."""
        return [name for name in layers if self.may(Action.READ, name)]

    def is_restricted(self, layer: str) -> bool:
        """Whether ``layer`` is graded 受限 (its reads and exports are audited)."""
        return self.policy(layer).grade is Grade.RESTRICTED

    def columns(self, layer: str, columns: Iterable[str]) -> list[str]:
        """The columns of ``columns`` the principal may see (hidden fields left out)."""
        policy = self.policy(layer)
        names = list(columns)
        if not policy.hidden_fields:
            return names
        return visible_fields(self.principal, names, policy)

    def hidden(self, layer: str) -> frozenset[str]:
        """The fields of ``layer``'s policy the principal may not see."""
        key = ("hidden", layer)
        found = self._memo.get(key)
        if found is None:
            policy = self.policy(layer)
            shown = set(visible_fields(self.principal, list(policy.hidden_fields), policy))
            found = self._memo[key] = frozenset(set(policy.hidden_fields) - shown)
        return frozenset(found)

    def row_filter(self, layer: str) -> RowFilter | None:
        """The rows of ``layer`` the principal is limited to (``None``: every row)."""
        return row_filter(self.principal, self.policy(layer))

    def is_whole(self, layer: str, action: Action = Action.READ) -> bool:
        """Whether the principal may ``action`` the whole layer: every row (no region limit)."""
        return self.may(action, layer) and self.row_filter(layer) is None

    def view_key(self, layer: str) -> str:
        """What differs between principals in what they see of a readable ``layer``: the
        hidden fields and the row filter (``""`` when they see all of it). Caches of what a
        layer shows (tiles) key on it, so one user's tile never serves another."""
        key = ("view", layer)
        found = self._memo.get(key)
        if found is None:
            hidden = sorted(self.hidden(layer))
            rows = self.row_filter(layer)
            parts = []
            if hidden:
                parts.append("-" + ",".join(hidden))
            if rows is not None:
                parts.append(f"{rows.field}^" + ",".join(sorted(rows.prefixes)))
            found = self._memo[key] = "|".join(parts)
        return str(found)


# -- the policies of a store, kept per data version --------------------------------------------
_lock = threading.Lock()
_kept: weakref.WeakKeyDictionary[Any, tuple[str, Mapping[str, LayerPolicy], dict[Any, Any]]] = (
    weakref.WeakKeyDictionary()
)


def _entry(
    store: FeatureStore, version: str | None
) -> tuple[Mapping[str, LayerPolicy], dict[Any, Any]]:
    version = version if version is not None else data_version(store)
    with _lock:
        found = _kept.get(store)
    if found is not None and found[0] == version:
        return found[1], found[2]
    read = dict(store.layer_policies())
    views: dict[Any, Any] = {}
    with _lock:
        _kept[store] = (version, read, views)
    return read, views


def policies(store: FeatureStore, *, version: str | None = None) -> Mapping[str, LayerPolicy]:
    """The current policy of every layer that has one, read once per store and data version
    (``version``: :func:`~guotu.services.workspace.data_version`, when the caller has it)."""
    return _entry(store, version)[0]


def access_for(
    store: FeatureStore, principal: Principal, *, version: str | None = None
) -> LayerAccess:
    """``principal``'s :class:`LayerAccess` to ``store``'s layers as of its data version
    (kept: the same object answers every request of that principal until something is
    recorded)."""
    read, views = _entry(store, version)
    found: LayerAccess | None = views.get(principal)
    if found is None:
        found = LayerAccess(principal, read)
        with _lock:
            if len(views) >= _VIEWS_KEPT:
                views.clear()
            views[principal] = found
    return found


def readable(store: FeatureStore, principal: Principal, layer: str) -> bool:
    """May ``principal`` read ``layer``?"""
    return access_for(store, principal).may_read(layer)


def readable_layer_names(
    store: FeatureStore, principal: Principal, layers: Iterable[str] | None = None
) -> list[str]:
    """The names of ``layers`` (default: every layer of the workspace) ``principal`` may read,
    in their order."""
    names = [i.name for i in store.layers()] if layers is None else list(layers)
    return access_for(store, principal).readable(names)


def visible_columns(
    store: FeatureStore, principal: Principal, layer: str, columns: Iterable[str]
) -> list[str]:
    """The columns of ``columns`` of ``layer`` that ``principal`` may see."""
    return access_for(store, principal).columns(layer, columns)


def rows_filter(store: FeatureStore, principal: Principal, layer: str) -> RowFilter | None:
    """The rows of ``layer`` ``principal`` is limited to, or ``None`` for all of them."""
    return access_for(store, principal).row_filter(layer)


def row_mask(values: Any, rows: RowFilter | None) -> np.ndarray:
    """Which of ``values`` (a region-code column) ``rows`` admits, as a boolean array (all
    true without a filter); vectorised, with :meth:`RowFilter.admits`'s reading of a value.

    Examples
    --------
    >>> row_mask(["330102001", " 330102001007", "330103", None],
    ...          RowFilter("XZQDM", ("330102001",))).tolist()
    [True, True, False, False]
    """
    series = pd.Series(np.asarray(values, dtype=object), dtype=object)
    if rows is None:
        return np.ones(len(series), dtype=bool)
    text = series.where(series.notna(), "").astype(str).str.strip()
    return np.asarray(text.str.startswith(tuple(rows.prefixes)).to_numpy(), dtype=bool)


def layer_not_found(name: str, shown: Sequence[str], *, noun: str = "layer") -> NotFoundError:
    """The error for a layer ``name`` that does not exist *or* may not be read: the same
    words either way, listing ``shown`` (the layers the user may read) only.

    ``noun`` is ``"layer"`` (图层) or ``"collection"`` (要素集合, the OGC API's word).

    Examples
    --------
    >>> layer_not_found("YJJBNT", ["GHYD"]).render("en")
    "There is no layer 'YJJBNT'. Fix: Layers: GHYD."
    """
    zh = "要素集合" if noun == "collection" else "图层"
    label = "Collections" if noun == "collection" else "Layers"
    return NotFoundError(
        f"There is no {noun} {name!r}.",
        layer=name,
        fix=f"{label}: {', '.join(shown) or 'none yet'}.",
        message_zh=f"没有{zh} {name!r}。",
        fix_zh=f"现有{zh}：{'、'.join(shown) or '暂无'}。",
    )


def require_readable(
    store: FeatureStore,
    principal: Principal | LayerAccess,
    layer: str,
    *,
    noun: str = "layer",
) -> LayerInfo:
    """The :class:`LayerInfo` of ``layer`` when the principal may read it; otherwise
    :func:`layer_not_found`, exactly as for a layer the workspace does not have."""
    access = principal if isinstance(principal, LayerAccess) else access_for(store, principal)
    infos = store.layers()
    for info in infos:
        if info.name == layer and access.may_read(layer):
            return info
    raise layer_not_found(layer, access.readable(i.name for i in infos), noun=noun)


def record_restricted_read(
    store: FeatureStore,
    principal: Principal | LayerAccess,
    layer: str,
    what: str,
    address: str = "",
    *,
    action: Action = Action.READ,
    sink: Callable[[AuditEntry], None] | None = None,
) -> bool:
    """Record in the audit log that ``principal`` read (or exported: ``action``) the 受限
    layer ``layer`` through ``what`` (``ogc-items``, ``tilejson``, ``site-query``, a report
    …) from ``address``; nothing for a layer of another grade. Whether it recorded.

    ``sink`` takes the event instead of writing it now (the server's
    :class:`~guotu.services.audit_writer.AuditWriter`, off the request path)."""
    access = principal if isinstance(principal, LayerAccess) else access_for(store, principal)
    if not access.is_restricted(layer):
        return False
    who = access.principal
    event = audit_event(
        who.username or "anonymous",
        f"{action.value}_restricted",
        f"layer:{layer}",
        detail={"what": what},
        department=who.department or "",
        address=address,
    )
    if sink is not None:
        sink(event)
    else:
        store.audit_events([event])
    return True


def require_whole(
    store: FeatureStore,
    principal: Principal | LayerAccess,
    layer: str,
    what: tuple[str, str] = ("table", "统计表"),
) -> LayerAccess:
    """``principal``'s access when they may see ``what`` (English and Chinese names of a
    用地平衡表 …), a sum over every
    feature of ``layer`` and its code field: a layer they may not read is not found (as an
    unknown one); one limited to their 行政区, or whose code field is hidden, is refused."""
    access = principal if isinstance(principal, LayerAccess) else access_for(store, principal)
    info = require_readable(store, access, layer)
    code_field = get_role(info.role).code_field
    if access.row_filter(layer) is not None or code_field in access.hidden(layer):
        raise PermissionDeniedError(
            f"The {what[0]} of {layer} sums the whole layer, which you may not see.",
            layer=layer,
            message_zh=f"{what[1]}统计 {layer} 整个图层，您无权查看其全部要素。",
        )
    return access


def whole_layers(store: FeatureStore, principal: Principal | LayerAccess) -> frozenset[str]:
    """The layers ``principal`` may read whole (every row: no region limit): what a
    workspace-wide computation for them (a review, an indicator) may read."""
    access = principal if isinstance(principal, LayerAccess) else access_for(store, principal)
    return frozenset(i.name for i in store.layers() if access.is_whole(i.name))


def require_export(
    store: FeatureStore,
    principal: Principal | LayerAccess,
    layers: Iterable[str],
    what: str,
    address: str = "",
) -> None:
    """Let a download (``what``: a report, a table) through when ``principal`` may export
    every layer of ``layers``, recording the exports of 受限 ones; else
    :class:`PermissionDeniedError`, naming none of them."""
    access = principal if isinstance(principal, LayerAccess) else access_for(store, principal)
    names = list(layers)
    if not all(access.may(Action.EXPORT, name) for name in names):
        raise PermissionDeniedError(
            "You may not download this: it holds layers you may not export.",
            fix="Ask your department administrator for the export permission.",
            message_zh="您无权下载此内容：其中包含您无权导出的图层。",
            fix_zh="请向本部门管理员申请导出权限。",
        )
    for name in names:
        record_restricted_read(store, access, name, what, address, action=Action.EXPORT)


# -- plans and their differences ---------------------------------------------------------------
def visible_plans(store: FeatureStore, principal: Principal | LayerAccess) -> list[Plan]:
    """The plans ``principal`` may know of: those with a layer they may read, and those with
    no layer at all (a table's plan); a plan of layers they may read none of is hidden."""
    access = principal if isinstance(principal, LayerAccess) else access_for(store, principal)
    layers: dict[str, list[str]] = {}
    for info in store.layers():
        layers.setdefault(info.plan, []).append(info.name)
    return [p for p in store.plans() if not layers.get(p.name) or access.readable(layers[p.name])]


def require_plan(store: FeatureStore, principal: Principal | LayerAccess, name: str) -> Plan:
    """The plan ``name`` when ``principal`` may know of it (:func:`visible_plans`); otherwise
    the store's error for a plan that does not exist, listing only the plans they may know."""
    shown = visible_plans(store, principal)
    for plan in shown:
        if plan.name == name:
            return plan
    known = ", ".join(p.name for p in shown) or "none yet"
    raise NotFoundError(
        f"There is no plan {name!r}.",
        fix=f"Plans: {known}; create one with `guotu plan create`.",
        message_zh=f"不存在规划 {name!r}。",
        fix_zh=f"现有规划：{known}；可用 guotu plan create 新建。",
    )


def restrict_diff(diff: PlanDiff, access: LayerAccess) -> PlanDiff:
    """``diff`` as ``access``'s principal may see it: without the layers they may not read,
    the fields hidden from them (a change only to hidden fields is no change to them) and,
    on a layer limited to their 行政区, the features outside it (and the code matrix, which
    sums over every feature)."""
    return dataclasses.replace(
        diff,
        layers=tuple(_layer_diff(d, access) for d in diff.layers if access.may_read(d.layer)),
    )


def _layer_diff(d: LayerDiff, access: LayerAccess) -> LayerDiff:
    hidden, rows = access.hidden(d.layer), access.row_filter(d.layer)
    if not hidden and rows is None:
        return d
    admitted: set[int] = set()
    if rows is not None:
        for frame in (d.old, d.new):
            if rows.field in frame.columns:
                mask = row_mask(frame[rows.field].to_numpy(), rows)
                admitted.update(int(f) for f in frame.index[mask])
    changes: list[FeatureChange] = []
    for c in d.changes:
        fids = {f for f in (c.old_fid, c.new_fid) if f is not None}
        if rows is not None and not fids <= admitted:
            continue
        fields = {k: v for k, v in c.changed_fields.items() if k not in hidden}
        if c.kind == "changed" and not fields and not c.is_geometry_changed:
            continue
        key = None if d.key_field in hidden else c.key
        changes.append(dataclasses.replace(c, changed_fields=fields, key=key))
    is_code_shown = d.code_field is not None and d.code_field not in hidden
    return dataclasses.replace(
        d,
        changes=tuple(changes),
        key_field=None if d.key_field in hidden else d.key_field,
        code_field=d.code_field if is_code_shown else None,
        matrix={} if rows is not None or not is_code_shown else d.matrix,
        old=d.old.drop(columns=[c for c in hidden if c in d.old.columns]),
        new=d.new.drop(columns=[c for c in hidden if c in d.new.columns]),
    )
