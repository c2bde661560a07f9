"""The infinite-width limit at initialization: the NNGP covariance recursion.

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
erf (:cite:`williams1998computation`) -- written once, in ``ntkbook._fast.closed_form``, which
:func:`kernel_map` and every recursion use. Any other elementwise ``σ`` goes through a bivariate
Gauss--Hermite rule, with ``σ'`` from ``jax.grad``. :func:`nngp_kernel` is the ``Σ`` half of the one
recursion of ``(Σ, K)`` (:func:`kernel_recursion`), whose ``K`` half XLA drops.

Numerics of the ReLU map: with the correlation ``c = Σ(x,x') / sqrt(Σ(x,x) Σ(x',x'))`` and the
angle ``θ = arccos c``, a rounding error ``δc`` near ``c = ±1`` becomes an angle error ``≈ sqrt(2 δc)``
(``~2e-8`` in float64). So correlations within ``SNAP_ULPS`` units of rounding of ``±1`` are
set to exactly ``±1`` (``θ = 0`` or ``π``): the diagonal and exactly parallel inputs are then
exact to rounding, and the price is an angle error of at most ``sqrt(2 SNAP_ULPS eps)`` for pairs
that are parallel to within rounding anyway (where a Gram-matrix computation cannot know the angle
better). On the diagonal ``c`` is 1 to a few units of rounding and the snap makes it exactly 1, so
``Σ(x, x)`` takes the exact ``θ = 0``. A zero variance (``x = 0`` with ``β = 0``) gives
``c = 0`` by convention, so ``Σ = 0`` (never ``nan``), and all gradients stay finite.

For finite networks: :func:`draw_networks` and :func:`truncate` (nested batches of i.i.d. ``N(0, 1)``
networks), :func:`network_outputs` and :func:`sample_networks` (their outputs and
:func:`hidden_covariance`), :func:`monte_carlo_kernel` (a sampling oracle for one layer's
expectations) and :func:`excess_kurtosis`. Chapter 9 of the book is
``ntkbook.chapters.c09_nngp``.

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

from . import _fast, _random
from . import activations as _act
from . import quadrature as _quad
from ._fast import correlation
from .validate import as_array, input_pair, is_concrete, nonnegative_float, positive_float, positive_int

__all__ = [
    "CLOSED_FORMS",
    "check_nodes",
    "contract_map",
    "DEFAULT_NODES",
    "MAX_NODES",
    "SNAP_ULPS",
    "KernelMap",
    "activation_derivative",
    "canonical_activation",
    "correlation",
    "draw_networks",
    "excess_kurtosis",
    "hermite_rule",
    "hidden_covariance",
    "input_covariance",
    "input_covariance_unchecked",
    "kernel_map",
    "kernel_map_fn",
    "kernel_recursion",
    "monte_carlo_kernel",
    "network_outputs",
    "nngp_kernel",
    "quadrature_map",
    "quadrature_rule_map",
    "sample_networks",
    "symmetric_map",
    "truncate",
]

CLOSED_FORMS = _fast.FAST_ACTIVATIONS  # ("identity", "relu", "erf"): the closed forms of ntkbook._fast
DEFAULT_NODES = 64  # Gauss-Hermite nodes per dimension of the fixed rule (quadrature_map; method="hermite")
MAX_NODES = _quad.MAX_NODES  # numpy's hermegauss overflows in its weights beyond ~300 nodes
SNAP_ULPS = _fast.SNAP_ULPS  # correlations within SNAP_ULPS * eps of +-1 are snapped to +-1 (module docstring)


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


def _safe_sqrt(x: jax.Array, ok: jax.Array) -> jax.Array:
    """``sqrt(x)`` where ``ok``, 0 elsewhere, with finite gradients everywhere (double where)."""
    return jnp.where(ok, jnp.sqrt(jnp.where(ok, x, 1.0)), 0.0)


# ``correlation`` (with its snap) and the closed forms (identity, ReLU, erf) live in ntkbook._fast, once
# for kernel_map and for every recursion; ``correlation`` is imported from there.


# --------------------------------------------------------------------------- quadrature


def hermite_rule(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """The probabilists' Gauss--Hermite rule with ``nodes`` points, weights normalized to sum to 1
    (:func:`ntkbook.quadrature.hermite_rule`): ``E[g(z)] ≈ sum_i w_i g(z_i)`` for ``z ~ N(0, 1)``.

    Returns:
      ``(z, w)``, numpy arrays of shape ``(nodes,)``.
    """
    return _quad.hermite_rule(check_nodes(nodes))


def contract_map(
    cov: jax.Array, v1: jax.Array, v2: jax.Array, *, activation: Any, same_rows: bool = False
) -> KernelMap:
    """Any elementwise ``σ`` by the quadrature with an accuracy contract (:func:`ntkbook.quadrature.gaussian_map`):
    relative error ``<= 1e-10`` at every input scale for smooth ``σ``, else ``nan`` entries. Unchecked
    (for use inside ``jax.jit``): ``cov (N1, N2)``, ``v1 (N1,)``, ``v2 (N2,)``; ``activation`` a callable;
    ``same_rows``: ``v2`` is ``v1`` (``x2 = x1``), so the series' row integrals are computed once."""
    c, _ = correlation(cov, v1, v2)
    s1 = _safe_sqrt(v1, v1 > 0)
    s2 = _safe_sqrt(v2, v2 > 0)
    return KernelMap(*_quad.gaussian_map(s1, s2, c, activation=activation, same_rows=same_rows))


