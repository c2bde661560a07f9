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

from . import _random
from . import activations as _act
from .claims import check_close, check_monte_carlo, check_slope, check_symbolic, claim
from .validate import as_array, is_concrete, positive_float, positive_int

CHAPTER = "09-nngp"

__all__ = [
    "CLOSED_FORMS",
    "DEFAULT_NODES",
    "MAX_NODES",
    "KernelMap",
    "SNAP_ULPS",
    "activation_derivative",
    "chapter_inputs",
    "correlation",
    "draw_networks",
    "erf_map",
    "excess_kurtosis",
    "hidden_covariance",
    "identity_map",
    "input_covariance",
    "kernel_map",
    "monte_carlo_kernel",
    "nngp_kernel",
    "quadrature_errors",
    "quadrature_map",
    "relu_map",
    "sample_networks",
    "truncate",
    "width_study",
]

CLOSED_FORMS = ("identity", "relu", "erf")
DEFAULT_NODES = 64  # Gauss-Hermite nodes per dimension of the bivariate rule
MAX_NODES = 256  # numpy's hermegauss overflows in its weights beyond ~300 nodes
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
    """The correlation ``c = cov / sqrt(v1 v2)``, snapped to exactly ``±1`` within ``SNAP_ULPS``
    units of rounding (which also clips it to ``[-1, 1]``), and 0 where a variance is 0.

    Only ``O(N1 + N2)`` square roots: ``c = cov (1/sqrt v1)(1/sqrt v2)``; on the diagonal this is 1
    to a few units of rounding, and the snap makes it exactly 1.

    Args:
      cov: ``(N1, N2)``; v1: ``(N1,)``; v2: ``(N2,)``.

    Returns:
      ``(c, snapped)``: both ``(N1, N2)``; ``snapped`` marks ``|c| = 1`` exactly (where ``c`` is at
      an extremum, so its gradient is taken as 0).
    """
    r1 = jnp.where(v1 > 0, 1 / _safe_sqrt(v1, v1 > 0), 0.0)
    r2 = jnp.where(v2 > 0, 1 / _safe_sqrt(v2, v2 > 0), 0.0)
    c = cov * r1[:, None] * r2[None, :]
    tol = SNAP_ULPS * jnp.finfo(c.dtype).eps
    snapped = jnp.abs(c) >= 1 - tol
    c = jnp.where(snapped, jnp.where(c > 0, 1.0, -1.0).astype(c.dtype), c)
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
    c, snapped = correlation(cov, v1, v2)
    scale = _safe_sqrt(v1, v1 > 0)[:, None] * _safe_sqrt(v2, v2 > 0)[None, :]
    # One square root and one atan2 per entry; at snapped entries sin θ = 0 (with zero gradient)
    # and atan2(0, ±1) = 0 or π exactly, so the diagonal is exact and every gradient finite.
    sin_theta = _safe_sqrt((1 - c) * (1 + c), ~snapped)
    theta = jnp.arctan2(sin_theta, c)
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
    # sqrt(a1 a2) as a product of square roots, and det(I + 2Λ)/(a1 a2) written without the
    # cancellation of a1 a2 - 4 cov² (which loses everything, or overflows, at large norms):
    # with i = 1/a, h = v/a (so 4 h1 h2 = (1 - i1)(1 - i2)) and c the correlation,
    # det/(a1 a2) = i1 + (1 - i1) i2 + 4 h1 h2 (1 - c)(1 + c).
    r = jnp.sqrt(a1)[:, None] * jnp.sqrt(a2)[None, :]
    sigma = (2 / jnp.pi) * jnp.arcsin(jnp.clip(2 * cov / r, -1.0, 1.0))
    c, _ = correlation(cov, v1, v2)
    i1, i2 = (1 / a1)[:, None], (1 / a2)[None, :]
    h1, h2 = (v1 / a1)[:, None], (v2 / a2)[None, :]
    q = i1 + (1 - i1) * i2 + 4 * (h1 * (1 - c)) * ((1 + c) * h2)
    sigma_dot = (4 / jnp.pi) / (r * jnp.sqrt(q))
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
    z_np, w_np = _hermite(_check_nodes(nodes))
    return _quadrature(cov, v1, v2, jnp.asarray(z_np, cov.dtype), jnp.asarray(w_np, cov.dtype), activation=_act.get(activation))


@functools.partial(jax.jit, static_argnames=("activation",))
def _quadrature(cov, v1, v2, z, w, *, activation):
    """The rule of :func:`quadrature_map` for given nodes ``z`` and weights ``w`` (nodes with zero
    weight contribute nothing, so padded rules of different sizes share one compilation)."""
    sigma = activation
    dsigma = activation_derivative(sigma)
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
    if name is None:
        probe = jax.ShapeDtypeStruct((2, 3), jnp.float32)
        try:
            out = jax.eval_shape(fn, probe)
        except Exception as exc:  # noqa: BLE001 - any failure on a plain array means it is unusable
            raise ValueError(f"activation must be an elementwise function of an array, calling it failed: {exc}") from exc
        if getattr(out, "shape", None) != probe.shape:
            raise ValueError(f"activation must be elementwise (output shape = input shape), got shape "
                             f"{getattr(out, 'shape', None)} for input shape {probe.shape}")
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
    if is_concrete(cov) and is_concrete(v1) and is_concrete(v2):
        # Cauchy-Schwarz: |cov| <= sqrt(v1 v2), up to rounding in how cov was computed.
        bound = jnp.sqrt(v1[:, None] * v2[None, :]) * (1 + 64 * jnp.finfo(dtype).eps)
        if bool(jnp.any(jnp.abs(cov) > bound)):
            raise ValueError("cov must satisfy |cov| <= sqrt(v1 v2) (a covariance of two Gaussians), got a larger entry")
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


