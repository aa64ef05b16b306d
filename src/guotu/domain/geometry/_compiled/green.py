"""Green's-theorem terms of one edge: summed over a closed boundary, the region's planar
moments (∬ 1, x, x², y). Every compiled kernel adds them up."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from guotu.domain.geometry._compiled import njit

__all__ = ["add_triangle_moments"]

FloatArray = npt.NDArray[np.float64]


@njit(cache=True, nogil=True, inline="always")
def add_triangle_moments(
    x1: float, y1: float, x2: float, y2: float, out: FloatArray, sign: float
) -> None:
    """Add ``sign`` × the Green's terms (∬ 1, x, x², y over the triangle (0, P1, P2))."""
    cross = x1 * y2 - x2 * y1
    out[0] += sign * cross / 2.0
    out[1] += sign * (x1 + x2) * cross / 6.0
    out[2] += sign * (x1 * x1 + x1 * x2 + x2 * x2) * cross / 12.0
    out[3] += sign * (y1 + y2) * cross / 6.0
