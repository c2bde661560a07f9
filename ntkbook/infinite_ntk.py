"""The deterministic NTK of infinitely wide networks.

As every hidden width grows, the empirical NTK of the network of :mod:`ntkbook.mlp` at a
random initialization converges to a deterministic kernel times the identity over outputs,
``K(x, x') -> K^(L)(x, x') I_{n_L}``, with (:cite:`jacot2018ntk`, :cite:`arora2019exact`,
:cite:`lee2019wide`)

    K^(1)(x, x')   = Σ^(1)(x, x') = x·x'/n_0 + β²,
    K^(l+1)(x, x') = Σ^(l+1)(x, x') + K^(l)(x, x') Σ̇^(l+1)(x, x'),

where ``Σ`` and ``Σ̇`` are the NNGP covariance and derivative kernels of :mod:`ntkbook.nngp`.
The recursion comes from an identity that holds *exactly* for every finite network,

    K^(l+1)_{mn}(x, x') = δ_{mn} [A^(l)(x)·A^(l)(x')/n_l + β²]
                        + (1/n_l) sum_{i,j} w^(l)_{im} w^(l)_{jn} σ'(Ã^(l)_i(x)) σ'(Ã^(l)_j(x')) K^(l)_{ij}(x, x'),

(:func:`finite_width_ntk`, with :func:`sub_network_ntk` for ``K^(l)``), followed by two laws of large
numbers. Chapter 10 of the book is ``ntkbook.chapters.c10_deterministic_ntk``.

References: :cite:`jacot2018ntk`, :cite:`weng2022ntk` (Deterministic neural tangent kernel),
:cite:`arora2019exact`, :cite:`lee2019wide`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from . import _fast
from . import nngp as _nngp
from . import quadrature as _quad
from .validate import input_pair, nonnegative_float, positive_int

__all__ = [
    "finite_width_ntk",
    "infinite_width_kernels",
    "sub_network_ntk",
]


# the one recursion of (Σ, K) (ntkbook.nngp.kernel_recursion), compiled for the quadrature path
_kernels = jax.jit(_nngp.kernel_recursion, static_argnames=("depth", "activation", "nodes"))


def infinite_width_kernels(
    x1: jax.Array,
    x2: jax.Array | None = None,
    *,
    depth: int,
    activation: Any = "relu",
    beta: float = 0.0,
    nodes: int | None = None,
) -> tuple[jax.Array, jax.Array]:
    """The infinite-width NNGP covariance and NTK of a network with ``depth`` affine layers.

    ``Σ^(1) = K^(1) = x·x'/n_0 + β²``; for each further layer, in one pass,
    ``Σ^(l+1) = E[σ(u)σ(v)] + β²``, ``Σ̇^(l+1) = E[σ'(u)σ'(v)]`` with ``(u, v) ~ N(0, Λ^(l))``, and
    ``K^(l+1) = Σ^(l+1) + K^(l) Σ̇^(l+1)``. The diagonals ``Σ(x, x)``, ``Σ(x', x')`` are carried
    along (``O(N)`` extra). Closed forms for identity, ReLU and erf, every layer in one fused
    elementwise pass over the Gram matrix (``ntkbook._fast``); quadrature with an accuracy contract
    (:mod:`ntkbook.quadrature`: relative error ``<= 1e-10`` at input variances ``1e-6 .. 1e6``, or a
    ``ValueError``; ``nan`` entries inside ``jax.jit``) for any other elementwise activation: a Hermite
    series with a proven truncation bound (``O(N1 N2)`` work per layer), and a nested ``257²``-point rule
    for the entries the bound leaves (large input scales with ``|c|`` near 1). The same
    recursion (:func:`ntkbook.nngp.kernel_recursion`) gives :func:`ntkbook.nngp.nngp_kernel`.

    Args:
      x1: inputs, shape ``(N1, n_0)``.
      x2: inputs, shape ``(N2, n_0)``, or ``None`` for ``x2 = x1`` (the diagonal is then exact, and for the
        closed forms only the blocks on and above the diagonal are computed and mirrored: half the work, a
        result symmetric to the last bit).
      depth: number of affine layers ``L >= 1`` of the network (``L - 1`` hidden layers).
      activation: a name from ``ntkbook.activations.NAMES`` or an elementwise callable.
      beta: the bias scale ``β >= 0`` of the NTK parameterization.
      nodes: ``None`` (default, the quadrature with a contract) or an integer: the fixed Gauss--Hermite
        rule with that many nodes per dimension, accurate at unit input scale only (no contract).

    Returns:
      ``(nngp, ntk)``, each of shape ``(N1, N2)``, in the inputs' floating dtype: ``Σ^(L)`` and
      ``K^(L)``; the network's empirical NTK converges to ``K^(L) ⊗ I_{n_L}``.

    Works under ``jax.jit`` with ``depth``/``activation``/``beta`` fixed by ``functools.partial``
    (``beta`` may also be traced); for the closed forms, at the same speed as called directly.

    Example:
      >>> nngp, ntk = infinite_width_kernels(x, depth=3, activation="relu", beta=0.1)

    References: :cite:`jacot2018ntk`, :cite:`lee2018dnngp`, :cite:`arora2019exact`.
    """
    x1, x2 = input_pair(x1, x2)
    depth = positive_int(depth, "depth")
    beta = nonnegative_float(beta, "beta")
    act = _nngp.canonical_activation(activation)
    nodes = _nngp.check_nodes(nodes)
    if isinstance(act, str):
        # a closed form (identity, ReLU, erf): the same recursion as one fused elementwise pass per tile (rows,
        # or mirrored blocks for x2 = None) with a single (complex) root, one program as fast inside the caller's jit as called directly
        # (ntkbook._fast.kernels_unchecked: validated once, here) -- the fusion a tuple-valued jit does not get
        return _fast.kernels_unchecked(x1, x2, beta, depth=depth, activation=act)
    out = _kernels(x1, x2, beta, depth=depth, activation=act, nodes=nodes)
    _quad.require_accurate(out, activation=activation, what="infinite_width_kernels")
    return out


# --------------------------------------------------------------------------- finite-width identity


def sub_network_ntk(
    params: list, x1: jax.Array, x2: jax.Array | None = None, *, activation: Any = "relu", beta: float = 0.0
) -> jax.Array:
    """Empirical NTK ``K^(L-1)`` of the sub-network ``params[:-1]`` of an :mod:`ntkbook.mlp` network,
    whose outputs are ``Ã^(L-1)`` (the pre-activations of the last hidden layer), by Jacobian
    contraction (autodiff): the ``K^(L-1)_{ij}`` of :func:`finite_width_ntk`.

    Args:
      params: from :func:`ntkbook.mlp.init`, ``L >= 2`` layers; x1: ``(N1, n_0)``; x2: ``(N2, n_0)`` or ``None``.

    Returns:
      ``(N1, N2, n_{L-1}, n_{L-1})``.
    """
    if len(params) < 2:
        raise ValueError(f"params must have at least 2 layers (a hidden layer), got {len(params)}")
    x1, x2 = input_pair(x1, x2)
    return _sub_ntk(params, x1, x2, activation, beta)


def _sub_ntk(params, x1, x2, activation, beta):
    """:func:`sub_network_ntk` without validation."""
    from . import ntk

    # the cached apply function: a fresh lambda per call would compile the NTK again every time
    return ntk.empirical_ntk(ntk.mlp_apply_fn(activation, beta), params[:-1], x1, x2, strategy="jacobian")


def finite_width_ntk(
    params: list,
    x1: jax.Array,
    x2: jax.Array | None = None,
    *,
    activation: Any = "relu",
    beta: float = 0.0,
    sub_ntk: jax.Array | None = None,
) -> jax.Array:
    """The NTK of a finite :mod:`ntkbook.mlp` network of depth ``L >= 2`` from its last layer and the
    NTK of the network below it -- an exact identity, no limit taken:

        K_{mn}(x, x') = δ_{mn} [A(x)·A(x')/n + β²]
                      + (1/n) sum_{i,j} w_{im} w_{jn} σ'(Ã_i(x)) σ'(Ã_j(x')) K^(L-1)_{ij}(x, x'),

    with ``n = n_{L-1}``, ``w = w^(L-1)``, ``Ã = Ã^(L-1)``, ``A = σ(Ã)`` and ``K^(L-1)`` the
    ``n x n`` NTK of the sub-network that outputs ``Ã^(L-1)``.

    Args:
      params: from :func:`ntkbook.mlp.init`, ``L >= 2`` layers; x1: ``(N1, n_0)``; x2: ``(N2, n_0)`` or ``None``.
      sub_ntk: the sub-network NTK ``(N1, N2, n, n)`` if already computed (else by autodiff,
        :func:`sub_network_ntk`).

    Returns:
      ``(N1, N2, n_L, n_L)``.

    References: :cite:`jacot2018ntk` (proof of the NTK limit), :cite:`weng2022ntk`.
    """
    from . import mlp

    if len(params) < 2:
        raise ValueError(f"params must have at least 2 layers (a hidden layer), got {len(params)}")
    x1, x2 = input_pair(x1, x2)
    x2v = x1 if x2 is None else x2
    sigma = _act_fn(activation)
    dsigma = _nngp.activation_derivative(sigma)
    pre1 = mlp.forward(params[:-1], x1, activation=activation, beta=beta).output  # Ã^(L-1)(x): (N1, n)
    pre2 = mlp.forward(params[:-1], x2v, activation=activation, beta=beta).output
    w = params[-1]["w"]
    n = w.shape[0]
    k_sub = _sub_ntk(params, x1, x2, activation, beta) if sub_ntk is None else sub_ntk
    a1, a2 = sigma(pre1), sigma(pre2)
    last = (a1 @ a2.T / n + beta**2)[:, :, None, None] * jnp.eye(w.shape[1], dtype=w.dtype)
    red = jnp.einsum("im,jn,ai,bj,abij->abmn", w, w, dsigma(pre1), dsigma(pre2), k_sub) / n
    return last + red


def _act_fn(activation):
    from . import activations

    return activations.get(activation, "activation")
