"""Rates: the exponent of a power law, fitted on log-log axes.

Convergence rates (an error that falls like ``h^p``, a fluctuation like ``n^(-1/2)``) are read off as
the least-squares slope of ``log y`` against ``log x``, with the usual standard error of that slope.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["fit_loglog_slope"]


def _real_array(x: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of real numbers, got {type(x).__name__}") from exc


def fit_loglog_slope(x: Any, y: Any) -> tuple[float, float, float]:
    """Least-squares fit of ``log y = slope * log x + intercept``.

    Returns ``(slope, slope_stderr, intercept)``; the standard error is the usual OLS one
    (``nan`` with only two points).
    """
    xa, ya = _real_array(x, "x"), _real_array(y, "y")
    if xa.ndim != 1 or xa.shape != ya.shape or xa.size < 2:
        raise ValueError(f"x and y must be 1-D of equal length >= 2, got shapes {xa.shape} and {ya.shape}")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya)) and np.all(xa > 0) and np.all(ya > 0)):
        raise ValueError("x and y must be positive and finite for a log-log fit")
    lx, ly = np.log(xa), np.log(ya)
    A = np.stack([lx, np.ones_like(lx)], axis=1)
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    slope, intercept = float(coef[0]), float(coef[1])
    n = lx.size
    if n > 2:
        resid = ly - A @ coef
        s2 = float(resid @ resid) / (n - 2)
        se = math.sqrt(s2 / float(np.sum((lx - lx.mean()) ** 2)))
    else:
        se = float("nan")
    return slope, se, intercept
