"""The compiled (numba) kernels of the overlay, each beside the numpy code that is its
reference (the tests compare the two, bit for bit where they can):

* :mod:`.pair_clip`: :func:`~.pair_clip.clip_pairs`, the clipping kernel of the area-only
  path. The same mathematics as :func:`guotu.domain.geometry._clipping.clip_moments` —
  Green's theorem over the boundary of (convex part ∩ cell): the cell's edges clipped to the
  part (Cyrus–Beck), the part's boundary between where the cell's boundary leaves it and
  enters it again (cumulative sums G), the whole part when its first vertex lies in the cell,
  every in/out decision taken as if the part were shifted by (ε, ε²) — written as one loop
  per (part, cell) pair instead of numpy arrays over all pairs. It runs without the GIL, so
  the overlay's threads run it in parallel. The numpy kernel stays as the reference (and the
  fallback without numba).
* :mod:`.sutherland_hodgman`: :func:`~.sutherland_hodgman.clip_rings_convex`, the geometry
  path's Sutherland–Hodgman clipping of zone rings to convex features (without numba the
  geometry path asks GEOS instead).
* :mod:`.ring_kernels`: normalized exterior rings (:func:`~.ring_kernels.ccw_open_rings`),
  convex pieces of simple rings (:func:`~.ring_kernels.convex_pieces`: ear clipping, the
  ears merged back while they stay convex: the parts the area kernel clips) and which
  polygonal geometries are one closed ring (:func:`~.ring_kernels.one_ring_runs`, for
  :func:`guotu.domain.geometry._rings.ring_arrays`).
* :mod:`.tm_moments`: moments of rings (:func:`~.tm_moments.ring_moments`) and ellipsoidal
  areas from planar moments in a Transverse Mercator CRS (the formula of
  :func:`guotu.domain.geometry.moments.ellipsoidal_from_moments`).
* :mod:`.green`: the Green's-theorem terms of one edge, which they all add up.

This module gives :data:`HAVE_NUMBA` and :func:`njit` (a no-op without numba).
"""

from __future__ import annotations

from typing import Any

try:  # pragma: no cover - numba is a dependency; the fallback is for odd platforms
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False

    def njit(*_a: Any, **_k: Any) -> Any:  # type: ignore[no-redef]
        return lambda f: f


__all__ = ["HAVE_NUMBA", "njit"]
