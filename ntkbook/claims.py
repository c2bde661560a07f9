"""State a claim, check it, and keep a registry of every claim the book checks.

A *check* compares two things and returns a :class:`CheckResult`: what was compared, the
measured error, the tolerance it was held to, whether it passed, and (for Monte Carlo) the
standard error the tolerance came from. The result prints as one stable line (so nbval's
stored outputs are deterministic) and renders as a small HTML box in the book.

A *claim* is a zero-argument function, registered with :func:`claim`, that runs one or more
checks. Calling a registered claim runs it and **raises** :class:`ClaimFailed` unless every
check came out as expected. Claims of the source text *as written* that are known to be wrong
are registered with ``source_holds=False``: their check must *fail* (the source is wrong), and
the claim raises if it unexpectedly passes. ``python -m ntkbook verify`` runs every registered
claim; the claims ledger and the errata page of the book are generated from the same registry.

Four kinds of check share the result type:

* :func:`check_symbolic` -- sympy decides ``simplify(lhs - rhs) == 0`` (exact, tolerance 0);
* :func:`check_close` -- a numeric comparison, max absolute (or relative) error against a tolerance;
* :func:`check_monte_carlo` -- an estimate against its expectation, tolerance = ``sigmas`` standard errors;
* :func:`check_slope` -- a rate: a least-squares slope in log-log coordinates against its expected value.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "CheckResult",
    "Claim",
    "ClaimFailed",
    "check_close",
    "check_monte_carlo",
    "check_slope",
    "check_symbolic",
    "claim",
    "fit_loglog_slope",
    "registry",
]

KINDS = ("symbolic", "numeric", "monte carlo", "rate")


class ClaimFailed(AssertionError):
    """A check did not come out as expected (a claim that should hold failed, or a claim of
    the source that is known to be wrong unexpectedly held)."""


# Below this, a measured float64 error is rounding noise whose digits depend on the CPU and the
# number of threads; the stable text repr (what nbval compares) shows it as "<1e-13". The
# CheckResult keeps the exact value and `python -m ntkbook verify` prints it.
DISPLAY_FLOOR = 1e-13


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    if x == 0:
        return "0"
    return f"{x:.2e}"


def _fmt_stable(x: float | None, tolerance: float | None = None) -> str:
    # Only when the tolerance is itself above the floor: a check held to a tighter tolerance
    # shows its digits (its author chose that tolerance knowing they are stable).
    if (x is not None and not (isinstance(x, float) and math.isnan(x)) and 0 < abs(x) < DISPLAY_FLOOR
            and (tolerance is None or tolerance >= DISPLAY_FLOOR)):
        return f"<{DISPLAY_FLOOR:.0e}"
    return _fmt(x)


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of one comparison.

    Attributes:
      what: one line naming what was compared with what.
      kind: one of ``"symbolic"``, ``"numeric"``, ``"monte carlo"``, ``"rate"``.
      error: the measured error (for symbolic checks 0 when the difference simplifies to 0,
        else ``nan``; for Monte Carlo the largest ``|estimate - expected|``; for rates
        ``|slope - expected slope|``).
      tolerance: the bound the error is held to.
      passed: ``error <= tolerance`` (for symbolic checks: the difference simplified to 0).
      expected: whether the compared statement is expected to hold. ``False`` for statements
        of the source text as written that are wrong: then the check succeeds when it fails.
      stderr: for Monte Carlo checks, the standard error of the estimate; for rates, the
        standard error of the fitted slope.
      detail: extra context (a residual expression, the fitted slope, ...).
    """

    what: str
    kind: str
    error: float
    tolerance: float
    passed: bool
    expected: bool = True
    stderr: float | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True when the check came out as expected."""
        return self.passed == self.expected

    @property
    def status(self) -> str:
        if self.expected:
            return "PASS" if self.passed else "FAIL"
        return "SOURCE WRONG (fails as expected)" if not self.passed else "UNEXPECTED PASS"

    def _line(self) -> str:
        rel = "<=" if self.passed else ">"
        parts = [f"[{self.status}] {self.what}", f"{self.kind}", f"error {_fmt_stable(self.error, self.tolerance)} {rel} tol {_fmt(self.tolerance)}"]
        if self.stderr is not None:
            parts.append(f"stderr {_fmt(self.stderr)}")
        if self.detail:
            parts.append(self.detail)
        return " | ".join(parts)

    def __repr__(self) -> str:
        return self._line()

    __str__ = __repr__

    def _repr_html_(self) -> str:
        colour = "#1b7f3b" if self.ok else "#b00020"
        if not self.expected:
            colour = "#9a6700" if self.ok else "#b00020"
        rows = [
            ("compared", self.what),
            ("kind", self.kind),
            ("measured error", _fmt_stable(self.error, self.tolerance)),
            ("tolerance", _fmt(self.tolerance)),
        ]
        if self.stderr is not None:
            rows.append(("standard error", _fmt(self.stderr)))
        if self.detail:
            rows.append(("detail", self.detail))
        body = "".join(
            f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        return (
            f"<div class='ntkbook-check' style='border-left:4px solid {colour};padding:0.3em 0.8em;margin:0.4em 0'>"
            f"<strong style='color:{colour}'>{html.escape(self.status)}</strong>"
            f"<table style='margin:0.2em 0'>{body}</table></div>"
        )


def _as_float_array(x: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of real numbers, got {type(x).__name__}") from exc
    return arr


def check_close(
    what: str,
    actual: Any,
    expected: Any,
    *,
    atol: float,
    relative: bool = False,
    expect: bool = True,
    detail: str = "",
    kind: str = "numeric",
) -> CheckResult:
    """Compare two arrays numerically.

    The error is ``max |actual - expected|``, divided by ``max |expected|`` when
    ``relative=True``; the check passes when the error is at most ``atol``. Non-finite
    values make the error ``nan`` and the check fail.

    Args:
      what: one line naming the compared quantities.
      actual, expected: arrays of the same shape (broadcasting is refused).
      atol: the tolerance the error is held to (state why in the caller).
      relative: measure the error relative to ``max |expected|``.
      expect: ``False`` for a statement expected to be wrong (see :class:`CheckResult`).
    """
    a = _as_float_array(actual, "actual")
    b = _as_float_array(expected, "expected")
    if a.shape != b.shape:
        raise ValueError(f"actual and expected must have the same shape, got {a.shape} and {b.shape}")
    if not (atol >= 0):
        raise ValueError(f"atol must be a non-negative number, got {atol!r}")
    if a.size == 0:
        raise ValueError("actual and expected must not be empty")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        err = float("nan")
    else:
        err = float(np.max(np.abs(a - b)))
        if relative:
            scale = float(np.max(np.abs(b)))
            err = err / scale if scale > 0 else (0.0 if err == 0 else float("inf"))
    passed = bool(err <= atol)  # nan compares False
    return CheckResult(what, kind, err, float(atol), passed, expect, None, detail)


def check_symbolic(what: str, lhs: Any, rhs: Any, *, expect: bool = True, detail: str = "") -> CheckResult:
    """Decide ``lhs == rhs`` symbolically: ``sympy.simplify(lhs - rhs)`` must be exactly zero.

    Works for sympy expressions and matrices. When the difference does not simplify to zero
    the residual is shown in ``detail`` (truncated) and the error is ``nan``.
    """
    import sympy as sp

    diff = sp.simplify(sp.sympify(lhs) - sp.sympify(rhs))
    if isinstance(diff, sp.MatrixBase):
        diff = diff.applyfunc(sp.simplify)
        zero = all(sp.simplify(e) == 0 for e in diff)
    else:
        zero = diff == 0 or sp.simplify(sp.expand(diff)) == 0
    if not zero:
        residual = sp.sstr(diff)
        residual = residual if len(residual) <= 120 else residual[:117] + "..."
        detail = (detail + "; " if detail else "") + f"residual {residual}"
    return CheckResult(what, "symbolic", 0.0 if zero else float("nan"), 0.0, bool(zero), expect, None, detail)


def check_monte_carlo(
    what: str,
    estimate: Any,
    expected: Any,
    stderr: Any,
    *,
    sigmas: float = 5.0,
    expect: bool = True,
    detail: str = "",
) -> CheckResult:
    """Compare a Monte Carlo estimate with its expected value, tolerance from the standard error.

    Each entry must satisfy ``|estimate - expected| <= sigmas * stderr`` (elementwise; ``stderr``
    broadcasts against ``estimate``). The reported error is the largest ``|estimate - expected|``,
    the tolerance the corresponding ``sigmas * stderr``; the detail gives the largest z-score.
    """
    est = _as_float_array(estimate, "estimate")
    exp_ = _as_float_array(expected, "expected")
    se = np.broadcast_to(_as_float_array(stderr, "stderr"), est.shape)
    if est.shape != exp_.shape:
        raise ValueError(f"estimate and expected must have the same shape, got {est.shape} and {exp_.shape}")
    if np.any(se < 0) or not np.all(np.isfinite(se)):
        raise ValueError("stderr must be finite and non-negative")
    if not sigmas > 0:
        raise ValueError(f"sigmas must be positive, got {sigmas!r}")
    dev = np.abs(est - exp_)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, dev / np.where(se > 0, se, 1.0), np.where(dev == 0, 0.0, np.inf))
    if not np.all(np.isfinite(est)):
        z = np.full_like(z, np.nan)
    i = int(np.nanargmax(z)) if np.any(np.isfinite(z)) else 0
    worst = float(np.ravel(z)[i])
    err = float(np.ravel(dev)[i])
    tol = float(sigmas * np.ravel(se)[i])
    passed = bool(np.all(z <= sigmas))
    d = f"max |z| {worst:.2f} (limit {sigmas:g} sigma)"
    return CheckResult(what, "monte carlo", err, tol, passed, expect, float(np.ravel(se)[i]), d + (f"; {detail}" if detail else ""))


def fit_loglog_slope(x: Any, y: Any) -> tuple[float, float, float]:
    """Least-squares fit of ``log y = slope * log x + intercept``.

    Returns ``(slope, slope_stderr, intercept)``; the standard error is the usual OLS one
    (``nan`` with only two points).
    """
    xa, ya = _as_float_array(x, "x"), _as_float_array(y, "y")
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


def check_slope(
    what: str,
    x: Any,
    y: Any,
    expected_slope: float,
    *,
    atol: float,
    expect: bool = True,
    detail: str = "",
) -> CheckResult:
    """Check a rate: the fitted log-log slope of ``y`` against ``x`` is within ``atol`` of
    ``expected_slope``. The fit's standard error is reported beside it."""
    slope, se, _ = fit_loglog_slope(x, y)
    err = abs(slope - expected_slope)
    d = f"slope {slope:.3f} +/- {se:.3f} (expected {expected_slope:g})"
    return CheckResult(what, "rate", err, float(atol), bool(err <= atol), expect, se, d + (f"; {detail}" if detail else ""))