def quadrature_map(
    cov: jax.Array, v1: jax.Array, v2: jax.Array, *, activation: Any, nodes: int = DEFAULT_NODES
) -> KernelMap:
    """Any elementwise ``σ`` by a tensor-product Gauss--Hermite rule with ``nodes²`` points:

        E[f(u) g(v)] ≈ sum_{i,j} W_i W_j f(s1 z_i) g(s2 (c z_i + sqrt(1 - c²) z_j)),

    ``s = sqrt(v)``, ``(z_i, W_i)`` the probabilists' Hermite nodes and normalized weights
    (``numpy.polynomial.hermite_e.hermegauss``), ``σ'`` by ``jax.grad``. Exact for polynomials of
    degree ``< 2 nodes`` in each variable; for smooth ``σ`` at unit scale it converges faster than any
    power of ``nodes``, for a kink (ReLU) only algebraically -- and at large input scale not at all in
    practice (tanh at input standard deviation 10: error 0.8 at 64 nodes). **No accuracy contract**:
    the fixed rule that chapter 9 studies; the kernels use :func:`contract_map`. Memory ``N1 N2 nodes``.
    """
    z_np, w_np = _quad.hermite_rule(check_nodes(nodes))
    return _quadrature(
        cov, v1, v2, jnp.asarray(z_np, cov.dtype), jnp.asarray(w_np, cov.dtype), activation=_act.get(activation)
    )


def quadrature_rule_map(
    cov: jax.Array, v1: jax.Array, v2: jax.Array, z: jax.Array, w: jax.Array, *, activation: Any
) -> KernelMap:
    """The tensor-product rule of :func:`quadrature_map` for given one-dimensional nodes ``z`` and
    weights ``w`` (normalized as in :func:`hermite_rule`). Nodes with zero weight contribute nothing,
    so rules of different sizes padded with zero-weight nodes to one length share one compilation.

    Args:
      cov: ``(N1, N2)``; v1: ``(N1,)``; v2: ``(N2,)`` (as in :func:`kernel_map`, not checked further).
      z, w: nodes and weights, shape ``(K,)`` each.
      activation: a name from ``ntkbook.activations.NAMES`` or an elementwise callable.

    Returns:
      a :class:`KernelMap`.
    """
    cov = as_array(cov, "cov", ndim=2)
    v1 = as_array(v1, "v1", ndim=1)
    v2 = as_array(v2, "v2", ndim=1)
    z = as_array(z, "z", ndim=1)
    w = as_array(w, "w", ndim=1)
    if z.shape != w.shape:
        raise ValueError(f"z and w must have the same shape (K,), got {z.shape} and {w.shape}")
    return _quadrature(cov, v1, v2, z, w, activation=_act.get(activation))


