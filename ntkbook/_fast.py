"""Fast numerical kernels: a vectorisable arccos/arcsin and the analytic NNGP/NTK recursion in one
fused elementwise pass.

Why this module exists. On the CPU the analytic kernels of :mod:`ntkbook.infinite_ntk` are bound
by the transcendental, not by memory: XLA's float64 ``arccos``/``arctan2`` cost ~12-20 ns per
element, a plain elementwise pass ~3 ns. Three things make the recursion several times faster at
unchanged accuracy:

1. **A cheaper accurate arccos** (:func:`acos`, :func:`asin`), built the way libm builds it: with
   ``t = x²`` for ``|x| <= 1/2`` and ``t = (1 - |x|)/2``, ``s = sqrt(t)`` above (where
   ``arccos|x| = 2 arcsin s``), ``arcsin s = s + s t P(t)`` with one polynomial ``P`` on
   ``0 <= t <= 1/4`` -- float64: degree 12, fitted at Chebyshev nodes; float32: the degree-4
   polynomial of Cephes' ``asinf``. Only multiplies, adds, one square root and selects: XLA
   vectorises it, and -- having no division -- it fuses with everything around it.
   Accuracy over ``[-1, 1]`` (``tests/test_fast.py``, against long-double ``arccos``/``arcsin`` on 2e6
   points and the endpoints): ``acos`` within 1.1 ulp in float64 and float32 (``jnp.arccos``: 1.25 and
   2.3 ulp), and within 2 ulp of ``jnp.arccos``; ``asin`` within 2.1 (float64) and 2.3 (float32) ulp.
2. **One fused pass for all layers.** Given the diagonals ``Σ^(l)(x, x)`` (vectors, ``O(N)``), every
   entry of ``Σ^(L)`` and ``K^(L)`` depends only on ``x·x'``: the whole depth-``L`` recursion is one
   elementwise function of the Gram matrix. XLA fuses it into a single loop only if no expensive op
   (division, square root) has several users and the fusion has a single root; so the code avoids
   divisions (multiplies by reciprocals computed on the ``O(N)`` vectors) and returns ``Σ + iK`` as
   one complex array, split into ``(Σ, K)`` by a second, separately compiled call.
3. **The diagonal apart.** ``Σ(x, x)`` follows its own vector recursion (ReLU:
   ``Σ^(l+1)(x, x) = Σ^(l)(x, x)/2 + β²``), which normalises the correlations; a correlation within
   ``SNAP_ULPS`` rounding units of ``±1`` (the diagonal, repeated inputs) is snapped to ``±1`` and takes
   ``θ = 0`` or ``π`` exactly, never ``arccos`` near 1 (where a rounding ``δc`` would cost ``sqrt(δc)``).
   Equal inputs therefore give bit-equal rows. ``π - θ`` is computed as ``arccos(-c)``, accurate also
   where ``θ -> π``.

With ``x2 = None`` the matrices are symmetric; ``kernels(..., symmetric=True)`` computes only the blocks
on and above the diagonal and mirrors them in the pass that splits the complex result. It halves the
transcendental work but the gather of mirrored blocks costs about as much again on this CPU (measured
in ``make bench``), so it is off by default.

Entry points for the owners of :mod:`ntkbook.infinite_ntk`: :func:`supports` (which activations
have a fast path) and :func:`kernels` (same arguments and results as
:func:`ntkbook.infinite_ntk.infinite_width_kernels`).

References: :cite:`cho2009kernel` (arc-cosine kernels), :cite:`williams1998computation` (erf),
:cite:`jacot2018ntk`, :cite:`lee2019wide`; Cody & Waite / Cephes / fdlibm for the arcsin reduction.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import activations as _act
from .validate import input_pair, positive_float, positive_int

__all__ = [
    "ACOS_ULP_BOUND",
    "ASIN_ULP_BOUND",
    "FAST_ACTIVATIONS",
    "acos",
    "asin",
    "kernels",
    "supports",
]

ACOS_ULP_BOUND = 1.5  # max error of acos over [-1, 1] in units in the last place of the result (measured 1.1)
ASIN_ULP_BOUND = 2.5  # the same for asin (measured 2.1 in float64, 2.3 in float32)
FAST_ACTIVATIONS = ("identity", "relu", "erf")

# arcsin(s) = s + s t P(t), t = s², 0 <= s <= 1/2. float64: degree 12, interpolated at the 13
# Chebyshev nodes of [0, 1/4] (values from long-double arcsin); float32: Cephes asinf.
_P64 = (
    0.16666666666666669,
    0.0749999999999841,
    0.04464285714617469,
    0.0303819441644056,
    0.022372171556777225,
    0.017352432174348325,
    0.013970536799124895,
    0.011486554494497474,
    0.010270409545732643,
    0.005698907423187597,
    0.01670573207071382,
    -0.013714953571110107,
    0.02795173461614561,
)
_P32 = (1.6666752422e-1, 7.4953002686e-2, 4.5470025998e-2, 2.4181311049e-2, 4.2163199048e-2)
_PIO2_HI = 1.57079632679489655800e00  # π/2 rounded to float64; π/2 = _PIO2_HI + _PIO2_LO
_PIO2_LO = 6.12323399573676603587e-17
_PIO2_LO32 = -4.37113883e-08  # π/2 - float32(π/2)
_INV_2PI = 1.0 / (2.0 * math.pi)
SNAP_ULPS = 32  # as ntkbook.nngp: correlations within 32 eps of ±1 are ±1


def _poly(dtype):
    return _P32 if jnp.dtype(dtype) == jnp.float32 else _P64


def _reduce(x):
    """The shared argument reduction: ``big = |x| > 1/2``, ``s`` with ``arcsin s`` the core value,
    ``r = t P(t)`` (so ``arcsin s = s + s r``)."""
    a = jnp.abs(x)
    big = a > 0.5
    t = jnp.where(big, 0.5 * (1 - a), x * x)
    s = jnp.where(big, jnp.sqrt(t), a)
    return big, s, t * _estrin(t, _poly(x.dtype))


def _estrin(t, coef):
    """``sum_k coef[k] t^k`` by Estrin's scheme: pairs ``c_2i + c_2i+1 t``, then pairs of those with ``t²``,
    ``t⁴``, ... -- a dependency chain of ``log2(degree)`` multiply-adds instead of Horner's ``degree``, so
    the CPU overlaps them (measured ~15% off the fused ReLU pass); the rounding is as good as Horner's
    here (``tests/test_fast.py`` holds the ulp bounds)."""
    terms = [jnp.asarray(c, t.dtype) for c in coef]
    power = t
    while len(terms) > 1:
        terms = [terms[i] + terms[i + 1] * power if i + 1 < len(terms) else terms[i] for i in range(0, len(terms), 2)]
        power = power * power
    return terms[0]  # len(coef) >= 2, so this has the shape of t


def _lo(dtype):
    return _PIO2_LO32 if jnp.dtype(dtype) == jnp.float32 else _PIO2_LO


def _acos(x):
    big, s, r = _reduce(x)
    lo = _lo(x.dtype)
    w = s * r
    small = _PIO2_HI - (x - (lo - x * r))  # π/2 - arcsin x, |x| <= 1/2
    pos = 2 * (s + w)  # x > 1/2: 2 arcsin sqrt((1 - x)/2)
    neg = 2 * _PIO2_HI - 2 * (s + (w - lo))  # x < -1/2: π - 2 arcsin sqrt((1 + x)/2)
    return jnp.where(big, jnp.where(x > 0, pos, neg), small)


def _asin(x):
    big, s, r = _reduce(x)
    lo = _lo(x.dtype)
    w = s * r
    small = x + x * r
    core = _PIO2_HI - (2 * (s + w) - lo)  # π/2 - 2 arcsin sqrt((1 - |x|)/2)
    return jnp.where(big, jnp.where(x > 0, core, -core), small)


def _check_float(x, name):
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x


@jax.custom_jvp
def acos(x: jax.Array) -> jax.Array:
    """``arccos x`` for ``x`` in ``[-1, 1]``, elementwise, to ``ACOS_ULP_BOUND`` ulp (float32 and float64).

    Polynomial, no division, so XLA vectorises and fuses it (see the module docstring). The
    derivative is the exact ``-1/sqrt(1 - x²)`` (``-inf`` at ``±1``, like ``jnp.arccos``). Outside
    ``[-1, 1]`` the result is meaningless (``jnp.arccos`` gives nan): clip first.

    Args:
      x: any shape, floating (integers are promoted).

    Returns:
      the same shape and dtype.
    """
    return _acos(_check_float(x, "x"))


@acos.defjvp
def _acos_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    x = _check_float(x, "x")
    return acos(x), -t / jnp.sqrt((1 - x) * (1 + x))


@jax.custom_jvp
def asin(x: jax.Array) -> jax.Array:
    """``arcsin x`` for ``x`` in ``[-1, 1]``, elementwise, to ``ASIN_ULP_BOUND`` ulp; derivative ``1/sqrt(1 - x²)``."""
    return _asin(_check_float(x, "x"))


@asin.defjvp
def _asin_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    x = _check_float(x, "x")
    return asin(x), t / jnp.sqrt((1 - x) * (1 + x))


# --------------------------------------------------------------------------- the fused recursion


def supports(activation: Any) -> bool:
    """True when :func:`kernels` has a fused closed form for ``activation`` (identity, ReLU, erf by
    name or as the functions of :mod:`ntkbook.activations`)."""
    try:
        fn = _act.get(activation)
    except (TypeError, ValueError):
        return False
    return _act.name_of(fn) in FAST_ACTIVATIONS


def _recip_sqrt(v):
    """``(sqrt v, 1/sqrt v)`` on a vector, 0 where ``v = 0`` (finite gradients: double where)."""
    ok = v > 0
    q = jnp.where(ok, jnp.sqrt(jnp.where(ok, v, 1.0)), 0.0)
    return q, jnp.where(ok, 1 / jnp.where(ok, q, 1.0), 0.0)


def _diagonals(v, depth, activation, b2):
    """``Σ^(l)(x, x)`` for ``l = 1..depth`` (vectors)."""
    vs = [v]
    for _ in range(depth - 1):
        if activation == "relu":
            v = v / 2 + b2
        elif activation == "erf":
            v = (2 / math.pi) * jnp.arcsin(2 * v / (1 + 2 * v)) + b2
        else:
            v = v + b2
        vs.append(v)
    return vs


def _layer_relu(cov, k, v1, v2, b2):
    q1, r1 = _recip_sqrt(v1)
    q2, r2 = _recip_sqrt(v2)
    c = cov * r1[..., :, None] * r2[..., None, :]
    tol = SNAP_ULPS * jnp.finfo(cov.dtype).eps
    snapped = jnp.abs(c) >= 1 - tol
    pos = c > 0
    c = jnp.where(snapped, 0.0, c)  # the snapped entries take exact values below (finite gradients)
    sin_theta = jnp.where(snapped, 0.0, jnp.sqrt((1 - c) * (1 + c)))
    pi_minus = jnp.where(snapped, jnp.where(pos, math.pi, 0.0), acos(-c))  # π - θ = arccos(-c)
    sigma = (q1[..., :, None] * q2[..., None, :] * sin_theta + pi_minus * cov) * _INV_2PI + b2
    return sigma, sigma + k * (pi_minus * _INV_2PI)


def _layer_erf(cov, k, v1, v2, b2):
    a1, a2 = 1 + 2 * v1, 1 + 2 * v2
    _, ra1 = _recip_sqrt(a1)
    _, ra2 = _recip_sqrt(a2)
    rr = ra1[..., :, None] * ra2[..., None, :]  # 1/sqrt(a1 a2)
    sigma = (2 / math.pi) * asin(jnp.clip(2 * cov * rr, -1.0, 1.0)) + b2
    # det(I + 2Λ)/(a1 a2) without the cancellation of a1 a2 - 4 cov² (as ntkbook.nngp.erf_map): with
    # i = 1/a, h = v/a and c the (snapped) correlation, det/(a1 a2) = i1 + (1 - i1) i2 + 4 h1 h2 (1 - c)(1 + c)
    _, r1 = _recip_sqrt(v1)
    _, r2 = _recip_sqrt(v2)
    c = cov * r1[..., :, None] * r2[..., None, :]
    snapped = jnp.abs(c) >= 1 - SNAP_ULPS * jnp.finfo(cov.dtype).eps
    c = jnp.where(snapped, jnp.where(c > 0, 1.0, -1.0), c)
    i1, i2 = (1 / a1)[..., :, None], (1 / a2)[..., None, :]
    h1, h2 = (v1 / a1)[..., :, None], (v2 / a2)[..., None, :]
    q = i1 + (1 - i1) * i2 + 4 * (h1 * (1 - c)) * ((1 + c) * h2)
    sigma_dot = (4 / math.pi) * rr * jax.lax.rsqrt(q)
    return sigma, sigma + k * sigma_dot


def _layer_identity(cov, k, v1, v2, b2):
    sigma = cov + b2
    return sigma, sigma + k


_LAYERS = {"relu": _layer_relu, "erf": _layer_erf, "identity": _layer_identity}


def _recursion(cov, v1s, v2s, b2, activation):
    """``(Σ^(L), K^(L))`` entrywise from ``Σ^(1)`` and the diagonals of every layer."""
    step = _LAYERS[activation]
    k = cov
    for v1, v2 in zip(v1s[:-1], v2s[:-1]):
        cov, k = step(cov, k, v1, v2, b2)
    return cov, k


def _sq_norms(x):
    """``|x_a|²`` for every row by a pairwise (tree) sum over columns written as elementwise adds: the
    order of summation is then the same for every row and every batch shape, so a row's value does not
    depend on which other rows share its batch (``jnp.sum`` vectorises differently per shape) -- what
    makes tiled kernels bit-identical to untiled ones."""
    sq = x * x
    n = sq.shape[1]
    width = 1 << (n - 1).bit_length()
    if width != n:
        sq = jnp.pad(sq, ((0, 0), (0, width - n)))
    while sq.shape[1] > 1:
        half = sq.shape[1] // 2
        sq = sq[:, :half] + sq[:, half:]
    return sq[:, 0]


def _prepare(x, beta):
    n0 = x.shape[1]
    b2 = jnp.asarray(beta, x.dtype) ** 2
    return b2, _sq_norms(x) / n0 + b2


@functools.partial(jax.jit, static_argnames=("depth", "activation"))
def _packed_general(x1, x2, beta, *, depth, activation):
    """``Σ + iK`` for two batches: one dot, one fused elementwise pass, one complex output."""
    b2, v1 = _prepare(x1, beta)
    _, v2 = _prepare(x2, beta)
    cov = x1 @ x2.T / x1.shape[1] + b2
    v1s = _diagonals(v1, depth, activation, b2)
    v2s = _diagonals(v2, depth, activation, b2)
    sigma, k = _recursion(cov, v1s, v2s, b2, activation)
    return jax.lax.complex(sigma, k)


@functools.partial(jax.jit, static_argnames=("depth", "activation"))
def _packed_same(x, beta, *, depth, activation):
    """``Σ + iK`` for ``x2 = x1`` (one Gram matrix ``x xᵀ``, one set of diagonals)."""
    b2, v = _prepare(x, beta)
    cov = x @ x.T / x.shape[1] + b2
    vs = _diagonals(v, depth, activation, b2)
    sigma, k = _recursion(cov, vs, vs, b2, activation)
    return jax.lax.complex(sigma, k)


def _pairs(nb):
    return np.array([(i, j) for i in range(nb) for j in range(i, nb)], dtype=np.int32).T


@functools.partial(jax.jit, static_argnames=("depth", "activation", "block"))
def _packed_symmetric(x, beta, *, depth, activation, block):
    """``Σ + iK`` for ``x2 = x1`` on the ``nb (nb + 1)/2`` blocks ``(i <= j)`` of ``block x block`` only
    (``N = nb block``): shape ``(P, block, block)``."""
    n = x.shape[0]
    nb = n // block
    ii, jj = _pairs(nb)
    b2, v = _prepare(x, beta)
    xb = x.reshape(nb, block, x.shape[1])
    cov = jnp.einsum("pak,pbk->pab", xb[ii], xb[jj]) / x.shape[1] + b2
    vb = [u.reshape(nb, block) for u in _diagonals(v, depth, activation, b2)]
    sigma, k = _recursion(cov, [u[ii] for u in vb], [u[jj] for u in vb], b2, activation)
    return jax.lax.complex(sigma, k)


@jax.jit
def _split(z):
    return jnp.real(z), jnp.imag(z)


@functools.partial(jax.jit, static_argnames=("nb",))
def _split_symmetric(z, *, nb):
    """``(Σ, K)`` of shape ``(N, N)`` from the upper blocks ``(P, B, B)``: block ``(i, j)`` for ``i <= j``,
    its transpose for ``i > j`` (and the upper triangle of the diagonal blocks mirrored, so the result is
    exactly symmetric) -- one gather, fused with the split of the complex array."""
    ii, jj = _pairs(nb)
    index = np.zeros((nb, nb), np.int32)
    index[ii, jj] = np.arange(len(ii))
    index[jj, ii] = np.arange(len(ii))
    b = z.shape[-1]
    lower = np.tril(np.ones((nb, nb), bool), -1)[:, :, None, None]
    on = np.eye(nb, dtype=bool)[:, :, None, None]
    below = jax.lax.broadcasted_iota(jnp.int32, (b, b), 0) > jax.lax.broadcasted_iota(jnp.int32, (b, b), 1)
    full = z[index]  # (nb, nb, B, B)
    # blocks below the diagonal, and the lower triangle of diagonal blocks, are mirrored: exactly symmetric
    full = jnp.where(lower | (on & below[None, None]), jnp.swapaxes(full, -1, -2), full)
    full = jnp.transpose(full, (0, 2, 1, 3)).reshape(nb * b, nb * b)
    return jnp.real(full), jnp.imag(full)


DEFAULT_BLOCK = 512


def kernels(
    x1: jax.Array,
    x2: jax.Array | None = None,
    *,
    depth: int,
    activation: Any = "relu",
    beta: Any = 0.0,
    symmetric: bool | None = None,
    block: int = DEFAULT_BLOCK,
) -> tuple[jax.Array, jax.Array]:
    """``(Σ^(L), K^(L))`` of :func:`ntkbook.infinite_ntk.infinite_width_kernels`, fast (identity, ReLU, erf).

    The recursion ``Σ^(1) = K^(1) = x·x'/n_0 + β²``, ``Σ^(l+1) = E[σ(u)σ(v)] + β²``,
    ``K^(l+1) = Σ^(l+1) + K^(l) Σ̇^(l+1)`` as one fused elementwise pass over the Gram matrix (see the
    module docstring). Off the diagonal it agrees with the straightforward recursion to ``~1e-15``
    relative in float64 (``tests/test_fast.py`` holds it to ``1e-12``); on the diagonal (ReLU) the angle is
    exactly 0, so ``Σ(x, x)`` and ``K(x, x)`` are exact to rounding.

    Args:
      x1: ``(N1, n_0)``; x2: ``(N2, n_0)`` or ``None`` (``x2 = x1``).
      depth: number of affine layers ``L >= 1``.
      activation: ``"identity"``, ``"relu"`` or ``"erf"`` (see :func:`supports`).
      beta: bias scale ``β >= 0`` (may be traced).
      symmetric: with ``x2 = None``, compute only the blocks on and above the diagonal and mirror them
        (needs ``N1`` a multiple of ``block``); ``None`` (default) means ``False`` -- on a 2-core CPU the
        gather of the mirrored blocks costs about what it saves (see ``make bench``).
      block: block size of the symmetric path.

    Returns:
      ``(nngp, ntk)``, each ``(N1, N2)``, in the inputs' floating dtype.

    Call it outside ``jit`` for full speed: it runs two compiled programs (the fused pass returns
    ``Σ + iK`` as one complex array -- a single-root fusion -- and a second program splits it); inside
    an enclosing ``jit`` XLA merges them and the fusion is less complete (still correct).

    References: :cite:`cho2009kernel`, :cite:`williams1998computation`, :cite:`jacot2018ntk`.
    """
    fn = _act.get(activation, "activation")
    name = _act.name_of(fn)
    if name not in FAST_ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {', '.join(FAST_ACTIVATIONS)} for the fast path, got {activation!r}"
        )
    depth = positive_int(depth, "depth", minimum=1)
    if not isinstance(beta, jax.core.Tracer):
        beta = positive_float(beta, "beta", allow_zero=True)
    block = positive_int(block, "block")
    x1, x2 = input_pair(x1, x2)
    if x2 is not None:
        return _split(_packed_general(x1, x2, beta, depth=depth, activation=name))
    n = x1.shape[0]
    if symmetric is None:
        symmetric = False
    if symmetric:
        if n % block:
            raise ValueError(f"symmetric=True needs N1 to be a multiple of block = {block}, got N1 = {n}")
        z = _packed_symmetric(x1, beta, depth=depth, activation=name, block=block)
        return _split_symmetric(z, nb=n // block)
    return _split(_packed_same(x1, beta, depth=depth, activation=name))
