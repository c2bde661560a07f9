"""Chapter 1 -- vector-to-vector derivatives (``book/01-jacobians.ipynb``): the Jacobian, the
gradient as its transpose, the chain rule as a Jacobian product, and Jacobian-vector /
vector-Jacobian products, checked on one example function given once in SymPy and lambdified to JAX.

The library is :mod:`ntkbook.jacobians`; this module holds the chapter's examples and its claims
(the ``check_*`` functions).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..claims import check_close, check_symbolic, claim, rate_checks, rounding
from ..jacobians import (
    chain_rule_jacobian,
    finite_difference_error_bound,
    finite_difference_jacobian,
    gradient,
    jacobian,
    jvp,
    vjp,
)

CHAPTER = "01-jacobians"

__all__ = [
    "CHAPTER",
    "Example",
    "FD_RATE_STEPS",
    "check_autodiff_matches_sympy",
    "check_chain_rule",
    "check_finite_difference_rate",
    "check_finite_differences",
    "check_gradient_chain_rule",
    "check_gradient_is_transpose",
    "check_jacobian_shape",
    "check_vjp_jvp",
    "example_function",
    "finite_difference_errors",
    "outer_function",
    "sympy_jacobian_at",
]

_Fn = Callable[[jax.Array], jax.Array]


# --------------------------------------------------------------------------- the chapter's examples


class Example(NamedTuple):
    """A function given once symbolically; ``fn`` is the same expressions lambdified to JAX."""

    exprs: object  # sympy Matrix, shape (m, 1)
    symbols: tuple  # sympy symbols x_1..x_n
    fn: _Fn


def example_function() -> Example:
    """``f: R^3 -> R^2``, ``f(x) = (x1 x2^2 + sin x3, exp(x1) x3 - x2)``, in sympy and JAX."""
    import sympy as sp

    x1, x2, x3 = sp.symbols("x1 x2 x3", real=True)
    exprs = sp.Matrix([x1 * x2**2 + sp.sin(x3), sp.exp(x1) * x3 - x2])
    lam = sp.lambdify([(x1, x2, x3)], list(exprs), modules="jax")
    return Example(exprs, (x1, x2, x3), lambda x: jnp.stack(lam(x)))


def outer_function() -> Example:
    """``g: R^2 -> R^2``, ``g(y) = (y1 y2, tanh y1 + y2^3)``, used for the chain rule."""
    import sympy as sp

    y1, y2 = sp.symbols("y1 y2", real=True)
    exprs = sp.Matrix([y1 * y2, sp.tanh(y1) + y2**3])
    lam = sp.lambdify([(y1, y2)], list(exprs), modules="jax")
    return Example(exprs, (y1, y2), lambda y: jnp.stack(lam(y)))


def _points(key: jax.Array, count: int, n: int) -> jax.Array:
    return jax.random.uniform(key, (count, n), minval=-1.5, maxval=1.5, dtype=jnp.float64)


def sympy_jacobian_at(ex: Example, points: jax.Array) -> jax.Array:
    """sympy's ``Matrix.jacobian`` lambdified and evaluated at each row of ``points``: ``(count, m, n)``."""
    import sympy as sp

    jac = ex.exprs.jacobian(sp.Matrix(ex.symbols))
    lam = sp.lambdify([ex.symbols], jac.tolist(), modules="jax")
    return jax.vmap(lambda p: jnp.array(lam(p)))(points)


# Tolerance for comparing two float64 evaluations of the same derivative formulas: they differ
# by rounding only, a few ulps of the largest entry (|J| <= ~20 on [-1.5, 1.5]^3).


@claim(
    CHAPTER,
    "The Jacobian of $f: \\mathbb{R}^n \\to \\mathbb{R}^m$ is an $m \\times n$ matrix",
    equation="eq-jacobian",
    source_holds=True,
    where="Basics, vector-to-vector derivative",
)
def check_jacobian_shape():
    ex = example_function()
    x = _points(jax.random.key(0), 1, 3)[0]
    J = jacobian(ex.fn, x)
    return check_close(
        "shape of $J$ for $f: \\mathbb{R}^3 \\to \\mathbb{R}^2$ equals $(m, n) = (2, 3)$",
        np.array(J.shape),
        np.array([2, 3]),
        atol=0,
    )


