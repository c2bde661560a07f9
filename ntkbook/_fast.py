"""The analytic NNGP/NTK recursion: the closed forms, the one loop over layers, and a fused
elementwise pass with a vectorisable arccos/arcsin.

What lives here. The library's only copy of the closed-form layer maps (identity, ReLU, erf:
:func:`closed_form`, used by :func:`ntkbook.nngp.kernel_map` too), the library's one loop over layers
(:func:`recursion`, which also runs the Gauss--Hermite rule of :mod:`ntkbook.nngp` for any other
activation), and the fast entry point :func:`kernels` that
:func:`ntkbook.infinite_ntk.infinite_width_kernels` takes for every closed form
(:func:`ntkbook.nngp.nngp_kernel` runs the same pass, :func:`closed_kernels`, inside its own ``jit`` and
keeps ``Σ``: a single root without the complex packing of point 2).

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
   divisions (multiplies by reciprocals computed on the ``O(N)`` vectors) and computes ``Σ + iK`` as
   one complex array. Splitting it into ``(Σ, K)`` in the same program lets XLA fold
   ``real(complex(Σ, K))`` back into two roots -- every square root and ``arccos`` then written out per
   layer, 8 extra arrays at depth 4, the pass ~2x slower (an ``optimization_barrier`` does not stop it: XLA
   removes barriers before it simplifies). So the pass runs over **tiles** in a software-pipelined loop
   (:func:`kernels_unchecked`): iteration ``i`` writes tile ``i - 1``'s ``Σ + iK`` -- a loop carry, across
   which nothing is folded -- into ``Σ`` and ``K`` in place and computes tile ``i`` (its block of the Gram
   matrix, then the recursion) as one single-root fusion. One program, the same whether called directly
   or inlined in the caller's ``jax.jit`` (``tests/test_fast.py`` checks the fusions in XLA's output); the
   Gram block and the complex tile stay in cache, so the only ``N1 x N2`` arrays written are ``Σ`` and ``K``.
   With ``x2`` given the tiles are rows (:func:`_tiled`); with ``x2 = None`` they are the square blocks on
   and above the diagonal, each written at its place and transposed at its mirror image (:func:`_mirrored`):
   half the Gram products and half the transcendental work, and a result symmetric to the last bit.
   Measured (N = 4096, n_0 = 784, ReLU, depth 4, 2-core Xeon, no ``GLIBC_TUNABLES``, 2026-12-06):
   2.0 ns per entry per layer beyond the Gram matrix directly and inside ``jit`` in ``make bench``, where
   the row tiles took 4.4; 3.0-3.6 ns in ``make bench-peer`` on a busier machine.
3. **The diagonal apart.** ``Σ(x, x)`` follows its own vector recursion (ReLU:
   ``Σ^(l+1)(x, x) = Σ^(l)(x, x)/2 + β²``), which normalises the correlations; a correlation within
   ``SNAP_ULPS`` rounding units of ``±1`` (the diagonal, repeated inputs) is snapped to ``±1`` and takes
   ``θ = 0`` or ``π`` exactly, never ``arccos`` near 1 (where a rounding ``δc`` would cost ``sqrt(δc)``).
   Equal inputs therefore give bit-equal rows. ``π - θ`` is computed as ``arccos(-c)``, accurate also
   where ``θ -> π``.

Mirroring needs the layer maps symmetric in ``(x, x')`` to the last bit, and they are written so (the
correlation multiplies ``cov`` by the product of the reciprocal norms; erf's determinant takes the min and
max of its two terms): the mirrored result equals the unmirrored one wherever the Gram matrix is
symmetric bit for bit (``tests/test_tiling.py``, ``tests/test_fast.py``).

Entry points for the owners of :mod:`ntkbook.nngp` and :mod:`ntkbook.infinite_ntk`: :func:`supports`
(which activations have a fast path), :func:`kernels` (same arguments and results as
:func:`ntkbook.infinite_ntk.infinite_width_kernels`), :func:`closed_kernels` (the same, unchecked, for
inside ``jax.jit``), :func:`closed_form`, :func:`correlation` and :func:`recursion`.

References: :cite:`cho2009kernel` (arc-cosine kernels), :cite:`williams1998computation` (erf),
:cite:`jacot2018ntk`, :cite:`lee2019wide`; Cody & Waite / Cephes / fdlibm for the arcsin reduction.
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
from .validate import input_pair, positive_float, positive_int

__all__ = [
    "ACOS_ULP_BOUND",
    "ASIN_ULP_BOUND",
    "DEFAULT_BLOCK",
    "FAST_ACTIVATIONS",
    "SNAP_ULPS",
    "TILE_ENTRIES",
    "acos",
    "asin",
    "block_side",
    "closed_form",
    "closed_kernels",
    "correlation",
    "first_layer",
    "kernels",
    "kernels_unchecked",
    "recursion",
    "supports",
    "tile_rows",
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
SNAP_ULPS = 32  # correlations within SNAP_ULPS eps of ±1 are ±1 (the module docstring, point 3)


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


# --------------------------------------------------------------------------- the closed forms


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


def _outer(a, b):
    """``a_i b_j``: ``(..., N1)`` and ``(..., N2)`` to ``(..., N1, N2)``."""
    return a[..., :, None] * b[..., None, :]


def correlation(cov: jax.Array, v1: jax.Array, v2: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The correlation ``c = cov / sqrt(v1 v2)``, snapped to exactly ``±1`` within ``SNAP_ULPS``
    units of rounding (which also clips it to ``[-1, 1]``), and 0 where a variance is 0.

    Only ``O(N1 + N2)`` square roots and no division on the matrix, ``c = cov (1/sqrt v1)(1/sqrt v2)``;
    on the diagonal this is 1 to a few units of rounding, and the snap makes it exactly 1.

    Args:
      cov: ``(..., N1, N2)``; v1: ``(..., N1)``; v2: ``(..., N2)``.

    Returns:
      ``(c, snapped)``: both ``(..., N1, N2)``; ``snapped`` marks ``|c| = 1`` exactly (where ``c`` is at
      an extremum, so its gradient is taken as 0).
    """
    c, snapped = _unsnapped_correlation(cov, v1, v2)
    return jnp.where(snapped, jnp.where(c > 0, 1.0, -1.0).astype(c.dtype), c), snapped