def _quadrature(cov, v1, v2, z, w, *, activation):
    """The fixed rule of :func:`quadrature_map` for given nodes ``z`` and weights ``w``
    (:func:`ntkbook.quadrature.hermite_map`)."""
    c, _ = correlation(cov, v1, v2)
    s1 = _safe_sqrt(v1, v1 > 0)
    s2 = _safe_sqrt(v2, v2 > 0)
    return KernelMap(*_quad.hermite_map(s1[:, None], s2[None, :], c, z, w, activation=activation))


def canonical_activation(activation: Any) -> str | Callable:
    """A closed-form name (one of ``CLOSED_FORMS``) for an activation that has one, else the
    activation callable, for quadrature (validated: it must map an array to one of the same shape).
    Hashable, so it can be a static argument of ``jax.jit``."""
    fn = _act.get(activation, "activation")
    name = _act.name_of(fn)
    if name is None:
        probe = jax.ShapeDtypeStruct((2, 3), jnp.float32)
        try:
            out = jax.eval_shape(fn, probe)
        except Exception as exc:  # noqa: BLE001 - any failure on a plain array means it is unusable
            raise ValueError(
                f"activation must be an elementwise function of an array, calling it failed: {exc}"
            ) from exc
        if getattr(out, "shape", None) != probe.shape:
            raise ValueError(
                f"activation must be elementwise (output shape = input shape), got shape "
                f"{getattr(out, 'shape', None)} for input shape {probe.shape}"
            )
    return name if name in CLOSED_FORMS else fn


def kernel_map(
    cov: jax.Array,
    v1: jax.Array,
    v2: jax.Array,
    *,
    activation: Any = "relu",
    nodes: int = DEFAULT_NODES,
    method: str = "auto",
) -> KernelMap:
    """One layer's Gaussian expectations ``E[σ(u)σ(v)]``, ``E[σ'(u)σ'(v)]``, ``E[σ(u)²]``, ``E[σ(v)²]``
    for ``(u, v) ~ N(0, [[v1, cov], [cov, v2]])``.

    Args:
      cov: ``Σ(x, x')``, shape ``(N1, N2)``; v1: ``Σ(x, x)``, shape ``(N1,)``; v2: ``Σ(x', x')``, ``(N2,)``.
      activation: a name from ``ntkbook.activations.NAMES`` or an elementwise callable.
      nodes: Gauss--Hermite nodes per dimension (``method="hermite"`` only).
      method: ``"auto"`` (closed form for identity/relu/erf, else quadrature), ``"closed"``,
        ``"quadrature"`` (the rule with an accuracy contract, :func:`contract_map`, even where a closed
        form exists) or ``"hermite"`` (the fixed Gauss--Hermite rule of :func:`quadrature_map`, no contract).

    Returns:
      a :class:`KernelMap`.

    Raises:
      ValueError: with the quadrature, where its error estimate cannot vouch for a relative error of
        ``1e-10`` (a kink or jump in ``σ``, a transition far from 0, extreme variances); under
        ``jax.jit`` those entries are ``nan`` instead.

    References: :cite:`cho2009kernel`, :cite:`williams1998computation`, :cite:`lee2018dnngp`.
    """
    if method not in ("auto", "closed", "quadrature", "hermite"):
        raise ValueError(f"method must be 'auto', 'closed', 'quadrature' or 'hermite', got {method!r}")
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
            raise ValueError(
                "cov must satisfy |cov| <= sqrt(v1 v2) (a covariance of two Gaussians), got a larger entry"
            )
    act = canonical_activation(activation)
    if method == "closed" and not isinstance(act, str):
        raise ValueError(
            f"activation has no closed form here (closed forms: {', '.join(CLOSED_FORMS)}); use method='quadrature'"
        )
    if isinstance(act, str) and method in ("auto", "closed"):
        return KernelMap(*_fast.closed_form(act)(cov, v1, v2))
    if method == "hermite":
        return quadrature_map(cov, v1, v2, activation=activation, nodes=nodes)
    out = contract_map(cov, v1, v2, activation=_act.get(activation))
    _quad.require_accurate(out, activation=activation, what="kernel_map")
    return out


