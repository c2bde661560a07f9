"""Chapter 2 -- differential equations (``book/02-odes.ipynb``): the scalar equation dy/dx = a y
solved by separation of variables (the source's steps checked as written), numeric integration
(RK4 and ``odeint``) held to its error bounds, and the linear system dg/dt = -A g, whose solution
g(t) = exp(-A t) g(0) is the closed form of gradient flow on a squared loss used in the
linearized-model chapter; time-varying A(t), commuting or not.

The library is :mod:`ntkbook.odes`; this module holds the chapter's examples, the SymPy
derivation, the studies behind its figures and its claims (the ``check_*`` functions).
References: :cite:`weng2022ntk` (the text checked), :cite:`hairer1993solving` (RK4, error
orders), :cite:`moler2003nineteen` (the matrix exponential).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ..claims import check_close, check_symbolic, claim, rate_checks, rounding
from ..claims.checks import EPS
from ..odes import (
    as_symmetric_matrix,
    expm_flow,
    integrate,
    linear_flow,
    linear_rhs,
    rk4_global_error_bound,
    rk4_stability_polynomial,
    scalar_rhs,
)
from ..validate import as_array, positive_int, prng_key

CHAPTER = "02-odes"

__all__ = [
    "CHAPTER",
    "RK4_RATE_STEPS",
    "affine_rhs",
    "check_commuting_time_varying",
    "check_eigen_directions",
    "check_general_solution",
    "check_integrating_factor",
    "check_linear_flow",
    "check_noncommuting_fails",
    "check_numeric_matches_closed_form",
    "check_rk4_order",
    "check_separation_steps",
    "commuting_example",
    "commuting_example_integral",
    "commuting_rhs",
    "linear_example",
    "noncommuting_example",
    "noncommuting_gap",
    "psd_example",
    "richardson_tolerance",
    "rk4_errors",
    "separation_of_variables",
]

_Rhs = Callable[[jax.Array, jax.Array], jax.Array]


# --------------------------------------------------------------------------- right-hand sides of the examples


def commuting_rhs(g, t, A0):
    """``dg/dt = -A(t) g`` with ``A(t) = (1 + sin t) A0 + t A0^2 / 2`` (:func:`commuting_example`)."""
    return -((1.0 + jnp.sin(t)) * A0 + 0.5 * t * A0 @ A0) @ g


def affine_rhs(g, t, A0, A1):
    """``dg/dt = -(A0 + t A1) g`` (:func:`noncommuting_example`)."""
    return -(A0 + t * A1) @ g


# --------------------------------------------------------------------------- the chapter's examples


def psd_example(*, key=None, n: int = 5, rank: int = 3) -> jax.Array:
    """A symmetric PSD ``n x n`` matrix of rank ``rank``: ``B B^T / rank`` with ``B`` standard
    normal ``(n, rank)``; for ``rank < n`` it has ``n - rank`` zero eigenvalues (semi-definite,
    like an NTK Gram matrix with more data points than features)."""
    key = jax.random.key(0) if key is None else prng_key(key)
    n = positive_int(n, "n")
    rank = positive_int(rank, "rank")
    if rank > n:
        raise ValueError(f"rank must be <= n = {n}, got {rank}")
    B = jax.random.normal(key, (n, rank), dtype=jnp.float64)
    return B @ B.T / rank


def commuting_example(A0) -> Callable[[jax.Array], jax.Array]:
    """``A(t) = (1 + sin t) A0 + t A0^2 / 2``: a time-varying matrix whose values all commute
    (every ``A(t)`` is a polynomial in ``A0``). ``int_0^t A = (t + 1 - cos t) A0 + t^2 A0^2 / 4``."""
    A0 = as_symmetric_matrix(A0, 1e-10)
    return lambda t: (1.0 + jnp.sin(t)) * A0 + 0.5 * t * A0 @ A0


def commuting_example_integral(A0, t) -> jax.Array:
    """``int_0^t A(s) ds`` for :func:`commuting_example`."""
    A0 = as_symmetric_matrix(A0, 1e-10)
    t = as_array(t, "t", ndim=0)
    return (t + 1.0 - jnp.cos(t)) * A0 + 0.25 * t**2 * A0 @ A0


def noncommuting_example() -> tuple[jax.Array, jax.Array]:
    """Two symmetric PSD matrices ``A0, A1`` (2 x 2) with ``[A0, A1] = A0 A1 - A1 A0 != 0``; the
    family ``A(t) = A0 + t A1`` has values that do not commute, ``[A(s), A(t)] = (t - s)[A0, A1]``."""
    A0 = jnp.array([[1.0, 0.0], [0.0, 0.2]])
    A1 = jnp.array([[0.5, 0.5], [0.5, 0.5]])
    return A0, A1


# --------------------------------------------------------------------------- symbolic derivation


def separation_of_variables():
    """The source's steps for ``dy/dx = a y`` as sympy objects: returns a dict with the ODE, sympy's
    ``dsolve`` solution, ``int dy/y`` as sympy computes it, and symbols ``x, a, C``."""
    import sympy as sp

    x, a, C = sp.symbols("x a C", real=True)
    y = sp.Function("y")
    ode = sp.Eq(y(x).diff(x), a * y(x))
    sol = sp.dsolve(ode)
    Y = sp.Symbol("y", positive=True)
    return {
        "x": x,
        "a": a,
        "C": C,
        "y": y,
        "ode": ode,
        "dsolve": sol.rhs.subs(sp.Symbol("C1"), C),
        "antiderivative": sp.integrate(1 / Y, Y),
        "Y": Y,
    }


# --------------------------------------------------------------------------- claims


# Comparing two float64 evaluations of the same closed form: a few ulps of values of size <= ~10.


def _count_real_solutions(expr, var) -> int:
    import sympy as sp

    sols = sp.solveset(expr, var, sp.S.Reals)
    if sols == sp.S.EmptySet:
        return 0
    if isinstance(sols, sp.FiniteSet):
        return len(sols)
    raise ValueError(f"unexpected solution set {sols}")


@claim(
    CHAPTER,
    "$\\mathrm{d}y/\\mathrm{d}x = a y$ has the general solution $y = C e^{ax}$",
    equation="eq-exp-solution",
    source_holds=True,
    where="Basics, differential equations (separation of variables)",
)
def check_general_solution():
    import sympy as sp

    s = separation_of_variables()
    x, a, C = s["x"], s["a"], s["C"]
    candidate = C * sp.exp(a * x)
    return [
        check_symbolic("sympy dsolve of $y' = a y$ vs $C e^{ax}$", s["dsolve"], candidate),
        check_symbolic(
            "$y = C e^{ax}$ satisfies $y' - a y = 0$ for every real $C$", sp.diff(candidate, x) - a * candidate, 0
        ),
    ]


@claim(
    CHAPTER,
    "The separation steps as written: $\\ln y = ax + C'$, hence $y = e^{ax+C'} = C e^{ax}$",
    equation="eq-separation",
    source_holds=False,
    where="Basics, differential equations (separation of variables)",
    source_says="dy/y = a dx; int dy/y = int a dx; ln(y) = ax + C'; y = e^{ax+C'} = C e^{ax}",
    truth="Dividing by y needs y != 0 and int dy/y = ln|y| + C'. The steps give only C = e^{C'} > 0: the "
    "solutions with C < 0 and y = 0 are lost. Every real C gives a solution, and there are no others "
    "(d/dx(y e^{-ax}) = 0).",
)
def check_separation_steps():
    import sympy as sp

    s = separation_of_variables()
    Y = s["Y"]
    Cp = sp.Symbol("Cprime", real=True)
    return [
        check_symbolic(
            "on $y > 0$: sympy's $\\int \\mathrm{d}y/y = \\ln y$ (the step holds there)", s["antiderivative"], sp.log(Y)
        ),
        check_close(
            "real $C'$ with $e^{C'} = C$ for the solution $C = -2$ (count, vs 1 if the steps reached it)",
            np.array(_count_real_solutions(sp.exp(Cp) + 2, Cp)),
            np.array(1),
            atol=0,
            expect=False,
        ),
        check_close(
            "real $C'$ with $e^{C'} = C$ for the solution $y = 0$, $C = 0$ (count, vs 1)",
            np.array(_count_real_solutions(sp.exp(Cp), Cp)),
            np.array(1),
            atol=0,
            expect=False,
        ),
    ]


@claim(
    CHAPTER,
    "Every solution of $y' = a y$ is $y(0) e^{ax}$, $y(0)$ any real number (integrating factor)",
    equation="eq-integrating-factor",
)
def check_integrating_factor():
    import sympy as sp

    s = separation_of_variables()
    x, a, y = s["x"], s["a"], s["y"]
    yr = sp.Symbol("y", real=True, nonzero=True)
    d = sp.diff(y(x) * sp.exp(-a * x), x).subs(sp.Derivative(y(x), x), a * y(x))
    ivp = sp.dsolve(s["ode"], ics={y(0): -2}).rhs
    return [
        check_symbolic("$\\frac{\\mathrm{d}}{\\mathrm{d}x}(y e^{-ax})$ with $y' = a y$ substituted", d, 0),
        check_symbolic(
            "$\\frac{\\mathrm{d}}{\\mathrm{d}y} \\ln\\lvert y\\rvert = 1/y$ for real $y \\ne 0$",
            sp.diff(sp.log(sp.Abs(yr)), yr),
            1 / yr,
        ),
        check_symbolic(
            "dsolve with $y(0) = -2$ (a solution the steps as written miss) vs $-2 e^{ax}$", ivp, -2 * sp.exp(a * x)
        ),
    ]


def _scalar_problem(a: float, y0: float = -2.0, T: float = 2.0):
    ts = jnp.linspace(0.0, T, 5)
    return ts, y0 * jnp.exp(a * ts)


@claim(CHAPTER, "RK4 and odeint reproduce $y = y(0) e^{ax}$ within their error bounds", equation="eq-rk4-bound")
def check_numeric_matches_closed_form():
    out = []
    steps = 10  # h = 0.05 on intervals of length 0.5
    for a in (-1.5, 0.8):
        ts, exact = _scalar_problem(a)
        rk4 = integrate(scalar_rhs, jnp.array(-2.0), ts, jnp.array(a), steps=steps)
        h = float(ts[1] - ts[0]) / steps
        n = np.arange(ts.shape[0]) * steps
        bound = np.array([float(rk4_global_error_bound(a, h, max(int(k), 1), 2.0)) for k in n])
        exact_rk4 = -2.0 * rk4_stability_polynomial(jnp.array(a * h)) ** jnp.asarray(n, dtype=jnp.float64)
        out.append(
            check_close(
                f"RK4 ($h = {h:g}$) vs $-2 e^{{{a} x}}$, error / its bound "
                "$n\\lvert z\\rvert^5 e^{\\lvert z\\rvert} \\max(\\lvert R\\rvert, e^z)^{n-1} \\lvert y_0\\rvert/120$",
                np.abs(rk4 - exact) / bound,
                np.zeros(ts.shape[0]),
                atol=1.0,
            )
        )
        out.append(
            check_close(
                f"RK4 vs $R(ah)^n y_0$ (RK4 on a linear ODE is a power of $R$), $a = {a}$",
                rk4,
                exact_rk4,
                atol=rounding(stages=10),
                detail="rounding over 40 steps",
            )
        )
        ode = integrate(scalar_rhs, jnp.array(-2.0), ts, jnp.array(a), method="odeint", rtol=1e-10, atol=1e-10)
        tol = 100 * (1e-10 * float(jnp.max(jnp.abs(exact))) + 1e-10)
        out.append(
            check_close(
                f"odeint (rtol = atol = $10^{{-10}}$) vs closed form, $a = {a}$",
                ode,
                exact,
                atol=tol,
                detail="tol $= 100 \\times$ local tolerance: the solver controls local, not global, error",
            )
        )
    return out


def rk4_errors(a: float = -1.5, T: float = 2.0, steps=(10, 14, 20, 28, 40, 57, 80, 113, 160)):
    """RK4 error at ``T`` on ``y' = a y, y(0) = -2`` for several step counts: ``(h, error)``."""
    hs, errs = [], []
    for n in steps:
        y = integrate(scalar_rhs, jnp.array(-2.0), jnp.array([0.0, T]), jnp.array(a), steps=int(n))[-1]
        hs.append(T / n)
        errs.append(abs(float(y) - (-2.0 * math.exp(a * T))))
    return np.array(hs), np.array(errs)


