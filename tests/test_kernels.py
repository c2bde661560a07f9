"""Tests of the library ntkbook.kernels: unit tests against independent computations and bad input.

The chapter's data and studies are tested in tests/chapters/test_c05_kernels.py."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkbook import kernels

X1 = jax.random.normal(jax.random.key(0), (7, 3))
X2 = jax.random.normal(jax.random.key(1), (5, 3))


def _loop(k, a, b):
    return np.array([[k(np.asarray(u), np.asarray(v)) for v in b] for u in a])


def test_kernels_match_pointwise_definitions():
    np.testing.assert_allclose(kernels.linear(X1, X2), _loop(np.dot, X1, X2), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(
        kernels.polynomial(X1, X2, 3, 0.7), _loop(lambda u, v: (u @ v + 0.7) ** 3, X1, X2), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        kernels.rbf(X1, X2, 0.8),
        _loop(lambda u, v: np.exp(-np.sum((u - v) ** 2) / (2 * 0.8**2)), X1, X2),
        rtol=1e-13,
        atol=1e-15,
    )
    assert kernels.rbf(X1, X2).shape == (7, 5)
    np.testing.assert_array_equal(jnp.diag(kernels.rbf(X1, X1, 0.3)), np.ones(7))


def test_squared_distances():
    D2 = kernels.squared_distances(X1, X2)
    np.testing.assert_allclose(D2, _loop(lambda u, v: np.sum((u - v) ** 2), X1, X2), rtol=1e-13, atol=1e-15)
    D2 = kernels.squared_distances(X1, X1)
    np.testing.assert_array_equal(D2, D2.T)
    np.testing.assert_array_equal(jnp.diag(D2), np.zeros(7))
    assert float(jnp.min(D2)) >= 0.0
    np.testing.assert_allclose(
        kernels.rbf(X1, X2, 0.8), jnp.exp(-kernels.squared_distances(X1, X2) / (2 * 0.8**2)), rtol=1e-15
    )


def test_polynomial_multi_indices():
    alphas, coef = kernels.polynomial_multi_indices(2, 3, 0.5)
    assert alphas.shape == (10, 3)  # binom(3 + 2, 2)
    np.testing.assert_array_equal(alphas.sum(axis=1), np.full(10, 3))
    assert len({tuple(a) for a in alphas}) == 10
    # (1 + 1 + 1 * 0.5)^3 = sum of the multinomial weights C(3; alpha) c^alpha_0 at x = x' = (1, 1).
    assert coef.sum() == pytest.approx(2.5**3, rel=1e-14)


def test_polynomial_feature_map_by_hand():
    # d = 2, p = 2: (1 + x.z)^2 has features (1, sqrt2 x2, x2^2, sqrt2 x1, sqrt2 x1 x2, x1^2) in some order.
    x = jnp.array([[1.5, -2.0]])
    F = kernels.polynomial_feature_map(x, 2, 1.0)
    expected = sorted([1.0, np.sqrt(2) * -2.0, 4.0, np.sqrt(2) * 1.5, np.sqrt(2) * 1.5 * -2.0, 2.25])
    np.testing.assert_allclose(sorted(np.asarray(F[0])), expected, rtol=1e-14)
    F = kernels.polynomial_feature_map(X1, 3, 0.5)
    assert F.shape == (7, 20)  # binom(3 + 3, 3)
    np.testing.assert_allclose(F @ F.T, kernels.polynomial(X1, X1, 3, 0.5), rtol=1e-12, atol=1e-12)


def test_random_fourier_features_shape_and_determinism():
    F1 = kernels.random_fourier_features(jax.random.key(5), X1, 64, 1.0)
    F2 = kernels.random_fourier_features(jax.random.key(5), X1, 64, 1.0)
    assert F1.shape == (7, 64)
    np.testing.assert_array_equal(F1, F2)
    # |phi(x)|^2 = (2/D) sum cos^2 <= 2
    assert float(jnp.max(jnp.sum(F1**2, axis=1))) <= 2.0
    # Works with an old-style raw key too.
    assert kernels.random_fourier_features(jax.random.PRNGKey(0), X1, 8).shape == (7, 8)


def test_rff_converges_statistically():
    # Independent of the claims' keys: with D = 20000 the entries are within 5 standard errors
    # (sd of one term <= sqrt(2), so se <= sqrt(2 / D) = 0.01).
    F = kernels.random_fourier_features(jax.random.key(123), X2, 20000, 1.3)
    assert float(jnp.max(jnp.abs(F @ F.T - kernels.rbf(X2, X2, 1.3)))) < 5 * np.sqrt(2 / 20000)


def test_psd_helpers():
    K = kernels.rbf(X1, X1)
    assert kernels.is_psd(K)
    assert kernels.min_eig_ratio(K) == pytest.approx(
        float(np.linalg.eigvalsh(np.asarray(K))[0] / np.linalg.eigvalsh(np.asarray(K))[-1]), rel=1e-10
    )
    assert kernels.psd_tolerance(K) == pytest.approx(7 * np.finfo(float).eps)
    assert not kernels.is_psd(jnp.array([[1.0, 2.0], [2.0, 1.0]]))  # eigenvalues 3, -1
    assert not kernels.is_psd(jnp.array([[1.0, 0.5], [0.0, 1.0]]))  # not symmetric
    assert kernels.is_psd(jnp.zeros((3, 3)))
    # A rank-1 PSD matrix whose computed lambda_min may be slightly negative passes.
    v = jnp.arange(1.0, 6.0)
    assert kernels.is_psd(jnp.outer(v, v))


def test_kernel_ridge_against_numpy():
    x = jnp.linspace(-1, 1, 9)[:, None]
    y = jnp.sin(3 * x[:, 0])
    K = kernels.rbf(x, x, 0.5)
    for lam in (1e-3, 0.5):
        alpha = kernels.kernel_ridge_fit(K, y, lam)
        ref = np.linalg.solve(np.asarray(K) + lam * np.eye(9), np.asarray(y))
        np.testing.assert_allclose(alpha, ref, rtol=1e-9, atol=1e-9)
    alpha0 = kernels.kernel_ridge_fit(K, y, 0.0)
    np.testing.assert_allclose(K @ alpha0, y, atol=1e-8)  # interpolation, cond(K) ~ 1e5
    xt = jnp.array([[0.1], [0.7]])
    pred = kernels.kernel_ridge_predict(kernels.rbf(xt, x, 0.5), alpha)
    np.testing.assert_allclose(pred, np.asarray(kernels.rbf(xt, x, 0.5)) @ np.asarray(alpha), rtol=1e-13)
    # several outputs at once
    Y = jnp.stack([y, 2 * y], axis=1)
    np.testing.assert_allclose(
        kernels.kernel_ridge_fit(K, Y, 0.1)[:, 1], 2 * kernels.kernel_ridge_fit(K, y, 0.1), rtol=1e-12
    )


def test_nadaraya_watson_and_weighted_sum():
    x = jnp.linspace(-1, 1, 6)[:, None]
    y = jnp.array([1.0, 2.0, 0.0, -1.0, 3.0, 0.5])
    xt = jnp.array([[0.0], [0.9]])
    Kc = kernels.rbf(xt, x, 0.4)
    w = np.asarray(Kc)
    np.testing.assert_allclose(kernels.nadaraya_watson(Kc, y), (w @ np.asarray(y)) / w.sum(1), rtol=1e-14)
    np.testing.assert_allclose(kernels.weighted_sum_predict(Kc, y), w @ np.asarray(y), rtol=1e-14)
    Y = jnp.stack([y, -y], axis=1)
    np.testing.assert_allclose(kernels.nadaraya_watson(Kc, Y)[:, 1], -kernels.nadaraya_watson(Kc, y), rtol=1e-14)


def test_bad_input():
    with pytest.raises(ValueError, match="x1 and x2 must have the same number of features"):
        kernels.linear(X1, jnp.ones((2, 4)))
    with pytest.raises(ValueError, match="x1 and x2 must have the same number of features"):
        kernels.squared_distances(X1, jnp.ones((2, 4)))
    with pytest.raises(ValueError, match="x2 must have 2 dimension"):
        kernels.squared_distances(X1, jnp.ones(3))
    with pytest.raises(ValueError, match="x1 must have 2 dimension"):
        kernels.rbf(jnp.ones(3), X2)
    with pytest.raises(ValueError, match="lengthscale must be > 0"):
        kernels.rbf(X1, X2, 0.0)
    with pytest.raises(ValueError, match="degree must be >= 1"):
        kernels.polynomial(X1, X2, 0)
    with pytest.raises(TypeError, match="degree must be an integer"):
        kernels.polynomial(X1, X2, 2.5)
    with pytest.raises(ValueError, match="c must be >= 0"):
        kernels.polynomial(X1, X2, 2, -1.0)
    with pytest.raises(TypeError, match="key must be a JAX PRNG key"):
        kernels.random_fourier_features(3, X1, 10)
    with pytest.raises(ValueError, match="num_features must be >= 1"):
        kernels.random_fourier_features(jax.random.key(0), X1, 0)
    with pytest.raises(ValueError, match="K must be a non-empty square matrix"):
        kernels.is_psd(jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="reg must be >= 0"):
        kernels.kernel_ridge_fit(jnp.eye(3), jnp.ones(3), -1.0)
    with pytest.raises(ValueError, match="y must have one row per training point"):
        kernels.kernel_ridge_fit(jnp.eye(3), jnp.ones(4), 0.1)
    with pytest.raises(ValueError, match="K_cross must have shape"):
        kernels.kernel_ridge_predict(jnp.ones((2, 4)), jnp.ones(3))
    with pytest.raises(ValueError, match="K_cross must have a positive sum"):
        kernels.nadaraya_watson(jnp.zeros((2, 3)), jnp.ones(3))
    with pytest.raises(ValueError, match="increase reg"):
        kernels.kernel_ridge_fit(jnp.ones((3, 3)), jnp.arange(3.0), 0.0)
    with pytest.raises(ValueError, match="K must be finite"):
        kernels.kernel_ridge_fit(jnp.array([[1.0, jnp.nan], [0.0, 1.0]]), jnp.ones(2), 0.1)


def test_works_under_jit():
    f = jax.jit(lambda a, b: kernels.rbf(a, b, 0.7))
    np.testing.assert_allclose(f(X1, X2), kernels.rbf(X1, X2, 0.7), rtol=1e-14)
