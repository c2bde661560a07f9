"""Taylor models of a function, built from Jacobian-vector products (``jax.jvp``): the ``k``-th
directional derivative, the Taylor model of any order, the first- and second-order models, and
the size of their remainder along a line.

Conventions (those of :mod:`ntkbook.jacobians`): for ``f: R^n -> R^m`` the Jacobian ``J`` is
``(m, n)`` and the gradient ``grad f = J^T`` is ``(n, m)`` (``(n,)`` for a scalar ``f``). The
first-order model is therefore ``f(a) + J(a)(x - a) = f(a) + grad f(a)^T (x - a)``, and the
``k``-th term of the expansion is the ``k``-th derivative -- a symmetric ``k``-linear form --
applied to ``k`` copies of ``x - a``, divided by ``k!``:

    f(x) = sum_k  D^k f(a)[x - a, ..., x - a] / k!,
    D^k f(a)[u, ..., u] = sum_{i_1..i_k} d^k f / (dx_{i_1} ... dx_{i_k}) (a) u_{i_1} ... u_{i_k}.

``D^k f(a)[u, ..., u]`` is the ``k``-th derivative of ``t -> f(a + t u)`` at ``t = 0``; it is
computed here by ``k`` nested ``jax.jvp`` calls, never forming the derivative tensor. The
chapter's examples, its symbolic (sympy) series and its claims are in
``ntkbook.chapters.c04_taylor``.

References: Nocedal & Wright, *Numerical Optimization* (2006), Thm. 2.1 (Taylor's theorem);
Magnus & Neudecker, *Matrix Differential Calculus* (2019).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .rates import fit_loglog_slope
from .validate import as_array, as_callable, positive_int

__all__ = [
    "SlopeFit",
    "directional_derivative",
    "linearize_at",
    "nested_jvp",
    "remainder_errors",
    "remainder_slopes",
    "second_order_at",
    "taylor_model_at",
]

_Fn = Callable[[jax.Array], jax.Array]


def _prepare(f: Any, a: Any) -> tuple[_Fn, jax.Array]:
    f = as_callable(f, "f")
    a = as_array(a, "a", ndim=(0, 1))
    out = jax.eval_shape(f, a)
    if not hasattr(out, "shape") or len(out.shape) > 1:
        raise ValueError(f"f must map a to a scalar or a vector, got output {getattr(out, 'shape', out)}")
    return f, a


def _point(x: Any, a: jax.Array, name: str = "x") -> jax.Array:
    x = as_array(x, name, ndim=a.ndim)
    if x.shape != a.shape:
        raise ValueError(f"{name} must have the shape of a {a.shape}, got {x.shape}")
    return x.astype(a.dtype)


def directional_derivative(f: _Fn, a: jax.Array, u: jax.Array, order: int) -> jax.Array:
    """``D^k f(a)[u, ..., u]``: the ``k``-th derivative of ``t -> f(a + t u)`` at ``t = 0``.

    Equals ``sum_{i_1..i_k} d^k f / (dx_{i_1}..dx_{i_k})(a) u_{i_1}..u_{i_k}``: ``J u`` for
    ``k = 1``, ``u^T H u`` for ``k = 2`` (scalar ``f``, ``H`` the Hessian). Computed by ``k``
    nested ``jax.jvp`` calls (cost grows like ``2^k`` evaluations; meant for small ``k``).

    Args:
      f: ``R^n -> R^m`` (or scalar), JAX-traceable.
      a: the point, shape ``(n,)`` (or a scalar).
      u: the direction, shape of ``a``.
      order: ``k >= 0``.

    Returns:
      shape of ``f(a)``.
    """
    f, a = _prepare(f, a)
    u = _point(u, a, "u")
    return nested_jvp(f, a, u, positive_int(order, "order", minimum=0))


def nested_jvp(f: _Fn, a: jax.Array, u: jax.Array, k: int) -> jax.Array:
    """``D^k f(a)[u, ..., u]`` by ``k`` nested ``jax.jvp`` calls, without checking the inputs.

    The unchecked core of :func:`directional_derivative` (same arguments and shapes: ``a`` and
    ``u`` of shape ``(n,)`` or scalars, ``k >= 0`` a Python int; returns the shape of ``f(a)``). It
    never inspects values, so it can be called under an outer ``jax.jit`` or ``jax.vmap``, e.g.
    ``jax.vmap(lambda u: nested_jvp(f, a, u, 2))(us)`` for many directions at once.
    """
    g = f
    for _ in range(k):
        g = (lambda h: lambda y: jax.jvp(h, (y,), (u,))[1])(g)
    return g(a)


def taylor_model_at(f: _Fn, a: jax.Array, order: int) -> _Fn:
    """The Taylor model of order ``n`` about ``a``: ``x -> sum_{k<=n} D^k f(a)[x-a]^k / k!``.

    Returns a function of ``x`` (shape of ``a``) with the output shape of ``f``; it can be
    ``vmap``-ped over ``x``.
    """
    f, a = _prepare(f, a)
    n = positive_int(order, "order", minimum=0)
    fa = f(a)

    def model(x):
        u = _point(x, a) - a
        out = fa
        for k in range(1, n + 1):
            out = out + nested_jvp(f, a, u, k) / math.factorial(k)
        return out

    return model


def linearize_at(f: _Fn, a: jax.Array) -> _Fn:
    """The first-order model ``f_lin(x) = f(a) + J(a)(x - a) = f(a) + grad f(a)^T (x - a)``.

    ``J(a)(x - a)`` is one Jacobian-vector product (``jax.jvp``); ``J`` is never formed. For
    ``f: R^n -> R^m`` the output has shape ``(m,)``, for scalar ``f`` it is a scalar.
    """
    f, a = _prepare(f, a)
    fa = f(a)

    def f_lin(x):
        u = _point(x, a) - a
        return fa + jax.jvp(f, (a,), (u,))[1]

    return f_lin


def second_order_at(f: _Fn, a: jax.Array) -> _Fn:
    """The second-order model ``f(a) + J(a)(x-a) + (1/2) D^2 f(a)[x-a, x-a]``.

    For scalar ``f`` the last term is ``(1/2)(x-a)^T H(a) (x-a)`` with ``H = jax.hessian(f)(a)``;
    it is computed as a jvp of a jvp (forward over forward), without forming ``H``. ``a``: shape
    ``(n,)`` (or a scalar); the returned model takes ``x`` of the shape of ``a`` and returns the
    shape of ``f(a)``.
    """
    f, a = _prepare(f, a)
    fa = f(a)

    def f_quad(x):
        u = _point(x, a) - a
        d1, d2 = jax.jvp(lambda y: jax.jvp(f, (y,), (u,))[1], (a,), (u,))
        return fa + d1 + 0.5 * d2

    return f_quad


def remainder_errors(f: _Fn, a: jax.Array, direction: jax.Array, radii: Any, order: int) -> jax.Array:
    """``max |f(a + r u) - T_n(a + r u)|`` over the outputs, for each radius ``r`` (``vmap``).

    Args:
      f, a: as in :func:`taylor_model_at`.
      direction: ``u``, shape of ``a``; it is normalised to unit length, so ``r = |x - a|``.
      radii: shape ``(R,)``, positive.
      order: ``n`` of the Taylor model.

    Returns:
      shape ``(R,)``. Taylor's theorem says this is ``O(r^{n+1})`` for smooth ``f``.
    """
    f, a = _prepare(f, a)
    u = _point(direction, a, "direction")
    norm = jnp.linalg.norm(u)
    if float(norm) == 0.0:
        raise ValueError("direction must be non-zero")
    u = u / norm
    radii = as_array(radii, "radii", ndim=1)
    if radii.shape[0] == 0 or not bool(jnp.all(radii > 0)):
        raise ValueError(f"radii must be a non-empty 1-D array of positive numbers, got {radii}")
    model = taylor_model_at(f, a, order)
    err = lambda r: jnp.max(jnp.abs(jnp.atleast_1d(f(a + r * u) - model(a + r * u))))  # noqa: E731
    return jax.jit(jax.vmap(err))(radii.astype(a.dtype))


class SlopeFit(NamedTuple):
    """A fitted log-log slope of the remainder of the order-``order`` Taylor model against the radius,
    with its least-squares standard error (see :func:`remainder_slopes`)."""

    order: int
    slope: float
    stderr: float


def remainder_slopes(
    f: _Fn, a: jax.Array, direction: jax.Array, radii: Any, orders: Sequence[int] = (1, 2)
) -> list[SlopeFit]:
    """Fitted log-log slopes of :func:`remainder_errors` against ``r``, one per order.

    Taylor's theorem predicts slope ``n + 1`` for the order-``n`` model, as long as the radii are
    small enough for the next term to dominate and large enough for the error to stay above
    float64 rounding (about ``1e-16 |f|``). ``f, a, direction, radii`` as in
    :func:`remainder_errors` (``radii`` of shape ``(R,)``, ``R >= 2``); returns one :class:`SlopeFit`
    per entry of ``orders``.
    """
    if isinstance(orders, (int, np.integer)) or not len(orders):
        raise TypeError("orders must be a non-empty sequence of integers")
    fits = []
    for n in orders:
        errs = remainder_errors(f, a, direction, radii, n)
        slope, se, _ = fit_loglog_slope(np.asarray(radii, dtype=float), np.asarray(errs))
        fits.append(SlopeFit(int(n), slope, se))
    return fits