def _as_input(x: Any, name: str) -> jax.Array:
    try:
        return as_array(x, name, ndim=2)
    except jax.errors.TracerBoolConversionError:
        # a concrete array closed over inside a trace (lax.map, scan): finiteness cannot be tested there
        return as_array(x, name, ndim=2, finite=False)


def _check_inputs(x1: Any, x2: Any) -> tuple[jax.Array, jax.Array | None]:
    x1 = _as_input(x1, "x1")
    if x1.shape[0] == 0 or x1.shape[1] == 0:
        raise ValueError(f"x1 must have shape (N1, n_0) with N1, n_0 >= 1, got {x1.shape}")
    if x2 is None:
        return x1, None
    x2 = _as_input(x2, "x2")
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


def _check_nodes(nodes: Any) -> int:
    nodes = positive_int(nodes, "nodes")
    if nodes > MAX_NODES:
        raise ValueError(f"nodes must be <= {MAX_NODES} (numpy's hermegauss overflows beyond), got {nodes}")
    return nodes


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
    fmap = symmetric_map(_map_fn(activation, nodes), x2 is None and not isinstance(_canonical(activation), str))
    cov, v1, v2 = _input_covariance(x1, x2, beta)
    b2 = jnp.asarray(beta, cov.dtype) ** 2
    for _ in range(depth - 1):
        m = fmap(cov, v1, v2)
        cov, v1, v2 = m.sigma + b2, m.var1 + b2, m.var2 + b2
    return cov


def symmetric_map(fmap: Callable[..., KernelMap], symmetrize: bool) -> Callable[..., KernelMap]:
    """``fmap`` with its ``(N, N)`` outputs symmetrized, for ``x2 = x1``. The tensor-product
    quadrature rule treats its two arguments differently, so its Gram matrix is symmetric only to
    the rule's accuracy; averaging with the transpose restores exact symmetry (closed forms need not)."""
    if not symmetrize:
        return fmap

    def sym(cov, v1, v2):
        m = fmap(cov, v1, v2)
        return m._replace(sigma=0.5 * (m.sigma + m.sigma.T), sigma_dot=0.5 * (m.sigma_dot + m.sigma_dot.T))

    return sym


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
    nodes = _check_nodes(nodes)
    return _nngp(x1, x2, beta, depth=depth, activation=act, nodes=nodes)


# --------------------------------------------------------------------------- finite networks


def hidden_covariance(params: list, x: jax.Array, *, activation: Any = "relu", beta: float = 0.0) -> jax.Array:
    """The covariance of the output given the hidden layers, for one network:

        Σ̂^(L)(x, x') = A^(L-1)(x)·A^(L-1)(x') / n_{L-1} + β²,

    i.e. ``E[f_m(x) f_m(x') | w^(0..L-2), b^(0..L-2)]`` (the last layer is a Gaussian linear map of
    the features). It is random; its mean over networks is ``E[f_m(x) f_m(x')]``, and it tends to
    ``Σ^(L)`` as the widths grow (law of large numbers).

    Args:
      params: from :func:`ntkbook.mlp.init`; x: ``(N, n_0)``.

    Returns:
      ``(N, N)``.
    """
    from . import mlp

    fwd = mlp.forward(params, x, activation=activation, beta=beta)
    a = fwd.post[-1]
    return a @ a.T / a.shape[-1] + jnp.asarray(beta, a.dtype) ** 2


def draw_networks(key: jax.Array, widths: tuple[int, ...], seeds: int) -> list:
    """Parameters of ``seeds`` independent networks at once, every entry i.i.d. ``N(0, 1)``: the same
    distribution as :func:`ntkbook.mlp.init`, drawn with a single ``jax.random.normal`` call of shape
    ``(seeds, P)`` (one random-number kernel to compile instead of one per layer and per network).

    Returns:
      a list of ``L`` dicts ``{"w": (S, n_l, n_{l+1}), "b": (S, n_{l+1})}`` (``vmap`` over axis 0).
    """
    widths = tuple(positive_int(n, f"widths[{i}]") for i, n in enumerate(widths))
    if len(widths) < 2:
        raise ValueError(f"widths must be (n_0, ..., n_L) with L >= 1, got {widths}")
    seeds = positive_int(seeds, "seeds")
    sizes = [(a * b, b) for a, b in zip(widths[:-1], widths[1:])]
    # the numbers of jax.random.normal(key, (seeds, P)), compiled once per power-of-two size, not per shape
    flat = _random.normal(key, (seeds, sum(w + b for w, b in sizes)), dtype=jnp.result_type(float))
    # Cut the leaves out on the host when the draw is concrete: jitted slices would compile once per shape.
    host = is_concrete(flat)
    arr, put = (np.asarray(flat), jax.device_put) if host else (flat, lambda a: a)
    params, at = [], 0
    for (a, b), (nw, nb) in zip(zip(widths[:-1], widths[1:]), sizes):
        params.append({"w": put(arr[:, at:at + nw].reshape(seeds, a, b)), "b": put(arr[:, at + nw:at + nw + nb])})
        at += nw + nb
    return params