def _unsnapped_correlation(cov, v1, v2):
    """:func:`correlation` before the snap, and where to snap it: ``(c, snapped)``. The ReLU map uses ``c``
    as it is -- selecting exact values where ``snapped`` -- because one more select on ``c`` (whose users
    reach back through every layer) makes the code XLA emits for the fused pass grow much faster with
    depth (measured: ``infinite_width_kernels`` of a 4 x 3 input at depth 50 took 7 minutes instead of 5 s)."""
    _, r1 = _recip_sqrt(v1)
    _, r2 = _recip_sqrt(v2)
    c = cov * _outer(r1, r2)  # the product of the reciprocals first: c is then symmetric in (x, x') to the last bit
    return c, jnp.abs(c) >= 1 - SNAP_ULPS * jnp.finfo(c.dtype).eps


def _identity(cov, v1, v2):
    """``σ(t) = t``: ``E[uv] = cov``, ``E[σ'σ'] = 1``."""
    return cov, jnp.ones_like(cov), v1, v2


def _relu(cov, v1, v2):
    """ReLU, the arc-cosine kernels of degree 1 and 0 (:cite:`cho2009kernel`):

        E[σ(u)σ(v)]   = (sqrt(v1 v2) sin θ + (π - θ) cov) / (2π),
        E[σ'(u)σ'(v)] = (π - θ) / (2π),            θ = arccos(cov / sqrt(v1 v2)),

    and ``E[σ(u)²] = v1 / 2``. ``π - θ`` is ``arccos(-c)`` (accurate also where ``θ -> π``); a snapped
    correlation takes ``θ = 0`` or ``π`` and ``sin θ = 0`` exactly, never ``arccos`` near ``±1``. Written
    with ``cov`` (not ``sqrt(v1 v2) c``) in the second term so that the derivative with respect to
    ``cov`` is ``E[σ'σ']`` (Price's theorem) even where ``θ`` is snapped to 0.
    """
    c, snapped = _unsnapped_correlation(cov, v1, v2)
    free = jnp.where(snapped, 0.0, c)  # the snapped entries take exact values below (finite gradients)
    sin_theta = jnp.where(snapped, 0.0, jnp.sqrt((1 - free) * (1 + free)))
    pi_minus = jnp.where(snapped, jnp.where(c > 0, math.pi, 0.0), acos(-free))  # π - θ = arccos(-c)
    scale = _outer(_recip_sqrt(v1)[0], _recip_sqrt(v2)[0])  # sqrt(v1 v2)
    sigma = (scale * sin_theta + pi_minus * cov) * _INV_2PI
    return sigma, pi_minus * _INV_2PI, v1 / 2, v2 / 2


