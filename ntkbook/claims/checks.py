"""Checks: compare two things, and say so in text that every machine prints alike.

A *check* compares two things and returns a :class:`CheckResult`: what was compared, the measured
error, the tolerance it was held to, whether it passed, and (for Monte Carlo and rates) the
standard error. Its text shows the measured values only to the digits that no machine's rounding
changes (:func:`shown`), because nbval compares the stored text on other machines.

The kinds of check share the result type:

* :func:`check_symbolic` -- sympy decides ``simplify(lhs - rhs) == 0`` (exact, tolerance 0);
* :func:`check_definitional` -- an exact comparison of shapes, counts or types: it follows from the
  definitions alone, so it is shown (and counted) apart from the checks that carry evidence;
* :func:`check_close` -- a numeric comparison, max absolute (or relative) error against a tolerance;
* :func:`check_bound` -- an inequality: a measured quantity (a violation, a distance) at most a bound;
* :func:`check_monte_carlo` -- an estimate against its expectation, tolerance = ``sigmas`` standard errors;
* :func:`check_slope` -- a rate: a least-squares slope in log-log coordinates against its expected value.
"""

from __future__ import annotations

import dataclasses
import html
import math
from typing import Any

import numpy as np

from ..rates import fit_loglog_slope, rate_test

__all__ = [
    "NONZERO",
    "CheckResult",
    "ClaimFailed",
    "check_bound",
    "check_close",
    "check_definitional",
    "check_monte_carlo",
    "check_slope",
    "check_symbolic",
    "rate_checks",
    "fit_loglog_slope",
    "rounding",
    "shown",
    "slope_noise",
    "text_line",
]


KINDS = ("symbolic", "numeric", "monte carlo", "rate", "definitional")


class ClaimFailed(AssertionError):
    """A check did not come out as expected (a claim that should hold failed, or a claim of
    the source that is known to be wrong unexpectedly held)."""


EPS = float(np.finfo(np.float64).eps)

# The default noise of a float64 result: a few eps times its magnitude per operation, for the short
# chains of operations the checks run. A check whose computation amplifies rounding more (an
# eigenvalue at rounding level, an ill-conditioned solve, a fit to rounding-affected data) passes its
# own `noise`.
NOISE_EPS = 4 * EPS

# A value is printed only to digits whose unit is at least MARGIN times its noise; a value below
# MARGIN * noise is printed as that bound. The same code and seeds give other rounding on another CPU
# (XLA's instruction set, OpenBLAS's kernel, the number of threads), and nbval compares the text.
MARGIN = 100.0

# The default noise of a Monte Carlo mean or of a fitted slope: a sum over many samples or points.
MC_NOISE_EPS = 1024 * EPS

# A tolerance at most this (relative to the compared values, or absolute below 1) is a rounding
# allowance: the checks' truncation, Monte Carlo and rate tolerances are all far larger.
ROUNDING_LEVEL = 1e-9

# The rounding allowance of one stage: two float64 computations of the same O(1) quantity by different
# routes (autodiff against a hand-written formula, a batched against a looped evaluation, one matrix
# product against another) differ by a few eps per stage; MARGIN times that, rounded up to a power of ten,
# keeps the check clear of every machine's rounding while a wrong formula (an error of the size of the
# quantity) misses it by twelve orders of magnitude.
ROUNDING_UNIT = 1e-13


def rounding(scale: float = 1.0, *, stages: int = 1) -> float:
    """The tolerance of a comparison that is exact in exact arithmetic: ``ROUNDING_UNIT * stages * scale``.

    The one vocabulary for rounding allowances (every chapter uses it, no local constant).

    Args:
      scale: the size of the compared values (1 for O(1) quantities).
      stages: how many rounding stages the longer route chains: 10 for sums over tens of terms or a few
        matrix products, 100 for a linear solve with a moderately conditioned matrix or hundreds of
        gradient steps -- the reason goes beside the call.

    Returns:
      The tolerance (at most ``ROUNDING_LEVEL`` for the stages and scales the book uses, so
      :func:`check_close` shows a passing error as ``<= tol (rounding level)``).
    """
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    if isinstance(stages, bool) or not isinstance(stages, int) or stages < 1:
        raise ValueError(f"stages must be a positive integer, got {stages!r}")
    return ROUNDING_UNIT * stages * scale


