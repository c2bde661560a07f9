"""Numerical edge cases of the infinite-width kernels and the finite network, each a test.

* ``x = x'`` and ``x = -x'``: the correlation is exactly ``±1`` where the ReLU map takes
  ``arccos``; values and gradients must be finite, in float32 and in float64, and equal the exact
  values the recursions give there.
* a zero input with ``β = 0``: ``Σ(0, ·) = 0`` (a zero variance), with no NaN in values or gradients.
* very large and very small input norms: positive homogeneity (ReLU, identity) and the exact
  one-layer erf kernels far from unit scale.
* depth 50, width 1, a single input (N = 1).
* float32 results within a stated tolerance of float64.

Tolerances: "exact to rounding" comparisons use ``TOL64 = 1e-12`` (relative; a few hundred ulps of
float64 for recursions of up to 50 layers) and ``TOL32 = 1e-5`` (relative; ~80 ulps of float32).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkbook import mlp, nngp, ntk
from ntkbook.infinite_ntk import infinite_width_kernels

TOL64 = 1e-12
TOL32 = 1e-5
TOL = {jnp.float32: TOL32, jnp.float64: TOL64}
DTYPES = [jnp.float32, jnp.float64]
CLOSED = ["relu", "erf", "identity"]
X = np.array([1.0, 2.0, -0.5])  # |x|^2 / n_0 = 1.75


def kernels(x1, x2=None, **kw):
    S, K = infinite_width_kernels(x1, x2, **kw)
    return np.asarray(S, np.float64), np.asarray(K, np.float64)


def all_finite(*arrays):
    return all(bool(np.all(np.isfinite(np.asarray(a, np.float64)))) for a in arrays)


def rel_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), np.finfo(np.float64).tiny))


def exact_relu_depth2(x, xp, beta=0.0):
    """Σ^(2), K^(2) of a ReLU network from the arc-cosine formulas in float64 (angle from numpy)."""
    n0 = x.shape[0]
    v1, v2, cov = x @ x / n0 + beta**2, xp @ xp / n0 + beta**2, x @ xp / n0 + beta**2
    c = np.clip(cov / math.sqrt(v1 * v2), -1, 1)
    th = math.acos(c)
    sigma2 = (math.sqrt(v1 * v2) * math.sin(th) + (math.pi - th) * cov) / (2 * math.pi) + beta**2
    return sigma2, sigma2 + cov * (math.pi - th) / (2 * math.pi)


# --------------------------------------------------------------------------- x = x' and x = -x'


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("activation", CLOSED)
def test_equal_and_opposite_inputs_finite(dtype, activation):
    xs = jnp.asarray(np.stack([X, X, -X]), dtype)
    S, K = infinite_width_kernels(xs, depth=3, activation=activation, beta=0.0)
    assert S.dtype == dtype and K.dtype == dtype, "the kernels must keep the input dtype"
    assert all_finite(S, K)
    S, K = np.asarray(S, np.float64), np.asarray(K, np.float64)
    # Rows 0 and 1 are the same input: their rows of Σ and K agree exactly.
    assert np.array_equal(S[0], S[1]) and np.array_equal(K[0], K[1])
    # The pair (x, x) given as two arguments equals the diagonal computed from the Gram matrix.
    S2, K2 = kernels(xs[:1], xs[1:2], depth=3, activation=activation)
    tol = TOL[dtype]
    assert rel_err(S2[0, 0], S[0, 0]) <= tol and rel_err(K2[0, 0], K[0, 0]) <= tol


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("beta", [0.0, 0.5])
def test_relu_at_correlation_plus_minus_one_is_exact(dtype, beta):
    """At ``c = 1``: ``θ = 0``; at ``c = -1`` (β = 0): ``θ = π``, so ``Σ^(2)(x, -x) = 0`` and
    ``K^(2)(x, -x) = 0`` exactly. Two separate arguments, so nothing is read off a diagonal."""
    x = jnp.asarray(X[None], dtype)
    for xp in (X, -X, 3.0 * X):
        S, K = kernels(x, jnp.asarray(xp[None], dtype), depth=2, activation="relu", beta=beta)
        s_ref, k_ref = exact_relu_depth2(X, xp, beta)
        scale = max(abs(k_ref), 1.0)
        assert abs(S[0, 0] - s_ref) <= TOL[dtype] * scale and abs(K[0, 0] - k_ref) <= TOL[dtype] * scale
    if beta == 0.0:
        S, K = kernels(x, -x, depth=2, activation="relu")
        assert S[0, 0] == 0.0 and K[0, 0] == 0.0


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("activation", CLOSED)
@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["x=x'", "x=-x'"])
def test_gradients_at_correlation_plus_minus_one_are_finite(dtype, activation, sign):
    xp = jnp.asarray(sign * X, dtype)

    def k_of(z):
        S, K = infinite_width_kernels(z[None], xp[None], depth=3, activation=activation)
        return S[0, 0] + K[0, 0]

    g = jax.grad(k_of)(jnp.asarray(X, dtype))
    assert g.dtype == dtype and all_finite(g)
    # The gradient on the diagonal of the Gram matrix (one argument) is finite too.
    gd = jax.grad(lambda z: infinite_width_kernels(z[None], depth=3, activation=activation)[1][0, 0])(
        jnp.asarray(X, dtype)
    )
    assert all_finite(gd)


def test_relu_gradient_at_x_equals_x_prime_matches_finite_differences():
    """``d K(x, x') / d x`` at ``x' = x`` (float64), against central differences along a direction
    that keeps ``x`` off the snap band (step 1e-4 >> the band of 32 ulps): error ``O(h^2)`` plus
    rounding ``eps |K| / h``, so tol = 1e-6 of the gradient's size."""
    xp = jnp.asarray(X)[None]
    fn = lambda z: infinite_width_kernels(z[None], xp, depth=3)[1][0, 0]  # noqa: E731
    g = np.asarray(jax.grad(fn)(jnp.asarray(X)))
    h = 1e-4
    # One-sided limits exist (K is smooth in |x| and in the angle away from 0); the angle term
    # sin θ ~ θ has a kink at θ = 0, so compare along the radial direction, where θ stays 0.
    radial = X / np.linalg.norm(X)
    fd = (float(fn(jnp.asarray(X + h * radial))) - float(fn(jnp.asarray(X - h * radial)))) / (2 * h)
    assert abs(g @ radial - fd) <= 1e-6 * np.linalg.norm(g)


# --------------------------------------------------------------------------- zero input, β = 0


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("activation", CLOSED + ["tanh"])
def test_zero_input_without_bias_gives_zero_kernel(dtype, activation):
    xs = jnp.asarray(np.stack([np.zeros(3), X]), dtype)
    S, K = infinite_width_kernels(xs, depth=3, activation=activation, beta=0.0)
    assert all_finite(S, K)
    S, K = np.asarray(S), np.asarray(K)
    # Σ^(1)(0, ·) = 0, and every map sends a zero variance/covariance to E[σ(0)σ(·)] = 0 for these odd
    # or ReLU activations (σ(0) = 0): the row and column of the zero input vanish.
    assert np.all(S[0] == 0) and np.all(S[:, 0] == 0)
    assert np.all(K[0] == 0) and np.all(K[:, 0] == 0)
    S1, K1 = infinite_width_kernels(xs[:1], xs[1:], depth=3, activation=activation)
    assert all_finite(S1, K1) and float(jnp.max(jnp.abs(S1))) == 0.0 and float(jnp.max(jnp.abs(K1))) == 0.0


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("activation", CLOSED)
def test_zero_input_gradients_are_finite(dtype, activation):
    zero = jnp.zeros(3, dtype)
    other = jnp.asarray(X, dtype)[None]
    for fn in (
        lambda z: infinite_width_kernels(z[None], depth=3, activation=activation)[1][0, 0],
        lambda z: infinite_width_kernels(z[None], other, depth=3, activation=activation)[1][0, 0],
        lambda z: jnp.sum(infinite_width_kernels(jnp.stack([z, other[0]]), depth=3, activation=activation)[0]),
    ):
        assert all_finite(jax.grad(fn)(zero))


def test_nngp_kernel_zero_input_no_nan():
    S = nngp.nngp_kernel(jnp.zeros((2, 4)), depth=4, activation="relu", beta=0.0)
    assert all_finite(S) and float(jnp.max(jnp.abs(S))) == 0.0


# --------------------------------------------------------------------------- very large and very small norms

SCALES = {jnp.float64: [1e-150, 1e-50, 1e-8, 1e8, 1e50, 1e150], jnp.float32: [1e-15, 1e-5, 1e5, 1e15]}
XS = np.array([[1.0, 2.0, -0.5], [0.3, -1.0, 2.0], [-1.0, -2.0, 0.5], [2.0, 4.0, -1.0]])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("activation", ["relu", "identity"])
def test_homogeneous_kernels_at_extreme_norms(dtype, activation):
    """ReLU and identity kernels without bias are positively homogeneous of degree 2: ``K(sx, sx') =
    s^2 K(x, x')``, down to 1e-150 and up to 1e150 in float64 (1e-15 .. 1e15 in float32, where
    x·x' stays representable)."""
    S0, K0 = kernels(jnp.asarray(XS, dtype), depth=4, activation=activation)
    for s in SCALES[dtype]:
        S, K = kernels(jnp.asarray(XS * s, dtype), depth=4, activation=activation)
        assert all_finite(S, K), f"non-finite at scale {s:g}"
        # 10x the usual tolerance: the scaled inputs are themselves rounded to the dtype.
        assert rel_err(S / s**2, S0) <= 10 * TOL[dtype], f"Σ at scale {s:g}"
        assert rel_err(K / s**2, K0) <= 10 * TOL[dtype], f"K at scale {s:g}"


def erf_depth2_exact(x, xp):
    """One-hidden-layer erf kernels (Σ^(2), K^(2)) of two inputs, in 40-digit arithmetic (mpmath) from
    the exact inputs, with ``(1 + 2 v1)(1 + 2 v2) - 4 cov^2 = 1 + 2 (v1 + v2) + 4 (v1 v2 - cov^2)`` and
    the Gram determinant ``v1 v2 - cov^2 = sum_{i<j} (x_i x'_j - x_j x'_i)^2 / n_0^2`` (Lagrange's
    identity: no cancellation, exactly 0 for x' = ±x)."""
    import mpmath

    with mpmath.workdps(40):
        x, xp = [mpmath.mpf(float(a)) for a in x], [mpmath.mpf(float(a)) for a in xp]
        n0 = len(x)
        v1 = mpmath.fsum(a * a for a in x) / n0
        v2 = mpmath.fsum(a * a for a in xp) / n0
        cov = mpmath.fsum(a * b for a, b in zip(x, xp)) / n0
        gram = mpmath.fsum((x[i] * xp[j] - x[j] * xp[i]) ** 2 for i in range(n0) for j in range(i + 1, n0)) / n0**2
        s = 2 / mpmath.pi * mpmath.asin(2 * cov / mpmath.sqrt((1 + 2 * v1) * (1 + 2 * v2)))
        sdot = 4 / mpmath.pi / mpmath.sqrt(1 + 2 * (v1 + v2) + 4 * gram)
        return float(s), float(s + cov * sdot)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_erf_kernels_at_extreme_norms(dtype):
    """erf saturates: at large norms Σ^(2) -> (2/π) arcsin(c) and Σ̇^(2) -> 0; the kernels must stay
    finite and match the closed forms evaluated without cancellation (for x' = x and x' = -x the
    determinant (1 + 2v)^2 - 4v^2 = 1 + 4v must not be computed as a difference of huge numbers).

    Tolerance for Σ: arcsin has condition 1/sqrt(2δ) at 1 - δ, so a rounding of a few ulps ε of its
    argument moves Σ by up to (2/π) sqrt(8ε) (4e-4 in float32, 2.7e-8 in float64), plus 10 TOL."""
    eps = float(jnp.finfo(dtype).eps)
    tol_sigma = 10 * TOL[dtype] + (2 / math.pi) * math.sqrt(8 * eps)
    for s in SCALES[dtype]:
        x = XS[0] * s
        for xp in (x, -x, XS[1] * s):
            S, K = kernels(jnp.asarray(x[None], dtype), jnp.asarray(xp[None], dtype), depth=2, activation="erf")
            assert all_finite(S, K), f"non-finite erf kernels at scale {s:g}"
            s_ref, k_ref = erf_depth2_exact(
                np.asarray(jnp.asarray(x, dtype), np.float64), np.asarray(jnp.asarray(xp, dtype), np.float64)
            )
            assert abs(S[0, 0] - s_ref) <= tol_sigma, f"Σ at scale {s:g}"
            assert abs(K[0, 0] - k_ref) <= tol_sigma + 10 * TOL[dtype] * abs(k_ref), f"K at scale {s:g}"


# --------------------------------------------------------------------------- depth 50


@pytest.mark.parametrize("activation", CLOSED + ["tanh"])
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_depth_50_is_finite(activation, beta):
    S, K = kernels(jnp.asarray(XS), depth=50, activation=activation, beta=beta)
    assert all_finite(S, K)
    assert np.all(np.diag(K) > 0) and np.all(np.diag(S) > 0)


def test_relu_depth_50_diagonal_exact():
    """Without bias, on the diagonal (θ = 0): Σ^(l+1)(x, x) = Σ^(l)(x, x) / 2 and Σ̇ = 1/2, so
    Σ^(L)(x, x) = s 2^(1-L) and K^(L)(x, x) = L s 2^(1-L) with s = |x|^2 / n_0."""
    S, K = kernels(jnp.asarray(XS), depth=50, activation="relu")
    s = np.sum(XS**2, axis=1) / XS.shape[1]
    assert rel_err(np.diag(S), s * 2.0**-49) <= TOL64
    assert rel_err(np.diag(K), 50 * s * 2.0**-49) <= TOL64


# --------------------------------------------------------------------------- width 1 and N = 1


@pytest.mark.parametrize("activation", ["relu", "tanh", "erf"])
def test_width_one_network(activation):
    params = mlp.init(jax.random.key(0), (3, 1, 1, 2))
    x = jnp.asarray(XS)
    f = mlp.apply(params, x, activation=activation, beta=0.5)
    assert f.shape == (4, 2) and all_finite(f)
    ks = [
        ntk.mlp_ntk(params, x, activation=activation, beta=0.5, strategy=s)
        for s in ("jacobian", "products", "layerwise")
    ]
    for k in ks:
        assert k.shape == (4, 4, 2, 2) and all_finite(k)
    # rounding of sums over at most P = 12 parameters
    assert rel_err(ks[1], ks[0]) <= TOL64 and rel_err(ks[2], ks[0]) <= TOL64


def test_single_input():
    x = jnp.asarray(XS[:1])
    S, K = kernels(x, depth=3, activation="relu", beta=0.1)
    assert S.shape == (1, 1) and K.shape == (1, 1) and S[0, 0] > 0 and K[0, 0] >= S[0, 0]
    assert nngp.nngp_kernel(x, depth=3).shape == (1, 1)
    params = mlp.init(jax.random.key(1), (3, 8, 1))
    assert mlp.apply(params, x).shape == (1, 1)
    assert mlp.apply(params, x[0]).shape == (1,)
    for s in ("jacobian", "products", "layerwise"):
        k = ntk.mlp_ntk(params, x, strategy=s)
        assert k.shape == (1, 1, 1, 1) and float(k[0, 0, 0, 0]) > 0


def test_single_feature_inputs():
    """With n_0 = 1 every pair is parallel or antiparallel (c = ±1 exactly): Σ^(2)(x, -2x) = 0 and,
    by homogeneity, Σ^(2)(x, x/2) = Σ^(2)(x, x) / 2."""
    x = jnp.array([[1.0], [-2.0], [0.5]])
    S, K = kernels(x, depth=2, activation="relu")
    assert all_finite(S, K)
    assert S[0, 1] == 0.0 and K[0, 1] == 0.0
    assert S[0, 2] == pytest.approx(0.5 * S[0, 0], rel=TOL64) and K[0, 2] == pytest.approx(0.5 * K[0, 0], rel=TOL64)
    assert all_finite(*kernels(x, depth=6, activation="relu", beta=0.2))


# --------------------------------------------------------------------------- float32 vs float64


@pytest.mark.parametrize("activation", CLOSED + ["tanh"])
def test_float32_close_to_float64(activation):
    """float32 kernels of random, non-parallel inputs are within 1e-4 (relative to max |K|) of
    float64: a few ulps of float32 (1.2e-7) per operation, amplified by the arccos (δθ ≈ δc / sin θ,
    sin θ >= 0.1 for these inputs) over 4 layers."""
    x = np.asarray(jax.random.normal(jax.random.key(3), (6, 5)))
    # make sure no pair is nearly parallel (sin θ >= 0.1)
    c = (x @ x.T) / np.outer(np.linalg.norm(x, axis=1), np.linalg.norm(x, axis=1))
    assert np.max(np.abs(c - np.diag(np.diag(c)))) < math.sqrt(1 - 0.1**2)
    S64, K64 = infinite_width_kernels(jnp.asarray(x), depth=4, activation=activation, beta=0.3)
    S32, K32 = infinite_width_kernels(jnp.asarray(x, jnp.float32), depth=4, activation=activation, beta=0.3)
    assert S32.dtype == jnp.float32 and K32.dtype == jnp.float32
    assert rel_err(S32, S64) <= 1e-4 and rel_err(K32, K64) <= 1e-4


def test_float32_network_close_to_float64():
    """mlp.apply and the empirical NTK in float32 vs float64, same parameters: within 1e-4 of the
    largest entry (float32 rounding over sums of ~100 terms per layer, 3 layers)."""
    p64 = mlp.init(jax.random.key(4), (5, 64, 64, 2))
    p32 = jax.tree_util.tree_map(lambda a: a.astype(jnp.float32), p64)
    x = jax.random.normal(jax.random.key(5), (4, 5))
    f64 = mlp.apply(p64, x, activation="tanh", beta=0.2)
    f32 = mlp.apply(p32, x.astype(jnp.float32), activation="tanh", beta=0.2)
    assert f32.dtype == jnp.float32 and rel_err(f32, f64) <= 1e-4
    k64 = ntk.mlp_ntk(p64, x, activation="tanh", beta=0.2)
    k32 = ntk.mlp_ntk(p32, x.astype(jnp.float32), activation="tanh", beta=0.2)
    assert k32.dtype == jnp.float32 and rel_err(k32, k64) <= 1e-4