def _erf_variance(v):
    """``E[erf(u)²] = (2/π) arcsin(2v / (1 + 2v))`` for ``u ~ N(0, v)`` (a vector: ``jnp.arcsin`` is cheap here)."""
    return (2 / math.pi) * jnp.arcsin(2 * v / (1 + 2 * v))


def _erf(cov, v1, v2):
    """``σ = erf`` (:cite:`williams1998computation`):

        E[σ(u)σ(v)]   = (2/π) arcsin(2 cov / sqrt((1 + 2 v1)(1 + 2 v2))),
        E[σ'(u)σ'(v)] = (4/π) / sqrt((1 + 2 v1)(1 + 2 v2) - 4 cov²),

    the second from ``σ'(t) = (2/sqrt π) exp(-t²)`` and ``E[exp(-u² - v²)] = det(I + 2Λ)^(-1/2)``.
    """
    a1, a2 = 1 + 2 * v1, 1 + 2 * v2
    rr = _outer(_recip_sqrt(a1)[1], _recip_sqrt(a2)[1])  # 1/sqrt(a1 a2): products of reciprocals, no division
    sigma = (2 / math.pi) * asin(jnp.clip(2 * cov * rr, -1.0, 1.0))
    # det(I + 2Λ)/(a1 a2) without the cancellation of a1 a2 - 4 cov² (which loses everything, or
    # overflows, at large norms): with i = 1/a, h = v/a (so 4 h1 h2 = (1 - i1)(1 - i2)) and c the
    # (snapped) correlation, det/(a1 a2) = i1 + (1 - i1) i2 + 4 h1 h2 (1 - c)(1 + c) -- every term
    # positive; written with min/max of (i1, i2) and the product h1 h2 first, so that it is symmetric in
    # (x, x') to the last bit (the mirrored pass of kernels then equals the unmirrored one)
    c, _ = correlation(cov, v1, v2)
    i1, i2 = (1 / a1)[..., :, None], (1 / a2)[..., None, :]
    lo, hi = jnp.minimum(i1, i2), jnp.maximum(i1, i2)
    q = lo + (1 - lo) * hi + 4 * _outer(v1 / a1, v2 / a2) * ((1 - c) * (1 + c))
    return sigma, (4 / math.pi) * rr * jax.lax.rsqrt(q), _erf_variance(v1), _erf_variance(v2)


_CLOSED_FORMS = {"identity": _identity, "relu": _relu, "erf": _erf}


def closed_form(activation: str) -> Callable[..., tuple[jax.Array, jax.Array, jax.Array, jax.Array]]:
    """The closed-form layer map of ``activation`` (a name in ``FAST_ACTIVATIONS``): the library's only
    copy of the identity, ReLU and erf expectations, used by :func:`kernels`, by
    :func:`ntkbook.nngp.kernel_map` and by every recursion.

    The map takes ``cov (..., N1, N2)``, ``v1 (..., N1)``, ``v2 (..., N2)`` (``Σ(x, x')``, ``Σ(x, x)``,
    ``Σ(x', x')``) to ``(E[σ(u)σ(v)], E[σ'(u)σ'(v)], E[σ(u)²], E[σ(v)²])`` of shapes
    ``(..., N1, N2)``, ``(..., N1, N2)``, ``(..., N1)``, ``(..., N2)`` for
    ``(u, v) ~ N(0, [[v1, cov], [cov, v2]])`` -- unchecked, elementwise on the matrix (one fused pass),
    with only ``O(N1 + N2)`` square roots and divisions.
    """
    return _CLOSED_FORMS[activation]


