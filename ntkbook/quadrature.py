"""Gaussian expectations of an activation by numerical quadrature, with an accuracy contract.

For ``(u, v) ~ N(0, [[v1, cov], [cov, v2]])`` and an elementwise ``σ`` without a closed form (tanh,
sigmoid, gelu, any user callable), one layer of the infinite-width recursion needs

    E[σ(u) σ(v)],   E[σ'(u) σ'(v)],   E[σ(u)²],   E[σ(v)²].

**The contract** (:func:`gaussian_map`: the series below where its bound vouches, the nested rule elsewhere): for smooth ``σ`` whose transition sits at ``0`` on a unit
scale (every named activation), each expectation is returned to a relative error of at most
``1e-10`` -- relative to the Cauchy--Schwarz scale ``sqrt(E[σ(u)²] E[σ(v)²])`` (and the same for
``σ'``) -- for every input variance from ``1e-6`` to ``1e6`` and every correlation in ``[-1, 1]``.
Where the rule's own error estimate cannot vouch for that, the entry is ``nan``:
:func:`require_accurate` turns that into a ``ValueError`` at the public entries, and inside a traced
computation (``jax.jit``) the ``nan`` reaches the caller. Never a silent wrong answer.

**The series** (:func:`series_map`, the fast path). Mehler's formula expands the expectation in the
normalized Hermite polynomials ``h_k = He_k / sqrt(k!)``::

    E[σ(s1 z1) σ(s2 z2)] = sum_k α_k(s1) α_k(s2) c^k,   α_k(s) = E[σ(s z) h_k(z)],   corr(z1, z2) = c,

and the same for ``σ'``. The coefficients are one-dimensional integrals per row (a matrix product over
one shared grid), the entries a polynomial in ``c`` (``2 N1 N2 K`` multiply-adds): ``K = SERIES_TERMS``.
By Parseval ``sum_k α_k(s)² = E[σ(s z)²]``, so the tail of each row is known exactly,
``T(s) = E[σ²] - sum_{k<K} α_k²``, and Cauchy--Schwarz bounds what the truncation leaves out::

    |sum_{k>=K} α_k(s1) α_k(s2) c^k| <= |c|^K sqrt(T(s1) T(s2)).

An entry is taken from the series where that bound (relative to ``sqrt(E[σ(s1 z)²] E[σ(s2 z)²])``) is at
most ``TOLERANCE / 10`` and the rule vouches for the coefficients; ``c = ±1`` with equal variances (the
diagonal) is a one-dimensional integral per row. At unit input scale that is every entry (tanh: the
tail is 5e-15 at ``K = 128``); at large scale (a step-like ``σ``, slowly decaying coefficients) the
entries with ``|c|`` near 1 are left to the nested rule below, gathered, ``FALLBACK_CHUNK`` at a time.

**The rule.** Write ``u = s1 z1`` and ``v = m + τ z2`` with ``m = s2 c z1``, ``τ = s2 sqrt(1 - c²)``
(``s = sqrt(v)``, ``c`` the correlation, ``z1, z2`` independent standard normals), and integrate
``z2`` inside ``z1``. The fixed Gauss--Hermite rule fails at large scale because ``σ(s z)`` is then a
step of width ``1/s`` in ``z`` (``E[σ'σ']`` a spike), far narrower than the node spacing. Every
feature of the integrand is at a known place: both activations change at ``u = 0`` and ``v = 0``.
In the outer variable both transitions sit at ``z1 = 0`` (the inner mean ``m`` vanishes there); in
the inner one the transition is at ``z2* = -m/τ`` and the Gaussian at ``0``. Each integral is a
trapezoid rule in ``t`` on the map

    z = center + ℓ asinh((a/ℓ) sinh t)        (a <= 1, ℓ = STRETCH = 2),

which spaces nodes ``≈ a h`` apart at the center, geometrically wider away from it, and uniformly,
``ℓ h`` apart, beyond ``|z - center| ≈ ℓ``: the transition of width ``a`` (``a = min(1, 1/s1, ...)``, ``1/τ`` inside) is
resolved at any scale for ``O(log(1/a))`` extra nodes, and the Gaussian (unit width) everywhere,
wherever it sits relative to the transition. The integrand is analytic in a strip around the real
``t`` axis (the map's branch points and the poles of ``tanh`` and ``sigmoid`` lie at
``|Im t| = π/2``), so the trapezoid rule converges exponentially in ``1/h``, scale-free. Node counts
are static (``OUTER_NODES``, ``INNER_NODES``); the spacing ``h`` adapts to each entry's range.

**The error estimate.** The even nodes of a trapezoid rule form the rule of step ``2h``, every
fourth node that of step ``4h``: the three estimates ``I_h``, ``I_2h``, ``I_4h`` come from the same
function values. With ``e1 = |I_h - I_2h|`` and ``e2 = |I_2h - I_4h|`` (relative to the integral of
``|σ(u) σ(v)|``), an entry is accepted when ``e1 <= TOLERANCE / 10`` -- then the finer rule is better
still, whatever the order of convergence -- or when ``e1 <= 1e-8`` and ``e1 <= e2^1.5``: convergence
that fast (exponential, where the error of ``I_h`` is about ``e1^1.5 <= 1e-12``, or algebraic of order
``q >= 8``, where it is about ``e1 / 2^q <= 4e-11``) meets the tolerance. (Measured: the step-``2h``
error is about the step-``4h`` error to the power 1.6--2 for the named activations.) A kink (ReLU, ``abs``) converges only algebraically, slowly,
and is refused; so is a transition far from ``0`` or narrower than the inputs' scale suggests.

References: :cite:`lee2018dnngp` (the layer maps), :cite:`novak2020neural` (numerical elementwise
layers); the trapezoid rule's exponential convergence for analytic integrands is classical
(Trefethen and Weideman, SIAM Review 56, 2014).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import activations as _act
from .validate import positive_int

__all__ = [
    "INNER_NODES",
    "MAX_NODES",
    "OUTER_NODES",
    "SERIES_NODES",
    "SERIES_TERMS",
    "SERIES_Z",
    "STRETCH",
    "TOLERANCE",
    "Z_MAX",
    "FALLBACK_CHUNK",
    "accepted",
    "derivative",
    "gaussian_map",
    "hermite_map",
    "hermite_rule",
    "nested_map",
    "require_accurate",
    "series_map",
]

TOLERANCE = 1e-10  # the contract: relative error of each expectation (Cauchy-Schwarz scale)
OUTER_NODES = 257  # 2^8 + 1: the even nodes (129) and every fourth (65) are the rules of step 2h and 4h
# (257 rather than 129: the fallback handles few entries, and 129 could not vouch for erf and gelu at some pairs of
# large scales with |c| near 1, measured)
INNER_NODES = 257
Z_MAX = 8.5  # integrate |z| <= Z_MAX: the Gaussian mass beyond is 1.9e-17
STRETCH = 2.0  # beyond |z - center| ≈ STRETCH the nodes are uniform, STRETCH h apart (measured: 2 beats 1 and 3)
SERIES_TERMS = 256  # Hermite terms: tanh at unit scale needs ~128 on the diagonal (measured), 256 leaves room
SERIES_NODES = 1025  # the series' one-dimensional rule: 4 * 256 + 1, resolves h_255 (wavelength ~0.2) on |z| <= 12.5
SERIES_Z = 12.5  # |σ h_k| φ <= |σ| e^{-z²/4} (Cramér's bound on Hermite functions): e^{-39} ~ 1e-17 beyond
MAX_NODES = 256  # the fixed Gauss-Hermite rule: numpy's hermegauss overflows in its weights beyond ~300


def derivative(activation: Callable[[jax.Array], jax.Array]) -> Callable[[jax.Array], jax.Array]:
    """``σ'`` of an elementwise ``σ`` by ``jax.grad`` (of ``sum σ``: elementwise for elementwise ``σ``)."""
    return lambda t: jax.grad(lambda s: jnp.sum(activation(s)))(t)


