"""Rates: the exponent of a power law, fitted on log-log axes.

Convergence rates (an error that falls like ``h^p``, a fluctuation like ``n^(-1/2)``) are read off as
the least-squares slope of ``log y`` against ``log x``, with the usual standard error of that slope.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

__all__ = ["RATE_SIGMAS", "RateTest", "fit_loglog_slope", "rate_test", "standard_error"]


def _real_array(x: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of real numbers, got {type(x).__name__}") from exc


def standard_error(samples: Any, axis: int = -1) -> np.ndarray:
    """The standard error of the mean of independent draws along ``axis``: the sample standard deviation
    (``ddof=1``) over the square root of their count.

    Args:
      samples: array-like of real numbers, with at least 2 draws along ``axis``.
      axis: the axis of the draws (default the last, as the ``(W, S)`` samples of :func:`rate_test`).

    Returns:
      an array of ``samples``' shape without ``axis`` (0-d for 1-D ``samples``).
    """
    a = _real_array(samples, "samples")
    if a.ndim == 0:
        raise ValueError("samples must have at least one axis")
    count = a.shape[axis]
    if count < 2:
        raise ValueError(f"need at least 2 draws along axis {axis}, got shape {a.shape}")
    return np.asarray(a.std(axis=axis, ddof=1) / math.sqrt(count))


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


class RateTest(NamedTuple):
    """The verdict of :func:`rate_test` on a rate measured over independent draws.

    Attributes:
      slope: the fitted exponent: least-squares slope of ``log mean(y)`` against ``log x``.
      stderr: its standard error over the draws (delta method: ``Var log mean(y_w) = se_w² / mean(y_w)²``
        at each ``x_w``, the ``x_w`` independent); the rounding noise of the slope when ``y`` has one draw.
      corrected: the exponent fitted with the next-order term ``b x^q`` beside it (``nan`` without one).
      allowance: the allowance for the next-order term, ``|slope - corrected|`` (0 without one).
      tolerance: ``sigmas * stderr + allowance``.
      error: ``|slope - expected|``; ``passed``: ``error <= tolerance``.
      z_alternative: ``(|slope - alternative| - allowance) / stderr``, how many standard errors the
        alternative exponent lies beyond the tolerance band (``nan`` without an alternative).
      rejected: ``z_alternative >= min_z``.
    """

    slope: float
    stderr: float
    corrected: float
    allowance: float
    tolerance: float
    error: float
    passed: bool
    z_alternative: float
    rejected: bool


RATE_SIGMAS = 5.0


def _lstsq_rows(columns: list[np.ndarray]) -> np.ndarray:
    """The rows of the least-squares solution operator: ``coef = R @ ly`` for the design ``columns``."""
    return np.linalg.pinv(np.stack(columns, axis=1))


def rate_test(
    x: Any,
    samples: Any,
    expected: float,
    *,
    next_order: float | None = None,
    alternative: float | None = None,
    sigmas: float = RATE_SIGMAS,
    min_z: float = 5.0,
    noise: float = 0.0,
) -> RateTest:
    """The book's one criterion for a rate ``y ∝ x^p``: a fitted exponent against the derived one.

    ``samples[w, s]`` are independent draws (seeds) of ``y`` at ``x[w]``, independent across ``w`` too
    (fresh networks at every width, never one network truncated). The exponent is the least-squares
    slope of ``log mean_s y`` against ``log x``; its standard error follows from the spread of the draws
    by the delta method (each ``log mean`` has variance ``se²/mean²``; the slope is linear in them).
    Where theory gives the next-order term, ``y = C x^p (1 + b x^q + ...)``, the exponent is fitted
    again with ``b x^q`` beside it and the shift between the two fits is the allowance for that term.

    The rate holds when ``|slope - expected| <= sigmas * stderr + allowance``. An ``alternative``
    exponent (``O(n^-1/2)`` against a claimed ``O(n^-1)``) counts as rejected when the slope lies at least
    ``min_z`` standard errors beyond ``alternative ± allowance``.

    Args:
      x: ``(W,)`` positive abscissae (widths, radii, scales), ``W >= 3`` (``>= 4`` with ``next_order``).
      samples: ``(W, S)`` positive draws, ``S >= 2``; or ``(W,)`` deterministic values, whose
        standard error is then the slope's rounding noise ``noise``.
      expected: the derived exponent.
      next_order: ``q``, the exponent of the relative next-order term ``x^q`` (``-1/2`` for a
        ``1/sqrt(width)`` correction, ``1`` for the next Taylor term in a radius), or ``None``.
      alternative: an exponent the claim excludes, or ``None``.
      sigmas: the number of standard errors in the tolerance; min_z: the z that rejects the alternative.
      noise: the rounding noise of the slope (a floor on the standard error).

    Returns:
      a :class:`RateTest`.
    """
    xa = _real_array(x, "x")
    ya = _real_array(samples, "samples")
    if xa.ndim != 1 or ya.ndim not in (1, 2) or ya.shape[0] != xa.size:
        raise ValueError(f"x must be (W,) and samples (W,) or (W, S), got shapes {xa.shape} and {ya.shape}")
    if ya.ndim == 2 and ya.shape[1] < 2:
        raise ValueError(f"samples must hold at least 2 draws per x, got shape {ya.shape}")
    need = 4 if next_order is not None else 3
    if xa.size < need:
        raise ValueError(f"need at least {need} abscissae, got {xa.size}")
    if not (np.all(np.isfinite(xa)) and np.all(xa > 0) and np.all(np.isfinite(ya)) and np.all(ya > 0)):
        raise ValueError("x and samples must be positive and finite for a log-log fit")
    if not (sigmas > 0 and min_z > 0 and noise >= 0):
        raise ValueError("sigmas and min_z must be positive and noise non-negative")
    if ya.ndim == 2:
        mean = ya.mean(axis=1)
        var_log = (ya.std(axis=1, ddof=1) ** 2 / ya.shape[1]) / mean**2
    else:
        mean, var_log = ya, np.zeros_like(ya)
    lx, ly = np.log(xa), np.log(mean)
    ones = np.ones_like(lx)
    plain = _lstsq_rows([lx, ones])[0]
    slope = float(plain @ ly)
    stderr = max(math.sqrt(float(plain**2 @ var_log)), float(noise))
    corrected, allowance = float("nan"), 0.0
    if next_order is not None:
        corrected = float(_lstsq_rows([lx, ones, xa ** float(next_order)])[0] @ ly)
        allowance = abs(slope - corrected)
    tolerance = sigmas * stderr + allowance
    error = abs(slope - float(expected))
    z_alt = float("nan")
    if alternative is not None:
        z_alt = (abs(slope - float(alternative)) - allowance) / stderr if stderr > 0 else float("inf")
    return RateTest(
        slope, stderr, corrected, allowance, tolerance, error, bool(error <= tolerance), z_alt, bool(z_alt >= min_z)
    )