def _unit(noise: float) -> float:
    """The finest digit printed for a value of this noise: the smallest power of ten >= MARGIN * noise."""
    return 10.0 ** math.ceil(math.log10(MARGIN * noise))


def shown(x: float | None, noise: float = 0.0, digits: int = 2, style: str = "e") -> str:
    """``x`` printed to the digits that survive a perturbation of size ``noise``.

    Exact values (``noise == 0``) get ``digits`` significant digits. Otherwise let ``u`` be the
    smallest power of ten at least ``MARGIN * noise``: a value below ``u`` (rounding level) is
    printed as the bound ``< u``; a larger one is rounded to a multiple of ``u`` (at most
    ``digits`` significant digits), so no digit finer than ``MARGIN`` times the noise is printed.
    ``style`` is ``"e"`` (``5.3e-05``), ``"g"`` (``0.53``) or ``"f"`` (``1.00``, fixed decimals).

    This is the one rule for every measured number the book stores (see CONTRIBUTING.md).
    """
    if x is None:
        return "-"
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if not noise >= 0:
        raise ValueError(f"noise must be a non-negative number, got {noise!r}")
    if style not in ("e", "g", "f"):
        raise ValueError(f"style must be 'e', 'g' or 'f', got {style!r}")
    if noise > 0:
        k = round(math.log10(_unit(noise)))
        if abs(x) < 10.0**k:
            return f"< 1e{k:+03d}" if x >= 0 else f"> -1e{k:+03d}"
    if x == 0:
        return "0"
    top = math.floor(math.log10(abs(x)))
    n = digits if noise == 0 else max(1, min(digits, top - k + 1))
    if style == "f":
        return f"{x:.{max(0, n - 1 - top)}f}"
    return f"{x:.{n - 1}e}" if style == "e" else f"{x:.{n}g}"


def text_line(fields: dict[str, str]) -> str:
    """The one line a check prints (what nbval compares), from its :meth:`CheckResult.shown_fields`."""
    parts = [
        f"[{fields['status']}] {fields['what']}",
        fields["kind"],
        f"error {fields['error']}, tol {fields['tolerance']}",
    ]
    if "stderr" in fields:
        parts.append(f"stderr {fields['stderr']}")
    if "detail" in fields:
        parts.append(fields["detail"])
    return " | ".join(parts)