def kernel_map_fn(
    activation: Any, nodes: int | None = None, same_rows: bool = False
) -> Callable[[jax.Array, jax.Array, jax.Array], KernelMap]:
    """The unchecked one-layer map ``(cov, v1, v2) -> KernelMap`` of :func:`kernel_map` for one
    activation: its closed form (identity/relu/erf), else :func:`contract_map` (``nan`` where its
    error estimate fails; ``same_rows`` when ``v2`` will always equal ``v1``), or with an integer
    ``nodes`` the fixed rule :func:`quadrature_map`. For use inside ``jax.jit``; the arguments are not validated."""
    act = canonical_activation(activation)
    if isinstance(act, str):
        closed = _fast.closed_form(act)
        return lambda cov, v1, v2: KernelMap(*closed(cov, v1, v2))
    if nodes is None:
        return functools.partial(contract_map, activation=act, same_rows=same_rows)
    return functools.partial(quadrature_map, activation=act, nodes=nodes)


# --------------------------------------------------------------------------- the recursion


def check_nodes(nodes: Any) -> int | None:
    """The number of Gauss-Hermite nodes per dimension of the fixed rule: an integer in ``[1, MAX_NODES]``,
    or ``None`` (the quadrature with an accuracy contract, :func:`contract_map`)."""
    if nodes is None:
        return None
    nodes = positive_int(nodes, "nodes")
    if nodes > MAX_NODES:
        raise ValueError(f"nodes must be <= {MAX_NODES} (numpy's hermegauss overflows beyond), got {nodes}")
    return nodes