# --------------------------------------------------------------------------- the recursion


def recursion(
    cov: jax.Array,
    v1: jax.Array,
    v2: jax.Array,
    b2: jax.Array,
    *,
    depth: int,
    layer: Callable,
    unroll: bool = True,
) -> tuple[jax.Array, jax.Array]:
    """``(Σ^(depth), K^(depth))`` from ``Σ^(1) = K^(1)``: the library's one loop over layers,

        Σ^(l+1) = E[σ(u)σ(v)] + β²,   K^(l+1) = Σ^(l+1) + K^(l) E[σ'(u)σ'(v)],   (u, v) ~ N(0, Λ^(l)),

    with the diagonals ``Σ(x, x)``, ``Σ(x', x')`` carried along as vectors. Unrolled in Python by default:
    with a :func:`closed_form` every layer is elementwise, and XLA fuses all of them into one pass over the
    Gram matrix. A quadrature layer is a large program of its own that does not fuse across layers:
    ``unroll=False`` runs it in a ``jax.lax.fori_loop``, compiled once instead of ``depth - 1`` times.

    Args:
      cov: ``Σ^(1)``, ``(..., N1, N2)``; v1: ``(..., N1)``; v2: ``(..., N2)``; b2: ``β²`` (a scalar).
      depth: ``L >= 1`` (``depth - 1`` layer maps).
      layer: ``(cov, v1, v2) -> (E[σσ], E[σ'σ'], E[σ(u)²], E[σ(v)²])`` -- a :func:`closed_form`, or a
        quadrature rule of :mod:`ntkbook.quadrature` (a ``KernelMap`` is such a tuple).
      unroll: unroll the layers in Python (closed forms) or loop with ``fori_loop`` (quadrature).

    Returns:
      ``(nngp, ntk)``, each ``(..., N1, N2)``.
    """

    def step(state):
        cov, k, v1, v2 = state
        sigma, sigma_dot, var1, var2 = layer(cov, v1, v2)
        cov = sigma + b2
        return cov, cov + k * sigma_dot, var1 + b2, var2 + b2

    state = (cov, cov, v1, v2)
    if unroll:
        for _ in range(depth - 1):
            state = step(state)
    else:
        state = jax.lax.fori_loop(0, depth - 1, lambda _, s: step(s), state)
    return state[0], state[1]


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


def _bias_variance(beta: Any, dtype: Any) -> jax.Array:
    """``β²`` in ``dtype`` (``beta`` may be traced): the one place the library squares the bias scale."""
    return jnp.asarray(beta, dtype) ** 2


def _variances(x: jax.Array, b2: jax.Array) -> jax.Array:
    """``Σ^(1)(x, x) = |x|²/n_0 + β²`` for every row of ``x (N, n_0)``, the norms summed in a
    shape-independent order (``_sq_norms``). Shape ``(N,)``."""
    return _sq_norms(x) / x.shape[1] + b2


def first_layer(x1: jax.Array, x2: jax.Array | None, beta: Any) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """``Σ^(1)(x, x') = x·x'/n_0 + β²``, its diagonals and ``β²``, unchecked -- the library's one
    first layer of every recursion (:func:`closed_kernels`, :func:`ntkbook.nngp.kernel_recursion`,
    :func:`ntkbook.nngp.input_covariance`).

    The diagonals come from the row norms summed in a shape-independent order (see ``_sq_norms``), so a
    row's value does not depend on the other rows of its batch; on the diagonal of ``x1 x1ᵀ`` they agree
    with the Gram matrix to a few units of rounding (the correlation's snap makes ``c = 1`` exact there).

    Args:
      x1: ``(N1, n_0)``; x2: ``(N2, n_0)`` of the same dtype, or ``None`` (``x2 = x1``); beta: ``β``
        (may be traced).

    Returns:
      ``(cov (N1, N2), v1 (N1,), v2 (N2,), b2)``.
    """
    b2 = _bias_variance(beta, x1.dtype)
    v1 = _variances(x1, b2)
    if x2 is None:
        return _covariance(x1, x1, b2), v1, v1, b2
    return _covariance(x1, x2, b2), v1, _variances(x2, b2), b2