@claim(CHAPTER, "jax.jacfwd, jax.jacrev and sympy's Matrix.jacobian agree", equation="eq-jacobian")
def check_autodiff_matches_sympy():
    ex = example_function()
    pts = _points(jax.random.key(1), 16, 3)
    ref = sympy_jacobian_at(ex, pts)
    fwd = jax.vmap(lambda p: jacobian(ex.fn, p, mode="fwd"))(pts)
    rev = jax.vmap(lambda p: jacobian(ex.fn, p, mode="rev"))(pts)
    return [
        check_close("jacfwd vs sympy Jacobian at 16 random points", fwd, ref, atol=rounding()),
        check_close("jacrev vs sympy Jacobian at 16 random points", rev, ref, atol=rounding()),
    ]


def _third_derivative_bound() -> float:
    # For the example on [-1.5, 1.5]^3 (plus the step): every pure third partial derivative is
    # 0, -cos x3, exp(x1) x3 or 0, so |d^3 f_i / dx_j^3| <= e^1.5 * 1.5 < 7.
    return 7.0


@claim(CHAPTER, "Central finite differences agree with autodiff within their error bound", equation="eq-jacobian")
def check_finite_differences():
    ex = example_function()
    pts = _points(jax.random.key(2), 16, 3)
    # A step a little above the balance point eps^(1/3) ~ 6e-6, so that truncation dominates the
    # error and its printed digits do not depend on rounding.
    h = 1e-4
    fd = jax.vmap(lambda p: finite_difference_jacobian(ex.fn, p, step=h))(pts)
    ad = jax.vmap(lambda p: jacobian(ex.fn, p))(pts)
    # |f_i| <= 1.5 * 1.5^2 + 1 < 5 on the box.
    tol = finite_difference_error_bound(h, third_derivative=_third_derivative_bound(), value=5.0)
    return check_close(
        f"central differences ($h = 10^{{{round(np.log10(h))}}}$) vs jacfwd",
        fd,
        ad,
        atol=tol,
        detail="tol $= h^2 M_3/6 + \\varepsilon M_0/h$, $M_3 = 7$, $M_0 = 5$",
    )


# The rate is checked by the book's one criterion (rate_checks). The values are deterministic, so the standard
# error is the slope's rounding noise and the tolerance is the allowance for the next-order term, derived here:
# in f(x + h e) - f(x - h e) the even Taylor terms cancel, so the central difference is
# J + h^2 f^(3)/6 + h^4 f^(5)/120 + ..., an error c h^2 (1 + (d/c) h^2 + ...): the relative next-order term is h^2
# (next_order = 2). Rounding adds at most eps M0/h per entry (the bound's second term): at the smallest step,
# 1e-3, that is ~1e-12 against an error ~1e-6, so truncation dominates over the whole range [1e-3, 1e-1] and
# eps M0/h_min is the values' noise (below 1e-3 rounding takes over: the figure shows it).
FD_RATE_STEPS = np.logspace(-1, -3, 7)


def finite_difference_errors(steps=FD_RATE_STEPS) -> np.ndarray:
    """``max |FD - AD|`` over the ``2 x 3`` entries of the example's Jacobian at one random point (key 3),
    for each central-difference step in ``steps``: shape ``(len(steps),)``."""
    ex = example_function()
    x = _points(jax.random.key(3), 1, 3)[0]
    ad = jacobian(ex.fn, x)
    return np.array([float(jnp.max(jnp.abs(finite_difference_jacobian(ex.fn, x, step=float(h)) - ad))) for h in steps])


@claim(CHAPTER, "The central-difference error falls like $h^2$")
def check_finite_difference_rate():
    steps = FD_RATE_STEPS
    return rate_checks(
        "$\\max \\lvert \\mathrm{FD} - \\mathrm{AD}\\rvert$ over the $2 \\times 3$ entries vs step $h$, "
        "$h \\in [10^{-3}, 10^{-1}]$",
        steps,
        finite_difference_errors(steps),
        2.0,
        next_order=2.0,
        alternative=1.0,
        y_noise=finite_difference_error_bound(float(steps.min()), third_derivative=0.0, value=5.0),
        variable="h",
        detail="error $c h^2 + d h^4 + \\dots$ (the even Taylor terms cancel): next-order term $h^2$ relative; "
        "noise $\\varepsilon M_0/h_{\\min}$; $h^1$ is a one-sided difference's rate",
    )