# The rate is checked by the book's one criterion (rate_checks). The values are deterministic, so the standard
# error is the slope's rounding noise and the tolerance is the allowance for the next-order term, derived here:
# one RK4 step multiplies y by R(z), z = a h, and R(z) e^{-z} = 1 - z^5/120 + O(z^6); after n = T/h steps the
# error is y(T) [(R(z) e^{-z})^n - 1] = -y(T) a T z^4/120 (1 + O(z)), c h^4 with a relative next-order term
# h^1 (next_order = 1). Each step rounds y by a few eps: over n <= 160 steps at most 4 eps n |y0| ~ 3e-13,
# against a smallest error ~ 3e-10, so truncation dominates over the whole range and that is the values' noise.
RK4_RATE_STEPS = (10, 14, 20, 28, 40, 57, 80, 113, 160)


@claim(CHAPTER, "The RK4 error falls like $h^4$", equation="eq-rk4-bound")
def check_rk4_order():
    hs, errs = rk4_errors(steps=RK4_RATE_STEPS)
    return rate_checks(
        f"RK4 error at $x = 2$ vs step $h$, $h \\in [{hs.min():g}, {hs.max():g}]$ ($a = -1.5$, $y_0 = -2$)",
        hs,
        errs,
        4.0,
        next_order=1.0,
        alternative=5.0,
        y_noise=4 * EPS * max(RK4_RATE_STEPS) * 2.0,
        variable="h",
        detail="error $-y(2)\\, a T (ah)^4/120\\, (1 + O(h))$: next-order term $h^1$ relative; "
        "$h^5$ is the order of one step's (local) error",
    )


