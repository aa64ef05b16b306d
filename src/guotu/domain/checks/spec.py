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

from guotu.domain.core.findings import FeatureRef, Finding, Severity, Skipped
from guotu.domain.core.layer_context import LayerContext, feature_at
from guotu.domain.core.layers import LayerData

__all__ = ["CheckContext", "CheckFunction", "CheckResult", "CheckSpec"]


#: Every layer a check may look at, by name, with cached polygons and unions per role.
CheckContext = LayerContext


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

    def finding(
        self,
        layer: LayerData,
        zh: str,
        en: str,
        *,
        at: int | None = None,
        related: Iterable[FeatureRef] = (),
        **kw: Any,
    ) -> Finding:
        """A :class:`Finding` of this check on ``layer``: about the feature at position ``at``
        (none for a layer-level problem), with the ``related`` features involved."""
        features = () if at is None else (feature_at(layer, at),)
        return Finding(
            self.id,
            self.severity,
            zh,
            en,
            layer=layer.name,
            features=features,
            related=tuple(related),
            **kw,
        )

    def skipped(self, layer: LayerData, zh: str, en: str) -> Skipped:
        """This check skipped on ``layer``, with the reason."""
        return Skipped(self.id, zh, en, layer=layer.name)


#: What an operator returns: its findings, or why it could not run.
CheckResult = Sequence[Finding] | Skipped
#: A check operator: ``(spec, layer, context) -> findings or Skipped``.
CheckFunction = Callable[[CheckSpec, LayerData, CheckContext], CheckResult]