@claim(
    CHAPTER,
    "The gradient is the transposed Jacobian, for scalar and vector outputs",
    equation="eq-gradient",
    source_holds=True,
    where="Basics, vector-to-vector derivative",
)
def check_gradient_is_transpose():
    ex = example_function()
    x = _points(jax.random.key(4), 1, 3)[0]
    scalar = lambda x: ex.fn(x)[0] * ex.fn(x)[1]  # noqa: E731  a scalar function R^3 -> R
    J = jacobian(ex.fn, x)
    columns = jnp.stack([jax.grad(lambda x, i=i: ex.fn(x)[i])(x) for i in range(2)], axis=1)
    return [
        check_close(
            "jax.grad of a scalar $f$ vs $J^\\top$ ($m = 1$)",
            jax.grad(scalar)(x),
            jacobian(scalar, x).T[:, 0],
            atol=rounding(),
        ),
        check_close(
            "column $i$ of $\\nabla f = J^\\top$ ($3 \\times 2$) vs jax.grad of $f_i$",
            gradient(ex.fn, x),
            columns,
            atol=rounding(),
        ),
        check_close(
            "$\\nabla f = J^\\top$ has shape $(n, m) = (3, 2)$",
            np.array(gradient(ex.fn, x).shape),
            np.array(J.T.shape),
            atol=0,
        ),
    ]


@claim(
    CHAPTER,
    "Chain rule: the Jacobian of $g \\circ f$ is $J_g(f(\\mathbf{x}))\\, J_f(\\mathbf{x})$",
    equation="eq-chain-rule",
)
def check_chain_rule():
    import sympy as sp

    ex, outer = example_function(), outer_function()
    composed = outer.exprs.subs(dict(zip(outer.symbols, ex.exprs)), simultaneous=True)
    lhs = composed.jacobian(sp.Matrix(ex.symbols))
    rhs = outer.exprs.jacobian(sp.Matrix(outer.symbols)).subs(
        dict(zip(outer.symbols, ex.exprs)), simultaneous=True
    ) * ex.exprs.jacobian(sp.Matrix(ex.symbols))
    pts = _points(jax.random.key(5), 16, 3)
    direct = jax.vmap(lambda p: jacobian(lambda x: outer.fn(ex.fn(x)), p))(pts)
    product = jax.vmap(lambda p: chain_rule_jacobian(outer.fn, ex.fn, p))(pts)
    return [
        check_symbolic("sympy: Jacobian of $g(f(\\mathbf{x})) = J_g(f(\\mathbf{x}))\\, J_f(\\mathbf{x})$", lhs, rhs),
        check_close(
            "JAX: jacobian of $g \\circ f$ vs $J_g(f(\\mathbf{x}))\\, J_f(\\mathbf{x})$, 16 points",
            direct,
            product,
            atol=rounding(),
        ),
    ]


@claim(
    CHAPTER,
    "Chain rule in gradient form: $\\nabla_{\\mathbf{x}} \\ell(f(\\mathbf{x})) = \\nabla_{\\mathbf{x}} f \\, \\nabla_f \\ell$ "
    "($n \\times m$ times $m \\times 1$)",
    equation="eq-gradient-chain",
    source_holds=True,
    where="Neural tangent kernel, gradient of the loss",
)
def check_gradient_chain_rule():
    ex = example_function()
    x = _points(jax.random.key(6), 1, 3)[0]
    y = jnp.array([0.3, -0.7])
    loss = lambda out: 0.5 * jnp.sum((out - y) ** 2)  # noqa: E731
    lhs = jax.grad(lambda x: loss(ex.fn(x)))(x)
    rhs = gradient(ex.fn, x) @ jax.grad(loss)(ex.fn(x))
    return check_close(
        "$\\nabla_{\\mathbf{x}} \\ell(f(\\mathbf{x}))$ vs $(\\nabla_{\\mathbf{x}} f)(\\nabla_f \\ell)$",
        lhs,
        rhs,
        atol=rounding(),
    )


@claim(
    CHAPTER,
    "A vector-Jacobian product is $J^\\top \\mathbf{v}$ and a Jacobian-vector product is $J \\mathbf{u}$, "
    "without forming $J$",
    equation="eq-vjp",
)
def check_vjp_jvp():
    ex = example_function()
    kx, ku, kv = jax.random.split(jax.random.key(7), 3)
    x = _points(kx, 1, 3)[0]
    u = jax.random.normal(ku, (3,))
    v = jax.random.normal(kv, (2,))
    J = jacobian(ex.fn, x)
    return [
        check_close(
            "vjp($f$, $\\mathbf{x}$, $\\mathbf{v}$) vs $J^\\top \\mathbf{v}$",
            vjp(ex.fn, x, v),
            J.T @ v,
            atol=rounding(),
        ),
        check_close(
            "jvp($f$, $\\mathbf{x}$, $\\mathbf{u}$) vs $J \\mathbf{u}$", jvp(ex.fn, x, u), J @ u, atol=rounding()
        ),
    ]