def linear_example():
    A = psd_example()
    g0 = jax.random.normal(jax.random.key(1), (A.shape[0],), dtype=jnp.float64)
    ts = jnp.linspace(0.0, 3.0, 7)
    return A, g0, ts


@claim(
    CHAPTER,
    "$\\mathrm{d}g/\\mathrm{d}t = -A g$ ($A$ symmetric PSD) is solved by $g(t) = e^{-At} g(0)$",
    equation="eq-linear-flow",
)
def check_linear_flow():
    A, g0, ts = linear_example()
    eig = linear_flow(A, g0, ts)
    ex = expm_flow(A, g0, ts)
    steps = 20
    rk4 = integrate(linear_rhs, g0, ts, A, steps=steps)
    lam = np.linalg.eigvalsh(np.asarray(A))
    h = float(ts[1] - ts[0]) / steps
    # Along eigenvector i RK4 is scalar RK4 with a = -lam_i, so in the 2-norm the error is at most the
    # largest scalar bound times |g0|.
    bound = np.array(
        [float(np.max(rk4_global_error_bound(-lam, h, max(k * steps, 1), 1.0))) for k in range(ts.shape[0])]
    )
    bound = bound * float(jnp.linalg.norm(g0))
    n, tmax, normA = A.shape[0], float(ts[-1]), float(jnp.linalg.norm(A, 2))
    rtol = 50 * n * 2.0**-52 * (1 + normA * tmax) * float(jnp.linalg.norm(g0))
    dg = jax.vmap(lambda t: jax.jvp(lambda s: linear_flow(A, g0, s), (t,), (jnp.ones_like(t),))[1])(ts)
    return [
        check_close(
            "eigendecomposition $U e^{-\\Lambda t} U^\\top g_0$ vs jax.scipy.linalg.expm of $-At$, times $g_0$",
            eig,
            ex,
            atol=rtol,
            detail="tol $50\\, n\\, \\varepsilon (1 + \\lVert A\\rVert t) \\lVert g_0\\rVert$: rounding in both",
        ),
        check_close(
            f"$\\lVert \\mathrm{{RK4}} - e^{{-At}} g_0\\rVert_2$ ($h = {h:g}$) / RK4 bound (max over eigenvalues)",
            np.linalg.norm(np.asarray(rk4 - eig), axis=1) / np.maximum(bound, 1e-300),
            np.zeros(ts.shape[0]),
            atol=1.0,
        ),
        check_close(
            "$\\mathrm{d}/\\mathrm{d}t$ of the closed form (autodiff) vs $-A g(t)$", dg, -(A @ eig.T).T, atol=rtol
        ),
    ]