def truncate(params: list, width: int) -> list:
    """The sub-network keeping the first ``width`` units of every hidden layer (a network of width
    ``width`` with i.i.d. ``N(0, 1)`` parameters: nested networks for width studies). Works on a
    single network or a batch from :func:`draw_networks` (leading seed axis)."""
    out = []
    last = len(params) - 1

    def cut(a, index):  # on the host for concrete arrays: a jitted slice would compile once per shape
        return jax.device_put(np.asarray(a)[index]) if is_concrete(a) else a[index]

    for l, layer in enumerate(params):
        w, b = layer["w"], layer["b"]
        rows = slice(None) if l == 0 else slice(0, width)
        cols = slice(None) if l == last else slice(0, width)
        out.append({"w": cut(w, (..., rows, cols)), "b": cut(b, (..., cols))})
    return out


def _outputs_and_covariance(params, x, activation, beta):
    return jax.vmap(lambda p: _one_network(p, x, activation, beta))(params)


def _one_network(p, x, activation, beta):
    from . import mlp

    fwd = mlp.forward(p, x, activation=activation, beta=beta)
    a = fwd.post[-1]
    return fwd.output, a @ a.T / a.shape[-1] + beta**2


def sample_networks(key: jax.Array, x: jax.Array, *, widths: tuple[int, ...], seeds: int, activation: Any = "relu",
                    beta: float = 0.0) -> tuple[jax.Array, jax.Array]:
    """Draw ``seeds`` independent networks (:func:`draw_networks`) and return their outputs and
    :func:`hidden_covariance`, vectorized over the networks with ``vmap``.

    Args:
      key: PRNG key.
      x: inputs ``(N, n_0)``.
      widths: ``(n_0, ..., n_L)``.
      seeds: number of networks ``S``.

    Returns:
      ``(outputs (S, N, n_L), sigma_hat (S, N, N))``.
    """
    x = as_array(x, "x", ndim=2)
    widths = tuple(widths)
    if len(widths) < 2 or widths[0] != x.shape[1]:
        raise ValueError(f"widths must be (n_0, ..., n_L) with n_0 = {x.shape[1]} (the features of x), got {widths}")
    beta = positive_float(beta, "beta", allow_zero=True)
    act = _canonical(activation)
    params = draw_networks(key, widths, seeds)
    return _sample_jit(params, x, activation=act, beta=beta)


@functools.partial(jax.jit, static_argnames=("activation", "beta"))
def _sample_jit(params, x, *, activation, beta):
    return _outputs_and_covariance(params, x, activation, beta)


def excess_kurtosis(samples: jax.Array, axis: int = 0) -> jax.Array:
    """``E[f⁴] / E[f²]² - 3`` of centred samples (the mean is known to be 0), along ``axis``."""
    s = jnp.asarray(samples)
    return jnp.mean(s**4, axis=axis) / jnp.mean(s**2, axis=axis) ** 2 - 3


# --------------------------------------------------------------------------- the chapter's claims

# The chapter's inputs: three points in R^4 (two at an acute angle, one nearly opposite), fixed.
_X = np.array([[1.0, 0.5, -0.3, 0.8], [0.6, 1.1, 0.2, -0.4], [-0.9, -0.2, 0.4, -0.7]])
_BETA = 0.1
_ROUNDING = 1e-12  # two float64 computations of the same O(1) quantity


def chapter_inputs() -> jax.Array:
    """The three inputs in ``R^4`` used throughout the chapter, shape ``(3, 4)``."""
    return jnp.asarray(_X, dtype=jnp.float64)


def _moment_expectation(expr, randoms: dict):
    """``E[expr]`` for a polynomial in independent random symbols, given their moments
    ``randoms = {symbol: {1: E[r], 2: E[r²]}}`` (expand, then take each monomial's expectation)."""
    import sympy as sp

    poly = sp.Poly(sp.expand(expr), *randoms)
    total = 0
    for powers, coeff in poly.terms():
        term = coeff
        for r, k in zip(randoms, powers):
            if k:
                term *= randoms[r][k]
        total += term
    return sp.expand(total)


def _sigma1_symbols(n0: int = 2):
    import sympy as sp
    from sympy.stats import E, Normal

    mu_w, mu_b = sp.symbols("mu_w mu_b", real=True)
    s_w, s_b = sp.symbols("sigma_w sigma_b", positive=True)
    beta = sp.symbols("beta", nonnegative=True)
    x = sp.symbols(f"x1:{n0 + 1}", real=True)
    xp = sp.symbols(f"xp1:{n0 + 1}", real=True)
    w = sp.symbols(f"w1:{n0 + 1}", real=True)
    b = sp.symbols("b", real=True)
    # Moments of N(mu, s^2) from sympy.stats (not typed in by hand).
    W, B = Normal("W", mu_w, s_w), Normal("B", mu_b, s_b)
    mw = {1: sp.simplify(E(W)), 2: sp.simplify(E(W**2))}
    mb = {1: sp.simplify(E(B)), 2: sp.simplify(E(B**2))}
    randoms = {**{wi: mw for wi in w}, b: mb}
    a = sum(wi * xi for wi, xi in zip(w, x)) / sp.sqrt(n0) + beta * b
    ap = sum(wi * xi for wi, xi in zip(w, xp)) / sp.sqrt(n0) + beta * b
    expectation = _moment_expectation(a * ap, randoms)
    return dict(mu_w=mu_w, mu_b=mu_b, s_w=s_w, s_b=s_b, beta=beta, x=x, xp=xp, w=w, n0=n0, expectation=expectation)


