"""Chapter 1 -- vector-to-vector derivatives: the Jacobian, the gradient as its transpose,
the chain rule as a Jacobian product, and Jacobian-vector / vector-Jacobian products.

Conventions (those of the source survey, :cite:`weng2022ntk`): for ``f: R^n -> R^m`` the
Jacobian ``J = df/dx`` has shape ``(m, n)``, ``J[i, j] = d f_i / d x_j``; the gradient is its
transpose, ``grad_x f = J^T`` of shape ``(n, m)`` (shape ``(n,)`` for a scalar ``f``).

Public functions validate their inputs and work for any JAX-traceable ``f``; the ``check_*``
functions are the chapter's registered claims.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .claims import check_close, check_slope, check_symbolic, claim
from .validate import as_array, as_callable, positive_float

CHAPTER = "01-jacobians"

__all__ = [
    "chain_rule_jacobian",
    "example_function",
    "finite_difference_error_bound",
    "finite_difference_jacobian",
    "gradient",
    "jacobian",
    "jvp",
    "vjp",
]

Fn = Callable[[jax.Array], jax.Array]


def _prepare(f, x) -> tuple[Fn, jax.Array, tuple[int, ...]]:
    f = as_callable(f, "f")
    x = as_array(x, "x", ndim=1)
    if x.shape[0] == 0:
        raise ValueError("x must have at least one entry, got shape (0,)")
    out = jax.eval_shape(f, x)
    if not hasattr(out, "shape") or len(out.shape) > 1:
        raise ValueError(f"f must map a vector to a scalar or a vector, got output shape {getattr(out, 'shape', out)}")
    return f, x, tuple(out.shape)


def jacobian(f: Fn, x: jax.Array, *, mode: str = "auto") -> jax.Array:
    """The Jacobian of ``f: R^n -> R^m`` at ``x``.

    Args:
      f: a JAX-traceable function from shape ``(n,)`` to shape ``(m,)`` (or a scalar, ``m = 1``).
      x: the point, shape ``(n,)``.
      mode: ``"fwd"`` (``jax.jacfwd``: ``n`` Jacobian-vector products), ``"rev"``
        (``jax.jacrev``: ``m`` vector-Jacobian products) or ``"auto"`` (the cheaper of the two:
        forward when ``n <= m``).

    Returns:
      ``J`` of shape ``(m, n)`` with ``J[i, j] = d f_i / d x_j`` (``(1, n)`` for scalar ``f``).
    """
    f, x, out_shape = _prepare(f, x)
    if mode not in {"auto", "fwd", "rev"}:
        raise ValueError(f"mode must be 'auto', 'fwd' or 'rev', got {mode!r}")
    m = out_shape[0] if out_shape else 1
    if mode == "auto":
        mode = "fwd" if x.shape[0] <= m else "rev"
    jac = (jax.jacfwd if mode == "fwd" else jax.jacrev)(f)(x)
    return jnp.reshape(jac, (m, x.shape[0]))


def gradient(f: Fn, x: jax.Array) -> jax.Array:
    """The gradient ``grad_x f = J^T`` in the source's convention.

    Returns shape ``(n,)`` for scalar ``f`` (the usual gradient) and ``(n, m)`` for
    ``f: R^n -> R^m``: column ``i`` is the gradient of the output ``f_i``.
    """
    f, x, out_shape = _prepare(f, x)
    if not out_shape:
        return jax.grad(f)(x)
    return jacobian(f, x).T


def finite_difference_jacobian(f: Fn, x: jax.Array, *, step: float | None = None) -> jax.Array:
    """Central finite differences ``(f(x + h e_j) - f(x - h e_j)) / 2h``, all ``j`` at once (``vmap``).

    The default step ``h = eps**(1/3) * max(1, |x|_inf)`` balances the truncation error
    (``~ h^2 |f'''| / 6``) against rounding (``~ eps |f| / h``); see
    :func:`finite_difference_error_bound`. Returns shape ``(m, n)``.
    """
    f, x, out_shape = _prepare(f, x)
    if step is None:
        step = float(jnp.finfo(x.dtype).eps ** (1 / 3)) * max(1.0, float(jnp.max(jnp.abs(x))))
    step = positive_float(step, "step")
    n = x.shape[0]
    m = out_shape[0] if out_shape else 1
    basis = jnp.eye(n, dtype=x.dtype) * step
    diff = jax.vmap(lambda e: (jnp.reshape(f(x + e), (m,)) - jnp.reshape(f(x - e), (m,))) / (2 * step))(basis)
    return diff.T


def finite_difference_error_bound(step: float, *, third_derivative: float, value: float, eps: float = 2.0**-52) -> float:
    """Bound on the central-difference error for one entry: ``h^2 M3 / 6 + eps M0 / h``.

    ``third_derivative`` bounds ``|d^3 f_i / dx_j^3|`` near ``x`` and ``value`` bounds
    ``|f_i|`` there (rounding in the two evaluations of ``f``). ``step`` may be an array of steps
    (all > 0); the bound is then elementwise.
    """
    h = np.asarray(as_array(step, "step"))
    if not np.all(h > 0):
        raise ValueError(f"step must be > 0, got min {float(np.min(h)) if h.size else 'empty'}")
    third_derivative = positive_float(third_derivative, "third_derivative", allow_zero=True)
    value = positive_float(value, "value", allow_zero=True)
    eps = positive_float(eps, "eps")
    step = h if h.ndim else float(h)
    return step**2 * third_derivative / 6 + eps * value / step


def jvp(f: Fn, x: jax.Array, u: jax.Array) -> jax.Array:
    """The Jacobian-vector product ``J u`` (shape ``(m,)``), one forward pass, ``J`` never formed."""
    f, x, _ = _prepare(f, x)
    u = as_array(u, "u", ndim=1)
    if u.shape != x.shape:
        raise ValueError(f"u must have the shape of x {x.shape}, got {u.shape}")
    return jnp.atleast_1d(jax.jvp(f, (x,), (u.astype(x.dtype),))[1])


def vjp(f: Fn, x: jax.Array, v: jax.Array) -> jax.Array:
    """The vector-Jacobian product ``J^T v`` (shape ``(n,)``), one reverse pass, ``J`` never formed."""
    f, x, out_shape = _prepare(f, x)
    v = as_array(v, "v", ndim=(0, 1))
    if v.shape != out_shape and not (out_shape == () and v.shape == (1,)):
        raise ValueError(f"v must have the shape of f(x) {out_shape}, got {v.shape}")
    out, pullback = jax.vjp(f, x)
    return pullback(jnp.reshape(v, out.shape).astype(out.dtype))[0]


def chain_rule_jacobian(g: Fn, f: Fn, x: jax.Array) -> jax.Array:
    """``J_g(f(x)) @ J_f(x)``: the Jacobian of ``g o f`` at ``x`` as a product, shape ``(k, n)``."""
    f, x, _ = _prepare(f, x)
    g = as_callable(g, "g")
    out = jax.eval_shape(g, jax.eval_shape(f, x))
    if not hasattr(out, "shape") or len(out.shape) > 1:
        raise ValueError(f"g must map a vector to a scalar or a vector, got output shape {getattr(out, 'shape', out)}")
    return jacobian(g, f(x)) @ jacobian(f, x)


# --------------------------------------------------------------------------- the chapter's examples


class Example(NamedTuple):
    """A function given once symbolically; ``fn`` is the same expressions lambdified to JAX."""

    exprs: object  # sympy Matrix, shape (m, 1)
    symbols: tuple  # sympy symbols x_1..x_n
    fn: Fn


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
_ROUNDING_TOL = 1e-13


@claim(CHAPTER, "The Jacobian of f: R^n -> R^m is an m x n matrix", equation="eq-jacobian", source_holds=True,
       where="Basics, vector-to-vector derivative")
def check_jacobian_shape():
    ex = example_function()
    x = _points(jax.random.key(0), 1, 3)[0]
    J = jacobian(ex.fn, x)
    return check_close("shape of J for f: R^3 -> R^2 equals (m, n) = (2, 3)", np.array(J.shape), np.array([2, 3]), atol=0)


@claim(CHAPTER, "jax.jacfwd, jax.jacrev and sympy's Matrix.jacobian agree", equation="eq-jacobian")
def check_autodiff_matches_sympy():
    ex = example_function()
    pts = _points(jax.random.key(1), 16, 3)
    ref = sympy_jacobian_at(ex, pts)
    fwd = jax.vmap(lambda p: jacobian(ex.fn, p, mode="fwd"))(pts)
    rev = jax.vmap(lambda p: jacobian(ex.fn, p, mode="rev"))(pts)
    return [
        check_close("jacfwd vs sympy Jacobian at 16 random points", fwd, ref, atol=_ROUNDING_TOL),
        check_close("jacrev vs sympy Jacobian at 16 random points", rev, ref, atol=_ROUNDING_TOL),
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
    return check_close(f"central differences (h = {h:.1e}) vs jacfwd", fd, ad, atol=tol,
                       detail="tol = h^2 M3/6 + eps M0/h, M3 = 7, M0 = 5")


@claim(CHAPTER, "The central-difference error falls like h^2")
def check_finite_difference_rate():
    ex = example_function()
    x = _points(jax.random.key(3), 1, 3)[0]
    steps = np.logspace(-1, -3, 7)
    ad = jacobian(ex.fn, x)
    errs = np.array([float(jnp.max(jnp.abs(finite_difference_jacobian(ex.fn, x, step=float(h)) - ad))) for h in steps])
    return check_slope("max |FD - AD| vs step h, h in [1e-3, 1e-1]", steps, errs, 2.0, atol=0.1)


@claim(CHAPTER, "The gradient is the transposed Jacobian, for scalar and vector outputs", equation="eq-gradient",
       source_holds=True, where="Basics, vector-to-vector derivative")
def check_gradient_is_transpose():
    ex = example_function()
    x = _points(jax.random.key(4), 1, 3)[0]
    scalar = lambda x: ex.fn(x)[0] * ex.fn(x)[1]  # noqa: E731  a scalar function R^3 -> R
    J = jacobian(ex.fn, x)
    columns = jnp.stack([jax.grad(lambda x, i=i: ex.fn(x)[i])(x) for i in range(2)], axis=1)
    return [
        check_close("jax.grad of a scalar f vs J^T (m = 1)", jax.grad(scalar)(x), jacobian(scalar, x).T[:, 0], atol=_ROUNDING_TOL),
        check_close("column i of grad f = J^T (3 x 2) vs jax.grad of f_i", gradient(ex.fn, x), columns, atol=_ROUNDING_TOL),
        check_close("grad f = J^T has shape (n, m) = (3, 2)", np.array(gradient(ex.fn, x).shape), np.array(J.T.shape), atol=0),
    ]


@claim(CHAPTER, "Chain rule: the Jacobian of g o f is J_g(f(x)) J_f(x)", equation="eq-chain-rule")
def check_chain_rule():
    import sympy as sp

    ex, outer = example_function(), outer_function()
    composed = outer.exprs.subs(dict(zip(outer.symbols, ex.exprs)), simultaneous=True)
    lhs = composed.jacobian(sp.Matrix(ex.symbols))
    rhs = outer.exprs.jacobian(sp.Matrix(outer.symbols)).subs(dict(zip(outer.symbols, ex.exprs)), simultaneous=True) * \
        ex.exprs.jacobian(sp.Matrix(ex.symbols))
    pts = _points(jax.random.key(5), 16, 3)
    direct = jax.vmap(lambda p: jacobian(lambda x: outer.fn(ex.fn(x)), p))(pts)
    product = jax.vmap(lambda p: chain_rule_jacobian(outer.fn, ex.fn, p))(pts)
    return [
        check_symbolic("sympy: Jacobian of g(f(x)) = J_g(f(x)) J_f(x)", lhs, rhs),
        check_close("JAX: jacobian(g o f) vs J_g(f(x)) @ J_f(x), 16 points", direct, product, atol=_ROUNDING_TOL),
    ]


@claim(CHAPTER, "Chain rule in gradient form: grad_x l(f(x)) = grad_x f . grad_f l (n x m times m x 1)",
       equation="eq-gradient-chain", source_holds=True, where="Neural tangent kernel, gradient of the loss")
def check_gradient_chain_rule():
    ex = example_function()
    x = _points(jax.random.key(6), 1, 3)[0]
    y = jnp.array([0.3, -0.7])
    loss = lambda out: 0.5 * jnp.sum((out - y) ** 2)  # noqa: E731
    lhs = jax.grad(lambda x: loss(ex.fn(x)))(x)
    rhs = gradient(ex.fn, x) @ jax.grad(loss)(ex.fn(x))
    return check_close("grad_x l(f(x)) vs (grad_x f)(grad_f l)", lhs, rhs, atol=_ROUNDING_TOL)


@claim(CHAPTER, "A vector-Jacobian product is J^T v and a Jacobian-vector product is J u, without forming J",
       equation="eq-vjp")
def check_vjp_jvp():
    ex = example_function()
    kx, ku, kv = jax.random.split(jax.random.key(7), 3)
    x = _points(kx, 1, 3)[0]
    u = jax.random.normal(ku, (3,))
    v = jax.random.normal(kv, (2,))
    J = jacobian(ex.fn, x)
    return [
        check_close("vjp(f, x, v) vs J^T v", vjp(ex.fn, x, v), J.T @ v, atol=_ROUNDING_TOL),
        check_close("jvp(f, x, u) vs J u", jvp(ex.fn, x, u), J @ u, atol=_ROUNDING_TOL),
    ]
