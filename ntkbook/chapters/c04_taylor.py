"""Chapter 4 -- Taylor expansion: the one-variable series and its remainder (sympy), the
multivariate expansion as a sum of symmetric k-linear forms, and first- and second-order models
of a function and of a network's output in its parameters, with the rates at which their errors
shrink.

The symbolic series (:func:`taylor_term`, :func:`taylor_polynomial`, :func:`integral_remainder`),
the chapter's example functions, the small tanh network, and the claims; the Taylor models built
from ``jax.jvp`` are the library's (:mod:`ntkbook.taylor`).

References: Nocedal & Wright, *Numerical Optimization* (2006), Thm. 2.1 (Taylor's theorem);
Magnus & Neudecker, *Matrix Differential Calculus* (2019); Weng (2022), "Taylor expansion".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import taylor
from ..claims import (
    check_close,
    check_definitional,
    check_symbolic,
    claim,
    rate_checks,
    rounding,
)
from ..validate import positive_int

CHAPTER = "04-taylor"

__all__ = [
    "CHAPTER",
    "EXAMPLE_POINT",
    "Example",
    "NETWORK_BETA",
    "NETWORK_RADII",
    "NETWORK_WIDTHS",
    "DIRECTIONS",
    "RADII",
    "REMAINDER_NOISE",
    "check_integral_remainder",
    "check_linear_model",
    "check_linear_term_as_written",
    "check_multivariate_terms",
    "check_remainder_rates_function",
    "check_remainder_rates_network",
    "check_series_as_written",
    "check_series_as_written_multivariate",
    "check_series_one_variable",
    "example_function",
    "function_errors",
    "integral_remainder",
    "network_errors",
    "network_example",
    "one_variable_example",
    "taylor_polynomial",
    "taylor_term",
    "unit_direction",
]

_Fn = Callable[[jax.Array], jax.Array]


# --------------------------------------------------------------------------- one variable, symbolic


def _sym_args(expr: Any, x: Any, order: Any, order_name: str, *, minimum: int = 0):
    import sympy as sp

    if not isinstance(x, sp.Symbol):
        raise TypeError(f"x must be a sympy Symbol, got {type(x).__name__}")
    try:
        expr = sp.sympify(expr)
    except (sp.SympifyError, TypeError) as exc:
        raise TypeError(f"expr must be a sympy expression, got {type(expr).__name__}") from exc
    if not isinstance(expr, sp.Expr) or getattr(expr, "is_Matrix", False):
        raise TypeError(f"expr must be a scalar sympy expression, got {type(expr).__name__}")
    return expr, positive_int(order, order_name, minimum=minimum)


def taylor_term(expr: Any, x: Any, a: Any, k: int) -> Any:
    """The ``k``-th term of the Taylor series of ``expr`` in ``x`` about ``a``.

    ``f^{(k)}(a) (x - a)^k / k!`` (sympy expression). ``k = 0`` gives ``f(a)``.
    """
    import sympy as sp

    expr, k = _sym_args(expr, x, k, "k")
    return sp.diff(expr, x, k).subs(x, a) / sp.factorial(k) * (x - a) ** k


def taylor_polynomial(expr: Any, x: Any, a: Any, order: int) -> Any:
    """``T_n(x) = sum_{k=0}^{n} f^{(k)}(a) (x - a)^k / k!`` for ``n = order`` (sympy expression)."""
    expr, order = _sym_args(expr, x, order, "order")
    return sum(taylor_term(expr, x, a, k) for k in range(order + 1))


def integral_remainder(expr: Any, x: Any, a: Any, order: int) -> Any:
    """The exact remainder ``f(x) - T_n(x)`` in integral form (sympy expression).

    ``R_n(x) = int_a^x f^{(n+1)}(t) (x - t)^n / n! dt`` -- Taylor's theorem with the integral
    remainder, ``n = order``; it is ``O(|x - a|^{n+1})`` as ``x -> a``.
    """
    import sympy as sp

    expr, order = _sym_args(expr, x, order, "order")
    t = sp.Dummy("t", real=True)
    integrand = sp.diff(expr, x, order + 1).subs(x, t) * (x - t) ** order / sp.factorial(order)
    return sp.integrate(integrand, (t, a, x))


# --------------------------------------------------------------------------- the chapter's examples


def one_variable_example():
    """``(f, x, a)``: ``f(x) = exp(x) cos(x)`` about ``a = 1/3`` (sympy)."""
    import sympy as sp

    x = sp.Symbol("x", real=True)
    return sp.exp(x) * sp.cos(x), x, sp.Rational(1, 3)


class Example(NamedTuple):
    """A scalar function of three variables, in sympy and (lambdified) in JAX."""

    expr: Any
    symbols: tuple
    fn: _Fn


def example_function() -> Example:
    """``f(x) = exp(x1) sin(x2) + x1 x3^2 + cos(x1 x3)``: ``R^3 -> R``, with cross terms."""
    import sympy as sp

    x1, x2, x3 = sp.symbols("x1 x2 x3", real=True)
    expr = sp.exp(x1) * sp.sin(x2) + x1 * x3**2 + sp.cos(x1 * x3)
    lam = sp.lambdify([(x1, x2, x3)], expr, modules="jax")
    return Example(expr, (x1, x2, x3), lambda x: jnp.asarray(lam(x)))


EXAMPLE_POINT = (0.3, -0.5, 0.8)


NETWORK_WIDTHS = (3, 32, 1)


NETWORK_BETA = 0.1


@functools.lru_cache(maxsize=1)
def network_example():
    """``(f, theta0, x)``: the output of a 3-32-1 tanh network (:mod:`ntkbook.mlp`, NTK
    parameterization, ``beta = 0.1``) at a fixed input ``x`` as a function of its flattened
    parameters ``theta`` (``P = 3*32 + 32 + 32 + 1 = 161``); parameters from key 10, ``x`` from key 11."""
    from jax.flatten_util import ravel_pytree

    from .. import mlp

    theta0, unravel = ravel_pytree(mlp.init(jax.random.key(10), NETWORK_WIDTHS))
    x = jax.random.normal(jax.random.key(11), (NETWORK_WIDTHS[0],))
    return (lambda theta: mlp.apply(unravel(theta), x, activation="tanh", beta=NETWORK_BETA)[0]), theta0, x


# Two float64 evaluations of the same derivative by different programs (sympy formulas vs
# nested jvp vs jax.hessian) differ by rounding: a few ulps of terms of size <~ 10 here.

# The radii of the rate checks: small enough that the next Taylor term is a small correction to
# the leading one, large enough that the second-order error (~ r^3) stays far above rounding.
RADII = np.logspace(-3, -1, 9)
# The network's output varies slowly in its parameters (third derivatives ~ 1e-3 of the size of the second
# along a random direction), so its radii reach 1: the next term stays a correction of a few per cent, and the
# second-order error, ~ 3e-10 at r = 1e-2, stays far above rounding (at 1e-3 it would be only 30x above it).
NETWORK_RADII = np.logspace(-2, 0, 9)
# The rates are checked by the book's one criterion (rate_checks): at each radius the remainders along
# DIRECTIONS independent random unit directions (fresh ones at every radius), the exponent fitted to their
# mean, its standard error from their spread, and the allowance for the next Taylor term (relative size
# proportional to r: next_order = 1) from a second fit with that term beside the exponent.
DIRECTIONS = 1024
# A remainder f - T_n is a difference of O(1) values, each rounded to a few eps: it moves by ~3e-16
# between XLA's AVX-512 and SSE4.2 code (measured); 1e-14 bounds it with a margin.
REMAINDER_NOISE = 1e-14


@claim(
    CHAPTER,
    "As written, $f(x) = f(a) + \\sum_k (x-a)^k f^{(k)}(a)/k!$ for every $f$: the series may converge to "
    "another function, or diverge",
    equation="eq-taylor-source",
    source_holds=False,
    where="Basics, Taylor expansion (the series; source line 75)",
    source_says="The Taylor expansion of a function f(x) at x = a can be written as: "
    "f(x) = f(a) + sum_{k=1}^inf (1/k!) (x - a)^k grad^k_x f(x)|_{x=a}",
    truth="the equality needs f analytic at a and |x - a| below the radius of convergence. A smooth f may have a "
    "series that converges to another function (exp(-1/x^2) at 0: every term is 0); an analytic f may have a "
    "series that diverges (1/(1+x^2) at 0 for |x| >= 1). Without these conditions only the finite expansion with a "
    "remainder, f(x) = T_n(x) + O(|x - a|^(n+1)), holds",
)
def check_series_as_written():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    # (1) smooth but not analytic: f = exp(-1/x^2), f(0) = 0; every derivative at 0 is 0
    # (f^(k)(x) = p_k(1/x) exp(-1/x^2) for a polynomial p_k), so the series is 0 at every x.
    flat = sp.exp(-1 / x**2)
    terms = [sp.limit(sp.diff(flat, x, k), x, 0) / sp.factorial(k) for k in range(7)]
    # (2) analytic on the whole real line but with radius 1 at a = 0 (poles at +-i): at x = 2 the terms
    # (-4)^m do not tend to 0.
    bump = 1 / (1 + x**2)
    order = 20
    partial = taylor_polynomial(bump, x, sp.Integer(0), order)
    return [
        check_symbolic(
            "$e^{-1/x^2}$ about $a = 0$: terms $k = 0, \\dots, 6$ of the series at $x = 1$ (all 0) summed, "
            "vs $f(1) = e^{-1}$",
            sum(terms),
            flat.subs(x, 1),
            expect=False,
        ),
        check_symbolic(
            f"$1/(1+x^2)$ about $a = 0$: its terms up to $k = {order}$ vs those of $\\sum_m (-x^2)^m$ (radius 1)",
            partial,
            sum((-(x**2)) ** m for m in range(order // 2 + 1)),
        ),
        check_symbolic(
            f"$1/(1+x^2)$ about $a = 0$: the series' partial sum $T_{{{order}}}(2)$ vs $f(2) = 1/5$",
            partial.subs(x, 2),
            bump.subs(x, 2),
            expect=False,
            detail=f"$T_{{{order}}}(2) = (1 + 4^{{11}})/5$; the terms $(-4)^m$ grow, so the series diverges at $x = 2$",
        ),
    ]


@claim(
    CHAPTER,
    "One variable, $f$ analytic at $a$ ($e^x \\cos x$ is entire): the $k$-th term of the series is "
    "$f^{(k)}(a)(x-a)^k/k!$",
    equation="eq-taylor-1d",
)
def check_series_one_variable():
    import sympy as sp

    f, x, a = one_variable_example()
    order = 6
    ours = taylor_polynomial(f, x, a, order)
    ref = sp.series(f, x, a, order + 1).removeO()
    return check_symbolic(
        f"sum of the terms $k = 0, \\dots, {order}$ vs sympy.series, $e^x \\cos x$ about $1/3$", ours, ref
    )


@claim(
    CHAPTER,
    "The remainder $f - T_n$ is the integral of $f^{(n+1)}(t)(x-t)^n/n!$, so it is $O(\\lvert x-a\\rvert^{n+1})$",
    equation="eq-taylor-remainder",
)
def check_integral_remainder():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    f, a, n = sp.exp(2 * x) * x, sp.Integer(0), 3
    lhs = f - taylor_polynomial(f, x, a, n)
    rhs = integral_remainder(f, x, a, n)
    lead = sp.limit(lhs / x ** (n + 1), x, 0)
    return [
        check_symbolic("$f - T_3$ vs the integral remainder, $f = x e^{2x}$, $a = 0$", lhs, rhs),
        check_symbolic(
            "$\\lim_{x \\to 0} (f - T_3)/x^4$ vs $f^{(4)}(0)/4!$ (finite, non-zero)",
            lead,
            sp.diff(f, x, n + 1).subs(x, 0) / sp.factorial(n + 1),
        ),
    ]


@claim(
    CHAPTER,
    "As written, the linear term $(x - a) \\nabla f(a)$ is a product of two $n \\times 1$ columns",
    equation="eq-linear-as-written",
    source_holds=False,
    where="Basics, Taylor expansion (first-order expansion)",
    source_says="f(x) ~ f(a) + (x - a) grad_x f(x)|_{x=a}",
    truth="with the source's own convention grad f = J^T (an n x 1 column for scalar f), (x - a) grad f is "
    "undefined for n > 1; the first-order term is grad f(a)^T (x - a) = J(a)(x - a)",
)
def check_linear_term_as_written():
    ex = example_function()
    a = jnp.array(EXAMPLE_POINT)
    x = a + jnp.array([0.01, -0.02, 0.015])
    g = jax.grad(ex.fn)(a)  # grad f = J^T: an n x 1 column, stored as shape (n,)
    col_left, row_right = 1, g.shape[0]  # (x - a) is n x 1, grad f is n x 1
    literal = ex.fn(a) + (x - a) * g  # the formula typed as written into an array language
    return [
        check_definitional(
            "inner dimensions of $(x - a)$ ($n \\times 1$) times $\\nabla f(a)$ ($n \\times 1$) agree (1 vs $n = 3$)",
            col_left,
            row_right,
            expect=False,
        ),
        check_definitional(
            "number of dimensions of $f(a) + (x - a) \\odot \\nabla f(a)$ (elementwise) vs of the scalar $f(x)$",
            literal.ndim,
            jnp.ndim(ex.fn(x)),
            expect=False,
            detail=f"shape {tuple(literal.shape)} vs {tuple(jnp.shape(ex.fn(x)))}",
        ),
    ]


@claim(
    CHAPTER,
    "The first-order model is $f(a) + \\nabla f(a)^\\top (x - a) = f(a) + J(a)(x - a)$, one jvp",
    equation="eq-linear",
)
def check_linear_model():
    ex = example_function()
    a = jnp.array(EXAMPLE_POINT)
    xs = a + 0.1 * jax.random.normal(jax.random.key(20), (16, 3))
    via_jvp = jax.jit(jax.vmap(taylor.linearize_at(ex.fn, a)))(xs)
    via_grad = ex.fn(a) + (xs - a) @ jax.grad(ex.fn)(a)
    # Vector-valued f: R^3 -> R^2, first-order term J(a)(x - a) with J from jax.jacfwd.
    vec = lambda x: jnp.stack([ex.fn(x), jnp.sin(x[0] * x[1]) + x[2] ** 3])  # noqa: E731
    via_jac = vec(a) + (xs - a) @ jax.jit(jax.jacfwd(vec))(a).T
    return [
        check_close(
            "linearize_at (jax.jvp) vs $f(a) + \\nabla f(a)^\\top (x - a)$, 16 points",
            via_jvp,
            via_grad,
            atol=rounding(),
        ),
        check_close(
            "vector $f: \\mathbb{R}^3 \\to \\mathbb{R}^2$, linearize_at vs $f(a) + J(a)(x - a)$",
            jax.jit(jax.vmap(taylor.linearize_at(vec, a)))(xs),
            via_jac,
            atol=rounding(),
        ),
    ]


def _diagonal_second_order(expr, symbols, u):
    import sympy as sp

    return sp.Rational(1, 2) * sum(ui**2 * sp.diff(expr, xi, 2) for xi, ui in zip(symbols, u))


def _line_coefficient(expr, symbols, u, k):
    """(1/k!) d^k/dt^k f(x + t u) at t = 0 (sympy)."""
    import sympy as sp

    t = sp.Symbol("t", real=True)
    g = expr.subs({xi: xi + t * ui for xi, ui in zip(symbols, u)}, simultaneous=True)
    return sp.diff(g, t, k).subs(t, 0) / sp.factorial(k)


@claim(
    CHAPTER,
    "As written, $(x - a)^k \\nabla^k f$ for vector $x$ and $k \\ge 2$: read coordinatewise (the one reading that "
    "gives a number) it drops the mixed partial derivatives",
    equation="eq-taylor-as-written",
    source_holds=False,
    where="Basics, Taylor expansion (the series)",
    source_says="f(x) = f(a) + sum_k (1/k!) (x - a)^k grad^k_x f(x)|_{x=a}",
    truth="for x in R^n the k-th term is the k-th derivative (a symmetric k-index tensor) contracted with k copies "
    "of x - a, (1/k!) sum_{i1..ik} d^k f/dx_i1..dx_ik (a) (x-a)_i1...(x-a)_ik; for k = 2 this is "
    "(1/2)(x - a)^T H(a) (x - a). Reading the power and the derivative coordinate by coordinate drops "
    "the mixed partial derivatives.",
)
def check_series_as_written_multivariate():
    import sympy as sp

    ex = example_function()
    u = sp.symbols("u1 u2 u3", real=True)
    true_term = _line_coefficient(ex.expr, ex.symbols, u, 2)
    diag = _diagonal_second_order(ex.expr, ex.symbols, u)
    # As a matrix product (x - a)^2 is undefined (the inner dimensions 1 and n of two columns differ: the
    # definitional point of the first-order term above); the one reading that gives a number is coordinatewise.
    return check_symbolic(
        "coordinatewise reading $\\frac{1}{2} \\sum_i (x-a)_i^2\\, \\partial^2 f/\\partial x_i^2$ vs the true $k = 2$ term",
        diag,
        true_term,
        expect=False,
    )


@claim(
    CHAPTER,
    "Several variables: the $k$-th term is $D^k f(a)[x-a, \\dots, x-a]/k!$; for $k = 2$ it is "
    "$\\frac{1}{2}(x-a)^\\top H (x-a)$",
    equation="eq-taylor-nd",
)
def check_multivariate_terms():
    import sympy as sp

    ex = example_function()
    u = sp.symbols("u1 u2 u3", real=True)
    X = sp.Matrix(ex.symbols)
    U = sp.Matrix(u)
    grad = sp.Matrix([ex.expr]).jacobian(X).T
    H = sp.hessian(ex.expr, X)
    third = sum(
        sp.diff(ex.expr, xi, xj, xk) * ui * uj * uk
        for xi, ui in zip(ex.symbols, u)
        for xj, uj in zip(ex.symbols, u)
        for xk, uk in zip(ex.symbols, u)
    )
    out = [
        check_symbolic(
            "$k = 1$: $\\frac{d}{dt} f(x + t u)$ at $t = 0$ vs $\\nabla f(x)^\\top u$",
            _line_coefficient(ex.expr, ex.symbols, u, 1),
            (grad.T * U)[0],
        ),
        check_symbolic(
            "$k = 2$: $\\frac{1}{2} \\frac{d^2}{dt^2} f(x + t u)$ at $t = 0$ vs $\\frac{1}{2} u^\\top H(x) u$",
            _line_coefficient(ex.expr, ex.symbols, u, 2),
            (U.T * H * U)[0] / 2,
        ),
        check_symbolic(
            "$k = 3$: $\\frac{1}{6} \\frac{d^3}{dt^3} f(x + t u)$ at $t = 0$ vs "
            "$\\frac{1}{6} \\sum_{ijk} \\frac{\\partial^3 f}{\\partial x_i \\partial x_j \\partial x_k} u_i u_j u_k$",
            _line_coefficient(ex.expr, ex.symbols, u, 3),
            third / 6,
        ),
    ]
    # The same in float64: jax.hessian quadratic form and nested jvps vs the lambdified sympy terms.
    a = jnp.array(EXAMPLE_POINT)
    us = jax.random.normal(jax.random.key(21), (16, 3))
    lam2 = sp.lambdify([ex.symbols, u], (U.T * H * U)[0], modules="jax")
    lam3 = sp.lambdify([ex.symbols, u], third, modules="jax")
    Ha = jax.jit(jax.hessian(ex.fn))(a)
    out += [
        check_close(
            "$u^\\top H u$ with $H$ from jax.hessian vs sympy, 16 directions",
            jnp.einsum("bi,ij,bj->b", us, Ha, us),
            jax.jit(jax.vmap(lambda v: lam2(a, v)))(us),
            atol=rounding(),
        ),
        check_close(
            "$D^2 f(a)[u, u]$ by nested jax.jvp vs $u^\\top H u$ (jax.hessian)",
            jax.jit(jax.vmap(lambda v: taylor.nested_jvp(ex.fn, a, v, 2)))(us),
            jnp.einsum("bi,ij,bj->b", us, Ha, us),
            atol=rounding(),
        ),
        check_close(
            "$D^3 f(a)[u, u, u]$ by nested jax.jvp vs the sympy third-derivative contraction",
            jax.jit(jax.vmap(lambda v: taylor.nested_jvp(ex.fn, a, v, 3)))(us),
            jax.jit(jax.vmap(lambda v: lam3(a, v)))(us),
            atol=rounding(),
        ),
    ]
    return out


def unit_direction(key: jax.Array, n: int) -> jax.Array:
    """A uniformly random unit vector in ``R^n`` (a normalised standard normal draw), shape ``(n,)``."""
    u = jax.random.normal(key, (n,))
    return u / jnp.linalg.norm(u)


def _remainders(fn, a, key, radii, num_directions, *, general):
    """``|f(a + r u) - T_n(a + r u)|`` for n = 1, 2 along independent unit directions, fresh at every radius
    (``key`` split per radius and direction, ``vmap``): shape ``(2, R, num_directions)``. The models are
    ``taylor.taylor_model_at`` of orders 1 and 2 (``general``) or ``taylor.linearize_at`` and
    ``taylor.second_order_at``."""
    keys = jax.random.split(key, (len(radii), num_directions))
    if general:
        lin, quad = taylor.taylor_model_at(fn, a, 1), taylor.taylor_model_at(fn, a, 2)
    else:
        lin, quad = taylor.linearize_at(fn, a), taylor.second_order_at(fn, a)

    def err(k, r):
        x = a + r * unit_direction(k, a.shape[0])
        fx = fn(x)
        return jnp.stack([jnp.abs(fx - lin(x)), jnp.abs(fx - quad(x))])

    grid = jax.jit(jax.vmap(jax.vmap(err, in_axes=(0, None)), in_axes=(0, 0)))(keys, jnp.asarray(radii))
    return np.moveaxis(np.asarray(grid), -1, 0)


@functools.lru_cache(maxsize=2)
def _function_errors(num_directions: int) -> np.ndarray:
    ex = example_function()
    return _remainders(ex.fn, jnp.array(EXAMPLE_POINT), jax.random.key(22), RADII, num_directions, general=True)


def function_errors(num_directions: int = DIRECTIONS) -> np.ndarray:
    """Remainders of the Taylor models of orders 1 and 2 (:func:`ntkbook.taylor.taylor_model_at`) of
    :func:`example_function` about
    ``EXAMPLE_POINT``, along ``num_directions`` independent random unit directions at each radius of
    ``RADII`` (key 22, ``vmap``): shape ``(2, len(RADII), num_directions)``. Cached (figure and claim share it)."""
    return _function_errors(positive_int(num_directions, "num_directions")).copy()


@claim(
    CHAPTER,
    "First-order error is $O(\\lVert x-a\\rVert^2)$, second-order error $O(\\lVert x-a\\rVert^3)$: scalar function "
    "of 3 variables",
    equation="eq-taylor-remainder",
)
def check_remainder_rates_function():
    return _remainder_rate_checks(
        "mean $\\lvert f - T_{n}\\rvert$ over {d} directions per radius vs $r = \\lVert x - a\\rVert "
        "\\in [10^{{-3}}, 10^{{-1}}]$ (key 22)",
        RADII,
        function_errors(),
    )


def _remainder_rate_checks(what: str, radii: np.ndarray, errs: np.ndarray) -> list:
    """The rate checks of the first- and second-order remainders ``errs (2, R, D)``: ``|f - T_n| ∝ r^(n+1)``,
    the next Taylor term (relative size ``∝ r``) fitted beside it, ``r^n`` (one order less) rejected. ``what``
    is formatted with the order ``n`` and the number of directions ``d``."""
    out = []
    for i, n in enumerate((1, 2)):
        out += rate_checks(
            what.format(n=n, d=DIRECTIONS),
            radii,
            errs[i],
            n + 1.0,
            next_order=1.0,
            alternative=float(n),
            y_noise=REMAINDER_NOISE,
            variable="r",
        )
    return out


@functools.lru_cache(maxsize=2)
def _network_errors(num_directions: int) -> np.ndarray:
    f, theta0, _ = network_example()
    return _remainders(f, theta0, jax.random.key(23), NETWORK_RADII, num_directions, general=False)


def network_errors(num_directions: int = DIRECTIONS) -> np.ndarray:
    """Remainders of the first- and second-order models (:func:`ntkbook.taylor.linearize_at`,
    :func:`ntkbook.taylor.second_order_at`) of the network of :func:`network_example` about ``theta0``, along
    ``num_directions`` independent random unit directions at each radius of ``NETWORK_RADII`` (key 23, ``vmap``):
    shape ``(2, len(NETWORK_RADII), num_directions)``. Deterministic, so cached (the notebook's figure and the claim share one
    computation)."""
    return _network_errors(positive_int(num_directions, "num_directions")).copy()


@claim(
    CHAPTER,
    "The same rates for a network's output as a function of its parameters (3-32-1 tanh, NTK param.)",
    equation="eq-taylor-remainder",
)
def check_remainder_rates_network():
    errs = network_errors()
    f, theta0, _ = network_example()
    # The second-order term via the explicit Hessian (P x P) agrees with the forward-over-forward jvp.
    u = unit_direction(jax.random.key(24), theta0.shape[0])
    H = jax.jit(jax.hessian(f))(theta0)
    out = _remainder_rate_checks(
        "network: mean $\\lvert f - T_{n}\\rvert$ over {d} directions per radius vs "
        "$r = \\lVert \\theta - \\theta_0\\rVert \\in [10^{{-2}}, 1]$ (key 23)",
        NETWORK_RADII,
        errs,
    )
    return out + [
        check_close(
            f"network: $u^\\top H u$ (jax.hessian, $P = {theta0.shape[0]}$) vs nested jvp",
            u @ H @ u,
            jax.jit(lambda v: taylor.nested_jvp(f, theta0, v, 2))(u),
            atol=rounding(),
        ),
    ]