@claim(CHAPTER, "The source's third line of the Σ^(1) derivation is not the expectation of the product",
       equation="eq-sigma1-derivation", source_holds=False,
       where="Connection with Gaussian processes, step (1), third line of the Σ^(1) derivation",
       source_says="E[Ã_m(x)Ã_m(x')] = (1/n_0) σ_w² Σ_i Σ_j x_i x'_j + (β μ_b/√n_0) Σ_i w_im (x_i + x'_i) + σ_b² β²",
       truth="(σ_w²/n_0) Σ_i x_i x'_i + (μ_w²/n_0)(Σ_i x_i)(Σ_j x'_j) + (β μ_w μ_b/√n_0) Σ_i (x_i + x'_i) + β²(σ_b² + μ_b²): "
             "the cross terms i ≠ j carry μ_w², not σ_w², and no random w survives the expectation")
def check_sigma1_source_line():
    import sympy as sp

    s = _sigma1_symbols()
    n0, x, xp, w, beta = s["n0"], s["x"], s["xp"], s["w"], s["beta"]
    source = (s["s_w"] ** 2 / n0 * sum(xi * xpj for xi in x for xpj in xp)
              + beta * s["mu_b"] / sp.sqrt(n0) * sum(wi * (xi + xpi) for wi, xi, xpi in zip(w, x, xp))
              + s["s_b"] ** 2 * beta**2)
    std = {s["mu_w"]: 0, s["mu_b"]: 0, s["s_w"]: 1, s["s_b"]: 1}
    return [
        check_symbolic("source's third line vs E[product] (sympy, n_0 = 2, general μ, σ)", source, s["expectation"], expect=False),
        check_symbolic("source's third line vs E[product] at μ = 0, σ = 1 (the double sum)", source.subs(std), s["expectation"].subs(std),
                       expect=False),
    ]


@claim(CHAPTER, "Σ^(1)(x, x') = x·x'/n_0 + β²: the expectation of the product, computed term by term",
       equation="eq-sigma1", source_holds=True, where="Connection with Gaussian processes, step (1), result")
def check_sigma1():
    import sympy as sp

    s = _sigma1_symbols()
    n0, x, xp, beta = s["n0"], s["x"], s["xp"], s["beta"]
    general = (s["s_w"] ** 2 / n0 * sum(xi * xpi for xi, xpi in zip(x, xp))
               + s["mu_w"] ** 2 / n0 * sum(x) * sum(xp)
               + beta * s["mu_w"] * s["mu_b"] / sp.sqrt(n0) * sum(xi + xpi for xi, xpi in zip(x, xp))
               + beta**2 * (s["s_b"] ** 2 + s["mu_b"] ** 2))
    std = {s["mu_w"]: 0, s["mu_b"]: 0, s["s_w"]: 1, s["s_b"]: 1}
    dot = sum(xi * xpi for xi, xpi in zip(x, xp)) / n0 + beta**2
    xs = chapter_inputs()
    cov, _, _ = input_covariance(xs, beta=_BETA)
    return [
        check_symbolic("E[Ã(x)Ã(x')] with general moments (sympy) vs the corrected formula", s["expectation"], general),
        check_symbolic("at μ_w = μ_b = 0, σ_w = σ_b = 1: E[Ã(x)Ã(x')] = x·x'/n_0 + β²", s["expectation"].subs(std), dot),
        check_close("input_covariance vs x1 @ x2.T / n_0 + β² (numpy)", cov, _X @ _X.T / 4 + _BETA**2, atol=_ROUNDING),
    ]


@functools.lru_cache(maxsize=16)
def _networks(depth: int, width: int, n_out: int, seeds: int, seed: int):
    """Cached Monte Carlo draws for the chapter's inputs (ReLU, β = 0.1): numpy arrays
    ``(outputs (S, N, n_out), sigma_hat (S, N, N))``."""
    widths = (_X.shape[1],) + (width,) * (depth - 1) + (n_out,)
    out, sh = sample_networks(jax.random.key(seed), chapter_inputs(), widths=widths, seeds=seeds, activation="relu", beta=_BETA)
    return np.asarray(out), np.asarray(sh)


