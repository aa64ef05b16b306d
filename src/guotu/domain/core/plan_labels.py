"""How a person reads the plan and version a layer or table belongs to.

Every layer and every table lives in a version of a plan (DESIGN §4). One imported without
``--plan`` gets an *implicit* plan of its own, named ``layer:<layer>`` or ``table:<table>``:
a stable id for the store, the audit log and the JSON id fields, but not a name a planner
reads. :func:`plan_version_label` is the one place that turns a plan and version into what
people read, in the CLI, the reports, the web UI and the ``*_label`` fields of JSON:

* a plan of the bureau's own: its name and the version (``示范县国土空间总体规划 2021版``);
* a layer's implicit plan: the layer with its role (``GHYD（规划用地）数据 v1``);
* a table's implicit plan: the table's name (``规划目标表 v1``).

:func:`plan_label` is the same without the version (a list of plans).
"""

from __future__ import annotations

from collections.abc import Mapping

from guotu.domain.core.roles import ROLE_NAMES

__all__ = [
    "IMPLICIT_LAYER_PREFIX",
    "IMPLICIT_TABLE_PREFIX",
    "TABLE_NAMES",
    "implicit_layer_plan",
    "implicit_table_plan",
    "is_implicit_plan",
    "plan_label",
    "plan_version_label",
]

#: Name prefix of the implicit plan of a layer imported without a plan (``layer:GHYD``).
IMPLICIT_LAYER_PREFIX = "layer:"
#: Name prefix of the implicit plan of a table recorded without a plan (``table:targets``).
IMPLICIT_TABLE_PREFIX = "table:"
#: The workspace tables by name: (Chinese name, English name).
TABLE_NAMES: Mapping[str, tuple[str, str]] = {
    "targets": ("规划目标", "plan targets"),
    "statistics": ("社会经济统计", "statistics"),
}


def implicit_layer_plan(layer: str) -> str:
    """The name of the implicit plan of ``layer``.

    Examples
    --------
    >>> implicit_layer_plan("GHYD")
    'layer:GHYD'
    """
    return f"{IMPLICIT_LAYER_PREFIX}{layer}"


def implicit_table_plan(table: str) -> str:
    """The name of the implicit plan of the table ``table``.

    Examples
    --------
    >>> implicit_table_plan("targets")
    'table:targets'
    """
    return f"{IMPLICIT_TABLE_PREFIX}{table}"


def is_implicit_plan(plan: str) -> bool:
    """Whether ``plan`` is the implicit plan of a layer or table (not a plan of the bureau).

    Examples
    --------
    >>> is_implicit_plan("layer:GHYD"), is_implicit_plan("示范县国土空间总体规划")
    (True, False)
    """
    return plan.startswith((IMPLICIT_LAYER_PREFIX, IMPLICIT_TABLE_PREFIX))


def plan_label(
    plan: str | None,
    lang: str = "zh",
    *,
    role: str | None = None,
    layer_roles: Mapping[str, str] | None = None,
) -> str:
    """The plan ``plan`` as a person reads it; ``—`` for no plan.

    ``role`` is the role id of the layer whose implicit plan it is, when known; else it is
    looked up in ``layer_roles`` (role id by layer name: ``{i.name: i.role for i in
    store.layers()}``).

    Examples
    --------
    >>> plan_label("layer:GHYD", role="planned_land_use"), plan_label("table:targets")
    ('GHYD（规划用地）数据', '规划目标表')
    >>> plan_label("layer:GHYD", "en", role="planned_land_use"), plan_label("layer:X1")
    ('GHYD (Master-plan land use) data', 'X1 图层数据')
    >>> plan_label("示范县国土空间总体规划"), plan_label(None)
    ('示范县国土空间总体规划', '—')
    """
    zh = lang != "en"
    if not plan:
        return "—"
    if plan.startswith(IMPLICIT_LAYER_PREFIX):
        layer = plan.removeprefix(IMPLICIT_LAYER_PREFIX)
        if role is None and layer_roles is not None:
            role = layer_roles.get(layer)
        names = ROLE_NAMES.get(role or "")
        if names is None:
            return f"{layer} 图层数据" if zh else f"layer {layer} data"
        return f"{layer}（{names[0]}）数据" if zh else f"{layer} ({names[1]}) data"
    if plan.startswith(IMPLICIT_TABLE_PREFIX):
        table = plan.removeprefix(IMPLICIT_TABLE_PREFIX)
        names = TABLE_NAMES.get(table)
        if names is None:
            return f"{table} 数据表" if zh else f"table {table}"
        return f"{names[0]}表" if zh else f"{names[1].capitalize()} table"
    return plan


def plan_version_label(
    plan: str | None,
    version: str | None,
    lang: str = "zh",
    *,
    role: str | None = None,
    layer_roles: Mapping[str, str] | None = None,
) -> str:
    """The plan and version a layer or table belongs to, as a person reads it: the one
    display of it in the CLI, the reports, the web UI and the ``*_label`` fields of JSON
    (the JSON id fields keep ``plan`` and ``version`` as stored).

    Parameters
    ----------
    plan, version
        The plan name and version label as stored (``layer:GHYD``, ``v1``).
    lang
        ``zh`` or ``en``.
    role, layer_roles
        The role id of the layer (``planned_land_use``), or the role ids by layer name, to
        name a layer's implicit plan (see :func:`plan_label`).

    Examples
    --------
    >>> plan_version_label("layer:GHYD", "v1", role="planned_land_use")
    'GHYD（规划用地）数据 v1'
    >>> plan_version_label("table:targets", "v2"), plan_version_label("table:targets", "v2", "en")
    ('规划目标表 v2', 'Plan targets table v2')
    >>> plan_version_label("示范县国土空间总体规划", "2021版")
    '示范县国土空间总体规划 2021版'
    >>> plan_version_label("layer:GHYD", None, role="planned_land_use")
    'GHYD（规划用地）数据（无现行版本）'
    """
    if not plan:
        return version or "—"
    name = plan_label(plan, lang, role=role, layer_roles=layer_roles)
    if version:
        return f"{name} {version}"
    return f"{name}（无现行版本）" if lang != "en" else f"{name} (no version in force)"