# --------------------------------------------------------------------------- the fixed Gauss-Hermite rule


@functools.lru_cache(maxsize=32)
def _hermite(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    z, w = np.polynomial.hermite_e.hermegauss(nodes)  # weight exp(-z^2/2); sum(w) = sqrt(2 pi)
    return z, w / math.sqrt(2 * math.pi)


def hermite_rule(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """The probabilists' Gauss--Hermite rule with ``nodes`` points, weights normalized to sum to 1:
    ``E[g(z)] ≈ sum_i w_i g(z_i)`` for ``z ~ N(0, 1)`` (``numpy.polynomial.hermite_e.hermegauss``).

    Args:
      nodes: ``1 <= nodes <=`` ``MAX_NODES``.

    Returns:
      ``(z, w)``, numpy arrays of shape ``(nodes,)`` (fresh copies; the rule itself is cached).
    """
    nodes = positive_int(nodes, "nodes")
    if nodes > MAX_NODES:
        raise ValueError(f"nodes must be <= {MAX_NODES} (numpy's hermegauss overflows beyond), got {nodes}")
    z, w = _hermite(nodes)
    return z.copy(), w.copy()


def _safe_sqrt(x, ok):
    """``sqrt(x)`` where ``ok``, 0 elsewhere, with finite gradients everywhere (double where)."""
    return jnp.where(ok, jnp.sqrt(jnp.where(ok, x, 1.0)), 0.0)


@functools.partial(jax.jit, static_argnames=("activation",))
def hermite_map(s1, s2, c, z, w, *, activation):
    """The fixed tensor-product Gauss--Hermite rule with ``K²`` points, no accuracy contract:

        E[f(u) g(v)] ≈ sum_{i,j} W_i W_j f(s1 z_i) g(s2 (c z_i + sqrt(1 - c²) z_j)),

    exact for polynomials of degree ``< 2K`` in each variable; for smooth ``σ`` at unit scale it
    converges faster than any power of ``K``, for a kink (ReLU) only algebraically, and at large scale
    not at all in practice (chapter 9 studies the rule). Unchecked; nodes with zero weight contribute
    nothing, so rules padded to one length share one compilation. Memory ``N1 N2 K`` (a scan).

    Args:
      s1: ``sqrt(v1)``, ``(N1, 1)``; s2: ``sqrt(v2)``, ``(1, N2)``; c: the correlation, ``(N1, N2)``,
        in ``[-1, 1]``; z, w: nodes and normalized weights, ``(K,)``; activation: elementwise callable.

    Returns:
      ``(E[σσ] (N1, N2), E[σ'σ'] (N1, N2), E[σ(u)²] (N1,), E[σ(v)²] (N2,))``.
    """
    sigma, dsigma = activation, derivative(activation)
    r = _safe_sqrt((1 - c) * (1 + c), jnp.abs(c) < 1)

    def body(acc, zw):
        zi, wi = zw
        u = s1 * zi  # (N1, 1)
        v = s2[..., None] * (c[..., None] * zi + r[..., None] * z)  # (N1, N2, K)
        inner_s = jnp.sum(w * sigma(v), axis=-1)
        inner_d = jnp.sum(w * dsigma(v), axis=-1)
        acc_s, acc_d = acc
        return (acc_s + wi * sigma(u) * inner_s, acc_d + wi * dsigma(u) * inner_d), None

    zero = jnp.zeros_like(c)
    (es, ed), _ = jax.lax.scan(body, (zero, zero), (z, w))
    var1 = jnp.sum(w * sigma(s1[:, :1] * z) ** 2, axis=-1)
    var2 = jnp.sum(w * sigma(s2[:1, :].T * z) ** 2, axis=-1)
    return es, ed, var1, var2


# --------------------------------------------------------------------------- the rule with a contract


def _grid(center, a, n):
    """Nodes and trapezoid weights for ``∫_{-Z_MAX}^{Z_MAX} F(z) dz`` on the map
    ``z = center + ℓ asinh((a/ℓ) sinh t)`` (``ℓ = STRETCH``), ``t`` uniform over the range: ``center``,
    ``a`` of one shape ``S``; returns ``(z, dz)`` of shape ``S + (n,)``. Spacing ``≈ a h`` at the center,
    geometric growth, then uniform ``ℓ h`` beyond ``|z - center| ≈ ℓ``. The inverse map
    ``t = asinh((ℓ/a) sinh((z - center)/ℓ))`` gives the range; ``|z - center| <= 2 Z_MAX + 2`` and
    ``a >= 1e-12`` keep it finite."""
    lo = jnp.arcsinh(jnp.sinh((-Z_MAX - center) / STRETCH) * (STRETCH / a))
    hi = jnp.arcsinh(jnp.sinh((Z_MAX - center) / STRETCH) * (STRETCH / a))
    h = (hi - lo) / (n - 1)
    t = lo[..., None] + h[..., None] * jnp.arange(n, dtype=h.dtype)
    at = (a / STRETCH)[..., None] * jnp.sinh(t)
    z = center[..., None] + STRETCH * jnp.arcsinh(at)
    dz = h[..., None] * a[..., None] * jnp.cosh(t) * jax.lax.rsqrt(1 + at * at)
    return z, dz


def _levels(n, dtype):
    """``(3, n)``: the weights of the rules of step ``h``, ``2h``, ``4h`` relative to step ``h``."""
    k = np.arange(n)
    return jnp.asarray(np.stack([np.ones(n), 2.0 * (k % 2 == 0), 4.0 * (k % 4 == 0)]), dtype)


def _phi(z):
    return jnp.exp(-0.5 * z * z) * (1 / math.sqrt(2 * math.pi))


def accepted(levels: jax.Array, scale: jax.Array) -> jax.Array:
    """Whether the error estimate vouches for ``levels[..., 0]`` (module docstring).

    Args:
      levels: ``(..., 3)``, the rules of step ``h``, ``2h``, ``4h``; scale: ``(...)``, the integral of
        the absolute integrand (``> 0``; a zero integrand is accepted).

    Returns:
      boolean ``(...)``.
    """
    eps = jnp.finfo(levels.dtype).eps
    tiny = jnp.finfo(levels.dtype).tiny
    e1 = jnp.abs(levels[..., 0] - levels[..., 1]) / jnp.maximum(scale, tiny)
    e2 = jnp.abs(levels[..., 1] - levels[..., 2]) / jnp.maximum(scale, tiny)
    sure = e1 <= max(TOLERANCE / 10, 64 * float(eps))
    # converging at least like e(h) = e(2h)^1.5: the error of I_h is below e1^1.5 <= 1e-12 (exponential
    # convergence), or below e1 / 2^q <= 1e-8 / 2^8 (algebraic of order q, which this rate needs to be >= 8)
    fast = (e1 <= max(1e-8, math.sqrt(64 * float(eps)))) & (e1 <= e2**1.5)
    return sure | fast | (scale == 0)


def _variance(sigma, s, n):
    """``E[σ(s z)²]`` for ``s (N,)`` on the outer map, with its acceptance: ``((N,), (N,) bool)``."""
    a = jnp.clip(1 / jnp.maximum(s, 1e-300), 1e-12, 1.0)
    z, dz = _grid(jnp.zeros_like(s), a, n)
    vals = dz * _phi(z) * sigma(s[:, None] * z) ** 2  # (N, n), nonnegative: the scale is the value
    lv = vals @ _levels(n, vals.dtype).T  # (N, 3)
    return lv[:, 0], accepted(lv, lv[:, 0])


def _nested_pairs(sa, sb, c, sigma, dsigma, outer, inner):
    """The nested rule for entries given elementwise: ``sa``, ``sb``, ``c`` broadcast to one shape ``S``;
    returns ``(E[σσ], E[σ'σ'])`` of shape ``S``, ``nan`` where the error estimate does not accept."""
    dtype = c.dtype
    big = jnp.asarray(np.sqrt(np.finfo(dtype).max), dtype)  # "no limit" (its reciprocal is still a normal number)
    sa, sb, c = jnp.broadcast_arrays(sa, sb, c)
    r = _safe_sqrt((1 - c) * (1 + c), jnp.abs(c) < 1)
    tau = sb * r  # the inner standard deviation
    slope = sb * jnp.abs(c)  # the inner mean is slope * z1
    # the outer transition's width: σ(s1 z1) changes over 1/s1, the inner expectation over max(1, τ)/slope
    a_out = jnp.minimum(
        jnp.minimum(1.0, 1 / jnp.maximum(sa, 1 / big)), jnp.maximum(1.0, tau) / jnp.maximum(slope, 1 / big)
    )
    a_out = jnp.clip(a_out, 1e-12, 1.0)
    z1, w1 = _grid(jnp.zeros_like(a_out), a_out, outer)  # S + (outer,)
    w1 = w1 * _phi(z1)
    a_in = jnp.clip(1 / jnp.maximum(tau, 1 / big), 1e-12, 1.0)  # the inner transition's width, in z2
    lv_out = _levels(outer, dtype)  # (3, outer)
    lv_in = _levels(inner, dtype)  # (3, inner)

    def body(acc, xs):
        z1k, w1k, lk = xs  # S, S, (3,)
        m = sb * c * z1k
        ok = tau > 0
        center = jnp.clip(jnp.where(ok, -m / jnp.where(ok, tau, 1.0), 0.0), -Z_MAX - 2, Z_MAX + 2)
        z2, w2 = _grid(center, a_in, inner)  # S + (inner,)
        w2 = w2 * _phi(z2)
        v = m[..., None] + tau[..., None] * z2
        gv, dgv = sigma(v), dsigma(v)
        inner_s = (w2 * gv) @ lv_in.T  # S + (3,)
        inner_d = (w2 * dgv) @ lv_in.T
        abs_s = jnp.sum(w2 * jnp.abs(gv), axis=-1)
        abs_d = jnp.sum(w2 * jnp.abs(dgv), axis=-1)
        u = sa * z1k
        fu, dfu = w1k * sigma(u), w1k * dsigma(u)
        acc_s, acc_d, acc_as, acc_ad = acc
        return (
            acc_s + (fu[..., None] * lk) * inner_s,
            acc_d + (dfu[..., None] * lk) * inner_d,
            acc_as + jnp.abs(fu) * abs_s,
            acc_ad + jnp.abs(dfu) * abs_d,
        ), None

    zero3 = jnp.zeros(c.shape + (3,), dtype)
    zero = jnp.zeros(c.shape, dtype)
    xs = (jnp.moveaxis(z1, -1, 0), jnp.moveaxis(w1, -1, 0), lv_out.T)
    (es, ed, scale_s, scale_d), _ = jax.lax.scan(body, (zero3, zero3, zero, zero), xs)
    ok = accepted(es, scale_s) & accepted(ed, scale_d)
    nan = jnp.asarray(jnp.nan, dtype)
    return jnp.where(ok, es[..., 0], nan), jnp.where(ok, ed[..., 0], nan)


@functools.partial(jax.jit, static_argnames=("activation", "outer", "inner"))
def nested_map(s1, s2, c, *, activation, outer=OUTER_NODES, inner=INNER_NODES):
    """The four expectations of one layer by the nested trapezoid rules of the module docstring alone,
    with the contract: an entry the error estimate does not accept is ``nan``. Unchecked. The fallback of
    :func:`gaussian_map` for the entries its series cannot vouch for (and its test oracle).

    Args:
      s1: ``sqrt(v1)``, ``(N1,)``; s2: ``sqrt(v2)``, ``(N2,)``; c: the correlation ``(N1, N2)`` in
        ``[-1, 1]`` (snapped to ``±1`` within rounding, see :func:`ntkbook.nngp.correlation`);
      activation: an elementwise callable (hashable: a static argument).
      outer, inner: node counts, ``4k + 1`` (the rules of step ``2h`` and ``4h`` are subsets).

    Returns:
      ``(E[σσ] (N1, N2), E[σ'σ'] (N1, N2), E[σ(u)²] (N1,), E[σ(v)²] (N2,))``.

    Cost: ``N1 N2 outer inner`` evaluations of ``σ`` and of ``σ'``; memory ``N1 N2 inner`` (a scan
    over the outer nodes).
    """
    sigma, dsigma = activation, derivative(activation)
    es, ed = _nested_pairs(s1[:, None], s2[None, :], c, sigma, dsigma, outer, inner)
    var1, ok1 = _variance(sigma, s1, outer)
    var2, ok2 = _variance(sigma, s2, outer)
    nan = jnp.asarray(jnp.nan, c.dtype)
    ok = ok1[:, None] & ok2[None, :]
    return jnp.where(ok, es, nan), jnp.where(ok, ed, nan), jnp.where(ok1, var1, nan), jnp.where(ok2, var2, nan)


# --------------------------------------------------------------------------- the Hermite series


def _hermite_functions(z, terms):
    """``h_k(z) = He_k(z) / sqrt(k!)`` for ``k < terms``: ``(terms,) + z.shape``, by the three-term
    recurrence of the normalized polynomials, ``h_{k+1} = (z h_k - sqrt(k) h_{k-1}) / sqrt(k + 1)``
    (no factorials: nothing overflows for ``|z| <= SERIES_Z``, ``terms <= 512``)."""

    def step(carry, k):
        h_prev, h = carry
        h_next = (z * h - jnp.sqrt(k) * h_prev) / jnp.sqrt(k + 1.0)
        return (h, h_next), h_next

    h0, h1 = jnp.ones_like(z), z
    _, rest = jax.lax.scan(step, (h0, h1), jnp.arange(1, terms - 1, dtype=z.dtype))
    return jnp.concatenate([h0[None], h1[None], rest], axis=0)[:terms]


def _row_expansion(f, w, lv, hermite):
    """For values ``f (N, n)`` on the grid (weights ``w (n,)``, levels ``lv (3, n)``, ``hermite (terms, n)``):
    the coefficients ``E[f h_k]`` ``(N, terms)``, ``E[f²]`` ``(N,)``, the tail ``E[f²] - sum_k E[f h_k]²``
    relative to ``E[f²]`` (``(N,)``, ``> 0``), and whether the rule vouches for ``E[f²]`` and for the
    coefficients (two ``(N,)`` bool)."""
    fw = f * w
    coef = jnp.einsum("nz,kz,lz->nkl", fw, hermite, lv[:2])  # (N, terms, 2): the rules of step h and 2h
    sq = (fw * f) @ lv.T  # (N, 3)
    energy = sq[:, 0]
    terms = hermite.shape[0]
    eps = float(jnp.finfo(f.dtype).eps)
    tiny = jnp.finfo(f.dtype).tiny
    a = coef[..., 0]
    # the partial sum of squares is rounded to ~terms eps relative: so is the tail, a difference
    tail = jnp.maximum(energy - jnp.sum(a * a, axis=-1), 0.0) / jnp.maximum(energy, tiny) + terms * eps
    # the coefficients' quadrature error, estimated by the rule of step 2h, in the norm of the series
    coef_err = jnp.sqrt(jnp.sum((a - coef[..., 1]) ** 2, axis=-1) / jnp.maximum(energy, tiny))
    return a, energy, tail, accepted(sq, energy), coef_err <= max(TOLERANCE / 100, 64 * eps)


@functools.partial(jax.jit, static_argnames=("activation", "terms", "nodes", "same_rows"))
def series_map(s1, s2, c, *, activation, terms=SERIES_TERMS, nodes=SERIES_NODES, same_rows=False):
    """The four expectations of one layer by Mehler's expansion (module docstring, "The series"), with
    the entries whose truncation bound exceeds ``TOLERANCE / 10`` marked. Unchecked.

    Args:
      s1: ``sqrt(v1)``, ``(N1,)``; s2: ``sqrt(v2)``, ``(N2,)``; c: the correlation ``(N1, N2)`` in
        ``[-1, 1]``; activation: an elementwise callable (static).
      terms: the number ``K`` of Hermite terms; nodes: the one-dimensional rule, ``4k + 1`` nodes.
      same_rows: ``s2`` equals ``s1`` (a Gram matrix): the row integrals are computed once.

    Returns:
      ``(E[σσ] (N1, N2), E[σ'σ'] (N1, N2), E[σ(u)²] (N1,), E[σ(v)²] (N2,), unsure (N1, N2) bool)``: the
      variances are ``nan`` where their rule is not accepted; ``unsure`` marks the entries the series
      cannot vouch for (their values are then meaningless).

    Cost: ``(N1 + N2) nodes`` evaluations of ``σ`` and ``σ'``, a ``(N1 + N2, nodes) x (nodes, 3 terms)``
    matrix product, and ``2 N1 N2 terms`` multiply-adds.
    """
    sigma, dsigma = activation, derivative(activation)
    dtype = c.dtype
    s = s1 if same_rows else jnp.concatenate([s1, s2])
    # one grid for every row, refined at 0 to the narrowest transition, 1 / max(s) (the map of _grid)
    a = jnp.clip(1 / jnp.maximum(jnp.max(s), 1e-300), 1e-12, 1.0)
    lo = jnp.arcsinh(jnp.sinh(-SERIES_Z / STRETCH) * (STRETCH / a))
    h = -2 * lo / (nodes - 1)
    t = lo + h * jnp.arange(nodes, dtype=dtype)
    at = (a / STRETCH) * jnp.sinh(t)
    z = STRETCH * jnp.arcsinh(at)
    w = h * a * jnp.cosh(t) * jax.lax.rsqrt(1 + at * at) * _phi(z)
    lv = _levels(nodes, dtype)
    hermite = _hermite_functions(z, terms)  # (terms, nodes)
    u = s[:, None] * z  # (N1 + N2, nodes)
    f, df = sigma(u), dsigma(u)
    a_f, e_f, t_f, ok_f, good_f = _row_expansion(f, w, lv, hermite)
    a_d, e_d, t_d, ok_d, good_d = _row_expansion(df, w, lv, hermite)
    # c = -1 with equal scales (x' = -x): E[σ(u) σ(-u)], one integral per row
    anti_f = (f * sigma(-u)) @ w
    anti_d = (df * dsigma(-u)) @ w
    n1 = s1.shape[0]

    def split(x):
        return (x, x) if same_rows else (x[:n1], x[n1:])

    (a1, a2), (b1, b2) = split(a_f), split(a_d)
    (ef1, ef2), ed1 = split(e_f), e_d[:n1]
    (tf1, tf2), (td1, td2) = split(t_f), split(t_d)
    rows1, rows2 = split(ok_f & ok_d & good_f & good_d)
    ok = rows1[:, None] & rows2[None, :]

    def body(i, acc):  # Horner for both sums at once: sum_k p_k q_k c^k
        k = terms - 1 - i
        return acc[0] * c + jnp.outer(a1[:, k], a2[:, k]), acc[1] * c + jnp.outer(b1[:, k], b2[:, k])

    es, ed = jax.lax.fori_loop(0, terms, body, (jnp.zeros_like(c), jnp.zeros_like(c)), unroll=8)
    # Cauchy-Schwarz on the tail of Mehler's sum: |rest| <= |c|^K sqrt(T1 T2), relative to sqrt(E1 E2)
    ck = jnp.abs(c) ** terms
    bound = ck * jnp.maximum(jnp.sqrt(tf1[:, None] * tf2[None, :]), jnp.sqrt(td1[:, None] * td2[None, :]))
    same = s1[:, None] == s2[None, :]
    plus, minus = same & (c == 1), same & (c == -1)
    es = jnp.where(plus, ef1[:, None], jnp.where(minus, anti_f[:n1, None], es))
    ed = jnp.where(plus, ed1[:, None], jnp.where(minus, anti_d[:n1, None], ed))
    limit = max(TOLERANCE / 10, 64 * float(jnp.finfo(dtype).eps))  # float32: what its rounding allows
    unsure = ~ok | ((bound > limit) & ~plus & ~minus)
    nan = jnp.asarray(jnp.nan, dtype)
    ok1, ok2 = split(ok_f)
    return es, ed, jnp.where(ok1, ef1, nan), jnp.where(ok2, ef2, nan), unsure


FALLBACK_CHUNK = 1024  # entries per pass of the nested rule in gaussian_map's fallback (memory ~ 10 kB each)


@functools.partial(jax.jit, static_argnames=("activation", "terms", "outer", "inner", "chunk", "same_rows"))
def gaussian_map(
    s1,
    s2,
    c,
    *,
    activation,
    terms=SERIES_TERMS,
    outer=OUTER_NODES,
    inner=INNER_NODES,
    chunk=FALLBACK_CHUNK,
    same_rows=False,
):
    """The four expectations of one layer with the contract of the module docstring: the Hermite series
    (:func:`series_map`) where its bound vouches for ``TOLERANCE``; the entries it leaves gathered and
    computed by the nested rule (as in :func:`nested_map`), ``FALLBACK_CHUNK`` at a time, in a loop that
    runs as often as there are such chunks (none at all at unit input scale); an entry neither vouches
    for is ``nan``. Unchecked.

    Args:
      s1: ``sqrt(v1)``, ``(N1,)``; s2: ``sqrt(v2)``, ``(N2,)``; c: the correlation ``(N1, N2)`` in
        ``[-1, 1]`` (snapped to ``±1`` within rounding, see :func:`ntkbook.nngp.correlation`);
      activation: an elementwise callable (hashable: a static argument).
      terms: Hermite terms of the series; outer, inner: node counts of the nested rule; chunk: entries
        per pass of the fallback; same_rows: ``s2`` equals ``s1`` (see :func:`series_map`).

    Returns:
      ``(E[σσ] (N1, N2), E[σ'σ'] (N1, N2), E[σ(u)²] (N1,), E[σ(v)²] (N2,))``.

    Cost: the series' (``2 N1 N2 terms`` multiply-adds and ``O((N1 + N2) nodes terms)``), plus
    ``outer inner`` evaluations of ``σ`` and ``σ'`` per entry the series leaves.
    """
    sigma, dsigma = activation, derivative(activation)
    es, ed, var1, var2, unsure = series_map(s1, s2, c, activation=activation, terms=terms, same_rows=same_rows)
    n1, n2 = c.shape
    total = n1 * n2
    chunk = min(total, chunk)
    count = jnp.sum(unsure)
    # every unsure entry's flat index first, then indices past the end: gathered from a clamped copy and
    # dropped when written back
    (flat,) = jnp.nonzero(unsure.ravel(), size=total, fill_value=total)
    # padded by at least one whole chunk: the slice in the loop then depends on the pass, and XLA cannot hoist
    # the nested rule out of the loop as invariant (with chunk == total it did, and ran it even for no pass)
    flat = jnp.pad(flat, (0, chunk + (-total % chunk)), constant_values=total)
    s1f, s2f, cf = s1, s2, c.ravel()

    def body(state):
        k, es, ed = state
        idx = jax.lax.dynamic_slice(flat, (k * chunk,), (chunk,))
        at = jnp.minimum(idx, total - 1)
        gs, gd = _nested_pairs(s1f[at // n2], s2f[at % n2], cf[at], sigma, dsigma, outer, inner)
        return k + 1, es.at[idx].set(gs, mode="drop"), ed.at[idx].set(gd, mode="drop")

    _, es, ed = jax.lax.while_loop(lambda st: st[0] * chunk < count, body, (0, es.ravel(), ed.ravel()))
    # a variance the rule cannot vouch for is nan, and so is every entry of its row or column: a nan
    # variance alone would vanish in the next layer's correlation (snapped to 0 or ±1), silently
    bad = jnp.isnan(var1)[:, None] | jnp.isnan(var2)[None, :]
    nan = jnp.asarray(jnp.nan, c.dtype)
    return jnp.where(bad, nan, es.reshape(c.shape)), jnp.where(bad, nan, ed.reshape(c.shape)), var1, var2


def require_accurate(result: Any, *, activation: Any, what: str = "the kernel") -> None:
    """Raise a ``ValueError`` if a concrete ``result`` (arrays) holds ``nan``: the quadrature's error
    estimate could not vouch for ``TOLERANCE`` (inputs are validated finite, so nothing else makes
    ``nan``). Traced results pass through: there the ``nan`` reaches the caller."""
    leaves = jax.tree_util.tree_leaves(result)
    if any(isinstance(x, jax.core.Tracer) for x in leaves):
        return
    bad = sum(int(np.count_nonzero(np.isnan(np.asarray(x)))) for x in leaves)
    if bad:
        name = _act.name_of(activation) if not isinstance(activation, str) else activation
        label = repr(name) if name else getattr(activation, "__name__", "the callable")
        raise ValueError(
            f"{what}: the quadrature for activation={label} cannot meet its accuracy contract (relative error "
            f"<= {TOLERANCE:g}) at {bad} entries: its error estimate does not converge. The activation must be "
            "smooth (no kink or jump, like relu or abs) with its transition near 0 on a unit scale, and the "
            "input variances at most about 1e6 (input standard deviation 1e3)"
        )