def _output_covariance(out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over networks of the per-network average over outputs of ``f_m(x) f_m(x')`` and its
    standard error (networks are independent; the outputs of one network are not)."""
    per_net = np.einsum("sam,sbm->sab", out, out) / out.shape[-1]
    return per_net.mean(0), per_net.std(0, ddof=1) / math.sqrt(per_net.shape[0])


@claim(CHAPTER, "E[(w σ(Ã))²] = σ_w² Σ^(l)(x, x) holds only for the identity: for ReLU it is Σ^(l)(x, x)/2",
       equation="eq-second-moment", source_holds=False,
       where="Connection with Gaussian processes, step (2), second moment of w σ(Ã)",
       source_says="E[(w_im σ(Ã_i(x)))²] = σ_w² Σ^(l)(x, x)",
       truth="E[(w_im σ(Ã_i(x)))²] = σ_w² E[σ(u)²], u ~ N(0, Σ^(l)(x, x)); for ReLU Σ^(l)(x, x)/2")
def check_second_moment_source():
    import sympy as sp

    u = sp.symbols("u", real=True)
    s = sp.symbols("s", positive=True)  # s² = Σ^(l)(x, x)
    pdf = sp.exp(-u**2 / (2 * s**2)) / sp.sqrt(2 * sp.pi * s**2)
    relu_second = sp.integrate(u**2 * pdf, (u, 0, sp.oo))  # E[relu(u)²]
    return check_symbolic("E[relu(u)²] (sympy integral) vs the source's Σ(x, x) = s²", relu_second, s**2, expect=False)


@claim(CHAPTER, "E[(w σ(Ã))²] = E[σ(u)²] with u ~ N(0, Σ(x, x)): s² for the identity, s²/2 for ReLU, a Gaussian integral in general",
       equation="eq-second-moment")
def check_second_moment():
    import sympy as sp

    u = sp.symbols("u", real=True)
    s = sp.symbols("s", positive=True)
    pdf = sp.exp(-u**2 / (2 * s**2)) / sp.sqrt(2 * sp.pi * s**2)
    identity_second = sp.integrate(u**2 * pdf, (u, -sp.oo, sp.oo))
    relu_second = sp.integrate(u**2 * pdf, (u, 0, sp.oo))
    v = jnp.array([0.3, 1.0, 2.5])
    relu = kernel_map(jnp.diag(v), v, v, activation="relu")
    quad = kernel_map(jnp.diag(v), v, v, activation="relu", method="quadrature", nodes=8)
    return [
        check_symbolic("identity: E[u²] = s² (the source's formula holds here)", identity_second, s**2),
        check_symbolic("ReLU: E[relu(u)²] = s²/2", relu_second, s**2 / 2),
        check_close("ReLU closed-form diagonal E[relu(u)²] vs v/2", relu.var1, v / 2, atol=_ROUNDING),
        check_close("ReLU diagonal by Gauss-Hermite (8 nodes; exact: relu(z)² = z² on half the symmetric nodes)",
                    quad.var1, v / 2, atol=_ROUNDING),
    ]


@claim(CHAPTER, "The variance of Ã^(l+1)(x) is β² + Var(Ã^(l)(x)) (source) -- fails for ReLU networks",
       equation="eq-next-variance", source_holds=False,
       where="Connection with Gaussian processes, step (2), after the central limit theorem",
       source_says="Ã_m^(l+1)(x) is Gaussian with variance β² + Var(Ã_i^(l)(x))",
       truth="Var(Ã_m^(l+1)(x)) = β² + E[σ(Ã_i^(l)(x))²] -> Σ^(l+1)(x, x) (for ReLU β² + Σ^(l)(x, x)/2)")
def check_next_variance_source():
    out, _ = _networks(2, 32, 16, 2000, 20)
    est, se = _output_covariance(out)
    cov, v1, _ = input_covariance(chapter_inputs(), beta=_BETA)
    return check_monte_carlo("Var(Ã^(2)(x)) over 2000 ReLU networks (width 32, 16 outputs) vs source β² + Σ^(1)(x, x)",
                             np.diag(est), _BETA**2 + np.asarray(v1), np.diag(se), expect=False)


@claim(CHAPTER, "Var(Ã^(l+1)(x)) = β² + E[σ(u)²] = Σ^(l+1)(x, x); for one hidden layer at every width",
       equation="eq-next-variance")
def check_next_variance():
    out, _ = _networks(2, 32, 16, 2000, 20)
    est, se = _output_covariance(out)
    sigma2 = nngp_kernel(chapter_inputs(), depth=2, activation="relu", beta=_BETA)
    return check_monte_carlo("Var(Ã^(2)(x)) over 2000 ReLU networks (width 32, 16 outputs) vs Σ^(2)(x, x)",
                             np.diag(est), np.diag(np.asarray(sigma2)), np.diag(se))


@claim(CHAPTER, "Using Λ^(l) built from Σ^(l-1) (the source's indices) skips a layer",
       equation="eq-nngp-recursion", source_holds=False,
       where="Connection with Gaussian processes, the recursion: λ^(l+1) is built from Σ^(l) but Σ^(l+1) uses λ^(l)",
       source_says="Σ^(l+1) = E_{f ~ N(0, λ^(l))}[σ(f(x))σ(f(x'))] + β², with λ^(l+1) made of Σ^(l)",
       truth="Σ^(l+1) = E_{(u,v) ~ N(0, Λ^(l))}[σ(u)σ(v)] + β² with Λ^(l) made of Σ^(l) (the layer just below)")
def check_lambda_index_source():
    out, _ = _networks(3, 64, 16, 2000, 30)
    est, se = _output_covariance(out)
    as_written = nngp_kernel(chapter_inputs(), depth=2, activation="relu", beta=_BETA)  # Σ^(3) from λ^(2) ∋ Σ^(1)
    return check_monte_carlo("output covariance of 2000 depth-3 ReLU networks (width 64) vs the source's indexing",
                             est, np.asarray(as_written), se, expect=False)


@claim(CHAPTER, "The outputs' covariance is Σ^(L) (depth 3, ReLU, β = 0.1)", equation="eq-nngp-recursion",
       source_holds=True, where="Connection with Gaussian processes, the NNGP proposition")
def check_output_covariance():
    out, _ = _networks(3, 64, 16, 2000, 30)
    est, se = _output_covariance(out)
    sigma3 = nngp_kernel(chapter_inputs(), depth=3, activation="relu", beta=_BETA)
    return check_monte_carlo("E[f_m(x) f_m(x')] over 2000 depth-3 ReLU networks (width 64, 16 outputs) vs Σ^(3)",
                             est, np.asarray(sigma3), se)


@claim(CHAPTER, "(1/n_l) σ(Ã^(l)(x))ᵀσ(Ã^(l)(x')) + β² is a random quantity, not the covariance Σ^(l+1)",
       equation="eq-conditional-covariance", source_holds=False,
       where="Connection with Gaussian processes, step (2), the line 'similar to how we get Σ^(1)'",
       source_says="Σ^(l+1)(x, x') = E[Ã_m^(l+1)(x)Ã_m^(l+1)(x')] = (1/n_l) σ(Ã^(l)(x))ᵀσ(Ã^(l)(x')) + β²",
       truth="(1/n_l) σ(Ã^(l)(x))ᵀσ(Ã^(l)(x')) + β² is the covariance conditional on the lower layers: random, with mean "
             "E[Ã_m^(l+1)(x)Ã_m^(l+1)(x')]; it converges to Σ^(l+1) as n_l -> ∞ (law of large numbers), at rate n_l^(-1/2)")
def check_conditional_covariance_source():
    _, sh = _networks(2, 32, 16, 2000, 20)
    sigma2 = np.asarray(nngp_kernel(chapter_inputs(), depth=2, activation="relu", beta=_BETA))
    # For one hidden layer Ã^(1) is exactly Gaussian, so E[Ã^(2)(x)Ã^(2)(x')] = Σ^(2) at every width:
    # the claimed equality would hold for each network up to rounding.
    return check_close("(1/n_1) σ(Ã^(1))ᵀσ(Ã^(1)) + β² of 8 networks (width 32) vs E[Ã^(2)(x)Ã^(2)(x')] = Σ^(2)",
                       sh[:8], np.broadcast_to(sigma2, sh[:8].shape), atol=_ROUNDING, expect=False)


@claim(CHAPTER, "The conditional covariance has mean Σ^(l+1) (one hidden layer, any width)",
       equation="eq-conditional-covariance")
def check_conditional_covariance_mean():
    _, sh = _networks(2, 32, 16, 2000, 20)
    sigma2 = np.asarray(nngp_kernel(chapter_inputs(), depth=2, activation="relu", beta=_BETA))
    return check_monte_carlo("mean over 2000 networks (width 32) of (1/n_1) σ(Ã^(1))ᵀσ(Ã^(1)) + β² vs Σ^(2)",
                             sh.mean(0), sigma2, sh.std(0, ddof=1) / math.sqrt(sh.shape[0]))


RATE_WIDTHS = (8, 16, 32, 64, 128, 256)
RATE_SEEDS = 256


@functools.lru_cache(maxsize=1)
def width_study() -> dict:
    """Σ̂^(3) of ``RATE_SEEDS`` depth-3 ReLU networks (β = 0.1) at each of ``RATE_WIDTHS`` (nested:
    the width-n networks are the first n units of the widest ones, :func:`truncate`), with
    two statistics per width: the mean relative deviation ``max|Σ̂ - Σ^(3)| / max|Σ^(3)|`` (and its
    standard error), and the excess kurtosis of ``f(x_0)``, ``3 Var(Σ̂(x_0, x_0)) / E[Σ̂(x_0, x_0)]²``."""
    sigma3 = np.asarray(nngp_kernel(chapter_inputs(), depth=3, activation="relu", beta=_BETA))
    dev, dev_se, kurt, kurt_se = [], [], [], []
    big = draw_networks(jax.random.key(100), (_X.shape[1], RATE_WIDTHS[-1], RATE_WIDTHS[-1], 1), RATE_SEEDS)
    for n in RATE_WIDTHS:
        _, sh = _sample_jit(truncate(big, n), chapter_inputs(), activation="relu", beta=_BETA)
        sh = np.asarray(sh)
        d = np.max(np.abs(sh - sigma3), axis=(1, 2)) / np.max(np.abs(sigma3))
        dev.append(d.mean())
        dev_se.append(d.std(ddof=1) / math.sqrt(len(d)))
        v = sh[:, 0, 0]
        k = 3 * v.var(ddof=1) / v.mean() ** 2
        kurt.append(k)
        # delta method for 3 (E[v²] - E[v]²)/E[v]² = 3 (E[v²]/E[v]² - 1)
        m1, m2 = v.mean(), (v**2).mean()
        grad = np.array([-6 * m2 / m1**3, 3 / m1**2])
        c = np.cov(np.stack([v, v**2]))
        kurt_se.append(float(np.sqrt(grad @ c @ grad / len(v))))
    return dict(widths=np.array(RATE_WIDTHS), deviation=np.array(dev), deviation_se=np.array(dev_se),
                kurtosis=np.array(kurt), kurtosis_se=np.array(kurt_se))


@claim(CHAPTER, "One network's empirical covariance deviates from Σ^(L) like n^(-1/2)", equation="eq-conditional-covariance")
def check_empirical_covariance_rate():
    w = width_study()
    return check_slope(f"mean over {RATE_SEEDS} networks of max|Σ̂^(3) - Σ^(3)|/max Σ^(3) vs width {RATE_WIDTHS[0]}..{RATE_WIDTHS[-1]}",
                       w["widths"], w["deviation"], -0.5, atol=0.1,
                       detail="CLT for an average of n i.i.d. terms: fluctuation ~ n^(-1/2)")


@claim(CHAPTER, "The outputs become Gaussian: excess kurtosis 3 Var(Σ̂)/E[Σ̂]² falls like 1/n", equation="eq-kurtosis")
def check_gaussianity_rate():
    w = width_study()
    return check_slope(f"excess kurtosis of f(x_0) over {RATE_SEEDS} networks vs width {RATE_WIDTHS[0]}..{RATE_WIDTHS[-1]}",
                       w["widths"], w["kurtosis"], -1.0, atol=0.15,
                       detail="Var(Σ̂) ~ 1/n and a Gaussian scale mixture has excess kurtosis 3 Var(Σ̂)/E[Σ̂]²")


@claim(CHAPTER, "At finite width the output is a Gaussian scale mixture: its excess kurtosis is 3 Var(Σ̂)/E[Σ̂]²",
       equation="eq-kurtosis")
def check_kurtosis_identity():
    out, sh = _networks(3, 64, 16, 2000, 30)
    f = out[:, 0, :]  # (S, n_out) outputs at x_0
    a, b = (f**4).mean(1), (f**2).mean(1)  # per network
    A, B = a.mean(), b.mean()
    raw = A / B**2 - 3
    grad = np.array([1 / B**2, -2 * A / B**3])
    se_raw = float(np.sqrt(grad @ np.cov(np.stack([a, b])) @ grad / len(a)))
    v = sh[:, 0, 0]
    m1, m2 = v.mean(), (v**2).mean()
    rb = 3 * (m2 / m1**2 - 1)
    g2 = np.array([-6 * m2 / m1**3, 3 / m1**2])
    se_rb = float(np.sqrt(g2 @ np.cov(np.stack([v, v**2])) @ g2 / len(v)))
    return check_monte_carlo("excess kurtosis of f(x_0), 2000 networks x 16 outputs (width 64), vs 3 Var(Σ̂)/E[Σ̂]²",
                             raw, rb, math.hypot(se_raw, se_rb))


# Kernel-map test cases: (v1, v2, cov) triples covering acute, obtuse and near-orthogonal pairs.
_CASES = np.array([[1.0, 1.0, 0.6], [0.5, 2.0, -0.7], [1.5, 0.8, 0.05], [0.3, 0.3, -0.29]])


def _case_arrays():
    v1 = jnp.asarray(_CASES[:, 0])
    v2 = jnp.asarray(_CASES[:, 1])
    cov = jnp.diag(jnp.asarray(_CASES[:, 2]))  # only the diagonal pairs (case i with itself) are used
    return cov, v1, v2


def monte_carlo_kernel(z: jax.Array, cases: Any, *, activation: Any) -> dict:
    """Direct Monte Carlo of ``E[σ(u)σ(v)]`` and ``E[σ'(u)σ'(v)]``, ``(u, v) ~ N(0, Λ)``, with standard
    errors: an oracle independent of both the closed forms and the quadrature.

    Args:
      z: standard normal samples, shape ``(S, 2)``; ``u = sqrt(v1) z_0``,
        ``v = (cov/sqrt(v1)) z_0 + sqrt(v2 - cov²/v1) z_1`` (a Cholesky factor of ``Λ``).
      cases: rows ``(v1, v2, cov)``, shape ``(C, 3)``.

    Returns:
      dict of arrays of shape ``(C,)``: ``sigma``, ``sigma_se``, ``sigma_dot``, ``sigma_dot_se``.
    """
    z = as_array(z, "z", ndim=2)
    cases = as_array(cases, "cases", ndim=2)
    out = _mc_moments(z, cases, activation=_act.get(activation))
    return {k: np.asarray(v) for k, v in zip(("sigma", "sigma_se", "sigma_dot", "sigma_dot_se"), out)}


@functools.partial(jax.jit, static_argnames=("activation",))
def _mc_moments(z, cases, *, activation):
    dsigma = activation_derivative(activation)
    n = math.sqrt(z.shape[0])

    def one(case):
        v1, v2, cov = case[0], case[1], case[2]
        u = jnp.sqrt(v1) * z[:, 0]
        v = cov / jnp.sqrt(v1) * z[:, 0] + jnp.sqrt(jnp.maximum(v2 - cov**2 / v1, 0.0)) * z[:, 1]
        a = activation(u) * activation(v)
        d = dsigma(u) * dsigma(v)
        return a.mean(), a.std() / n, d.mean(), d.std() / n

    return jax.vmap(one)(cases)


@claim(CHAPTER, "The closed forms (identity, ReLU, erf) agree with direct Monte Carlo", equation="eq-relu-kernel")
def check_closed_forms_monte_carlo():
    results = []
    cov, v1, v2 = _case_arrays()
    z = jax.random.normal(jax.random.key(200), (400_000, 2))
    for act in CLOSED_FORMS:
        m = kernel_map(cov, v1, v2, activation=act)
        mc = monte_carlo_kernel(z, _CASES, activation=act)
        est = np.concatenate([mc["sigma"], mc["sigma_dot"]])
        exp_ = np.concatenate([np.diagonal(np.asarray(m.sigma)), np.diagonal(np.asarray(m.sigma_dot))])
        # identity: E[σ'σ'] = 1 has no sampling error (se 0, and the estimate is exactly 1)
        se = np.concatenate([mc["sigma_se"], mc["sigma_dot_se"]])
        results.append(check_monte_carlo(f"{act}: E[σσ] and E[σ'σ'] closed form vs 400k samples, 4 covariances",
                                         est, exp_, se))
    return results


@functools.lru_cache(maxsize=8)
def quadrature_errors(activation: Any, node_counts: tuple, *, reduce: str = "max") -> tuple[np.ndarray, np.ndarray]:
    """Error of the Gauss--Hermite ``E[σσ]`` and ``E[σ'σ']`` against the closed form, reduced over the
    covariances of :data:`_CASES` by ``"max"`` or ``"mean"``; one value per node count. Every rule is
    padded with zero-weight nodes to the largest count, so all counts share one compilation."""
    red = {"max": np.max, "mean": np.mean}[reduce]
    cov, v1, v2 = _case_arrays()
    exact = kernel_map(cov, v1, v2, activation=activation)
    top = max(_check_nodes(int(n)) for n in node_counts)
    es, ed = [], []
    idx = np.arange(len(_CASES))
    for n in node_counts:
        z, w = _hermite(int(n))
        zp = np.zeros(top)
        wp = np.zeros(top)
        zp[:len(z)], wp[:len(w)] = z, w
        q = _quadrature(cov, v1, v2, jnp.asarray(zp), jnp.asarray(wp), activation=_act.get(activation))
        es.append(float(red(np.abs(np.asarray(q.sigma - exact.sigma)[idx, idx]))))
        ed.append(float(red(np.abs(np.asarray(q.sigma_dot - exact.sigma_dot)[idx, idx]))))
    return np.array(es), np.array(ed)


@claim(CHAPTER, "For smooth σ the quadrature reaches the closed form to near machine precision at modest node counts",
       equation="eq-quadrature")
def check_quadrature_smooth():
    es, ed = quadrature_errors("erf", FIGURE_NODES)
    ies, ied = quadrature_errors("identity", (2,))
    k = FIGURE_NODES.index(96)
    return [
        check_close("erf: 96-node Gauss-Hermite E[σσ] vs Williams' closed form (max over 4 covariances)", es[k], 0.0, atol=1e-13,
                    detail="rounding of a 96² term sum of O(1) terms"),
        check_close("erf: 96-node Gauss-Hermite E[σ'σ'] vs closed form", ed[k], 0.0, atol=1e-13),
        check_close("identity: 2 nodes are exact (the integrand u v is of degree 1 in each variable)", np.concatenate([ies, ied]),
                    [0.0, 0.0], atol=1e-13),
    ]


FIGURE_NODES = (2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
RELU_NODES = (16, 24, 32, 48, 64, 96, 128, 192, 256)


@claim(CHAPTER, "For ReLU the kink limits the quadrature to an algebraic rate", equation="eq-quadrature")
def check_quadrature_relu_rate():
    es, ed = quadrature_errors("relu", FIGURE_NODES, reduce="mean")
    k = FIGURE_NODES.index(RELU_NODES[0])
    es, ed = es[k:], ed[k:]
    return [
        check_slope(f"ReLU E[σσ]: mean quadrature error vs nodes {RELU_NODES[0]}..{RELU_NODES[-1]}", RELU_NODES, es, -1.0, atol=0.25,
                    detail="node spacing h ~ nodes^(-1/2) near 0; a kink leaves O(h²)"),
        check_slope(f"ReLU E[σ'σ']: mean quadrature error vs nodes {RELU_NODES[0]}..{RELU_NODES[-1]}", RELU_NODES, ed, -0.75, atol=0.25,
                    detail="a jump leaves O(h) per row of nodes, partly cancelling across rows: between h and h²"),
    ]


@claim(CHAPTER, "The ReLU kernel is exact on the diagonal and for parallel inputs, 0 at zero norm, with finite gradients",
       equation="eq-relu-kernel")
def check_relu_exact_cases():
    key = jax.random.key(300)
    x = jax.random.normal(key, (1, 5))
    pts = jnp.concatenate([x, 3 * x, -2 * x, jnp.zeros_like(x)])  # x, parallel, anti-parallel, zero
    cov, v1, v2 = input_covariance(pts)
    m = kernel_map(cov, v1, v2, activation="relu")
    v = np.asarray(v1)
    s = np.sqrt(np.outer(v, v))
    # exact values: θ = 0 for (x, 3x), θ = π for (x, -2x); zero norm gives 0
    want_sigma = np.array([[s[0, 0] / 2, s[0, 1] / 2, 0.0, 0.0]])
    want_dot = np.array([[0.5, 0.5, 0.0, 0.25]])
    depth = 6
    deep = nngp_kernel(pts, depth=depth)
    # gradients: at the degenerate inputs and at generic ones (y), in one input set
    y = jax.random.normal(jax.random.key(301), (3, 5))
    allp = jnp.concatenate([pts, y])
    fsum = lambda p: jnp.sum(nngp_kernel(p, depth=3))  # noqa: E731
    grads = jax.grad(fsum)(allp)
    h = 1e-3  # truncation (~h²) dominates rounding (~eps/h = 2e-13): stable printed digits
    e = jnp.zeros_like(allp).at[5, 2].set(h)
    fd = (fsum(allp + e) - fsum(allp - e)) / (2 * h)
    return [
        check_close("E[σσ] at (x,x), (x,3x), (x,-2x), (x,0) vs exact values", m.sigma[:1], want_sigma, atol=1e-13,
                    detail="rounding"),
        check_close("E[σ'σ'] at the same pairs vs 1/2, 1/2, 0, 1/4", m.sigma_dot[:1], want_dot, atol=1e-13, detail="rounding"),
        check_close(f"Σ^({depth})(x, x) vs |x|²/(n_0 2^{depth - 1}) (β = 0)", jnp.diagonal(deep)[:3],
                    np.asarray(v[:3]) / 2 ** (depth - 1), atol=1e-13, detail="rounding"),
        check_close("gradients of Σ^(3) at these degenerate inputs: count of non-finite entries", float(jnp.sum(~jnp.isfinite(grads))),
                    0.0, atol=0),
        check_close("d(sum Σ^(3))/dx by autodiff vs central difference (h = 1e-3) at a generic input", grads[5, 2], fd, atol=1e-5,
                    detail="truncation h² |third derivative|/6 < 2e-6, plus rounding eps/h ~ 2e-13"),
    ]


@claim(CHAPTER, "Price's theorem: ∂E[σ(u)σ(v)]/∂cov = E[σ'(u)σ'(v)] (autodiff of the closed forms)", equation="eq-sigma-dot")
def check_price_theorem():
    cov, v1, v2 = _case_arrays()
    out = []
    for act in CLOSED_FORMS:
        d = jax.grad(lambda c: jnp.sum(jnp.diagonal(kernel_map(c, v1, v2, activation=act).sigma)))(cov)
        out.append(check_close(f"{act}: d E[σσ]/d cov vs E[σ'σ']", jnp.diagonal(d),
                               jnp.diagonal(kernel_map(cov, v1, v2, activation=act).sigma_dot), atol=1e-13,
                               detail="rounding"))
    return out