# --------------------------------------------------------------------------- registry


@dataclasses.dataclass(frozen=True)
class Claim:
    """A registered claim: a zero-argument function returning one or more check results.

    Attributes:
      id: ``"<chapter>/<name>"``, unique.
      chapter: the chapter's document name, e.g. ``"01-jacobians"``.
      title: a short statement of the claim, in words.
      equation: the label of the equation it checks in the chapter (``{eq}`` target), if any.
      source_holds: ``True`` if this checks the source text as written and it holds, ``False``
        if it checks the source as written and the source is wrong (the check must fail),
        ``None`` for claims the book adds or derives itself.
      where: where the statement is in the source (section, equation) -- for source claims.
      source_says, truth: for an erratum, what the source says and what is true.
      fn: the check function.
    """

    id: str
    chapter: str
    title: str
    fn: Callable[[], Any]
    equation: str | None = None
    source_holds: bool | None = None
    where: str = ""
    source_says: str = ""
    truth: str = ""

    def run(self) -> list[CheckResult]:
        """Run the checks; return the results without raising.

        Claims are deterministic (explicit keys, fixed data), so within one process each claim is
        run once and its results reused: the ledger page and the tests of one ``make test`` session
        then share a single run instead of repeating every Monte Carlo study.
        """
        if self.id in _RESULTS:
            return list(_RESULTS[self.id])
        out = self.fn()
        results = [out] if isinstance(out, CheckResult) else list(out)
        if not results or not all(isinstance(r, CheckResult) for r in results):
            raise TypeError(f"claim {self.id} must return CheckResult(s), got {out!r}")
        if self.source_holds is False and not any(not r.expected for r in results):
            raise TypeError(f"claim {self.id} is registered as a source error but no check has expect=False")
        _RESULTS[self.id] = tuple(results)
        return results