@claim(
    CHAPTER,
    "Along each eigenvector $u_i$ of $A$, the component $u_i^\\top g$ decays like $e^{-\\lambda_i t}$; it is constant "
    "on the null space",
    equation="eq-eigen-decay",
)
def check_eigen_directions():
    A, g0, ts = linear_example()
    steps = 20
    rk4 = integrate(linear_rhs, g0, ts, A, steps=steps)  # computed without any eigendecomposition
    lam, U = jnp.linalg.eigh(A)
    comps = rk4 @ U  # (T, n): u_i^T g(t)
    predicted = jnp.exp(-jnp.outer(ts, jnp.maximum(lam, 0.0))) * (U.T @ g0)
    h = float(ts[1] - ts[0]) / steps
    bound = np.array(
        [float(np.max(rk4_global_error_bound(-np.asarray(lam), h, max(k * steps, 1), 1.0))) for k in range(ts.shape[0])]
    )
    bound = bound * float(jnp.linalg.norm(g0)) + rounding()
    # zero eigenvalues: at most the rounding allowance of an eigensolver on an n x n matrix (backward error a
    # few eps·n·‖A‖), not a hand-picked constant
    null = np.asarray(lam) <= rounding(float(jnp.max(jnp.abs(lam))), stages=A.shape[0])
    return [
        check_close(
            "$u_i^\\top g(t)$ from RK4 vs $e^{-\\lambda_i t} u_i^\\top g(0)$, all $i$, all $t$ (error / RK4 bound)",
            np.max(np.abs(np.asarray(comps - predicted)), axis=1) / bound,
            np.zeros(ts.shape[0]),
            atol=1.0,
        ),
        check_close(
            f"null-space components ({int(null.sum())} of them) at $t = 3$ vs $t = 0$",
            comps[-1, null],
            comps[0, null],
            atol=float(bound[-1]),
        ),
    ]