def input_covariance_unchecked(
    x1: jax.Array, x2: jax.Array | None, beta: Any
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """:func:`input_covariance` without validation, for use inside ``jax.jit`` (``beta`` may be traced):
    ``x1 (N1, n_0)``, ``x2 (N2, n_0)`` of the same dtype or ``None``. Returns ``(cov (N1, N2), v1 (N1,), v2 (N2,))``
    (the first layer of every recursion, ``ntkbook._fast.first_layer``)."""
    return _fast.first_layer(x1, x2, beta)[:3]


def input_covariance(
    x1: jax.Array, x2: jax.Array | None = None, *, beta: float = 0.0
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``Σ^(1)(x, x') = x·x'/n_0 + β²`` and its diagonals.

    Args:
      x1: ``(N1, n_0)``; x2: ``(N2, n_0)`` or ``None`` (then ``x2 = x1``); beta: ``β >= 0``. The
        diagonals come from the row norms, summed in an order that does not depend on the batch, so a row's
        variance is the same in every batch; they agree with the Gram matrix's diagonal to rounding.

    Returns:
      ``(cov (N1, N2), v1 (N1,), v2 (N2,))``.
    """
    x1, x2 = input_pair(x1, x2)
    return input_covariance_unchecked(x1, x2, nonnegative_float(beta, "beta"))


def kernel_recursion(
    x1: jax.Array, x2: jax.Array | None, beta: Any, *, depth: int, activation: str | Callable, nodes: int | None = None
) -> tuple[jax.Array, jax.Array]:
    """``(Σ^(depth), K^(depth))`` for any activation, unchecked, for use inside ``jax.jit``: the one
    recursion behind :func:`nngp_kernel` (which keeps ``Σ``) and
    :func:`ntkbook.infinite_ntk.infinite_width_kernels`. A closed form takes the fused elementwise pass
    (``ntkbook._fast.closed_kernels``); any other activation the quadrature with an accuracy contract,
    :func:`contract_map` (or the fixed rule :func:`quadrature_map` for an integer ``nodes``), layer by
    layer in the same loop (``ntkbook._fast.recursion``). Where the quadrature's error estimate fails,
    the entries are ``nan`` (and stay ``nan`` through the later layers): the public entries raise.

    Args:
      x1: ``(N1, n_0)``; x2: ``(N2, n_0)`` of the same dtype, or ``None`` (``x2 = x1``).
      beta: ``β >= 0`` (may be traced).
      depth: ``L >= 1``; activation: from :func:`canonical_activation`; nodes: from :func:`check_nodes`
        (all three static under ``jax.jit``).

    Returns:
      ``(nngp, ntk)``, each ``(N1, N2)``.
    """
    if isinstance(activation, str):
        return _fast.closed_kernels(x1, x2, beta, depth=depth, activation=activation)
    cov, v1, v2, b2 = _fast.first_layer(x1, x2, beta)
    layer = symmetric_map(kernel_map_fn(activation, nodes, same_rows=x2 is None), x2 is None)
    return _fast.recursion(cov, v1, v2, b2, depth=depth, layer=layer, unroll=False)


@functools.partial(jax.jit, static_argnames=("depth", "activation", "nodes"))
def _nngp(x1, x2, beta, *, depth, activation, nodes):
    # the NTK half is unused, so XLA drops its work: one recursion serves both kernels
    return kernel_recursion(x1, x2, beta, depth=depth, activation=activation, nodes=nodes)[0]


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


def nngp_kernel(
    x1: jax.Array,
    x2: jax.Array | None = None,
    *,
    depth: int,
    activation: Any = "relu",
    beta: float = 0.0,
    nodes: int | None = None,
) -> jax.Array:
    """The NNGP covariance ``Σ^(depth)(x, x')`` of a network with ``depth`` affine layers.

    Args:
      x1: ``(N1, n_0)``; x2: ``(N2, n_0)`` or ``None`` (``x2 = x1``).
      depth: number of affine layers ``L >= 1`` (``depth = 1``: ``Σ^(1) = x·x'/n_0 + β²``).
      activation: name or elementwise callable (closed forms for identity/relu/erf).
      beta: the bias scale ``β >= 0``.
      nodes: ``None`` (default): activations without a closed form go through the quadrature with an
        accuracy contract (relative error ``<= 1e-10`` at input variances up to ``1e6``,
        :mod:`ntkbook.quadrature`); an integer: the fixed Gauss--Hermite rule with that many nodes per
        dimension (no contract; accurate at unit scale only).

    Returns:
      ``(N1, N2)``.

    Raises:
      ValueError: where the quadrature's error estimate cannot vouch for its contract (a kink in ``σ``,
        extreme inputs). Called inside ``jax.jit`` those entries are ``nan`` instead.

    References: :cite:`lee2018dnngp`, :cite:`weng2022ntk`.
    """
    x1, x2 = input_pair(x1, x2)
    depth = positive_int(depth, "depth")
    beta = nonnegative_float(beta, "beta")
    act = canonical_activation(activation)
    nodes = check_nodes(nodes)
    out = _nngp(x1, x2, beta, depth=depth, activation=act, nodes=nodes)
    if not isinstance(act, str):
        _quad.require_accurate(out, activation=activation, what="nngp_kernel")
    return out


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
        params.append({"w": put(arr[:, at : at + nw].reshape(seeds, a, b)), "b": put(arr[:, at + nw : at + nw + nb])})
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


def sample_networks(
    key: jax.Array, x: jax.Array, *, widths: tuple[int, ...], seeds: int, activation: Any = "relu", beta: float = 0.0
) -> tuple[jax.Array, jax.Array]:
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
    act = canonical_activation(activation)
    params = draw_networks(key, widths, seeds)
    return _sample_jit(params, x, activation=act, beta=beta)


@functools.partial(jax.jit, static_argnames=("activation", "beta"))
def _sample_jit(params, x, *, activation, beta):
    return _outputs_and_covariance(params, x, activation, beta)


def network_outputs(
    params: list, x: jax.Array, *, activation: Any = "relu", beta: float = 0.0
) -> tuple[jax.Array, jax.Array]:
    """Outputs and :func:`hidden_covariance` of a batch of networks (from :func:`draw_networks` or
    :func:`truncate`, leading seed axis), vectorized with ``vmap`` and compiled once per shape.

    Args:
      params: a list of ``L`` dicts ``{"w": (S, n_l, n_{l+1}), "b": (S, n_{l+1})}``.
      x: inputs ``(N, n_0)``.

    Returns:
      ``(outputs (S, N, n_L), sigma_hat (S, N, N))``.
    """
    x = as_array(x, "x", ndim=2)
    beta = positive_float(beta, "beta", allow_zero=True)
    return _sample_jit(params, x, activation=canonical_activation(activation), beta=beta)


def excess_kurtosis(samples: jax.Array, axis: int = 0) -> jax.Array:
    """``E[f⁴] / E[f²]² - 3`` of centred samples (the mean is known to be 0), along ``axis``."""
    s = jnp.asarray(samples)
    return jnp.mean(s**4, axis=axis) / jnp.mean(s**2, axis=axis) ** 2 - 3


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