def _covariance(x1: jax.Array, x2: jax.Array, b2: jax.Array) -> jax.Array:
    """``Σ^(1)(x, x') = x·x'/n_0 + β²`` for the rows of ``x1 (N1, n_0)`` against those of ``x2 (N2, n_0)``:
    shape ``(N1, N2)``. With :func:`_variances` (its diagonal) the library's only copy of the first layer:
    :func:`first_layer` calls both, the tiled passes call this per tile with the variances computed once."""
    return x1 @ x2.T / x1.shape[1] + b2


def closed_kernels(
    x1: jax.Array, x2: jax.Array | None, beta: Any, *, depth: int, activation: str
) -> tuple[jax.Array, jax.Array]:
    """``(Σ^(depth), K^(depth))`` for a closed-form ``activation``, unchecked, for use inside ``jax.jit``:
    ``Σ^(1) = x·x'/n_0 + β²`` (diagonals from the row norms, summed in a shape-independent order), then
    :func:`recursion` with :func:`closed_form` -- one dot and one fused elementwise pass.

    Args:
      x1: ``(N1, n_0)``; x2: ``(N2, n_0)`` of the same dtype, or ``None`` (``x2 = x1``); beta: ``β`` (may
        be traced); depth: ``L >= 1``; activation: a name in ``FAST_ACTIVATIONS``.

    Returns:
      ``(nngp, ntk)``, each ``(N1, N2)``.
    """
    cov, v1, v2, b2 = first_layer(x1, x2, beta)
    return recursion(cov, v1, v2, b2, depth=depth, layer=closed_form(activation))


TILE_ENTRIES = 1 << 19  # kernel entries per row tile of the fused pass: 8 MiB as complex128, about an L2 cache


