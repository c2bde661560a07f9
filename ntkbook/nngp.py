"""Chapter 9 -- the infinite-width limit at initialization: the NNGP covariance recursion.

For the network of :mod:`ntkbook.mlp` (NTK parameterization, every parameter ``N(0, 1)``), as
the hidden widths grow every output ``f_m`` becomes a centred Gaussian process with covariance
``Σ^(L)`` given by the recursion (:cite:`neal1996priors`, :cite:`lee2018dnngp`,
:cite:`matthews2018gaussian`, :cite:`weng2022ntk`)

    Σ^(1)(x, x')   = x·x' / n_0 + β²
    Σ^(l+1)(x, x') = E_{(u, v) ~ N(0, Λ^(l))}[σ(u) σ(v)] + β²,
    Λ^(l)          = [[Σ^(l)(x, x), Σ^(l)(x, x')], [Σ^(l)(x', x), Σ^(l)(x', x')]],

and the derivative kernel used by the NTK (:mod:`ntkbook.infinite_ntk`) is

    Σ̇^(l+1)(x, x') = E_{(u, v) ~ N(0, Λ^(l))}[σ'(u) σ'(v)].

One *kernel map* takes ``(Σ(x, x'), Σ(x, x), Σ(x', x'))`` to the two Gaussian expectations.
Closed forms: identity; ReLU (the arc-cosine kernel of degree 1 and 0, :cite:`cho2009kernel`);
erf (:cite:`williams1998computation`). Any other elementwise ``σ`` goes through a bivariate
Gauss--Hermite rule, with ``σ'`` from ``jax.grad``.

Numerics of the ReLU map: with the correlation ``c = Σ(x,x') / sqrt(Σ(x,x) Σ(x',x'))`` and the
angle ``θ = arccos c``, a rounding error ``δc`` near ``c = ±1`` becomes an angle error ``≈ sqrt(2 δc)``
(``~2e-8`` in float64). So correlations within :data:`SNAP_ULPS` units of rounding of ``±1`` are
set to exactly ``±1`` (``θ = 0`` or ``π``): the diagonal and exactly parallel inputs are then
exact to rounding, and the price is an angle error of at most ``sqrt(2 SNAP_ULPS eps)`` for pairs
that are parallel to within rounding anyway (where a Gram-matrix computation cannot know the angle
better). When ``x2`` is omitted the diagonal variances are read off the Gram matrix itself, so
``c = 1`` holds bit for bit on the diagonal. A zero variance (``x = 0`` with ``β = 0``) gives
``c = 0`` by convention, so ``Σ = 0`` (never ``nan``), and all gradients stay finite.

References: :cite:`weng2022ntk` (Connection with Gaussian processes), :cite:`lee2018dnngp`,
:cite:`neal1996priors`, :cite:`cho2009kernel`, :cite:`williams1998computation`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import activations as _act
from .claims import check_close, check_monte_carlo, check_slope, check_symbolic, claim
from .validate import as_array, is_concrete, positive_float, positive_int

CHAPTER = "09-nngp"

__all__ = [
    "CLOSED_FORMS",
    "DEFAULT_NODES",
    "KernelMap",
    "SNAP_ULPS",
    "activation_derivative",
    "correlation",
    "gaussian_expectations",
    "input_covariance",
    "kernel_map",
    "nngp_kernel",
    "quadrature_map",
]

CLOSED_FORMS = ("identity", "relu", "erf")
DEFAULT_NODES = 40  # Gauss-Hermite nodes per dimension of the bivariate rule
SNAP_ULPS = 32  # correlations within SNAP_ULPS * eps of +-1 are snapped to +-1 (see the module docstring)


class KernelMap(NamedTuple):
    """The Gaussian expectations of one layer, for ``(u, v) ~ N(0, [[v1, cov], [cov, v2]])``.

    Attributes:
      sigma: ``E[σ(u) σ(v)]``, shape ``(N1, N2)``.
      sigma_dot: ``E[σ'(u) σ'(v)]``, shape ``(N1, N2)``.
      var1: ``E[σ(u)²]`` with ``u ~ N(0, v1)``, shape ``(N1,)`` (the next layer's diagonal).
      var2: ``E[σ(v)²]`` with ``v ~ N(0, v2)``, shape ``(N2,)``.
    """

    sigma: jax.Array
    sigma_dot: jax.Array
    var1: jax.Array
    var2: jax.Array


# --------------------------------------------------------------------------- helpers


def activation_derivative(activation: Any) -> Callable[[jax.Array], jax.Array]:
    """``σ'`` of an elementwise activation by ``jax.grad`` (of ``sum σ``, elementwise for elementwise ``σ``)."""
    sigma = _act.get(activation)
    return lambda t: jax.grad(lambda s: jnp.sum(sigma(s)))(t)


def _outer_var(v1: jax.Array, v2: jax.Array) -> jax.Array:
    return v1[:, None] * v2[None, :]


def _safe_sqrt(x: jax.Array, ok: jax.Array) -> jax.Array:
    """``sqrt(x)`` where ``ok``, 0 elsewhere, with finite gradients everywhere (double where)."""
    return jnp.where(ok, jnp.sqrt(jnp.where(ok, x, 1.0)), 0.0)


def correlation(cov: jax.Array, v1: jax.Array, v2: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The correlation ``c = cov / sqrt(v1 v2)``, clipped to ``[-1, 1]``, snapped to ``±1`` within
    ``SNAP_ULPS`` units of rounding, and 0 where a variance is 0.

    Args:
      cov: ``(N1, N2)``; v1: ``(N1,)``; v2: ``(N2,)``.

    Returns:
      ``(c, snapped)``: both ``(N1, N2)``; ``snapped`` marks ``|c| = 1`` exactly (where ``c`` has
      zero gradient, being at an extremum).
    """
    prod = _outer_var(v1, v2)
    pos = prod > 0
    # sqrt(v * v) == v exactly in IEEE arithmetic, so identical rows give c = 1 bit for bit.
    c = jnp.where(pos, cov / jnp.sqrt(jnp.where(pos, prod, 1.0)), 0.0)
    tol = SNAP_ULPS * jnp.finfo(c.dtype).eps
    snapped = jnp.abs(c) >= 1 - tol
    c = jnp.where(snapped, jnp.sign(jnp.where(snapped, c, 1.0)), c)
    return c, snapped


# --------------------------------------------------------------------------- closed forms


def identity_map(cov: jax.Array, v1: jax.Array, v2: jax.Array) -> KernelMap:
    """``σ(t) = t``: ``E[uv] = cov``, ``E[σ'σ'] = 1``."""
    return KernelMap(cov, jnp.ones_like(cov), v1, v2)


def relu_map(cov: jax.Array, v1: jax.Array, v2: jax.Array) -> KernelMap:
    """ReLU, the arc-cosine kernels of degree 1 and 0 (:cite:`cho2009kernel`):

        E[σ(u)σ(v)]   = (sqrt(v1 v2) sin θ + (π - θ) cov) / (2π),
        E[σ'(u)σ'(v)] = (π - θ) / (2π),            θ = arccos(cov / sqrt(v1 v2)),

    and ``E[σ(u)²] = v1 / 2`` exactly on the diagonal. Written with ``cov`` (not ``sqrt(v1 v2) c``)
    in the second term so that the derivative with respect to ``cov`` is ``E[σ'σ']`` (Price's
    theorem) even where ``θ`` is snapped to 0.
    """
    prod = _outer_var(v1, v2)
    c, snapped = correlation(cov, v1, v2)
    scale = _safe_sqrt(prod, prod > 0)
    # arccos has an infinite derivative at +-1: evaluate it only off the snapped entries.
    theta = jnp.where(snapped, jnp.where(c > 0, 0.0, jnp.pi), jnp.arccos(jnp.where(snapped, 0.0, c)))
    sin_theta = _safe_sqrt((1 - c) * (1 + c), ~snapped)
    sigma = (scale * sin_theta + (jnp.pi - theta) * cov) / (2 * jnp.pi)
    sigma_dot = (jnp.pi - theta) / (2 * jnp.pi)
    return KernelMap(sigma, sigma_dot, v1 / 2, v2 / 2)


def erf_map(cov: jax.Array, v1: jax.Array, v2: jax.Array) -> KernelMap:
    """``σ = erf`` (:cite:`williams1998computation`):

        E[σ(u)σ(v)]   = (2/π) arcsin(2 cov / sqrt((1 + 2 v1)(1 + 2 v2))),
        E[σ'(u)σ'(v)] = (4/π) / sqrt((1 + 2 v1)(1 + 2 v2) - 4 cov²),

    the second from ``σ'(t) = (2/sqrt π) exp(-t²)`` and ``E[exp(-u² - v²)] = det(I + 2Λ)^(-1/2)``.
    """
    a1, a2 = 1 + 2 * v1, 1 + 2 * v2
    prod = _outer_var(a1, a2)
    arg = jnp.clip(2 * cov / jnp.sqrt(prod), -1.0, 1.0)
    sigma = (2 / jnp.pi) * jnp.arcsin(arg)
    sigma_dot = (4 / jnp.pi) / jnp.sqrt(prod - 4 * cov**2)
    var1 = (2 / jnp.pi) * jnp.arcsin(2 * v1 / a1)
    var2 = (2 / jnp.pi) * jnp.arcsin(2 * v2 / a2)
    return KernelMap(sigma, sigma_dot, var1, var2)


_CLOSED = {"identity": identity_map, "relu": relu_map, "erf": erf_map}


# --------------------------------------------------------------------------- quadrature


@functools.lru_cache(maxsize=32)
def _hermite(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    z, w = np.polynomial.hermite_e.hermegauss(nodes)  # weight exp(-z^2/2); sum(w) = sqrt(2 pi)
    return z, w / math.sqrt(2 * math.pi)


def quadrature_map(cov: jax.Array, v1: jax.Array, v2: jax.Array, *, activation: Any, nodes: int = DEFAULT_NODES) -> KernelMap:
    """Any elementwise ``σ`` by a tensor-product Gauss--Hermite rule with ``nodes²`` points:

        E[f(u) g(v)] ≈ sum_{i,j} W_i W_j f(s1 z_i) g(s2 (c z_i + sqrt(1 - c²) z_j)),

    ``s = sqrt(v)``, ``(z_i, W_i)`` the probabilists' Hermite nodes and normalized weights
    (``numpy.polynomial.hermite_e.hermegauss``), ``σ'`` by ``jax.grad``. Exact for polynomials of
    degree ``< 2 nodes`` in each variable; for smooth ``σ`` it converges faster than any power of
    ``nodes``, for a kink (ReLU) only algebraically. Memory ``N1 N2 nodes`` (a scan over ``i``).
    """
    sigma = _act.get(activation)
    dsigma = activation_derivative(sigma)
    z_np, w_np = _hermite(positive_int(nodes, "nodes"))
    dtype = cov.dtype
    z, w = jnp.asarray(z_np, dtype), jnp.asarray(w_np, dtype)
    s1 = _safe_sqrt(v1, v1 > 0)
    s2 = _safe_sqrt(v2, v2 > 0)
    c, snapped = correlation(cov, v1, v2)
    r = _safe_sqrt((1 - c) * (1 + c), ~snapped)

    def body(acc, zw):
        zi, wi = zw
        u = s1 * zi  # (N1,)
        v = s2[None, :, None] * (c[:, :, None] * zi + r[:, :, None] * z)  # (N1, N2, nodes)
        inner_s = jnp.sum(w * sigma(v), axis=-1)
        inner_d = jnp.sum(w * dsigma(v), axis=-1)
        acc_s, acc_d = acc
        return (acc_s + wi * sigma(u)[:, None] * inner_s, acc_d + wi * dsigma(u)[:, None] * inner_d), None

    zero = jnp.zeros_like(cov)
    (es, ed), _ = jax.lax.scan(body, (zero, zero), (z, w))
    var1 = jnp.sum(w * sigma(s1[:, None] * z) ** 2, axis=-1)
    var2 = jnp.sum(w * sigma(s2[:, None] * z) ** 2, axis=-1)
    return KernelMap(es, ed, var1, var2)


def _canonical(activation: Any) -> str | Callable:
    """A closed-form name, or the activation callable for quadrature (validated)."""
    fn = _act.get(activation, "activation")
    name = _act.name_of(fn)
    return name if name in _CLOSED else fn


def kernel_map(cov: jax.Array, v1: jax.Array, v2: jax.Array, *, activation: Any = "relu",
               nodes: int = DEFAULT_NODES, method: str = "auto") -> KernelMap:
    """One layer's Gaussian expectations ``E[σ(u)σ(v)]``, ``E[σ'(u)σ'(v)]``, ``E[σ(u)²]``, ``E[σ(v)²]``
    for ``(u, v) ~ N(0, [[v1, cov], [cov, v2]])``.

    Args:
      cov: ``Σ(x, x')``, shape ``(N1, N2)``; v1: ``Σ(x, x)``, shape ``(N1,)``; v2: ``Σ(x', x')``, ``(N2,)``.
      activation: a name from :data:`ntkbook.activations.NAMES` or an elementwise callable.
      nodes: Gauss--Hermite nodes per dimension (quadrature only).
      method: ``"auto"`` (closed form for identity/relu/erf, else quadrature), ``"closed"`` or
        ``"quadrature"`` (forces the Gauss--Hermite rule even where a closed form exists).

    Returns:
      a :class:`KernelMap`.

    References: :cite:`cho2009kernel`, :cite:`williams1998computation`, :cite:`lee2018dnngp`.
    """
    if method not in ("auto", "closed", "quadrature"):
        raise ValueError(f"method must be 'auto', 'closed' or 'quadrature', got {method!r}")
    cov = as_array(cov, "cov", ndim=2)
    v1 = as_array(v1, "v1", ndim=1)
    v2 = as_array(v2, "v2", ndim=1)
    if cov.shape != (v1.shape[0], v2.shape[0]):
        raise ValueError(f"cov must have shape (len(v1), len(v2)) = {(v1.shape[0], v2.shape[0])}, got {cov.shape}")
    if is_concrete(v1) and is_concrete(v2) and (bool(jnp.any(v1 < 0)) or bool(jnp.any(v2 < 0))):
        raise ValueError("v1 and v2 must be variances (>= 0)")
    dtype = jnp.result_type(cov, v1, v2)
    cov, v1, v2 = cov.astype(dtype), v1.astype(dtype), v2.astype(dtype)
    act = _canonical(activation)
    if method == "closed" and not isinstance(act, str):
        raise ValueError(f"activation has no closed form here (closed forms: {', '.join(CLOSED_FORMS)}); use method='quadrature'")
    if isinstance(act, str) and method != "quadrature":
        return _CLOSED[act](cov, v1, v2)
    return quadrature_map(cov, v1, v2, activation=activation, nodes=nodes)


def _map_fn(activation: Any, nodes: int = DEFAULT_NODES) -> Callable[[jax.Array, jax.Array, jax.Array], KernelMap]:
    act = _canonical(activation)
    if isinstance(act, str):
        return _CLOSED[act]
    return functools.partial(quadrature_map, activation=act, nodes=nodes)


# --------------------------------------------------------------------------- the recursion


def _check_inputs(x1: Any, x2: Any) -> tuple[jax.Array, jax.Array | None]:
    x1 = as_array(x1, "x1", ndim=2)
    if x1.shape[0] == 0 or x1.shape[1] == 0:
        raise ValueError(f"x1 must have shape (N1, n_0) with N1, n_0 >= 1, got {x1.shape}")
    if x2 is None:
        return x1, None
    x2 = as_array(x2, "x2", ndim=2)
    if x2.shape[0] == 0:
        raise ValueError(f"x2 must have shape (N2, n_0) with N2 >= 1, got {x2.shape}")
    if x2.shape[1] != x1.shape[1]:
        raise ValueError(f"x1 and x2 must have the same number of features n_0, got shapes {x1.shape} and {x2.shape}")
    dtype = jnp.result_type(x1, x2)
    return x1.astype(dtype), x2.astype(dtype)


def _check_beta(beta: Any) -> Any:
    if isinstance(beta, jax.core.Tracer):
        return beta
    return positive_float(beta, "beta", allow_zero=True)


def _check_depth(depth: Any) -> int:
    return positive_int(depth, "depth", minimum=1)


def _input_covariance(x1, x2, beta):
    n0 = x1.shape[1]
    b2 = jnp.asarray(beta, x1.dtype) ** 2
    if x2 is None:
        cov = x1 @ x1.T / n0 + b2
        v = jnp.diagonal(cov)
        return cov, v, v
    cov = x1 @ x2.T / n0 + b2
    v1 = jnp.sum(x1 * x1, axis=1) / n0 + b2
    v2 = jnp.sum(x2 * x2, axis=1) / n0 + b2
    return cov, v1, v2


def input_covariance(x1: jax.Array, x2: jax.Array | None = None, *, beta: float = 0.0) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``Σ^(1)(x, x') = x·x'/n_0 + β²`` and its diagonals.

    Args:
      x1: ``(N1, n_0)``; x2: ``(N2, n_0)`` or ``None`` (then ``x2 = x1`` and the diagonals are read
        off the Gram matrix, so ``Σ(x, x)`` and ``Σ(x, x')`` agree bit for bit); beta: ``β >= 0``.

    Returns:
      ``(cov (N1, N2), v1 (N1,), v2 (N2,))``.
    """
    x1, x2 = _check_inputs(x1, x2)
    return _input_covariance(x1, x2, _check_beta(beta))


@functools.partial(jax.jit, static_argnames=("depth", "activation", "nodes"))
def _nngp(x1, x2, beta, *, depth, activation, nodes):
    fmap = _map_fn(activation, nodes)
    cov, v1, v2 = _input_covariance(x1, x2, beta)
    b2 = jnp.asarray(beta, cov.dtype) ** 2
    for _ in range(depth - 1):
        m = fmap(cov, v1, v2)
        cov, v1, v2 = m.sigma + b2, m.var1 + b2, m.var2 + b2
    return cov


def nngp_kernel(x1: jax.Array, x2: jax.Array | None = None, *, depth: int, activation: Any = "relu",
                beta: float = 0.0, nodes: int = DEFAULT_NODES) -> jax.Array:
    """The NNGP covariance ``Σ^(depth)(x, x')`` of a network with ``depth`` affine layers.

    Args:
      x1: ``(N1, n_0)``; x2: ``(N2, n_0)`` or ``None`` (``x2 = x1``).
      depth: number of affine layers ``L >= 1`` (``depth = 1``: ``Σ^(1) = x·x'/n_0 + β²``).
      activation: name or elementwise callable (closed forms for identity/relu/erf).
      beta: the bias scale ``β >= 0``.
      nodes: Gauss--Hermite nodes per dimension for activations without a closed form.

    Returns:
      ``(N1, N2)``.

    References: :cite:`lee2018dnngp`, :cite:`weng2022ntk`.
    """
    x1, x2 = _check_inputs(x1, x2)
    depth = _check_depth(depth)
    beta = _check_beta(beta)
    act = _canonical(activation)
    nodes = positive_int(nodes, "nodes")
    return _nngp(x1, x2, beta, depth=depth, activation=act, nodes=nodes)
