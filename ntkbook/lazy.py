"""Lazy training: the norms that say how far a network's parameters, Jacobian and NTK can move while
it fits its training set, Chizat et al.'s measure of laziness ``κ``, and the two-layer network in
the NTK and the mean-field parameterization.

Definitions used throughout (the source leaves its norms implicit):

* ``f(θ) = f(X; θ)`` stacks the ``N n_L`` training outputs; ``J = Df(θ) = ∂f/∂θ`` (``N n_L x P``);
* ``||v||`` is the Euclidean norm of a vector (``θ``, ``Δθ``, residuals);
* ``||J||`` is the operator (spectral) norm, ``sqrt(λ_max(J J^T))``; ``||J||_F`` the Frobenius norm;
* ``D²f(θ)`` is the symmetric bilinear map ``(u, v) -> sum_{pq} ∂²f/∂θ_p∂θ_q u_p v_q`` (a third-order
  tensor ``N n_L x P x P``); its operator norm ``||D²f|| = sup_{||u|| = ||v|| = 1} ||D²f[u, v]||``
  equals ``sup_{||u|| = 1} ||D²f[u, u]||`` (symmetric), estimated by an alternating power iteration
  with Jacobian-vector and Hessian-vector products (:func:`hessian_norm`);
* Chizat et al.'s relative scale ``κ(θ_0) = ||y - f(θ_0)|| ||D²f(θ_0)|| / ||Df(θ_0)||²`` (:func:`kappa`).

Networks: two-layer ``f(x) = s · [σ(x w^(0)/sqrt(n_0) + β b^(0)) w^(1) + β sqrt(n) b^(1)]`` in the
parameter format of :mod:`ntkbook.mlp`, with ``s = n^{-1/2}`` (NTK parameterization, identical to
:func:`ntkbook.mlp.apply`) or ``s = n^{-1}`` (mean-field parameterization; the output bias is
scaled like the hidden units so that no single parameter dominates the kernel):
:func:`apply_parameterized`, or :func:`scaled_apply` for any output scale ``s``.

References: :cite:`chizat2019lazy`, :cite:`lee2019wide`, :cite:`mei2018mean`, :cite:`weng2022ntk` (Lazy training).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.flatten_util
import jax.numpy as jnp

from . import activations as _act
from . import mlp as _mlp
from .validate import as_array, as_callable, is_concrete, nonnegative_float, positive_float, positive_int, prng_key

__all__ = [
    "PARAMETERIZATIONS",
    "apply_parameterized",
    "flat_outputs",
    "hessian_norm",
    "jacobian_norm",
    "kappa",
    "scaled_apply",
]

PARAMETERIZATIONS = ("ntk", "mean_field")
_ACTIVATION = "tanh"
_BETA = 0.5


# --------------------------------------------------------------------------- the two-layer network


def _scaled(params, x, scale, activation=_ACTIVATION, beta=_BETA):
    sigma = _act.get(activation)
    w0, b0, w1, b1 = params[0]["w"], params[0]["b"], params[1]["w"], params[1]["b"]
    h = sigma(x @ w0 / jnp.sqrt(jnp.asarray(w0.shape[0], w0.dtype)) + beta * b0)
    # The output bias is scaled like one more hidden unit: β s sqrt(n) b^(1) (= β b^(1) for s = n^{-1/2}).
    return scale * (h @ w1 + beta * jnp.sqrt(jnp.asarray(w1.shape[0], w1.dtype)) * b1)


def apply_parameterized(
    params: list, x: jax.Array, *, parameterization: str = "ntk", activation: Any = _ACTIVATION, beta: float = _BETA
) -> jax.Array:
    """A two-layer network ``(N, n_0) -> (N, n_L)`` in the NTK or the mean-field parameterization.

    ``f(x) = s · [σ(x w^(0)/sqrt(n_0) + β b^(0)) w^(1) + β sqrt(n) b^(1)]`` with ``s = n^{-1/2}``
    (``"ntk"``, the same function as :func:`ntkbook.mlp.apply`) or ``s = n^{-1}``
    (``"mean_field"``), ``n`` the hidden width; parameters as from ``mlp.init(key, (n_0, n, n_L))``.
    Defaults: ``tanh``, ``β = 0.5``. :func:`scaled_apply` with the scale ``s`` of the parameterization.

    References: :cite:`jacot2018ntk`, :cite:`mei2018mean`, :cite:`chizat2019lazy`.
    """
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}, got {parameterization!r}")
    x, activation, beta, n = _check_network(params, x, activation, beta)
    scale = n**-0.5 if parameterization == "ntk" else 1.0 / n
    return _scaled_jit(params, x, scale, activation, beta)


def scaled_apply(
    params: list, x: jax.Array, scale: float, *, activation: Any = _ACTIVATION, beta: float = _BETA
) -> jax.Array:
    """The two-layer network of :func:`apply_parameterized` with any output scale ``s > 0``:
    ``f(x) = s · [σ(x w^(0)/sqrt(n_0) + β b^(0)) w^(1) + β sqrt(n) b^(1)]``, ``(N, n_0) -> (N, n_L)``.

    ``s = n^{-1/2}`` is the NTK and ``s = n^{-1}`` the mean-field parameterization. ``scale`` may be
    traced (``jax.vmap`` over parameterizations); its value is then not checked.

    References: :cite:`chizat2019lazy`, :cite:`mei2018mean`.
    """
    x, activation, beta, _ = _check_network(params, x, activation, beta)
    if is_concrete(scale):
        scale = positive_float(scale, "scale")
    return _scaled_jit(params, x, scale, activation, beta)


def _check_network(params, x, activation, beta):
    """Validate the arguments of a two-layer network; returns ``(x, activation, beta, n)``."""
    widths = _mlp.widths_of(params)
    if len(widths) != 3:
        raise ValueError(f"params must describe a two-layer network (n_0, n, n_L), got widths {widths}")
    x = as_array(x, "x", ndim=2)
    if x.shape[1] != widths[0]:
        raise ValueError(f"x must have n_0 = {widths[0]} columns, got shape {x.shape}")
    _act.get(activation, "activation")
    beta = nonnegative_float(beta, "beta")
    return x, activation, beta, widths[1]


_scaled_jit = jax.jit(_scaled, static_argnums=3)  # one compilation per activation and shape


# --------------------------------------------------------------------------- norms


def _flat_fn(apply_fn, params, x):
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    return (lambda th: apply_fn(unravel(th), x).reshape(-1)), flat


def flat_outputs(apply_fn, params: Any, x: jax.Array) -> tuple[Any, jax.Array]:
    """The stacked outputs as a function of the flattened parameters: ``(f, θ)`` with ``θ`` the
    parameters raveled to shape ``(P,)`` (``jax.flatten_util.ravel_pytree``) and
    ``f(θ') = apply_fn(unravel(θ'), x).reshape(-1)``, shape ``(N n_L,)`` -- so that ``jax.jacrev(f)(θ)``
    is the ``N n_L x P`` Jacobian ``Df(θ)``.

    Args:
      apply_fn: ``apply_fn(params, x)`` of shape ``(N, n_L)``; params: ``θ`` (a pytree); x: ``(N, n_0)``.
    """
    apply_fn = as_callable(apply_fn, "apply_fn")
    x = as_array(x, "x", ndim=2)
    return _flat_fn(apply_fn, params, x)


def jacobian_norm(apply_fn, params: Any, x: jax.Array) -> jax.Array:
    """``||Df(θ)|| = sqrt(λ_max(J J^T))``, the operator norm of the ``N n_L x P`` Jacobian (a scalar)."""
    apply_fn = as_callable(apply_fn, "apply_fn")
    x = as_array(x, "x", ndim=2)
    return _jacobian_norm(apply_fn, params, x)


@functools.partial(jax.jit, static_argnums=0)  # one compilation, not one per operation and shape
def _jacobian_norm(apply_fn, params, x):
    f, flat = _flat_fn(apply_fn, params, x)
    jac = jax.jacrev(f)(flat)
    return jnp.sqrt(jnp.linalg.eigvalsh(jac @ jac.T)[-1])


def _second_directional(f, th, u):
    return jax.jvp(lambda t: jax.jvp(f, (t,), (u,))[1], (th,), (u,))[1]


def _hessian_norm(f, th, u, iterations):
    """Alternating power iteration for ``sup_{|u| = |w| = 1} w · D²f[u, u]`` from the direction ``u``."""
    u = u / jnp.linalg.norm(u)

    def body(_, u):
        b = _second_directional(f, th, u)
        w = b / jnp.linalg.norm(b)
        hu = jax.grad(lambda t: jnp.dot(w, jax.jvp(f, (t,), (u,))[1]))(th)  # (Σ_i w_i H_i) u
        return hu / jnp.linalg.norm(hu)

    u = jax.lax.fori_loop(0, iterations, body, u)
    return jnp.linalg.norm(_second_directional(f, th, u))


def hessian_norm(
    apply_fn,
    params: Any,
    x: jax.Array,
    *,
    key: jax.Array | None = None,
    start: jax.Array | None = None,
    iterations: int = 50,
) -> jax.Array:
    """Estimate ``||D²f(θ)|| = sup_{||u|| = 1} ||D²f(θ)[u, u]||`` for the stacked outputs ``f(X; θ)``.

    Alternates ``w <- D²f[u, u] / ||.||`` (two nested ``jax.jvp``) and a power step
    ``u <- (Σ_i w_i ∇²f_i) u / ||.||`` (a Hessian-vector product); the ``P x P`` Hessians are never
    formed. Each step cannot decrease ``w · D²f[u, u]`` in the limit of a converged power step, and
    the result is a lower bound on the norm that is attained at a local maximiser (checked against
    a brute-force maximisation in the tests).

    Args:
      apply_fn: ``apply_fn(params, x)`` of shape ``(N, n_L)``; params: ``θ``; x: ``(N, n_0)``.
      key: PRNG key of a random (standard normal) starting direction, or
      start: the starting direction itself, shape ``(P,)``, any norm (give exactly one of the two).
      iterations: number of alternating steps.

    Returns:
      a scalar.

    References: :cite:`chizat2019lazy`.
    """
    apply_fn = as_callable(apply_fn, "apply_fn")
    x = as_array(x, "x", ndim=2)
    if (key is None) == (start is None):
        raise TypeError("hessian_norm needs exactly one of key (a PRNG key) and start (a direction)")
    if key is not None:
        key = prng_key(key, "key")
    iterations = positive_int(iterations, "iterations")
    f, flat = _flat_fn(apply_fn, params, x)
    if start is None:
        start = jax.random.normal(key, flat.shape, flat.dtype)
    else:
        start = as_array(start, "start", ndim=1)
        if start.shape != flat.shape:
            raise ValueError(
                f"start must have the shape (P,) = {flat.shape} of the flattened parameters, got {start.shape}"
            )
    return _hessian_norm(f, flat, start, iterations)


def kappa(apply_fn, params: Any, x: jax.Array, y: jax.Array, *, key: jax.Array, iterations: int = 50) -> jax.Array:
    """Chizat et al.'s ``κ(θ) = ||y - f(θ)|| ||D²f(θ)|| / ||Df(θ)||²`` (operator norms, a scalar).

    References: :cite:`chizat2019lazy` (section 2), :cite:`weng2022ntk`.
    """
    apply_fn = as_callable(apply_fn, "apply_fn")
    x = as_array(x, "x", ndim=2)
    out = jax.eval_shape(apply_fn, params, x)
    y = as_array(y, "y", ndim=2)
    if y.shape != tuple(out.shape):
        raise ValueError(f"y must have the shape of the outputs {tuple(out.shape)}, got {y.shape}")
    r = jnp.linalg.norm(y - apply_fn(params, x))
    return (
        r * hessian_norm(apply_fn, params, x, key=key, iterations=iterations) / jacobian_norm(apply_fn, params, x) ** 2
    )