def tile_rows(n1: int, n2: int) -> int:
    """Rows per tile of :func:`kernels_unchecked`'s loop for an ``(n1, n2)`` result: ``TILE_ENTRIES // n2``
    (at least 8), and at most half of ``n1``: at least two tiles, so the loop is never one of a single trip
    (which XLA inlines, and the split of ``Σ + iK`` then fuses back into the pass: the module docstring,
    point 2)."""
    rows = max(8, TILE_ENTRIES // max(n2, 1))
    return max(1, min(rows, -(-n1 // 2)))


@functools.partial(jax.jit, static_argnames=("depth", "activation", "rows"))
def _tiled(x1, x2, beta, *, depth, activation, rows):
    """``(Σ, K)`` by tiles of ``rows`` rows of ``x1``, software-pipelined: iteration ``i`` writes the
    ``Σ + iK`` of tile ``i - 1`` (a loop carry) into ``Σ`` and ``K`` in place and computes tile ``i`` -- its
    rows of the Gram matrix and the whole recursion -- as one single-root fusion with a complex result.
    XLA cannot fold ``real(complex(Σ, K))`` across the loop boundary, so the pass keeps its single root
    whether this program runs alone or inlined in a caller's ``jit``. The last tile starts at
    ``n1 - rows`` (overlapping the one before: the same rows, the same bits)."""
    n1 = x1.shape[0]
    xb = x1 if x2 is None else x2
    layer = closed_form(activation)
    # the diagonals once, outside the loop (recomputed per block, the padded tree sum of the norms made the
    # mirrored pass 20-35% slower at N = 512-2048): the norms are summed in a shape-independent order, so a
    # slice of them is what the tile's own rows would give
    b2 = _bias_variance(beta, x1.dtype)
    v1 = _variances(x1, b2)
    v2 = v1 if x2 is None else _variances(x2, b2)

    def start(i):
        return jnp.clip(i * rows, 0, n1 - rows)

    def tile(i):
        # this tile's rows against every column: the Gram entries equal those of the whole product, so
        # tiles give the untiled values bit for bit
        at = start(i)
        cov = _covariance(jax.lax.dynamic_slice_in_dim(x1, at, rows), xb, b2)
        return jax.lax.complex(
            *recursion(cov, jax.lax.dynamic_slice_in_dim(v1, at, rows), v2, b2, depth=depth, layer=layer)
        )

    def put(out, z, i):
        at = start(i)
        return tuple(jax.lax.dynamic_update_slice_in_dim(o, part, at, 0) for o, part in zip(out, (z.real, z.imag)))

    def body(i, carry):
        out, z = carry
        return put(out, z, i - 1), tile(i)  # i = 0 writes the zero tile at row 0, overwritten at i = 1

    # at least two trips (one row: tile 0 twice): XLA inlines a loop of one trip, and the pass would then
    # lose its single root -- and, fused otherwise, round otherwise
    trips = max(2, -(-n1 // rows))
    zeros = jnp.zeros((n1, xb.shape[0]), x1.dtype)
    z0 = jax.lax.complex(zeros[:rows], zeros[:rows])
    out, z = jax.lax.fori_loop(0, trips, body, ((zeros, zeros), z0))
    return put(out, z, trips - 1)


DEFAULT_BLOCK = 384  # largest block side of the mirrored pass: 2.25 MiB as complex128 (256-512 alike at N = 4096)


def block_side(n: int, block: int) -> int:
    """The block side :func:`kernels_unchecked` mirrors with for ``n`` inputs and a largest side ``block``:
    the ``ceil(n / block)`` blocks made as equal as possible (a multiple of 8, so that rows stay aligned to
    the vector width: at least 8), at most ``n`` -- the last block then overlaps the one before by fewer than 8
    rows per block (40 at N = 4096), instead of by up to ``block - 1`` (at N = 512 and a side of 384 the overlap
    made 1.7x the work)."""
    side = -(-n // -(-n // block))  # ceil(n / nb), nb = ceil(n / block)
    return min(n, -(-side // 8) * 8)


def _upper_pairs(nb: int) -> np.ndarray:
    """The block pairs ``(i, j)``, ``i <= j < nb``, row by row, as an ``(2, max(2, P))`` int32 array,
    ``P = nb (nb + 1)/2`` (a single pair is listed twice: the loop needs two trips, see :func:`tile_rows`)."""
    pairs = [(i, j) for i in range(nb) for j in range(i, nb)]
    pairs += pairs[-1:] * (2 - len(pairs))
    return np.array(pairs, dtype=np.int32).T


@functools.partial(jax.jit, static_argnames=("depth", "activation", "block"))
def _mirrored(x, beta, *, depth, activation, block):
    """``(Σ, K)`` for ``x2 = x1`` from the blocks on and above the diagonal only: the same software-pipelined
    loop as :func:`_tiled`, over the ``block x block`` pairs ``(i, j)``, ``i <= j``. Iteration ``p`` writes
    the ``Σ + iK`` of pair ``p - 1`` at ``(i, j)`` and its transpose at ``(j, i)``, in place, and computes
    pair ``p`` (its block of the Gram matrix, then the recursion) as one single-root fusion. A diagonal
    block is first made symmetric (its lower triangle the transpose of its upper one), so the result is
    symmetric to the last bit. The last block starts at ``n - block`` (overlapping the one before); the last
    pair to cover an entry covers its mirror image too and writes the same value to both."""
    n = x.shape[0]
    ii, jj = (jnp.asarray(a) for a in _upper_pairs(-(-n // block)))
    layer = closed_form(activation)
    b2 = _bias_variance(beta, x.dtype)
    v = _variances(x, b2)  # the diagonal once, outside the loop (as in _tiled)
    below = jax.lax.broadcasted_iota(jnp.int32, (block, block), 0) > jax.lax.broadcasted_iota(
        jnp.int32, (block, block), 1
    )

    def starts(p):
        return tuple(jnp.clip(k[p] * block, 0, n - block) for k in (ii, jj))

    def tile(p):
        # the first layer of this block: its rows against its columns (the Gram entries equal those of the
        # whole product) and the slices of the diagonal
        a, b = starts(p)
        cov = _covariance(*(jax.lax.dynamic_slice_in_dim(x, s, block) for s in (a, b)), b2)
        va, vb = (jax.lax.dynamic_slice_in_dim(v, s, block) for s in (a, b))
        return jax.lax.complex(*recursion(cov, va, vb, b2, depth=depth, layer=layer))

    def put(out, z, p):
        a, b = starts(p)
        z = jnp.where((ii[p] == jj[p]) & below, z.T, z)
        res = []
        for o, part in zip(out, (z.real, z.imag)):
            o = jax.lax.dynamic_update_slice(o, part.T, (b, a))
            res.append(jax.lax.dynamic_update_slice(o, part, (a, b)))
        return tuple(res)

    def body(p, carry):
        out, z = carry
        return put(out, z, jnp.maximum(p - 1, 0)), tile(p)  # p = 0 writes a zero block, overwritten at p = 1

    trips = ii.shape[0]
    zeros = jnp.zeros((n, n), x.dtype)
    z0 = jax.lax.complex(zeros[:block, :block], zeros[:block, :block])
    out, z = jax.lax.fori_loop(0, trips, body, ((zeros, zeros), z0))
    return put(out, z, trips - 1)


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
      symmetric: compute only the blocks on and above the diagonal and mirror them (the result is then
        symmetric to the last bit); needs ``x2 = None``. ``None`` (default): mirror whenever ``x2 = None``
        -- half the transcendental work and half the Gram matrix; ``False``: every entry by row tiles.
      block: the largest block side of the mirrored pass (:func:`block_side` picks the side).

    Returns:
      ``(nngp, ntk)``, each ``(N1, N2)``, in the inputs' floating dtype.

    One compiled program (row tiles or mirrored blocks, each one fusion: the module docstring, point 2), as
    fast inside the caller's ``jax.jit`` as called directly; ``grad`` (with respect to the inputs and a
    traced ``beta``) and ``vmap`` go through it.

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
    if symmetric is not None and not isinstance(symmetric, bool):
        raise TypeError(f"symmetric must be True, False or None, got {symmetric!r}")
    if symmetric and x2 is not None:
        raise ValueError("symmetric=True needs x2=None (a kernel of one batch with itself)")
    return kernels_unchecked(x1, x2, beta, depth=depth, activation=name, symmetric=symmetric, block=block)


def kernels_unchecked(
    x1: jax.Array,
    x2: jax.Array | None,
    beta: Any,
    *,
    depth: int,
    activation: str,
    symmetric: bool | None = None,
    block: int = DEFAULT_BLOCK,
) -> tuple[jax.Array, jax.Array]:
    """:func:`kernels` without validation, for public entry points that have validated their arguments
    already (:func:`ntkbook.infinite_ntk.infinite_width_kernels`): ``x1 (N1, n_0)``, ``x2 (N2, n_0)`` or
    ``None`` as from :func:`ntkbook.validate.input_pair`; ``beta >= 0`` (a float or traced); ``depth >= 1``;
    ``activation`` a name in ``FAST_ACTIVATIONS``; ``symmetric`` not ``True`` with ``x2`` given; ``block >= 1``.
    Returns ``(nngp, ntk)``, each ``(N1, N2)``: with ``x2 = None`` (unless ``symmetric=False``) the mirrored
    blocks of side ``block_side(N1, block)`` (``_mirrored``), else the row tiles of ``tile_rows(N1, N2)`` rows
    (``_tiled``) -- one program either way, whether called directly or inside ``jax.jit``."""
    if x2 is None and symmetric is not False:
        return _mirrored(x1, beta, depth=depth, activation=activation, block=block_side(x1.shape[0], block))
    n2 = x1.shape[0] if x2 is None else x2.shape[0]
    return _tiled(x1, x2, beta, depth=depth, activation=activation, rows=tile_rows(x1.shape[0], n2))
