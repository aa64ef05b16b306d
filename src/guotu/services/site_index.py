"""The index of the site query (空间码), read from a workspace: every layer in force on a date
(as recorded at a time) and what the versions pending in 公示/报批 would add or remove, as the
feature groups of one :class:`guotu.domain.site.query.SiteIndex` (:func:`read_site_index`).

The index holds every layer; what one principal sees of it is a :class:`SiteView`
(:func:`site_view`): the groups of the layers they may read, without their hidden fields, and
only the rows of their own 行政区 where a layer limits them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from guotu.domain.core.model import Version
from guotu.domain.core.roles import get_role
from guotu.domain.site.query import FeatureGroup, SiteIndex, build_site_index
from guotu.errors import NotFoundError
from guotu.ports import FeatureStore
from guotu.services.access import LayerAccess, row_mask
from guotu.services.checking import frame_attributes
from guotu.services.review import load_rule_pack

__all__ = ["SiteView", "read_site_index", "site_view"]


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _version_dict(v: Version | None) -> dict[str, Any] | None:
    if v is None:
        return None
    return {
        "id": v.id,
        "label": v.label,
        "status": v.status.value,
        "valid_from": _iso(v.valid_from),
        "valid_to": _iso(v.valid_to),
        "approval_no": v.approval_no or None,
        "approval_organ": v.approval_organ or None,
        "approval_date": _iso(v.approval_date),
        "recorded_at": v.recorded_at.isoformat(),
    }


def _id_field(role: str) -> str:
    try:
        return get_role(role).id_field
    except NotFoundError:
        return "BSM"


def _group(
    name: str, role: str, frame: Any, plan: str | None, version: Version | None, change: str | None
) -> FeatureGroup:
    id_field = _id_field(role)
    attrs = frame_attributes(frame)
    fids = np.asarray(frame.index.to_numpy(), dtype=np.int64)
    ids = attrs.get(id_field)
    if ids is None:
        ids = np.asarray([str(f) for f in fids.tolist()], dtype=object)
    return FeatureGroup(
        name,
        role,
        id_field,
        plan,
        _version_dict(version),
        change,
        fids,
        ids,
        np.asarray(frame.geometry.values, dtype=object),
        attrs,
    )


def read_site_index(
    store: FeatureStore,
    *,
    as_of: date,
    known_at: datetime | None,
    pack: str = "cn-base",
    key: tuple[Any, ...] = (),
) -> SiteIndex:
    """Read every layer in force on ``as_of`` (and what pending versions change) into a
    :class:`SiteIndex`.

    Examples
    --------
    A workspace without layers has nothing to index:

    >>> from guotu.store.memory import MemoryStore
    >>> read_site_index(MemoryStore(), as_of=date(2026, 1, 1), known_at=None)
    Traceback (most recent call last):
    ...
    guotu.errors.NotFoundError: The workspace has no layer yet. Fix: Import layers first.
    """
    if store.crs is None:
        raise NotFoundError(
            "The workspace has no layer yet.",
            fix="Import layers first.",
            message_zh="工作空间中还没有图层。",
            fix_zh="请先导入图层。",
        )
    groups: list[FeatureGroup] = []
    pending_groups: list[FeatureGroup] = []
    for info in store.layers():
        version = store.layer_version(info.name, as_of=as_of, known_at=known_at)
        plan = info.plan or None
        if version is not None:
            frame = store.read_layer(info.name, as_of=as_of, known_at=known_at)
            if plan is None:
                plan = store.plan(version.plan_id).name
        else:
            frame = None
        current = set(frame.index.tolist()) if frame is not None else set()
        if frame is not None and len(frame):
            groups.append(_group(info.name, info.role, frame, plan, version, None))
        if plan is None:
            continue
        for pv in store.pending(plan, known_at=known_at):
            future = store.read_layer(info.name, version_id=pv.id)
            fids = set(future.index.tolist())
            added = future.loc[sorted(fids - current)]
            if len(added):
                pending_groups.append(_group(info.name, info.role, added, plan, pv, "added"))
            gone = sorted(current - fids)
            if gone and frame is not None:
                pending_groups.append(
                    _group(info.name, info.role, frame.loc[gone], plan, pv, "removed")
                )
    return build_site_index(store.crs, groups + pending_groups, pack=load_rule_pack(pack), key=key)


@dataclass(frozen=True)
class SiteView:
    """What one principal sees of a :class:`SiteIndex`, group by group: whether the group's
    layer is shown, the fields hidden from them, which rows they may see (``None``: all) and
    whether the layer is 受限.

    ``is_omitting`` says that layers they may not read were left out (an answer says so,
    never which); ``is_region_limited`` that some layer shows them their own area's rows
    only."""

    is_shown: tuple[bool, ...]
    hidden: tuple[frozenset[str], ...]
    rows: tuple[npt.NDArray[np.bool_] | None, ...]
    is_omitting: bool = False
    is_region_limited: bool = False
    is_restricted: tuple[bool, ...] = ()  # the group's layer is 受限 (its reads are audited)

    def admits(self, group: int, row: int) -> bool:
        """Whether the principal sees feature ``row`` of group ``group``."""
        if not self.is_shown[group]:
            return False
        mask = self.rows[group]
        return mask is None or bool(mask[row])


def site_view(index: SiteIndex, access: LayerAccess) -> SiteView:
    """What ``access``'s principal sees of ``index`` (built once per index and principal by
    the caller: the row masks cost a pass over the limited layers' region codes).

    Examples
    --------
    >>> from pyproj import CRS
    >>> from shapely import box
    >>> from guotu.domain.access.policy import LayerPolicy, Principal
    >>> from guotu.domain.site.query import FeatureGroup, build_site_index
    >>> codes = np.array(["330102001", "330103001"], dtype=object)
    >>> g = FeatureGroup("CZGH", "planned_land_use", "BSM", None, None, None, np.array([1, 2]),
    ...                  np.array(["a", "b"], dtype=object),
    ...                  np.array([box(0, 0, 1, 1), box(1, 0, 2, 1)], dtype=object),
    ...                  {"XZQDM": codes})
    >>> town = Principal("zhao", frozenset({"viewer"}), "xiangzhen", ("330102001",))
    >>> view = site_view(build_site_index(CRS.from_epsg(4527), [g]),
    ...                  LayerAccess(town, {"CZGH": LayerPolicy("CZGH", region_field="XZQDM")}))
    >>> view.admits(0, 0), view.admits(0, 1), view.is_region_limited
    (True, False, True)
    """
    shown: list[bool] = []
    hidden: list[frozenset[str]] = []
    rows: list[npt.NDArray[np.bool_] | None] = []
    for g in index.groups:
        is_shown = access.may_read(g.layer)
        shown.append(is_shown)
        hidden.append(access.hidden(g.layer) if is_shown else frozenset())
        limit = access.row_filter(g.layer) if is_shown else None
        if limit is None:
            rows.append(None)
        elif limit.field in g.attributes:
            rows.append(row_mask(g.attributes[limit.field], limit))
        else:  # the layer has no region field: no row is the principal's
            rows.append(np.zeros(len(g.fids), dtype=bool))
    return SiteView(
        tuple(shown),
        tuple(hidden),
        tuple(rows),
        is_omitting=not all(shown),
        is_region_limited=any(r is not None for r in rows),
        is_restricted=tuple(access.is_restricted(g.layer) for g in index.groups),
    )