# The error shown for a symbolic check whose difference does not simplify to 0.
NONZERO = "nonzero"


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of one comparison.

    Attributes:
      what: one line naming what was compared with what.
      kind: one of :data:`KINDS`: ``"symbolic"``, ``"numeric"``, ``"monte carlo"``, ``"rate"``,
        ``"definitional"`` (a shape, count or type compared exactly: no evidence beyond the definitions).
      error: the measured error (for symbolic checks 0 when the difference simplifies to 0,
        else ``nan``, shown as :data:`NONZERO`; for Monte Carlo the largest ``|estimate - expected|``; for rates
        ``|slope - expected slope|``).
      tolerance: the bound the error is held to.
      passed: ``error <= tolerance`` (for symbolic checks: the difference simplified to 0).
      expected: whether the compared statement is expected to hold. ``False`` for statements
        of the source text as written that are wrong: then the check succeeds when it fails.
      stderr: for Monte Carlo checks, the standard error of the estimate; for rates, the
        standard error of the fitted slope.
      detail: extra context (a residual expression, the fitted slope, ...), already rounded
        with :func:`shown` by whoever wrote it.
      noise: how much the measured error (and ``stderr``) may move on another machine: rounding
        in float64, amplified by the computation. The stored text shows them only to digits
        above it (:func:`shown`); the verdict is decided on the exact values.
      rounding: the tolerance is a rounding allowance (the two sides are equal in exact
        arithmetic), so a passing error is rounding noise and is shown only as ``<= tolerance``.
    """

    what: str
    kind: str
    error: float
    tolerance: float
    passed: bool
    expected: bool = True
    stderr: float | None = None
    detail: str = ""
    noise: float = 0.0
    rounding: bool = False

    @property
    def ok(self) -> bool:
        """True when the check came out as expected."""
        return self.passed == self.expected

    @property
    def status(self) -> str:
        if self.expected:
            return "PASS" if self.passed else "FAIL"
        return "SOURCE WRONG (fails as expected)" if not self.passed else "UNEXPECTED PASS"

    @property
    def error_shown(self) -> str:
        """The measured error as stored in the book: digits above its noise only."""
        if self.rounding and self.passed:
            return "<= tol (rounding level)"
        if self.kind == "symbolic" and not self.passed:
            return NONZERO  # the difference did not simplify to 0: there is no size to show

        text = shown(self.error, self.noise)
        if self.passed and text.startswith("<") and _unit(self.noise) >= self.tolerance:
            # Rounding may move the error by more than the tolerance: the verdict is all that is stable.
            return "<= tol (within rounding)"
        return text

    @property
    def tolerance_shown(self) -> str:
        # A Monte Carlo tolerance is sigmas standard errors: measured, so it shares their noise.
        return shown(self.tolerance, self.noise if self.kind == "monte carlo" else 0.0)

    @property
    def stderr_shown(self) -> str | None:
        return None if self.stderr is None else shown(self.stderr, self.noise)

    def shown_fields(self) -> dict[str, str]:
        """What the book stores of this check: every field that nbval compares, as text."""
        out = dict(
            status=self.status, what=self.what, kind=self.kind, error=self.error_shown, tolerance=self.tolerance_shown
        )
        if self.stderr is not None:
            out["stderr"] = self.stderr_shown
        if self.detail:
            out["detail"] = self.detail
        return out

    def __repr__(self) -> str:
        return text_line(self.shown_fields())

    __str__ = __repr__

    def _repr_html_(self) -> str:
        """One line when collapsed -- verdict badge, what was compared, error against tolerance -- with what was
        compared in full, the kind, standard error and details beneath (a ``<details>`` element; no script).
        Collapsed, the compared text takes at most two lines (the rest is beneath), so a check stays under
        60 px at a desktop width. Math written as ``$...$`` is handed to MathJax as ``\\(...\\)`` (the book's
        MathJax and JupyterLab's typeset it); the styles are inline so a notebook client shows the same."""
        colour = _STATUS_COLOURS[(self.expected, self.ok)]
        f = self.shown_fields()
        relation = "≤" if self.passed else ("&gt;" if f["error"] != "nan" else "vs")
        error = f["error"]
        if error == NONZERO:
            summary_error = "difference \\(\\neq 0\\)"
        elif error.startswith("<= tol"):
            # "<= tol (rounding level)": the error is rounding noise, only the bound is stable
            summary_error = f"error ≤ tol {html.escape(f['tolerance'])} {html.escape(error[len('<= tol ') :])}"
        else:
            summary_error = f"error {html.escape(error)} {relation} tol {html.escape(f['tolerance'])}"
        rows = [("compared", f["what"]), ("kind", f["kind"])]
        if "stderr" in f:
            rows.append(("standard error", f["stderr"]))
        if "detail" in f:
            rows.append(("detail", f["detail"]))
        body = "; ".join(f"{html.escape(k)}: {_html_math(v)}" for k, v in rows)
        badge = _BADGES.get(self.status, self.status)
        return (
            f"<details class='ntkbook-check tex2jax_process mathjax_process' style='border-left:4px solid {colour};"
            "padding:0.1em 0.6em;margin:0.2em 0'>"
            "<summary style='cursor:pointer;line-height:1.5;display:flex;flex-wrap:wrap;align-items:baseline;"
            "column-gap:0.4em;list-style:none'>"
            "<span class='ntkbook-check-marker' style='color:#777;font-size:0.8em'>▸</span>"
            f"<span title='{html.escape(self.status)}' style='background:{colour};color:#fff;border-radius:3px;"
            f"padding:0 0.35em;font-size:0.8em;font-weight:600;white-space:nowrap'>{html.escape(badge)}</span>"
            "<span class='ntkbook-check-what' style='flex:1 1 16em;min-width:0;overflow:hidden;display:-webkit-box;"
            f"-webkit-box-orient:vertical;-webkit-line-clamp:2'>{_html_math(f['what'])}</span>"
            f"<span style='color:#555;white-space:nowrap'>({summary_error})</span></summary>"
            f"<div style='font-size:0.9em;color:#333;padding:0.1em 0 0.3em 0'>{body}</div></details>"
        )


# The badge of each status (the full status is its tooltip, and the text output's).
_BADGES = {"SOURCE WRONG (fails as expected)": "SOURCE WRONG"}

# (expected, ok) -> colour of the badge: green for a statement that holds, amber for a statement of the
# source that fails as expected, red for anything that did not come out as expected.
_STATUS_COLOURS = {
    (True, True): "#1b7f3b",
    (False, True): "#9a6700",
    (True, False): "#b00020",
    (False, False): "#b00020",
}


def _html_math(text: str) -> str:
    """``text`` escaped for HTML, with each ``$...$`` span turned into ``\\(...\\)`` for MathJax."""
    parts = text.split("$")
    if len(parts) % 2 == 0:  # an unpaired $: no math, show it as it is
        return html.escape(text)
    return "".join(html.escape(p) if k % 2 == 0 else f"\\({html.escape(p)}\\)" for k, p in enumerate(parts))


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
    noise: float | None = None,
    rounding: bool | None = None,
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
      noise: how far the error may move with the rounding of another machine (default
        ``NOISE_EPS`` times the magnitude of the compared values): it decides the digits shown.
      rounding: the tolerance is a rounding allowance, so a passing error is shown only as
        ``<= atol``. Default: ``atol <= ROUNDING_LEVEL * max(1, magnitude)`` (relative:
        ``atol <= ROUNDING_LEVEL``) -- no truncation, Monte Carlo or rate tolerance is that small.
    """
    a = _as_float_array(actual, "actual")
    b = _as_float_array(expected, "expected")
    if a.shape != b.shape:
        raise ValueError(f"actual and expected must have the same shape, got {a.shape} and {b.shape}")
    if not (atol >= 0):
        raise ValueError(f"atol must be a non-negative number, got {atol!r}")
    if a.size == 0:
        raise ValueError("actual and expected must not be empty")
    magnitude = 0.0
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        err = float("nan")
    else:
        err = float(np.max(np.abs(a - b)))
        magnitude = float(max(np.max(np.abs(a)), np.max(np.abs(b))))
        if relative:
            scale = float(np.max(np.abs(b)))
            err = err / scale if scale > 0 else (0.0 if err == 0 else float("inf"))
            magnitude = magnitude / scale if scale > 0 else 1.0
    passed = bool(err <= atol)  # nan compares False
    if atol == 0:
        # An exact comparison (counts, shapes, exact zeros): nothing to round, unless the caller says.
        noise = 0.0 if noise is None else noise
        rounding = False if rounding is None else rounding
    if noise is None:
        noise = NOISE_EPS * magnitude
    if rounding is None:
        rounding = atol <= ROUNDING_LEVEL * (1.0 if relative else max(1.0, magnitude))
    return CheckResult(what, kind, err, float(atol), passed, expect, None, detail, float(noise), bool(rounding))


def check_definitional(what: str, actual: Any, expected: Any, *, expect: bool = True, detail: str = "") -> CheckResult:
    """Compare a shape, a count or a type exactly (tolerance 0), as a check of kind ``"definitional"``.

    Such a comparison follows from the definitions alone (the inner dimensions of a product, the number
    of layers of a list of widths): it shows what a formula *says* but is no evidence that it is true or
    false beyond that, so it is labelled apart and the ledger counts it apart. ``actual`` and ``expected``
    are integers or arrays of integers of the same shape.
    """
    return check_close(what, actual, expected, atol=0, expect=expect, detail=detail, kind="definitional")


def check_bound(
    what: str,
    value: Any,
    bound: float,
    *,
    expect: bool = True,
    detail: str = "",
    noise: float | None = None,
    rounding: bool | None = None,
) -> CheckResult:
    """Check an inequality: ``max value <= bound``.

    For statements that are inequalities, not equalities: a violation that must vanish (``max(0, -λ_min)``),
    a distance that must stay small, a change bounded by an estimate. The error is the largest entry of
    ``value`` (a non-finite entry makes it ``nan`` and the check fail), the tolerance is ``bound``.

    Args:
      what: one line naming the bounded quantity and the bound.
      value: a scalar or array of measured quantities, each to be at most ``bound``.
      bound: the bound (state why in the caller).
      expect: ``False`` for a bound the source states that is expected to be violated.
      noise, rounding: as for :func:`check_close` (default noise ``NOISE_EPS`` times the largest ``|value|``).
    """
    v = _as_float_array(value, "value")
    if v.size == 0:
        raise ValueError("value must not be empty")
    if not (isinstance(bound, (int, float, np.floating, np.integer)) and not isinstance(bound, bool) and bound >= 0):
        raise ValueError(f"bound must be a non-negative number, got {bound!r}")
    err = float(np.max(v)) if np.all(np.isfinite(v)) else float("nan")
    magnitude = float(np.max(np.abs(v))) if np.all(np.isfinite(v)) else 0.0
    if noise is None:
        noise = NOISE_EPS * magnitude
    if rounding is None:
        rounding = 0 < bound <= ROUNDING_LEVEL * max(1.0, magnitude)
    passed = bool(err <= bound)
    return CheckResult(what, "numeric", err, float(bound), passed, expect, None, detail, float(noise), bool(rounding))


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
        tex = sp.latex(diff)
        residual = f"${tex}$" if len(tex) <= 200 else f"a nonzero expression of {sp.count_ops(diff)} operations"
        detail = (detail + "; " if detail else "") + f"residual {residual}"
    # Exact: nothing here depends on the machine's rounding.
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
    noise: float | None = None,
) -> CheckResult:
    """Compare a Monte Carlo estimate with its expected value, tolerance from the standard error.

    Each entry must satisfy ``|estimate - expected| <= sigmas * stderr`` (elementwise; ``stderr``
    broadcasts against ``estimate``). The reported error is the largest ``|estimate - expected|``,
    the tolerance the corresponding ``sigmas * stderr``; the detail gives the largest z-score.
    ``noise`` (default ``MC_NOISE_EPS`` times the largest of the values compared and the standard
    error: a mean over many samples rounds more than one operation) decides the digits shown.
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
    se_i = float(np.ravel(se)[i])
    if noise is None:
        finite = np.isfinite(est)
        noise = MC_NOISE_EPS * float(max(np.max(np.abs(np.where(finite, est, 0.0))), np.max(np.abs(exp_)), np.max(se)))
    z_noise = noise / se_i if se_i > 0 else 0.0
    d = f"largest $\\lvert z\\rvert$ {shown(worst, z_noise, 3, 'f')} (limit {sigmas:g} standard errors)"
    return CheckResult(
        what, "monte carlo", err, tol, passed, expect, se_i, d + (f"; {detail}" if detail else ""), float(noise)
    )


def slope_noise(x: Any, y: Any, y_noise: float | None = None) -> float:
    """How far the log-log slope of ``y`` against ``x`` may move when each ``y`` carries a rounding
    error of at most ``y_noise`` (default ``MC_NOISE_EPS * |y|``): a relative change ``d`` of the
    values moves a least-squares slope by at most about ``2 d / span(log x)``."""
    xa, ya = _as_float_array(x, "x"), np.abs(_as_float_array(y, "y"))
    rel = MC_NOISE_EPS if y_noise is None else float(np.max(float(y_noise) / ya))
    return 2 * rel / max(float(np.ptp(np.log(xa))), 1e-300)


def check_slope(
    what: str,
    x: Any,
    y: Any,
    expected_slope: float,
    *,
    atol: float,
    expect: bool = True,
    detail: str = "",
    y_noise: float | None = None,
) -> CheckResult:
    """Check a rate: the fitted log-log slope of ``y`` against ``x`` is within ``atol`` of
    ``expected_slope``. The fit's standard error is reported beside it.

    ``y_noise`` is the absolute rounding error each ``y`` may carry on another machine (default
    ``MC_NOISE_EPS * |y|``); state it for values computed by cancellation (a Taylor remainder, a
    residual). A relative change ``d`` of the values moves the slope by at most about
    ``2 d / span(log x)``: that is the noise of the slope, which decides the digits shown.
    """
    slope, se, _ = fit_loglog_slope(x, y)
    err = abs(slope - expected_slope)
    noise = slope_noise(x, y, y_noise)
    d = f"slope {shown(slope, noise, 3, 'f')} $\\pm$ {shown(se, noise, 2, 'g')} (expected {expected_slope:g})"
    return CheckResult(
        what,
        "rate",
        err,
        float(atol),
        bool(err <= atol),
        expect,
        se,
        d + (f"; {detail}" if detail else ""),
        float(noise),
    )


def rate_checks(
    what: str,
    x: Any,
    samples: Any,
    expected: float,
    *,
    next_order: float | None = None,
    alternative: float | None = None,
    expect: bool = True,
    detail: str = "",
    y_noise: float | None = None,
    variable: str = "width",
) -> list[CheckResult]:
    """A rate as the book checks it everywhere (:func:`ntkbook.rates.rate_test`), as check results.

    ``samples`` ``(W, S)`` are independent draws at each ``x`` (or ``(W,)`` deterministic values, whose
    standard error is the slope's rounding noise). The first check holds the fitted exponent to
    ``expected`` within ``5 SE`` plus the allowance for the next-order term ``x^next_order`` (the shift
    of the exponent when that term is fitted beside it); with an ``alternative`` exponent a second
    check shows it rejected: the slope lies at least ``5 SE`` beyond ``alternative ± allowance``.
    ``y_noise`` is the rounding error of each value (default ``MC_NOISE_EPS`` relative): it decides
    the digits shown (and is the standard error of deterministic values).
    """
    ya = np.asarray(samples, dtype=np.float64)
    mean = ya.mean(axis=1) if ya.ndim == 2 else ya
    noise = slope_noise(x, mean, y_noise)
    t = rate_test(
        x,
        ya,
        expected,
        next_order=next_order,
        alternative=alternative,
        noise=noise if ya.ndim == 1 else 0.0,
    )
    d = f"slope {shown(t.slope, noise, 3, 'f')} $\\pm$ {shown(t.stderr, noise, 2, 'g')} (expected {expected:g})"
    if next_order is not None:
        d += (
            f"; fitted with the next-order term $\\mathrm{{{variable}}}^{{{next_order:g}}}$: {shown(t.corrected, noise, 3, 'f')}, "
            f"allowance {shown(t.allowance, noise, 2, 'g')}"
        )
    tail = f"; {detail}" if detail else ""
    out = [CheckResult(what, "rate", t.error, t.tolerance, t.passed, expect, t.stderr, d + tail, noise)]
    if alternative is not None:
        distance = abs(t.slope - alternative)
        margin = 5.0 * t.stderr + t.allowance
        out.append(
            CheckResult(
                f"the same slope excludes the exponent {alternative:g}: 5 SE + allowance vs its distance from {alternative:g}",
                "rate",
                margin,
                distance,
                t.rejected,
                True,
                t.stderr,
                "$z = (\\lvert\\mathrm{slope} - ("
                + f"{alternative:g}"
                + ")\\rvert - \\mathrm{allowance})/\\mathrm{SE}$ = "
                f"{shown(t.z_alternative, noise / t.stderr, 2, 'g')} (rejected at $z \\ge 5$)",
                noise,
            )
        )
    return out
