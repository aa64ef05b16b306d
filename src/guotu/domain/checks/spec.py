"""What a check operator is given: its configured :class:`CheckSpec` and the
:class:`CheckContext` of every loaded layer; and what it returns (:data:`CheckResult`).

The operator modules (:mod:`~guotu.domain.checks.attributes`,
:mod:`~guotu.domain.checks.feature_geometry`, :mod:`~guotu.domain.checks.topology`) import
this module only; :mod:`guotu.domain.checks.engine` registers them and runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from guotu.domain.core.findings import Finding, Severity, Skipped
from guotu.domain.core.layers import LayerData
from guotu.domain.geometry.polygons import polygonal_parts

__all__ = ["CheckContext", "CheckFunction", "CheckResult", "CheckSpec"]


class CheckContext:
    """Every layer a check may look at, by name, with cached unions per role.

    Parameters
    ----------
    layers
        The loaded layers (the ones checked and the ones they refer to).
    """

    def __init__(self, layers: Iterable[LayerData]) -> None:
        self.layers: dict[str, LayerData] = {layer.name: layer for layer in layers}
        self._unions: dict[str, shapely.Geometry | None] = {}

    def with_role(self, role: str) -> list[LayerData]:
        """The layers of ``role``, by name."""
        return [self.layers[n] for n in sorted(self.layers) if self.layers[n].role == role]

    def union_of_role(self, role: str) -> shapely.Geometry | None:
        """Union of every (repaired) polygon of every layer of ``role``; ``None`` if there is none."""
        if role not in self._unions:
            parts = [polygonal_parts(layer.repaired) for layer in self.with_role(role)]
            geoms = np.concatenate(parts) if parts else np.empty(0, dtype=object)
            self._unions[role] = shapely.union_all(geoms) if len(geoms) else None
        return self._unions[role]


@dataclass(frozen=True)
class CheckSpec:
    """One configured check (an entry of ``checks.yaml``).

    ``roles`` holds role ids (``"*"`` = every role), ``layers`` layer names; a layer is
    checked when its role or its name is listed and its role is not in ``exclude_roles``.
    """

    id: str
    name_zh: str
    name_en: str
    severity: Severity
    operator: str
    roles: tuple[str, ...] = ("*",)
    layers: tuple[str, ...] = ()
    exclude_roles: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)

    def applies_to(self, layer: LayerData) -> bool:
        """Whether this check runs on ``layer``."""
        if layer.role in self.exclude_roles:
            return False
        return layer.name in self.layers or "*" in self.roles or layer.role in self.roles

    def number(self, name: str, default: float) -> float:
        """A numeric parameter (its unit is in its name)."""
        return float(self.params.get(name, default))

    def text(self, name: str, default: str | None = None) -> str | None:
        """A text parameter."""
        value = self.params.get(name, default)
        return None if value is None else str(value)

    def texts(self, name: str) -> tuple[str, ...]:
        """A list-of-text parameter."""
        return tuple(str(v) for v in self.params.get(name, ()))

    def finding(self, layer: LayerData, zh: str, en: str, **kw: Any) -> Finding:
        """A :class:`Finding` of this check on ``layer``."""
        return Finding(self.id, layer.name, self.severity, zh, en, **kw)


#: What an operator returns: its findings, or why it could not run.
CheckResult = Sequence[Finding] | Skipped
#: A check operator: ``(spec, layer, context) -> findings or Skipped``.
CheckFunction = Callable[[CheckSpec, LayerData, CheckContext], CheckResult]