_REGISTRY: dict[str, Claim] = {}
_RESULTS: dict[str, tuple[CheckResult, ...]] = {}


def registry() -> dict[str, Claim]:
    """All registered claims, in registration order (importing every chapter module first)."""
    from . import _chapters

    _chapters.import_all()
    return dict(_REGISTRY)


def _ensure_x64() -> None:
    # Checks are stated in float64 (symbolic checks have float64 numerics beside them).
    import jax

    if not jax.config.jax_enable_x64:
        jax.config.update("jax_enable_x64", True)


def claim(
    chapter: str,
    title: str,
    *,
    equation: str | None = None,
    source_holds: bool | None = None,
    where: str = "",
    source_says: str = "",
    truth: str = "",
) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Register a zero-argument check function as a claim of ``chapter``.

    Calling the decorated function enables float64 in JAX, runs the checks and returns the
    result (a :class:`CheckResult`, or a list of them, which then displays as one line each).
    It raises :class:`ClaimFailed` if any check did not come out as expected -- so a notebook
    cell, a test and ``python -m ntkbook verify`` all fail on the same thing.
    """
    if source_holds is False and not (where and source_says and truth):
        raise ValueError("a claim with source_holds=False needs where, source_says and truth (the erratum)")

    def decorate(fn: Callable[[], Any]) -> Callable[[], Any]:
        cid = f"{chapter}/{fn.__name__.removeprefix('check_')}"
        if cid in _REGISTRY and _REGISTRY[cid].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"claim id {cid!r} registered twice")
        c = Claim(cid, chapter, title, fn, equation, source_holds, where, source_says, truth)
        _REGISTRY[cid] = c

        @functools.wraps(fn)
        def run_and_assert():
            _ensure_x64()
            results = c.run()
            bad = [r for r in results if not r.ok]
            if bad:
                raise ClaimFailed(f"claim {cid} did not come out as expected:\n" + "\n".join(map(repr, bad)))
            return results[0] if len(results) == 1 else Results(results)

        run_and_assert.claim = c  # type: ignore[attr-defined]
        return run_and_assert

    return decorate


class Results(list):
    """A list of check results that prints one line each (and as HTML, one box each)."""

    def __repr__(self) -> str:
        return "\n".join(map(repr, self))

    def _repr_html_(self) -> str:
        return "".join(r._repr_html_() for r in self)


def run_all(claims: Sequence[Claim] | None = None) -> list[tuple[Claim, list[CheckResult] | BaseException]]:
    """Run claims (default: all registered) and collect results or the exception each raised."""
    _ensure_x64()
    claims = list(registry().values()) if claims is None else list(claims)
    out: list[tuple[Claim, list[CheckResult] | BaseException]] = []
    for c in claims:
        try:
            out.append((c, c.run()))
        except Exception as exc:  # a broken check is a failure to report, not a crash
            out.append((c, exc))
    return out