def richardson_tolerance(rhs: _Rhs, y0, ts, *args, steps: int) -> tuple[jax.Array, float]:
    """RK4 with ``2 steps`` per interval and the tolerance ``max |y_h - y_{h/2}|`` (+ ``rounding()``).

    For a fourth-order method the error of ``y_{h/2}`` is about ``|y_h - y_{h/2}| / 15``, so the
    tolerance has a margin of ~15 over the expected error of the returned solution.
    """
    coarse = integrate(rhs, y0, ts, *args, steps=steps)
    fine = integrate(rhs, y0, ts, *args, steps=2 * steps)
    return fine, float(jnp.max(jnp.abs(coarse - fine))) + rounding()


@claim(
    CHAPTER,
    "For a time-varying $A(t)$ whose values commute, $g(t) = \\exp\\big(-\\int_0^t A\\big)\\, g(0)$",
    equation="eq-exp-integral",
)
def check_commuting_time_varying():
    A0, g0, _ = linear_example()
    ts = jnp.linspace(0.0, 2.0, 5)
    num, tol = richardson_tolerance(commuting_rhs, g0, ts, A0, steps=40)
    closed = jax.vmap(lambda t: jax.scipy.linalg.expm(-commuting_example_integral(A0, t)) @ g0)(ts)
    return check_close(
        "$\\exp(-\\int A)\\, g_0$ vs RK4 ($h = 0.0125$), $A(t) = (1 + \\sin t) A_0 + t A_0^2/2$",
        closed,
        num,
        atol=tol,
        detail="tol = Richardson estimate $\\max \\lvert y_h - y_{h/2}\\rvert$",
    )


