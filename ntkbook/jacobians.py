"""Vector-to-vector derivatives: the Jacobian, the gradient as its transpose, the chain rule as a
Jacobian product, Jacobian-vector / vector-Jacobian products, and central finite differences.

Conventions (those of the source survey, :cite:`weng2022ntk`): for ``f: R^n -> R^m`` the
Jacobian ``J = df/dx`` has shape ``(m, n)``, ``J[i, j] = d f_i / d x_j``; the gradient is its
transpose, ``grad_x f = J^T`` of shape ``(n, m)`` (shape ``(n,)`` for a scalar ``f``).

Public functions validate their inputs and work for any JAX-traceable ``f``. The chapter that
checks these conventions (its examples and claims) is ``ntkbook.chapters.c01_jacobians``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .validate import as_array, as_callable, positive_float

__all__ = [
    "chain_rule_jacobian",
    "finite_difference_error_bound",
    "finite_difference_jacobian",
    "gradient",
    "jacobian",
    "jvp",
    "vjp",
]

_Fn = Callable[[jax.Array], jax.Array]


def _prepare(f, x) -> tuple[_Fn, jax.Array, tuple[int, ...]]:
    f = as_callable(f, "f")
    x = as_array(x, "x", ndim=1)
    if x.shape[0] == 0:
        raise ValueError("x must have at least one entry, got shape (0,)")
    out = jax.eval_shape(f, x)
    if not hasattr(out, "shape") or len(out.shape) > 1:
        raise ValueError(f"f must map a vector to a scalar or a vector, got output shape {getattr(out, 'shape', out)}")
    return f, x, tuple(out.shape)


def jacobian(f: _Fn, x: jax.Array, *, mode: str = "auto") -> jax.Array:
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


def gradient(f: _Fn, x: jax.Array) -> jax.Array:
    """The gradient ``grad_x f = J^T`` in the source's convention.

    Returns shape ``(n,)`` for scalar ``f`` (the usual gradient) and ``(n, m)`` for
    ``f: R^n -> R^m``: column ``i`` is the gradient of the output ``f_i``.
    """
    f, x, out_shape = _prepare(f, x)
    if not out_shape:
        return jax.grad(f)(x)
    return jacobian(f, x).T


def finite_difference_jacobian(f: _Fn, x: jax.Array, *, step: float | None = None) -> jax.Array:
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


def finite_difference_error_bound(
    step: float, *, third_derivative: float, value: float, eps: float = 2.0**-52
) -> float:
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


def jvp(f: _Fn, x: jax.Array, u: jax.Array) -> jax.Array:
    """The Jacobian-vector product ``J u`` (shape ``(m,)``), one forward pass, ``J`` never formed.

    ``f: R^n -> R^m`` (``m = 1`` for a scalar ``f``), ``x`` and the direction ``u`` of shape ``(n,)``.
    """
    f, x, _ = _prepare(f, x)
    u = as_array(u, "u", ndim=1)
    if u.shape != x.shape:
        raise ValueError(f"u must have the shape of x {x.shape}, got {u.shape}")
    return jnp.atleast_1d(jax.jvp(f, (x,), (u.astype(x.dtype),))[1])


def vjp(f: _Fn, x: jax.Array, v: jax.Array) -> jax.Array:
    """The vector-Jacobian product ``J^T v`` (shape ``(n,)``), one reverse pass, ``J`` never formed.

    ``f: R^n -> R^m``, ``x`` of shape ``(n,)``, the cotangent ``v`` of the shape of ``f(x)``:
    ``(m,)``, or ``()`` / ``(1,)`` for a scalar ``f``.
    """
    f, x, out_shape = _prepare(f, x)
    v = as_array(v, "v", ndim=(0, 1))
    if v.shape != out_shape and not (out_shape == () and v.shape == (1,)):
        raise ValueError(f"v must have the shape of f(x) {out_shape}, got {v.shape}")
    out, pullback = jax.vjp(f, x)
    return pullback(jnp.reshape(v, out.shape).astype(out.dtype))[0]


def chain_rule_jacobian(g: _Fn, f: _Fn, x: jax.Array) -> jax.Array:
    """``J_g(f(x)) @ J_f(x)``: the Jacobian of ``g o f`` at ``x`` as a product, shape ``(k, n)``.

    ``f: R^n -> R^m`` (vector output), ``g: R^m -> R^k`` (``k = 1`` for a scalar ``g``), ``x`` of
    shape ``(n,)``.
    """
    f, x, _ = _prepare(f, x)
    g = as_callable(g, "g")
    out = jax.eval_shape(g, jax.eval_shape(f, x))
    if not hasattr(out, "shape") or len(out.shape) > 1:
        raise ValueError(f"g must map a vector to a scalar or a vector, got output shape {getattr(out, 'shape', out)}")
    return jacobian(g, f(x)) @ jacobian(f, x)
