"""What :class:`guotu.services.monitoring.IndicatorEngine` keeps between dates.

:class:`LayerState`: the features of the version of a layer the engine last saw (attributes,
ellipsoidal areas, geometries) and the change log of the versions it followed since.
:class:`TermState`: one term's contributions per feature, summed exactly as integers of
2⁻⁸⁰ m², so that following a change gives the same bits as summing every
feature again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["LayerState", "TermState"]


@dataclass
class LayerState:
    """The features of one version of a layer, as the engine last saw them.

    ``attrs`` holds the code field and the fields terms filter on, by fid, as of the full
    read; what later versions changed is in ``log`` (one ``(retired fids, added attrs)`` per
    step), so a term follows the change without touching the rest. ``current_attrs()``
    applies the log when a term first needs every feature."""

    name: str
    version_id: int
    attrs: pd.DataFrame
    area_m2: dict[int, float]
    geoms: dict[int, Any]
    log: list[tuple[set[int], pd.DataFrame]] = field(default_factory=list)
    count: int = 0
    #: How many entries of ``log`` are folded into ``attrs`` already.
    folded: int = 0

    def current_attrs(self) -> pd.DataFrame:
        """Every feature's attributes at the current version."""
        if self.folded < len(self.log):
            frames = [self.attrs]
            gone: set[int] = set()
            for retired, added in self.log[self.folded :]:
                gone |= retired
                frames.append(added)
            frame = pd.concat(frames)
            self.attrs = frame[~frame.index.isin(list(gone))]
            self.folded = len(self.log)
        return self.attrs


#: Contributions are summed as integers of 2⁻⁸⁰ m² (exact for any area above ~10⁻⁸ m²): the
#: sum is then exact and independent of order, so following a version's change (subtract
#: the retired features, add the new ones) gives the same bits as summing every feature.
_SCALE = 2.0**80


def _scaled(value: float) -> int:
    """``value`` (m²) in integers of 2⁻⁸⁰ m²."""
    return int(value * _SCALE) if value else 0


@dataclass
class TermState:
    """One term's contributions (scaled integers) by fid of its layer's state — only the
    features it counts — and their exact total, for the zone version it was computed
    against and the layer state's log position it has followed to."""

    zone_version: int | None
    layer: LayerState
    contributions: dict[int, int]
    total: int = 0
    synced: int = 0

    def put(self, fid: int, value: float) -> None:
        """Count ``value`` (m², or 1 for a count) for feature ``fid``."""
        units = _scaled(value)
        if units:
            self.contributions[fid] = units
            self.total += units

    def drop(self, fid: int) -> None:
        """Stop counting feature ``fid`` (retired by a later version)."""
        self.total -= self.contributions.pop(fid, 0)

    def value(self) -> float:
        """The exact total, in m² (or a count)."""
        return self.total / _SCALE