def noncommuting_gap(ts) -> tuple[np.ndarray, np.ndarray, float]:
    """For ``A(t) = A0 + t A1`` (:func:`noncommuting_example`) and ``g0 = (1, 1)``: the gap
    ``|exp(-int_0^t A) g0 - g(t)|`` (``g`` by RK4, 200 steps on ``[0, t]``), the leading-order
    prediction ``(t^3 / 12) |[A0, A1] g0|`` of that gap (second Magnus term), and the Richardson
    error estimate of the RK4 solutions (largest over ``ts``)."""
    A0, A1 = noncommuting_example()
    g0 = jnp.ones(2)
    comm = A0 @ A1 - A1 @ A0
    gaps, preds, errs = [], [], []
    for t in np.asarray(ts, dtype=float):
        fine, tol = richardson_tolerance(affine_rhs, g0, jnp.array([0.0, t]), A0, A1, steps=100)
        naive = jax.scipy.linalg.expm(-(t * A0 + 0.5 * t**2 * A1)) @ g0
        gaps.append(float(jnp.linalg.norm(naive - fine[-1])))
        preds.append(float(jnp.linalg.norm(t**3 / 12 * comm @ g0)))
        errs.append(tol)
    return np.array(gaps), np.array(preds), max(errs)


@claim(
    CHAPTER,
    "For $A(t) = A_0 + t A_1$ with $[A_0, A_1] \\ne 0$, $\\exp(-\\int A)\\, g(0)$ is not the solution: it misses by "
    "$(t^3/12)[A_0, A_1]\\, g(0) + O(t^4)$",
    equation="eq-magnus",
)
def check_noncommuting_fails():
    small = np.geomspace(0.01, 0.08, 6)
    gaps, preds, err = noncommuting_gap(small)
    gap1, _, err1 = noncommuting_gap([1.0])
    return [
        *rate_checks(
            "gap $\\lVert \\exp(-\\int A)\\, g_0 - g(t)\\rVert$ vs $t$, $t \\in [0.01, 0.08]$",
            small,
            gaps,
            3.0,
            next_order=1.0,
            alternative=2.0,
            y_noise=err,
            variable="t",
            detail="the next terms ($\\Omega_3$, $\\Omega_1 \\Omega_2$) are $O(t^4)$: next-order term $t^1$ relative; "
            "the two agree through $t^2$; noise: the RK4 error estimate",
        ),
        check_close(
            "gap / $(t^3/12)\\lVert [A_0, A_1] g_0\\rVert$ at $t = 0.01$ vs 1",
            gaps[:1] / preds[:1],
            np.ones(1),
            atol=0.05,
            detail=f"tol 0.05: relative $O(t \\lVert A\\rVert)$ terms; RK4 error {err:.0e} $\\ll$ gap {gaps[0]:.1e}",
        ),
        check_close(
            "at $t = 1$: RK4 error estimate vs gap (the failure is not a solver error: ratio $\\ll 1$)",
            np.array([err1 / gap1[0]]),
            np.zeros(1),
            atol=1e-6,
        ),
    ]
